"""The true motion of a barbell through a set, on a 1 kHz grid: the physics behind the set simulator.

World frame: z up, y along the bar's long axis, x horizontal (towards the lifter's front). The bar's vertical
motion is built phase by phase (hold, eccentric, concentric, steps, impacts, free fall), each phase a smooth
velocity profile scaled to an exact displacement. Smaller motions are then laid over it: the horizontal bar path
and the roll coupled to each rep, body sway in holds, and the ringing of plates at impacts. Position is the one
source of truth; velocity and acceleration are its derivatives on the grid, so the three always agree.

``build_motion`` turns a ``SimConfig`` and a random generator into a ``Motion``; ``sensor_frame`` gives what an
ideal sensor mounted on the bar would read. Noise, timing and sampling live in ``simulator``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from repsense.events import Exercise
from repsense.samples import STANDARD_GRAVITY_M_S2 as G

if TYPE_CHECKING:
    from repsense.firmware_bridge.simulator import SimConfig

#: The internal grid: every motion is generated at 1 kHz and sampled from there.
GRID_HZ = 1000.0
DT_S = 1.0 / GRID_HZ

#: Radius of a standard 450 mm plate (m): a bar rolled on the floor turns by distance / radius.
PLATE_RADIUS_M = 0.225


@dataclass(frozen=True)
class LiftProfile:
    """Plausible ranges for one lift: concentric ROM (m), first-rep MCV (m/s), load (kg), horizontal path (m)."""

    rom_m: tuple[float, float]
    mcv_m_s: tuple[float, float]
    load_kg: tuple[float, float]
    path_m: tuple[float, float]
    path_shape: str  # "j" (bench J-curve), "arc" (curl around the elbow) or "bow" (drift out and back)
    on_floor: bool  # the bottom of each rep is the floor, with a plate clank at every touch


LIFTS: dict[Exercise, LiftProfile] = {
    Exercise.SQUAT: LiftProfile((0.45, 0.70), (0.50, 0.90), (60, 180), (0.02, 0.05), "bow", False),
    Exercise.BENCH: LiftProfile((0.25, 0.45), (0.35, 0.75), (40, 140), (0.05, 0.15), "j", False),
    Exercise.DEADLIFT: LiftProfile((0.45, 0.65), (0.40, 0.75), (80, 220), (0.02, 0.05), "bow", True),
    Exercise.RDL: LiftProfile((0.35, 0.55), (0.50, 0.80), (50, 150), (0.02, 0.05), "bow", False),
    Exercise.OHP: LiftProfile((0.40, 0.60), (0.45, 0.80), (30, 80), (0.02, 0.06), "bow", False),
    Exercise.ROW: LiftProfile((0.25, 0.45), (0.60, 1.00), (40, 110), (0.03, 0.08), "bow", False),
    Exercise.CURL: LiftProfile((0.35, 0.55), (0.50, 1.00), (20, 50), (0.15, 0.25), "arc", False),
    # The sensor on one dumbbell: a curl, then that arm hangs still while the other arm curls (see build_motion).
    Exercise.ALT_CURL: LiftProfile((0.35, 0.55), (0.50, 1.00), (8, 25), (0.15, 0.25), "arc", False),
    Exercise.OTHER: LiftProfile((0.20, 0.60), (0.30, 1.00), (10, 100), (0.00, 0.05), "bow", False),
}


@dataclass(frozen=True)
class RepSpan:
    """Where one completed rep sits on the grid (sample indices).

    ``window`` runs from the start of its eccentric to lockout (lifts that start from the top) or from the start
    of its concentric to the end of the eccentric that follows (lifts that start from below).
    """

    window: tuple[int, int]
    concentric: tuple[int, int]
    sticking_point: bool


@dataclass(frozen=True)
class FailedSpan:
    """A concentric that stalled: it starts at ``start``, stops rising at ``stall`` and is held there."""

    start: int
    stall: int


@dataclass(frozen=True)
class Motion:
    """Noise-free kinematics of the sensor's mounting point and the bar's orientation, at 1 kHz from t = 0."""

    t_s: np.ndarray  # [n]
    pos_m: np.ndarray  # [n, 3] world frame
    vel_m_s: np.ndarray  # [n, 3]
    acc_m_s2: np.ndarray  # [n, 3]
    bar_rot: np.ndarray  # [n, 3, 3] bar frame -> world frame
    omega_world_rad_s: np.ndarray  # [n, 3] the bar's angular velocity, world frame
    reps: list[RepSpan]
    failed: list[FailedSpan]
    top_first: bool
    #: Alternating lifts: where the other arm's rep after each of ``reps`` sits (the sensor's arm hangs still
    #: meanwhile, so its motion is not in the arrays). Empty for other lifts.
    other_arm: list[RepSpan] = field(default_factory=list)


# --- velocity profiles ----------------------------------------------------------------------------------------


def _tau(duration_s: float) -> np.ndarray:
    """Normalised phase time 0..1 over a phase of ``duration_s`` on the grid, both ends included."""
    n = max(2, round(duration_s * GRID_HZ))
    return np.arange(n + 1) / n


def asym_sine(tau: np.ndarray, peak_frac: float) -> np.ndarray:
    """sin(pi w(tau)) with a quadratic warp w: zero at both ends with finite slope, peak at ``peak_frac``."""
    p = float(np.clip(peak_frac, 0.3, 0.7))
    c = (0.5 - p) / (p * (1.0 - p))  # w(p) = 0.5 and |c| < 1 keeps the warp monotonic
    return np.asarray(np.sin(np.pi * (tau + c * tau * (1.0 - tau))))


def _position_frac(vel: np.ndarray) -> np.ndarray:
    """Cumulative trapezoid of a velocity shape, normalised to end at 1 (one value per sample, start included)."""
    cum = np.concatenate([[0.0], np.cumsum(0.5 * (vel[1:] + vel[:-1]))])
    return np.asarray(cum / cum[-1])


def with_sticking(tau: np.ndarray, base: np.ndarray, position_frac: float, ratio: float, width: float) -> np.ndarray:
    """Multiply a concentric profile by a dip to ``ratio`` of the local velocity, centred where the bar has
    covered ``position_frac`` of the ROM (found by a few fixed-point passes, since the dip moves that point)."""
    centre = float(np.interp(position_frac, _position_frac(base), tau))
    vel = base
    for _ in range(4):
        vel = base * (1.0 - (1.0 - ratio) * np.exp(-0.5 * ((tau - centre) / width) ** 2))
        centre = float(np.interp(position_frac, _position_frac(vel), tau))
    return np.asarray(vel)


def _minimum_jerk(tau: np.ndarray) -> np.ndarray:
    return np.asarray(tau**3 * (10.0 - 15.0 * tau + 6.0 * tau**2))


def _wander(n: int, amp: float, rng: np.random.Generator, f_lo_hz: float, f_hi_hz: float) -> np.ndarray:
    """A smooth random signal peaking at +-``amp``: a few incommensurate slow sinusoids."""
    if amp == 0.0 or n == 0:
        return np.zeros(n)
    t = np.arange(n) * DT_S
    sig = np.zeros(n)
    for _ in range(4):
        sig += rng.uniform(0.3, 1.0) * np.sin(2 * np.pi * rng.uniform(f_lo_hz, f_hi_hz) * t + rng.uniform(0, 6.3))
    return np.asarray(amp * sig / max(np.max(np.abs(sig)), 1e-12))


# --- the track: base motion, phase by phase ------------------------------------------------------------------


@dataclass
class _Window:
    start: int
    end: int | None  # None: the set ends inside this window (a failure or a dropped bar), offsets stay put
    bottom_m: float
    rom_m: float
    top_first: bool


class _Track:
    """Appends phases of vertical (z), horizontal (x) and roll motion, one grid sample at a time."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self._z: list[np.ndarray] = [np.zeros(1)]
        self._x: list[np.ndarray] = [np.zeros(1)]
        self._roll: list[np.ndarray] = [np.zeros(1)]
        self.z = self.x = self.roll = 0.0
        self.n = 1
        self.holds: list[tuple[int, int, float]] = []  # (start, end, sway scale)
        self.clanks: list[tuple[int, int]] = []  # (start, longest ring in samples)
        self.windows: list[_Window] = []

    @property
    def i(self) -> int:
        """Index of the last sample so far (the start of the next phase)."""
        return self.n - 1

    @property
    def acc_m_s2(self) -> float:
        """The vertical acceleration the bar has at the end of the track so far."""
        tail = np.concatenate(self._z[-3:])[-3:]
        return float((tail[2] - 2.0 * tail[1] + tail[0]) / DT_S**2) if len(tail) == 3 else 0.0

    def append(self, z: np.ndarray, x: np.ndarray | None = None, roll: np.ndarray | None = None) -> None:
        m = len(z)
        self._z.append(z)
        self._x.append(np.full(m, self.x) if x is None else x)
        self._roll.append(np.full(m, self.roll) if roll is None else roll)
        self.z, self.x, self.roll = float(z[-1]), float(self._x[-1][-1]), float(self._roll[-1][-1])
        self.n += m

    def move(self, dz_m: float, vel_shape: np.ndarray, onset_s: float = 0.0) -> None:
        """Move vertically by exactly ``dz_m`` along ``vel_shape`` (velocity at tau = k/n, any scale).

        With ``onset_s`` the acceleration starts from the one the bar already has and reaches the profile's over
        that time: force builds up in tens of ms, and a touch-and-go bounce decelerates and re-accelerates the bar
        in one continuous motion.
        """
        k = min(round(onset_s * GRID_HZ), len(vel_shape) // 4)
        if k >= 2:
            vel = vel_shape * dz_m / (np.sum(0.5 * (vel_shape[1:] + vel_shape[:-1])) * DT_S)  # m/s
            t = np.arange(len(vel)) * DT_S
            ramp = np.ones(len(vel))
            ramp[: k + 1] = np.sin(0.5 * np.pi * np.arange(k + 1) / k) ** 2
            vel_shape = vel * ramp + self.acc_m_s2 * t * (1.0 - ramp)
        self.append(self.z + dz_m * _position_frac(vel_shape)[1:])

    def slide(
        self, dx_m: float, duration_s: float, dz_m: float = 0.0, bob_m: float = 0.0, roll_rad: float = 0.0
    ) -> None:
        """A minimum-jerk horizontal move, optionally rising by ``dz_m`` and bobbing ``bob_m`` (a walking step)."""
        tau = _tau(duration_s)[1:]
        s = _minimum_jerk(tau)
        # Down then up (or up then down) by ~bob_m; zero velocity and acceleration at both ends.
        bob = bob_m / 0.65 * np.sin(2 * np.pi * tau) * np.sin(np.pi * tau) ** 2
        self.append(self.z + dz_m * s + bob, self.x + dx_m * s, self.roll + roll_rad * s)

    def hold(self, duration_s: float, sway: float = 1.0, clank: bool = False) -> None:
        """Stay put for ``duration_s`` (body sway scaled by ``sway``); ``clank`` rings the plates as it starts."""
        m = max(1, round(duration_s * GRID_HZ))
        if clank:
            self.clanks.append((self.i, int(0.8 * m)))
        if sway > 0:
            self.holds.append((self.i, self.i + m, sway))
        self.append(np.full(m, self.z))

    def free(self, vel_m_s: np.ndarray) -> None:
        """Follow explicit velocities (m/s, one per new sample), starting from rest: free fall and bounces."""
        prev = np.concatenate([[0.0], vel_m_s[:-1]])
        self.append(self.z + np.cumsum(0.5 * (vel_m_s + prev)) * DT_S)

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return np.concatenate(self._z), np.concatenate(self._x), np.concatenate(self._roll)


def _eccentric(tr: _Track, depth_m: float, duration_s: float, touch_frac: float = 0.0) -> None:
    """Lower by ``depth_m``. With ``touch_frac`` > 0 the bar meets the floor at that fraction of its peak speed
    and stops within 6-12 ms: the real velocity change of an impact."""
    rng = tr.rng
    tau = _tau(duration_s)
    shape = asym_sine(tau, rng.uniform(0.45, 0.65))
    if touch_frac > 0:
        after_peak = np.flatnonzero((tau > 0.5) & (shape <= touch_frac))
        shape = shape[: after_peak[0] + 1] if len(after_peak) else shape
        k = round(rng.uniform(6, 12))
        shape = np.concatenate([shape, shape[-1] * 0.5 * (1 + np.cos(np.pi * np.arange(1, k + 1) / k))])
    tr.move(-depth_m, shape, onset_s=rng.uniform(0.04, 0.08))


def _concentric(tr: _Track, rom_m: float, mcv_m_s: float, sticking: tuple[float, float] | None) -> None:
    rng = tr.rng
    tau = _tau(rom_m / mcv_m_s)
    shape = asym_sine(tau, rng.uniform(0.35, 0.55))
    if sticking is not None:
        shape = with_sticking(tau, shape, sticking[0], sticking[1], rng.uniform(0.05, 0.09))
    tr.move(rom_m, shape, onset_s=rng.uniform(0.04, 0.06))


def _drop(tr: _Track, floor_m: float) -> None:
    """Let go at lockout: free fall to the floor, bounce once on the bumpers, settle."""
    rng = tr.rng
    height = tr.z - floor_m
    release = np.minimum(np.arange(1, 51) / 50.0, 1.0)  # the hands open over ~50 ms
    v_release = -G * np.cumsum(release) * DT_S
    fallen = -np.sum(v_release) * DT_S
    v_hit = float(np.sqrt(v_release[-1] ** 2 + 2 * G * max(height - fallen, 0.01)))
    t_fall = (v_hit + v_release[-1]) / G
    v_fall = v_release[-1] - G * np.arange(1, round(t_fall * GRID_HZ) + 1) * DT_S
    restitution = rng.uniform(0.15, 0.35)
    k1 = round(rng.uniform(10, 20))
    v_up = restitution * abs(v_fall[-1])
    bounce = v_fall[-1] + (v_up - v_fall[-1]) * 0.5 * (1 - np.cos(np.pi * np.arange(1, k1 + 1) / k1))
    flight = v_up - G * np.arange(1, round(2 * v_up / G * GRID_HZ) + 1) * DT_S
    k2 = round(rng.uniform(8, 12))
    settle = flight[-1] * 0.5 * (1 + np.cos(np.pi * np.arange(1, k2 + 1) / k2))
    tr.clanks.append((tr.i + len(v_release) + len(v_fall), 120))
    tr.free(np.concatenate([v_release, v_fall, bounce, flight, settle]))


# --- the set ---------------------------------------------------------------------------------------------------


def rep_velocities(cfg: SimConfig, rng: np.random.Generator) -> np.ndarray:
    """Planned MCV per good rep (m/s): a loss per rep that grows slightly, with rep-to-rep noise."""
    k = np.arange(cfg.n_good_reps)
    increments = cfg.fatigue_per_rep_frac * (1.0 + cfg.fatigue_growth_frac) ** np.maximum(k - 1, 0)
    loss = np.concatenate([[0.0], np.cumsum(increments[1:])])
    noise = 1.0 + cfg.mcv_noise_frac * np.clip(rng.standard_normal(len(k)), -2.0, 2.0)
    noise[0] = 1.0
    return np.asarray(np.maximum(first_mcv(cfg) * (1.0 - loss) * noise, 0.06))


def first_mcv(cfg: SimConfig) -> float:
    return cfg.first_mcv_m_s if cfg.first_mcv_m_s is not None else float(np.mean(LIFTS[cfg.exercise].mcv_m_s))


def base_rom(cfg: SimConfig) -> float:
    return cfg.rom_m if cfg.rom_m is not None else float(np.mean(LIFTS[cfg.exercise].rom_m))


def _u(rng: np.random.Generator, bounds: tuple[float, float]) -> float:
    return float(rng.uniform(bounds[0], bounds[1])) if bounds[1] > bounds[0] else float(bounds[0])


def _rests_on_floor(ex: Exercise) -> bool:
    """The set starts and ends with the bar on the floor (or blocks), still."""
    return ex in (Exercise.DEADLIFT, Exercise.RDL)


def _step_bob(rng: np.random.Generator) -> float:
    return float(rng.choice([-1.0, 1.0]) * rng.uniform(0.01, 0.02))


def _prelude(tr: _Track, cfg: SimConfig) -> None:
    """From rest to the first rep: walk-out, lift-off, rolling the bar in, or simply holding it."""
    rng, ex = tr.rng, cfg.exercise
    resting = cfg.walkout or _rests_on_floor(ex)  # on the hooks or the floor: no sway, only sensor noise
    tr.hold(cfg.lead_in_s, sway=0.0 if resting else 1.0)
    if not cfg.walkout:
        return
    if ex in (Exercise.SQUAT, Exercise.OHP):
        tr.slide(0.0, rng.uniform(0.5, 1.0), dz_m=rng.uniform(0.04, 0.10))
        tr.hold(rng.uniform(0.3, 0.8))
        for _ in range(int(rng.integers(2, 5))):
            tr.slide(-rng.uniform(0.06, 0.16), rng.uniform(0.45, 0.75), bob_m=_step_bob(rng))
            tr.hold(rng.uniform(0.1, 0.4))
        tr.hold(rng.uniform(1.0, 3.0))
    elif ex is Exercise.BENCH:
        tr.slide(0.0, rng.uniform(0.4, 0.8), dz_m=rng.uniform(0.04, 0.08))
        tr.slide(rng.uniform(0.20, 0.35), rng.uniform(0.6, 1.2))
        tr.hold(rng.uniform(1.0, 3.0))
    elif ex is Exercise.DEADLIFT:
        dx = -rng.uniform(0.02, 0.05)  # rolled in to the shins, rolling without slipping on the plates
        tr.slide(dx, rng.uniform(0.3, 0.6), roll_rad=dx / PLATE_RADIUS_M)
        tr.hold(rng.uniform(1.0, 3.0), sway=0.0)
    else:
        tr.hold(rng.uniform(1.0, 3.0), sway=0.0 if _rests_on_floor(ex) else 1.0)


def _finale(tr: _Track, cfg: SimConfig, failed: bool) -> None:
    """From the last rep (or the failed attempt) to rest: re-rack, put the bar down, or just stop."""
    rng, ex = tr.rng, cfg.exercise
    if failed or _rests_on_floor(ex) or not cfg.walkout:
        tr.hold(cfg.tail_s, sway=0.0 if (failed or _rests_on_floor(ex)) else 1.0)
        return
    tr.hold(rng.uniform(0.3, 1.0))
    if ex in (Exercise.SQUAT, Exercise.OHP):
        back = -tr.x
        steps = int(rng.integers(2, 4))
        for _ in range(steps):
            tr.slide(back / steps, rng.uniform(0.45, 0.75), bob_m=_step_bob(rng))
            tr.hold(rng.uniform(0.1, 0.3))
        tr.slide(0.0, rng.uniform(0.4, 0.8), dz_m=-rng.uniform(0.05, 0.10))
    elif ex is Exercise.BENCH:
        tr.slide(-tr.x, rng.uniform(0.6, 1.2))
        tr.slide(0.0, rng.uniform(0.3, 0.6), dz_m=-rng.uniform(0.04, 0.06))
    else:  # row, curls, other: bend down and put the bar on the floor
        _eccentric(tr, rng.uniform(0.15, 0.5), rng.uniform(1.2, 2.5), touch_frac=rng.uniform(0.2, 0.4))
    tr.hold(cfg.tail_s, sway=0.0, clank=True)


def _failed_attempt(tr: _Track, cfg: SimConfig, rom_m: float, mcv_m_s: float, bottom_m: float) -> FailedSpan:
    """A concentric that reaches part of the ROM, stalls, is held, then goes back down. Not a rep."""
    rng = tr.rng
    reach = cfg.failed_reach_frac * rom_m
    start = tr.i
    shape = asym_sine(_tau(float(np.clip(reach / (0.5 * mcv_m_s), 0.6, 4.0))), rng.uniform(0.3, 0.4))
    tr.move(reach, shape, onset_s=rng.uniform(0.04, 0.06))
    stall = tr.i
    tr.hold(cfg.failed_hold_s, sway=0.05)  # isometric: only a tremor
    # Squat and bench go onto the safety pins (a little lower, metal on metal) or back to the bottom.
    on_pins = cfg.exercise in (Exercise.SQUAT, Exercise.BENCH) and rng.random() < 0.6
    hits = on_pins or LIFTS[cfg.exercise].on_floor
    depth = tr.z - bottom_m + (rng.uniform(0.0, 0.04) if on_pins else 0.0)
    _eccentric(tr, depth, rng.uniform(0.6, 1.5), touch_frac=rng.uniform(0.2, 0.4) if hits else 0.0)
    tr.hold(0.3, sway=0.0, clank=hits)
    return FailedSpan(start, stall)


def build_motion(cfg: SimConfig, rng: np.random.Generator) -> Motion:
    """The whole set as noise-free kinematics. Per-rep variation comes from ``rng``."""
    ex, prof = cfg.exercise, LIFTS[cfg.exercise]
    top_first = cfg.start_from_top if cfg.start_from_top is not None else ex.starts_from_top
    n = cfg.n_good_reps
    roms = base_rom(cfg) * (1.0 + cfg.rom_sd_frac * np.clip(rng.standard_normal(n), -2.0, 2.0))
    mcvs = rep_velocities(cfg, rng)
    rest_pause_before = set(rng.permutation(np.arange(1, n))[: cfg.rest_pause_count].tolist())
    floor = prof.on_floor and not top_first
    tr = _Track(rng)
    _prelude(tr, cfg)
    anchor = tr.z  # the top for lifts that start there, the bottom (floor, hang) for the others
    reps: list[RepSpan] = []
    failed: list[FailedSpan] = []
    other_arm: list[RepSpan] = []

    def bottom_pause() -> None:
        pause = _u(rng, cfg.bottom_pause_s)
        if floor:  # a floor touch lasts at least as long as the clank
            tr.hold(max(pause, rng.uniform(0.05, 0.2)), sway=0.0, clank=True)
        elif pause > 0:
            tr.hold(pause, sway=0.05)

    def top_pause(before_rep: int) -> None:
        tr.hold(_u(rng, cfg.rest_pause_s if before_rep in rest_pause_before else cfg.top_pause_s))

    def other_arm_rep() -> None:
        """Alternating lifts: the other arm does the same rep as soon as this one is done, while this arm hangs
        still (body sway only)."""
        if not ex.alternating:
            return
        span = reps[-1]
        lag = span.window[1] - span.window[0]
        c0, c1 = span.concentric
        other_arm.append(
            RepSpan((span.window[0] + lag, span.window[1] + lag), (c0 + lag, c1 + lag), span.sticking_point)
        )
        tr.hold(lag * DT_S)

    for k in range(n):
        rom, mcv = float(roms[k]), float(mcvs[k])
        stick = (_u(rng, cfg.sticking_position_frac), _u(rng, cfg.sticking_velocity_frac))
        sticking = stick if k >= n - cfg.sticking_reps else None
        if top_first:
            if k > 0:
                top_pause(k)
            w0 = tr.i
            _eccentric(tr, tr.z - (anchor - rom), _u(rng, cfg.eccentric_s))
            bottom_pause()
            c0 = tr.i
            _concentric(tr, anchor - tr.z, mcv, sticking)
            reps.append(RepSpan((w0, tr.i), (c0, tr.i), sticking is not None))
            tr.windows.append(_Window(w0, tr.i, anchor - rom, rom, True))
            other_arm_rep()
            continue
        if k > 0:
            bottom_pause()
        c0 = tr.i
        _concentric(tr, rom, mcv, sticking)
        c1 = tr.i
        if k == n - 1 and cfg.bar_drop and floor and not cfg.failed_attempt:
            tr.hold(_u(rng, (0.3, 1.5)))
            _drop(tr, anchor)
            reps.append(RepSpan((c0, tr.i), (c0, c1), sticking is not None))
            tr.windows.append(_Window(c0, None, anchor, rom, False))
            break
        top_pause(k + 1)
        _eccentric(tr, tr.z - anchor, _u(rng, cfg.eccentric_s), touch_frac=rng.uniform(0.3, 0.6) if floor else 0)
        reps.append(RepSpan((c0, tr.i), (c0, c1), sticking is not None))
        tr.windows.append(_Window(c0, tr.i, anchor, rom, False))
        other_arm_rep()
    if cfg.failed_attempt:
        rom = float(np.mean(roms))
        if top_first:
            top_pause(n)
            w0 = tr.i
            _eccentric(tr, rom, _u(rng, cfg.eccentric_s))
            bottom_pause()
            failed.append(_failed_attempt(tr, cfg, rom, float(mcvs[-1]), anchor - rom))
            tr.windows.append(_Window(w0, None, anchor - rom, rom, True))
        else:
            bottom_pause()
            w0 = tr.i
            failed.append(_failed_attempt(tr, cfg, rom, float(mcvs[-1]), anchor))
            tr.windows.append(_Window(w0, tr.i, anchor, rom, False))
    _finale(tr, cfg, bool(failed))
    return _assemble(tr, cfg, reps, failed, top_first, other_arm)


def _path_shape(kind: str, frac: np.ndarray, top_first: bool) -> np.ndarray:
    """Horizontal offset over a rep as a function of the height fraction (0 bottom, 1 top); vanishes where the
    rep window starts and ends, so the path is continuous."""
    if kind == "j" and top_first:
        return np.asarray((1.0 - frac) ** 2)
    if kind == "arc" and not top_first:
        return np.asarray(np.sin(2.4 * frac))  # the bar swings round the elbow through ~140 degrees
    return np.asarray(4.0 * frac * (1.0 - frac))


def _ring(m: int, f_hz: float) -> np.ndarray:
    """A plate's ringing over ``m`` samples, as a displacement whose acceleration peaks at 1 m/s^2.

    A gamma envelope builds it up in a few ms and lets it die away; it starts and ends with zero displacement
    and velocity, so laid over the motion it carries no net velocity.
    """
    t = np.arange(m) * DT_S
    rise = t[-1] / 6.0
    env = (t / rise) ** 2 * np.exp(2.0 * (1.0 - t / rise))
    env *= np.where(t > 0.75 * t[-1], np.cos(0.5 * np.pi * (t - 0.75 * t[-1]) / (0.25 * t[-1])) ** 2, 1.0)
    d = env * np.sin(2 * np.pi * f_hz * t)
    peak = np.max(np.abs(np.diff(np.concatenate([[0.0], d, [0.0]]), 2))) / DT_S**2
    return np.asarray(d / peak)


def _assemble(
    tr: _Track, cfg: SimConfig, reps: list[RepSpan], failed: list[FailedSpan], top_first: bool, other_arm: list[RepSpan]
) -> Motion:
    rng = tr.rng
    z, x, roll = tr.arrays()
    n = len(z)
    y = np.zeros(n)
    kind = LIFTS[cfg.exercise].path_shape
    for w in tr.windows:
        end = n - 1 if w.end is None else w.end
        frac = (z[w.start : end + 1] - w.bottom_m) / w.rom_m
        x[w.start : end + 1] += cfg.path_m * rng.uniform(0.7, 1.0) * _path_shape(kind, frac, w.top_first)
        coupled = np.deg2rad(cfg.roll_coupling_deg) * rng.uniform(0.7, 1.0)
        roll[w.start : end + 1] += coupled * ((1.0 - frac) if w.top_first else frac)
    pos = np.stack([x, y, z], axis=1)
    # Body sway and tremor in holds, windowed so that position and velocity return to where they were.
    for start, end, scale in tr.holds:
        m = min(end, n - 1) - start + 1
        if m < 3 or cfg.sway_m == 0:
            continue
        tau = np.arange(m) / (m - 1)
        t = np.arange(m) * DT_S
        amp = cfg.sway_m * scale * min(1.0, (m * DT_S / 2.0) ** 2)  # short holds cannot sway far
        window = np.sin(np.pi * tau) ** 2
        for axis, gain in ((0, 1.0), (1, 0.3), (2, 0.5)):
            sway = np.sin(2 * np.pi * rng.uniform(0.2, 0.8) * t + rng.uniform(0, 6.3))
            tremor = 0.02 * np.sin(2 * np.pi * rng.uniform(6.0, 11.0) * t + rng.uniform(0, 6.3))
            pos[start : start + m, axis] += amp * gain * window * (sway + tremor)
    # Ringing of plates at impacts: 30-120 Hz, 20-120 ms, 1 g up to clank_max_g, mostly vertical.
    ring_roll = np.zeros(n)
    for start, longest in tr.clanks:
        if cfg.clank_max_g <= 0:
            break
        m = min(round(rng.uniform(0.02, 0.12) * GRID_HZ), longest, n - start)
        if m < 10:
            continue
        f_hz = rng.uniform(30.0, 120.0)
        shape = _ring(m, f_hz)
        peak_g = rng.uniform(1.0, max(cfg.clank_max_g, 1.0))
        direction = np.array([rng.normal(0, 0.3), rng.normal(0, 0.3), 1.0])
        pos[start : start + m] += np.outer(shape, direction / np.linalg.norm(direction)) * peak_g * G
        ring_roll[start : start + m] += shape * (2 * np.pi * f_hz) ** 2 * np.deg2rad(rng.uniform(0.05, 0.3))
    vel = np.gradient(pos, DT_S, axis=0)
    acc = np.empty_like(pos)
    acc[1:-1] = (pos[2:] - 2.0 * pos[1:-1] + pos[:-2]) / DT_S**2
    acc[0], acc[-1] = acc[1], acc[-2]
    roll = roll + ring_roll + _wander(n, np.deg2rad(cfg.roll_wander_deg), rng, 0.02, 0.25)
    tilt_x = _wander(n, np.deg2rad(cfg.tilt_deg), rng, 0.02, 0.3)
    yaw = _wander(n, np.deg2rad(cfg.tilt_deg), rng, 0.02, 0.3)
    rot, omega = _bar_rotation(yaw, tilt_x, roll)
    return Motion(np.arange(n) * DT_S, pos, vel, acc, rot, omega, reps, failed, top_first, other_arm)


def _bar_rotation(yaw: np.ndarray, tilt: np.ndarray, roll: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """R = Rz(yaw) Rx(tilt) Ry(roll), bar -> world, and the world angular velocity of that rotation."""
    cz, sz, cx, sx, cy, sy = np.cos(yaw), np.sin(yaw), np.cos(tilt), np.sin(tilt), np.cos(roll), np.sin(roll)
    rot = np.empty((len(yaw), 3, 3))
    rot[:, 0, 0] = cz * cy - sz * sx * sy
    rot[:, 0, 1] = -sz * cx
    rot[:, 0, 2] = cz * sy + sz * sx * cy
    rot[:, 1, 0] = sz * cy + cz * sx * sy
    rot[:, 1, 1] = cz * cx
    rot[:, 1, 2] = sz * sy - cz * sx * cy
    rot[:, 2, 0] = -cx * sy
    rot[:, 2, 1] = sx
    rot[:, 2, 2] = cx * cy
    d_yaw, d_tilt, d_roll = (np.gradient(a, DT_S) for a in (yaw, tilt, roll))
    # omega = yaw' z + tilt' Rz x + roll' Rz Rx y
    omega = np.stack(
        [d_tilt * cz - d_roll * sz * cx, d_tilt * sz + d_roll * cz * cx, d_yaw + d_roll * sx],
        axis=1,
    )
    return rot, omega


def quat_to_matrix(q_wxyz: tuple[float, float, float, float] | np.ndarray) -> np.ndarray:
    """Rotation matrix of a (normalised) quaternion w, x, y, z."""
    w, x, y, z = np.asarray(q_wxyz, dtype=np.float64) / np.linalg.norm(q_wxyz)
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
            [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
            [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
        ]
    )


def sensor_frame(motion: Motion, mount_quat_wxyz: tuple[float, float, float, float]) -> tuple[np.ndarray, np.ndarray]:
    """What an ideal sensor reads on the 1 kHz grid: specific force (g) and angular rate (deg/s), sensor frame.

    The sensor-to-world rotation is R(t) = R_bar(t) R_mount; f = a - g_vec reads +1 g up at rest.
    """
    rot = motion.bar_rot @ quat_to_matrix(mount_quat_wxyz)
    f_world = motion.acc_m_s2 + np.array([0.0, 0.0, G])
    f_s = np.einsum("nji,nj->ni", rot, f_world) / G
    w_s = np.einsum("nji,nj->ni", rot, motion.omega_world_rad_s)
    return f_s, np.rad2deg(w_s)
