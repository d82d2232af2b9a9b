"""Vertical specific force -> bar velocity -> reps, one grid sample at a time.

Theory of operation
-------------------
Velocity is the integral of the vertical linear acceleration ``a = (s - c - b . up) * 9.81``, where ``s`` is the
vertical specific force in g and ``c + b . up`` what the sensor reads for 1 g in its current orientation
(``Calibration``: scale error and accelerometer bias, learned from still moments and whole movements).
Integration drifts, so velocity is anchored to zero whenever the bar is quiet: no jolt, no net acceleration
over the last quarter second, and an integral that already says "slow" (or a second of such quiet, whatever it
says). This is the zero-velocity update of foot-mounted inertial navigation. Two escapes keep a bad calibration
from hiding every rest: before it has settled, and at orientations it has never seen, a flat reading is a rest.

The bar's motion is read as a small state machine over the sign of velocity::

    IDLE --v > +v_on--> UP --lockout, rise complete--> IDLE       (emit RepEvent)
    UP --lockout, rise short--> STALL --v > +v_on--> UP           (a sticking point or a pause: the same rep)
    STALL --the bar drops back--> IDLE                            (emit FailedRepEvent if it was an attempt)

While IDLE, downward travel is added up (descents closer than ``descent_chain_s`` form one descent). A
concentric ("UP") is a rep when it rose at least ``min_rom_m`` and at least ``complete_fraction`` of that
descent, bounded by the set's reference ROM; for lifts that start from the top a rep also needs the descent,
so unracking and walking out are no reps.

Lockout is the first of: an anchor (the bar went still), quiet after the peak with the integral well below it
(lockout with drift), or velocity crossing zero and staying down for ``confirm_s`` (touch-and-go). Then the rep
is measured again from a short history, on velocity with its drift removed: drift grown linearly since the
previous anchor, or, in a touch-and-go set, the height gained since the last lockout spread over the cycle.
Start and lockout are where that corrected velocity leaves and returns to (nearly) zero.

All decisions use samples already seen and state carried between blocks, so the events do not depend on how
the stream is cut into blocks.
"""

from __future__ import annotations

import copy
import math
import statistics
from collections import deque
from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np

from repsense.events import FailedRepEvent, RepEvent, RepFlag
from repsense.samples import STANDARD_GRAVITY_M_S2
from repsense.signal.calibration import Calibration

CAL_STRIDE = 4
COS_3_DEG = math.cos(math.radians(3.0))
COS_5_DEG = math.cos(math.radians(5.0))
COS_15_DEG = math.cos(math.radians(15.0))


class Phase(IntEnum):
    IDLE = 0  # not rising: at rest, descending, walking out
    UP = 2  # a concentric in progress
    STALL = 3  # a concentric stopped short: it resumes (sticking point, pause) or drops back (failed attempt)


