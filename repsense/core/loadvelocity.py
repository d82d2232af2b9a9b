"""The load-velocity profile of a lift, and the e1RM it predicts.

Mean concentric velocity falls about linearly as the load rises. A least-squares line of MCV on load, from sets at
known loads (usually each set's best rep), is extrapolated to the lift's minimal velocity threshold (the MCV of a
one-rep max, ``setcontrol.MIN_VELOCITY_M_S``): the load there is the e1RM. A line through one or two loads says
nothing about its own error, so fewer than three distinct loads are refused.

The line is always given; its e1RM only when it can be believed (see docs/history.md for the reasons):

- the fit explains at least half the variance of the velocity (r² >= ``MIN_R2``): within one lifter MCV falls
  almost linearly with load, so a poorer fit means noise (days, fatigue, mismeasured reps) dominates, and
  extrapolating it to the 1RM velocity is extrapolating noise;
- the e1RM is plausible: not below the heaviest load of the sets (it was lifted, so the 1RM is at least that), and
  not more than ``MAX_E1RM_OVER_HEAVIEST`` times it (every set below half the 1RM: a few hundredths of a m/s move
  the extrapolated point by tens of kg).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from repsense.core.plan import format_number
from repsense.core.setcontrol import MIN_VELOCITY_M_S
from repsense.errors import ConfigError
from repsense.events import Exercise

MIN_DISTINCT_LOADS = 3
#: Below this r² the line is shown but gives no e1RM.
MIN_R2 = 0.5
#: An e1RM more than this many times the heaviest load of the profile is not believed.
MAX_E1RM_OVER_HEAVIEST = 2.0
#: Loads closer than this are the same load (a 100 kg set stored as 99.99999 after a pound conversion).
LOAD_RESOLUTION_KG = 0.01


@dataclass(frozen=True, slots=True)
class LoadVelocityProfile:
    """``mcv = intercept + slope x load``: ``slope`` in (m/s)/kg, ``intercept`` in m/s. ``r2`` is the coefficient of
    determination, ``n_points`` the sets used, ``n_loads`` their distinct loads. ``e1rm_kg`` is the load at
    ``min_velocity_m_s`` (the ``exercise``'s threshold); None when the lift has no threshold, the velocity does not
    fall with the load, or the line's value there (``extrapolated_kg``) is not believed: a poor fit (r² below
    ``MIN_R2``) or an implausible e1RM (below ``heaviest_kg``, the heaviest load of the sets, or more than
    ``MAX_E1RM_OVER_HEAVIEST`` times it)."""

    slope: float
    intercept: float
    r2: float
    n_points: int
    n_loads: int
    min_velocity_m_s: float | None
    e1rm_kg: float | None
    exercise: Exercise = Exercise.OTHER
    extrapolated_kg: float | None = None
    heaviest_kg: float = 0.0

    @property
    def poor_fit(self) -> bool:
        return self.r2 < MIN_R2

    @property
    def implausible(self) -> bool:
        """The line's load at the threshold cannot be a 1RM of these sets."""
        x = self.extrapolated_kg
        return x is not None and not self.heaviest_kg <= x <= MAX_E1RM_OVER_HEAVIEST * self.heaviest_kg

    def no_e1rm_why(self, show: Callable[[float], str] | None = None) -> str | None:
        """Why there is no e1RM, in words (loads written by ``show``, default kg); None when there is one."""
        if self.e1rm_kg is not None:
            return None
        show = show or _kg_text
        if self.min_velocity_m_s is None:
            return f"{self.exercise} has no agreed minimal velocity threshold"
        if self.extrapolated_kg is None:
            return "velocity does not fall as the load rises in these sets"
        if self.poor_fit:
            return f"the fit is too poor to extrapolate (r² {self.r2:.2f}, below {MIN_R2:.2f})"
        side = "below" if self.extrapolated_kg < self.heaviest_kg else "over twice"
        return (
            f"the line gives {show(self.extrapolated_kg)} at {self.min_velocity_m_s:.2f} m/s, {side} the heaviest "
            f"load of these sets ({show(self.heaviest_kg)}): not a plausible 1RM"
        )

    def velocity_at(self, load_kg: float) -> float:
        """The predicted mean concentric velocity at ``load_kg``, m/s."""
        return self.intercept + self.slope * load_kg

    def to_dict(self) -> dict[str, Any]:
        return {
            "exercise": str(self.exercise),
            "slope": round(self.slope, 6),
            "intercept": round(self.intercept, 4),
            "r2": round(self.r2, 4),
            "n_points": self.n_points,
            "n_loads": self.n_loads,
            "min_velocity": self.min_velocity_m_s,
            "e1rm_kg": None if self.e1rm_kg is None else round(self.e1rm_kg, 1),
        }

    def describe(self, show: Callable[[float], str] | None = None) -> str:
        """One line for people: the e1RM (or why there is none), the fit's r² and its points."""
        fit = f"r² {self.r2:.2f} from {self.n_points} sets at {self.n_loads} loads"
        if self.min_velocity_m_s is None:
            return f"{self.exercise}: no minimal velocity threshold for this lift, so no e1RM ({fit})"
        why = self.no_e1rm_why(show)
        if why is not None:
            return f"{self.exercise}: no e1RM, {why} ({fit})"
        assert self.e1rm_kg is not None
        return (
            f"{self.exercise}: e1RM {format_number(round(self.e1rm_kg, 1))} kg "
            f"at {self.min_velocity_m_s:.2f} m/s ({fit})"
        )


