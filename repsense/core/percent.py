"""Velocity loss as the views show it: whole percent, rounded down, so that a shown value reaches the stop
threshold only when the real one does.

Rounding to the nearest would show a 19.54 % loss as "20%" beside a 20 % threshold that did not fire; that looks
like a broken stop rule. Every view (replay, live, history) and the stop's own detail go through these helpers.
"""

from __future__ import annotations

import math


def loss_percent(fraction: float) -> int:
    """``fraction`` (0.1954) as whole percent rounded down (19), never above the real value.

    ``fraction * 100`` can land a hair off an integer (0.29 * 100 = 28.999...), so the result is checked against
    the comparison set control makes (``loss >= threshold``, a threshold of T % being ``T / 100``): the result
    ``p`` is the largest integer with ``p / 100 <= fraction``.
    """
    pct = math.floor(fraction * 100.0)
    if (pct + 1) / 100.0 <= fraction:
        pct += 1
    elif pct / 100.0 > fraction:
        pct -= 1
    return pct


def loss_text(fraction: float) -> str:
    """A velocity loss for display: "19%" for 0.1954."""
    return f"{loss_percent(fraction)}%"


def threshold_text(fraction: float) -> str:
    """A velocity-loss threshold for display, as given: "20%", "17.5%" (not rounded, so that a shown loss is
    compared against the threshold that runs)."""
    return f"{round(fraction * 100.0, 3):g}%"
