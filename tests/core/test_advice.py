"""Good reps and load advice: the 4x5 rule as an exact case, in kg and lb, and the invariants of plate rounding."""

import math

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from repsense.core.advice import (
    DEFAULT_INCREMENT,
    Verdict,
    advice_from_counts,
    amrap_advice,
    e1rm_epley,
    endurance_advice,
    fixed_advice,
    good_rep_count,
    good_reps,
    load_for_reps,
    session_advice,
    step_down,
    step_up,
    unseen_in_set,
)
from repsense.core.plan import Load, WeightUnit, parse_plan
from repsense.core.session import SessionResult
from repsense.core.setcontrol import SetConfig, SetMode
from repsense.errors import ConfigError
from repsense.events import Exercise, Placement, RepEvent, RepFlag, SetEnded, StopReason, UnseenRepsEvent

KG, LB = WeightUnit.KG, WeightUnit.LB
SHORT, GRIND, GAP = RepFlag.SHORT_ROM, RepFlag.GRINDING, RepFlag.DATA_GAP


def rep(index: int, *flags: RepFlag) -> RepEvent:
    t = 3.0 * index
    return RepEvent(index, t, t + 0.8, t + 0.9, 0.6 - 0.02 * index, 1.0, 0.5, 0.03 * (index - 1), flags)


def result_of(flags: list[tuple[RepFlag, ...]], stop_rep: int | None, mode: SetMode = SetMode.AMRAP) -> SessionResult:
    config = SetConfig.for_lift(Exercise.SQUAT, mode=mode, target_reps=5 if mode == SetMode.FIXED else None)
    reps = [rep(i, *f) for i, f in enumerate(flags, start=1)]
    stop = None if stop_rep is None else SetEnded(stop_rep, reps[stop_rep - 1].detected_at_s, StopReason.VELOCITY_LOSS)
    return SessionResult(Exercise.SQUAT, Placement.BAR, config, reps=reps, stop=stop)


# -- good reps --------------------------------------------------------------------------------------------------------


def test_good_reps_count_up_to_the_stop_less_bad_form():
    # 8 reps; the set ended at rep 6; rep 2 was short, rep 4 had a data gap (not the lifter's fault), rep 7 grinding
    flags = [(), (SHORT,), (), (GAP,), (), (), (GRIND,), ()]
    assert good_reps(result_of(flags, stop_rep=6)) == 5
    assert good_reps(result_of(flags, stop_rep=None)) == 6  # never ended: every rep is looked at
    assert good_reps(result_of(flags, stop_rep=1)) == 1
    assert good_reps(result_of([], stop_rep=None)) == 0
    assert good_reps(result_of([(SHORT, GRIND)], stop_rep=1)) == 0
    # the same from stored flags (strings), as the history keeps them
    assert good_rep_count([[], ["short_rom"], [], ["data_gap"], [], []], reps_at_stop=6) == 5


def test_summary_has_good_reps():
    summary = result_of([(), (SHORT,), (), ()], stop_rep=3).to_json()["summary"]
    assert summary["good_reps"] == 2
    assert summary["reps"] == 4 and summary["reps_at_stop"] == 3


# -- the 4x5 rule -----------------------------------------------------------------------------------------------------

#: good reps on the AMRAP last set of "4x5, last AMRAP" -> (verdict, next load at 100 kg, next load at 225 lb)
RULE_4X5 = {
    0: (Verdict.TOO_HEAVY, 82.5, 185),
    3: (Verdict.TOO_HEAVY, 90, 205),
    4: (Verdict.TOO_HEAVY, 92.5, 210),
    5: (Verdict.AT_LIMIT, 100, 225),
    6: (Verdict.RIGHT, 100, 225),
    7: (Verdict.RIGHT, 100, 225),
    8: (Verdict.A_LITTLE_LIGHT, 102.5, 230),
    9: (Verdict.A_LITTLE_LIGHT, 102.5, 230),
    10: (Verdict.TOO_LIGHT, 110, 245),
    11: (Verdict.TOO_LIGHT, 112.5, 255),
    15: (Verdict.TOO_LIGHT, 122.5, 275),
}


@pytest.mark.parametrize("good", sorted(RULE_4X5))
def test_the_4x5_rule_in_kg(good):
    verdict, next_kg, _ = RULE_4X5[good]
    advice = amrap_advice(5, good, Load(100, KG))
    assert advice.verdict == verdict
    assert advice.next_load == Load(next_kg, KG)
    assert advice.load == Load(100, KG)
    assert advice.good_reps == good and advice.target_reps == 5
    if good:
        assert advice.e1rm is not None and advice.e1rm.value == pytest.approx(e1rm_epley(100, good), abs=0.05)
    else:
        assert advice.e1rm is None


