"""The wrist path: reps from the rhythm of the vertical motion, streaming and block-size invariant."""

import dataclasses
import os
from pathlib import Path

import numpy as np
import pytest
import realdata  # bench/realdata.py: pytest puts bench/ on the path
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.spatial.transform import Rotation

from repsense.events import Exercise, GapEvent, Placement, RepEvent, RepFlag, UnseenRepsEvent
from repsense.firmware_bridge.simulator import random_config, simulate_set
from repsense.samples import SampleBlock
from repsense.signal.pipeline import BARBELL_LIFTS, PipelineConfig, RepPipeline
from repsense.signal.wrist import WristConfig, WristRepCounter

REPO_ROOT = Path(__file__).resolve().parents[2]


def wrist_reps(exercise, samples):
    events = RepPipeline(PipelineConfig.for_lift(exercise, Placement.WRIST)).run(samples)
    return [e for e in events if isinstance(e, RepEvent)]


@pytest.fixture(scope="module")
def squat():
    rng = np.random.default_rng(21)
    return simulate_set(random_config(rng, Exercise.SQUAT, rate_hz=50.0, has_gyro=True, hard=False), seed=5)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cuts=st.lists(st.integers(1, 400), min_size=1, max_size=40))
def test_wrist_events_do_not_depend_on_block_size(squat, cuts):
    whole = RepPipeline(PipelineConfig.for_lift(Exercise.SQUAT, Placement.WRIST)).run(squat.samples)
    assert whole
    pipeline = RepPipeline(PipelineConfig.for_lift(Exercise.SQUAT, Placement.WRIST))
    events = []
    for piece in squat.samples.split(cuts):
        events += pipeline.feed(piece)
    assert events + pipeline.flush() == whole


@pytest.mark.parametrize("exercise", [Exercise.SQUAT, Exercise.BENCH, Exercise.OHP, Exercise.DEADLIFT, Exercise.ROW])
@pytest.mark.parametrize("has_gyro", [True, False])
def test_wrist_path_counts_clean_sets_and_marks_velocity_estimated(exercise, has_gyro):
    """Each simulated set ends with 2 s of stillness. A deadlift or row set is put down first, and the band-pass
    gives that descent back as a rise: it counted one rep too many in 29 of 30 such sets."""
    rng = np.random.default_rng([7, list(Exercise).index(exercise), has_gyro])
    sim = simulate_set(random_config(rng, exercise, has_gyro=has_gyro, hard=False), seed=31)
    reps = wrist_reps(exercise, sim.samples)
    assert len(reps) == len(sim.truth.reps)
    assert all(RepFlag.VELOCITY_ESTIMATED in r.flags for r in reps)
    assert all(r.t_start_s < r.t_end_s <= r.detected_at_s for r in reps)


def turned_mid_rise(turn_at_s: float, turn_deg: float, reps: int = 6, period_s: float = 3.0, rate_hz: float = 50.0):
    """A wrist that rises and falls 0.4 m every ``period_s`` after 4 s still, with "up" in its frame turning by
    ``turn_deg`` at ``turn_at_s`` and staying so: times, vertical specific force [g] and up."""
    t = np.arange(0.0, 4.0 + reps * period_s + 4.0, 1.0 / rate_hz)
    moving = (t > 4.0) & (t < 4.0 + reps * period_s)
    omega = 2.0 * np.pi / period_s
    s_g = 1.0 + moving * 0.2 * omega**2 * np.cos(omega * (t - 4.0)) / 9.80665  # height 0.2 (1 - cos)
    angle = np.radians(turn_deg) * (t >= turn_at_s)
    return t, s_g, np.column_stack([np.sin(angle), np.zeros_like(t), np.cos(angle)])


