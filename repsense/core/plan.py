"""Training plans in a compact syntax, and the loads on the bar.

A plan says how many sets of how many reps, at which load, and which sets are AMRAP (as many good reps as possible).
``parse_plan`` reads the syntax below (case-insensitive; spaces are optional everywhere) and ``str(plan)`` writes it
back in its normalised form, so ``parse_plan(str(plan)) == plan``::

    SETSxREPS[@LOAD]                  3x8@60kg               a fixed scheme: every set ends at its target
    SETSxREPS[@LOAD], last AMRAP      4x5@100kg, last AMRAP  fixed sets, then one AMRAP set that regulates the load
    endurance [LOAD][, N sets]        endurance 200lb, 2 sets  AMRAP sets at one load: beat your number

    LOAD: a number and a unit, "100kg", "102.5 kg", "225lb", "225 lbs"; "bodyweight 80kg" (or "bw 80kg") is
    80 kg, since repsense cannot know your bodyweight.

docs/plans.md has the user's guide with examples.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from enum import StrEnum

from repsense.core.setcontrol import SetMode
from repsense.errors import ConfigError

KG_PER_LB = 0.45359237  # exact, by the international yard and pound agreement (1959)
MAX_LOAD_KG = 1000.0  # beyond any lift ever made: a typo, not a load
MAX_SETS = 20
MAX_REPS = 100

PLAN_EXAMPLES = '"4x5@100kg, last AMRAP", "3x8@60kg" or "endurance 200lb, 2 sets"'


class WeightUnit(StrEnum):
    KG = "kg"
    LB = "lb"


@dataclass(frozen=True, slots=True)
class Load:
    """A load on the bar: ``value`` in ``unit`` (bar and plates together). Positive and finite."""

    value: float
    unit: WeightUnit

    def __post_init__(self) -> None:
        if not (math.isfinite(self.value) and self.value > 0.0):
            raise ConfigError(f"a load must be a positive number, got {self.value!r} {self.unit}")

    @property
    def kg(self) -> float:
        """The load in kilograms."""
        return self.value if self.unit == WeightUnit.KG else self.value * KG_PER_LB

    def to(self, unit: WeightUnit) -> Load:
        """The same load in ``unit`` (not rounded to plates)."""
        if unit == self.unit:
            return self
        return Load(self.kg if unit == WeightUnit.KG else self.kg / KG_PER_LB, unit)

    def compact(self) -> str:
        """As in the plan syntax: "100kg", "102.5kg", "225lb"."""
        return f"{format_number(self.value)}{self.unit}"

    def to_dict(self) -> dict[str, float | str]:
        return {"value": round(self.value, 3), "unit": str(self.unit), "kg": round(self.kg, 3)}

    def __str__(self) -> str:
        """For people: "100 kg", "102.5 kg", "225 lb"."""
        return f"{format_number(self.value)} {self.unit}"


def format_number(value: float) -> str:
    """A load figure with at most two decimals and no trailing zeros: 100, 102.5, 133.33."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


_LOAD_RE = re.compile(r"(?:bodyweight|bw)?(?P<value>\d+(?:\.\d{1,2})?)(?P<unit>kgs?|lbs?)")
_UNITS = {"kg": WeightUnit.KG, "kgs": WeightUnit.KG, "lb": WeightUnit.LB, "lbs": WeightUnit.LB}


def parse_load(text: str) -> Load:
    """Read a load: a number with at most two decimals and a unit (kg, kgs, lb, lbs), spaces optional, case ignored.

    "100kg", "102.5 kg", "225lb", "225 LBS"; "bodyweight 80kg" and "bw 80kg" are 80 kg (the word is a reminder for
    the lifter; repsense cannot know anyone's bodyweight). A number without a unit is refused rather than guessed.
    """
    squashed = "".join(text.split()).lower()
    match = _LOAD_RE.fullmatch(squashed)
    if match is None:
        if re.fullmatch(r"(?:bodyweight|bw)?\d+(?:\.\d+)?", squashed):
            raise ConfigError(f"load {text.strip()!r} has no unit: write e.g. 100kg or 225lb")
        raise ConfigError(f"load {text.strip()!r} is not a load like 100kg, 102.5 kg or 225lb")
    value = float(match["value"])
    unit = _UNITS[match["unit"]]
    if value <= 0.0:
        raise ConfigError(f"load {text.strip()!r} must be more than 0")
    load = Load(value, unit)
    if load.kg > MAX_LOAD_KG:
        raise ConfigError(f"load {text.strip()!r} is more than {MAX_LOAD_KG:g} kg: a typo?")
    return load


