"""Plans on the command line: ``--plan``, ``--set``, ``--load`` and ``--beginner`` for ``replay`` and ``live``.

The set options become a ``SetChoice``: the ``SetConfig`` the engine runs, and, with a plan, the plan, the set of it
and the load. After the set, ``set_advice`` gives the advice and ``print_advice``/``plan_json`` show it.
Without ``--plan`` nothing changes: the set runs from ``--mode``/``--reps`` (``--reps N`` alone: a fixed set of N).
"""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.panel import Panel
from rich.text import Text

from repsense.core.advice import Advice, Verdict, session_advice
from repsense.core.plan import Load, Plan, PlanKind, SetSpec, WeightUnit, parse_load, parse_plan
from repsense.core.session import SessionResult
from repsense.core.setcontrol import SetConfig, SetMode
from repsense.errors import ConfigError
from repsense.events import Exercise

DefaultSetNumber = Callable[[argparse.Namespace, Plan, dt.datetime | None], int]
#: For an endurance set: (last week's number, the day's number so far), each None when there is none.
EnduranceNumbers = Callable[[argparse.Namespace, Exercise, SetSpec, dt.datetime | None], tuple[int | None, int | None]]

BEGINNER_WHY = "beginners follow a fixed scheme and do not train to failure"

_VERDICT_STYLE = {
    Verdict.TOO_HEAVY: "red",
    Verdict.AT_LIMIT: "yellow",
    Verdict.RIGHT: "green",
    Verdict.A_LITTLE_LIGHT: "yellow",
    Verdict.TOO_LIGHT: "red",
    Verdict.KEEP: "cyan",
    Verdict.ADD: "green",
    Verdict.NO_ADVICE: "dim",
}


def add_plan_options(p: argparse.ArgumentParser, set_default: str = "the next one on the day of the set, or 1") -> None:
    """The plan options; ``set_default`` says which set ``--set`` defaults to in this command."""
    p.add_argument("--plan", metavar="TEXT", help='a plan, e.g. "4x5@100kg, last AMRAP" (see docs/plans.md)')
    p.add_argument("--set", type=int, metavar="N", help=f"which set of the plan this is (default: {set_default})")
    p.add_argument("--load", metavar="LOAD", help="the load on the bar, e.g. 100kg or 225lb (overrides the plan's)")
    p.add_argument("--beginner", action="store_true", help="no AMRAP: AMRAP sets run as fixed sets, with a warning")


@dataclass(frozen=True, slots=True)
class SetChoice:
    """What the set options chose. ``load``: the plan's (or ``--load``); ``previous_best``: for endurance sets, the
    number to beat: the good reps of the endurance set at this lift and load on the most recent earlier day (None:
    the first time, no load, or unknown); ``day_best``: the day's number so far, the most good reps of the endurance
    sets at this lift and load earlier on the set's own day (None: this is the day's first)."""

    config: SetConfig
    plan: Plan | None = None
    spec: SetSpec | None = None
    load: Load | None = None
    beginner: bool = False
    warnings: tuple[str, ...] = ()
    previous_best: int | None = None
    day_best: int | None = None

    @property
    def number_to_beat(self) -> int | None:
        """Endurance: the good reps to reach in this set, one more than the better of last week's number and the
        day's number so far."""
        known = [n for n in (self.previous_best, self.day_best) if n is not None]
        return max(known) + 1 if known else None

    def describe(self) -> str | None:
        """One line on the plan and this set, e.g. "plan 4x5@100kg, last AMRAP: set 4 of 4, AMRAP (5 planned) at
        100 kg"; None without a plan."""
        if self.plan is None or self.spec is None:
            return None
        spec = self.spec
        if spec.mode == SetMode.FIXED:
            what = f"fixed {spec.target_reps} reps"
        elif spec.target_reps is not None:
            what = f"AMRAP ({spec.target_reps} planned)"
        else:
            what = "AMRAP"
        line = f"plan {self.plan.text}: set {spec.number} of {len(self.plan.sets)}, {what}"
        if self.load is not None:
            line += f" at {self.load}"
        if self.plan.kind == PlanKind.ENDURANCE:
            if self.load is None:
                line += "; no load, so no number to beat (give one: endurance 80kg, or --load)"
            elif self.previous_best is None and self.day_best is None:
                line += "; no endurance set at this load on an earlier day: today sets your number"
            elif self.previous_best is None:
                line += f"; your number today so far: {self.day_best} (an earlier set), beat it: {self.number_to_beat}"
            elif self.day_best is None:
                line += f"; your number: {self.previous_best}, beat it: {self.number_to_beat}"
            elif self.day_best > self.previous_best:
                line += (
                    f"; your number: {self.previous_best}, beaten today with {self.day_best} (an earlier set), "
                    f"beat that: {self.number_to_beat}"
                )
            else:
                line += f"; your number: {self.previous_best} (today so far: {self.day_best}), "
                line += f"beat it: {self.number_to_beat}"
        return line


