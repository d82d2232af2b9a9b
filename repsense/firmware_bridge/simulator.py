"""The set simulator: honest, hard synthetic recordings of a barbell IMU, with the truth beside them.

``simulate_set(config, seed)`` builds the bar's true motion on a 1 kHz grid (``sim_kinematics``), turns it into
what a real sensor clipped on the bar would report (mounting, biases, scale and cross-axis errors, noise, range
and 16-bit quantisation, an anti-alias filter, jittered timestamps, dropped samples, BLE-like bursts and long
gaps) and measures the truth from the noise-free motion. ``random_config`` draws realistic nuisances;
``SimConfig()`` defaults are a clean set. The same ``(config, seed)`` always gives the same recording, and the
motion, the sensor and the timing draw from separate streams, so changing a sensor field leaves the motion alone.

Every field of ``SimConfig`` is a nuisance or a property of the set, with its unit in its name. Ranges given as
``(low, high)`` are drawn per rep (or per event) from the seed.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

import numpy as np
from scipy.signal import butter, sosfiltfilt

from repsense.errors import ConfigError
from repsense.events import Exercise
from repsense.firmware_bridge.recording import RecordingWriter
from repsense.firmware_bridge.sim_kinematics import GRID_HZ, LIFTS, Motion, RepSpan, build_motion, sensor_frame
from repsense.samples import SampleBlock

#: Rates the simulator is tested at (Hz).
SUPPORTED_RATES_HZ = (12.5, 25.0, 50.0, 100.0, 200.0, 400.0, 1000.0)
#: Output data rates of common IMUs between 50 and 200 Hz, which hard sets draw from.
_HARD_RATES_HZ = (50.0, 52.0, 60.0, 100.0, 104.0, 119.0, 125.0, 200.0)
#: A data gap longer than this hides what happened in it (s).
GAP_S = 1.0
#: The lifts ``random_config`` draws from when it is given none: barbell sets. Alternating dumbbell curls are
#: simulated when asked for, and left out here so that the corpus behind the README's figures stays as it was.
CORPUS_LIFTS = tuple(e.value for e in Exercise if not e.alternating)


@dataclass(frozen=True)
class SimConfig:
    """Everything that defines a simulated set. Defaults: a clean, tidy set of touch-and-go reps."""

    exercise: Exercise
    n_good_reps: int  # alternating lifts: the sensor's arm's (the truth holds the other arm's too)
    rate_hz: float = 100.0
    has_gyro: bool = True
    load_kg: float | None = None  # None: the middle of the lift's usual range
    start_from_top: bool | None = None  # None: as Exercise.starts_from_top says
    # --- the reps
    rom_m: float | None = None  # concentric range of motion; None: the middle of the lift's range
    rom_sd_frac: float = 0.0  # rep-to-rep ROM spread (sd, clipped at 2 sd)
    first_mcv_m_s: float | None = None  # None: the middle of the lift's range
    fatigue_per_rep_frac: float = 0.03  # MCV lost per rep, as a fraction of the first rep's
    fatigue_growth_frac: float = 0.0  # each rep's loss is this much larger than the previous one's
    mcv_noise_frac: float = 0.0  # rep-to-rep MCV noise (sd, clipped at 2 sd)
    eccentric_s: tuple[float, float] = (1.5, 1.5)
    bottom_pause_s: tuple[float, float] = (0.0, 0.0)  # 0: touch-and-go (the floor still holds a short touch)
    top_pause_s: tuple[float, float] = (1.0, 1.0)
    rest_pause_count: int = 0  # long holds at the top between two reps
    rest_pause_s: tuple[float, float] = (2.0, 6.0)
    sticking_reps: int = 0  # the last this many good reps grind through a sticking point
    sticking_position_frac: tuple[float, float] = (0.3, 0.6)  # where, as a fraction of the ROM
    sticking_velocity_frac: tuple[float, float] = (0.1, 0.4)  # the dip, as a fraction of the local velocity
    failed_attempt: bool = False  # a final concentric that stalls and goes back down
    failed_reach_frac: float = 0.5  # how far it gets, as a fraction of the ROM
    failed_hold_s: float = 0.8  # how long it is held where it stalls
    # --- around the reps
    walkout: bool = False  # squat/ohp walk-out and re-rack, bench lift-off and re-rack, deadlift roll-in,
    #                        row/curl/other put-down
    bar_drop: bool = False  # deadlift: drop the bar from the last lockout
    lead_in_s: float = 2.0  # still before anything moves
    tail_s: float = 2.0  # still after everything stopped
    path_m: float = 0.0  # horizontal bar path per rep (bench J-curve, drift, curl arc)
    sway_m: float = 0.0  # body sway while holding the bar (peak, mostly horizontal)
    clank_max_g: float = 0.0  # ringing of plates at impacts peaks at 1 g .. this; 0: no ringing
    # --- orientation
    mount_quat_wxyz: tuple[float, float, float, float] = (1.0, 0.0, 0.0, 0.0)  # sensor -> bar
    roll_wander_deg: float = 0.0  # slow roll of the bar about its axis
    roll_coupling_deg: float = 0.0  # roll that follows the bar's height through each rep
    tilt_deg: float = 0.0  # slow tilt about the other two axes
    # --- accelerometer
    acc_bias_g: tuple[float, float, float] = (0.0, 0.0, 0.0)
    acc_scale_error_frac: tuple[float, float, float] = (0.0, 0.0, 0.0)
    acc_cross_axis_frac: float = 0.0  # sd of the off-diagonal sensitivity
    acc_noise_g: float = 0.0  # white noise per sample (sd)
    acc_range_g: float = 16.0
    # --- gyroscope
    gyro_bias_dps: tuple[float, float, float] = (0.0, 0.0, 0.0)
    gyro_noise_dps: float = 0.0
    gyro_range_dps: float = 2000.0
    # --- sampling and timing
    anti_alias_frac: float = 0.4  # low-pass cut-off as a fraction of the rate
    jitter_frac: float = 0.0  # each sample interval varies by up to this fraction (uniform)
    drop_frac: float = 0.0  # samples lost independently
    burst_count: int = 0  # BLE-like runs of lost samples
    burst_s: tuple[float, float] = (0.05, 0.6)
    long_gap_s: float = 0.0  # one gap this long during the reps; 0: none
    time_origin_s: float = 0.0  # the clock reads this at the start of the set

    def __post_init__(self) -> None:
        object.__setattr__(self, "exercise", Exercise(self.exercise))
        if self.n_good_reps < 1 or not 0 < self.rate_hz <= GRID_HZ:
            raise ConfigError(f"a simulated set needs n_good_reps >= 1 and 0 < rate_hz <= {GRID_HZ:g} Hz")
        if not 0 <= self.jitter_frac < 0.5 or not 0 <= self.drop_frac < 0.5:
            raise ConfigError("jitter_frac and drop_frac must be in [0, 0.5)")

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON values."""
        return config_to_dict(self)

    @staticmethod
    def from_dict(data: dict[str, Any]) -> SimConfig:
        return SimConfig(**config_fields(SimConfig, data))


