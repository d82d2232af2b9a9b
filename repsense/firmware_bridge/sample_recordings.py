"""The project's own demo recordings: fixed configurations and seeds for both simulators.

``repsense simulate --samples --out sample_recordings`` writes them with their truth files and a README that says
they are synthetic. The same command always rewrites the same files.
"""

from __future__ import annotations

from pathlib import Path

from repsense.events import Exercise
from repsense.firmware_bridge.sim_wrist import WristMotion, WristSimConfig, simulate_wrist_set
from repsense.firmware_bridge.simulator import SimConfig, SimulatedSet, simulate_set, write_simulated

_SQUAT_AMRAP = SimConfig(
    Exercise.SQUAT, 9, rate_hz=100.0, load_kg=120.0, rom_m=0.58, first_mcv_m_s=0.72, rom_sd_frac=0.015,
    fatigue_per_rep_frac=0.05, fatigue_growth_frac=0.1, mcv_noise_frac=0.02, eccentric_s=(1.4, 2.0),
    top_pause_s=(1.0, 2.5), sticking_reps=2, failed_attempt=True, failed_reach_frac=0.45, failed_hold_s=1.0,
    walkout=True, path_m=0.03, sway_m=0.005, clank_max_g=4.0, mount_quat_wxyz=(0.62, -0.21, 0.55, 0.52),
    roll_wander_deg=8.0, roll_coupling_deg=12.0, tilt_deg=3.0, acc_bias_g=(0.012, -0.008, 0.02),
    acc_scale_error_frac=(0.008, -0.006, 0.01), acc_cross_axis_frac=0.01, acc_noise_g=0.008,
    gyro_bias_dps=(1.2, -0.7, 0.4), gyro_noise_dps=0.2, jitter_frac=0.1, drop_frac=0.01, burst_count=1,
    time_origin_s=51234.5,
)  # fmt: skip
_BENCH_TNG = SimConfig(
    Exercise.BENCH, 8, rate_hz=50.0, has_gyro=False, load_kg=80.0, rom_m=0.36, first_mcv_m_s=0.62,
    rom_sd_frac=0.015, fatigue_per_rep_frac=0.035, mcv_noise_frac=0.02, eccentric_s=(1.0, 1.4),
    top_pause_s=(0.05, 0.2), walkout=True, path_m=0.1, sway_m=0.003, clank_max_g=3.0,
    mount_quat_wxyz=(0.27, 0.8, -0.35, 0.4), roll_wander_deg=6.0, roll_coupling_deg=18.0, tilt_deg=2.5,
    acc_bias_g=(-0.02, 0.01, 0.005), acc_scale_error_frac=(-0.01, 0.004, 0.0), acc_noise_g=0.01,
    jitter_frac=0.2, drop_frac=0.02, burst_count=2, time_origin_s=733.25,
)  # fmt: skip
_DEADLIFT_PAUSED = SimConfig(
    Exercise.DEADLIFT, 5, rate_hz=200.0, load_kg=160.0, rom_m=0.55, first_mcv_m_s=0.55, rom_sd_frac=0.01,
    fatigue_per_rep_frac=0.04, mcv_noise_frac=0.02, eccentric_s=(1.2, 1.8), bottom_pause_s=(1.0, 2.0),
    top_pause_s=(0.5, 1.2), walkout=True, bar_drop=True, path_m=0.03, clank_max_g=6.0,
    mount_quat_wxyz=(0.1, 0.2, 0.95, -0.2), roll_wander_deg=4.0, roll_coupling_deg=15.0, tilt_deg=2.0,
    acc_bias_g=(0.005, 0.03, -0.01), acc_noise_g=0.005, gyro_bias_dps=(-1.5, 0.3, 0.9), gyro_noise_dps=0.1,
    jitter_frac=0.05, time_origin_s=86000.0,
)  # fmt: skip
_OHP_FIXED5 = SimConfig(
    Exercise.OHP, 5, rate_hz=25.0, load_kg=50.0, rom_m=0.5, first_mcv_m_s=0.65, fatigue_per_rep_frac=0.03,
    mcv_noise_frac=0.02, eccentric_s=(1.2, 1.6), top_pause_s=(0.8, 1.5), walkout=True, path_m=0.04,
    sway_m=0.004, clank_max_g=3.0, mount_quat_wxyz=(0.7, 0.0, 0.0, 0.7), roll_wander_deg=5.0,
    roll_coupling_deg=10.0, tilt_deg=3.0, acc_bias_g=(0.0, -0.015, 0.01), acc_noise_g=0.006,
    gyro_bias_dps=(0.5, 0.5, -0.5), gyro_noise_dps=0.15, jitter_frac=0.15, drop_frac=0.01,
)  # fmt: skip
_ROW_DROPOUTS = SimConfig(
    Exercise.ROW, 12, rate_hz=52.0, load_kg=70.0, rom_m=0.35, first_mcv_m_s=0.85, rom_sd_frac=0.02,
    fatigue_per_rep_frac=0.03, fatigue_growth_frac=0.05, mcv_noise_frac=0.03, eccentric_s=(1.0, 1.3),
    top_pause_s=(0.05, 0.2), rest_pause_count=1, walkout=True, path_m=0.06, sway_m=0.006, clank_max_g=3.0,
    mount_quat_wxyz=(-0.45, 0.3, 0.6, 0.58), roll_wander_deg=12.0, roll_coupling_deg=25.0, tilt_deg=4.0,
    acc_bias_g=(0.03, -0.02, 0.01), acc_scale_error_frac=(0.01, 0.01, -0.01), acc_cross_axis_frac=0.01,
    acc_noise_g=0.015, gyro_bias_dps=(2.0, -1.0, 1.5), gyro_noise_dps=0.4, jitter_frac=0.3, drop_frac=0.04,
    burst_count=3, long_gap_s=2.5, time_origin_s=12.0,
)  # fmt: skip