def check_plan_options(args: argparse.Namespace) -> None:
    """Read ``--plan`` and ``--load`` once before anything else, so that a typo in them is the error a command
    reports, not a later one (a missing recording)."""
    if getattr(args, "plan", None) is not None:
        parse_plan(args.plan)
    if getattr(args, "load", None) is not None:
        parse_load(args.load)


def recording_load(metadata: Mapping[str, Any]) -> Load | None:
    """The load a recording says it was made at (its ``load_kg`` metadata), or None when it says none or no
    positive number."""
    try:
        return Load(float(metadata["load_kg"]), WeightUnit.KG)
    except (KeyError, TypeError, ValueError, ConfigError):
        return None


def choose_set(
    args: argparse.Namespace,
    exercise: Exercise,
    default_set_number: DefaultSetNumber,
    endurance_numbers: EnduranceNumbers | None = None,
    started: dt.datetime | None = None,
    recorded_load: Load | None = None,
) -> SetChoice:
    """The set to run from the parsed set options. ``default_set_number`` picks the set when ``--set`` is not given;
    ``endurance_numbers`` looks up last week's number and the day's so far for an endurance set. ``started``: when
    the set was done (a replayed recording's start), None for now; the look-ups go by it. ``recorded_load``: the
    recording's own load (``recording_load``), used when neither ``--load`` nor the plan gives one."""
    plan_text: str | None = getattr(args, "plan", None)
    load_text: str | None = getattr(args, "load", None)
    number: int | None = getattr(args, "set", None)
    beginner: bool = getattr(args, "beginner", False)
    mode_text: str | None = getattr(args, "mode", None)
    reps: int | None = getattr(args, "reps", None)
    load = None if load_text is None else parse_load(load_text)
    common: dict[str, Any] = {"velocity_loss": args.velocity_loss, "inactivity_s": args.inactivity}
    if args.confirm is not None:  # given: it holds on the bar and on the wrist alike
        common.update(confirm=args.confirm, confirm_estimated=args.confirm)
    if plan_text is None:
        if number is not None:
            raise ConfigError("--set goes with --plan (which set of the plan)")
        # --reps alone means a fixed set of that many: an AMRAP set has no target, and would ignore it.
        mode = SetMode(mode_text or (SetMode.AMRAP if reps is None or beginner else SetMode.FIXED))
        warnings: list[str] = []
        if mode == SetMode.AMRAP and reps is not None and not beginner:
            raise ConfigError(f"--reps {reps} sets a fixed set's target: an AMRAP set has none (drop --mode amrap)")
        if beginner and mode == SetMode.AMRAP:
            if reps is None:
                raise ConfigError("--beginner keeps AMRAP off: give --plan, or --reps N for a fixed set")
            mode = SetMode.FIXED
            warnings.append(f"beginner: a fixed set of {reps} reps, not AMRAP ({BEGINNER_WHY})")
        config = SetConfig.for_lift(exercise, mode=mode, target_reps=reps, **common)
        return SetChoice(config, load=load or recorded_load, beginner=beginner, warnings=tuple(warnings))

    if mode_text is not None or reps is not None:
        raise ConfigError("--mode and --reps conflict with --plan: the plan sets each set's mode and reps")
    plan = parse_plan(plan_text)
    if load is None and plan.load is None:
        load = recorded_load
    if load is not None:
        plan = plan.with_load(load)
    plan_warnings: list[str] = []
    amrap_sets = [s.number for s in plan.sets if s.mode == SetMode.AMRAP]
    if beginner:
        plan, plan_warnings = plan.for_beginner()
    spec = plan.set(default_set_number(args, plan, started) if number is None else number)
    # One warning per AMRAP set of the plan: say only this set's (sets 1-3 of a 4x5 are fixed anyway).
    if beginner:
        plan_warnings = [w for n, w in zip(amrap_sets, plan_warnings, strict=True) if n == spec.number]
    config = SetConfig.for_lift(
        exercise,
        mode=spec.mode,
        target_reps=spec.target_reps if spec.mode == SetMode.FIXED else None,
        **common,
    )
    best = day = None
    if plan.kind == PlanKind.ENDURANCE and endurance_numbers is not None:
        best, day = endurance_numbers(args, exercise, spec, started)
    return SetChoice(config, plan, spec, spec.load, beginner, tuple(plan_warnings), best, day)