def _kg_text(load_kg: float) -> str:
    return f"{format_number(round(load_kg, 2))} kg"


def fit_profile(
    points: Sequence[tuple[float, float]], exercise: Exercise, show: Callable[[float], str] | None = None
) -> LoadVelocityProfile:
    """Fit MCV (m/s) on load (kg) by least squares over ``points`` of (load_kg, mean concentric velocity m/s).

    Raises ConfigError for a point that is not a positive, finite load and velocity, and for fewer than
    ``MIN_DISTINCT_LOADS`` distinct loads (naming the loads it has, written by ``show``: default kg, or the unit
    the lifter gave each in).
    """
    show = show or _kg_text
    for load_kg, mcv in points:
        if not (math.isfinite(load_kg) and load_kg > 0.0 and math.isfinite(mcv) and mcv > 0.0):
            raise ConfigError(f"a load-velocity point needs a positive load and velocity, got {load_kg!r} kg, {mcv!r}")
    loads = sorted({round(load_kg / LOAD_RESOLUTION_KG) for load_kg, _ in points})
    if len(loads) < MIN_DISTINCT_LOADS:
        have = ", ".join(show(n * LOAD_RESOLUTION_KG) for n in loads)
        raise ConfigError(
            f"{exercise}: need sets at {MIN_DISTINCT_LOADS} or more different loads for a load-velocity profile, "
            f"have {len(loads)}" + (f": {have}" if have else "")
        )
    x = np.array([p[0] for p in points], dtype=np.float64)
    y = np.array([p[1] for p in points], dtype=np.float64)
    x_mean, y_mean = float(x.mean()), float(y.mean())
    dx = x - x_mean
    slope = float(np.dot(dx, y - y_mean) / np.dot(dx, dx))
    intercept = y_mean - slope * x_mean
    ss_tot = float(np.sum((y - y_mean) ** 2))
    ss_res = float(np.sum((y - (intercept + slope * x)) ** 2))
    # Equal velocities at every load: nothing to explain, and nothing explained.
    r2 = 1.0 - ss_res / ss_tot if ss_tot > 0.0 else 0.0
    threshold = MIN_VELOCITY_M_S.get(exercise)
    extrapolated: float | None = None
    if threshold is not None and slope < 0.0:
        extrapolated = (threshold - intercept) / slope
        if extrapolated <= 0.0:
            extrapolated = None  # the line is below the threshold at every load: no load is a 1RM
    profile = LoadVelocityProfile(
        slope, intercept, r2, len(points), len(loads), threshold, extrapolated, exercise, extrapolated, float(x.max())
    )
    if extrapolated is not None and (profile.poor_fit or profile.implausible):
        profile = replace(profile, e1rm_kg=None)
    return profile