class PlanKind(StrEnum):
    FIXED = "fixed"  # every set ends at its target
    AMRAP_LAST = "amrap_last"  # fixed sets, the last one AMRAP
    ENDURANCE = "endurance"  # every set AMRAP at one load; beat the previous best


@dataclass(frozen=True, slots=True)
class SetSpec:
    """One set of a plan. ``target_reps`` is the scheme's reps, also for an AMRAP set (the 5 planned of "4x5");
    None for endurance sets, whose target is the previous best from history."""

    number: int
    mode: SetMode
    target_reps: int | None
    load: Load | None


@dataclass(frozen=True, slots=True)
class Plan:
    """A parsed plan. ``text`` is its normalised form, which ``parse_plan`` reads back to an equal plan."""

    text: str
    kind: PlanKind
    sets: tuple[SetSpec, ...]

    @staticmethod
    def build(kind: PlanKind, n_sets: int, reps: int | None, load: Load | None) -> Plan:
        """The plan of ``kind`` with ``n_sets`` sets of ``reps`` (None for endurance) at ``load``."""
        if not 1 <= n_sets <= MAX_SETS:
            raise ConfigError(f"a plan has 1 to {MAX_SETS} sets, not {n_sets}")
        if kind == PlanKind.ENDURANCE:
            if reps is not None:
                raise ConfigError("an endurance plan has no rep target: its sets are AMRAP")
            specs = tuple(SetSpec(n, SetMode.AMRAP, None, load) for n in range(1, n_sets + 1))
            text = "endurance" + ("" if load is None else f" {load.compact()}")
            text += f", {n_sets} set" + ("" if n_sets == 1 else "s")
            return Plan(text, kind, specs)
        if reps is None or not 1 <= reps <= MAX_REPS:
            raise ConfigError(f"a set has 1 to {MAX_REPS} reps, not {reps}")
        last_amrap = kind == PlanKind.AMRAP_LAST
        specs = tuple(
            SetSpec(n, SetMode.AMRAP if last_amrap and n == n_sets else SetMode.FIXED, reps, load)
            for n in range(1, n_sets + 1)
        )
        text = f"{n_sets}x{reps}" + ("" if load is None else f"@{load.compact()}")
        if last_amrap:
            text += ", last AMRAP"
        return Plan(text, kind, specs)

    @property
    def load(self) -> Load | None:
        """The plan's load (every set of a plan has the same load)."""
        return self.sets[0].load

    @property
    def reps(self) -> int | None:
        """The scheme's reps per set; None for endurance."""
        return self.sets[0].target_reps

    def set(self, number: int) -> SetSpec:
        """Set ``number`` (1-based)."""
        if not 1 <= number <= len(self.sets):
            count = len(self.sets)
            raise ConfigError(f'set {number} is not in plan "{self.text}", which has {count} set{"s" * (count != 1)}')
        return self.sets[number - 1]

    def is_last(self, spec: SetSpec) -> bool:
        return spec.number == len(self.sets)

    def with_load(self, load: Load | None) -> Plan:
        """The same plan at another load."""
        return Plan.build(self.kind, len(self.sets), self.reps, load)

    def for_beginner(self) -> tuple[Plan, list[str]]:
        """The plan a beginner runs: AMRAP sets become fixed sets at the scheme's reps, with a warning for each.

        Beginners should not train to failure, so an endurance plan (all AMRAP, no rep target) is refused.
        """
        if self.kind == PlanKind.ENDURANCE:
            raise ConfigError(
                f'--beginner: "{self.text}" is all AMRAP sets; a beginner follows a fixed scheme such as 3x8@60kg'
            )
        if self.kind == PlanKind.FIXED:
            return self, []
        fixed = Plan.build(PlanKind.FIXED, len(self.sets), self.reps, self.load)
        amrap = [s.number for s in self.sets if s.mode == SetMode.AMRAP]
        warnings = [
            f"beginner: set {n} of {self.text} runs as a fixed set of {self.reps} reps, not AMRAP "
            "(beginners follow a fixed scheme and do not train to failure)"
            for n in amrap
        ]
        return fixed, warnings

    def to_dict(self) -> dict[str, object]:
        return {"text": self.text, "kind": str(self.kind), "sets": len(self.sets)}

    def __str__(self) -> str:
        return self.text


