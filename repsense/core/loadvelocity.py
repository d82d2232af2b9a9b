"""The load-velocity profile of a lift, and the e1RM it predicts.

Mean concentric velocity falls about linearly as the load rises. A least-squares line of MCV on load, from sets at
known loads (usually each set's best rep), is extrapolated to the lift's minimal velocity threshold (the MCV of a
one-rep max, ``setcontrol.MIN_VELOCITY_M_S``): the load there is the e1RM. A line through one or two loads says
nothing about its own error, so fewer than three distinct loads are refused.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from repsense.core.plan import format_number
from repsense.core.setcontrol import MIN_VELOCITY_M_S
from repsense.errors import ConfigError
from repsense.events import Exercise

MIN_DISTINCT_LOADS = 3
#: Loads closer than this are the same load (a 100 kg set stored as 99.99999 after a pound conversion).
LOAD_RESOLUTION_KG = 0.01


@dataclass(frozen=True, slots=True)
class LoadVelocityProfile:
    """``mcv = intercept + slope x load``: ``slope`` in (m/s)/kg, ``intercept`` in m/s. ``r2`` is the coefficient of
    determination, ``n_points`` the sets used, ``n_loads`` their distinct loads. ``e1rm_kg`` is the load at
    ``min_velocity_m_s`` (the ``exercise``'s threshold); None when the lift has no threshold or the velocity does not
    fall with the load."""

    slope: float
    intercept: float
    r2: float
    n_points: int
    n_loads: int
    min_velocity_m_s: float | None
    e1rm_kg: float | None
    exercise: Exercise = Exercise.OTHER

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

    def describe(self) -> str:
        """One line for people: the e1RM (or why there is none), the fit's r² and its points."""
        fit = f"r² {self.r2:.2f} from {self.n_points} sets at {self.n_loads} loads"
        if self.min_velocity_m_s is None:
            return f"{self.exercise}: no minimal velocity threshold for this lift, so no e1RM ({fit})"
        if self.e1rm_kg is None:
            return f"{self.exercise}: velocity does not fall as the load rises, so no e1RM ({fit})"
        return (
            f"{self.exercise}: e1RM {format_number(round(self.e1rm_kg, 1))} kg "
            f"at {self.min_velocity_m_s:.2f} m/s ({fit})"
        )


def fit_profile(points: Sequence[tuple[float, float]], exercise: Exercise) -> LoadVelocityProfile:
    """Fit MCV (m/s) on load (kg) by least squares over ``points`` of (load_kg, mean concentric velocity m/s).

    Raises ConfigError for a point that is not a positive, finite load and velocity, and for fewer than
    ``MIN_DISTINCT_LOADS`` distinct loads.
    """
    for load_kg, mcv in points:
        if not (math.isfinite(load_kg) and load_kg > 0.0 and math.isfinite(mcv) and mcv > 0.0):
            raise ConfigError(f"a load-velocity point needs a positive load and velocity, got {load_kg!r} kg, {mcv!r}")
    loads = sorted({round(load_kg / LOAD_RESOLUTION_KG) for load_kg, _ in points})
    if len(loads) < MIN_DISTINCT_LOADS:
        have = ", ".join(f"{format_number(n * LOAD_RESOLUTION_KG)} kg" for n in loads)
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
    e1rm: float | None = None
    if threshold is not None and slope < 0.0:
        e1rm = (threshold - intercept) / slope
        if e1rm <= 0.0:
            e1rm = None  # the line is below the threshold at every load: no load is a 1RM
    return LoadVelocityProfile(slope, intercept, r2, len(points), len(loads), threshold, e1rm, exercise)
