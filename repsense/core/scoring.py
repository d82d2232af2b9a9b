"""Scoring detected reps against a truth file: how accuracy figures in the README are measured.

A truth rep and a detected rep match when their lockout times are within ``match_window_s``; matching is
one-to-one and greedy in time order, and of two detected reps as near, one with a velocity is taken first (so that
a rep counted but not measured, such as the other arm's rep of an alternating lift, never takes a measured rep's
truth). Figures per set:

- ``count_error``: detected reps minus true reps (visible reps only, when the truth marks some invisible);
- ``mcv_errors``: detected minus true mean concentric velocity for matched reps that have one;
- ``latencies``: detection time minus true lockout for matched reps;
- ``vl20_ok``: the first rep at which the *measured* velocity loss reached 20 % (as the set controller sees it:
  reps flagged ``data_gap`` trigger nothing) is the same rep (the same true rep) as the first rep at which the
  *true* loss did, or neither reached it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from repsense.events import RepEvent


@dataclass(frozen=True)
class TruthRep:
    t_start_s: float
    t_end_s: float
    mean_velocity_m_s: float
    visible: bool = True


@dataclass
class SetScore:
    name: str
    true_reps: int
    detected_reps: int
    mcv_errors: list[float] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    vl20_ok: bool = True
    tags: dict[str, Any] = field(default_factory=dict)

    @property
    def count_error(self) -> int:
        return self.detected_reps - self.true_reps


def load_truth(path: Path) -> tuple[list[TruthRep], dict[str, Any]]:
    data = json.loads(path.read_text())
    reps = [
        TruthRep(r["t_start_s"], r["t_end_s"], r["mean_velocity_m_s"], r.get("visible", True)) for r in data["reps"]
    ]
    return reps, data


def first_vl_crossing(mcvs: Sequence[float], threshold: float = 0.20) -> int | None:
    """Index (0-based) of the first rep whose loss against the best so far reaches ``threshold``."""
    best = 0.0
    for i, mcv in enumerate(mcvs):
        best = max(best, mcv)
        if best > 0 and 1.0 - mcv / best >= threshold - 1e-12:
            return i
    return None


def match(truth: Sequence[TruthRep], detected: Sequence[RepEvent], window_s: float = 0.6) -> list[tuple[int, int]]:
    """Pairs ``(truth_index, detected_index)`` matched by lockout time."""
    pairs: list[tuple[int, int]] = []
    used: set[int] = set()
    for ti, tr in enumerate(truth):
        near = [
            (abs(rep.t_end_s - tr.t_end_s), not rep.has_velocity, -dj)
            for dj, rep in enumerate(detected)
            if dj not in used and abs(rep.t_end_s - tr.t_end_s) <= window_s
        ]
        if near:
            # The nearest; of those as near, one with a velocity; of those, the last (as it always was).
            best_j = -min(near)[2]
            used.add(best_j)
            pairs.append((ti, best_j))
    return pairs


def score_set(name: str, truth: Sequence[TruthRep], detected: Sequence[RepEvent], **tags: Any) -> SetScore:
    visible = [r for r in truth if r.visible]
    # Reps hidden by a gap may or may not be seen; count them only when detected.
    pairs = match(truth, detected)
    matched_invisible = sum(1 for ti, _ in pairs if not truth[ti].visible)
    score = SetScore(name, len(visible) + matched_invisible, len(detected), tags=tags)
    for ti, dj in pairs:
        if detected[dj].has_velocity:
            score.mcv_errors.append(detected[dj].mean_velocity_m_s - truth[ti].mean_velocity_m_s)
        score.latencies.append(detected[dj].detected_at_s - truth[ti].t_end_s)
    true_stop = first_vl_crossing([r.mean_velocity_m_s for r in visible])
    measured_stop = next(
        (i for i, r in enumerate(detected) if r.velocity_loss >= 0.20 - 1e-12 and r.velocity_trusted),
        None,
    )
    if true_stop is None or measured_stop is None:
        score.vl20_ok = true_stop is None and measured_stop is None
    else:
        lookup = dict((dj, ti) for ti, dj in pairs)
        score.vl20_ok = lookup.get(measured_stop) == truth.index(visible[true_stop])
    return score


def summarize(scores: Iterable[SetScore]) -> dict[str, float]:
    scores = list(scores)
    n = len(scores)
    errors = [e for s in scores for e in s.mcv_errors]
    lat = sorted(x for s in scores for x in s.latencies)
    return {
        "sets": n,
        "exact_count_pct": 100.0 * sum(s.count_error == 0 for s in scores) / n if n else math.nan,
        "within_one_pct": 100.0 * sum(abs(s.count_error) <= 1 for s in scores) / n if n else math.nan,
        "count_mae": sum(abs(s.count_error) for s in scores) / n if n else math.nan,
        "mcv_rmse_m_s": math.sqrt(sum(e * e for e in errors) / len(errors)) if errors else math.nan,
        "mcv_bias_m_s": sum(errors) / len(errors) if errors else math.nan,
        "vl20_right_rep_pct": 100.0 * sum(s.vl20_ok for s in scores) / n if n else math.nan,
        "latency_p95_s": lat[min(len(lat) - 1, math.ceil(0.95 * len(lat)) - 1)] if lat else math.nan,
        "latency_median_s": lat[len(lat) // 2] if lat else math.nan,
    }
