"""Accuracy of the rep engine on the project's own simulator, against the truth it writes.

Draws ``--sets`` hard sets (any orientation, roll, noise, bias, jitter, drops, bursts, long gaps, walk-outs,
fatigue, sticking points, failed final attempts; 50-200 Hz; gyro in half of them), runs each through the same
pipeline replay uses, and scores it with ``repsense.core.scoring``:

- exact rep count and within one rep, per set;
- MCV RMSE over reps matched to the truth by lockout time;
- the VL20 stop on the right rep (the first rep whose measured loss reaches 20 % is the truth's first);
- detection latency after the true lockout (p50, p95).

``--begin-mid-set`` starts each recording at a random moment of the set's first rep cycle (between the first
concentric's start and the second's), as when the sensor connects or recording starts while the lifter is
already lifting. A rep under way then, or starting within 1.5 s of it (its descent partly unseen), may or may not
be counted; all later reps must be. "absurd" counts the reps measured at more than twice the set's true ROM or
MCV: what a calibration fitted to a moving bar gives.

``--tempo`` gives every rep a 3-4.5 s eccentric, as in tempo training ("3 seconds down"): a descent that slow
and steady, started gently, is hard to tell from a bar at rest.

Run by hand: ``python bench/bench_accuracy.py [--sets 300] [--seed 1] [--rate 25] [--clean] [--begin-mid-set]
[--tempo]``.
"""

from __future__ import annotations

import argparse
import dataclasses
import multiprocessing
import os
import time
from collections import defaultdict

import numpy as np

from repsense.core.scoring import SetScore, TruthRep, score_set, summarize
from repsense.events import Exercise, RepEvent
from repsense.firmware_bridge.simulator import random_config, simulate_set
from repsense.signal.pipeline import PipelineConfig, RepPipeline

MAY_BE_UNSEEN_S = 1.5  # with --begin-mid-set, a rep starting this soon after the cut may have lost its descent


TEMPO_ECCENTRIC_S = (3.0, 4.5)


def score_one(job: tuple[int, int, dict[str, object], bool, bool]) -> SetScore:
    seed, index, kwargs, mid_set, tempo = job
    rng = np.random.default_rng([seed, index])
    config = random_config(rng, **kwargs)  # type: ignore[arg-type]
    if tempo:
        config = dataclasses.replace(config, eccentric_s=TEMPO_ECCENTRIC_S)
    sim = simulate_set(config, seed * 100_000 + index)
    exercise = Exercise(sim.truth.exercise)
    samples, true_reps = sim.samples, sim.truth.reps
    cut = -np.inf
    if mid_set and len(true_reps) >= 2:
        cut = float(rng.uniform(true_reps[0].t_start_s, true_reps[1].t_start_s))
        samples = samples.slice(int(np.searchsorted(samples.t_s, cut)), len(samples))
    events = RepPipeline(PipelineConfig.for_lift(exercise)).run(samples)
    reps = [e for e in events if isinstance(e, RepEvent)]
    truth = [
        TruthRep(r.t_start_s, r.t_end_s, r.mean_velocity_m_s, r.visible and r.t_start_s >= cut + MAY_BE_UNSEEN_S)
        for r in true_reps
        if r.t_end_s > cut
    ]
    score = score_set(
        f"{seed}/{index}", truth, reps, exercise=str(exercise), gyro=config.has_gyro, rate_hz=config.rate_hz
    )
    rom = max((r.rom_m for r in true_reps), default=0.0)
    mcv = max((r.mean_velocity_m_s for r in true_reps), default=0.0)
    score.tags["absurd"] = sum(r.rom_m > 2 * rom or r.mean_velocity_m_s > 2 * mcv for r in reps)
    return score


def line(label: str, scores: list[SetScore]) -> str:
    m = summarize(scores)
    return (
        f"{label:<16} {m['sets']:5.0f} {m['exact_count_pct']:7.1f} {m['within_one_pct']:7.1f} "
        f"{m['mcv_rmse_m_s']:8.3f} {m['vl20_right_rep_pct']:7.1f} {m['latency_median_s']:7.2f} "
        f"{m['latency_p95_s']:7.2f} {sum(s.tags['absurd'] for s in scores):7d}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sets", type=int, default=300)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rate", type=float, help="one sample rate for all sets (default: 50-200 Hz)")
    ap.add_argument("--clean", action="store_true", help="clean sets instead of hard ones")
    ap.add_argument("--begin-mid-set", action="store_true", help="start each recording during the first rep")
    ap.add_argument("--tempo", action="store_true", help="3-4.5 s eccentrics")
    args = ap.parse_args()
    kwargs: dict[str, object] = {"hard": not args.clean}
    if args.rate:
        kwargs["rate_hz"] = args.rate
    jobs = [(args.seed, i, kwargs, args.begin_mid_set, args.tempo) for i in range(args.sets)]
    start = time.perf_counter()
    with multiprocessing.Pool(os.cpu_count() or 1) as pool:
        scores = pool.map(score_one, jobs, chunksize=4)
    elapsed = time.perf_counter() - start
    begun = (", each begun mid-set" if args.begin_mid_set else "") + (", tempo eccentrics" if args.tempo else "")
    print(f"{args.sets} {'clean' if args.clean else 'hard'} sets{begun}, seed {args.seed}, {elapsed:.0f} s")
    print(
        f"{'group':<16} {'sets':>5} {'exact%':>7} {'+-1%':>7} {'RMSE':>8} {'VL20%':>7} {'lat50':>7} {'lat95':>7} "
        f"{'absurd':>7}"
    )
    print(line("all", scores))
    for key in ("gyro", "exercise"):
        groups: dict[object, list[SetScore]] = defaultdict(list)
        for s in scores:
            groups[s.tags[key]].append(s)
        for value in sorted(groups, key=str):
            print(line(f"{key}={value}", groups[value]))


if __name__ == "__main__":
    main()