@dataclass(frozen=True, slots=True)
class SegmenterConfig:
    """Thresholds of the rep state machine. Velocities in m/s, accelerations in m/s^2, distances in m."""

    rate_hz: float = 100.0
    needs_descent: bool = False  # squat, bench, ohp: a rep must follow a descent
    min_rom_m: float = 0.15
    max_rom_m: float = 1.0
    noise_rom_m: float = 0.04
    v_on_m_s: float = 0.06
    lockout_velocity_m_s: float = 0.02
    pre_history_s: float = 1.5  # how far before the concentric's start the history is searched again
    closure_min_m_s: float = 0.02  # smaller closure offsets are left alone
    drift_fraction: float = 0.35  # quiet after the peak with velocity below this share of it: lockout with drift
    confirm_s: float = 0.2  # after velocity crosses zero, wait this long for the bar to go quiet
    max_concentric_s: float = 20.0
    quiet_accel_m_s2: float = 0.3
    quiet_time_s: float = 0.08
    quiet_window_s: float = 0.25
    # No net acceleration over quiet_window_s: below this mean, for input at quiet_mean_rate_hz and faster. A
    # slower input has fewer independent samples in the window, and noise moves their mean more: the limit grows
    # with the square root of its sample interval.
    quiet_mean_accel_m_s2: float = 0.08
    quiet_mean_rate_hz: float = 50.0
    flat_range_g: float = 0.04  # before calibration: still means the smoothed reading varies less than this
    unsettled_rest_g: float = 0.08  # ... and is this close to 1 g (an accelerometer's bias and scale error)
    unsettled_quiet_s: float = 0.16  # ... for this long, before the first rest: a rest, whatever the integral says
    zupt_max_velocity_m_s: float = 0.12
    # Quiet (no acceleration) also describes a bar moving at constant speed, so a quiet stretch only anchors
    # velocity when the integral says it is slow. But no lift keeps a steady speed for a whole second: a quiet
    # stretch that long anchors velocity whatever the integral says. The faster it says, the surer it is wrong
    # (samples lost or jittered at 10-12.5 Hz can leave it 1.5 m/s out, and a bar that kept that up for a
    # second would have left the rack).
    long_quiet_s: float = 1.0
    still_range_g: float = 0.02  # over stale_still_s, 0.1 s means within this band: the bar is still
    stale_still_s: float = 2.0  # longer than the steady middle of any eccentric
    stale_calibration_s: float = 4.0  # no calibration sample for this long: let a long flat stretch provide one
    calibration_memory_s: float = 30.0
    movement_weight: float = 0.1  # a movement's mean counts as this many still samples per sample
    complete_fraction_with_hole: float = 0.4
    complete_fraction: float = 0.7
    descent_chain_s: float = 1.0  # descents closer than this add up (a pause mid-way); farther ones start afresh
    fail_drop_fraction: float = 0.3
    fail_drop_min_m: float = 0.05
    fail_min_fraction: float = 0.2
    stall_timeout_s: float = 4.0
    short_rom_fraction: float = 0.8
    # A rise with no descent seen is a rep from short_rom_fraction to max_rom_fraction of the set's reps' ROM, or,
    # before the set has reps, from first_rise_fraction of max_rom_m to max_rom_m.
    max_rom_fraction: float = 1.5
    first_rise_fraction: float = 0.5
    grinding_factor: float = 2.0
    reference_reps: int = 3
    estimated_velocity: bool = False  # mark every rep's velocity as estimated (body-worn sensors)


@dataclass(slots=True)
class SegmenterState:
    """Everything the segmenter remembers between samples; inspectable in tests."""

    started: bool = False
    a_prev: float = 0.0
    v: float = 0.0
    p: float = 0.0
    quiet_count: int = 0
    recent_a: list[float] = field(default_factory=list)  # ring buffer of the last quiet_window_s of acceleration
    recent_a_sum: float = 0.0
    recent_s: list[float] = field(default_factory=list)  # the smoothed specific force of the last few samples
    block_means: list[float] = field(default_factory=list)  # 0.1 s means of it over the last stale_still_s
    block_sum: float = 0.0
    block_n: int = 0
    block_i: int = 0
    flat_long: bool = False
    still_recent: bool = False  # the last half second's 0.1 s means within still_range_g, not turning
    began_still: bool = False  # the stream's first quarter second ended flat, near 1 g: it began at rest
    block_ups: list[tuple[float, float, float]] = field(default_factory=list)  # "up" at each block's end
    new_rest: bool = False
    rest_s: float = 0.0  # for the concentric being finished: how long the bar has rested, ...
    rest_accel_m_s2: float = 0.0  # ... and the steady (uncalibrated) acceleration read during that rest
    cal_orientations: list[tuple[float, float, float]] = field(default_factory=list)  # where still samples came
    cal_pending: int = 0
    warmup: int = 0
    move_s: float = 0.0  # sums since the last anchor, for the calibration's movement rows
    move_ux: float = 0.0
    move_uy: float = 0.0
    move_uz: float = 0.0
    move_n: int = 0
    move_hole: bool = False
    anchored_last: bool = False
    hole_t: float = -math.inf  # the last grid sample interpolated over lost input
    last_cal_t: float = -math.inf
    recent_i: int = 0
    nonpos_t: float = 0.0
    nonneg_t: float = 0.0
    nonneg_p: float = 0.0
    phase: Phase = Phase.IDLE
    in_descent: bool = False
    descent_start_p: float = 0.0
    descent_t0: float = 0.0
    descent_end_t: float = -math.inf
    descent_m: float = 0.0  # downward travel before the coming concentric
    came_from_descent: bool = False
    t_b: float = 0.0
    expected_m: float = 0.0
    v_peak: float = 0.0
    crossed_t: float | None = None  # velocity crossed zero here; waiting to confirm lockout
    history: deque[tuple[float, float, float]] = field(default_factory=deque)  # recent (t, v, p)
    prev_anchor_t: float = -math.inf  # the last zero-velocity update before the current motion
    last_anchor_t: float = -math.inf
    top_t: float | None = None  # the last rep's lockout, for closure in touch-and-go sets
    top_p: float = 0.0
    closure_ok: bool = False  # no anchor since that lockout
    end_p: float = 0.0
    v_peak_run: float = 0.0  # the highest integrated velocity since this concentric (re)started
    stall_p: float = 0.0
    stall_t: float = 0.0
    stall_rise: float = 0.0
    rep_count: int = 0
    best_mcv: float = 0.0
    roms: list[float] = field(default_factory=list)
    durations: list[float] = field(default_factory=list)


