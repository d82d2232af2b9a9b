"""The streaming contract every processor keeps (in the manner of river's checks):

- the result does not depend on how the stream is cut into blocks;
- ``reset()`` restores the starting behaviour;
- the input is never mutated;
- a deep copy taken mid-stream behaves exactly like the original.
"""

import copy

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from repsense.errors import RecordingError
from repsense.events import Exercise, Placement, RepEvent
from repsense.firmware_bridge.simulator import random_config, simulate_set
from repsense.samples import SampleBlock
from repsense.signal.pipeline import PipelineConfig, RepPipeline
from repsense.signal.resample import Gap, ResamplerConfig, UniformResampler
from repsense.signal.vertical import VerticalConfig, VerticalSpecificForce


def _sim(exercise: Exercise, seed: int, **kw) -> SampleBlock:
    rng = np.random.default_rng(seed)
    return simulate_set(random_config(rng, exercise, **kw), seed).samples


@pytest.fixture(scope="module")
def squat_gyro() -> SampleBlock:
    return _sim(Exercise.SQUAT, 11, rate_hz=60.0, has_gyro=True)


@pytest.fixture(scope="module")
def bench_nogyro() -> SampleBlock:
    return _sim(Exercise.BENCH, 12, rate_hz=45.0, has_gyro=False)


def run_in_pieces(block: SampleBlock, cuts: list[int], exercise: Exercise = Exercise.SQUAT):
    pipeline = RepPipeline(PipelineConfig.for_lift(exercise))
    events = []
    for piece in block.split(cuts):
        events += pipeline.feed(piece)
    return events + pipeline.flush()


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cuts=st.lists(st.integers(1, 500), min_size=1, max_size=60))
def test_events_do_not_depend_on_block_size(squat_gyro, cuts):
    whole = RepPipeline(PipelineConfig.for_lift(Exercise.SQUAT)).run(squat_gyro)
    assert whole, "the fixture set has reps"
    assert run_in_pieces(squat_gyro, cuts) == whole


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cuts=st.lists(st.integers(1, 300), min_size=1, max_size=60))
def test_events_do_not_depend_on_block_size_without_gyro(bench_nogyro, cuts):
    whole = RepPipeline(PipelineConfig.for_lift(Exercise.BENCH)).run(bench_nogyro)
    assert whole
    assert run_in_pieces(bench_nogyro, cuts, Exercise.BENCH) == whole


def test_sample_by_sample_equals_one_block(squat_gyro):
    whole = RepPipeline(PipelineConfig.for_lift(Exercise.SQUAT)).run(squat_gyro)
    assert run_in_pieces(squat_gyro, [1] * len(squat_gyro)) == whole


def test_reset_restores_the_starting_behaviour(squat_gyro):
    pipeline = RepPipeline(PipelineConfig.for_lift(Exercise.SQUAT))
    first = pipeline.run(squat_gyro)
    pipeline.reset()
    assert pipeline.run(squat_gyro) == first


def test_input_is_never_mutated(squat_gyro):
    before = (squat_gyro.t_s.copy(), squat_gyro.acc_g.copy(), squat_gyro.gyro_dps.copy())
    RepPipeline(PipelineConfig.for_lift(Exercise.SQUAT)).run(squat_gyro)
    assert np.array_equal(before[0], squat_gyro.t_s)
    assert np.array_equal(before[1], squat_gyro.acc_g)
    assert np.array_equal(before[2], squat_gyro.gyro_dps)


def test_a_deep_copy_mid_stream_behaves_the_same(squat_gyro):
    half = len(squat_gyro) // 2
    pipeline = RepPipeline(PipelineConfig.for_lift(Exercise.SQUAT))
    pipeline.feed(squat_gyro.slice(0, half))
    clone = copy.deepcopy(pipeline)
    rest = squat_gyro.slice(half, len(squat_gyro))
    assert clone.feed(rest) + clone.flush() == pipeline.feed(rest) + pipeline.flush()


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cuts=st.lists(st.integers(1, 200), min_size=1, max_size=40))
def test_resampler_is_bit_identical_across_cuts(squat_gyro, cuts):
    def run(pieces):
        r = UniformResampler(ResamplerConfig(), 3)
        out = []
        for p in pieces:
            out += r.feed(p.t_s, p.acc_g)
        return out

    def flatten(items):
        """The output stream, wherever it was cut: grid values in order, with gaps as markers."""
        out = []
        for item in items:
            if isinstance(item, Gap):
                out.append(("gap", item.t_s, item.duration_s))
            else:
                out.extend(
                    zip(
                        item.t_s.tolist(),
                        map(tuple, item.x.tolist()),
                        item.enabled_at_s.tolist(),
                        item.hole.tolist(),
                        item.input_interval_s.tolist(),
                        strict=True,
                    )
                )
        return out

    whole = flatten(run([squat_gyro]))
    assert len(whole) > 1000
    assert flatten(run(squat_gyro.split(cuts))) == whole


