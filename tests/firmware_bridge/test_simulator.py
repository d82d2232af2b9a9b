"""The set simulator: physical consistency, the sensor model, timing, truth, and files."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import cumulative_trapezoid

from repsense.errors import ConfigError
from repsense.events import Exercise
from repsense.firmware_bridge.recording import read_recording
from repsense.firmware_bridge.sample_recordings import make_sample_recordings
from repsense.firmware_bridge.sim_kinematics import DT_S, LIFTS, _ring, quat_to_matrix, sensor_frame
from repsense.firmware_bridge.simulator import (
    SUPPORTED_RATES_HZ,
    RepTruth,
    SetTruth,
    SimConfig,
    random_config,
    simulate_corpus,
    simulate_motion,
    simulate_set,
    vl20_stop_rep,
    write_simulated,
)

#: Everything that moves the bar, none of the sensor's faults: kinematics tests run on these.
BUSY_MOTION = dict(
    walkout=True,
    sticking_reps=2,
    failed_attempt=True,
    rom_sd_frac=0.02,
    mcv_noise_frac=0.03,
    fatigue_growth_frac=0.1,
    path_m=0.05,
    sway_m=0.006,
    clank_max_g=5.0,
    roll_wander_deg=10.0,
    roll_coupling_deg=25.0,
    tilt_deg=4.0,
    rest_pause_count=1,
)


def _hard_configs(n: int, seed: int = 11) -> list[SimConfig]:
    rng = np.random.default_rng(seed)
    return [random_config(rng, list(Exercise)[i % len(Exercise)]) for i in range(n)]


# --- physics -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("exercise", list(Exercise))
def test_double_integrated_acceleration_gives_the_truth_rom(exercise: Exercise) -> None:
    config = SimConfig(exercise, 6, **BUSY_MOTION)
    motion = simulate_motion(config, 3)
    truth = simulate_set(config, 3).truth
    seen = truth.reps[::2] if exercise.alternating else truth.reps  # the other arm's are not in the motion
    assert len(seen) == len(motion.reps) == 6
    for rep, span in zip(seen, motion.reps, strict=True):
        c0, c1 = span.concentric
        vel = cumulative_trapezoid(motion.acc_m_s2[c0 : c1 + 1, 2], dx=DT_S, initial=0.0)
        rise = cumulative_trapezoid(vel, dx=DT_S, initial=0.0)[-1]
        assert rise == pytest.approx(rep.rom_m, abs=1e-3)
        assert rep.mean_velocity_m_s == pytest.approx(rep.rom_m / (rep.t_end_s - rep.t_start_s), rel=1e-12)
        assert rep.peak_velocity_m_s > rep.mean_velocity_m_s > 0
        assert vel[-1] == pytest.approx(0.0, abs=0.01)  # lockout: the bar has stopped


def test_alternating_curls_have_the_other_arms_reps_in_the_truth_and_not_in_the_motion() -> None:
    """The sensor on one dumbbell: after each of its reps it hangs still for as long as the rep took, while the other
    arm does the same rep."""
    config = SimConfig(Exercise.ALT_CURL, 5, **BUSY_MOTION)
    motion = simulate_motion(config, 3)
    truth = simulate_set(config, 3).truth
    assert truth.exercise == "alt_curl" and len(truth.reps) == 2 * len(motion.reps) == 2 * len(motion.other_arm) == 10
    assert [r.index for r in truth.reps] == list(range(1, 11))
    for seen, other, span in zip(truth.reps[0::2], truth.reps[1::2], motion.other_arm, strict=True):
        assert dataclasses.replace(other, index=seen.index, t_start_s=seen.t_start_s, t_end_s=seen.t_end_s) == seen
        assert other.t_start_s >= seen.t_end_s
        assert other.t_end_s - other.t_start_s == pytest.approx(seen.t_end_s - seen.t_start_s)
        assert np.ptp(motion.pos_m[span.window[0] : span.window[1] + 1, 2]) < 0.02  # the sensor's arm hangs still
    assert simulate_motion(SimConfig(Exercise.CURL, 5), 3).other_arm == []


@pytest.mark.parametrize("exercise", list(Exercise))
def test_truth_rom_and_velocity_are_in_the_lifts_range(exercise: Exercise) -> None:
    prof = LIFTS[exercise]
    for config in (random_config(np.random.default_rng(s), exercise) for s in range(4)):
        truth = simulate_set(config, 0).truth
        roms = np.array([r.rom_m for r in truth.reps])
        assert np.all(roms >= prof.rom_m[0] * 0.95) and np.all(roms <= prof.rom_m[1] * 1.05)
        assert np.std(roms) / np.mean(roms) < 0.03
        assert truth.reps[0].mean_velocity_m_s == pytest.approx(config.first_mcv_m_s, rel=3e-3)  # 1 ms grid


def test_specific_force_at_rest_reads_one_g_up_within_the_bias() -> None:
    bias = (0.02, -0.03, 0.01)
    config = SimConfig(Exercise.SQUAT, 3, acc_bias_g=bias, acc_noise_g=0.01, mount_quat_wxyz=(0.3, 0.5, -0.7, 0.4))
    sim = simulate_set(config, 5)
    still = sim.samples.acc_g[sim.samples.t_s < config.lead_in_s - 0.1]
    assert abs(np.linalg.norm(still.mean(axis=0)) - 1.0) <= np.linalg.norm(bias) + 0.002
    aligned = simulate_set(SimConfig(Exercise.SQUAT, 3), 5).samples.acc_g[:50]
    np.testing.assert_allclose(aligned, np.tile([0.0, 0.0, 1.0], (50, 1)), atol=1e-3)


def test_free_fall_of_a_dropped_bar_reads_zero_g() -> None:
    config = SimConfig(Exercise.DEADLIFT, 3, bar_drop=True)
    motion = simulate_motion(config, 2)
    f_g, _ = sensor_frame(motion, config.mount_quat_wxyz)
    falling = (motion.vel_m_s[:, 2] < -1.5) & (motion.acc_m_s2[:, 2] < 0)  # only a falling bar is this fast
    assert falling.sum() > 100
    assert np.max(np.linalg.norm(f_g[falling], axis=1)) < 0.05


def test_specific_force_magnitude_does_not_depend_on_the_mount() -> None:
    config = SimConfig(Exercise.BENCH, 4, **BUSY_MOTION)
    motion = simulate_motion(config, 1)
    rng = np.random.default_rng(0)
    mounts = [tuple(q / np.linalg.norm(q)) for q in rng.standard_normal((3, 4))]
    norms = [np.linalg.norm(sensor_frame(motion, q)[0], axis=1) for q in mounts]
    np.testing.assert_allclose(norms[0], norms[1], atol=1e-12)
    np.testing.assert_allclose(norms[0], norms[2], atol=1e-12)
    rates = [np.linalg.norm(sensor_frame(motion, q)[1], axis=1) for q in mounts]
    np.testing.assert_allclose(rates[0], rates[1], atol=1e-9)


@pytest.mark.parametrize("exercise", [Exercise.CURL, Exercise.DEADLIFT, Exercise.BENCH])
def test_gyro_matches_the_finite_difference_of_the_orientation(exercise: Exercise) -> None:
    # No clanks: their 30-120 Hz ringing is too fast for a 1 kHz finite difference to follow.
    config = SimConfig(exercise, 4, **(BUSY_MOTION | {"clank_max_g": 0.0, "roll_coupling_deg": 90.0}))
    motion = simulate_motion(config, 4)
    q = (0.2, -0.6, 0.1, 0.77)
    rot = motion.bar_rot @ quat_to_matrix(q)
    _, gyro_dps = sensor_frame(motion, q)
    step = np.einsum("nji,njk->nik", rot[:-1], rot[1:])  # R(t)^T R(t + dt) = I + [w_s]x dt
    w_fd = np.stack([step[:, 2, 1] - step[:, 1, 2], step[:, 0, 2] - step[:, 2, 0], step[:, 1, 0] - step[:, 0, 1]], 1)
    w_fd = np.rad2deg(w_fd / (2 * DT_S))
    mid = 0.5 * (gyro_dps[1:] + gyro_dps[:-1])
    assert np.max(np.abs(mid)) > 30.0  # the bar really turns
    error = np.abs(w_fd - mid)
    # Exact up to O(dt^2), except at the kinks where the lockout stops the roll that follows the bar's height.
    assert np.median(error) < 0.01 and np.max(error) < 1.0


def test_impact_ringing_carries_no_net_velocity() -> None:
    for f_hz in (30.0, 75.0, 120.0):
        d = _ring(80, f_hz)
        acc = np.diff(np.concatenate([[0.0, 0.0], d, [0.0, 0.0]]), 2) / DT_S**2  # as laid over the motion
        vel = np.cumsum(acc) * DT_S
        assert np.max(np.abs(acc)) == pytest.approx(1.0)
        assert abs(vel[-1]) < 1e-12  # no net velocity
        assert np.max(np.abs(vel)) < 2.0 / (2 * np.pi * f_hz)  # it oscillates about zero, it does not drift
        assert np.max(np.abs(d)) < 2.0 / (2 * np.pi * f_hz) ** 2  # displacement of a sine at 1 m/s^2 or less


def test_sticking_point_is_a_dip_that_never_stops_the_bar() -> None:
    config = SimConfig(Exercise.SQUAT, 6, sticking_reps=2, sticking_velocity_frac=(0.2, 0.2))
    motion = simulate_motion(config, 9)
    truth = simulate_set(config, 9).truth
    assert [r.sticking_point for r in truth.reps] == [False] * 4 + [True] * 2
    for span in motion.reps:
        c0, c1 = span.concentric
        v = motion.vel_m_s[c0 : c1 + 1, 2]
        inner = v[50:-50]
        assert np.all(inner > 0)  # the bar never stops
        dips = np.flatnonzero((inner[1:-1] < inner[:-2]) & (inner[1:-1] <= inner[2:]))
        if span.sticking_point:
            assert len(dips) == 1
            i = dips[0] + 1
            assert inner[i] < 0.5 * inner[:i].max()
            covered = (motion.pos_m[c0 + 50 + i, 2] - motion.pos_m[c0, 2]) / (motion.pos_m[c1, 2] - motion.pos_m[c0, 2])
            assert 0.25 < covered < 0.65
        else:
            assert len(dips) == 0


@pytest.mark.parametrize("exercise", [Exercise.SQUAT, Exercise.BENCH, Exercise.DEADLIFT, Exercise.ROW])
def test_failed_attempt_stalls_and_is_not_a_rep(exercise: Exercise) -> None:
    config = SimConfig(exercise, 5, failed_attempt=True, failed_reach_frac=0.5, failed_hold_s=1.0, clank_max_g=4.0)
    motion = simulate_motion(config, 6)
    truth = simulate_set(config, 6).truth
    assert len(truth.reps) == 5 and len(truth.failed) == 1
    failed = truth.failed[0]
    assert failed.t_start_s > truth.reps[-1].t_end_s
    mean_rom = np.mean([r.rom_m for r in truth.reps])
    assert failed.rom_m == pytest.approx(0.5 * mean_rom, rel=0.05)
    stall = motion.failed[0].stall
    held = motion.vel_m_s[stall + 100 : stall + 900, 2]
    assert np.max(np.abs(held)) < 0.01  # isometric: only a tremor
    assert motion.pos_m[-1, 2] <= motion.pos_m[motion.failed[0].start, 2] + 1e-3  # back down


def test_vl20_stop_rep_on_a_constructed_set() -> None:
    def reps(mcvs: list[float], hidden: tuple[int, ...] = ()) -> list[RepTruth]:
        return [RepTruth(i + 1, i, i + 0.5, v, 1.5 * v, 0.5, i + 1 not in hidden) for i, v in enumerate(mcvs)]

    mcvs = [0.50, 0.52, 0.45, 0.41, 0.39]
    assert vl20_stop_rep(reps(mcvs)) == 4  # 1 - 0.41 / 0.52 = 0.21
    assert vl20_stop_rep(reps(mcvs, hidden=(2,))) == 5  # the best seen is 0.50: rep 4 is at 18 %
    assert vl20_stop_rep(reps([0.5, 0.49, 0.48])) is None
    assert vl20_stop_rep(reps([0.5, 0.3], hidden=(2,))) is None


def test_fatigued_set_reaches_20_percent_velocity_loss() -> None:
    config = SimConfig(Exercise.BENCH, 10, fatigue_per_rep_frac=0.05)
    truth = simulate_set(config, 1).truth
    mcv = np.array([r.mean_velocity_m_s for r in truth.reps])
    loss = 1.0 - mcv / np.maximum.accumulate(mcv)
    assert truth.vl20_stop_rep == int(np.argmax(loss >= 0.2)) + 1 == 6


# --- the sensor and its timing ---------------------------------------------------------------------------------


def test_drop_rate_bursts_and_long_gap_are_as_configured() -> None:
    base = SimConfig(Exercise.SQUAT, 10, rate_hz=100.0)
    clean = simulate_set(base, 2).samples
    assert np.allclose(np.diff(clean.t_s), 0.01)
    dropped = simulate_set(dataclasses.replace(base, drop_frac=0.04), 2)
    lost = 1.0 - len(dropped.samples) / len(clean)
    assert lost == pytest.approx(0.04, abs=0.01)
    bursty = simulate_set(dataclasses.replace(base, burst_count=3, burst_s=(0.3, 0.3)), 2).samples
    steps = np.diff(bursty.t_s)
    assert 1 <= np.sum(steps > 0.05) <= 3 and np.max(steps) < 0.95
    gapped = simulate_set(dataclasses.replace(base, long_gap_s=2.5), 2)
    (gap,) = gapped.truth.gaps
    assert 2.5 <= gap[1] - gap[0] <= 2.5 + 0.011
    hidden = [r for r in gapped.truth.reps if not r.visible]
    assert 1 <= len(hidden) <= 3
    motion = simulate_motion(base, 2)
    for rep, span in zip(gapped.truth.reps, motion.reps, strict=True):
        w0, w1 = (motion.t_s[i] for i in span.window)
        assert rep.visible == (not (gap[0] < w1 and gap[1] > w0))


def test_jittered_timestamps_are_strictly_increasing_within_bounds() -> None:
    config = SimConfig(Exercise.ROW, 5, rate_hz=50.0, jitter_frac=0.3, time_origin_s=99_999.5)
    t = simulate_set(config, 3).samples.t_s
    steps = np.diff(t)
    assert np.all(steps > 0)
    assert np.min(steps) >= 0.02 * 0.7 - 1e-9 and np.max(steps) <= 0.02 * 1.3 + 1e-9
    assert np.std(steps) > 0.002
    assert 99_999.5 <= t[0] < 99_999.5 + 0.02


@pytest.mark.parametrize("rate_hz", SUPPORTED_RATES_HZ)
def test_every_supported_rate(rate_hz: float) -> None:
    sim = simulate_set(SimConfig(Exercise.OHP, 3, rate_hz=rate_hz, has_gyro=rate_hz != 25.0), 1)
    assert np.median(np.diff(sim.samples.t_s)) == pytest.approx(1.0 / rate_hz, rel=1e-6)
    assert sim.samples.has_gyro == (rate_hz != 25.0)
    assert sim.metadata["sample_rate_hz"] == f"{rate_hz:g}"


def test_sensor_faults_show_in_the_samples_but_not_in_the_truth() -> None:
    clean = SimConfig(Exercise.SQUAT, 4)
    noisy = dataclasses.replace(
        clean,
        acc_bias_g=(0.03, 0.0, 0.0),
        acc_noise_g=0.01,
        gyro_bias_dps=(2.0, -2.0, 0.0),
        gyro_noise_dps=0.3,
        acc_range_g=8.0,
        jitter_frac=0.2,
    )
    a, b = simulate_set(clean, 8), simulate_set(noisy, 8)
    assert [r.t_start_s for r in a.truth.reps] == [r.t_start_s for r in b.truth.reps]
    still_a, still_b = a.samples.acc_g[:100], b.samples.acc_g[:100]
    assert still_b[:, 0].mean() - still_a[:, 0].mean() == pytest.approx(0.03, abs=0.003)
    assert np.std(still_b[:, 2]) == pytest.approx(0.01, rel=0.25)
    assert b.samples.gyro_dps is not None and b.samples.gyro_dps[:100, 0].mean() == pytest.approx(2.0, abs=0.1)
    lsb = 8.0 / 32768
    np.testing.assert_allclose(b.samples.acc_g / lsb, np.round(b.samples.acc_g / lsb), atol=1e-6)


def test_clank_clipped_at_the_sensor_range() -> None:
    config = SimConfig(Exercise.DEADLIFT, 3, bar_drop=True, clank_max_g=6.0, acc_range_g=8.0, rate_hz=400.0)
    acc = simulate_set(config, 4).samples.acc_g
    assert np.max(np.abs(acc)) == pytest.approx(8.0, abs=1e-3)


# --- configs and truth -----------------------------------------------------------------------------------------


@settings(max_examples=25, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2**31 - 1))
def test_random_hard_sets_are_valid_and_their_truth_adds_up(seed: int) -> None:
    config = random_config(np.random.default_rng(seed))
    sim = simulate_set(config, seed)
    truth = sim.truth
    assert len(truth.reps) == config.n_good_reps
    assert len(truth.failed) == int(config.failed_attempt)
    assert sim.samples.has_gyro == config.has_gyro
    starts = [r.t_start_s for r in truth.reps]
    assert starts == sorted(starts) and all(r.t_end_s > r.t_start_s for r in truth.reps)
    assert all(f.t_start_s > truth.reps[-1].t_end_s for f in truth.failed)
    assert truth.vl20_stop_rep == vl20_stop_rep(truth.reps)
    assert sim.samples.t_s[0] >= config.time_origin_s
    assert all(b - a > 1.0 for a, b in truth.gaps)
    assert SetTruth.from_json(truth.to_json()) == truth


def test_random_config_draws_the_documented_ranges() -> None:
    configs = _hard_configs(200)
    assert {c.exercise for c in configs} == set(Exercise)
    assert all(3 <= c.n_good_reps <= 15 and 50 <= c.rate_hz <= 200 for c in configs)
    assert 0.3 < np.mean([c.has_gyro for c in configs]) < 0.7
    assert 0.05 < np.mean([c.long_gap_s > 0 for c in configs]) < 0.3
    assert 0.15 < np.mean([c.failed_attempt for c in configs]) < 0.45
    assert 0.35 < np.mean([c.sticking_reps > 0 for c in configs]) < 0.65
    assert all(max(abs(b) for b in c.acc_bias_g) <= 0.04 for c in configs)
    assert all(not c.bar_drop for c in configs if c.exercise is not Exercise.DEADLIFT)
    mounts = np.array([quat_to_matrix(c.mount_quat_wxyz)[:, 2] for c in configs])
    assert np.abs(mounts.mean(axis=0)).max() < 0.15  # "up" points anywhere in the sensor frame


def test_nonsense_configs_are_refused() -> None:
    with pytest.raises(ConfigError):
        SimConfig(Exercise.SQUAT, 0)
    with pytest.raises(ConfigError):
        SimConfig(Exercise.SQUAT, 5, rate_hz=2000.0)


def test_random_config_overrides_and_clean_mode() -> None:
    rng = np.random.default_rng(0)
    config = random_config(rng, Exercise.CURL, rate_hz=12.5, has_gyro=False)
    assert (config.exercise, config.rate_hz, config.has_gyro) == (Exercise.CURL, 12.5, False)
    clean = random_config(rng, hard=False)
    assert clean.mount_quat_wxyz == (1.0, 0.0, 0.0, 0.0)
    assert clean.acc_noise_g == clean.drop_frac == clean.jitter_frac == clean.long_gap_s == 0.0
    assert not (clean.walkout or clean.failed_attempt or clean.sticking_reps)


def test_simulation_is_deterministic_and_config_round_trips() -> None:
    config = _hard_configs(1, seed=4)[0]
    a, b = simulate_set(config, 77), simulate_set(SimConfig.from_dict(json.loads(json.dumps(config.to_dict()))), 77)
    np.testing.assert_array_equal(a.samples.acc_g, b.samples.acc_g)
    assert a.truth == b.truth
    assert not np.array_equal(simulate_set(config, 78).samples.acc_g[:10], a.samples.acc_g[:10])


def test_a_minute_at_200_hz_takes_well_under_a_second() -> None:
    config = dataclasses.replace(_hard_configs(1)[0], exercise=Exercise.SQUAT, n_good_reps=12, rate_hz=200.0)
    simulate_set(config, 0)
    start = time.perf_counter()
    sim = simulate_set(config, 1)
    elapsed = time.perf_counter() - start
    assert sim.samples.t_s[-1] - sim.samples.t_s[0] > 60.0
    assert elapsed < 0.5


# --- files ---------------------------------------------------------------------------------------------------


def test_write_simulated_round_trips_through_read_recording(tmp_path: Path) -> None:
    sim = simulate_set(_hard_configs(1, seed=2)[0], 5)
    rec_path, truth_path = write_simulated(sim, tmp_path / "set.csv")
    assert truth_path == tmp_path / "set.truth.json"
    rec = read_recording(rec_path)
    for key in ("exercise", "placement", "sample_rate_hz", "sensor", "synthetic", "seed", "load_kg"):
        assert rec.metadata[key] == sim.metadata[key]
    assert rec.metadata["synthetic"] == "true" and rec.metadata["placement"] == "bar"
    np.testing.assert_allclose(rec.samples.t_s, sim.samples.t_s, atol=6e-7)
    np.testing.assert_allclose(rec.samples.acc_g, sim.samples.acc_g, atol=6e-6)
    assert rec.samples.has_gyro == sim.samples.has_gyro
    assert SetTruth.from_json(truth_path.read_text()) == sim.truth


def test_corpus_is_reproducible(tmp_path: Path) -> None:
    first = simulate_corpus(tmp_path / "a", 3, seed=9, exercise=Exercise.ROW)
    second = simulate_corpus(tmp_path / "b", 3, seed=9, exercise=Exercise.ROW)
    assert [p.name for p, _ in first] == [p.name for p, _ in second]
    for (a, ta), (b, tb) in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes() and ta.read_text() == tb.read_text()
        assert "_row_" in a.name


def test_sample_recordings(tmp_path: Path) -> None:
    paths = make_sample_recordings(tmp_path)
    assert 5 <= len(paths) <= 7
    readme = (tmp_path / "README.md").read_text()
    assert "synthetic" in readme and "repsense simulate" in readme
    truths = {}
    for path in paths:
        rec = read_recording(path)
        assert rec.metadata["synthetic"] == "true" and rec.metadata["seed"] in readme
        assert f"{float(rec.metadata['sample_rate_hz']):g}hz" in path.name
        truths[path.name] = SetTruth.from_json(path.with_suffix(".truth.json").read_text())
        assert rec.samples.has_gyro == ("nogyro" not in path.name)
    squat = truths["squat_amrap_walkout_100hz.csv"]
    assert squat.vl20_stop_rep is not None and len(squat.failed) == 1
    assert [r.sticking_point for r in squat.reps][-2:] == [True, True]
    assert any(not r.visible for t in truths.values() for r in t.reps)
    curl = read_recording(tmp_path / "curl_wrist_50hz_nogyro.csv")
    assert (curl.metadata["placement"], curl.metadata["exercise"]) == ("wrist", "curl")
    assert len(truths["curl_wrist_50hz_nogyro.csv"].reps) == 10
