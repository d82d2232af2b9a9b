"""Reps of accessory lifts from a wrist: the rhythm of the whole accelerometer, not the vertical motion.

In curls, cable work, flyes, raises and dips the wrist turns and travels in every direction, so its vertical
motion is a poor rep signal (in a triceps dip the hands hardly move at all). What repeats, rep after rep, is the
whole specific force, gravity included: the forearm's angle to gravity changes through every rep. This follows
the design of wrist counters that work on free-living gym data (Morris et al., "RecoFit", CHI 2014):

1. Despike (consumer watches send single-sample glitches) with a trimmed running vector median, which works the
   same however the sensor's axes sit, band-pass the three axes around the rep rhythm (``band_lo_hz``..
   ``band_hi_hz``) and decimate to about 20 Hz. Filters are designed in ``__init__``; their state is carried
   between blocks.
2. Every ``hop_s``, look at the last ``window_s``: its first principal component is the direction that moves most.
   Its sign is kept consistent with the previous window's.
3. The autocorrelation of that projection gives the rep period (the shortest lag whose peak is within
   ``harmonic_ratio`` of the best, so that a period is never taken for two) and a periodicity score. Below
   ``min_periodicity`` the wrist is not repeating anything: no reps.
4. The peaks of the projection are the reps: spaced at least ``peak_spacing`` periods and standing out by
   ``prominence`` of its range. A peak counts once it is ``confirm`` periods old, and only if another peak is
   within ``isolation`` periods (a lone swing, such as picking up a dumbbell, is not a rep). Which way is "up" is
   decided when the set turns periodic and held while it stays so: for lifts whose concentric raises the wrist
   (``lockout_at_top``, curls) the way that rises with the wrist's height, so that a rep ends at lockout; for
   the rest, whose concentric may go either way, the way of the projection's longer tail (its skewness).
5. With ``lockout_at_top``, a peak counts only if the wrist rose at least ``min_rise_m`` somewhere between the
   peaks before and after it. A curl raises it 0.3-0.5 m; an arm swaying as its owner stands about, 0-7 cm
   (40 s of real standing rest: 11 reps without this, 2 with it). Other lifts have no such floor: in a dip or a
   pushdown the hands hardly rise.

The first look waits for ``min_window_s`` (9 s) of samples. Its autocorrelation reaches lags of 0.6 of the window,
so a first look at 5 s could not see a period longer than 3 s, about the median rep of real gym sets (in the
triceps-dip sets looked at, it locked on to two or three times the period). Waiting for 9 s raised exact counts
on the tuning half of muvr's whole files from 41.2 to 41.9 % and within one from 77.2 to 79.4 % (held-out: 31.7
to 34.6 %, and 69.2 unchanged), and made the counts less sensitive to small changes of the signal (an axis gain
off by 5 % changed 22 counts of 284, against 32). At the end of the stream, or before a gap, a set is read on
what there is, ``min_final_window_s`` (5 s) at least. So the first reps are counted late, when the window that
proves the rhythm arrives: their events carry their own times and the time they were detected.

Velocity is estimated from the vertical motion, as ``WristRepCounter`` does it (a leaky integral of the
band-passed vertical specific force): the rep's concentric is the biggest rise of the wrist in it, and its MCV
that rise over its duration. Every rep carries ``velocity_estimated``; one that starts within ``settle_s`` of the
restart after a gap also carries ``data_gap``, and its velocity sets no reference.

Limits: a wrist sees its own arm, so alternating dumbbell curls count one arm's reps (the pipeline counts the other
arm's for ``alt_curl``; see ``repsense.signal.pipeline``). Causal, explicit state, any block size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import scipy.signal

from repsense.events import RepEvent, RepFlag
from repsense.samples import STANDARD_GRAVITY_M_S2
from repsense.signal.despike import trimmed_vector_median


@dataclass(frozen=True, slots=True)
class PeriodicConfig:
    """Rates and filters (Hz, samples), the analysis window (s), and the rep rules (in periods or fractions)."""

    rate_hz: float = 100.0
    despike_samples: int = 9
    despike_keep: int = 5  # of despike_samples: the ones closest to the rest, averaged
    band_lo_hz: float = 0.1
    band_hi_hz: float = 2.0
    analysis_rate_hz: float = 20.0
    window_s: float = 10.0
    min_window_s: float = 9.0  # the first look: a lag of 0.6 of it covers periods up to 5.4 s
    min_final_window_s: float = 5.0  # at the end of the stream or a gap, a shorter set is still read
    hop_s: float = 0.5
    min_period_s: float = 0.8
    max_period_s: float = 6.0
    max_lag_fraction: float = 0.6  # of the window: longer lags rest on too little overlap
    harmonic_ratio: float = 0.85
    min_periodicity: float = 0.3
    min_amplitude_g: float = 0.05  # std of the projection: a wrist held still, breathing, moves less
    peak_spacing: float = 0.7  # 0.55 let a set-up move a fraction of a period from a rep count (docs/pipeline.md)
    prominence: float = 0.4  # of the 5th-95th percentile range of the projection
    confirm: float = 0.3
    isolation: float = 1.6
    lockout_at_top: bool = False  # the concentric raises the wrist (curls): see _polarity
    min_rise_m: float = 0.10  # with lockout_at_top: a curl raises the wrist 0.3-0.5 m; standing sway 0-7 cm
    min_timed_rise_m: float = 0.05  # a concentric that rose less has no velocity worth a number
    settle_s: float = 3.0  # the velocity filter's memory after a (re)start: three time constants at 0.15 Hz
    velocity_lo_hz: float = 0.15  # the vertical velocity estimate: band and leak, as in WristRepCounter
    velocity_hi_hz: float = 2.0

    @property
    def decimation(self) -> int:
        return max(1, round(self.rate_hz / self.analysis_rate_hz))

    @property
    def analysis_hz(self) -> float:
        """The rate the analysis really runs at: ``analysis_rate_hz`` only if it divides ``rate_hz``."""
        return self.rate_hz / self.decimation


@dataclass(slots=True)
class PeriodicState:
    recent: np.ndarray | None = None  # the last despike_samples - 1 raw samples [k - 1, 3]
    zi: np.ndarray | None = None  # band-pass state, [sections, 2, 3]
    zi_vertical: np.ndarray | None = None  # band-pass state of the vertical specific force
    velocity: float = 0.0
    phase: int = 0  # samples since the last decimated one was kept
    # The analysis window, at the analysis rate: band-passed acc [m, 3], vertical velocity [m], times [m].
    window: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))
    window_v: np.ndarray = field(default_factory=lambda: np.zeros(0))
    window_t: np.ndarray = field(default_factory=lambda: np.zeros(0))
    since_hop: int = 0
    kept_since_start: int = 0  # analysis samples since the filters (re)started
    after_gap: bool = False  # the filters restarted after a gap ...
    restart_t: float | None = None  # ... at this sample
    axis: np.ndarray | None = None
    polarity: float | None = None
    periodic: bool = False
    period_s: float | None = None
    last_rep_t: float = -math.inf
    rep_count: int = 0
    best_mcv: float = 0.0


class PeriodicRepCounter:
    """Feed uniform acc [g, n x 3] and vertical specific force [g]; get ``RepEvent`` (velocity estimated)."""

    def __init__(self, config: PeriodicConfig) -> None:
        self.config = config
        self.sos = scipy.signal.butter(
            2, [config.band_lo_hz, config.band_hi_hz], btype="band", fs=config.rate_hz, output="sos"
        )
        self.sos_vertical = scipy.signal.butter(
            2, [config.velocity_lo_hz, config.velocity_hi_hz], btype="band", fs=config.rate_hz, output="sos"
        )
        self._window_len = round(config.window_s * config.analysis_hz)
        self._hop_len = max(1, round(config.hop_s * config.analysis_hz))
        self.state = PeriodicState()

    def reset(self) -> None:
        self.state = PeriodicState()

    def restart_after_gap(self, noticed_at_s: float) -> list[RepEvent]:
        """The input broke off: reps in the window that were waiting to be confirmed count now, as at the end of
        a stream. Then the filters and the window start over; the set (count, last rep, best rep) goes on."""
        events = self.flush(noticed_at_s)
        old = self.state
        self.state = PeriodicState(
            last_rep_t=old.last_rep_t, rep_count=old.rep_count, best_mcv=old.best_mcv, after_gap=True
        )
        return events

    def feed(self, t_s: np.ndarray, acc_g: np.ndarray, s_g: np.ndarray, enabled_at_s: np.ndarray) -> list[RepEvent]:
        cfg, st = self.config, self.state
        if len(t_s) == 0:
            return []
        acc = np.asarray(acc_g, dtype=float)
        if st.after_gap and st.restart_t is None:
            st.restart_t = float(t_s[0])
        if st.recent is None:
            # Start every filter as if the first sample had always been there.
            st.recent = np.repeat(acc[:1], cfg.despike_samples - 1, axis=0)
            st.zi = scipy.signal.sosfilt_zi(self.sos)[:, :, None] * acc[0][None, None, :]
            st.zi_vertical = scipy.signal.sosfilt_zi(self.sos_vertical) * float(s_g[0]) * STANDARD_GRAVITY_M_S2
        assert st.zi is not None and st.zi_vertical is not None
        padded = np.vstack([st.recent, acc])
        despiked = trimmed_vector_median(padded, cfg.despike_samples, cfg.despike_keep)
        st.recent = padded[len(padded) - (cfg.despike_samples - 1) :]
        band, st.zi = scipy.signal.sosfilt(self.sos, despiked, axis=0, zi=st.zi)
        vertical, st.zi_vertical = scipy.signal.sosfilt(
            self.sos_vertical, np.asarray(s_g) * STANDARD_GRAVITY_M_S2, zi=st.zi_vertical
        )
        velocity = self._integrate(vertical)

        # Keep every decimation-th sample, counting across blocks; run the analysis every hop.
        events: list[RepEvent] = []
        step = cfg.decimation
        first = (step - 1 - st.phase) % step
        kept = np.arange(first, len(t_s), step)
        st.phase = (st.phase + len(t_s)) % step
        for i in kept.tolist():
            self._append(band[i], velocity[i], float(t_s[i]))
            st.since_hop += 1
            if st.since_hop >= self._hop_len:
                st.since_hop = 0
                events.extend(self._analyse(float(enabled_at_s[i]), final=False))
        return events

    def flush(self, last_seen_s: float) -> list[RepEvent]:
        """The stream has ended: peaks too recent to confirm count now."""
        if self.state.recent is None:
            return []
        return self._analyse(last_seen_s, final=True)

    def _integrate(self, a: np.ndarray) -> np.ndarray:
        st = self.state
        keep = math.exp(-2.0 * math.pi * self.config.velocity_lo_hz / self.config.rate_hz)
        dt = 1.0 / self.config.rate_hz
        # v[n] = keep * v[n-1] + a[n] dt, with the state carried in from the last block.
        v, _ = scipy.signal.lfilter([dt], [1.0, -keep], a, zi=[keep * st.velocity])
        if len(v):
            st.velocity = float(v[-1])
        return np.asarray(v)

    def _append(self, x: np.ndarray, v: float, t: float) -> None:
        st, n = self.state, self._window_len
        st.window = np.vstack([st.window[-(n - 1) :], x[None, :]])
        st.window_v = np.append(st.window_v[-(n - 1) :], v)
        st.window_t = np.append(st.window_t[-(n - 1) :], t)
        st.kept_since_start += 1

    def _analyse(self, detected_at: float, *, final: bool) -> list[RepEvent]:
        cfg, st = self.config, self.state
        fs = cfg.analysis_hz
        if len(st.window) < (cfg.min_final_window_s if final else cfg.min_window_s) * fs:
            return []
        centred = st.window - st.window.mean(axis=0)
        _, vectors = np.linalg.eigh(centred.T @ centred)
        axis = vectors[:, -1]
        if st.axis is not None and float(axis @ st.axis) < 0.0:
            axis = -axis
        st.axis = axis
        z = centred @ axis
        if float(np.std(z)) < cfg.min_amplitude_g:
            return []
        period, score = self._period(z)
        if period is None or score < cfg.min_periodicity:
            st.periodic = False
            return []
        if not (st.periodic and st.polarity is not None):
            st.polarity = self._polarity(z)
        st.periodic, st.period_s = True, period
        z = z * st.polarity

        spread = float(np.percentile(z, 95) - np.percentile(z, 5))
        peaks, _ = scipy.signal.find_peaks(
            z, distance=max(1, int(cfg.peak_spacing * period * fs)), prominence=cfg.prominence * spread
        )
        newest_countable = len(z) - 1 - (0 if final else int(cfg.confirm * period * fs))
        times = st.window_t[peaks]
        events = []
        for k, (q, t) in enumerate(zip(peaks.tolist(), times.tolist(), strict=True)):
            if q > newest_countable:
                break
            neighbours = [abs(times[j] - t) for j in (k - 1, k + 1) if 0 <= j < len(peaks)]
            lone = all(d > cfg.isolation * period for d in neighbours) and t - st.last_rep_t > cfg.isolation * period
            if lone or t - st.last_rep_t < cfg.peak_spacing * period:
                continue
            trough = (
                int(np.argmin(z[peaks[k - 1] : q + 1])) + int(peaks[k - 1]) if k > 0 else int(np.argmin(z[: q + 1]))
            )
            if cfg.lockout_at_top:
                # Anywhere from the peak before to the peak after (the trough may sit late in a ragged rise).
                around = self._rise(
                    int(peaks[k - 1]) if k > 0 else 0, int(peaks[k + 1]) if k + 1 < len(peaks) else len(z) - 1
                )
                if float(around.sum()) / fs < cfg.min_rise_m:
                    continue  # the wrist hardly rose: a sway or a fidget, not a curl
            # Only a curl's concentric can be timed (see _rep): other lifts' rises would be thrown away.
            rising = self._rise(trough, q) if cfg.lockout_at_top else st.window_v[:0]
            events.append(self._rep(trough, q, rising, detected_at))
        return events

    def _polarity(self, z: np.ndarray) -> float:
        """Which way of ``z`` points to the end of a rep: +1 or -1.

        When the concentric raises the wrist, a rep ends at the top of the wrist's travel: ``z`` is turned to rise
        with the wrist's height (the vertical velocity estimate, integrated over the window and detrended, leaving
        out its first ``settle_s`` after a start or a gap). Without that, the longer tail of ``z`` points to the
        rep's turning point, which may be either end of it.
        """
        cfg = self.config
        if cfg.lockout_at_top:
            # The first seconds after the filters (re)started ring: leave them out (up to half the window).
            unsettled = int(cfg.settle_s * cfg.analysis_hz) - (self.state.kept_since_start - len(z))
            z = z[min(max(0, unsettled), len(z) // 2) :]
            velocity = self.state.window_v[-len(z) :]
            height = np.cumsum(velocity - velocity.mean())
            ramp = np.arange(len(height))
            height = height - np.polyval(np.polyfit(ramp, height, 1), ramp)
            agreement = float(np.dot(z - z.mean(), height))
            if agreement != 0.0:
                return 1.0 if agreement > 0.0 else -1.0
        skew = float(np.mean(z**3)) / max(float(np.mean(z**2)), 1e-12) ** 1.5
        return 1.0 if skew >= 0.0 else -1.0

    def _period(self, z: np.ndarray) -> tuple[float | None, float]:
        """The rep period (s) and how periodic ``z`` is (its unbiased autocorrelation there, 1 = perfectly)."""
        cfg, fs, n = self.config, self.config.analysis_hz, len(z)
        spectrum = np.fft.rfft(z, 2 * n)
        acf = np.fft.irfft(spectrum * np.conj(spectrum))[:n]
        if acf[0] <= 0.0:
            return None, 0.0
        acf = acf / acf[0] * n / (n - np.arange(n))
        lo = int(cfg.min_period_s * fs)
        hi = min(int(cfg.max_period_s * fs), int(n * cfg.max_lag_fraction))
        if hi <= lo + 2:
            return None, 0.0
        lags = acf[lo : hi + 1]
        peaks, _ = scipy.signal.find_peaks(lags)
        if len(peaks) == 0:
            return None, 0.0
        best = float(lags[peaks].max())
        if best <= 0.0:
            return None, 0.0
        first = int(peaks[np.argmax(lags[peaks] >= cfg.harmonic_ratio * best)])
        return (lo + first) / fs, float(lags[first])

    def _rise(self, trough: int, peak: int) -> np.ndarray:
        """The concentric of the rep from ``trough`` to ``peak``: the biggest rise of the wrist in it, as the vertical
        velocity of its samples (a run of upward velocity)."""
        v = self.state.window_v[trough : peak + 1]
        edges = np.flatnonzero(np.diff(np.concatenate([[0], (v > 0.0).astype(np.int8), [0]])))
        runs = list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))
        return v[slice(*max(runs, key=lambda run: float(v[run[0] : run[1]].sum())))] if runs else v[:0]

    def _rep(self, trough: int, peak: int, rising: np.ndarray, detected_at: float) -> RepEvent:
        cfg, st = self.config, self.state
        t_start, t_end = float(st.window_t[trough]), float(st.window_t[peak])
        if t_end <= t_start:  # a peak at the window's first sample: give the rep one analysis step
            t_start = t_end - 1.0 / cfg.analysis_hz
        # The concentric's velocity: its rise over its duration.
        dt = 1.0 / cfg.analysis_hz
        rom = float(rising.sum() * dt)
        mcv = rom / (len(rising) * dt) if len(rising) else 0.0
        flags = [RepFlag.VELOCITY_ESTIMATED]
        if not cfg.lockout_at_top or rom < cfg.min_timed_rise_m:
            # Which way the concentric goes is unknown, or the wrist hardly rose: nothing to time.
            flags, rom, mcv, rising = [RepFlag.NO_VELOCITY], 0.0, 0.0, rising[:0]
        elif st.restart_t is not None and t_start - st.restart_t < cfg.settle_s:
            flags.append(RepFlag.DATA_GAP)  # the velocity filter was still settling after a gap: no reference
        else:
            st.best_mcv = max(st.best_mcv, mcv)
        st.rep_count += 1
        st.last_rep_t = t_end
        return RepEvent(
            index=st.rep_count,
            t_start_s=t_start,
            t_end_s=t_end,
            detected_at_s=detected_at,
            mean_velocity_m_s=mcv,
            peak_velocity_m_s=float(rising.max(initial=0.0)),
            rom_m=rom,
            velocity_loss=max(0.0, 1.0 - mcv / st.best_mcv) if st.best_mcv > 0.0 and rising.size else 0.0,
            flags=tuple(flags),
        )