_CURL_WRIST = WristSimConfig(
    WristMotion.CURL, 10, rate_hz=50.0, has_gyro=False, segment_m=0.29, arc_deg=125.0, low_deg=5.0,
    plane_deg=10.0, twist_deg=30.0, rom_sd_frac=0.02, concentric_s=(1.0, 1.2), eccentric_s=(1.4, 1.8),
    concentric_pause_s=(0.1, 0.4), eccentric_pause_s=(0.2, 0.5), fatigue_per_rep_frac=0.05, lead_in_s=3.0,
    tail_s=3.0, setup=True, sway_m=0.005, sway_deg=1.0, strap_roll_deg=130.0, strap_tilt_deg=(3.0, -2.0),
    acc_noise_g=0.01, spike_count=2, time_origin_s=4321.0,
)  # fmt: skip

#: The project's demo recordings: (file name, config, seed).
SAMPLE_RECORDINGS: tuple[tuple[str, SimConfig | WristSimConfig, int], ...] = (
    ("squat_amrap_walkout_100hz.csv", _SQUAT_AMRAP, 101),
    ("bench_touch_and_go_50hz_nogyro.csv", _BENCH_TNG, 202),
    ("deadlift_paused_drop_200hz.csv", _DEADLIFT_PAUSED, 303),
    ("ohp_fixed5_25hz.csv", _OHP_FIXED5, 404),
    ("row_dropouts_long_gap_52hz.csv", _ROW_DROPOUTS, 505),
    ("curl_wrist_50hz_nogyro.csv", _CURL_WRIST, 606),
)

_SAMPLE_NOTES = {
    "squat_amrap_walkout_100hz.csv": "walk-out, 9 reps fatiguing past 20 % velocity loss, sticking point in the "
    "last two, a failed tenth attempt onto the pins; gyroscope",
    "bench_touch_and_go_50hz_nogyro.csv": "lift-off, 8 touch-and-go reps with a J-curve bar path, near "
    "touch-and-go at the top too; no gyroscope",
    "deadlift_paused_drop_200hz.csv": "bar rolled in, 5 reps with a 1-2 s dead stop on the floor (plate clanks), "
    "the bar dropped from the last lockout",
    "ohp_fixed5_25hz.csv": "walk-out and 5 presses at a low rate (25 Hz)",
    "row_dropouts_long_gap_52hz.csv": "12 rows with heavy jitter, 4 % dropped samples, BLE bursts and a 2.5 s gap "
    "over two reps (marked not visible in the truth); a rest-pause",
    "curl_wrist_50hz_nogyro.csv": "a watch on the wrist (wrist simulator): dumbbells picked up, 10 curls slowing "
    "by 5 % a rep, put down; two single-sample glitches; accelerometer only",
}


def simulate_sample(config: SimConfig | WristSimConfig, seed: int) -> SimulatedSet:
    """One demo recording, from whichever simulator its configuration belongs to."""
    if isinstance(config, WristSimConfig):
        return simulate_wrist_set(config, seed)
    return simulate_set(config, seed)


def sample_readme() -> str:
    lines = [
        "# Sample recordings",
        "",
        "These recordings are **synthetic**. They were produced by the project's own simulators, not by a real",
        "sensor: the barbell set simulator (`repsense/firmware_bridge/simulator.py`) and the wrist simulator",
        "(`repsense/firmware_bridge/sim_wrist.py`), with `repsense simulate --samples --out sample_recordings`.",
        "Each `name.csv` has its truth beside it in `name.truth.json`: every rep's concentric start and end, mean",
        "and peak velocity and range of motion, failed attempts, data gaps, and the full simulator configuration.",
        "The same command rewrites the same files (fixed seeds).",
        "",
        "| file | seed | what it shows |",
        "| --- | --- | --- |",
    ]
    lines += [f"| `{name}` | {seed} | {_SAMPLE_NOTES[name]} |" for name, _, seed in SAMPLE_RECORDINGS]
    return "\n".join(lines) + "\n"


def make_sample_recordings(out_dir: Path) -> list[Path]:
    """Write the fixed demo recordings, their truth files and a README into ``out_dir``; returns the recordings."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [
        write_simulated(simulate_sample(config, seed), out_dir / name)[0] for name, config, seed in SAMPLE_RECORDINGS
    ]
    (out_dir / "README.md").write_text(sample_readme(), encoding="utf-8")
    return paths