@pytest.mark.parametrize("rep", [1, 3, 5])
def test_a_rise_that_turns_the_wrist_over_is_a_change_of_posture_not_a_rep(rep):
    """Lying back on a bench, or sitting up after the set, raises the dumbbells as a press does and turns the wrist
    through 90 degrees or more; a rep leaves it as it was (ebbelaar's barbell reps: 29 degrees at most). The rise
    the wrist turned over in is left out, and only that one."""
    turn_at = 4.0 + (rep + 0.25) * 3.0  # halfway up rep ``rep`` (from 0)

    def rises(turn_deg: float) -> list[tuple[float, float]]:
        t, s_g, up = turned_mid_rise(turn_at, turn_deg)
        counter = WristRepCounter(WristConfig(rate_hz=50.0))
        return [(r.t_start_s, r.t_end_s) for r in counter.feed(t, s_g, t, up) + counter.flush(float(t[-1]))]

    upright = rises(0.0)
    assert sum(start < turn_at < end for start, end in upright) == 1
    assert rises(60.0) == upright
    assert rises(110.0) == [(start, end) for start, end in upright if not start < turn_at < end]


def put_down_set(exercise: Exercise, seed: int):
    rng = np.random.default_rng([seed, list(Exercise).index(exercise)])
    return simulate_set(random_config(rng, exercise, rate_hz=25.0, has_gyro=False, hard=False), seed=seed)


@pytest.mark.parametrize("exercise", [Exercise.DEADLIFT, Exercise.ROW])
@pytest.mark.parametrize("seed", range(3))
def test_a_put_down_lifts_rep_counts_once_the_wrist_comes_down(exercise, seed):
    """The last rise counts when the bar goes down after it, and not in a recording that stops before that."""
    sim = put_down_set(exercise, seed)
    t = sim.samples.t_s
    reps = wrist_reps(exercise, sim.samples)
    assert len(sim.truth.reps) - 1 <= len(reps) <= len(sim.truth.reps)  # a row from a dead hang may lose its first
    assert all(r.detected_at_s > r.t_end_s + 0.1 for r in reps[1:]), "known on the way down, not at lockout"
    up = sim.samples.slice(0, int(np.searchsorted(t, reps[-1].t_end_s)) + 1)
    assert len(wrist_reps(exercise, up)) == len(reps) - 1
    put_down = sim.samples.slice(0, int(np.searchsorted(t, t[-1] - 1.5)))
    assert len(wrist_reps(exercise, put_down)) == len(reps)


def test_a_gap_after_a_put_down_lifts_rise_counts_it():
    """Samples lost while the bar came down hide the descent, not the rep."""
    sim = put_down_set(Exercise.DEADLIFT, 1)
    last = sim.truth.reps[-1]
    t, acc = sim.samples.t_s.copy(), sim.samples.acc_g.copy()
    keep = (t < last.t_end_s + 0.4) | (t > last.t_end_s + 3.0)
    pipeline = RepPipeline(PipelineConfig.for_lift(Exercise.DEADLIFT, Placement.WRIST))
    events = pipeline.run(SampleBlock(t[keep], acc[keep]))
    assert sum(isinstance(e, GapEvent) for e in events) == 1
    assert sum(isinstance(e, RepEvent) for e in events) == len(sim.truth.reps)


