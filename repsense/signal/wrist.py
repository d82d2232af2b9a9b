"""Reps from a wrist-worn sensor: cycles of the vertical motion, not integrated velocity.

A wrist is never still during a set the way a bar is, so the bar path's zero-velocity anchors do not exist and
integrated velocity drifts without bound. Instead, the vertical specific force is band-passed around the rep
rhythm (``band_lo_hz``..``band_hi_hz``, a Butterworth section designed in ``__init__``, state carried between
blocks) and integrated through a leaky integrator whose memory matches the band's low edge. What comes out is a
drift-free, somewhat smoothed vertical velocity: each concentric (the hands rise in every barbell lift, squat
included) is a positive lobe.

The band-pass starts as if the input had always been its median over the first ``start_window_s``: the long-run
mean of a vertical specific force, which is the sensor's own 1 g. Until then the samples wait; after a gap it
restarts on the same level without waiting. Any other start is a step into the filter whose response takes
seconds to die out: an inflated first lobe that swallows the next rep or raises the reference so that it is
missed. Starting from the first sample does that when a recording is started by hand mid-movement; starting
from 1 g does it when the sensor reads gravity as 0.95 or 1.05 g (consumer accelerometers are off by a few per
cent, and ebbelaar's MetaMotion reads 0.93-1.13 g at the median of a set): scaling its real sets by 0.95 took
them from 72 to 63 % exact. The median of the first 3 s gives the same counts at 0.95, 1 and 1.05, and with
each axis off by up to 5 %. The cost: a rep in those first 3 s is known only when they are up.

A lobe counts as a rep when its displacement reaches ``lobe_fraction`` of the median of the recent lobes and
``min_lobe_m`` in any case (the only test before there are recent lobes), and it ends at least ``refractory_s``
after the previous rep. ``min_lobe_m`` sits above the 4-10 cm a bar rises when it is unracked, so that racking,
unracking and set-up moves are not counted before the first rep gives a reference. The rep's velocity is an
estimate (band-passing changes the profile), so every rep carries ``velocity_estimated``; a rep that starts
within ``settle_s`` of the restart after a gap also carries ``data_gap`` (the wrist may have been moving when
the samples came back), and its velocity sets no reference for velocity loss.

A band-pass has no DC: after a net descent it gives back a rise of about the same size. Mid-set the next rep
hides that, but a deadlift or row set ends with the bar put down, and if the wrist then stays still, that rise
came out as one rep more (in 29 of 30 simulated sets of each). So for those lifts (``confirm_by_descent``) a rise
counts only once the wrist has come down again by 35 % of it: the next rep's descent, or the bar put down.

- Of the 124 rises on ebbelaar's deadlifts and rows that pass the other tests, 119 come down by 56 % or more
  before the next rise. The other 5 come down by 4 % at most: one is the last rise of the set that counted 11 of
  10, and the other four are followed at once by another rise, whose sets count the same. The returned rise
  comes down by 20 % at most (30 simulated sets).
- A rep is then known 0.6 s after its end at the median on ebbelaar's deadlifts and 0.4 s on its rows (0.2 s
  before).
- A recording that stops before the bar comes down does not count its last rise. A gap counts it: lost samples
  may have hidden the descent. For every lift, a gap also counts a rise still going that is already big enough
  for a rep: the samples stopped before its end (a gap in the second half of a rise lost the rep in 40 of 40
  simulated sets before, 4 now).
- Not for RDLs: they are often racked at the top, where nothing comes down after the last rep. So an RDL set put
  down, with the wrist still after it, still counts one more (30 of 30 simulated).

A rep begins and ends with the wrist in the same attitude; lying back on a bench, sitting up after the set or
bringing dumbbells up to the shoulders turns it over. So a rise through which "up" in the sensor frame turns more
than ``max_turn_deg`` (90) is a change of posture, not a rep, and sets no reference either. Of the 387 rises of 12
cm or more on ebbelaar's barbell sets, none turned more than 29 degrees; on muvr_wrist's free-weight presses and
rows, 9 of 376 turned more than 60 and 8 more than 90, the first or last "rep" of a dumbbell bench press or the
second of a dumbbell shoulder press. The rule took those 45 sets from 48.9 to 57.8 % exact against their labels
(6 right now, 2 one short, where the lifter sat up in the same rise as the last press), and changed no ebbelaar
count.

Causal, explicit state, any block size.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field

import numpy as np
import scipy.signal

from repsense.events import RepEvent, RepFlag
from repsense.samples import STANDARD_GRAVITY_M_S2


@dataclass(frozen=True, slots=True)
class WristConfig:
    """Band of the rep rhythm (Hz), what counts as a lobe (m), the shortest rep-to-rep time (s), how long the
    band-pass waits to settle on the input's level (s), and the put-down rule (see the module docstring)."""

    rate_hz: float = 100.0
    band_lo_hz: float = 0.15
    band_hi_hz: float = 2.0
    lobe_fraction: float = 0.45
    min_lobe_m: float = 0.12
    refractory_s: float = 0.8
    reference_lobes: int = 5
    start_window_s: float = 3.0  # the band-pass starts settled on the input's median over this long
    settle_s: float = 3.0  # after a gap, the filters' memory: three time constants at 0.15 Hz
    # Lifts whose bar goes down after every rep, the last one included (deadlift, row: it is put down): a
    # rise counts once the wrist has come down again by ``descent_fraction`` of it (see the module docstring).
    confirm_by_descent: bool = False
    descent_fraction: float = 0.35
    max_turn_deg: float = 90.0  # a rise that turns the wrist further is a change of posture (module docstring)