_SCHEME_RE = re.compile(r"(?P<sets>\d+)[x\u00d7](?P<reps>\d+)(?:@(?P<load>.+))?")
_ENDURANCE_RE = re.compile(r"endurance(?P<load>.*)")
_LAST_AMRAP_RE = re.compile(r"last(?:set)?amrap|amraplast")
_N_SETS_RE = re.compile(r"(?P<n>\d+)sets?")
_LAST_AMRAP_TAIL_RE = re.compile(r"(?:last(?:set)?amrap|amraplast)$")
_N_SETS_TAIL_RE = re.compile(r"(?<=[a-z])\d+sets?$")


def parse_plan(text: str) -> Plan:
    """Read a plan (syntax in the module docstring). A ConfigError names the part that is not understood."""
    try:
        return _parse_plan(text)
    except ConfigError as exc:
        if str(exc).startswith("plan "):
            raise
        raise ConfigError(f'plan "{text.strip()}": {exc}') from None


def _parse_plan(text: str) -> Plan:
    parts = ["".join(p.split()).lower() for p in text.split(",")]
    if not parts[0]:
        raise ConfigError(f"plan {text.strip()!r} is empty: write e.g. {PLAN_EXAMPLES}")
    head, options = parts[0], parts[1:]
    # The comma before "last AMRAP" or "N sets" is optional: "4x5@100kg last AMRAP", "endurance 200lb 2 sets".
    for tail in (_N_SETS_TAIL_RE, _LAST_AMRAP_TAIL_RE):
        if (t := tail.search(head)) is not None and t.start() > 0:
            head, options = head[: t.start()], [head[t.start() :], *options]

    def bad(part: str, why: str = "") -> ConfigError:
        why = why or f"expected e.g. {PLAN_EXAMPLES}"
        return ConfigError(f'plan "{text.strip()}": cannot read "{part}" ({why})')

    if (m := _ENDURANCE_RE.fullmatch(head)) is not None:
        load = parse_load(m["load"]) if m["load"] else None
        n_sets: int | None = None
        for part in options:
            if (n := _N_SETS_RE.fullmatch(part)) is None:
                why = "an endurance plan is all AMRAP already" if _LAST_AMRAP_RE.fullmatch(part) else ""
                raise bad(part, why or 'expected "N sets"')
            if n_sets is not None:
                raise bad(part, "the number of sets is given twice")
            n_sets = int(n["n"])
        return Plan.build(PlanKind.ENDURANCE, 1 if n_sets is None else n_sets, None, load)

    if (m := _SCHEME_RE.fullmatch(head)) is None:
        raise bad(head)
    kind = PlanKind.FIXED
    for part in options:
        if _LAST_AMRAP_RE.fullmatch(part):
            if kind == PlanKind.AMRAP_LAST:
                raise bad(part, '"last AMRAP" is given twice')
            kind = PlanKind.AMRAP_LAST
        elif _N_SETS_RE.fullmatch(part):
            raise bad(part, f"the sets are already given by {head}")
        else:
            raise bad(part, 'expected "last AMRAP"')
    load = parse_load(m["load"]) if m["load"] else None
    return Plan.build(kind, int(m["sets"]), int(m["reps"]), load)