@pytest.mark.parametrize("good", sorted(RULE_4X5))
def test_the_4x5_rule_in_lb(good):
    verdict, _, next_lb = RULE_4X5[good]
    advice = amrap_advice(5, good, Load(225, LB))
    assert advice.verdict == verdict
    assert advice.next_load == Load(next_lb, LB)
    assert " kg" not in advice.text
    assert "lbs" not in advice.text


def test_the_4x5_rule_reads_well():
    assert amrap_advice(5, 10, Load(100, KG)).text == (
        "10 good reps on the AMRAP set (5 planned): the load is too light. Next time: 110 kg (e1RM 133 kg)."
    )
    assert amrap_advice(5, 6, Load(100, KG)).text == (
        "6 good reps on the AMRAP set (5 planned): the load is right. Keep 100 kg (e1RM 120 kg)."
    )
    assert amrap_advice(5, 8, Load(100, KG)).text == (
        "8 good reps on the AMRAP set (5 planned): the load is a little light. Next time: 102.5 kg (e1RM 127 kg)."
    )
    assert amrap_advice(5, 5, Load(225, LB)).text == (
        "5 good reps on the AMRAP set (5 planned): the load is at your limit. Keep 225 lb until you get 6 "
        "(e1RM 263 lb)."
    )
    assert amrap_advice(5, 3, Load(225, LB)).text == (
        "3 good reps on the AMRAP set (5 planned): the load is too heavy. Next time: 205 lb (e1RM 248 lb)."
    )
    assert amrap_advice(5, 1, None).text == (
        "1 good rep on the AMRAP set (5 planned): the load is too heavy. Lower the load next time."
    )


def test_the_rule_without_a_load_still_judges():
    for good, (verdict, _, _) in RULE_4X5.items():
        advice = amrap_advice(5, good, None)
        assert advice.verdict == verdict
        assert advice.next_load is None and advice.e1rm is None


def test_other_plate_steps():
    # microplates: 1 kg steps
    assert amrap_advice(5, 8, Load(100, KG), increment=1.0).next_load == Load(101, KG)
    assert amrap_advice(5, 10, Load(100, KG), increment=1.0).next_load == Load(110, KG)
    with pytest.raises(ConfigError):
        step_up(Load(100, KG), increment=0.0)


@given(
    planned=st.integers(1, 30),
    good=st.integers(0, 60),
    value=st.floats(20, 400),
    unit=st.sampled_from([KG, LB]),
)
def test_amrap_advice_invariants(planned, good, value, unit):
    load = Load(value, unit)
    step = DEFAULT_INCREMENT[unit]
    advice = amrap_advice(planned, good, load)
    over = good - planned
    expected = (
        Verdict.TOO_HEAVY
        if over < 0
        else Verdict.AT_LIMIT
        if over == 0
        else Verdict.RIGHT
        if over <= 2
        else Verdict.A_LITTLE_LIGHT
        if over <= 4
        else Verdict.TOO_LIGHT
    )
    assert advice.verdict == expected
    assert advice.next_load is not None and advice.next_load.unit == unit
    nxt = advice.next_load.value
    if expected in (Verdict.AT_LIMIT, Verdict.RIGHT):
        assert advice.next_load == load
        return
    assert whole_steps_from(nxt, value, step) or nxt == step
    tol = 1e-6  # loads are kept to 6 decimals
    if expected in (Verdict.A_LITTLE_LIGHT, Verdict.TOO_LIGHT):
        assert nxt >= value + step - tol
    if expected == Verdict.A_LITTLE_LIGHT:
        assert nxt == pytest.approx(value + step, abs=tol)
    if expected == Verdict.TOO_HEAVY:
        assert nxt <= value - step + tol or nxt == step


# -- plates -----------------------------------------------------------------------------------------------------------


def whole_steps_from(value: float, load: float, step: float) -> bool:
    """``value`` is ``load`` plus or minus whole plate steps (the lifter's own grid)."""
    n = (value - load) / step
    return abs(n - round(n)) < 1e-6


@given(value=st.floats(0.01, 2000), unit=st.sampled_from([KG, LB]))
def test_a_step_is_exactly_one_step_on_the_lifters_own_grid(value, unit):
    load = Load(value, unit)
    step = DEFAULT_INCREMENT[unit]
    up, down = step_up(load), step_down(load)
    assert up.value == pytest.approx(value + step, abs=1e-6)
    assume(value >= 2 * step)
    assert down.value == pytest.approx(value - step, abs=1e-6)


