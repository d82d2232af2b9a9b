"""Reps a gap hid: how often the pipeline says so, and how often it is right, on simulated bar sets with truth.

Every set is a simulated squat, bench, deadlift or OHP (``random_config``, hard or clean) with one gap of 1.2-4 s
during its reps, the kind a dropped link leaves. For each, the reps counted, the reps the pipeline says the gap
hid (``UnseenRepsEvent``) and the set's true reps. "right" means counted + unseen = true. Run by hand:
``python bench/bench_unseen.py [--sets 400]``.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from collections import Counter

import numpy as np

from repsense.events import Exercise, RepEvent, UnseenRepsEvent
from repsense.firmware_bridge.simulator import random_config, simulate_set
from repsense.signal.pipeline import PipelineConfig, RepPipeline

LIFTS = (Exercise.SQUAT, Exercise.BENCH, Exercise.DEADLIFT, Exercise.OHP)


def one(seed: int, hard: bool) -> tuple[int, int, int]:
    """(true reps, reps counted, reps the pipeline says the gap hid) for one simulated set."""
    exercise = LIFTS[seed % len(LIFTS)]
    rng = np.random.default_rng([seed, 7])
    config = random_config(rng, exercise, has_gyro=bool(seed % 2), hard=hard)
    config = dataclasses.replace(config, long_gap_s=float(rng.uniform(1.2, 4.0)))
    sim = simulate_set(config, seed=seed)
    events = RepPipeline(PipelineConfig.for_lift(exercise)).run(sim.samples)
    counted = sum(isinstance(e, RepEvent) for e in events)
    unseen = sum(e.reps for e in events if isinstance(e, UnseenRepsEvent))
    return len(sim.truth.reps), counted, unseen


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sets", type=int, default=400, help="hard sets (400); a third as many clean ones")
    args = ap.parse_args()
    print(f"{'sets':<6} {'n':>4} {'short':>6} {'said':>5} {'right':>6} {'too many':>9} {'too few':>8} {'s':>5}")
    for label, hard, n in (("hard", True, args.sets), ("clean", False, max(1, args.sets // 3))):
        start = time.perf_counter()
        outcome: Counter[str] = Counter()
        short = 0
        for seed in range(n):
            true, counted, unseen = one(seed, hard)
            short += counted < true
            if unseen:
                error = counted + unseen - true
                outcome["right" if error == 0 else "too many" if error > 0 else "too few"] += 1
        said = sum(outcome.values())
        elapsed = time.perf_counter() - start
        print(
            f"{label:<6} {n:4d} {short:6d} {said:5d} {outcome['right']:6d} {outcome['too many']:9d} "
            f"{outcome['too few']:8d} {elapsed:5.1f}"
        )
    print("short: sets counted short of the truth; said: sets where the pipeline named unseen reps")


if __name__ == "__main__":
    main()
