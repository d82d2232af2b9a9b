"""The glitch filter: single wrong samples out of the raw stream, clean samples untouched, in any orientation."""

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.transform import Rotation

from repsense.events import Exercise, Placement, RepEvent
from repsense.firmware_bridge.simulator import random_config, simulate_set
from repsense.samples import SampleBlock
from repsense.signal.despike import Decided, GlitchConfig, GlitchFilter, trimmed_vector_median, without_glitches
from repsense.signal.pipeline import PipelineConfig, RepPipeline

quaternions = st.lists(st.floats(-1.0, 1.0), min_size=4, max_size=4).filter(lambda q: np.linalg.norm(q) > 0.1)


def wrist_motion(n: int, rate_hz: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A wrist's specific force through lifts at 0.5 Hz, as a 12.5-100 Hz sensor sends it (noise 0.02 g)."""
    rng = np.random.default_rng(seed)
    t = 100.0 + np.arange(n) / rate_hz + rng.uniform(0.0, 0.2 / rate_hz, n)
    phase = 2 * np.pi * 0.5 * t
    acc = np.column_stack([0.3 * np.sin(phase), 0.2 * np.cos(phase), 1.0 + 0.4 * np.sin(phase)])
    return t, acc + rng.normal(0.0, 0.02, (n, 3))


def run(f: GlitchFilter, t: np.ndarray, acc: np.ndarray, cuts: list[int] = ()) -> Decided:
    parts = [f.feed(t[p], acc[p]) for p in np.split(np.arange(len(t)), sorted(set(cuts)))] + [f.flush()]
    return Decided(
        np.concatenate([p.t_s for p in parts]),
        np.vstack([p.acc_g for p in parts]),
        np.vstack([p.rest for p in parts]),
        np.concatenate([p.known_at_s for p in parts]),
    )


def glitched(acc: np.ndarray, where: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    out = acc.copy()
    direction = rng.normal(size=(len(where), 3))
    out[where] += direction / np.linalg.norm(direction, axis=1, keepdims=True) * rng.uniform(1.0, 3.0, (len(where), 1))
    return out


@pytest.mark.parametrize("rate_hz", [12.5, 50.0, 100.0])
def test_clean_samples_pass_untouched_and_are_known_two_samples_later(rate_hz):
    t, acc = wrist_motion(500, rate_hz, 1)
    f = GlitchFilter(GlitchConfig())
    out = run(f, t, acc)
    assert np.array_equal(out.t_s, t) and np.array_equal(out.acc_g, acc)
    assert f.replaced == 0
    np.testing.assert_array_equal(out.known_at_s[:-2], t[2:])
    np.testing.assert_array_equal(out.known_at_s[-2:], [t[-1], t[-1]])  # the end of the stream decides the last


def test_glitches_are_replaced_by_a_neighbour_and_nothing_else_changes():
    rng = np.random.default_rng(2)
    t, acc = wrist_motion(1000, 12.5, 2)
    where = np.sort(rng.choice(np.arange(3, 997), 30, replace=False))
    where = where[np.diff(where, prepend=-10) > 5]  # one glitch at a time (two in a row: the next test)
    f = GlitchFilter(GlitchConfig())
    out = run(f, t, glitched(acc, where, rng))
    assert f.replaced == len(where)
    untouched = np.setdiff1d(np.arange(len(t)), where)
    assert np.array_equal(out.acc_g[untouched], acc[untouched])
    for i in where:  # the consensus of its neighbours is one of them
        assert any(np.array_equal(out.acc_g[i], acc[j]) for j in (i - 2, i - 1, i + 1, i + 2))


def test_two_glitches_in_a_row_and_one_at_either_end():
    rng = np.random.default_rng(3)
    t, acc = wrist_motion(200, 50.0, 3)
    where = np.array([0, 80, 81, 199])
    out = run(GlitchFilter(GlitchConfig()), t, glitched(acc, where, rng))
    assert np.max(np.linalg.norm(out.acc_g - acc, axis=1)) < 0.15


def test_samples_across_a_gap_are_never_compared():
    """The sensor turned while the link was down: after the gap gravity lies on another axis. Neither side is a
    glitch of the other, and a sample before the gap is known when the first one after it arrives."""
    t, acc = wrist_motion(100, 50.0, 4)
    t[50:] += 3.0
    acc[50:] = acc[50:, [2, 0, 1]]
    f = GlitchFilter(GlitchConfig())
    out = run(f, t, acc, cuts=[49, 50])
    assert f.replaced == 0 and np.array_equal(out.acc_g, acc)
    assert out.known_at_s[48] == out.known_at_s[49] == t[50]


def test_other_channels_pass_along_with_their_samples():
    rng = np.random.default_rng(5)
    t, acc = wrist_motion(300, 25.0, 5)
    gyro = rng.normal(0.0, 50.0, (300, 3))
    f = GlitchFilter(GlitchConfig(), rest_channels=3)
    parts = [f.feed(t[:123], acc[:123], gyro[:123]), f.feed(t[123:], acc[123:], gyro[123:]), f.flush()]
    assert np.array_equal(np.vstack([p.rest for p in parts]), gyro)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    cuts=st.lists(st.integers(1, 399), max_size=30),
    rate_hz=st.sampled_from([12.5, 25.0, 52.0, 100.0]),
)
def test_the_same_output_for_any_block_size(seed, cuts, rate_hz):
    rng = np.random.default_rng(seed)
    t, acc = wrist_motion(400, rate_hz, seed)
    t[rng.integers(100, 300) :] += 2.0  # a gap somewhere
    acc = glitched(acc, rng.choice(400, 12, replace=False), rng)
    whole = run(GlitchFilter(GlitchConfig()), t, acc)
    cut = run(GlitchFilter(GlitchConfig()), t, acc, cuts)
    for a, b in zip(dataclasses.astuple(whole), dataclasses.astuple(cut), strict=True):
        assert np.array_equal(a, b)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**16), quaternion=quaternions)