def test_plate_examples():
    assert step_up(Load(101, KG)) == Load(103.5, KG)  # 101 kg was loaded, so 101 + 2.5 can be
    assert step_down(Load(101, KG)) == Load(98.5, KG)
    assert step_down(Load(3, KG)) == Load(2.5, KG)  # never below one step


def test_a_load_off_the_grid_moves_by_one_step():
    """At 101 kg, all reps good said "add 4 kg" (to 105 kg, the next 2.5 kg multiple), at 226 lb "add 9 lb"."""
    assert fixed_advice(8, 8, Load(101, KG)).text == "8 of 8 good reps: next time 103.5 kg (add 2.5 kg)."
    assert fixed_advice(8, 8, Load(226, LB)).text == "8 of 8 good reps: next time 231 lb (add 5 lb)."
    assert amrap_advice(5, 8, Load(101, KG)).next_load == Load(103.5, KG)  # a little light: one step
    assert amrap_advice(5, 10, Load(101, KG)).next_load == Load(111, KG)  # from the e1RM, in whole steps from 101
    assert amrap_advice(5, 3, Load(226, LB)).next_load == Load(206, LB)


# -- e1RM -------------------------------------------------------------------------------------------------------------


def test_epley():
    assert e1rm_epley(100, 1) == 100
    assert e1rm_epley(100, 10) == pytest.approx(133.333, abs=1e-3)
    assert e1rm_epley(225, 5) == pytest.approx(262.5)
    assert load_for_reps(e1rm_epley(100, 8), 8) == pytest.approx(100)
    with pytest.raises(ValueError):
        e1rm_epley(100, 0)


# -- fixed and endurance sets ------------------------------------------------------------------------------------------


def test_fixed_sets_add_when_every_rep_is_good():
    last = fixed_advice(8, 8, Load(60, KG))
    assert last.verdict == Verdict.ADD and last.next_load == Load(62.5, KG)
    assert last.text == "8 of 8 good reps: next time 62.5 kg (add 2.5 kg)."
    earlier = fixed_advice(8, 8, Load(60, KG), last_set=False)
    assert earlier.verdict == Verdict.ADD and earlier.next_load == Load(62.5, KG)
    assert "keep 60 kg for the other sets" in earlier.text
    short = fixed_advice(5, 4, Load(225, LB))
    assert short.verdict == Verdict.KEEP and short.next_load == Load(225, LB)
    assert short.text == "4 of 5 good reps: keep 225 lb until all 5 are good."
    assert fixed_advice(5, 5, Load(225, LB)).next_load == Load(230, LB)


def test_fixed_sets_before_an_amrap_set_keep_the_load():
    plan = parse_plan("4x5@100kg, last AMRAP")
    for good in (3, 5):
        advice = advice_from_counts(plan, plan.set(2), good, 5)
        assert advice.verdict == Verdict.KEEP and advice.next_load == Load(100, KG)
        assert "the AMRAP set decides" in advice.text
    assert advice_from_counts(plan, plan.set(4), 6, 6).verdict == Verdict.RIGHT


def test_endurance_beat_your_number():
    plan = parse_plan("endurance 200lb, 2 sets")
    first = advice_from_counts(plan, plan.set(1), 23, 23)
    assert first.verdict == Verdict.KEEP and first.next_load == Load(200, LB)
    assert first.text == "23 good reps at 200 lb: that is your number. Next time, beat it: 24."
    beaten = advice_from_counts(plan, plan.set(1), 24, 24, previous_best=23)
    assert beaten.previous_best == 23 and beaten.target_reps == 24
    assert beaten.text == "24 good reps at 200 lb: you beat your number (23). Next time: 25."
    equal = endurance_advice(23, Load(200, LB), 23)
    assert "not beaten" in equal.text and equal.text.endswith("Next time: 24.")
    short = endurance_advice(20, Load(200, LB), 23)
    # Next week compares with this week, as the rule says: a week that fell short is the number to beat.
    assert short.text == (
        "20 good reps at 200 lb, short of your number (23). Next week's number is today's 20: beat it with 21."
    )


