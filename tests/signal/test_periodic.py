"""The wrist path for accessory lifts: reps from the rhythm of the whole accelerometer.

The sets here are made by turning gravity in the frame of a wrist sensor strapped on at a random angle: in a curl,
a cable pushdown or a raise the forearm swings through an arc each rep, and that is what a watch sees.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from repsense.events import Exercise, Placement, RepEvent, RepFlag
from repsense.firmware_bridge.sim_wrist import WristMotion, random_wrist_config, simulate_wrist_set
from repsense.samples import SampleBlock
from repsense.signal.periodic import PeriodicConfig, PeriodicRepCounter
from repsense.signal.pipeline import PipelineConfig, RepPipeline


def _rotation(rng: np.random.Generator) -> np.ndarray:
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    return q if np.linalg.det(q) > 0 else -q


def wrist_set(
    seed: int, reps: int, rate_hz: float = 50.0, arc_deg: float = 110.0, rest_s: float = 4.0
) -> tuple[SampleBlock, list[float]]:
    """A set of forearm swings seen by a wrist accelerometer, and the time each rep tops out."""
    rng = np.random.default_rng(seed)
    angle = [np.zeros(int(rest_s * rate_hz))]
    tops, t = [], rest_s
    for _ in range(reps):
        duration = rng.uniform(1.8, 3.2)
        phase = np.arange(int(duration * rate_hz)) / (duration * rate_hz)
        angle.append(np.deg2rad(arc_deg * rng.uniform(0.85, 1.0)) * (1 - np.cos(2 * np.pi * phase)) / 2)
        tops.append(t + duration / 2)
        t += duration
        pause = rng.uniform(0.0, 0.6)
        angle.append(np.zeros(int(pause * rate_hz)))
        t += int(pause * rate_hz) / rate_hz
    angle.append(np.zeros(int(rest_s * rate_hz)))
    theta = np.concatenate(angle)
    # Gravity turning about the forearm's hinge axis, then the strap's mounting angle, then noise and sway.
    gravity = np.stack([np.zeros_like(theta), np.sin(theta), np.cos(theta)], axis=1)
    acc = gravity @ _rotation(rng).T + rng.normal(0.0, 0.02, size=gravity.shape)
    acc += 0.03 * np.sin(2 * np.pi * 0.2 * np.arange(len(theta)) / rate_hz)[:, None]
    return SampleBlock(np.arange(len(theta)) / rate_hz, acc, None), tops


def counted(exercise: Exercise, samples: SampleBlock) -> list[RepEvent]:
    events = RepPipeline(PipelineConfig.for_lift(exercise, Placement.WRIST)).run(samples)
    return [e for e in events if isinstance(e, RepEvent)]


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("exercise", [Exercise.CURL, Exercise.OTHER])
def test_counts_forearm_swings_at_any_strap_angle(seed, exercise):
    reps = 5 + 2 * seed
    samples, tops = wrist_set(seed, reps)
    found = counted(exercise, samples)
    assert len(found) == reps
    assert all(RepFlag.VELOCITY_ESTIMATED in r.flags for r in found)
    assert all(r.t_start_s < r.t_end_s <= r.detected_at_s for r in found)
    assert [r.index for r in found] == list(range(1, reps + 1))
    # Each rep is placed at its own swing, even the first ones, which are counted once the rhythm is proved: its
    # time trails the top of the arc by the band-pass delay (or by half a swing when the projection points down).
    lag = np.array([r.t_end_s for r in found]) - tops
    assert np.ptp(lag) < 0.6 and -0.3 < np.mean(lag) < 2.0, lag


@pytest.mark.parametrize("rate_hz", [12.5, 25.0, 100.0])
def test_counts_at_low_and_high_rates(rate_hz):
    samples, _ = wrist_set(40, 8, rate_hz=rate_hz)
    assert len(counted(Exercise.CURL, samples)) == 8


def test_a_still_wrist_and_a_lone_swing_are_not_reps():
    still, _ = wrist_set(3, 0, rest_s=15.0)
    assert counted(Exercise.OTHER, still) == []
    lone, _ = wrist_set(3, 1, rest_s=8.0)  # picking a dumbbell up once
    assert counted(Exercise.OTHER, lone) == []


def test_barbell_lifts_keep_the_vertical_counter_and_accessories_get_the_periodic_one():
    for exercise in Exercise:
        pipeline = RepPipeline(PipelineConfig.for_lift(exercise, Placement.WRIST))
        uses_periodic = pipeline._periodic is not None
        assert uses_periodic == (exercise in (Exercise.CURL, Exercise.OTHER)), exercise
        assert (pipeline._wrist is not None) != uses_periodic


@pytest.fixture(scope="module")
def curl_set() -> SampleBlock:
    return wrist_set(9, 10, rate_hz=50.0)[0]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cuts=st.lists(st.integers(1, 400), min_size=1, max_size=40))
def test_events_do_not_depend_on_block_size(curl_set, cuts):
    whole = RepPipeline(PipelineConfig.for_lift(Exercise.CURL, Placement.WRIST)).run(curl_set)
    assert len(whole) == 10
    pipeline = RepPipeline(PipelineConfig.for_lift(Exercise.CURL, Placement.WRIST))
    events = []
    for piece in curl_set.split(cuts):
        events += pipeline.feed(piece)
    assert events + pipeline.flush() == whole


def test_counter_alone_keeps_state_between_blocks_and_restarts_after_a_gap():
    samples, _ = wrist_set(5, 9, rate_hz=100.0)
    s = np.ones(len(samples))
    counter = PeriodicRepCounter(PeriodicConfig())
    half = len(samples) // 2
    first = counter.feed(samples.t_s[:half], samples.acc_g[:half], s[:half], samples.t_s[:half])
    state = counter.state
    assert state.periodic and state.period_s is not None and 1.5 < state.period_s < 4.0
    counter.restart_after_gap()
    assert counter.state.rep_count == len(first) and len(counter.state.window) == 0
    counter.reset()
    assert counter.state.rep_count == 0 and counter.flush(0.0) == []


@pytest.mark.parametrize("seed", range(4))
def test_curls_end_at_lockout_with_their_velocity_estimated_from_the_rise(seed):
    """Against the wrist simulator's truth: a curl's concentric raises the wrist, so the rep is placed at the top
    of its travel and its MCV is that rise over its duration (before, half the reps sat at the bottom of the
    swing, reported the eccentric and read a tenth of the true velocity)."""
    config = random_wrist_config(np.random.default_rng(seed), WristMotion.CURL, hard=False)
    sim = simulate_wrist_set(config, seed)
    found = counted(Exercise.CURL, sim.samples)
    assert len(found) == len(sim.truth.reps)
    ends = np.array([r.t_end_s for r in found]) - [r.t_end_s for r in sim.truth.reps]
    assert np.all(np.abs(ends) < 0.6), ends
    ratio = np.array([r.mean_velocity_m_s for r in found]) / [r.mean_velocity_m_s for r in sim.truth.reps]
    assert 0.7 < np.median(ratio) < 1.3, ratio
