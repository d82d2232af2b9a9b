"""Plans and loads: the syntax users type, its normalised form, and the errors they read."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from repsense.core.plan import (
    KG_PER_LB,
    MAX_REPS,
    MAX_SETS,
    Load,
    Plan,
    PlanKind,
    WeightUnit,
    parse_load,
    parse_plan,
)
from repsense.core.setcontrol import SetMode
from repsense.errors import ConfigError

KG, LB = WeightUnit.KG, WeightUnit.LB


@pytest.mark.parametrize(
    ("text", "normal", "kind", "n_sets", "reps", "load"),
    [
        ("4x5@100kg, last AMRAP", "4x5@100kg, last AMRAP", PlanKind.AMRAP_LAST, 4, 5, Load(100, KG)),
        ("3x8@60kg", "3x8@60kg", PlanKind.FIXED, 3, 8, Load(60, KG)),
        ("endurance 200lb, 2 sets", "endurance 200lb, 2 sets", PlanKind.ENDURANCE, 2, None, Load(200, LB)),
        ("5x5@225lb", "5x5@225lb", PlanKind.FIXED, 5, 5, Load(225, LB)),
        ("3x5@100kg, last amrap", "3x5@100kg, last AMRAP", PlanKind.AMRAP_LAST, 3, 5, Load(100, KG)),
        ("1x5@80kg", "1x5@80kg", PlanKind.FIXED, 1, 5, Load(80, KG)),
        ("1x5@80kg, last AMRAP", "1x5@80kg, last AMRAP", PlanKind.AMRAP_LAST, 1, 5, Load(80, KG)),
        (" 4 X 5 @ 102.5 KG ,LAST  Amrap ", "4x5@102.5kg, last AMRAP", PlanKind.AMRAP_LAST, 4, 5, Load(102.5, KG)),
        ("4x5@100kg,last set AMRAP", "4x5@100kg, last AMRAP", PlanKind.AMRAP_LAST, 4, 5, Load(100, KG)),
        ("5\u00d73@140kgs", "5x3@140kg", PlanKind.FIXED, 5, 3, Load(140, KG)),
        ("3x10@135 lbs", "3x10@135lb", PlanKind.FIXED, 3, 10, Load(135, LB)),
        ("3x5", "3x5", PlanKind.FIXED, 3, 5, None),
        ("endurance 200lb", "endurance 200lb, 1 set", PlanKind.ENDURANCE, 1, None, Load(200, LB)),
        ("Endurance bodyweight 80kg, 2 sets", "endurance 80kg, 2 sets", PlanKind.ENDURANCE, 2, None, Load(80, KG)),
        ("endurance bw 80 kg,1 set", "endurance 80kg, 1 set", PlanKind.ENDURANCE, 1, None, Load(80, KG)),
        ("endurance", "endurance, 1 set", PlanKind.ENDURANCE, 1, None, None),
    ],
)
def test_plans_users_write(text, normal, kind, n_sets, reps, load):
    plan = parse_plan(text)
    assert plan.text == str(plan) == normal
    assert plan.kind == kind
    assert len(plan.sets) == n_sets
    assert [s.number for s in plan.sets] == list(range(1, n_sets + 1))
    assert all(s.target_reps == reps and s.load == load for s in plan.sets)
    assert parse_plan(normal) == plan


def test_modes_of_the_sets():
    amrap_last = parse_plan("4x5@100kg, last AMRAP")
    assert [s.mode for s in amrap_last.sets] == [SetMode.FIXED] * 3 + [SetMode.AMRAP]
    assert amrap_last.set(4).target_reps == 5  # the planned reps of the AMRAP set
    assert all(s.mode == SetMode.FIXED for s in parse_plan("3x8@60kg").sets)
    assert all(s.mode == SetMode.AMRAP for s in parse_plan("endurance 200lb, 2 sets").sets)


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("", "empty"),
        ("4x5@100kb", "100kb"),
        ("4x5@100", "no unit"),
        ("4x5@100kg, last AMRAPP", "lastamrapp"),
        ("4x5@100kg, last AMRAP, last AMRAP", "twice"),
        ("4x5@100kg, 2 sets", "already given"),
        ("four by five", "fourbyfive"),
        ("4x@100kg", "4x@100kg"),
        ("4.5x5@100kg", "4.5x5@100kg"),
        ("0x5@100kg", "1 to 20 sets"),
        ("21x5@100kg", "1 to 20 sets"),
        ("3x0@100kg", "1 to 100 reps"),
        ("3x101@100kg", "1 to 100 reps"),
        ("3x5@0kg", "more than 0"),
        ("3x5@1500kg", "typo"),
        ("3x5@100.125kg", "100.125kg"),
        ("endurance 200lb, last AMRAP", "all AMRAP already"),
        ("endurance 200lb, 2 sets, 3 sets", "twice"),
        ("endurance 200lb, 0 sets", "1 to 20 sets"),
        ("endurance two hundred", "twohundred"),
    ],
)
def test_bad_plans_name_the_bad_part(text, named):
    with pytest.raises(ConfigError) as caught:
        parse_plan(text)
    message = str(caught.value)
    assert named in message
    assert "\n" not in message


def test_set_out_of_range():
    plan = parse_plan("3x8@60kg")
    assert plan.set(3).number == 3
    for number in (0, 4, -1):
        with pytest.raises(ConfigError, match=r'set -?\d+ is not in plan "3x8@60kg", which has 3 sets'):
            plan.set(number)


def test_for_beginner_turns_amrap_sets_fixed_and_warns():
    plan, warnings = parse_plan("4x5@100kg, last AMRAP").for_beginner()
    assert plan == parse_plan("4x5@100kg")
    assert all(s.mode == SetMode.FIXED and s.target_reps == 5 for s in plan.sets)
    assert len(warnings) == 1
    assert "set 4" in warnings[0] and "fixed set of 5 reps" in warnings[0] and "failure" in warnings[0]
    fixed = parse_plan("3x8@60kg")
    assert fixed.for_beginner() == (fixed, [])
    with pytest.raises(ConfigError, match="beginner"):
        parse_plan("endurance 200lb, 2 sets").for_beginner()


def test_with_load_replaces_the_load_everywhere():
    plan = parse_plan("4x5@100kg, last AMRAP").with_load(Load(225, LB))
    assert plan.text == "4x5@225lb, last AMRAP"
    assert all(s.load == Load(225, LB) for s in plan.sets)


# -- loads ------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "load"),
    [
        ("100kg", Load(100, KG)),
        ("100 kg", Load(100, KG)),
        ("102.5 KG", Load(102.5, KG)),
        ("100kgs", Load(100, KG)),
        ("225lb", Load(225, LB)),
        ("225 lbs", Load(225, LB)),
        ("bodyweight 80kg", Load(80, KG)),
        ("BW 176.4 lb", Load(176.4, LB)),
    ],
)
def test_loads_users_write(text, load):
    assert parse_load(text) == load


@pytest.mark.parametrize("text", ["100", "kg", "100 stone", "-5kg", "100,5kg", "1e2kg", "2500lb", "100kg!"])
def test_bad_loads(text):
    with pytest.raises(ConfigError):
        parse_load(text)


def test_loads_say_kg_and_lb_properly():
    assert str(Load(100, KG)) == "100 kg"
    assert str(Load(102.5, KG)) == "102.5 kg"
    assert str(Load(225, LB)) == "225 lb"
    assert str(Load(133.333333, KG)) == "133.33 kg"
    assert Load(225, LB).kg == pytest.approx(102.0582, abs=1e-4)
    assert Load(100, KG).to(LB).value == pytest.approx(220.462, abs=1e-3)
    assert Load(100, KG).to(LB).to(KG).value == pytest.approx(100.0)
    assert Load(1, LB).kg == KG_PER_LB
    with pytest.raises(ConfigError):
        Load(0, KG)
    with pytest.raises(ConfigError):
        Load(float("nan"), KG)


# -- the normalised form reads back -----------------------------------------------------------------------------------

loads = st.builds(
    Load,
    st.integers(1, 50_000).map(lambda hundredths: hundredths / 100),
    st.sampled_from([KG, LB]),
)
plans = st.one_of(
    st.builds(
        Plan.build,
        st.sampled_from([PlanKind.FIXED, PlanKind.AMRAP_LAST]),
        st.integers(1, MAX_SETS),
        st.integers(1, MAX_REPS),
        st.none() | loads,
    ),
    st.builds(Plan.build, st.just(PlanKind.ENDURANCE), st.integers(1, MAX_SETS), st.none(), st.none() | loads),
)


@given(plans)
def test_parse_of_str_is_the_plan(plan):
    assert parse_plan(str(plan)) == plan
    assert parse_plan(str(plan).upper().replace(" ", "")) == plan


@given(loads)
def test_loads_read_back(load):
    assert parse_load(str(load)) == load
    assert parse_load(load.compact()) == load


@pytest.mark.parametrize(
    ("written", "normal"),
    [
        ("4x5@100kg last amrap", "4x5@100kg, last AMRAP"),
        ("4x5 @ 100 kg  last AMRAP", "4x5@100kg, last AMRAP"),
        ("endurance 200lb 2 sets", "endurance 200lb, 2 sets"),
    ],
)
def test_the_comma_before_the_options_is_optional(written: str, normal: str) -> None:
    assert parse_plan(written) == parse_plan(normal)
