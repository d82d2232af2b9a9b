"""Does the count depend on things it should not? The real wrist sets, changed the way another sensor would change
them, against the sets as they are.

Each labelled set of ebbelaar_metamotion (57) and muvr_wrist (284) is counted as it is and again after each
change, through the pipeline replay uses. For each change: how many sets' counts changed, and exact / within one
rep against the labels. The changes:

- ``turned``: the sensor's axes turned by a fixed random rotation (three of them; the third also mirrored, as
  the same band on the other wrist); the gyroscope turned with it;
- ``gain``: the accelerometer reading gravity as 0.95 g or 1.05 g, or each axis off on its own (1.05, 0.97, 1.0),
  as consumer accelerometers do;
- ``glitches``: one wrong sample of 1-3 g in a random direction every 5 s (and every 2 s);
- ``noise``: white noise of 0.02 g added to every axis;
- ``jitter``: every sample's time moved by up to 40 % of the sample interval, as arrival-timed exports are;
- ``dropped``: 5 % of the samples lost at random.

``--no-glitch-filter`` runs the same without the wrist's glitch filter, to see what it is for.

Last, the bar path, which has no glitch filter: ``--bar-sets`` hard simulated bar sets (the corpus of
``bench_accuracy.py``) with a glitch every 5 s, against their truth.

Run by hand: ``python bench/bench_robustness.py [--no-glitch-filter] [--bar-sets 200]``.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from collections.abc import Callable

import numpy as np

# realdata.py sits beside this script, which Python puts first on sys.path.
from realdata import RealSet, ebbelaar_sets, muvr_sets, realdata_root
from scipy.spatial.transform import Rotation

from repsense.events import Exercise, Placement, RepEvent
from repsense.firmware_bridge.simulator import random_config, simulate_set
from repsense.samples import SampleBlock
from repsense.signal.pipeline import PipelineConfig, RepPipeline

Change = Callable[[SampleBlock, np.random.Generator], SampleBlock]


def turned(seed: int, mirrored: bool = False) -> Change:
    turn = Rotation.random(random_state=seed).as_matrix()
    if mirrored:
        turn = turn @ np.diag([1.0, -1.0, 1.0])

    def change(s: SampleBlock, rng: np.random.Generator) -> SampleBlock:
        # A mirror turns an axial vector (the angular rate) with the opposite sign.
        gyro = None if s.gyro_dps is None else s.gyro_dps @ turn.T * np.linalg.det(turn)
        return SampleBlock(s.t_s, s.acc_g @ turn.T, gyro)

    return change


def gain(g: tuple[float, float, float]) -> Change:
    return lambda s, rng: SampleBlock(s.t_s, s.acc_g * np.array(g), s.gyro_dps)


def glitches(every_s: float) -> Change:
    def change(s: SampleBlock, rng: np.random.Generator) -> SampleBlock:
        acc = s.acc_g.copy()
        k = max(1, int((s.t_s[-1] - s.t_s[0]) / every_s))
        where = rng.choice(len(acc), min(k, len(acc)), replace=False)
        direction = rng.normal(size=(len(where), 3))
        acc[where] += direction / np.linalg.norm(direction, axis=1, keepdims=True) * rng.uniform(1, 3, (len(where), 1))
        return SampleBlock(s.t_s, acc, s.gyro_dps)

    return change


def noise(sigma_g: float) -> Change:
    return lambda s, rng: SampleBlock(s.t_s, s.acc_g + rng.normal(0.0, sigma_g, s.acc_g.shape), s.gyro_dps)


def jitter(fraction: float) -> Change:
    def change(s: SampleBlock, rng: np.random.Generator) -> SampleBlock:
        step = float(np.median(np.diff(s.t_s)))  # moves of less than half a step keep the times in order
        return SampleBlock(s.t_s + rng.uniform(-fraction, fraction, len(s.t_s)) * step, s.acc_g, s.gyro_dps)

    return change


def dropped(fraction: float) -> Change:
    def change(s: SampleBlock, rng: np.random.Generator) -> SampleBlock:
        keep = rng.random(len(s.t_s)) >= fraction
        keep[[0, -1]] = True
        return SampleBlock(s.t_s[keep], s.acc_g[keep], None if s.gyro_dps is None else s.gyro_dps[keep])

    return change


CHANGES: dict[str, Change] = {
    "turned 1": turned(1),
    "turned 2": turned(2),
    "turned 3, mirrored": turned(3, mirrored=True),
    "gain 0.95": gain((0.95, 0.95, 0.95)),
    "gain 1.05": gain((1.05, 1.05, 1.05)),
    "gain per axis": gain((1.05, 0.97, 1.0)),
    "glitches every 5 s": glitches(5.0),
    "glitches every 2 s": glitches(2.0),
    "noise 0.02 g": noise(0.02),
    "jitter 40 %": jitter(0.4),
    "5 % dropped": dropped(0.05),
}


def count(real: RealSet, samples: SampleBlock, glitch_filter: bool) -> int:
    config = PipelineConfig.for_lift(Exercise(real.exercise), Placement.WRIST)
    if not glitch_filter:
        config = dataclasses.replace(config, glitch=None)
    return sum(isinstance(e, RepEvent) for e in RepPipeline(config).run(samples))


def line(dataset: str, change: str, sets: list[RealSet], counts: list[int], base: list[int]) -> str:
    errors = np.array([c - s.true_reps for c, s in zip(counts, sets, strict=True)])
    changed = sum(a != b for a, b in zip(counts, base, strict=True))
    exact, within = 100 * np.mean(errors == 0), 100 * np.mean(np.abs(errors) <= 1)
    return f"{dataset:<20} {change:<20} {len(sets):5d} {changed:8d} {exact:7.1f} {within:7.1f}"


def bar_errors(sets: int, change: Change | None) -> np.ndarray:
    """Counted minus true (visible) reps of the hard simulated bar sets, changed by ``change``."""
    errors = []
    for i in range(sets):
        config = random_config(np.random.default_rng([1, i]), hard=True)
        sim = simulate_set(config, 100_000 + i)
        samples = sim.samples if change is None else change(sim.samples, np.random.default_rng([9, i]))
        events = RepPipeline(PipelineConfig.for_lift(Exercise(sim.truth.exercise))).run(samples)
        errors.append(sum(isinstance(e, RepEvent) for e in events) - sum(r.visible for r in sim.truth.reps))
    return np.array(errors)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--no-glitch-filter", action="store_true", help="leave out the wrist's glitch filter")
    ap.add_argument("--bar-sets", type=int, default=200, help="hard simulated bar sets (0: none)")
    args = ap.parse_args()
    root = realdata_root()
    start = time.perf_counter()
    print(f"{'data set':<20} {'change':<20} {'sets':>5} {'changed':>8} {'exact%':>7} {'+-1%':>7}")
    for name, loader in (("ebbelaar_metamotion", ebbelaar_sets), ("muvr_wrist", muvr_sets)):
        try:
            sets = list(loader(root))
        except FileNotFoundError as exc:
            print(f"skipped: {exc}")
            continue
        base = [count(s, s.samples, not args.no_glitch_filter) for s in sets]
        print(line(name, "as recorded", sets, base, base))
        for label, change in CHANGES.items():
            rng = np.random.default_rng(3)
            counts = [count(s, change(s.samples, rng), not args.no_glitch_filter) for s in sets]
            print(line(name, label, sets, counts, base))
    if args.bar_sets:
        print(f"\nbar path, {args.bar_sets} hard simulated sets      exact%    +-1%")
        for label, change in (("as simulated", None), ("glitches every 5 s", glitches(5.0))):
            errors = bar_errors(args.bar_sets, change)
            print(f"{label:<41} {100 * np.mean(errors == 0):7.1f} {100 * np.mean(np.abs(errors) <= 1):7.1f}")
    print(f"\n{time.perf_counter() - start:.0f} s{', without the glitch filter' if args.no_glitch_filter else ''}")


if __name__ == "__main__":
    main()
