"""Reps hidden in a gap: what the set's rhythm says about them, and when it says nothing."""

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from repsense.events import Exercise, GapEvent, RepEvent, UnseenRepsEvent
from repsense.firmware_bridge.simulator import random_config, simulate_set
from repsense.signal.pipeline import PipelineConfig, RepPipeline
from repsense.signal.unseen import UnseenReps


def rep(t_end: float, detected_at: float | None = None) -> RepEvent:
    seen = t_end + 0.1 if detected_at is None else detected_at
    return RepEvent(0, t_end - 1.0, t_end, seen, 0.5, 0.8, 0.5, 0.0)


def said(events) -> list[UnseenRepsEvent]:
    unseen = UnseenReps()
    return [found for event in events for found in unseen.see(event)]


def test_a_gap_that_swallowed_one_rep_of_a_steady_set():
    events = [rep(2.0), rep(4.0), rep(6.1), GapEvent(6.5, 2.5), rep(10.0, detected_at=10.2), rep(12.0)]
    (found,) = said(events)
    assert (found.reps, found.gap_t_s, found.gap_duration_s) == (1, 6.5, 2.5)
    assert found.period_s == pytest.approx(2.05)
    assert found.detected_at_s == 10.2


def test_two_reps_in_a_longer_gap_and_gaps_with_no_rep_between_them_are_one():
    events = [rep(2.0), rep(4.0), rep(6.0), GapEvent(6.3, 1.5), GapEvent(8.0, 3.0), rep(12.0)]
    (found,) = said(events)
    assert (found.reps, found.gap_t_s, found.gap_duration_s) == (2, 6.3, 4.7)


def test_two_gaps_settled_by_the_same_rep_are_both_told():
    events = [rep(2.0), GapEvent(2.5, 2.0), rep(6.0), GapEvent(6.5, 2.0), rep(10.0), rep(12.0), rep(14.0)]
    assert [(f.gap_t_s, f.reps) for f in said(events)] == [(2.5, 1), (6.5, 1)]


def test_the_tempo_may_come_from_the_reps_after_the_gap():
    """One rep before the gap gives no tempo; the reps after it do, and the answer comes with the one that
    settles it."""
    events = [rep(2.0), GapEvent(2.5, 2.0), rep(6.0), rep(8.0), rep(10.0, detected_at=10.3), rep(12.0)]
    (found,) = said(events)
    assert found.reps == 1
    assert found.detected_at_s == 10.3


@pytest.mark.parametrize(
    "events",
    [
        # the interval across the gap is no whole number of periods
        [rep(2.0), rep(4.0), rep(6.0), GapEvent(6.5, 1.5), rep(9.0), rep(11.0)],
        # an unsteady tempo
        [rep(2.0), rep(5.0), rep(6.0), GapEvent(6.5, 2.5), rep(10.0), rep(11.5)],
        # the set ends in the gap
        [rep(2.0), rep(4.0), rep(6.0), GapEvent(6.5, 2.5)],
        # a rep was missed well before the gap, not in it
        [rep(2.0), rep(4.0), rep(6.0), rep(8.0), rep(12.0), GapEvent(12.4, 1.2), rep(14.0)],
        # no gap at all: a missed rep is not the gap's doing
        [rep(2.0), rep(4.0), rep(6.0), rep(10.0), rep(12.0)],
        # too few reps to know the tempo
        [rep(2.0), GapEvent(2.5, 2.0), rep(6.0)],
    ],
    ids=["between-periods", "unsteady", "ends-in-gap", "missed-before", "no-gap", "too-few"],
)
def test_nothing_is_said_when_the_rhythm_is_not_clear(events):
    assert said(events) == []


def gapped_set(seed: int):
    """A clean simulated bar set, accelerometer only, with one 2.5 s gap during the reps."""
    exercise = (Exercise.SQUAT, Exercise.BENCH, Exercise.DEADLIFT, Exercise.OHP)[seed % 4]
    rng = np.random.default_rng([seed, 3])
    config = dataclasses.replace(random_config(rng, exercise, has_gyro=False, hard=False), long_gap_s=2.5)
    return exercise, simulate_set(config, seed=seed)


def test_on_simulated_sets_the_unseen_reps_make_up_the_count():
    """Whenever the pipeline says how many reps a gap hid, those and the reps counted are the set's reps."""
    told = 0
    for seed in range(24):
        exercise, sim = gapped_set(seed)
        events = RepPipeline(PipelineConfig.for_lift(exercise)).run(sim.samples)
        counted = sum(isinstance(e, RepEvent) for e in events)
        unseen = [e for e in events if isinstance(e, UnseenRepsEvent)]
        if unseen:
            told += 1
            assert counted + sum(u.reps for u in unseen) == len(sim.truth.reps), seed
            # it comes right after the rep that told it
            i = events.index(unseen[0])
            assert isinstance(events[i - 1], RepEvent) and events[i - 1].detected_at_s == unseen[0].detected_at_s
        else:
            assert counted <= len(sim.truth.reps)
    assert told >= 9  # 11 of 24 when written; the others do not show their rhythm clearly enough


@settings(max_examples=10, deadline=None)
@given(cuts=st.lists(st.integers(1, 400), min_size=1, max_size=40))
def test_what_is_said_does_not_depend_on_block_size(cuts):
    exercise, sim = gapped_set(0)
    whole = RepPipeline(PipelineConfig.for_lift(exercise)).run(sim.samples)
    assert any(isinstance(e, UnseenRepsEvent) for e in whole)
    pipeline = RepPipeline(PipelineConfig.for_lift(exercise))
    pieces = [e for piece in sim.samples.split(cuts) for e in pipeline.feed(piece)] + pipeline.flush()
    assert pieces == whole


@pytest.mark.parametrize(("gap_s", "told"), [(170.0, True), (190.0, False), (3.5e7, False)])
def test_a_gap_of_more_than_a_few_minutes_gets_no_estimate(gap_s, told):
    """A steady tempo says nothing about minutes of silence (a rest, or a corrupted clock): no absurd figure."""
    across = 2.0 * round((gap_s + 1.0) / 2.0)
    events = [rep(2.0), rep(4.0), rep(6.0), GapEvent(6.5, gap_s), rep(6.0 + across), rep(8.0 + across)]
    found = said(events)
    assert [f.reps for f in found] == ([round(across / 2.0) - 1] if told else [])
