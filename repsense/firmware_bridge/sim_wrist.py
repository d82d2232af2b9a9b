"""The wrist simulator: what a watch or strap-on IMU reads during accessory lifts, with the truth beside it.

A bar moves in a line; a wrist sits at the end of a limb that swings about a joint. ``simulate_wrist_set(config,
seed)`` builds that swing on a 1 kHz grid, turns it into what a sensor strapped to the wrist would report, and
measures the truth from the noise-free motion. ``random_wrist_config`` draws realistic sets; ``WristSimConfig()``
defaults are a clean set of curls. The same ``(config, seed)`` always gives the same recording, and the motion,
the sensor and the timing draw from separate streams.

The model
---------
- **One hinge, one progress channel.** Every motion is a segment (forearm or whole arm) turning about a horizontal
  hinge axis through a fixed pivot (elbow or shoulder): curl (forearm from near-hanging up through 100-140 deg),
  raise (straight arm from the side to near horizontal, 70-95 deg, in a plane between front and lateral),
  pushdown (forearm from ~90 deg down to straight and back; the concentric *lowers* the wrist) and press (the
  wrist translates straight up 0.35-0.5 m while the forearm leans in by less than 15 deg). A set is a progress
  channel ``q(t)`` built phase by phase (hold, concentric 0 -> ~1, pause, eccentric back to 0, pause), each phase a
  smooth bell-shaped velocity profile. ``q`` sets the hinge angle (and the press stroke and a curl's supination).
- **Pose.** Segment -> world rotation ``R = R_sway(psi) R_hinge(alpha) R_0 R_twist(chi)``: a slow sway of the
  whole body about a horizontal axis, the hinge, the segment's rest pose, and a twist about the segment's own axis.
  The wrist is ``pivot + L * (segment axis)`` (the press: ``pivot + stroke``). The pivot carries slow body sway
  (0.1-0.4 Hz, millimetres) and the set-up moves: a pick-up before the first rep and a put-down after the last,
  where the wrist rises or falls 0.4-0.6 m over 1-2 s while the segment turns 20-40 deg.
- **Kinematics.** Position is the one source of truth: velocity and acceleration are its differences on the grid.
  The angular velocity is composed from the angle rates, ``omega = psi' e + alpha' R_sway h + chi' (segment
  axis)``, so a test can hold it against the finite-difference rotation.
- **Sensor.** The strap turns the sensor about the forearm axis (any angle) and tilts it by a few degrees. Specific
  force ``(a + g z) / g`` and angular rate go into the sensor frame through the segment's rotation and the strap's.
  Then an anti-alias low-pass, sampling at ``rate_hz`` with a random phase, white noise, single-sample spikes (as
  consumer watches send), 16-bit quantisation.
- **Fatigue and tempo.** Each rep draws its concentric, eccentric and pauses from the config's ranges; the
  concentric then slows by ``fatigue_per_rep_frac`` per rep, compounding (velocity ``(1 - f)^k`` of the first).
- **Truth.** One ``RepTruth`` per concentric: its start and end (where ``q`` starts and stops moving), the wrist's
  vertical travel as ``rom_m`` (the rise; a pushdown's drop), ``mean_velocity_m_s = rom_m / duration`` and the peak
  vertical speed in that direction. Wrist sets have no failed attempts and no gaps.
- **Alternating curls** (``alternating``): after each rep the sensor's arm hangs still (body sway only) for as long
  as its rep took, while the other arm does the same rep. The truth holds both arms' reps, the sensor's arm first:
  the other arm's has the same range and velocities, at its own times.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

import numpy as np
from scipy.signal import butter, sosfiltfilt

from repsense.errors import ConfigError
from repsense.events import Exercise
from repsense.firmware_bridge.sim_kinematics import DT_S, GRID_HZ, asym_sine
from repsense.firmware_bridge.simulator import (
    RepTruth,
    SetTruth,
    SimulatedSet,
    config_fields,
    config_to_dict,
    per_rep_span,
    random_streams,
    vl20_stop_rep,
)
from repsense.samples import STANDARD_GRAVITY_M_S2 as G
from repsense.samples import SampleBlock

#: Output data rates of watches and wrist IMUs that hard sets draw from (Hz).
WRIST_RATES_HZ = (12.5, 25.0, 50.0, 52.0, 100.0)
_ACC_RANGE_G = 16.0
_GYRO_RANGE_DPS = 2000.0


class WristMotion(StrEnum):
    CURL = "curl"
    RAISE = "raise"
    PUSHDOWN = "pushdown"
    PRESS = "press"


@dataclass(frozen=True)
class MotionProfile:
    """Plausible ranges of one motion. Angles in degrees; the hinge angle is 0 with the segment hanging straight
    down (the press: with the forearm pointing straight up)."""

    exercise: Exercise
    segment_m: tuple[float, float]  # pivot (elbow, shoulder) to wrist
    arc_deg: tuple[float, float]  # the hinge's turn through a rep
    low_deg: tuple[float, float]  # the hinge angle at the arc's end nearer 0
    plane_deg: tuple[float, float]  # azimuth of the swing plane: 0 straight ahead, 90 out to the side
    twist_deg: tuple[float, float]  # turn about the segment's own axis through a rep (a curl's supination)
    stroke_m: tuple[float, float] | None  # the press: the wrist's straight rise; None: the wrist rides the arc
    concentric_from_low: bool  # the concentric starts at the arc's low end (curl, raise) or its high end
    wrist_rises: bool  # the concentric raises the wrist (all but the pushdown)


MOTIONS: dict[WristMotion, MotionProfile] = {
    WristMotion.CURL: MotionProfile(
        Exercise.CURL, segment_m=(0.25, 0.32), arc_deg=(100, 140), low_deg=(0, 10), plane_deg=(-10, 30),
        twist_deg=(0, 40), stroke_m=None, concentric_from_low=True, wrist_rises=True,
    ),
    WristMotion.RAISE: MotionProfile(
        Exercise.OTHER, segment_m=(0.55, 0.65), arc_deg=(70, 95), low_deg=(5, 15), plane_deg=(0, 90),
        twist_deg=(0, 10), stroke_m=None, concentric_from_low=True, wrist_rises=True,
    ),
    WristMotion.PUSHDOWN: MotionProfile(
        Exercise.OTHER, segment_m=(0.25, 0.32), arc_deg=(70, 90), low_deg=(0, 10), plane_deg=(-10, 10),
        twist_deg=(0, 20), stroke_m=None, concentric_from_low=False, wrist_rises=False,
    ),
    WristMotion.PRESS: MotionProfile(
        Exercise.OTHER, segment_m=(0.25, 0.32), arc_deg=(5, 14), low_deg=(0, 5), plane_deg=(80, 100),
        twist_deg=(0, 0), stroke_m=(0.35, 0.5), concentric_from_low=False, wrist_rises=True,
    ),
}  # fmt: skip


@dataclass(frozen=True)
class WristSimConfig:
    """Everything that defines a simulated wrist set. Defaults: a clean set of eight curls at 50 Hz.

    Geometry fields left at None take the middle of the motion's range (``MOTIONS``). Ranges given as
    ``(low, high)`` are drawn per rep (or per spike) from the seed.
    """

    motion: WristMotion = WristMotion.CURL
    n_reps: int = 8
    rate_hz: float = 50.0
    has_gyro: bool = True
    # --- geometry
    segment_m: float | None = None  # pivot to wrist (unused by the press, whose wrist follows its stroke)
    arc_deg: float | None = None  # the hinge's turn through a rep (the press: the forearm's lean)
    low_deg: float | None = None  # the hinge angle at the arc's end nearer 0
    plane_deg: float | None = None  # azimuth of the swing plane
    twist_deg: float = 0.0  # turn about the forearm's axis through the concentric
    stroke_m: float | None = None  # the press only
    rom_sd_frac: float = 0.0  # rep-to-rep spread of the arc (and stroke), sd, clipped at 2 sd
    # --- tempo
    concentric_s: tuple[float, float] = (1.2, 1.2)  # the first rep's; later ones slow down
    eccentric_s: tuple[float, float] = (1.6, 1.6)
    concentric_pause_s: tuple[float, float] = (0.3, 0.3)  # held where the concentric ends
    eccentric_pause_s: tuple[float, float] = (0.3, 0.3)  # held where the eccentric ends
    fatigue_per_rep_frac: float = 0.03  # concentric velocity lost per rep, compounding
    alternating: bool = False  # curls only: the other arm curls after each rep (n_reps is the sensor's arm's)
    # --- around the reps
    lead_in_s: float = 3.0
    tail_s: float = 3.0
    setup: bool = False  # a pick-up move before the first rep and a put-down after the last
    sway_m: float = 0.002  # body sway of the pivot (peak)
    sway_deg: float = 0.3  # body sway of the segment's orientation (peak)
    # --- the strap
    strap_roll_deg: float = 0.0  # turn of the sensor about the forearm axis
    strap_tilt_deg: tuple[float, float] = (0.0, 0.0)  # tilt about the two axes across the forearm
    # --- the sensor
    acc_noise_g: float = 0.003
    gyro_noise_dps: float = 0.1
    spike_count: int = 0  # single-sample accelerometer glitches
    spike_g: tuple[float, float] = (0.5, 1.5)
    time_origin_s: float = 0.0

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "motion", WristMotion(self.motion))
        except ValueError as exc:
            raise ConfigError(f"unknown wrist motion {self.motion!r}: one of {', '.join(WristMotion)}") from exc
        if self.n_reps < 1 or not 0 < self.rate_hz <= GRID_HZ:
            raise ConfigError(f"a simulated wrist set needs n_reps >= 1 and 0 < rate_hz <= {GRID_HZ:g} Hz")
        if self.spike_count < 0 or not 0 <= self.fatigue_per_rep_frac < 0.5:
            raise ConfigError("spike_count must be >= 0 and fatigue_per_rep_frac in [0, 0.5)")
        if self.alternating and self.motion is not WristMotion.CURL:
            raise ConfigError(f"only curls alternate, not the {self.motion}")

    @property
    def profile(self) -> MotionProfile:
        return MOTIONS[self.motion]

    @property
    def exercise(self) -> Exercise:
        """The lift the set is counted as."""
        return Exercise.ALT_CURL if self.alternating else self.profile.exercise

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON values."""
        return config_to_dict(self)

    @staticmethod
    def from_dict(data: dict[str, Any]) -> WristSimConfig:
        return WristSimConfig(**config_fields(WristSimConfig, data))


