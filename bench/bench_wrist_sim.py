"""Wrist counting on the wrist simulator: the accessory-lift counters on hard sets, against the truth.

Draws ``--sets`` hard wrist sets (curl, raise, pushdown, press in turn; 12.5-100 Hz; gyro in half of them, set-up
moves in half; noise, spikes, body sway, any strap angle, fatigue), runs each through the pipeline replay uses,
with the motion's exercise and ``placement=wrist``, and scores it:

- the count: exact and within one rep (% of sets), mean absolute error and bias (detected - true), in reps;
- reps matched to the truth: each true rep takes the nearest unused detected rep whose end lies within one rep
  period (the set's median time between true concentric ends) of its concentric end. ``match%`` is matched / true;
- the MCV of matched reps that carry one (curls: the other motions are ``other`` lifts, counted with no velocity),
  which a wrist can only estimate: median absolute error, median ratio estimate / truth,
  the correlation of estimate and truth over all matched reps (``corr``) and the median of it within a set
  (``r_set``, sets with 4 or more matched reps: does the estimate follow fatigue?);
- where the rep is placed and when it is known: ``@lock%`` (matched reps ending within 0.6 s of the true
  concentric end, rather than at the other end of the swing), ``dt_end`` (median of detected minus true
  concentric end) and the detection latency (detected_at minus true concentric end), p50 and p95.

A second table splits the MCV figures by where the rep was placed: at lockout, or elsewhere in the cycle.

``--alternating`` draws alternating curls instead (``alt_curl``, at their brisker tempo): the count is of both arms'
reps, the truth's and the pipeline's; the rest is of the sensor's arm's reps alone (the other arm's are not seen).

Run by hand: ``python bench/bench_wrist_sim.py [--sets 300] [--seed 11] [--jobs 2] [--alternating]``.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import time
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from repsense.events import Exercise, Placement, RepEvent, RepFlag
from repsense.firmware_bridge.sim_wrist import WristMotion, random_wrist_config, simulate_wrist_set
from repsense.signal.pipeline import PipelineConfig, RepPipeline

#: A rep placed this close to the true concentric end is placed at lockout (s).
AT_LOCKOUT_S = 0.6


@dataclass
class WristScore:
    tags: dict[str, object]
    true_reps: int
    detected_reps: int
    seen_true_reps: int = 0  # the true reps the sensor saw (of alternating curls, its arm's), which are matched
    true_mcv: list[float] = field(default_factory=list)
    est_mcv: list[float] = field(default_factory=list)
    end_offsets: list[float] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)

    @property
    def count_error(self) -> int:
        return self.detected_reps - self.true_reps


def score_one(job: tuple[int, int, bool]) -> WristScore:
    seed, index, alternating = job
    rng = np.random.default_rng([seed, index])
    motion = WristMotion.CURL if alternating else list(WristMotion)[index % len(WristMotion)]
    config = random_wrist_config(rng, motion, alternating=alternating)
    sim = simulate_wrist_set(config, seed * 100_000 + index)
    events = RepPipeline(PipelineConfig.for_lift(Exercise(sim.truth.exercise), Placement.WRIST)).run(sim.samples)
    detected = [e for e in events if isinstance(e, RepEvent)]
    truth = sim.truth.reps
    tags = {"motion": str(motion), "rate": config.rate_hz, "setup": config.setup, "gyro": config.has_gyro}
    score = WristScore(tags, len(truth), len(detected))
    if alternating:  # the other arm's reps are counted, not seen: the rest is of the sensor's arm's reps
        truth = truth[0::2]
        detected = [d for d in detected if RepFlag.OTHER_ARM not in d.flags]
    score.seen_true_reps = len(truth)
    ends = np.array([r.t_end_s for r in truth])
    period = float(np.median(np.diff(ends))) if len(ends) > 1 else 4.0
    used: set[int] = set()
    for rep in truth:
        candidates = [(abs(d.t_end_s - rep.t_end_s), j) for j, d in enumerate(detected) if j not in used]
        distance, j = min(candidates, default=(np.inf, -1))
        if distance > period:
            continue
        used.add(j)
        score.true_mcv.append(rep.mean_velocity_m_s)
        score.est_mcv.append(detected[j].mean_velocity_m_s if detected[j].has_velocity else float("nan"))
        score.end_offsets.append(detected[j].t_end_s - rep.t_end_s)
        score.latencies.append(detected[j].detected_at_s - rep.t_end_s)
    return score


def _corr(a: list[float], b: list[float]) -> float:
    return float(np.corrcoef(a, b)[0, 1]) if len(a) > 2 and np.std(a) > 0 and np.std(b) > 0 else float("nan")


def _timed(score: WristScore) -> tuple[list[float], list[float]]:
    """The true and estimated MCV of the matched reps that carry a velocity."""
    pairs = [(t, e) for t, e in zip(score.true_mcv, score.est_mcv, strict=True) if np.isfinite(e)]
    return [t for t, _ in pairs], [e for _, e in pairs]


def line(label: str, scores: list[WristScore]) -> str:
    errors = np.array([s.count_error for s in scores])
    pairs = [(t, e) for s in scores for t, e in zip(s.true_mcv, s.est_mcv, strict=True) if np.isfinite(e)]
    true, est = [t for t, _ in pairs], [e for _, e in pairs]
    t, e = np.array(true), np.array(est)
    within = [_corr(*_timed(s)) for s in scores if len(_timed(s)[0]) >= 4]
    within = [r for r in within if np.isfinite(r)]
    offsets = [x for s in scores for x in s.end_offsets]
    at_lockout = 100 * np.mean(np.abs(offsets) < AT_LOCKOUT_S) if offsets else float("nan")
    lat = [x for s in scores for x in s.latencies]
    nan = float("nan")
    return (
        f"{label:<16} {len(scores):5d} {100 * np.mean(errors == 0):7.1f} {100 * np.mean(np.abs(errors) <= 1):7.1f} "
        f"{np.mean(np.abs(errors)):6.2f} {np.mean(errors):+6.2f} "
        f"{100 * sum(len(s.true_mcv) for s in scores) / max(sum(s.seen_true_reps for s in scores), 1):7.1f} "
        f"{np.median(np.abs(e - t)) if len(t) else nan:7.3f} {np.median(e / t) if len(t) else nan:7.2f} "
        f"{_corr(true, est):6.2f} {np.median(within) if within else nan:6.2f} "
        f"{at_lockout:6.1f} {np.median(offsets) if offsets else nan:+7.2f} "
        f"{np.percentile(lat, 50) if lat else nan:6.2f} {np.percentile(lat, 95) if lat else nan:6.2f}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sets", type=int, default=300)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--alternating", action="store_true", help="alternating curls (alt_curl) instead")
    args = ap.parse_args()
    jobs = [(args.seed, i, args.alternating) for i in range(args.sets)]
    start = time.perf_counter()
    if args.jobs > 1:
        with multiprocessing.Pool(args.jobs) as pool:
            scores = pool.map(score_one, jobs, chunksize=4)
    else:
        scores = [score_one(job) for job in jobs]
    elapsed = time.perf_counter() - start
    kind = "alternating curl" if args.alternating else "wrist"
    print(f"{args.sets} hard {kind} sets, seed {args.seed}, {args.jobs} job(s), {elapsed:.0f} s")
    print(
        f"{'group':<16} {'sets':>5} {'exact%':>7} {'+-1%':>7} {'MAE':>6} {'bias':>6} {'match%':>7} "
        f"{'|dMCV|':>7} {'est/tr':>7} {'corr':>6} {'r_set':>6} {'@lock%':>6} {'dt_end':>7} {'lat50':>6} {'lat95':>6}"
    )
    print(line("all", scores))
    for key in ("motion", "rate", "setup", "gyro"):
        groups: dict[object, list[WristScore]] = defaultdict(list)
        for s in scores:
            groups[s.tags[key]].append(s)
        for value in sorted(groups, key=lambda v: (str(type(v)), v)):
            print(line(f"{key}={value:g}" if isinstance(value, float) else f"{key}={value}", groups[value]))
    print()
    print("MCV of matched reps, by where the rep was placed")
    print(f"{'motion':<10} {'placed':<10} {'reps':>5} {'|dMCV|':>7} {'est/tr':>7} {'corr':>6}")
    for motion in WristMotion:
        for placed, near in (("lockout", True), ("elsewhere", False)):
            pairs = [
                (t, e)
                for s in scores
                if s.tags["motion"] == str(motion)
                for t, e, o in zip(s.true_mcv, s.est_mcv, s.end_offsets, strict=True)
                if (abs(o) < AT_LOCKOUT_S) == near and np.isfinite(e)
            ]
            if not pairs:
                print(f"{motion!s:<10} {placed:<10} {0:5d}")
                continue
            t, e = (np.array(x) for x in zip(*pairs, strict=True))
            print(
                f"{motion!s:<10} {placed:<10} {len(t):5d} {np.median(np.abs(e - t)):7.3f} {np.median(e / t):7.2f} "
                f"{_corr(list(t), list(e)):6.2f}"
            )


if __name__ == "__main__":
    main()
