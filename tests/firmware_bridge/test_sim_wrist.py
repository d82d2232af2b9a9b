"""The wrist simulator: physical consistency, the sensor model, the truth, and what the wrist pipeline makes of it."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import cumulative_trapezoid
from scipy.spatial.transform import Rotation

from repsense.errors import ConfigError
from repsense.events import Exercise, Placement, RepEvent, RepFlag
from repsense.firmware_bridge.recording import read_recording
from repsense.firmware_bridge.sim_kinematics import DT_S
from repsense.firmware_bridge.sim_wrist import (
    MOTIONS,
    WRIST_RATES_HZ,
    WristMotion,
    WristSimConfig,
    ideal_readings,
    random_wrist_config,
    simulate_wrist_motion,
    simulate_wrist_set,
)
from repsense.firmware_bridge.simulator import SetTruth, write_simulated
from repsense.samples import SampleBlock
from repsense.signal.pipeline import PipelineConfig, RepPipeline

#: No sway and no rep-to-rep spread: the geometry alone decides the truth.
STILL: dict[str, Any] = dict(sway_m=0.0, sway_deg=0.0, rom_sd_frac=0.0)


def _hard(motion: WristMotion, seed: int, **changes: Any) -> WristSimConfig:
    return dataclasses.replace(random_wrist_config(np.random.default_rng(seed), motion), **changes)


def _counted(exercise: str, samples: SampleBlock) -> list[RepEvent]:
    events = RepPipeline(PipelineConfig.for_lift(Exercise(exercise), Placement.WRIST)).run(samples)
    return [e for e in events if isinstance(e, RepEvent)]


# --- determinism ---------------------------------------------------------------------------------------------


@settings(max_examples=8, deadline=None)
@given(motion=st.sampled_from(list(WristMotion)), seed=st.integers(0, 2**31 - 1))
def test_same_config_and_seed_give_the_same_set(motion: WristMotion, seed: int) -> None:
    config = random_wrist_config(np.random.default_rng(seed), motion)
    a, b = simulate_wrist_set(config, seed), simulate_wrist_set(config, seed)
    np.testing.assert_array_equal(a.samples.t_s, b.samples.t_s)
    np.testing.assert_array_equal(a.samples.acc_g, b.samples.acc_g)
    assert (a.samples.gyro_dps is None) == (b.samples.gyro_dps is None) == (not config.has_gyro)
    assert a.truth == b.truth and a.metadata == b.metadata
    other = simulate_wrist_set(config, seed + 1)
    assert not np.array_equal(other.samples.acc_g[:100], a.samples.acc_g[:100])


def test_the_sensor_draws_apart_from_the_motion() -> None:
    config = _hard(WristMotion.CURL, 4)
    noisier = dataclasses.replace(config, acc_noise_g=0.05, spike_count=3, has_gyro=not config.has_gyro)
    assert simulate_wrist_set(config, 9).truth.reps == simulate_wrist_set(noisier, 9).truth.reps


# --- physics -------------------------------------------------------------------------------------------------


@settings(max_examples=20, deadline=None)
@given(
    motion=st.sampled_from(list(WristMotion)),
    roll=st.floats(0.0, 360.0),
    tilt=st.tuples(st.floats(-6.0, 6.0), st.floats(-6.0, 6.0)),
    plane=st.floats(-30.0, 90.0),
    setup=st.booleans(),
)
def test_at_rest_the_sensor_reads_one_g(
    motion: WristMotion, roll: float, tilt: tuple[float, float], plane: float, setup: bool
) -> None:
    config = WristSimConfig(
        motion, n_reps=2, strap_roll_deg=roll, strap_tilt_deg=tilt, plane_deg=plane, setup=setup, **STILL
    )
    kin = simulate_wrist_motion(config, 1)
    f_g, _ = ideal_readings(kin)
    lead_in = slice(0, round(0.9 * config.lead_in_s / DT_S))
    np.testing.assert_allclose(np.linalg.norm(f_g[lead_in], axis=1), 1.0, atol=1e-9)
    # The world's up, seen through the sensor's orientation, is what it reads.
    np.testing.assert_allclose(f_g[lead_in], kin.sensor_rot[lead_in, 2, :], atol=1e-9)
    quiet = simulate_wrist_set(dataclasses.replace(config, acc_noise_g=0.0), 1).samples
    still = quiet.t_s < 0.9 * config.lead_in_s
    np.testing.assert_allclose(np.linalg.norm(quiet.acc_g[still], axis=1), 1.0, atol=1e-3)


def test_with_body_sway_the_lead_in_is_near_stillness() -> None:
    config = _hard(WristMotion.RAISE, 2, setup=False)
    samples = simulate_wrist_set(dataclasses.replace(config, acc_noise_g=0.0), 2).samples
    still = samples.t_s - config.time_origin_s < config.lead_in_s
    assert np.max(np.abs(np.linalg.norm(samples.acc_g[still], axis=1) - 1.0)) < 0.03


@settings(max_examples=12, deadline=None)
@given(motion=st.sampled_from(list(WristMotion)), seed=st.integers(0, 10_000))
def test_gyro_is_the_finite_difference_rotation_rate(motion: WristMotion, seed: int) -> None:
    """Everything that turns the sensor at once: the swing, the twist, body sway, set-up moves and the strap."""
    config = _hard(motion, seed, n_reps=3, setup=True)
    kin = simulate_wrist_motion(config, seed)
    _, w_dps = ideal_readings(kin)
    step = np.einsum("nji,njk->nik", kin.sensor_rot[:-1], kin.sensor_rot[1:])  # R_k^T R_k+1, in the sensor frame
    finite = np.rad2deg(Rotation.from_matrix(step).as_rotvec()) / DT_S
    midpoint = 0.5 * (w_dps[:-1] + w_dps[1:])
    assert np.max(np.abs(finite - midpoint)) < 0.01
    assert np.max(np.abs(w_dps)) > 10.0  # it does turn (a dumbbell press, the least, turns 19-25 deg/s at most)


@pytest.mark.parametrize("motion", list(WristMotion))
def test_double_integrated_acceleration_gives_the_truth_rom(motion: WristMotion) -> None:
    config = _hard(motion, 3)
    kin = simulate_wrist_motion(config, 3)
    truth = simulate_wrist_set(config, 3).truth
    sign = 1.0 if MOTIONS[motion].wrist_rises else -1.0
    for rep, (c0, c1) in zip(truth.reps, kin.concentrics, strict=True):
        vel = kin.vel_m_s[c0, 2] + cumulative_trapezoid(kin.acc_m_s2[c0 : c1 + 1, 2], dx=DT_S, initial=0.0)
        rise = sign * cumulative_trapezoid(vel, dx=DT_S, initial=0.0)[-1]
        assert rise == pytest.approx(rep.rom_m, abs=2e-3)


# --- the truth -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("motion", list(WristMotion))
def test_truth_rom_is_the_geometry(motion: WristMotion) -> None:
    prof = MOTIONS[motion]
    config = WristSimConfig(motion, n_reps=4, **STILL)
    truth = simulate_wrist_set(config, 0).truth
    length, arc, low = (float(np.mean(r)) for r in (prof.segment_m, prof.arc_deg, prof.low_deg))
    if prof.stroke_m is not None:
        expected = float(np.mean(prof.stroke_m))
    else:  # the wrist rides a circle about the pivot: it rises (or falls) L (cos low - cos high)
        expected = length * (np.cos(np.deg2rad(low)) - np.cos(np.deg2rad(low + arc)))
    assert [r.rom_m for r in truth.reps] == pytest.approx([expected] * 4, abs=1e-4)


def test_curl_rise_is_forearm_times_one_minus_cos_arc() -> None:
    config = WristSimConfig(WristMotion.CURL, n_reps=3, segment_m=0.3, arc_deg=120.0, low_deg=0.0, **STILL)
    truth = simulate_wrist_set(config, 0).truth
    assert all(r.rom_m == pytest.approx(0.3 * (1.0 - np.cos(np.deg2rad(120.0))), abs=1e-4) for r in truth.reps)


@pytest.mark.parametrize("motion", list(WristMotion))
def test_truth_is_sane_on_hard_sets(motion: WristMotion) -> None:
    for seed in range(3):
        config = _hard(motion, seed)
        sim = simulate_wrist_set(config, seed)
        truth, reps = sim.truth, sim.truth.reps
        assert len(reps) == config.n_reps and [r.index for r in reps] == list(range(1, config.n_reps + 1))
        assert truth.exercise == str(MOTIONS[motion].exercise) and truth.failed == [] and truth.gaps == []
        assert all(r.visible for r in reps)
        t0, t1 = sim.samples.t_s[0], sim.samples.t_s[-1]
        for rep, after in zip(reps, [*reps[1:], None], strict=True):
            assert t0 < rep.t_start_s < rep.t_end_s < (after.t_start_s if after else t1)
            assert 0.8 <= rep.t_end_s - rep.t_start_s <= 1.8 / (1.0 - config.fatigue_per_rep_frac) ** (rep.index - 1)
            assert 0.15 < rep.rom_m < 0.8
            assert rep.mean_velocity_m_s == pytest.approx(rep.rom_m / (rep.t_end_s - rep.t_start_s), rel=1e-9)
            assert rep.peak_velocity_m_s > rep.mean_velocity_m_s > 0.0
        assert truth.config == config.to_dict() and truth.seed == seed


def test_the_concentric_slows_with_fatigue() -> None:
    config = WristSimConfig(n_reps=8, concentric_s=(1.0, 1.0), fatigue_per_rep_frac=0.05, **STILL)
    reps = simulate_wrist_set(config, 0).truth.reps
    durations = np.array([r.t_end_s - r.t_start_s for r in reps])
    np.testing.assert_allclose(durations, 1.0 / 0.95 ** np.arange(8), atol=1.5e-3)
    loss = 1.0 - np.array([r.mean_velocity_m_s for r in reps]) / reps[0].mean_velocity_m_s
    assert simulate_wrist_set(config, 0).truth.vl20_stop_rep == 1 + int(np.argmax(loss >= 0.2))


def test_setup_moves_carry_the_wrist_half_a_metre() -> None:
    for motion in WristMotion:
        config = WristSimConfig(motion, n_reps=3, setup=True, **STILL)
        kin = simulate_wrist_motion(config, 5)
        z = kin.pos_m[:, 2]
        first = kin.concentrics[0][0]  # every eccentric comes back to where the first concentric started
        travel = np.array([z[first] - z[0], z[-1] - z[first]])
        rises = MOTIONS[motion].wrist_rises
        # Up to the first rep (a cable's handle: down to it), and back after the last.
        assert np.all(np.abs(travel) > 0.3) and np.all(np.abs(travel) < 0.75), (motion, travel)
        assert np.sign(travel[0]) == (1 if rises else -1) and np.sign(travel[1]) == (-1 if rises else 1)


# --- the sensor ----------------------------------------------------------------------------------------------


def test_spikes_are_single_samples_of_half_a_g_and_more() -> None:
    config = WristSimConfig(acc_noise_g=0.0, spike_count=3)
    spiky = simulate_wrist_set(config, 8).samples.acc_g
    clean = simulate_wrist_set(dataclasses.replace(config, spike_count=0), 8).samples.acc_g
    jump = np.linalg.norm(spiky - clean, axis=1)
    assert np.count_nonzero(jump > 1e-9) == 3
    assert np.all((jump[jump > 1e-9] > 0.49) & (jump[jump > 1e-9] < 1.51))


def test_samples_come_at_the_rate_with_metadata() -> None:
    for rate in WRIST_RATES_HZ:
        config = _hard(WristMotion.PRESS, 1, rate_hz=rate, has_gyro=rate > 30)
        sim = simulate_wrist_set(config, 1)
        np.testing.assert_allclose(np.diff(sim.samples.t_s), 1.0 / rate, rtol=1e-6)
        assert sim.samples.has_gyro == (rate > 30)
        assert sim.metadata == {
            "exercise": "other",
            "placement": "wrist",
            "sample_rate_hz": f"{rate:g}",
            "sensor": "repsense-simulator",
            "synthetic": "true",
            "seed": "1",
            "motion": "press",
        }


def test_random_configs() -> None:
    rng = np.random.default_rng(0)
    hard = [random_wrist_config(rng) for _ in range(200)]
    assert {c.motion for c in hard} == set(WristMotion)
    assert {c.rate_hz for c in hard} == set(WRIST_RATES_HZ)
    assert 0.35 < np.mean([c.has_gyro for c in hard]) < 0.65 and 0.35 < np.mean([c.setup for c in hard]) < 0.65
    assert all(0.005 <= c.acc_noise_g <= 0.02 and 0 <= c.spike_count <= 3 for c in hard)
    assert all(0.02 <= c.fatigue_per_rep_frac <= 0.06 for c in hard)
    clean = [random_wrist_config(rng, hard=False) for _ in range(20)]
    assert all(c.rate_hz == 50.0 and c.spike_count == 0 and not c.setup and c.acc_noise_g <= 0.003 for c in clean)
    assert WristSimConfig.from_dict(hard[0].to_dict()) == hard[0]


def test_bad_configs_are_config_errors() -> None:
    for bad in (dict(motion="squat"), dict(n_reps=0), dict(rate_hz=0.0), dict(spike_count=-1)):
        with pytest.raises(ConfigError):
            WristSimConfig(**bad)


# --- through the wrist pipeline -----------------------------------------------------------------------------


@pytest.mark.parametrize("rate_hz", [12.5, 50.0])
@pytest.mark.parametrize("motion", list(WristMotion))
def test_clean_sets_are_counted_exactly(motion: WristMotion, rate_hz: float) -> None:
    for seed in range(3):
        config = random_wrist_config(np.random.default_rng(seed), motion, rate_hz=rate_hz, hard=False)
        sim = simulate_wrist_set(config, seed)
        reps = _counted(sim.metadata["exercise"], sim.samples)
        assert len(reps) == config.n_reps, (motion, rate_hz, seed)
        timed = RepFlag.VELOCITY_ESTIMATED if motion is WristMotion.CURL else RepFlag.NO_VELOCITY
        assert all(timed in r.flags for r in reps)


def test_a_written_set_replays_to_the_same_reps(tmp_path: Path) -> None:
    config = random_wrist_config(np.random.default_rng(3), WristMotion.CURL, rate_hz=25.0, hard=False)
    sim = simulate_wrist_set(config, 3)
    recording, truth_file = write_simulated(sim, tmp_path / "curl.csv")
    rec = read_recording(recording)
    assert {k: rec.metadata[k] for k in sim.metadata} == sim.metadata
    assert SetTruth.from_json(truth_file.read_text()) == sim.truth
    replayed, direct = _counted(rec.metadata["exercise"], rec.samples), _counted("curl", sim.samples)
    assert len(replayed) == len(direct) == config.n_reps
    for a, b in zip(replayed, direct, strict=True):
        assert a.index == b.index and [a.t_start_s, a.t_end_s] == pytest.approx([b.t_start_s, b.t_end_s])
        assert a.mean_velocity_m_s == pytest.approx(b.mean_velocity_m_s, rel=1e-3)


# --- alternating curls ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("hard", [False, True])
def test_alternating_curls_hold_the_sensors_arm_still_while_the_other_arm_curls(hard: bool) -> None:
    config = random_wrist_config(np.random.default_rng(5), WristMotion.CURL, hard=hard, alternating=True)
    kin = simulate_wrist_motion(config, 5)
    sim = simulate_wrist_set(config, 5)
    assert sim.metadata["exercise"] == sim.truth.exercise == "alt_curl" and config.exercise is Exercise.ALT_CURL
    reps = sim.truth.reps
    assert len(reps) == 2 * config.n_reps == 2 * len(kin.concentrics) == 2 * len(kin.other_arm)
    assert [r.index for r in reps] == list(range(1, len(reps) + 1))
    seen, other = reps[0::2], reps[1::2]
    for k, (s, o) in enumerate(zip(seen, other, strict=True)):
        # The other arm repeats the rep after the sensor's arm is down, before the sensor's next one.
        assert (o.rom_m, o.mean_velocity_m_s, o.peak_velocity_m_s) == (
            s.rom_m,
            s.mean_velocity_m_s,
            s.peak_velocity_m_s,
        )
        assert o.t_end_s - o.t_start_s == pytest.approx(s.t_end_s - s.t_start_s)
        assert o.t_start_s > s.t_end_s and (k + 1 == len(seen) or o.t_end_s < seen[k + 1].t_start_s)
        # Meanwhile the sensor's wrist hangs still: body sway only.
        o0, o1 = kin.other_arm[k]
        assert np.ptp(kin.pos_m[o0 : o1 + 1, 2]) < 0.03
        assert s.rom_m > 0.25


def test_only_curls_alternate() -> None:
    with pytest.raises(ConfigError, match="only curls"):
        WristSimConfig(WristMotion.RAISE, alternating=True)
    assert WristSimConfig().exercise is Exercise.CURL