class RepSegmenter:
    """Feed uniform vertical specific force [g]; get ``RepEvent`` / ``FailedRepEvent`` as they happen."""

    def __init__(self, config: SegmenterConfig) -> None:
        self.config = config
        self.reset()

    def reset(self) -> None:
        self.state = SegmenterState()
        self.calibration = Calibration(math.exp(-1.0 / (self.config.calibration_memory_s * self.config.rate_hz)))

    def restart_after_gap(self) -> None:
        """Velocity is unknown after a gap: drop what was in flight, keep what was learned about the set."""
        old = self.state
        self.state = SegmenterState(
            rep_count=old.rep_count, best_mcv=old.best_mcv, roms=old.roms, durations=old.durations
        )

    def feed(
        self,
        t_s: np.ndarray,
        s_g: np.ndarray,
        s_smooth_g: np.ndarray,
        up: np.ndarray,
        enabled_at_s: np.ndarray,
        holes: np.ndarray,
        input_interval_s: np.ndarray,
    ) -> list[RepEvent | FailedRepEvent]:
        """Consume uniform samples: times, vertical specific force [g] raw and smoothed, "up" unit vectors, when
        each sample became known, whether it was interpolated across lost input (``UniformChunk.hole``), and the
        input's usual sample interval (``UniformChunk.input_interval_s``)."""
        cfg = self.config
        st = self.state
        cal = self.calibration
        events: list[RepEvent | FailedRepEvent] = []
        if len(t_s) == 0:
            return events
        dt = 1.0 / cfg.rate_hz
        gravity = STANDARD_GRAVITY_M_S2
        n_quiet = max(1, round(cfg.quiet_time_s * cfg.rate_hz))
        n_long = max(n_quiet, round(cfg.long_quiet_s * cfg.rate_hz))
        n_unsettled = max(n_quiet, round(cfg.unsettled_quiet_s * cfg.rate_hz))
        n_block = max(1, round(0.1 * cfg.rate_hz))
        aq, vz, v_on = cfg.quiet_accel_m_s2, cfg.zupt_max_velocity_m_s, cfg.v_on_m_s
        history_len = round((cfg.max_concentric_s + cfg.pre_history_s + 1.0) * cfg.rate_hz)
        if st.history.maxlen != history_len:
            st.history = deque(st.history, maxlen=history_len)
        n_window = max(1, round(cfg.quiet_window_s * cfg.rate_hz))
        n_onset = min(n_window, n_quiet)
        n_rest_blocks = min(5, round(cfg.stale_still_s * 10))
        n_min_move, n_max_move = round(0.3 * cfg.rate_hz), round(20.0 * cfg.rate_hz)
        slower = np.maximum(1.0, np.asarray(input_interval_s) * cfg.quiet_mean_rate_hz)
        mean_limits = (cfg.quiet_mean_accel_m_s2 * n_window * np.sqrt(slower)).tolist()
        if len(st.recent_a) != n_window:
            st.recent_a, st.recent_a_sum, st.recent_i = [0.0] * n_window, 0.0, 0
            st.recent_s = [float(s_smooth_g[0])] * (n_quiet - 1)
            st.block_means = [math.inf, -math.inf] + [0.0] * max(0, round(cfg.stale_still_s * 10) - 2)
            st.block_ups = [(0.0, 0.0, 0.0)] * len(st.block_means)

        if not st.started:
            st.started = True
            if not cal.known:
                # The first reading is 1 g, if the bar is still; a stream begun mid-rep starts from the nominal.
                first = float(s_g[0])
                cal.start(first if abs(first - 1.0) < cfg.unsettled_rest_g else 1.0)
            st.nonpos_t = st.nonneg_t = float(t_s[0])

        # Calibration-free flatness: the smoothed reading's range over the last quiet_time_s, for every sample.
        extended = np.concatenate([np.asarray(st.recent_s, dtype=np.float64), s_smooth_g])
        windows = np.lib.stride_tricks.sliding_window_view(extended, n_quiet)
        flat_all = ((windows.max(axis=1) - windows.min(axis=1)) < cfg.flat_range_g).tolist()
        st.recent_s = extended[len(extended) - (n_quiet - 1) :].tolist() if n_quiet > 1 else []
        hole_all = np.asarray(holes, dtype=bool).tolist()

        for t, s, s_smooth, (ux, uy, uz), seen, flat_now, hole, mean_limit in zip(
            t_s.tolist(),
            s_g.tolist(),
            s_smooth_g.tolist(),
            up.tolist(),
            enabled_at_s.tolist(),
            flat_all,
            hole_all,
            mean_limits,
            strict=True,
        ):
            offset = cal.c + cal.bx * ux + cal.by * uy + cal.bz * uz
            a = (s - offset) * gravity
            a_smooth = (s_smooth - offset) * gravity
            # Quiet: no jolt now, and no net acceleration over the last window. The second test is what tells a
            # still bar from a slow eccentric, whose acceleration stays small but does not average out.
            ring = st.recent_a
            k = st.recent_i
            st.recent_a_sum += a - ring[k]
            ring[k] = a
            st.recent_i = (k + 1) % len(ring)
            settled = cal.settled
            if settled:
                # At the end of a concentric the first test alone serves: waiting for the window would delay
                # every lockout.
                quiet = -aq < a_smooth < aq and (abs(st.recent_a_sum) < mean_limit or st.phase == Phase.UP)
            else:
                # Until the calibration has seen stillness, any offset in it would hide every quiet moment:
                # judge quiet by the reading being flat instead, and near 1 g (a steady push or brake is flat
                # too, but reads 0.1-0.3 g off it). A stream that did not begin at rest (recording started
                # mid-rep) also needs half a second still: the steady middle of a descent is flat for a while.
                quiet = flat_now and (st.began_still or st.still_recent) and abs(s_smooth - 1.0) < cfg.unsettled_rest_g
            was_anchored = st.anchored_last
            st.anchored_last = False
            if st.warmup < n_window:
                st.warmup += 1  # the window is not full yet (start, or after a gap): nothing is quiet
                quiet = False
                if st.warmup == n_window and not settled:
                    st.began_still = flat_now and abs(s_smooth - 1.0) < cfg.unsettled_rest_g
            if quiet:
                st.quiet_count += 1
            else:
                if st.cal_pending:
                    cal.solve()
                    st.cal_pending = 0
                if was_anchored:
                    # Motion began within the last few samples while they were still anchored to zero; give
                    # their acceleration back, or every smooth start would lose its first few cm/s.
                    st.v = sum(ring[(k - j) % n_window] for j in range(1, n_onset + 1)) * dt
                st.quiet_count = 0
            v_before = st.v
            st.v += 0.5 * (a + st.a_prev) * dt
            st.a_prev = a
            st.p += st.v * dt

            # Still for a long while, judged without the calibration: the reading's 0.1 s means have stayed within
            # a narrow band for stale_still_s. This is the way out when the calibration itself has gone stale (the
            # bar turned, so accelerometer bias projects differently) and hides every quiet moment.
            st.block_sum += s_smooth
            st.block_n += 1
            if st.block_n == n_block:
                means, ups, nb = st.block_means, st.block_ups, len(st.block_means)
                means[st.block_i] = st.block_sum / n_block
                ups[st.block_i] = (ux, uy, uz)
                st.block_i = (st.block_i + 1) % nb
                st.block_sum, st.block_n = 0.0, 0
                st.flat_long = max(means) - min(means) < cfg.still_range_g
                # Still for half a second, not turning, at an orientation the calibration has never seen: a rest
                # the calibrated test cannot recognise, because the bias projects differently here.
                recent = [(st.block_i - j) % nb for j in range(1, n_rest_blocks + 1)]
                ox, oy, oz = ups[recent[-1]]
                st.still_recent = (
                    max(means[j] for j in recent) - min(means[j] for j in recent) < cfg.still_range_g
                    and ox * ux + oy * uy + oz * uz > COS_3_DEG
                )
                st.new_rest = st.still_recent and all(
                    qx * ux + qy * uy + qz * uz < COS_15_DEG for qx, qy, qz in st.cal_orientations
                )
            zupt_residual = None
            qc = st.quiet_count
            v_abs = abs(st.v)
            if (
                qc >= n_quiet
                and (
                    v_abs < vz
                    or qc >= n_long
                    # Not calibrated yet (the stream began mid-motion, say): a flat reading is a rest whatever
                    # the integral says, or a wrong first guess could keep the calibration from ever starting.
                    # After the first rest the integral runs from a true zero: it decides again.
                    or (not settled and qc >= n_unsettled and st.last_anchor_t == -math.inf)
                )
            ) or (flat_now and ((st.flat_long and t - st.last_cal_t > cfg.stale_calibration_s) or st.new_rest)):
                zupt_residual = st.v
                st.v = 0.0
                st.anchored_last = True
                n_move = st.move_n
                # A movement's mean is 1 g only from rest to rest: not the first of a stream begun mid-motion.
                if (
                    not was_anchored
                    and n_min_move <= n_move <= n_max_move
                    and not st.move_hole
                    and st.last_anchor_t > -math.inf
                ):
                    cal.add(
                        st.move_s / n_move,
                        st.move_ux / n_move,
                        st.move_uy / n_move,
                        st.move_uz / n_move,
                        n_move * cfg.movement_weight,
                    )
                    st.cal_pending += 50  # solve now
                st.move_s = st.move_ux = st.move_uy = st.move_uz = 0.0
                st.move_n, st.move_hole = 0, False
                if st.last_anchor_t < t - 1.5 * dt:
                    st.prev_anchor_t = st.last_anchor_t  # a new quiet stretch: remember where the last one ended
                st.last_anchor_t = t
                st.closure_ok = False
                if v_abs >= vz and st.phase == Phase.IDLE:
                    # This anchor removed real drift, so a descent measured through it is partly drift. Take out
                    # the drift, grown linearly since the previous anchor, and keep what is left: at 10-12.5 Hz
                    # the first eccentric after a walk-out often ends 0.15 m/s out, and its rep was lost.
                    st.descent_m = self._descent_less_drift(t, zupt_residual)
                    st.in_descent, st.descent_end_t = False, t
                # The first quiet samples still carry the tail of the motion. Of the rest, every CAL_STRIDE-th is
                # fitted, with that weight: neighbouring samples of a smoothed signal tell little more, and long
                # rests would otherwise dominate the cost of the whole pipeline.
                if (qc >= 2 * n_quiet or st.flat_long) and qc % CAL_STRIDE == 0:
                    cal.add(s_smooth, ux, uy, uz, CAL_STRIDE)
                    st.last_cal_t = t
                    if all(qx * ux + qy * uy + qz * uz < COS_5_DEG for qx, qy, qz in st.cal_orientations):
                        st.cal_orientations.append((ux, uy, uz))
                        del st.cal_orientations[:-12]
                    st.cal_pending += CAL_STRIDE
                    if st.cal_pending >= 50:
                        cal.solve()
                        st.cal_pending = 0
            if hole:
                # Interpolated over lost samples: the velocity change across the hole is unknown.
                st.hole_t = t
            if zupt_residual is None:
                st.move_s += s
                st.move_ux += ux
                st.move_uy += uy
                st.move_uz += uz
                st.move_n += 1
                if hole:
                    st.move_hole = True  # the mean over it would be made up
            v = st.v
            if v <= 0.0:
                st.nonpos_t = t
            if v >= 0.0:
                st.nonneg_t, st.nonneg_p = t, st.p

            phase = st.phase
            st.history.append((t, v, st.p))
            if phase == Phase.UP:
                if v > st.v_peak_run:
                    st.v_peak_run = v
                if zupt_residual is not None:
                    if st.new_rest and qc < n_quiet:
                        st.rest_s, st.rest_accel_m_s2 = n_rest_blocks * 0.1, st.recent_a_sum / n_window
                    else:
                        st.rest_s, st.rest_accel_m_s2 = 0.0, 0.0
                    self._finish_concentric(zupt_residual, t, seen, events)
                elif qc == n_quiet and st.v_peak_run > 0.0 and abs(v) < cfg.drift_fraction * st.v_peak_run:
                    # Quiet, but the integral says the bar still moves: drift, if this was lockout. Judge the rep
                    # now on that assumption (a sticking point just resumes the concentric if it falls short),
                    # rather than wait a second for the long-quiet anchor.
                    self._finish_concentric(v, t, seen, events)
                    if st.phase != Phase.UP and st.phase != Phase.STALL:
                        st.v = 0.0
                elif st.crossed_t is None:
                    if v <= 0.0:
                        # Velocity crossed zero between two grid samples: lockout, or a sticking point.
                        frac = v_before / (v_before - v) if v_before > 0.0 else 1.0
                        st.crossed_t = t - dt + frac * dt
                elif v > v_on:
                    st.crossed_t = None  # it was a sticking point: the same concentric goes on
                elif v < -v_on or t - st.crossed_t >= cfg.confirm_s or t - st.t_b >= cfg.max_concentric_s:
                    self._finish_concentric(0.0, t, seen, events)
            elif phase == Phase.STALL:
                drop = max(cfg.fail_drop_min_m, cfg.fail_drop_fraction * st.stall_rise)
                if v > v_on:
                    self._resume_concentric()
                elif st.p < st.stall_p - drop:
                    rise = st.stall_rise
                    if (
                        st.came_from_descent
                        and rise >= cfg.fail_min_fraction * st.expected_m
                        and not self._hole_in_attempt()
                    ):
                        events.append(FailedRepEvent(st.t_b, st.stall_t, seen, rise, st.v_peak))
                    st.phase = Phase.IDLE
                    st.in_descent, st.descent_start_p, st.descent_m = True, st.stall_p, 0.0
                elif t - st.stall_t > cfg.stall_timeout_s:
                    st.phase = Phase.IDLE  # held, then neither finished nor dropped: whatever it was, it is over
                    st.in_descent, st.descent_m = False, 0.0
            else:
                # Between concentrics: add up the downward travel of recent descents (see the module docstring).
                if v < -v_on and not st.in_descent:
                    if t - st.descent_end_t > cfg.descent_chain_s:
                        st.descent_m = 0.0
                    st.in_descent, st.descent_start_p, st.descent_t0 = True, st.nonneg_p, st.nonneg_t
                elif st.in_descent and v >= 0.0:
                    st.in_descent = False
                    st.descent_m += st.descent_start_p - st.p
                    st.descent_end_t = t
                if v > v_on:
                    self._start_concentric()
        return events

    def flush(self, last_seen_s: float) -> list[RepEvent | FailedRepEvent]:
        """End of stream: a concentric still rising counts as a rep only if it has already risen as far as a full
        rep of the set. Less is a rep cut off by the end of the data (a sensor unplugged, a link lost for good),
        not a short one: it would end the set on a range of motion the lifter never stopped at."""
        st = self.state
        events: list[RepEvent | FailedRepEvent] = []
        if st.phase == Phase.UP and st.history:
            self._finish_concentric(0.0, st.history[-1][0], last_seen_s, events, cut_off=True)
        return events

    def _start_concentric(self) -> None:
        st, cfg = self.state, self.config
        st.t_b = st.nonpos_t
        st.v_peak = 0.0
        st.came_from_descent = st.descent_m >= cfg.min_rom_m
        reference = self._reference_rom()
        if st.came_from_descent:
            # Drift can only inflate a descent measured over a few seconds; the set's own reps bound it, and
            # before there are any, the longest range of motion the lift has.
            st.expected_m = min(st.descent_m, cfg.max_rom_m if reference is None else reference)
        else:
            st.expected_m = reference or cfg.min_rom_m
        self._resume_concentric()

    def _resume_concentric(self) -> None:
        st = self.state
        st.phase = Phase.UP
        st.v_peak_run = 0.0
        st.crossed_t = None

    def _finish_concentric(
        self,
        residual_m_s: float,
        t_now: float,
        seen: float,
        events: list[RepEvent | FailedRepEvent],
        *,
        cut_off: bool = False,
    ) -> None:
        """Close the concentric: model the velocity drift, remove it, then find the lowest point, lockout and ROM.

        The drift model, in order of preference:

        - ``residual_m_s`` is the velocity a zero-velocity update just removed at ``t_now``: the drift grew
          linearly since the previous anchor, where velocity was zero;
        - with no anchor since the previous rep's lockout (touch-and-go), the bar came back to that lockout
          height: the height it gained since is an offset in velocity, spread over the cycle;
        - otherwise none.

        Start and end are then found again on the corrected velocity, from the recent history, so a drifted
        zero crossing does not clip either end of the rep.
        """
        st, cfg = self.state, self.config
        dt = 1.0 / cfg.rate_hz
        since = st.t_b - cfg.pre_history_s
        hist = [h for h in st.history if h[0] >= since]
        tt = [h[0] for h in hist]
        vv = [h[1] for h in hist]
        pp = [h[2] for h in hist]
        if residual_m_s != 0.0:
            anchor = st.prev_anchor_t if math.isfinite(st.prev_anchor_t) else tt[0]
            # Part of the residual may have built up during the rest itself (a bias the calibration has not
            # learnt for this orientation shows there as a steady acceleration): that part starts at the rest.
            rest_start = t_now - st.rest_s
            in_rest = st.rest_accel_m_s2 * st.rest_s
            rate = (residual_m_s - in_rest) / max(rest_start - anchor, dt)
            corrected = [
                v - rate * (min(t, rest_start) - anchor) - st.rest_accel_m_s2 * max(0.0, t - rest_start)
                if t > anchor
                else v
                for t, v in zip(tt, vv, strict=True)
            ]
        else:
            corrected = vv
        first = max(0, next((i for i, t in enumerate(tt) if t >= st.t_b), 0))
        start_t, end_t, rise, end_i = self._locate(tt, corrected, first)
        if residual_m_s == 0.0 and st.closure_ok and st.top_t is not None and 0.5 < end_t - st.top_t < 8.0:
            gained = pp[end_i] - st.top_p
            offset = gained / (end_t - st.top_t)
            if abs(offset) > cfg.closure_min_m_s:
                corrected = [v - offset if t > st.top_t else v for t, v in zip(tt, vv, strict=True)]
                start_t, end_t, rise, end_i = self._locate(tt, corrected, first)
                st.v -= offset  # the bar is still moving: correct what follows, too
        st.t_b = start_t
        st.v_peak = max(st.v_peak, max(corrected[first:], default=0.0))
        st.end_p = pp[end_i]
        reference = self._reference_rom()
        if cut_off and reference is not None and rise < cfg.short_rom_fraction * reference:
            return
        self._end_concentric(end_t, rise, seen, events)

    def _locate(self, tt: list[float], vv: list[float], first: int) -> tuple[float, float, float, int]:
        """On corrected velocity: (start, lockout, rise, index at lockout) of the concentric peaking after
        ``first``. Start is the last zero crossing before the peak; lockout where velocity falls to nearly zero
        (the small margin keeps it out of the still stretch after, where corrected velocity only tends to 0)."""
        dt = 1.0 / self.config.rate_hz
        eps = self.config.lockout_velocity_m_s
        n = len(vv)
        peak = max(range(first, n), key=vv.__getitem__) if first < n else n - 1
        # The start: back from the peak to where velocity rose through the same small margin, then along that
        # slope to zero. (Creeping through the margin's band before the lift, e.g. a drifting rest, is no start.)
        start_i = peak
        while start_i > 0 and vv[start_i - 1] > eps:
            start_i -= 1
        start_t = tt[start_i]
        if start_i > 0:
            lo, hi = vv[start_i - 1], vv[start_i]
            slope = (hi - lo) / dt
            start_t = tt[start_i - 1] + ((eps - lo) / (hi - lo) if hi > lo else 1.0) * dt
            if slope > 0.0:
                start_t -= min(eps / slope, dt * 5)
        end_i = n - 1
        end_t = tt[end_i]
        for i in range(peak + 1, n):
            if vv[i] <= eps:
                prev = vv[i - 1]
                end_t = tt[i - 1] + ((prev - eps) / (prev - vv[i]) if prev > eps else 1.0) * dt
                end_i = i
                break
        rise = sum(0.5 * (vv[i] + vv[i + 1]) for i in range(max(start_i - 1, 0), end_i)) * dt
        return start_t, end_t, rise, end_i

    def _rose_enough(self, rise: float) -> bool:
        st, cfg = self.state, self.config
        # Samples lost during this rep make its measured rise unreliable: judge it more leniently.
        fraction = cfg.complete_fraction_with_hole if self._hole_in_attempt() else cfg.complete_fraction
        return rise >= max(cfg.min_rom_m, fraction * st.expected_m)

    def _descent_less_drift(self, t: float, residual: float) -> float:
        """The descent under way when an anchor at ``t`` found velocity ``residual`` out: its travel less the drift
        of a velocity error grown linearly from zero at the previous anchor. 0 when no descent was under way."""
        st = self.state
        if not st.in_descent or st.prev_anchor_t == -math.inf or t <= st.prev_anchor_t:
            return 0.0
        span = t - st.prev_anchor_t
        since = max(0.0, st.descent_t0 - st.prev_anchor_t)
        drift = residual / (2.0 * span) * (span * span - since * since)
        return max(0.0, st.descent_start_p - st.p + drift)

    def _hole_in_attempt(self) -> bool:
        st = self.state
        return st.hole_t >= st.t_b - self.config.pre_history_s

    def _end_concentric(self, t_end: float, rise: float, seen: float, events: list[RepEvent | FailedRepEvent]) -> None:
        st, cfg = self.state, self.config
        if self._rose_enough(rise):
            # A rise without a descent before it, in a lift that needs one, is no rep when it is small: unracking
            # lifts the bar a few cm. It is no stall either: the bar is at the top, and the next descent starts
            # from there. But a rise as far as the set's reps rise (before there are any, half the lift's longest
            # ROM) is a rep whose descent went unseen: hidden by a gap, or too slow to tell from rest (a 3-5 s tempo
            # eccentric at 0.1 m/s, started gently, is anchored to zero as it goes).
            reference = self._reference_rom()
            if reference is None:
                unseen_descent = cfg.first_rise_fraction * cfg.max_rom_m <= rise <= cfg.max_rom_m
            else:
                unseen_descent = cfg.short_rom_fraction * reference <= rise <= cfg.max_rom_fraction * reference
            if not cfg.needs_descent or st.came_from_descent or unseen_descent:
                self._emit_rep(t_end, rise, seen, events)
            st.phase = Phase.IDLE
            st.descent_m = 0.0
            st.top_t, st.top_p, st.closure_ok = t_end, st.end_p, True
        elif rise < cfg.noise_rom_m:
            st.phase = Phase.IDLE  # a bounce: the descent before it still counts for the next concentric
        else:
            st.phase = Phase.STALL
            st.stall_p, st.stall_t, st.stall_rise = st.end_p, t_end, rise
            # Where the bar turned is the best reference there is for closure; in a drifting touch-and-go set
            # that is what lets the next rep be seen at all.
            st.top_t, st.top_p, st.closure_ok = t_end, st.end_p, True

    def _emit_rep(self, t_end: float, rom: float, seen: float, events: list[RepEvent | FailedRepEvent]) -> None:
        st, cfg = self.state, self.config
        duration = t_end - st.t_b
        if duration <= 0.0:
            return
        mcv = rom / duration
        flags: list[RepFlag] = []
        if self._hole_in_attempt():
            # Counted, but measured across lost samples: it sets no reference and raises no form flag.
            flags.append(RepFlag.DATA_GAP)
        else:
            st.best_mcv = max(st.best_mcv, mcv)
            ref_rom, ref_dur = self._reference_rom(), self._reference_duration()
            if ref_rom is not None and rom < cfg.short_rom_fraction * ref_rom:
                flags.append(RepFlag.SHORT_ROM)
            if ref_dur is not None and duration > cfg.grinding_factor * ref_dur:
                flags.append(RepFlag.GRINDING)
            st.roms.append(rom)
            st.durations.append(duration)
        if cfg.estimated_velocity:
            flags.append(RepFlag.VELOCITY_ESTIMATED)
        st.rep_count += 1
        events.append(
            RepEvent(
                index=st.rep_count,
                t_start_s=st.t_b,
                t_end_s=t_end,
                detected_at_s=seen,
                mean_velocity_m_s=mcv,
                peak_velocity_m_s=st.v_peak,
                rom_m=rom,
                velocity_loss=max(0.0, 1.0 - mcv / st.best_mcv) if st.best_mcv > 0 else 0.0,
                flags=tuple(flags),
            )
        )

    def _reference_rom(self) -> float | None:
        roms = self.state.roms[: self.config.reference_reps]
        return statistics.median(roms) if roms else None

    def _reference_duration(self) -> float | None:
        durations = self.state.durations[: self.config.reference_reps]
        return statistics.median(durations) if durations else None

    def __deepcopy__(self, memo: dict[int, object]) -> RepSegmenter:
        clone = RepSegmenter(self.config)
        clone.state = copy.deepcopy(self.state, memo)
        clone.calibration = copy.deepcopy(self.calibration, memo)
        return clone