def config_to_dict(config: Any) -> dict[str, Any]:
    """A simulator configuration's fields as plain JSON values: tuples become lists, enums their values."""
    return {
        k: list(v) if isinstance(v, tuple) else str(v) if isinstance(v, Enum) else v
        for k, v in dataclasses.asdict(config).items()
    }


def config_fields(cls: type, data: dict[str, Any]) -> dict[str, Any]:
    """The fields of ``cls`` found in ``data`` (from ``config_to_dict``), with lists turned back into tuples."""
    names = {f.name for f in dataclasses.fields(cls)}
    return {k: (tuple(v) if isinstance(v, list) else v) for k, v in data.items() if k in names}


@dataclass(frozen=True)
class RepTruth:
    """One completed rep, measured on the true 1 kHz motion. Times on the recording's clock.

    ``t_start_s`` is the lowest point, where the velocity turns upward; ``t_end_s`` is lockout, where it returns
    to zero. ``visible`` is False when a data gap longer than 1 s overlaps the rep's eccentric or concentric.
    """

    index: int  # 1-based
    t_start_s: float
    t_end_s: float
    mean_velocity_m_s: float
    peak_velocity_m_s: float
    rom_m: float
    visible: bool
    sticking_point: bool = False


@dataclass(frozen=True)
class FailedTruth:
    """A concentric that stalled at ``rom_m`` above where it started; not a rep."""

    t_start_s: float
    t_stall_s: float
    rom_m: float