def set_advice(choice: SetChoice, result: SessionResult, previous_best: int | None = None) -> Advice | None:
    """The advice after a set run with a plan (None without one). ``previous_best`` (endurance) overrides the one
    the choice looked up."""
    if choice.plan is None or choice.spec is None:
        return None
    best = choice.previous_best if previous_best is None else previous_best
    return session_advice(choice.plan, choice.spec, result, previous_best=best, day_best=choice.day_best)


def print_plan(choice: SetChoice, out: Console) -> None:
    """Before the set: warnings, and the plan line."""
    for warning in choice.warnings:
        out.print(f"warning: {warning}", style="yellow", markup=False, soft_wrap=True)
    line = choice.describe()
    if line is not None:
        out.print(line, style="bold", markup=False, soft_wrap=True)
        out.print()


def warn_json(choice: SetChoice, err: Console) -> None:
    """With ``--json``: the warnings as lines on stderr (stdout holds only the JSON)."""
    for warning in choice.warnings:
        err.print(f"repsense: warning: {warning}", markup=False, soft_wrap=True)


def print_advice(advice: Advice | None, choice: SetChoice, out: Console) -> None:
    """After the set: the advice in a panel titled with the set."""
    if advice is None or choice.plan is None or choice.spec is None:
        return
    title = f"advice: set {choice.spec.number} of {choice.plan.text}"
    text = Text(advice.text, style=_VERDICT_STYLE[advice.verdict])
    out.print()
    out.print(Panel(text, title=title, title_align="left", border_style=_VERDICT_STYLE[advice.verdict], expand=False))


def plan_json(choice: SetChoice, advice: Advice | None) -> dict[str, Any]:
    """The keys a set with a plan adds to the ``--json`` object: "plan" and "advice" (with ``--load`` but no plan,
    only "load"; nothing without either)."""
    if choice.plan is None or choice.spec is None:
        return {} if choice.load is None else {"load": choice.load.to_dict()}
    spec = choice.spec
    return {
        "plan": {
            **choice.plan.to_dict(),
            "set": spec.number,
            "mode": str(spec.mode),
            "target_reps": spec.target_reps,
            "load": None if choice.load is None else choice.load.to_dict(),
            "beginner": choice.beginner,
            "warnings": list(choice.warnings),
            "previous_best": choice.previous_best,
            "day_best": choice.day_best,
        },
        "advice": None if advice is None else advice.to_dict(),
    }