def test_resampler_reports_when_its_input_became_known():
    """A stage before it that holds samples back (the glitch filter) passes when each became known: a grid value
    is known when the sample after it is, not at that sample's own time."""
    t = 10.0 + np.arange(200) / 50.0
    x = np.column_stack([np.sin(t), np.cos(t), np.ones_like(t)])
    known = t + 0.04  # each sample waits for the two after it at 50 Hz
    t[120:] += 2.0  # and a gap
    known[120:] += 2.0
    plain, held = UniformResampler(ResamplerConfig(), 3), UniformResampler(ResamplerConfig(), 3)
    a = plain.feed(t[:77], x[:77]) + plain.feed(t[77:], x[77:])
    b = held.feed(t[:77], x[:77], known[:77]) + held.feed(t[77:], x[77:], known[77:])
    assert [type(i) for i in a] == [type(i) for i in b] and sum(isinstance(i, Gap) for i in b) == 1
    for p, q in zip(a, b, strict=True):
        if not isinstance(p, Gap):
            assert np.array_equal(p.x, q.x) and np.array_equal(p.t_s, q.t_s)
            np.testing.assert_allclose(q.enabled_at_s, p.enabled_at_s + 0.04)


def holes_of(t: np.ndarray, cuts: list[int] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The grid times, hole flags and usual input intervals the resampler gives for samples at times ``t``, fed in
    pieces."""
    r = UniformResampler(ResamplerConfig(), 3)
    x = np.column_stack([np.sin(t), np.cos(t), np.ones_like(t)])
    items = []
    for piece in np.split(np.arange(len(t)), np.cumsum(cuts or [])):
        if len(piece):
            items += r.feed(t[piece], x[piece])
    chunks = [i for i in items if not isinstance(i, Gap)]
    return tuple(np.concatenate([getattr(c, name) for c in chunks]) for name in ("t_s", "hole", "input_interval_s"))


@pytest.mark.parametrize(
    ("rate_hz", "two_lost_is_a_hole"), [(10.0, True), (12.5, True), (50.0, True), (100.0, False), (400.0, False)]
)
def test_a_hole_is_judged_against_the_inputs_own_rate(rate_hz, two_lost_is_a_hole):
    """At 10-12.5 Hz (WitMotion's and MetaMotion's defaults) the normal spacing of samples and a single lost sample
    are no hole; two lost in a row are, as at 50 Hz. At 100 Hz and above, more than 0.05 s is."""
    rng = np.random.default_rng(4)
    t = 3.0 + np.cumsum(rng.uniform(0.9, 1.1, 400)) / rate_hz  # 10 % jitter
    long_loss = max(3, round(0.06 * rate_hz))
    keep = np.ones(len(t), dtype=bool)
    keep[100] = False
    keep[200:202] = False
    keep[300 : 300 + long_loss] = False
    grid, hole, interval = holes_of(t[keep])
    np.testing.assert_allclose(interval[grid > t[20]], 1.0 / rate_hz, rtol=0.1)

    def across(first: int, lost: int) -> np.ndarray:
        """The grid values between the samples either side of those lost."""
        return (grid > t[first - 1]) & (grid < t[first + lost])

    assert not np.any(hole[across(100, 1)])
    assert np.all(hole[across(200, 2)]) if two_lost_is_a_hole else not np.any(hole[across(200, 2)])
    assert np.all(hole[across(300, long_loss)])
    assert not np.any(hole & ~across(200, 2) & ~across(300, long_loss))


@settings(max_examples=25, deadline=None)
@given(cuts=st.lists(st.integers(1, 60), min_size=1, max_size=30), seed=st.integers(0, 1000))
def test_holes_do_not_depend_on_block_size(cuts, seed):
    """The usual interval is a running median over the last samples, carried across blocks and gaps."""
    rng = np.random.default_rng(seed)
    dt = rng.choice([1 / 12.5, 1 / 50.0])
    # Intervals in sample periods: mostly one, some with one or two samples lost, now and then a gap of 1.2 s.
    periods = rng.choice([1.0, 2.0, 3.0, 1.2 / dt], size=300, p=[0.8, 0.1, 0.09, 0.01])
    t = np.cumsum(periods * dt * rng.uniform(0.8, 1.2, 300))
    whole = holes_of(t)
    assert np.any(whole[1])
    pieces = holes_of(t, cuts)
    assert all(np.array_equal(p, w) for p, w in zip(pieces, whole, strict=True))


@pytest.mark.parametrize("with_gyro", [True, False])
def test_vertical_filter_is_bit_identical_across_cuts(squat_gyro, with_gyro):
    acc = squat_gyro.acc_g[:2000]
    gyro = squat_gyro.gyro_dps[:2000] if with_gyro else None
    whole = VerticalSpecificForce(VerticalConfig()).feed(acc, gyro)
    v = VerticalSpecificForce(VerticalConfig())
    parts = [v.feed(acc[i : i + 137], None if gyro is None else gyro[i : i + 137]) for i in range(0, 2000, 137)]
    for k in range(3):
        assert np.array_equal(np.concatenate([p[k] for p in parts]), whole[k])


def test_samples_exactly_on_the_grid_give_the_same_events_however_cut(squat_gyro):
    """A sample that sits exactly on a grid point must not make the point wait for the next sample in one cut
    and not in another (seen when a live session and its replay cut a 100 Hz stream differently)."""
    t = np.round((squat_gyro.t_s - squat_gyro.t_s[0]) * 100.0) / 100.0 + 1000.0
    keep = np.r_[True, np.diff(t) > 0]
    on_grid = SampleBlock(t[keep], squat_gyro.acc_g[keep], squat_gyro.gyro_dps[keep])
    whole = RepPipeline(PipelineConfig.for_lift(Exercise.SQUAT)).run(on_grid)
    assert whole
    assert run_in_pieces(on_grid, [1] * len(on_grid)) == whole
    assert run_in_pieces(on_grid, [7, 3, 50] * 500) == whole


@pytest.mark.parametrize("placement", [Placement.BAR, Placement.WRIST])
@pytest.mark.parametrize("with_gyro", [True, False])
def test_samples_reading_zero_before_the_sensor_wakes_are_taken_as_lost(squat_gyro, placement, with_gyro):
    """Some sensors send (0, 0, 0) until they are awake. With a gyroscope that crashed the pipeline (dividing by
    the length of "up"), and without one it made "up" NaN for good: 0 reps of 8. No accelerometer reads exactly
    zero on all three axes, so such samples are skipped, however the stream is cut."""
    gyro = squat_gyro.gyro_dps if with_gyro else None
    acc = squat_gyro.acc_g.copy()
    acc[:3] = 0.0
    acc[500] = 0.0
    woken = SampleBlock(squat_gyro.t_s, acc, gyro)
    read = np.ones(len(acc), dtype=bool)
    read[[0, 1, 2, 500]] = False
    without = SampleBlock(squat_gyro.t_s[read], squat_gyro.acc_g[read], None if gyro is None else gyro[read])
    config = PipelineConfig.for_lift(Exercise.SQUAT, placement)
    expected = RepPipeline(config).run(without)
    assert sum(isinstance(e, RepEvent) for e in expected) >= 6
    assert RepPipeline(config).run(woken) == expected
    pieces = RepPipeline(config)
    assert [e for part in woken.split([1, 2, 3, 4, 501]) for e in pieces.feed(part)] + pieces.flush() == expected


def test_vertical_filter_starts_from_the_first_sample_that_reads_anything(squat_gyro):
    acc = squat_gyro.acc_g[:50].copy()
    acc[:2] = 0.0
    for gyro in (squat_gyro.gyro_dps[:50], None):
        s, s_smooth, up = VerticalSpecificForce(VerticalConfig()).feed(acc, gyro)
        assert np.all(np.isfinite(s)) and np.all(np.isfinite(s_smooth)) and np.all(np.isfinite(up))
        assert np.allclose(np.linalg.norm(up[10:], axis=1), 1.0, atol=0.05)


@pytest.mark.parametrize("exercise", [Exercise.CURL, Exercise.ALT_CURL, Exercise.SQUAT])
def test_an_event_is_never_dated_before_the_sample_that_brought_it(exercise):
    """``detected_at_s`` is the time of the last sample consumed when the event came out. On the wrist the glitch
    filter holds each sample until two more have come, so a gap is noticed that much later than the sample after
    it; the reps it released were dated at that sample, 0.16 s before they could be known at 12.5 Hz."""
    from repsense.firmware_bridge.sim_wrist import WristMotion, random_wrist_config, simulate_wrist_set

    rng = np.random.default_rng([1, 0])
    sim = simulate_wrist_set(random_wrist_config(rng, WristMotion.CURL, rate_hz=12.5, hard=False), 1)
    lost_from = sim.truth.reps[2].t_end_s + 1.0  # a rep still waiting for its confirmation
    keep = (sim.samples.t_s < lost_from) | (sim.samples.t_s > lost_from + 3.0)
    gapped = SampleBlock(sim.samples.t_s[keep], sim.samples.acc_g[keep], sim.samples.gyro_dps[keep])
    pipeline = RepPipeline(PipelineConfig.for_lift(exercise, Placement.WRIST))
    dated = [
        (event, fed)
        for i in range(len(gapped))
        for event in pipeline.feed(gapped.slice(i, i + 1))
        for fed in [float(gapped.t_s[i])]
    ]
    reps = [(e, fed) for e, fed in dated if isinstance(e, RepEvent)]
    assert len(reps) >= 2
    assert all(e.t_end_s <= e.detected_at_s == fed for e, fed in reps)


def test_a_time_that_does_not_increase_across_blocks_is_a_recording_error_as_within_one():
    """Within one block ``SampleBlock`` refuses it as a ``RecordingError``; across blocks it was a bare ValueError,
    which the CLI does not turn into one line."""
    sim = simulate_set(random_config(np.random.default_rng(1), Exercise.SQUAT, hard=False), 1)
    samples = sim.samples
    pipeline = RepPipeline(PipelineConfig.for_lift(Exercise.SQUAT))
    pipeline.feed(samples.slice(0, 10))
    with pytest.raises(RecordingError, match="keep increasing"):
        pipeline.feed(samples.slice(9, 20))