def _mid(value: float | None, bounds: tuple[float, float]) -> float:
    return float(np.mean(bounds)) if value is None else float(value)


@dataclass(frozen=True)
class WristKinematics:
    """Noise-free motion of the wrist and the sensor's orientation, at 1 kHz from t = 0."""

    t_s: np.ndarray  # [n]
    pos_m: np.ndarray  # [n, 3] world frame: x ahead, y to the left, z up
    vel_m_s: np.ndarray  # [n, 3]
    acc_m_s2: np.ndarray  # [n, 3]
    sensor_rot: np.ndarray  # [n, 3, 3] sensor frame -> world frame
    omega_world_rad_s: np.ndarray  # [n, 3] the segment's (and so the sensor's) angular velocity
    concentrics: list[tuple[int, int]]  # grid indices where each rep's concentric starts and ends
    other_arm: list[tuple[int, int]] = field(default_factory=list)  # the same, of the other arm's (alternating)


# --- rotations ------------------------------------------------------------------------------------------------


def _axis_angle(axis: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """Rotations about a fixed unit ``axis`` by each of ``angle`` (rad): [n, 3, 3] (Rodrigues)."""
    k = np.array([[0.0, -axis[2], axis[1]], [axis[2], 0.0, -axis[0]], [-axis[1], axis[0], 0.0]])
    angle = np.atleast_1d(np.asarray(angle, dtype=np.float64))
    s, c = np.sin(angle)[:, None, None], np.cos(angle)[:, None, None]
    return np.asarray(np.eye(3) + s * k + (1.0 - c) * (k @ k))


def strap_rotation(config: WristSimConfig) -> np.ndarray:
    """Sensor frame -> segment frame: a turn about the forearm axis (segment x), then a small tilt across it."""
    roll = _axis_angle(np.array([1.0, 0.0, 0.0]), np.deg2rad([config.strap_roll_deg]))[0]
    tilt_y = _axis_angle(np.array([0.0, 1.0, 0.0]), np.deg2rad([config.strap_tilt_deg[0]]))[0]
    tilt_z = _axis_angle(np.array([0.0, 0.0, 1.0]), np.deg2rad([config.strap_tilt_deg[1]]))[0]
    return np.asarray(roll @ tilt_y @ tilt_z)


# --- the progress channel, phase by phase -------------------------------------------------------------------


def _bell_progress(duration_s: float, peak_frac: float) -> np.ndarray:
    """0 -> 1 along a bell-shaped velocity (zero velocity and acceleration at both ends); the start left out."""
    n = max(2, round(duration_s * GRID_HZ))
    vel = asym_sine(np.arange(n + 1) / n, peak_frac) ** 2
    cum = np.cumsum(0.5 * (vel[1:] + vel[:-1]))
    return np.asarray(cum / cum[-1])


def _minimum_jerk(duration_s: float) -> np.ndarray:
    n = max(2, round(duration_s * GRID_HZ))
    tau = np.arange(1, n + 1) / n
    return np.asarray(tau**3 * (10.0 - 15.0 * tau + 6.0 * tau**2))


class _Timeline:
    """Appends phases of the rep progress ``q``, the set-up turn ``beta`` (rad) and the pivot's set-up offset (m)."""

    def __init__(self, beta_rad: float, offset_m: np.ndarray) -> None:
        self.q, self.beta, self.offset = [np.zeros(1)], [np.full(1, beta_rad)], [offset_m[None, :]]
        self.n = 1

    @property
    def i(self) -> int:
        """Index of the last sample so far (where the next phase starts)."""
        return self.n - 1

    def _append(self, q: np.ndarray, beta: np.ndarray | None = None, offset: np.ndarray | None = None) -> None:
        m = len(q)
        self.q.append(q)
        self.beta.append(np.full(m, self.beta[-1][-1]) if beta is None else beta)
        self.offset.append(np.repeat(self.offset[-1][-1:], m, axis=0) if offset is None else offset)
        self.n += m

    def hold(self, duration_s: float) -> None:
        self._append(np.full(max(1, round(duration_s * GRID_HZ)), self.q[-1][-1]))

    def move(self, q_to: float, duration_s: float, peak_frac: float) -> None:
        q0 = self.q[-1][-1]
        self._append(q0 + (q_to - q0) * _bell_progress(duration_s, peak_frac))

    def reposition(self, beta_to: float, offset_to: np.ndarray, duration_s: float) -> None:
        """A set-up move: the pivot travels and the segment turns, along minimum-jerk paths; ``q`` stays."""
        s = _minimum_jerk(duration_s)
        b0, o0 = self.beta[-1][-1], self.offset[-1][-1]
        self._append(np.full(len(s), self.q[-1][-1]), b0 + (beta_to - b0) * s, o0 + np.outer(s, offset_to - o0))

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return np.concatenate(self.q), np.concatenate(self.beta), np.concatenate(self.offset)


def _u(rng: np.random.Generator, bounds: tuple[float, float]) -> float:
    return float(rng.uniform(bounds[0], bounds[1])) if bounds[1] > bounds[0] else float(bounds[0])


def _timeline(
    cfg: WristSimConfig, rng: np.random.Generator
) -> tuple[_Timeline, list[tuple[int, int]], list[tuple[int, int]]]:
    """The set's phases. The set-up moves carry the wrist 0.4-0.6 m towards its rest (down for a dumbbell, up to
    a cable's handle) while the segment turns 20-40 deg."""
    away = -1.0 if cfg.profile.wrist_rises else 1.0  # where the wrist is before the pick-up, vertically

    def rest_pose() -> tuple[float, np.ndarray]:
        drift = rng.uniform(-0.15, 0.15, 2)
        return np.deg2rad(rng.uniform(20.0, 40.0)), np.array([drift[0], drift[1], away * rng.uniform(0.4, 0.6)])

    beta0, offset0 = rest_pose() if cfg.setup else (0.0, np.zeros(3))
    tl = _Timeline(beta0, offset0)
    tl.hold(cfg.lead_in_s)
    if cfg.setup:
        tl.reposition(0.0, np.zeros(3), rng.uniform(1.0, 2.0))
        tl.hold(rng.uniform(0.5, 1.5))
    spans, other_arm = [], []
    for k in range(cfg.n_reps):
        reach = 1.0 + cfg.rom_sd_frac * float(np.clip(rng.standard_normal(), -2.0, 2.0))
        concentric = _u(rng, cfg.concentric_s) / (1.0 - cfg.fatigue_per_rep_frac) ** k
        start = tl.i
        tl.move(reach, concentric, rng.uniform(0.35, 0.55))
        spans.append((start, tl.i))
        tl.hold(_u(rng, cfg.concentric_pause_s))
        tl.move(0.0, _u(rng, cfg.eccentric_s), rng.uniform(0.45, 0.65))
        tl.hold(_u(rng, cfg.eccentric_pause_s))
        if cfg.alternating:
            # The other arm does the same rep now; this one hangs still.
            lag = tl.i - start
            other_arm.append((spans[-1][0] + lag, spans[-1][1] + lag))
            tl.hold(lag * DT_S)
    if cfg.setup:
        tl.hold(rng.uniform(0.3, 1.0))
        beta1, offset1 = rest_pose()
        tl.reposition(beta1, offset1, rng.uniform(1.0, 2.0))
    tl.hold(cfg.tail_s)
    return tl, spans, other_arm


def _wander(n: int, amp: float, rng: np.random.Generator) -> np.ndarray:
    """Slow body sway peaking at +-``amp``: three incommensurate sinusoids of 0.1-0.4 Hz."""
    t = np.arange(n) * DT_S
    sig = np.zeros(n)
    for _ in range(3):
        sig += rng.uniform(0.3, 1.0) * np.sin(2 * np.pi * rng.uniform(0.1, 0.4) * t + rng.uniform(0, 6.3))
    return np.asarray(amp * sig / max(float(np.max(np.abs(sig))), 1e-12))


def _d_dt(x: np.ndarray) -> np.ndarray:
    return np.asarray(np.gradient(x, DT_S, axis=0))


def build_wrist_kinematics(cfg: WristSimConfig, rng: np.random.Generator) -> WristKinematics:
    """The whole set as noise-free kinematics. Per-rep and per-set variation comes from ``rng``."""
    prof = cfg.profile
    tl, spans, other_arm = _timeline(cfg, rng)
    q, beta, offset = tl.arrays()
    n = len(q)
    arc = np.deg2rad(_mid(cfg.arc_deg, prof.arc_deg))
    low = np.deg2rad(_mid(cfg.low_deg, prof.low_deg))
    azimuth = np.deg2rad(_mid(cfg.plane_deg, prof.plane_deg))
    ahead = np.array([np.cos(azimuth), np.sin(azimuth), 0.0])
    up = np.array([0.0, 0.0, 1.0])
    hinge = np.cross(ahead, up)  # turning -z about it by +alpha swings the segment towards ``ahead``
    axis0 = up if prof.stroke_m is not None else -up  # the segment at alpha = 0: forearm up (press) or hanging
    rest = np.column_stack([axis0, hinge, np.cross(axis0, hinge)])  # segment frame -> world at alpha = 0

    alpha = low + arc * (q if prof.concentric_from_low else 1.0 - q) + beta
    chi = np.deg2rad(cfg.twist_deg) * q
    psi = _wander(n, np.deg2rad(cfg.sway_deg), rng)
    lean = rng.standard_normal(2)
    sway_axis = np.array([lean[0], lean[1], 0.0]) / max(float(np.linalg.norm(lean)), 1e-12)
    r_sway = _axis_angle(sway_axis, psi)
    rot = r_sway @ _axis_angle(hinge, alpha) @ rest @ _axis_angle(np.array([1.0, 0.0, 0.0]), chi)
    # omega = psi' e + alpha' R_sway h + chi' (segment axis): each turn about an axis fixed where it acts.
    omega = (
        _d_dt(psi)[:, None] * sway_axis + _d_dt(alpha)[:, None] * (r_sway @ hinge) + _d_dt(chi)[:, None] * rot[:, :, 0]
    )

    pivot = offset + np.stack([_wander(n, cfg.sway_m * gain, rng) for gain in (1.0, 0.5, 0.3)], axis=1)
    if prof.stroke_m is None:
        pos = pivot + _mid(cfg.segment_m, prof.segment_m) * rot[:, :, 0]
    else:
        inwards = rng.uniform(0.02, 0.08)  # dumbbells drift towards the midline on the way up
        pos = pivot + np.outer(q, _mid(cfg.stroke_m, prof.stroke_m) * up - inwards * ahead)
    acc = np.empty_like(pos)
    acc[1:-1] = (pos[2:] - 2.0 * pos[1:-1] + pos[:-2]) / DT_S**2
    acc[0], acc[-1] = acc[1], acc[-2]
    sensor_rot = rot @ strap_rotation(cfg)
    return WristKinematics(np.arange(n) * DT_S, pos, _d_dt(pos), acc, sensor_rot, omega, spans, other_arm)


def ideal_readings(kin: WristKinematics) -> tuple[np.ndarray, np.ndarray]:
    """What an ideal sensor reads on the 1 kHz grid: specific force (g) and angular rate (deg/s), sensor frame."""
    f_world = kin.acc_m_s2 + np.array([0.0, 0.0, G])
    f_s = np.einsum("nji,nj->ni", kin.sensor_rot, f_world) / G
    w_s = np.einsum("nji,nj->ni", kin.sensor_rot, kin.omega_world_rad_s)
    return f_s, np.rad2deg(w_s)


# --- the sensor --------------------------------------------------------------------------------------------------


def _sampled(ideal: np.ndarray, t_s: np.ndarray, rate_hz: float) -> np.ndarray:
    """Anti-alias low-pass (zero phase, so the truth's times hold) and sampling at ``t_s``."""
    cutoff = min(0.4 * rate_hz, 0.45 * GRID_HZ)
    x = sosfiltfilt(butter(4, cutoff, fs=GRID_HZ, output="sos"), ideal, axis=0)
    grid = np.arange(len(x)) * DT_S
    return np.stack([np.interp(t_s, grid, x[:, i]) for i in range(3)], axis=1)


def _quantised(x: np.ndarray, full_scale: float) -> np.ndarray:
    lsb = full_scale / 32768.0
    return np.asarray(np.clip(np.round(x / lsb), -32768, 32767) * lsb)


def simulate_wrist_motion(config: WristSimConfig, seed: int) -> WristKinematics:
    """The noise-free 1 kHz motion behind ``simulate_wrist_set(config, seed)`` (t = 0 at ``time_origin_s``)."""
    return build_wrist_kinematics(config, random_streams(seed)[0])


def simulate_wrist_set(config: WristSimConfig, seed: int) -> SimulatedSet:
    """Simulate one wrist set. Deterministic in ``(config, seed)``."""
    motion_rng, sensor_rng, timing_rng = random_streams(seed)
    kin = build_wrist_kinematics(config, motion_rng)
    f_g, w_dps = ideal_readings(kin)
    dt = 1.0 / config.rate_hz
    t = timing_rng.uniform(0.0, dt) + np.arange(int(kin.t_s[-1] * config.rate_hz)) * dt
    acc = _sampled(f_g, t, config.rate_hz) + config.acc_noise_g * sensor_rng.standard_normal((len(t), 3))
    for i in sensor_rng.choice(len(t), size=min(config.spike_count, len(t)), replace=False):
        direction = sensor_rng.standard_normal(3)
        acc[i] += _u(sensor_rng, config.spike_g) * direction / np.linalg.norm(direction)
    gyro = None
    if config.has_gyro:
        gyro = _sampled(w_dps, t, config.rate_hz) + config.gyro_noise_dps * sensor_rng.standard_normal((len(t), 3))
        gyro = _quantised(np.clip(gyro, -_GYRO_RANGE_DPS, _GYRO_RANGE_DPS), _GYRO_RANGE_DPS)
    t_rec = t + config.time_origin_s
    samples = SampleBlock(t_rec, _quantised(np.clip(acc, -_ACC_RANGE_G, _ACC_RANGE_G), _ACC_RANGE_G), gyro)
    exercise = config.exercise
    metadata = {
        "exercise": str(exercise),
        "placement": "wrist",
        "sample_rate_hz": f"{config.rate_hz:g}",
        "sensor": "repsense-simulator",
        "synthetic": "true",
        "seed": str(seed),
        "motion": str(config.motion),
    }
    return SimulatedSet(samples, metadata, measure_wrist_truth(config, kin, seed))


def measure_wrist_truth(config: WristSimConfig, kin: WristKinematics, seed: int | None = None) -> SetTruth:
    """Reps measured on the true motion: the wrist's vertical travel in the concentric's direction."""
    sign = 1.0 if config.profile.wrist_rises else -1.0
    z, vz, t, origin = kin.pos_m[:, 2], kin.vel_m_s[:, 2], kin.t_s, config.time_origin_s
    reps: list[RepTruth] = []
    for k, (c0, c1) in enumerate(kin.concentrics):
        rom = sign * float(z[c1] - z[c0])
        seen = RepTruth(
            index=len(reps) + 1,
            t_start_s=float(origin + t[c0]),
            t_end_s=float(origin + t[c1]),
            mean_velocity_m_s=rom / float(t[c1] - t[c0]),
            peak_velocity_m_s=float(np.max(sign * vz[c0 : c1 + 1])),
            rom_m=rom,
            visible=True,
        )
        reps.append(seen)
        if k < len(kin.other_arm):
            # The other arm's rep is this one again, later: the same range and velocities, its own times.
            o0, o1 = kin.other_arm[k]
            reps.append(
                replace(seen, index=len(reps) + 1, t_start_s=float(origin + t[o0]), t_end_s=float(origin + t[o1]))
            )
    return SetTruth(str(config.exercise), reps, [], [], vl20_stop_rep(reps), config.to_dict(), seed)


# --- drawing configurations --------------------------------------------------------------------------------------


def random_wrist_config(
    rng: np.random.Generator,
    motion: WristMotion | str | None = None,
    *,
    rate_hz: float | None = None,
    has_gyro: bool | None = None,
    hard: bool = True,
    alternating: bool = False,
) -> WristSimConfig:
    """Draw a realistic wrist set. ``hard=False`` gives a clean one: 50 Hz, small noise, no spikes, no set-up
    moves, an untilted strap (at any roll) and steady tempo; the geometry is drawn either way. ``alternating``:
    alternating curls, at their own brisker tempo (drawn after everything else, so the rest is as without it)."""
    config = _random_wrist_config(rng, motion, rate_hz=rate_hz, has_gyro=has_gyro, hard=hard)
    if not alternating:
        return config
    # Each arm waits while the other curls, so lifters keep it brisk: muvr's five real sets of alternating curls
    # took 2.2-2.7 s per rep (both arms' counted), lead-in and tail included.
    return replace(
        config,
        alternating=True,
        concentric_s=per_rep_span(rng, 0.7, 1.1, (0.0, 0.3)),
        eccentric_s=per_rep_span(rng, 0.9, 1.4, (0.0, 0.3)),
        concentric_pause_s=per_rep_span(rng, 0.0, 0.3, (0.0, 0.2)),
        eccentric_pause_s=per_rep_span(rng, 0.0, 0.3, (0.0, 0.2)),
    )


def _random_wrist_config(
    rng: np.random.Generator,
    motion: WristMotion | str | None,
    *,
    rate_hz: float | None,
    has_gyro: bool | None,
    hard: bool,
) -> WristSimConfig:
    kind = WristMotion(motion) if motion is not None else WristMotion(rng.choice(list(WristMotion)))
    prof = MOTIONS[kind]
    geometry: dict[str, Any] = {
        "motion": kind,
        "segment_m": round(_u(rng, prof.segment_m), 3),
        "arc_deg": round(_u(rng, prof.arc_deg), 1),
        "low_deg": round(_u(rng, prof.low_deg), 1),
        "plane_deg": round(_u(rng, prof.plane_deg), 1),
        "twist_deg": round(_u(rng, prof.twist_deg), 1),
        "stroke_m": round(_u(rng, prof.stroke_m), 3) if prof.stroke_m is not None else None,
        "strap_roll_deg": round(float(rng.uniform(0.0, 360.0)), 1),
    }
    if not hard:
        return WristSimConfig(
            n_reps=int(rng.integers(4, 11)),
            rate_hz=50.0 if rate_hz is None else rate_hz,
            has_gyro=True if has_gyro is None else has_gyro,
            concentric_s=per_rep_span(rng, 0.9, 1.5, (0.0, 0.1)),
            eccentric_s=per_rep_span(rng, 1.2, 2.0, (0.0, 0.1)),
            fatigue_per_rep_frac=round(float(rng.uniform(0.02, 0.04)), 4),
            **geometry,
        )
    n = int(rng.integers(5, 16))
    # Near failure a set has lost about half its velocity, however many reps it took.
    fatigue = min(float(rng.uniform(0.02, 0.06)), 1.0 - 0.45 ** (1.0 / (n - 1)))
    return WristSimConfig(
        n_reps=n,
        rate_hz=float(rng.choice(WRIST_RATES_HZ)) if rate_hz is None else rate_hz,
        has_gyro=bool(rng.random() < 0.5) if has_gyro is None else has_gyro,
        rom_sd_frac=round(float(rng.uniform(0.01, 0.04)), 4),
        concentric_s=per_rep_span(rng, 0.8, 1.8, (0.1, 0.4)),
        eccentric_s=per_rep_span(rng, 1.0, 2.2, (0.1, 0.5)),
        concentric_pause_s=per_rep_span(rng, 0.0, 0.8, (0.1, 0.4)),
        eccentric_pause_s=per_rep_span(rng, 0.0, 0.8, (0.1, 0.4)),
        fatigue_per_rep_frac=round(fatigue, 4),
        lead_in_s=round(float(rng.uniform(2.0, 5.0)), 3),
        tail_s=round(float(rng.uniform(2.0, 5.0)), 3),
        setup=bool(rng.random() < 0.5),
        sway_m=round(float(rng.uniform(0.003, 0.01)), 4),
        sway_deg=round(float(rng.uniform(0.5, 2.0)), 3),
        strap_tilt_deg=(round(float(rng.uniform(-5.0, 5.0)), 2), round(float(rng.uniform(-5.0, 5.0)), 2)),
        acc_noise_g=round(float(rng.uniform(0.005, 0.02)), 5),
        gyro_noise_dps=round(float(rng.uniform(0.1, 0.5)), 4),
        spike_count=int(rng.integers(0, 4)),
        time_origin_s=round(float(rng.uniform(0.0, 100_000.0)), 3),
        **geometry,
    )