@dataclass(frozen=True, slots=True)
class Lobe:
    """A rise of the wrist that passed the rep tests: start and end (s), displacement (m), peak velocity (m/s)."""

    t_start_s: float
    t_end_s: float
    rise_m: float
    peak_m_s: float


@dataclass(slots=True)
class WristState:
    zi: np.ndarray | None = None
    # Until the band-pass starts: the samples waiting (times, vertical specific force [g], when each was known, up).
    waiting: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list)
    level_g: float | None = None  # the level the band-pass started on: the sensor's own 1 g
    velocity: float = 0.0
    in_lobe: bool = False
    lobe_start_t: float = 0.0
    lobe_m: float = 0.0
    lobe_peak: float = 0.0
    last_rep_t: float = -math.inf
    lobes: list[float] = field(default_factory=list)
    rep_count: int = 0
    best_mcv: float = 0.0
    after_gap: bool = False  # the filters restarted after a gap ...
    restart_t: float | None = None  # ... at this sample
    pending: Lobe | None = None  # with confirm_by_descent: a rise waiting for the wrist to come down ...
    descent_m: float = 0.0  # ... and how far it has come down since
    last_t: float | None = None  # the last sample through the band-pass
    lobe_up: np.ndarray | None = None  # "up" in the sensor frame where the rise began ...
    last_up: np.ndarray | None = None  # ... and at the last sample through the band-pass