@dataclass(frozen=True)
class SetTruth:
    """What really happened in a simulated set."""

    exercise: str
    reps: list[RepTruth]
    failed: list[FailedTruth]
    gaps: list[tuple[float, float]]  # (last sample before, first sample after), for every gap > 1 s
    vl20_stop_rep: int | None  # first rep k with 1 - mcv_k / max(mcv_1..k) >= 0.20 (visible reps only)
    config: dict[str, Any]
    seed: int | None = None

    def to_json(self) -> str:
        data = dataclasses.asdict(self)
        data["gaps"] = [list(g) for g in self.gaps]
        return json.dumps(data, indent=1)

    @staticmethod
    def from_json(text: str) -> SetTruth:
        data = json.loads(text)
        return SetTruth(
            exercise=data["exercise"],
            reps=[RepTruth(**r) for r in data["reps"]],
            failed=[FailedTruth(**f) for f in data["failed"]],
            gaps=[(float(a), float(b)) for a, b in data["gaps"]],
            vl20_stop_rep=data["vl20_stop_rep"],
            config=data["config"],
            seed=data.get("seed"),
        )


@dataclass(frozen=True)
class SimulatedSet:
    samples: SampleBlock
    metadata: dict[str, str]
    truth: SetTruth


def vl20_stop_rep(reps: list[RepTruth], threshold: float = 0.20) -> int | None:
    """The first visible rep whose MCV is ``threshold`` or more below the best visible MCV so far."""
    best = 0.0
    for rep in reps:
        if not rep.visible:
            continue
        best = max(best, rep.mean_velocity_m_s)
        if 1.0 - rep.mean_velocity_m_s / best >= threshold:
            return rep.index
    return None


# --- the sensor --------------------------------------------------------------------------------------------------


def _sample_times(cfg: SimConfig, motion: Motion, rng: np.random.Generator) -> np.ndarray:
    """When the sensor reported, seconds from the start of the motion: jittered, with samples lost."""
    duration = float(motion.t_s[-1])
    dt = 1.0 / cfg.rate_hz
    count = int(duration * cfg.rate_hz / (1.0 - cfg.jitter_frac)) + 2
    intervals = dt * (1.0 + cfg.jitter_frac * rng.uniform(-1.0, 1.0, count))
    t = rng.uniform(0.0, dt) + np.concatenate([[0.0], np.cumsum(intervals)])
    t = t[t <= duration]
    keep = rng.random(len(t)) >= cfg.drop_frac
    for _ in range(cfg.burst_count):
        length = rng.uniform(*cfg.burst_s)
        start = rng.uniform(0.0, max(duration - length, 0.0))
        keep &= (t < start) | (t >= start + length)
    if cfg.long_gap_s > 0 and motion.reps:
        # Somewhere over the reps, so that it usually hides part of one.
        lo = motion.t_s[motion.reps[0].window[0]] - cfg.long_gap_s / 2
        hi = motion.t_s[motion.reps[-1].concentric[1]] - cfg.long_gap_s / 2
        start = rng.uniform(max(lo, 0.0), max(hi, lo, 0.0))
        keep &= (t < start) | (t >= start + cfg.long_gap_s)
    return np.asarray(t[keep])


def _imu_signal(
    ideal: np.ndarray,
    t_s: np.ndarray,
    gain: np.ndarray,
    bias: np.ndarray,
    noise: float,
    full_scale: float,
    cfg: SimConfig,
    rng: np.random.Generator,
) -> np.ndarray:
    """One 3-axis sensor: gain matrix and bias, analog range, anti-alias low-pass, sampling, noise, 16 bits."""
    x = np.clip(ideal @ gain.T + bias, -full_scale, full_scale)
    cutoff = min(cfg.anti_alias_frac * cfg.rate_hz, 0.45 * GRID_HZ)
    x = sosfiltfilt(butter(4, cutoff, fs=GRID_HZ, output="sos"), x, axis=0)
    grid = np.arange(len(x)) / GRID_HZ
    out = np.stack([np.interp(t_s, grid, x[:, i]) for i in range(3)], axis=1)
    out += noise * rng.standard_normal(out.shape)
    lsb = full_scale / 32768.0
    return np.asarray(np.clip(np.round(out / lsb), -32768, 32767) * lsb)