def test_a_second_endurance_set_of_the_day_is_judged_with_the_days_best():
    """The day's number is its better set: a second set below the first keeps the first's number and target."""
    kg100 = Load(100, KG)
    below = endurance_advice(6, kg100, None, day_best=8)
    assert below.text == "6 good reps at 100 kg; your number today is 8, from an earlier set. Next time, beat it: 9."
    assert below.target_reps == 9 and below.day_best == 8
    above = endurance_advice(9, kg100, None, day_best=8)
    assert above.text == (
        "9 good reps at 100 kg, more than your earlier set today (8): that is your number. Next time, beat it: 10."
    )
    # with last week's number: the day's best decides next time's target
    short = endurance_advice(3, kg100, 4, day_best=8)
    assert (
        short.text
        == "3 good reps at 100 kg, short of your number (4). Your earlier set today beat it with 8. Next time: 9."
    )
    assert short.target_reps == 9 and short.previous_best == 4
    assert endurance_advice(6, kg100, 4, day_best=8).text.endswith(
        "Your earlier set today beat it with 8. Next time: 9."
    )
    assert endurance_advice(2, kg100, 10, day_best=8).text.endswith(
        "made 8. Next week's number is today's 8: beat it with 9."
    )
    assert (
        endurance_advice(9, kg100, 4, day_best=8).text
        == "9 good reps at 100 kg: you beat your number (4). Next time: 10."
    )


def test_endurance_without_a_load_has_no_number():
    """ "That is your number" every time was wrong: 20 reps is no number without the load they were done at."""
    plan = parse_plan("endurance")
    advice = advice_from_counts(plan, plan.set(1), 20, 20, previous_best=None)
    assert "that is your number" not in advice.text
    assert advice.text == (
        "20 good reps. No load was given, so there is no number to beat: put it in the plan (endurance 80kg) or "
        "give --load."
    )
    assert advice.target_reps is None and advice.next_load is None


def test_no_rep_no_advice():
    plan = parse_plan("4x5@100kg, last AMRAP")
    advice = session_advice(plan, plan.set(4), result_of([], stop_rep=None))
    assert advice.verdict == Verdict.NO_ADVICE and advice.next_load is None


def test_session_advice_uses_good_reps():
    plan = parse_plan("4x5@100kg, last AMRAP")
    # 9 reps, the set ended at rep 8, rep 3 short: 7 good reps -> right
    flags = [(), (), (SHORT,), (), (), (), (), (), ()]
    advice = session_advice(plan, plan.set(4), result_of(flags, stop_rep=8))
    assert advice.verdict == Verdict.RIGHT and advice.good_reps == 7
    assert advice.to_dict()["next_load"] == {"value": 100.0, "unit": "kg", "kg": 100.0}
    assert advice.to_dict()["verdict"] == "right"
    assert math.isclose(advice.to_dict()["e1rm"]["value"], 123.3)


def test_only_reps_a_gap_hid_before_the_stop_are_the_sets():
    """An AMRAP set stopped at rep 7; a gap later hid 2 reps the lifter made after the STOP cue: they are no more the
    set's than seen reps after the stop, so the advice says nothing about them."""
    plan = parse_plan("4x5@100kg, last AMRAP")
    result = result_of([()] * 9, stop_rep=7)  # rep 7 detected at 21.9
    result.unseen = [UnseenRepsEvent(23.0, 3.6, 2, 3.0, 27.9)]  # reported with rep 9
    assert unseen_in_set(result) == 0
    advice = session_advice(plan, plan.set(4), result)
    assert "unseen" not in advice.text and "SET" not in advice.text
    # the same gap before the stop (reported with rep 5): the set's, and said so, without a command to guess at
    result.unseen = [UnseenRepsEvent(11.0, 3.6, 2, 3.0, 15.9)]
    assert unseen_in_set(result) == 2
    advice = session_advice(plan, plan.set(4), result)
    assert advice.text.endswith("About 2 more reps went unseen in a sensor gap and are not counted here.")


def test_a_fixed_set_has_no_unseen_reps_past_its_target():
    """A fixed set of 5 counted 5: a rep the gap hid before its fifth was a rep past the target, not one to add."""
    result = result_of([()] * 5, stop_rep=5, mode=SetMode.FIXED)
    result.unseen = [UnseenRepsEvent(11.0, 3.6, 1, 3.0, 15.9)]  # reported with rep 5, the stop
    assert unseen_in_set(result) == 0
    result = result_of([()] * 4, stop_rep=4, mode=SetMode.FIXED)  # 4 seen + 1 unseen = 5: the target
    result.unseen = [UnseenRepsEvent(8.0, 3.6, 1, 3.0, 12.9)]
    assert unseen_in_set(result) == 1