class WristRepCounter:
    """Feed uniform vertical specific force [g] and "up" in the sensor frame [n, 3]; get ``RepEvent`` (velocity
    estimated) at the end of each lobe."""

    def __init__(self, config: WristConfig) -> None:
        self.config = config
        self.sos = scipy.signal.butter(
            2, [config.band_lo_hz, config.band_hi_hz], btype="band", fs=config.rate_hz, output="sos"
        )
        self.state = WristState()

    def reset(self) -> None:
        self.state = WristState()

    def restart_after_gap(self, noticed_at_s: float) -> list[RepEvent]:
        """The input broke off: samples still waiting for the band-pass to start go through, as at the end of a
        stream. A rise still waiting for the wrist to come down counts (the gap may have hidden that), and so does
        a rise still going that is already big enough for a rep (the gap hid its end). Then the filters start
        over; the set (count, reference lobes, best rep) goes on."""
        events = self.flush(noticed_at_s)
        st = self.state
        if st.in_lobe and st.last_t is not None:
            st.in_lobe = False
            self._end_lobe(st.last_t, noticed_at_s, events)
        if self.state.pending is not None:
            events.append(self._rep(self.state.pending, noticed_at_s))
        old = self.state
        self.state = WristState(
            last_rep_t=old.last_rep_t,
            lobes=old.lobes,
            rep_count=old.rep_count,
            best_mcv=old.best_mcv,
            after_gap=True,
            level_g=old.level_g,
        )
        return events

    def feed(self, t_s: np.ndarray, s_g: np.ndarray, enabled_at_s: np.ndarray, up: np.ndarray) -> list[RepEvent]:
        cfg, st = self.config, self.state
        events: list[RepEvent] = []
        if len(t_s) == 0:
            return events
        if st.after_gap and st.restart_t is None:
            st.restart_t = float(t_s[0])
        if st.zi is None and st.level_g is not None:  # after a gap: the sensor's 1 g is known already
            st.zi = scipy.signal.sosfilt_zi(self.sos) * st.level_g * STANDARD_GRAVITY_M_S2
        if st.zi is None:
            st.waiting.append((np.asarray(t_s), np.asarray(s_g), np.asarray(enabled_at_s), np.asarray(up)))
            if float(t_s[-1]) - float(st.waiting[0][0][0]) < cfg.start_window_s:
                return events
            return self._start(None)
        band, st.zi = scipy.signal.sosfilt(self.sos, np.asarray(s_g) * STANDARD_GRAVITY_M_S2, zi=st.zi)
        dt = 1.0 / cfg.rate_hz
        keep = math.exp(-2.0 * math.pi * cfg.band_lo_hz * dt)
        v = st.velocity
        for i, (t, a, seen) in enumerate(zip(t_s.tolist(), band.tolist(), enabled_at_s.tolist(), strict=True)):
            v = v * keep + a * dt
            if v > 0.0:
                if not st.in_lobe:
                    st.in_lobe, st.lobe_start_t, st.lobe_m, st.lobe_peak = True, t, 0.0, 0.0
                    st.lobe_up = np.array(up[i])
                    st.pending = None  # it rose again before it came down: that was no rep
                st.lobe_m += v * dt
                st.lobe_peak = max(st.lobe_peak, v)
                continue
            if st.in_lobe:
                st.in_lobe = False
                st.last_up = np.array(up[i])
                self._end_lobe(t, seen, events)
            if st.pending is not None:
                st.descent_m -= v * dt
                if st.descent_m >= cfg.descent_fraction * st.pending.rise_m:
                    events.append(self._rep(st.pending, seen))
                    st.pending = None
        st.velocity = v
        st.last_t = float(t_s[-1])
        st.last_up = np.array(up[-1])
        return events

    def flush(self, last_seen_s: float) -> list[RepEvent]:
        """The stream has ended: samples still waiting for the band-pass to start go through now. A rise still
        waiting for the wrist to come down does not count: the bar was never put down after it."""
        return self._start(last_seen_s) if self.state.zi is None and self.state.waiting else []

    def _start(self, ended_at_s: float | None) -> list[RepEvent]:
        """Start the band-pass settled on the median of the waiting samples up to the first one ``start_window_s``
        after the first (all of them if the input ended, at ``ended_at_s``, before that), and run the waiting
        samples through it. Those up to that one are known when it is, at the earliest."""
        st, window = self.state, self.config.start_window_s
        t_s, s_g, seen, up = (np.concatenate(part) for part in zip(*st.waiting, strict=True))
        st.waiting = []
        last = int(np.searchsorted(t_s, t_s[0] + window)) if ended_at_s is None else len(t_s) - 1
        now = float(seen[last]) if ended_at_s is None else ended_at_s
        st.level_g = float(np.median(s_g[: last + 1]))
        st.zi = scipy.signal.sosfilt_zi(self.sos) * st.level_g * STANDARD_GRAVITY_M_S2
        seen = seen.copy()
        seen[: last + 1] = np.maximum(seen[: last + 1], now)
        return self.feed(t_s, s_g, seen, up)

    def _end_lobe(self, t_end: float, seen: float, events: list[RepEvent]) -> None:
        cfg, st = self.config, self.state
        lobe = st.lobe_m
        if self._turn_deg() > cfg.max_turn_deg:
            return  # a change of posture: no rep, and no reference for the next
        recent = st.lobes[-cfg.reference_lobes :]
        threshold = max(cfg.min_lobe_m, cfg.lobe_fraction * statistics.median(recent)) if recent else cfg.min_lobe_m
        if lobe >= cfg.min_lobe_m:
            st.lobes.append(lobe)
            del st.lobes[: -cfg.reference_lobes]
        if lobe < threshold or t_end - st.last_rep_t < cfg.refractory_s:
            return
        if t_end <= st.lobe_start_t:
            return
        rise = Lobe(st.lobe_start_t, t_end, lobe, st.lobe_peak)
        if cfg.confirm_by_descent:
            st.pending, st.descent_m = rise, 0.0
        else:
            events.append(self._rep(rise, seen))

    def _turn_deg(self) -> float:
        """How far "up" in the sensor frame turned from the start of the rise to its end (0 if either is unknown:
        a sensor that read nothing yet)."""
        st = self.state
        if st.lobe_up is None or st.last_up is None:
            return 0.0
        norms = float(np.linalg.norm(st.lobe_up) * np.linalg.norm(st.last_up))
        if norms == 0.0:
            return 0.0
        return math.degrees(math.acos(max(-1.0, min(1.0, float(st.lobe_up @ st.last_up) / norms))))

    def _rep(self, rise: Lobe, seen: float) -> RepEvent:
        cfg, st = self.config, self.state
        mcv = rise.rise_m / (rise.t_end_s - rise.t_start_s)
        flags = [RepFlag.VELOCITY_ESTIMATED]
        if st.restart_t is not None and rise.t_start_s - st.restart_t < cfg.settle_s:
            # The wrist was moving when the samples came back, and the restarted filters had not caught up: the
            # count stands, the velocity sets no reference.
            flags.append(RepFlag.DATA_GAP)
        else:
            st.best_mcv = max(st.best_mcv, mcv)
        st.rep_count += 1
        st.last_rep_t = rise.t_end_s
        return RepEvent(
            index=st.rep_count,
            t_start_s=rise.t_start_s,
            t_end_s=rise.t_end_s,
            detected_at_s=seen,
            mean_velocity_m_s=mcv,
            peak_velocity_m_s=rise.peak_m_s,
            rom_m=rise.rise_m,
            velocity_loss=max(0.0, 1.0 - mcv / st.best_mcv) if st.best_mcv > 0.0 else 0.0,
            flags=tuple(flags),
        )