def test_a_rep_whose_rise_a_gap_cut_short_counts():
    """The link drops in the second half of a rep's rise, for 2.5 s. The rise had already passed for a rep, so it
    counts: in 36 of these 40 sets, and in none before (the lobe still going was dropped with the filters)."""
    right = 0
    for exercise in (Exercise.SQUAT, Exercise.BENCH, Exercise.OHP, Exercise.DEADLIFT, Exercise.ROW):
        for seed in range(4):
            for fraction in (0.5, 0.8):
                rng = np.random.default_rng([seed, 99])
                sim = simulate_set(random_config(rng, exercise, has_gyro=False, hard=False), seed=seed)
                cut = sim.truth.reps[len(sim.truth.reps) // 2]
                start = cut.t_start_s + fraction * (cut.t_end_s - cut.t_start_s)
                t = sim.samples.t_s
                keep = (t < start) | (t > start + 2.5)
                hidden = sum(start < r.t_start_s and r.t_end_s < start + 2.5 for r in sim.truth.reps)
                counted = len(wrist_reps(exercise, SampleBlock(t[keep], sim.samples.acc_g[keep])))
                assert counted <= len(sim.truth.reps) - hidden
                right += counted == len(sim.truth.reps) - hidden
    assert right >= 34, f"{right} of 40"


@settings(max_examples=10, deadline=None)
@given(cuts=st.lists(st.integers(1, 300), min_size=1, max_size=40))
def test_waiting_for_the_wrist_to_come_down_does_not_depend_on_block_size(cuts):
    sim = put_down_set(Exercise.DEADLIFT, 2)
    whole = RepPipeline(PipelineConfig.for_lift(Exercise.DEADLIFT, Placement.WRIST)).run(sim.samples)
    pipeline = RepPipeline(PipelineConfig.for_lift(Exercise.DEADLIFT, Placement.WRIST))
    events = []
    for piece in sim.samples.split(cuts):
        events += pipeline.feed(piece)
    assert events + pipeline.flush() == whole


def test_a_recording_started_mid_rep_does_not_swallow_the_next_rep():
    """Recordings are started by hand, often mid-movement. The band-pass starts settled on the median of the first
    3 s, so the first, partial lobe does not ring for seconds, swallow the next rep or inflate the reference lobes.
    (Starting the filter from the first sample got 26 of these 36 sets right.)"""
    right = []
    for seed in range(12):
        for exercise in (Exercise.SQUAT, Exercise.BENCH, Exercise.OHP):
            rng = np.random.default_rng([seed, list(Exercise).index(exercise)])
            sim = simulate_set(random_config(rng, exercise, has_gyro=False, hard=False), seed=seed)
            first = sim.truth.reps[0]
            cut = int(np.searchsorted(sim.samples.t_s, (first.t_start_s + first.t_end_s) / 2))
            samples = SampleBlock(sim.samples.t_s[cut:], sim.samples.acc_g[cut:], None)
            whole_reps = len(sim.truth.reps) - 1
            right.append(len(wrist_reps(exercise, samples)) in (whole_reps, whole_reps + 1))
    assert sum(right) >= 33, f"{sum(right)} of {len(right)}"


def assert_velocity_loss_from_clean_reps(reps):
    """Velocity loss is against the best rep so far, among those not flagged ``data_gap``."""
    best = 0.0
    for rep in reps:
        if RepFlag.DATA_GAP not in rep.flags:
            best = max(best, rep.mean_velocity_m_s)
        assert rep.velocity_loss == pytest.approx(max(0.0, 1.0 - rep.mean_velocity_m_s / best) if best else 0.0)


@pytest.mark.parametrize("seed", range(6))
def test_reps_right_after_a_gap_set_no_velocity_reference(seed):
    """When samples come back after a gap, the wrist may be moving and the restarted filters have not caught up:
    a rep that starts within 3 s counts, flagged ``data_gap``, and its velocity (often the set's highest; on a
    real bench set 0.54 m/s against 0.39-0.46 before the gap) is not the reference for velocity loss."""
    exercise = (Exercise.SQUAT, Exercise.BENCH, Exercise.OHP)[seed % 3]
    rng = np.random.default_rng([seed, 5])
    config = dataclasses.replace(random_config(rng, exercise, has_gyro=False, hard=False), long_gap_s=2.5)
    sim = simulate_set(config, seed=seed)
    events = RepPipeline(PipelineConfig.for_lift(exercise, Placement.WRIST)).run(sim.samples)
    (gap,) = [e for e in events if isinstance(e, GapEvent)]
    reps = [e for e in events if isinstance(e, RepEvent)]
    resumed = gap.t_s + gap.duration_s
    for rep in reps:
        settling = resumed <= rep.t_start_s < resumed + 3.0
        assert (RepFlag.DATA_GAP in rep.flags) == settling, (rep.t_start_s, resumed)
    assert_velocity_loss_from_clean_reps(reps)


def _realdata(dataset: str = "ebbelaar_metamotion"):
    root = Path(os.environ.get("REPSENSE_REALDATA", realdata.DEFAULT_ROOT))
    if not (root / dataset / "raw").is_dir():
        pytest.skip(f"real data not found at {root} (set REPSENSE_REALDATA)")
    return realdata, root


@pytest.mark.realdata
@pytest.mark.slow
def test_real_metamotion_wrist_sets_do_not_regress():
    """A guard on the real MetaBase exports (bench/bench_realdata.py reports the figures): 57 labelled sets."""
    realdata, root = _realdata()
    errors = [len(wrist_reps(Exercise(s.exercise), s.samples)) - s.true_reps for s in realdata.ebbelaar_sets(root)]
    assert len(errors) == 57
    exact = np.mean(np.array(errors) == 0)
    within_one = np.mean(np.abs(errors) <= 1)
    assert exact >= 0.70, exact
    assert within_one >= 0.84, within_one


@pytest.mark.realdata
@pytest.mark.slow
def test_real_pebble_gym_sets_do_not_regress():
    """The same guard on muvr_wrist's 284 labelled sets, mostly machine, cable and dumbbell lifts."""
    realdata, root = _realdata("muvr_wrist")
    sets = list(realdata.muvr_sets(root))
    errors = np.array([len(wrist_reps(Exercise(s.exercise), s.samples)) - s.true_reps for s in sets])
    assert len(errors) == 284
    assert np.mean(errors == 0) >= 0.35
    assert np.mean(np.abs(errors) <= 1) >= 0.65
    whole = np.array([s.metadata["spliced"] == "no" for s in sets])
    assert whole.sum() == 240
    assert np.mean(errors[whole] == 0) >= 0.42
    assert np.mean(np.abs(errors[whole]) <= 1) >= 0.77


def test_muvr_lifts_are_named_as_a_lifter_would_pick_them_from_the_list():
    """A dumbbell bench press is a bench press and a one-arm dumbbell row a row: the vertical counter. A machine
    press, a machine row or a rear-delt row guides the hands along another path, and stays ``other``."""
    named = {raw: realdata.muvr_exercise(raw) for raw in realdata.MUVR_BARBELL_LIFTS}
    assert named == {
        "dumbbell-chest-press": "bench",
        "barbell-press": "ohp",
        "dumbbell-press": "ohp",
        "dumbbell-row": "row",
    }
    assert all(Exercise(name) in BARBELL_LIFTS for name in named.values())
    for raw in ("angle-chest-press", "leverage-high-row", "deltoid-row", "lat-pulldown-straight", "dumbbell-chest-fly"):
        assert realdata.muvr_exercise(raw) == "other"
    assert realdata.muvr_exercise("alt-dumbbell-biceps-curl") == "alt_curl"
    assert realdata.muvr_exercise("rope-biceps-curl") == "curl"


@pytest.mark.realdata
@pytest.mark.slow
def test_two_blind_hand_counts_name_real_sets_and_the_counters_agree_with_them():
    """bench/handcount.csv: two people's counts of the reps visible in 57 ebbelaar and 60 muvr sets (batch 1),
    and two other people's in 60 more muvr sets (batch 2, held out), each made without the labels, the counters'
    output or the other's count. Every row names a set the loaders give. Where the two agree, the counters give
    their count far more often than the labels do in batch 1 (bench_realdata.py reports the figures: 98 and 70 %
    against 83 and 41 %); in batch 2, where they agree and were not both unsure, at least as often (67 against
    62 %). A third person counted only the sets where the two differed; on ebbelaar, counted against the count two
    of the three gave, the counter still leads the labels (93 against 79 %)."""
    import bench_realdata  # bench/, like realdata

    realdata, root = _realdata()
    _realdata("muvr_wrist")
    hand = bench_realdata.hand_counts()
    sets = {s.name: s for s in [*realdata.ebbelaar_sets(root), *realdata.muvr_sets(root)] if s.name in hand}
    assert sorted(sets) == sorted(hand)
    assert sum(name.startswith(realdata.EBBELAAR) for name in sets) == 57
    assert sum(count.batch == 2 for count in hand.values()) == 60
    assert all((count.third is None) == (count.first == count.second) for count in hand.values())
    reps = {name: len(wrist_reps(Exercise(s.exercise), s.samples)) for name, s in sets.items()}
    ebbelaar = [s for name, s in sets.items() if name.startswith(realdata.EBBELAAR) and hand[name].majority is not None]
    majority = np.array([hand[s.name].majority for s in ebbelaar])
    counted = np.array([reps[s.name] for s in ebbelaar])
    assert np.mean(counted == majority) >= 0.9
    assert np.mean(np.array([s.true_reps for s in ebbelaar]) == majority) <= np.mean(counted == majority) - 0.1
    for dataset, batch, counter_floor, margin in (
        (realdata.EBBELAAR, 1, 0.9, 0.1),
        (realdata.MUVR, 1, 0.65, 0.1),
        (realdata.MUVR, 2, 0.6, 0.0),
    ):
        agreed = [
            s
            for name, s in sets.items()
            if name.startswith(dataset) and hand[name].batch == batch and hand[name].consensus is not None
        ]
        if batch == 2:
            agreed = [s for s in agreed if hand[s.name].sure]
        both = np.array([hand[s.name].consensus for s in agreed])
        counted = np.array([reps[s.name] for s in agreed])
        labels = np.array([s.true_reps for s in agreed])
        assert np.mean(counted == both) >= counter_floor, (dataset, batch)
        assert np.mean(labels == both) <= np.mean(counted == both) - margin, (dataset, batch)


@pytest.mark.realdata
def test_a_real_link_drop_mid_set_is_told_and_does_not_skew_velocity_loss():
    """ebbelaar's D-bench-medium of 2019-01-18 18:12: the MetaMotion link dropped for 2.1 s after rep 5 of a
    steady bench set (a rep every 2.4 s). The rep in the gap is named, not counted; the first rep after it is
    counted but, measured while the filters settled, sets no reference, so the next reps read 1-2 % velocity
    loss instead of 15-16 %."""
    realdata, root = _realdata()
    (real,) = [s for s in realdata.ebbelaar_sets(root) if s.name.endswith("D-bench-medium@2019-01-18T18.12.13.952")]
    events = RepPipeline(PipelineConfig.for_lift(Exercise.BENCH, Placement.WRIST)).run(real.samples)
    reps = [e for e in events if isinstance(e, RepEvent)]
    (unseen,) = [e for e in events if isinstance(e, UnseenRepsEvent)]
    assert (len(reps), unseen.reps) == (8, 1)
    assert unseen.gap_duration_s == pytest.approx(2.1, abs=0.05) and unseen.period_s == pytest.approx(2.4, abs=0.1)
    assert [RepFlag.DATA_GAP in r.flags for r in reps] == [False] * 5 + [True] + [False] * 2
    assert max(r.velocity_loss for r in reps[6:]) < 0.05
    assert_velocity_loss_from_clean_reps(reps)


@pytest.mark.realdata
def test_standing_about_between_sets_is_hardly_a_curl():
    """ebbelaar's 40 s of standing rest with the band on: the arm sways, and the periodic counter finds a rhythm in
    it (11 reps as an ``other`` lift). A curl must raise the wrist 10 cm, which the sway never does: 2 reps, both
    in the big moves between 24 and 33 s."""
    realdata, root = _realdata()
    (rest,) = [s for s in realdata.ebbelaar_sets(root, include_rest=True) if "A-rest-standing" in s.name]
    assert len(wrist_reps(Exercise.CURL, rest.samples)) <= 2
    assert len(wrist_reps(Exercise.OTHER, rest.samples)) >= 8


@pytest.mark.realdata
def test_spliced_pebble_files_jump_at_their_packet_boundaries():
    """The evidence for ``muvr_spliced``: in files of whole 112-sample packets the signal jumps from one packet to
    the next (samples were lost between them); in files of 102-sample packets it runs on as within a packet."""
    realdata, root = _realdata("muvr_wrist")

    def boundary_step_ratio(s) -> float:
        packet = realdata.MUVR_SPLICED_PACKET if s.metadata["spliced"] == "yes" else realdata.MUVR_PACKET
        steps = np.linalg.norm(np.diff(s.samples.acc_g, axis=0), axis=1)
        across = np.arange(packet, len(s.samples), packet) - 1
        return float(np.median(steps[across]) / np.median(np.delete(steps, across)))

    ratios: dict[str, list[float]] = {"yes": [], "no": []}
    for s in realdata.muvr_sets(root):
        if len(s.samples) > realdata.MUVR_SPLICED_PACKET:
            ratios[s.metadata["spliced"]].append(boundary_step_ratio(s))
    assert len(ratios["yes"]) == 44
    assert np.median(ratios["yes"]) > 5.0
    assert np.median(ratios["no"]) < 2.0


@pytest.mark.realdata
@pytest.mark.slow
def test_real_pebble_counts_do_not_depend_on_how_the_watch_sits():
    """Every 4th of muvr's real sets, its axes turned: the same counts. With a median of each axis as the
    despike, turning the axes changed 9-12 of the 284 counts by 1-2 reps, and this test failed."""
    realdata, root = _realdata("muvr_wrist")
    turn = Rotation.from_quat([0.3, -0.5, 0.2, 0.7]).as_matrix()
    for s in list(realdata.muvr_sets(root))[::4]:
        turned = SampleBlock(s.samples.t_s, s.samples.acc_g @ turn.T, None)
        exercise = Exercise(s.exercise)
        assert len(wrist_reps(exercise, turned)) == len(wrist_reps(exercise, s.samples)), s.name


@pytest.mark.realdata
@pytest.mark.slow
def test_real_metamotion_sets_count_the_same_through_glitches():
    """The 57 real MetaMotion barbell sets with a 1-3 g glitch added every 5 s: each counts as without them.
    Without the wrist's glitch filter, 17 of them change and exact counts fall from 74 to 53 %."""
    realdata, root = _realdata()
    rng = np.random.default_rng(3)
    changed = []
    for s in realdata.ebbelaar_sets(root):
        t, acc = s.samples.t_s, s.samples.acc_g.copy()
        where = rng.choice(len(t), max(1, int((t[-1] - t[0]) / 5.0)), replace=False)
        acc[where, rng.integers(0, 3, len(where))] += rng.choice([-1.0, 1.0], len(where)) * rng.uniform(
            1, 3, len(where)
        )
        exercise = Exercise(s.exercise)
        glitchy = SampleBlock(t, acc, s.samples.gyro_dps)
        if len(wrist_reps(exercise, glitchy)) != len(wrist_reps(exercise, s.samples)):
            changed.append(s.name)
    assert changed == []


@pytest.mark.parametrize("gain", [(0.95, 0.95, 0.95), (1.05, 1.05, 1.05), (1.05, 0.97, 1.0)])
def test_a_sensor_that_reads_gravity_a_little_off_counts_the_same(squat, gain):
    """Consumer accelerometers read 1 g as 0.95-1.05 g, per axis. The band-pass starts on the sensor's own level
    (the median of the first 3 s), not on 1 g, so the reps come out the same."""
    base = wrist_reps(Exercise.SQUAT, squat.samples)
    off = SampleBlock(squat.samples.t_s, squat.samples.acc_g * np.array(gain), squat.samples.gyro_dps)
    reps = wrist_reps(Exercise.SQUAT, off)
    assert len(reps) == len(base)
    assert np.max(np.abs([a.t_end_s - b.t_end_s for a, b in zip(reps, base, strict=True)])) < 0.05


def test_reps_in_the_first_seconds_are_known_once_the_filter_has_started():
    """The samples of the first 3 s wait for the band-pass to start: a rep in them is known 3 s after the first
    sample at the earliest; later reps as soon as they end. A recording shorter than that still counts."""
    rng = np.random.default_rng(8)
    sim = simulate_set(random_config(rng, Exercise.OHP, rate_hz=50.0, has_gyro=False, hard=False), seed=8)
    cut = int(np.searchsorted(sim.samples.t_s, sim.truth.reps[0].t_start_s - 0.5))
    shifted = sim.samples.slice(cut, len(sim.samples))  # a recording started just before the first rep
    reps = wrist_reps(Exercise.OHP, shifted)
    start = float(shifted.t_s[0])
    assert reps[0].t_end_s < start + 3.0 <= reps[0].detected_at_s < start + 3.1
    assert all(r.detected_at_s - r.t_end_s < 0.2 for r in reps if r.t_end_s > start + 3.1)
    short = shifted.slice(0, int(np.searchsorted(shifted.t_s, start + 2.5)))
    assert len(wrist_reps(Exercise.OHP, short)) == sum(r.t_end_s < start + 2.3 for r in reps)


@pytest.mark.realdata
@pytest.mark.slow
def test_real_metamotion_sets_count_the_same_when_the_sensor_reads_gravity_off():
    """ebbelaar's MetaMotion reads gravity as 0.93-1.13 g at the median of a set. Scaled by 0.95 or 1.05, or each
    axis on its own, its 57 sets count as they are. With the band-pass started on 1 g, 6, 6 and 4 of them changed."""
    realdata, root = _realdata()
    changed = []
    for s in realdata.ebbelaar_sets(root):
        exercise, base = Exercise(s.exercise), len(wrist_reps(Exercise(s.exercise), s.samples))
        for gain in ((0.95, 0.95, 0.95), (1.05, 1.05, 1.05), (1.05, 0.97, 1.0)):
            off = SampleBlock(s.samples.t_s, s.samples.acc_g * np.array(gain), s.samples.gyro_dps)
            if len(wrist_reps(exercise, off)) != base:
                changed.append((s.name, gain))
    assert changed == []


@pytest.fixture(scope="module")
def rough_squat():
    """The squat set with glitches, a 2 s gap 2 s in (before the band-pass has started) and another later."""
    rng = np.random.default_rng(4)
    sim = simulate_set(random_config(rng, Exercise.SQUAT, rate_hz=25.0, has_gyro=True, hard=False), seed=6)
    t, acc = sim.samples.t_s.copy(), sim.samples.acc_g.copy()
    where = rng.choice(len(t), 12, replace=False)
    acc[where] += rng.choice([-2.0, 2.0], (12, 3))
    t[np.searchsorted(t, t[0] + 2.0) :] += 2.0
    t[np.searchsorted(t, t[0] + 14.0) :] += 2.5
    return SampleBlock(t, acc, sim.samples.gyro_dps)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cuts=st.lists(st.integers(1, 600), min_size=1, max_size=60))
def test_glitches_gaps_and_the_start_do_not_depend_on_block_size(rough_squat, cuts):
    """The glitch filter, the wait for the band-pass to start and the restarts after gaps, cut anywhere."""
    whole = RepPipeline(PipelineConfig.for_lift(Exercise.SQUAT, Placement.WRIST)).run(rough_squat)
    assert sum(isinstance(e, RepEvent) for e in whole) >= 3
    assert sum(isinstance(e, GapEvent) for e in whole) == 2
    pipeline = RepPipeline(PipelineConfig.for_lift(Exercise.SQUAT, Placement.WRIST))
    events = []
    for piece in rough_squat.split(cuts):
        events += pipeline.feed(piece)
    assert events + pipeline.flush() == whole
