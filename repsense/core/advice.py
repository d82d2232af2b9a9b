"""Good reps and load advice after a set, the way a coach regulates training.

A rep counts only with good form: a rep flagged short (range of motion) or grinding is not a good rep, nor is any
rep after the one that ended the set. The advice compares the good reps with the plan:

- An AMRAP set with ``p`` planned reps (the last set of "4x5@100kg, last AMRAP": p = 5) regulates the load through
  the good reps ``r`` it reached. This is the tested rule; for 4x5 it reads 6-7 right, 10 or more too light::

      r <  p        TOO_HEAVY       lower the load
      r == p        AT_LIMIT        keep the load
      r == p+1, p+2 RIGHT           keep the load
      r == p+3, p+4 A_LITTLE_LIGHT  one plate step up
      r >= p+5      TOO_LIGHT       up, from the e1RM

  Lighter and heavier next loads come from the e1RM (Epley) solved for p + 1.5 reps, the middle of the right band,
  rounded to whole plate steps from today's load (``steps_from``: the lifter's own grid) and at least one step
  away. The bands count reps over the plan, so any scheme works the same way (a 3x3 with an AMRAP last set is right
  at 4-5 good reps).
- A fixed set: all its reps good -> ADD one plate step next time (on the plan's last set; on an earlier set, if the
  others go the same way); otherwise KEEP. The fixed sets before an AMRAP set always KEEP: the AMRAP set decides.
- An endurance set: beat last week's number. Today's good reps against the number: the good reps of the endurance
  set at the same lift and load on the most recent earlier day (from history); the target is one more. A second
  set on the same day counts the day's best so far: the day's number is its better set. The load stays. Without a
  load there is no number.

Pure: counts and loads in, an ``Advice`` out. Loads stay in the user's unit.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from repsense.core.plan import Load, Plan, PlanKind, SetSpec, WeightUnit, format_number
from repsense.core.setcontrol import SetMode
from repsense.errors import ConfigError
from repsense.events import RepFlag

if TYPE_CHECKING:
    from repsense.core.session import SessionResult

#: Flags that make a rep not a good rep: it still shows in the set, but it does not count towards the plan.
FORM_BREAKERS = frozenset({RepFlag.SHORT_ROM, RepFlag.GRINDING})

#: The smallest total step a lifter can add with a pair of the usual smallest plates: 2 x 1.25 kg, or 2 x 2.5 lb.
DEFAULT_INCREMENT: dict[WeightUnit, float] = {WeightUnit.KG: 2.5, WeightUnit.LB: 5.0}

#: Next loads aim at this many reps over the plan: the middle of the RIGHT band (p+1 .. p+2).
AIM_OVER_PLAN_REPS = 1.5

_EPS = 1e-9  # float noise allowed when counting whole plate steps (102.5 / 2.5 may come out as 40.999999...)


class Verdict(StrEnum):
    TOO_HEAVY = "too_heavy"
    AT_LIMIT = "at_limit"
    RIGHT = "right"
    A_LITTLE_LIGHT = "a_little_light"
    TOO_LIGHT = "too_light"
    KEEP = "keep"
    ADD = "add"
    NO_ADVICE = "no_advice"


@dataclass(frozen=True, slots=True)
class Advice:
    """What to do next time. ``load``: the load used; ``next_load``: whole plate steps from it, in the user's unit;
    ``e1rm``: the estimated one-rep max (AMRAP sets only); ``target_reps``: the planned reps (AMRAP, fixed) or the
    number to reach today (endurance: one more than the better of the previous best and ``day_best``, the day's
    best so far); ``text``: one or two sentences for the lifter."""

    verdict: Verdict
    load: Load | None
    next_load: Load | None
    e1rm: Load | None
    text: str
    good_reps: int = 0
    target_reps: int | None = None
    previous_best: int | None = None
    day_best: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": str(self.verdict),
            "good_reps": self.good_reps,
            "target_reps": self.target_reps,
            "previous_best": self.previous_best,
            "day_best": self.day_best,
            "load": None if self.load is None else self.load.to_dict(),
            "next_load": None if self.next_load is None else self.next_load.to_dict(),
            "e1rm": None if self.e1rm is None else self.e1rm.to_dict(),
            "text": self.text,
        }


# -- good reps --------------------------------------------------------------------------------------------------------


def good_rep_count(flags_per_rep: Sequence[Iterable[RepFlag | str]], reps_at_stop: int | None) -> int:
    """Good reps among reps given by their flags, in order: those up to and including rep ``reps_at_stop`` (all of
    them when the set never ended), less those flagged short or grinding."""
    counted = flags_per_rep if reps_at_stop is None else flags_per_rep[:reps_at_stop]
    breakers = {str(f) for f in FORM_BREAKERS}
    return sum(1 for flags in counted if not breakers.intersection(str(f) for f in flags))


def good_reps(result: SessionResult) -> int:
    """Good reps in a set: reps up to and including the one that ended it, less the short and grinding ones."""
    return good_rep_count([r.flags for r in result.reps], None if result.stop is None else result.stop.rep)


def unseen_in_set(result: SessionResult) -> int:
    """Reps a sensor gap hid *within the set*: those reported by the time the set ended (all of them when it never
    ended); for a fixed set, no more than its target leaves beside the counted reps. Reps hidden after the stop
    belong to no set, as seen reps after it do not."""
    stop = result.stop
    unseen = sum(u.reps for u in result.unseen if stop is None or u.detected_at_s <= stop.t_s)
    cfg = result.set_config
    if cfg.mode == SetMode.FIXED and cfg.target_reps is not None:
        counted = len(result.reps) if stop is None else min(stop.rep, len(result.reps))
        unseen = min(unseen, max(0, cfg.target_reps - counted))
    return unseen


def unseen_note(unseen: int) -> str:
    """The sentence the advice ends with when a sensor gap hid ``unseen`` reps of the set (empty for none)."""
    if not unseen:
        return ""
    one = unseen == 1
    return (
        f" About {unseen} more rep{'' if one else 's'} went unseen in a sensor gap and {'is' if one else 'are'} not "
        "counted here."
    )


# -- loads ------------------------------------------------------------------------------------------------------------


def e1rm_epley(load_kg: float, reps: int) -> float:
    """Estimated one-rep max after ``reps`` good reps at ``load_kg`` (Epley: load x (1 + reps / 30)). One rep is the
    load itself. The formula is linear, so a load in pounds gives pounds."""
    if reps < 1:
        raise ValueError(f"an e1RM needs at least one rep, got {reps}")
    return load_kg if reps == 1 else load_kg * (1.0 + reps / 30.0)


def load_for_reps(e1rm: float, reps: float) -> float:
    """The load at which ``reps`` good reps are expected, from an e1RM (Epley solved for the load)."""
    return e1rm / (1.0 + reps / 30.0)


def _step(load: Load, increment: float | None) -> float:
    step = DEFAULT_INCREMENT[load.unit] if increment is None else increment
    if not (math.isfinite(step) and step > 0.0):
        raise ConfigError(f"a plate step must be a positive number of {load.unit}, got {step!r}")
    return step


def steps_from(load: Load, k: int, increment: float | None = None) -> Load:
    """Today's ``load`` plus ``k`` plate steps (minus, for negative ``k``), never below one step (nor below ``load``
    when that is lighter still).

    Today's load is loadable: the lifter loaded it. Next loads stay on the lifter's own grid, today's load plus or
    minus whole steps, so a load off the 2.5 kg / 5 lb grid (101 kg, with fractional plates; 226 lb) moves by
    exactly the step (103.5 kg, 231 lb) rather than jumping to the standard grid (105 kg, "add 4 kg").
    """
    step = _step(load, increment)
    floor_value = min(load.value, step)
    # float noise removed (0.1 x 3 would print as 0.30000000000000004)
    return Load(round(max(load.value + k * step, floor_value), 6), load.unit)


def step_up(load: Load, increment: float | None = None) -> Load:
    """One plate step above ``load``."""
    return steps_from(load, 1, increment)


def step_down(load: Load, increment: float | None = None) -> Load:
    """One plate step below ``load`` (never less than one step)."""
    return steps_from(load, -1, increment)


def toward(load: Load, target: float, increment: float | None = None) -> Load:
    """The load of whole plate steps from ``load`` nearest to ``target`` (same unit; halves round up)."""
    step = _step(load, increment)
    return steps_from(load, math.floor((target - load.value) / step + 0.5 + _EPS), step)


# -- advice -----------------------------------------------------------------------------------------------------------


def _reps(n: int) -> str:
    return f"{n} good rep{'' if n == 1 else 's'}"


def _e1rm_note(e1rm: Load | None) -> str:
    # Whole kg or lb, halves rounded up as on a scale (Python's round() would make 262.5 lb read 262).
    return "" if e1rm is None else f" (e1RM {math.floor(e1rm.value + 0.5)} {e1rm.unit})"


def amrap_advice(planned_reps: int, good_reps: int, load: Load | None, increment: float | None = None) -> Advice:
    """Advice after an AMRAP set with ``planned_reps`` planned (the scheme's reps) and ``good_reps`` reached."""
    if planned_reps < 1:
        raise ConfigError(f"an AMRAP set needs at least 1 planned rep, got {planned_reps}")
    p, r = planned_reps, good_reps
    over = r - p
    if over < 0:
        verdict, judgement = Verdict.TOO_HEAVY, "too heavy"
    elif over == 0:
        verdict, judgement = Verdict.AT_LIMIT, "at your limit"
    elif over <= 2:
        verdict, judgement = Verdict.RIGHT, "right"
    elif over <= 4:
        verdict, judgement = Verdict.A_LITTLE_LIGHT, "a little light"
    else:
        verdict, judgement = Verdict.TOO_LIGHT, "too light"
    head = f"{_reps(r)} on the AMRAP set ({p} planned): the load is {judgement}."
    if load is None:
        tail = {
            Verdict.TOO_HEAVY: "Lower the load next time.",
            Verdict.AT_LIMIT: f"Keep it until you get {p + 1}.",
            Verdict.RIGHT: "Keep it.",
            Verdict.A_LITTLE_LIGHT: "Add a little next time.",
            Verdict.TOO_LIGHT: "Add load next time.",
        }[verdict]
        return Advice(verdict, None, None, None, f"{head} {tail}", good_reps=r, target_reps=p)

    step = _step(load, increment)
    e1rm_value = e1rm_epley(load.value, r) if r >= 1 else None
    e1rm = None if e1rm_value is None else Load(round(e1rm_value, 1), load.unit)
    # No good rep at all: the 1RM is at most today's load, and that bound sets the next load.
    aim = toward(load, load_for_reps(e1rm_value or load.value, p + AIM_OVER_PLAN_REPS), step)
    if verdict == Verdict.TOO_HEAVY:
        down = step_down(load, step)
        next_load = aim if aim.value <= down.value else down
    elif verdict == Verdict.A_LITTLE_LIGHT:
        next_load = step_up(load, step)
    elif verdict == Verdict.TOO_LIGHT:
        up = step_up(load, step)
        next_load = aim if aim.value >= up.value else up
    else:
        next_load = load
    if verdict == Verdict.AT_LIMIT:
        tail = f"Keep {load} until you get {p + 1}{_e1rm_note(e1rm)}."
    elif verdict == Verdict.RIGHT:
        tail = f"Keep {load}{_e1rm_note(e1rm)}."
    else:
        tail = f"Next time: {next_load}{_e1rm_note(e1rm)}."
    return Advice(verdict, load, next_load, e1rm, f"{head} {tail}", good_reps=r, target_reps=p)


def fixed_advice(
    target_reps: int,
    good_reps: int,
    load: Load | None,
    increment: float | None = None,
    *,
    last_set: bool = True,
    amrap_follows: bool = False,
) -> Advice:
    """Advice after a fixed set of ``target_reps``. ``last_set``: the plan's last set (the advice is for next time);
    ``amrap_follows``: an AMRAP set later in the plan decides the load, so this set only keeps it."""
    t, r = target_reps, good_reps
    head = f"{r} of {t} good reps"
    if amrap_follows:
        verdict = Verdict.KEEP
        how = "on plan" if r >= t else "short of the plan"
        keep = "the load" if load is None else str(load)
        text = f"{head}: {how}. Keep {keep}; the AMRAP set decides the load."
        return Advice(verdict, load, load, None, text, good_reps=r, target_reps=t)
    if r < t:
        keep = "the load" if load is None else str(load)
        text = f"{head}: keep {keep} until all {t} are good."
        return Advice(Verdict.KEEP, load, load, None, text, good_reps=r, target_reps=t)
    if load is None:
        text = f"{head}: add one plate step next time." if last_set else f"{head}: on plan."
        return Advice(Verdict.ADD, None, None, None, text, good_reps=r, target_reps=t)
    step = _step(load, increment)
    up = step_up(load, step)
    added = f"add {format_number(up.value - load.value)} {load.unit}"
    if last_set:
        text = f"{head}: next time {up} ({added})."
    else:
        text = f"{head}: keep {load} for the other sets; if they all go like this, next time {up} ({added})."
    return Advice(Verdict.ADD, load, up, None, text, good_reps=r, target_reps=t)


def endurance_advice(
    good_reps: int, load: Load | None, previous_best: int | None, day_best: int | None = None
) -> Advice:
    """Advice after an endurance set: beat last week's number. ``previous_best``: the number, the good reps of the
    endurance set at the same lift and load on the most recent earlier day (None: the first time); ``day_best``: the
    best good reps of the endurance sets at this lift and load earlier on the set's own day (None: none). The better
    set of a day is that day's number, so a second set of the day is judged with the first in mind and next time's
    target comes from the day's best. Without a load there is no number: "20 reps" means nothing without what was on
    the bar."""
    r = good_reps
    if load is None:
        text = (
            f"{_reps(r)}. No load was given, so there is no number to beat: put it in the plan (endurance 80kg) "
            "or give --load."
        )
        return Advice(Verdict.KEEP, None, None, None, text, good_reps=r)
    at = f" at {load}"
    today = r if day_best is None else max(r, day_best)
    if previous_best is None:
        if day_best is None:
            text = f"{_reps(r)}{at}: that is your number. Next time, beat it: {r + 1}."
            return Advice(Verdict.KEEP, load, load, None, text, good_reps=r)
        if r < day_best:
            text = f"{_reps(r)}{at}; your number today is {day_best}, from an earlier set. Next time, beat it: "
        elif r == day_best:
            text = f"{_reps(r)}{at}, as many as your earlier set today: that is your number. Next time, beat it: "
        else:
            text = f"{_reps(r)}{at}, more than your earlier set today ({day_best}): that is your number. "
            text += "Next time, beat it: "
        text += f"{today + 1}."
        return Advice(Verdict.KEEP, load, load, None, text, good_reps=r, target_reps=day_best + 1, day_best=day_best)
    best = previous_best
    if r > best:
        text = f"{_reps(r)}{at}: you beat your number ({best})."
    elif r == best:
        text = f"{_reps(r)}{at}: equal to your number, not beaten."
    else:
        text = f"{_reps(r)}{at}, short of your number ({best})."
    if day_best is not None and day_best > r:
        text += f" Your earlier set today {'beat it with' if day_best > best else 'made'} {day_best}."
    if today > best:
        text += f" Next time: {today + 1}."
    elif r < best and today < best:
        # Next week's number is this week's, as the rule says: "it stays 23 to beat" was not what it then said.
        text += f" Next week's number is today's {today}: beat it with {today + 1}."
    else:
        text += f" Next time: {best + 1}."
    target = max(best, day_best or 0) + 1
    return Advice(
        Verdict.KEEP, load, load, None, text, good_reps=r, target_reps=target, previous_best=best, day_best=day_best
    )


def advice_from_counts(
    plan: Plan,
    spec: SetSpec,
    good: int,
    reps_counted: int,
    previous_best: int | None = None,
    increment: float | None = None,
    *,
    day_best: int | None = None,
) -> Advice:
    """Advice for set ``spec`` of ``plan`` from its counts: ``good`` good reps of ``reps_counted`` reps up to the stop.
    For a set whose reps were corrected after the fact (history), as for a set just done. ``previous_best`` and
    ``day_best`` are for endurance sets (see ``endurance_advice``)."""
    if reps_counted == 0:
        return Advice(Verdict.NO_ADVICE, spec.load, None, None, "No reps were counted: no advice.", good_reps=0)
    if plan.kind == PlanKind.ENDURANCE:
        return endurance_advice(good, spec.load, previous_best, day_best)
    target = spec.target_reps or 0
    if spec.mode == SetMode.AMRAP:
        return amrap_advice(target, good, spec.load, increment)
    amrap_follows = any(s.mode == SetMode.AMRAP and s.number > spec.number for s in plan.sets)
    return fixed_advice(target, good, spec.load, increment, last_set=plan.is_last(spec), amrap_follows=amrap_follows)


def session_advice(
    plan: Plan,
    spec: SetSpec,
    result: SessionResult,
    previous_best: int | None = None,
    increment: float | None = None,
    *,
    day_best: int | None = None,
) -> Advice:
    """Advice after set ``spec`` of ``plan``, run as ``result``. ``previous_best`` and ``day_best`` are for endurance
    sets. Reps a sensor gap hid within the set are not good reps (their form was not seen); the advice says so. (How
    to add them, with the saved set's id, is said where the set is saved.)"""
    counted = len(result.reps) if result.stop is None else min(result.stop.rep, len(result.reps))
    advice = advice_from_counts(plan, spec, good_reps(result), counted, previous_best, increment, day_best=day_best)
    note = unseen_note(unseen_in_set(result))
    return dataclasses.replace(advice, text=advice.text + note) if note else advice