def _gain(scale_error: tuple[float, float, float], cross_axis: float, rng: np.random.Generator) -> np.ndarray:
    off = cross_axis * rng.standard_normal((3, 3))
    np.fill_diagonal(off, 0.0)
    return np.asarray(np.diag(1.0 + np.asarray(scale_error)) + off)


# --- the set -----------------------------------------------------------------------------------------------------


def random_streams(seed: int) -> tuple[np.random.Generator, np.random.Generator, np.random.Generator]:
    """Independent random streams for the motion, the sensor and the timing."""
    motion, sensor, timing = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(3))
    return motion, sensor, timing


def simulate_motion(config: SimConfig, seed: int) -> Motion:
    """The noise-free 1 kHz motion behind ``simulate_set(config, seed)`` (time 0 = ``config.time_origin_s``)."""
    return build_motion(config, random_streams(seed)[0])


def simulate_set(config: SimConfig, seed: int) -> SimulatedSet:
    """Simulate one set. Deterministic in ``(config, seed)``."""
    motion_rng, sensor_rng, timing_rng = random_streams(seed)
    motion = build_motion(config, motion_rng)
    t = _sample_times(config, motion, timing_rng)
    f_g, w_dps = sensor_frame(motion, config.mount_quat_wxyz)
    acc = _imu_signal(
        f_g,
        t,
        _gain(config.acc_scale_error_frac, config.acc_cross_axis_frac, sensor_rng),
        np.asarray(config.acc_bias_g),
        config.acc_noise_g,
        config.acc_range_g,
        config,
        sensor_rng,
    )
    gyro = None
    if config.has_gyro:
        gain = _gain((0.0, 0.0, 0.0), 0.0, sensor_rng)
        bias = np.asarray(config.gyro_bias_dps)
        gyro = _imu_signal(w_dps, t, gain, bias, config.gyro_noise_dps, config.gyro_range_dps, config, sensor_rng)
    t_rec = t + config.time_origin_s
    samples = SampleBlock(t_rec, acc, gyro)
    truth = measure_truth(config, motion, t_rec, seed)
    load = config.load_kg if config.load_kg is not None else float(np.mean(LIFTS[config.exercise].load_kg))
    metadata = {
        "exercise": str(config.exercise),
        "placement": "bar",
        "sample_rate_hz": f"{config.rate_hz:g}",
        "sensor": "repsense-simulator",
        "synthetic": "true",
        "seed": str(seed),
        "load_kg": f"{load:.1f}",
    }
    return SimulatedSet(samples, metadata, truth)


def measure_truth(config: SimConfig, motion: Motion, t_rec: np.ndarray, seed: int | None = None) -> SetTruth:
    """Reps and failed attempts measured on the true motion; gaps measured on the sample times actually kept."""
    origin = config.time_origin_s
    t, z, vz = motion.t_s, motion.pos_m[:, 2], motion.vel_m_s[:, 2]
    steps = np.diff(t_rec)
    gaps = [(float(t_rec[i]), float(t_rec[i + 1])) for i in np.flatnonzero(steps > GAP_S)]

    def visible(span: RepSpan) -> bool:
        w0, w1 = origin + t[span.window[0]], origin + t[span.window[1]]
        return not any(a < w1 and b > w0 for a, b in gaps)

    reps: list[RepTruth] = []
    for k, span in enumerate(motion.reps):
        c0, c1 = span.concentric
        rom = float(z[c1] - z[c0])
        seen = RepTruth(
            index=len(reps) + 1,
            t_start_s=float(origin + t[c0]),
            t_end_s=float(origin + t[c1]),
            mean_velocity_m_s=rom / float(t[c1] - t[c0]),
            peak_velocity_m_s=float(np.max(vz[c0 : c1 + 1])),
            rom_m=rom,
            visible=visible(span),
            sticking_point=span.sticking_point,
        )
        reps.append(seen)
        if k < len(motion.other_arm):
            # The other arm's rep is this one again, later: the same range and velocities, its own times.
            other = motion.other_arm[k]
            reps.append(
                dataclasses.replace(
                    seen,
                    index=len(reps) + 1,
                    t_start_s=float(origin + t[other.concentric[0]]),
                    t_end_s=float(origin + t[other.concentric[1]]),
                    visible=visible(other),
                )
            )
    failed = [
        FailedTruth(float(origin + t[f.start]), float(origin + t[f.stall]), float(z[f.stall] - z[f.start]))
        for f in motion.failed
    ]
    return SetTruth(str(config.exercise), reps, failed, gaps, vl20_stop_rep(reps), config.to_dict(), seed)