def test_the_same_glitches_in_any_sensor_orientation(seed, quaternion):
    turn = Rotation.from_quat(quaternion).as_matrix()
    rng = np.random.default_rng(seed)
    t, acc = wrist_motion(300, 25.0, seed)
    acc = glitched(acc, rng.choice(300, 10, replace=False), rng)
    f, g = GlitchFilter(GlitchConfig()), GlitchFilter(GlitchConfig())
    straight, turned = run(f, t, acc), run(g, t, acc @ turn.T)
    assert f.replaced == g.replaced
    np.testing.assert_allclose(turned.acc_g, straight.acc_g @ turn.T, atol=1e-9)


def test_a_wrist_counts_the_same_reps_through_glitches():
    """A glitch every 3 s at 12.5 Hz, integrated, is a rep-sized step: without the filter, 3 of these 5 sets
    count a rep more; with it, all 5 come out as they do without the glitches."""
    miscounted = 0
    for exercise in (Exercise.SQUAT, Exercise.BENCH, Exercise.OHP, Exercise.ROW, Exercise.DEADLIFT):
        rng = np.random.default_rng([11, list(Exercise).index(exercise)])
        sim = simulate_set(random_config(rng, exercise, rate_hz=12.5, has_gyro=False, hard=False), seed=41)
        t = sim.samples.t_s
        noisy = SampleBlock(t, glitched(sim.samples.acc_g, np.searchsorted(t, np.arange(t[0] + 1, t[-1] - 1, 3)), rng))
        config = PipelineConfig.for_lift(exercise, Placement.WRIST)

        def ends(samples: SampleBlock, cfg: PipelineConfig) -> np.ndarray:
            return np.array([e.t_end_s for e in RepPipeline(cfg).run(samples) if isinstance(e, RepEvent)])

        clean, through = ends(sim.samples, config), ends(noisy, config)
        assert len(through) == len(clean), exercise
        assert np.max(np.abs(through - clean)) < 0.2, exercise  # a replaced sample takes a neighbour's value
        miscounted += len(ends(noisy, dataclasses.replace(config, glitch=None))) != len(clean)
    assert miscounted >= 2


@settings(max_examples=40, deadline=None)
@given(q=quaternions, seed=st.integers(0, 2**16))
def test_despike_turns_with_the_sensor_and_drops_glitches(q, seed):
    """Turning the sensor turns the despiked signal with it (a median of each axis would not), and a lone glitch
    leaves no trace."""
    rng = np.random.default_rng(seed)
    t = np.arange(200) / 50.0
    x = np.column_stack([np.sin(1.3 * t), np.cos(0.7 * t), 0.5 * np.sin(2.1 * t + 1.0)]) + rng.normal(0, 0.02, (200, 3))
    glitchy = x.copy()
    glitchy[[40, 120, 121]] += rng.choice([-1.0, 1.0], (3, 3)) * 2.0
    turn = Rotation.from_quat(q).as_matrix()
    out = trimmed_vector_median(glitchy, 9, 5)
    np.testing.assert_allclose(trimmed_vector_median(glitchy @ turn.T, 9, 5), out @ turn.T, atol=1e-9)
    clean = trimmed_vector_median(x, 9, 5)
    assert np.max(np.abs(out - clean)) < 0.15  # a glitch of 2 g let into a mean of 5 would move it 0.4 g


def test_a_whole_recording_comes_out_as_the_stream_does():
    rng = np.random.default_rng(6)
    t, acc = wrist_motion(300, 12.5, 6)
    acc = glitched(acc, np.array([30, 150, 151]), rng)
    gyro = rng.normal(0.0, 30.0, (300, 3))
    whole = without_glitches(SampleBlock(t, acc, gyro), GlitchConfig())
    streamed = run(GlitchFilter(GlitchConfig()), t, acc)
    assert np.array_equal(whole.t_s, streamed.t_s) and np.array_equal(whole.acc_g, streamed.acc_g)
    assert np.array_equal(whole.gyro_dps, gyro)
