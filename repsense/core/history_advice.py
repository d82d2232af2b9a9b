"""Advice for a corrected set: the advice rules applied again to a stored set's plan, load and counts.

When a user corrects a set (``repsense correct``), its reps and good reps change, and so may the advice. The rules
live in ``repsense.core.advice``; this module feeds them the stored row.
"""

from __future__ import annotations

from dataclasses import replace

from repsense.core.advice import advice_from_counts
from repsense.core.history import History, SetRow
from repsense.core.history_rows import local_midnight
from repsense.core.plan import Load, PlanKind, WeightUnit, parse_plan


def recompute_advice(history: History, row: SetRow) -> tuple[str | None, str | None] | None:
    """The advice for a corrected set (verdict, text), from its plan, its load and its counted and good reps.

    A set saved without a plan had no advice and gets none (None: keep what is stored). For an endurance set the
    number to beat is that of the most recent day before this set's day, and the day's best so far that of the
    endurance sets of the same day saved before it, as they were when the set was done.
    """
    if row.plan_text is None:
        return None
    plan = parse_plan(row.plan_text)
    spec = plan.set(row.set_number or 1)
    if row.load_value is not None:
        spec = replace(spec, load=Load(row.load_value, WeightUnit(row.load_unit or "kg")))
    previous = day_best = None
    if plan.kind == PlanKind.ENDURANCE and row.load_kg is not None:
        midnight = local_midnight(row.started_at)
        previous = history.endurance_number(row.exercise, row.load_kg, before=midnight)
        day_best = history.endurance_day_best(
            row.exercise, row.load_kg, since=midnight, before=row.started_at, before_id=row.id
        )
    given = advice_from_counts(plan, spec, row.good_reps, row.rep_count, previous_best=previous, day_best=day_best)
    return str(given.verdict), given.text