# --- drawing configurations ----------------------------------------------------------------------------------


def _uniform_rotation(rng: np.random.Generator) -> tuple[float, float, float, float]:
    """A rotation drawn uniformly over all orientations (a normalised Gaussian quaternion)."""
    q = rng.standard_normal(4)
    q /= np.linalg.norm(q)
    return (float(q[0]), float(q[1]), float(q[2]), float(q[3]))


def per_rep_span(rng: np.random.Generator, low: float, high: float, width: tuple[float, float]) -> tuple[float, float]:
    """A per-rep range (lo, hi) inside [low, high] whose width is drawn from ``width``."""
    w = min(rng.uniform(*width), high - low)
    lo = rng.uniform(low, high - w)
    return (round(lo, 3), round(lo + w, 3))


def random_config(
    rng: np.random.Generator,
    exercise: Exercise | None = None,
    *,
    rate_hz: float | None = None,
    has_gyro: bool | None = None,
    hard: bool = True,
) -> SimConfig:
    """Draw a realistic set. ``hard=False`` gives a clean, simple one (aligned sensor, no noise, no losses)."""
    ex = Exercise(exercise) if exercise is not None else Exercise(rng.choice(CORPUS_LIFTS))
    prof = LIFTS[ex]
    common: dict[str, Any] = {
        "exercise": ex,
        "load_kg": round(float(rng.uniform(*prof.load_kg)) / 2.5) * 2.5,
        "rom_m": round(float(rng.uniform(*prof.rom_m)), 3),
        "first_mcv_m_s": round(float(rng.uniform(*prof.mcv_m_s)), 3),
    }
    if not hard:
        return SimConfig(
            n_good_reps=int(rng.integers(3, 9)),
            rate_hz=100.0 if rate_hz is None else rate_hz,
            has_gyro=True if has_gyro is None else has_gyro,
            fatigue_per_rep_frac=round(float(rng.uniform(0.02, 0.05)), 3),
            **common,
        )
    n = int(rng.integers(3, 16))
    growth = float(rng.uniform(0.0, 0.15))
    # A set to failure ends near 50-65 % velocity loss, however many reps it took to get there.
    total_steps = sum((1.0 + growth) ** j for j in range(max(n - 1, 1)))
    per_rep = min(float(rng.uniform(0.02, 0.09)), rng.uniform(0.45, 0.65) / total_steps)
    touch_and_go = rng.random() < 0.55
    quick_top = ex in (Exercise.BENCH, Exercise.OHP, Exercise.ROW) and rng.random() < 0.35
    floor_lift = prof.on_floor
    failed = bool(rng.random() < 0.3)
    return SimConfig(
        n_good_reps=n,
        rate_hz=float(rng.choice(_HARD_RATES_HZ)) if rate_hz is None else rate_hz,
        has_gyro=bool(rng.random() < 0.5) if has_gyro is None else has_gyro,
        rom_sd_frac=round(float(rng.uniform(0.01, 0.02)), 4),
        fatigue_per_rep_frac=round(per_rep, 4),
        fatigue_growth_frac=round(growth, 3),
        mcv_noise_frac=round(float(rng.uniform(0.015, 0.03)), 4),
        eccentric_s=per_rep_span(rng, 1.0, 2.5, (0.2, 0.8)),
        bottom_pause_s=(0.0, 0.0) if touch_and_go else per_rep_span(rng, 0.3, 2.0, (0.2, 1.0)),
        top_pause_s=(0.05, 0.2) if quick_top else per_rep_span(rng, 0.3, 3.0, (0.3, 1.5)),
        rest_pause_count=int(rng.integers(1, 3)) if rng.random() < 0.25 and n > 2 else 0,
        sticking_reps=int(rng.integers(1, 3)) if rng.random() < 0.5 else 0,
        failed_attempt=failed,
        failed_reach_frac=round(float(rng.uniform(0.25, 0.7)), 3),
        failed_hold_s=round(float(rng.uniform(0.3, 1.5)), 3),
        walkout=bool(rng.random() < (0.85 if ex in (Exercise.SQUAT, Exercise.OHP, Exercise.BENCH) else 0.5)),
        bar_drop=floor_lift and not failed and bool(rng.random() < 0.2),
        lead_in_s=round(float(rng.uniform(1.0, 4.0)), 3),
        tail_s=round(float(rng.uniform(1.0, 4.0)), 3),
        path_m=round(float(rng.uniform(*prof.path_m)), 3),
        sway_m=round(float(rng.uniform(0.002, 0.008)), 4),
        clank_max_g=round(float(rng.uniform(2.0, 6.0)), 2),
        mount_quat_wxyz=_uniform_rotation(rng),
        roll_wander_deg=round(float(rng.uniform(2.0, 15.0)), 2),
        # The bar turns with the hands: a few degrees in most lifts, with the forearms in a curl.
        roll_coupling_deg=round(
            float(rng.uniform(60.0, 130.0) if ex in (Exercise.CURL, Exercise.ALT_CURL) else rng.uniform(5, 30)), 2
        ),
        tilt_deg=round(float(rng.uniform(2.0, 5.0)), 2),
        acc_bias_g=tuple(np.round(np.clip(rng.normal(0.0, 0.015, 3), -0.04, 0.04), 5).tolist()),
        acc_scale_error_frac=tuple(np.round(rng.normal(0.0, 0.01, 3), 5).tolist()),
        acc_cross_axis_frac=0.01,
        acc_noise_g=round(float(rng.uniform(0.003, 0.02)), 5),
        acc_range_g=float(rng.choice([8.0, 16.0])),
        gyro_bias_dps=tuple(np.round(rng.uniform(-2.0, 2.0, 3), 4).tolist()),
        gyro_noise_dps=round(float(rng.uniform(0.05, 0.5)), 4),
        jitter_frac=round(float(rng.uniform(0.0, 0.3)), 4),
        drop_frac=round(float(rng.uniform(0.0, 0.05)), 4),
        burst_count=int(rng.integers(0, 4)),
        long_gap_s=round(float(rng.uniform(1.2, 4.0)), 3) if rng.random() < 0.15 else 0.0,
        time_origin_s=round(float(rng.uniform(0.0, 100_000.0)), 3),
        **common,
    )


# --- files ---------------------------------------------------------------------------------------------------------


def truth_path(recording: Path) -> Path:
    """Where the truth of a recording sits: ``name.csv`` -> ``name.truth.json``."""
    return recording.with_suffix(".truth.json")


def write_simulated(sim: SimulatedSet, path: Path) -> tuple[Path, Path]:
    """Write the recording and its truth beside it; returns both paths."""
    path = Path(path)
    with RecordingWriter(path, sim.metadata, has_gyro=sim.samples.has_gyro) as writer:
        writer.write(sim.samples)
    truth = truth_path(path)
    truth.write_text(sim.truth.to_json() + "\n", encoding="utf-8")
    return path, truth


def simulate_corpus(out_dir: Path, n_sets: int, seed: int, **random_config_kwargs: Any) -> list[tuple[Path, Path]]:
    """Draw and write ``n_sets`` sets; the same ``seed`` gives the same corpus."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    written = []
    for i in range(n_sets):
        config = random_config(rng, **random_config_kwargs)
        set_seed = int(rng.integers(0, 2**31))
        name = f"set{i:04d}_{config.exercise}_{config.rate_hz:g}hz.csv"
        written.append(write_simulated(simulate_set(config, set_seed), out_dir / name))
    return written
