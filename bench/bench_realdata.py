"""Rep counting on real wrist data: every labelled set of ebbelaar_metamotion (57) and muvr_wrist (284).

Runs each set through the pipeline replay uses, as a wrist-worn sensor (``Placement.WRIST``), with the set's lift
mapped to repsense's vocabulary (bench, squat, deadlift, ohp, row; muvr's alternating dumbbell curls are
``alt_curl``, its other curls ``curl``, its free-weight presses and rows ``bench``, ``ohp`` or ``row``
(``realdata.MUVR_BARBELL_LIFTS``), its machine, cable and other dumbbell lifts ``other``),
and compares the reps counted with the labels: exact %, within one rep %, mean absolute error and mean signed error
(counted minus true), per data set, per exercise, per muvr exercise, and the 20 worst sets. No assertions: a
baseline to compare against.

Wrist sets of barbell lifts are counted by the vertical motion (``WristRepCounter``), curls (alternating ones too)
and ``other`` lifts by the rhythm of the whole accelerometer (``PeriodicRepCounter``): the "per counter" table
shows each, with how late reps are reported (detection time minus the rep's end, median and 95th percentile).

The labels are typed in (muvr) or prescribed (ebbelaar), not observed, and some files lost samples: a rep made
while samples were lost is not in the file. The "samples lost" table sets those files apart, without reference to
the counter: in 4 ebbelaar files the samples stop for 2-3.5 s (the sensor's link dropped), and 44 muvr files are
spliced from packets with samples lost between them (see ``realdata.MUVR_SPLICED_PACKET``). The "whole" lines of
the halves table leave both out.

Tune the wrist counter on one half of the sets and judge it on the other: a set's half is a CRC-32 of its name,
modulo 2 (``half``), and the "per data set and half" table shows both, so a gap between the halves shows tuning
to the files. ``--max-rate-hz 12.5`` brings every set down to that rate or below (MetaMotion's default export
rate): what the counter loses at low rates. Each new sample is the mean of k, as a sensor's own filter smooths
before it sends at a low rate; ``--pick`` keeps every k-th sample instead, which lets the noise above the new
Nyquist rate alias into the rep band, something a real sensor at that rate does not do. ``--no-gyro`` leaves out
ebbelaar's gyroscope, as for a band that has none.

The labels are checked against two people's blind hand counts too (``bench/handcount.csv``, see ``hand_counts``): the
"against two blind hand counts" table says how often the two agree, and where they do, how often the counter and
the labels give their count. Batch 2 of the hand counts was made after the counters were tuned on batch 1: the
held-out check.

The data lives outside the repo (see ``bench/realdata.py``). Run by hand: ``python bench/bench_realdata.py``.
"""

from __future__ import annotations

import argparse
import csv
import time
import zlib
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

# realdata.py sits beside this script, which Python puts first on sys.path.
from realdata import MUVR, RealSet, ebbelaar_sets, muvr_sets, realdata_root

from repsense.events import Exercise, Placement, RepEvent
from repsense.samples import SampleBlock
from repsense.signal.pipeline import BARBELL_LIFTS, PipelineConfig, RepPipeline


@dataclass(frozen=True)
class Result:
    name: str
    dataset: str
    exercise: str
    raw_exercise: str
    true_reps: int
    counted: int
    duration_s: float
    counter: str
    delays_s: tuple[float, ...]
    samples_lost: str  # "" if the file is whole, else how samples were lost

    @property
    def error(self) -> int:
        return self.counted - self.true_reps


def half(name: str) -> int:
    """The half (0: for tuning, 1: held out) a set belongs to, from its name."""
    return zlib.crc32(name.encode()) % 2


def thin(samples: SampleBlock, max_rate_hz: float | None, *, average: bool = True) -> SampleBlock:
    """The set at the rate of every k-th sample, the smallest k that brings the median rate down to ``max_rate_hz``
    or below: each new sample the mean of k (``average``, what a sensor's own filter does before it sends at a low
    rate), or just every k-th one (which lets the noise above the new Nyquist rate alias into the rep band)."""
    if max_rate_hz is None or len(samples) < 2:
        return samples
    rate = 1.0 / float(np.median(np.diff(samples.t_s)))
    step = max(1, int(np.ceil(rate / max_rate_hz - 1e-9)))
    if not average:
        keep = slice(None, None, step)
        gyro = None if samples.gyro_dps is None else samples.gyro_dps[keep]
        return SampleBlock(samples.t_s[keep], samples.acc_g[keep], gyro)
    n = len(samples) // step * step

    def mean(x: np.ndarray) -> np.ndarray:
        return np.asarray(x[:n].reshape(n // step, step, *x.shape[1:]).mean(axis=1))

    gyro = None if samples.gyro_dps is None else mean(samples.gyro_dps)
    return SampleBlock(mean(samples.t_s), mean(samples.acc_g), gyro)


def count(real: RealSet, max_rate_hz: float | None = None, *, average: bool = True, gyro: bool = True) -> Result:
    config = PipelineConfig.for_lift(Exercise(real.exercise), Placement.WRIST)
    samples = thin(real.samples, max_rate_hz, average=average)
    if not gyro:
        samples = SampleBlock(samples.t_s, samples.acc_g, None)
    reps = [e for e in RepPipeline(config).run(samples) if isinstance(e, RepEvent)]
    return Result(
        real.name,
        real.metadata["dataset"],
        real.exercise,
        real.metadata.get("raw_exercise", real.exercise),
        real.true_reps,
        len(reps),
        float(samples.t_s[-1] - samples.t_s[0]),
        "vertical" if config.exercise in BARBELL_LIFTS else "periodic",
        tuple(r.detected_at_s - r.t_end_s for r in reps),
        samples_lost(real),
    )


def samples_lost(real: RealSet) -> str:
    """How the file lost samples, if it did: a gap of more than the 1 s the resampler bridges (the link dropped),
    or muvr's spliced packets (``realdata.MUVR_SPLICED_PACKET``). Counter-independent."""
    if real.metadata.get("spliced") == "yes":
        return "spliced packets"
    if len(real.samples) > 1 and float(np.max(np.diff(real.samples.t_s))) > 1.0:
        return "a gap of more than 1 s"
    return ""


def lost_group(r: Result) -> str:
    return f"{r.dataset.split('_')[0]} {r.samples_lost or 'whole'}"


def line(label: str, results: list[Result]) -> str:
    n = len(results)
    exact = 100.0 * sum(r.error == 0 for r in results) / n
    within = 100.0 * sum(abs(r.error) <= 1 for r in results) / n
    mae = sum(abs(r.error) for r in results) / n
    bias = sum(r.error for r in results) / n
    true = sum(r.true_reps for r in results)
    counted = sum(r.counted for r in results)
    return f"{label:<40} {n:5d} {exact:7.1f} {within:7.1f} {mae:6.2f} {bias:+7.2f} {true:6d} {counted:7d}"


#: Two people's blind hand counts of the reps visible in some of the sets (see ``hand_counts``).
HAND_COUNTS = Path(__file__).with_name("handcount.csv")


@dataclass(frozen=True)
class HandCount:
    """What two people counted in one set, each without the other's count, and a third where they differed."""

    first: int
    second: int
    batch: int = 1  # 1: ebbelaar's 57 sets and 60 muvr sets; 2: 60 more muvr sets, counted by two other people
    sure: bool = True  # False when both said they were unsure ("low")
    third: int | None = None  # a third person's count, blind to the other two, of the sets where they differed

    @property
    def consensus(self) -> int | None:
        """The count both gave, or None when they differ."""
        return self.first if self.first == self.second else None

    @property
    def majority(self) -> int | None:
        """The count at least two of the three gave, or None."""
        if self.consensus is not None:
            return self.consensus
        return self.third if self.third in (self.first, self.second) else None


def hand_counts(path: Path = HAND_COUNTS) -> dict[str, HandCount]:
    """The reps people see in a set's signals, by set name: the team's own annotation, made blind.

    Both data sets' labels are not observations: ebbelaar's are the protocol's 5 or 10, muvr's were typed in after
    the set. To tell a counter's misses from reps that are not in the file, two helpers counted the full reps in
    plots of each set's raw signals (``bench/handcount_pages.py``: accelerometer, and gyroscope where there is
    one), knowing only the exercise: neither saw the labels, the counters' output or the other's counts. Each
    also said how sure they were (``confidence_1``, ``confidence_2``: high, medium or low). Where the two agree,
    their count is the best reference there is; where they differ, a person could not tell either.

    ``batch`` 2 is 60 more of muvr's whole files, counted later by two other people, after the counters had been
    tuned against batch 1: a held-out check of that tuning. Its people were less sure (both "low" on 34 of 60
    sets, against 11 of 117 in batch 1). In alternating curls they counted the reps of the arm the watch is on,
    and said so: the set's count is twice that.

    Where the two differed, in either batch, a third person counted the set later, in the same way and blind to
    both (``visible_reps_3``, ``confidence_3``; empty elsewhere): ``majority`` is the count two of the three gave.
    """
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    counts = {}
    for row in rows:
        arms = 2 if row["set"].endswith(":alt-dumbbell-biceps-curl") else 1
        counts[f"{row['dataset']}/{row['set']}"] = HandCount(
            arms * int(row["visible_reps_1"]),
            arms * int(row["visible_reps_2"]),
            batch=int(row["batch"]),
            sure=not row["confidence_1"] == row["confidence_2"] == "low",
            third=arms * int(row["visible_reps_3"]) if row["visible_reps_3"] else None,
        )
    return counts


def hand_table(results: list[Result]) -> None:
    """How the two hand counts agree, and how the counter and the labels compare with them where they do."""
    hand = hand_counts()
    groups: dict[str, list[Result]] = defaultdict(list)
    for r in results:
        if r.name not in hand:
            continue
        counts = hand[r.name]
        batch = f"{r.dataset.split('_')[0]}-{counts.batch}"
        groups[f"{batch} person 2 vs person 1"].append(replace(r, counted=counts.second, true_reps=counts.first))
        if counts.majority is not None:
            groups[f"{batch} counted vs 2 of 3"].append(replace(r, true_reps=counts.majority))
            groups[f"{batch} labels vs 2 of 3"].append(replace(r, counted=r.true_reps, true_reps=counts.majority))
        if counts.consensus is None:
            continue
        for key in (batch, f"{batch} sure") if counts.sure else (batch,):
            groups[f"{key} counted vs both"].append(replace(r, true_reps=counts.consensus))
            groups[f"{key} labels vs both"].append(replace(r, counted=r.true_reps, true_reps=counts.consensus))
            groups[f"{key} counted vs labels, same"].append(r)
    table(
        "against two blind hand counts (bench/handcount.csv; batch 2 is held out): 'vs both' on the sets where the "
        "two people agree, their count as the truth; 'sure' leaves out the sets both were unsure of; '2 of 3' adds "
        "the sets where a third person gave one of their two counts",
        groups,
    )


def table(title: str, groups: dict[str, list[Result]]) -> None:
    print(f"\n{title}")
    print(f"{'group':<40} {'sets':>5} {'exact%':>7} {'+-1%':>7} {'MAE':>6} {'bias':>7} {'true':>6} {'counted':>7}")
    for key in sorted(groups):
        print(line(key, groups[key]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--worst", type=int, default=20, help="how many of the worst sets to list (20)")
    ap.add_argument("--max-rate-hz", type=float, default=None, help="thin every set to at most this rate (e.g. 12.5)")
    ap.add_argument(
        "--pick", action="store_true", help="thin by keeping every k-th sample instead of averaging k (aliases noise)"
    )
    ap.add_argument("--no-gyro", action="store_true", help="leave out the gyroscope (ebbelaar has one)")
    args = ap.parse_args()
    root = realdata_root()
    start = time.perf_counter()
    results: list[Result] = []
    for loader in (ebbelaar_sets, muvr_sets):
        try:
            results.extend(
                count(real, args.max_rate_hz, average=not args.pick, gyro=not args.no_gyro) for real in loader(root)
            )
        except FileNotFoundError as exc:
            print(f"skipped: {exc}")
    if not results:
        print(f"no real data under {root} (set REPSENSE_REALDATA)")
        return
    elapsed = time.perf_counter() - start
    how = "every k-th sample" if args.pick else "means of k samples"
    rate = "" if args.max_rate_hz is None else f", thinned to <= {args.max_rate_hz:g} Hz ({how})"
    gyro = ", without the gyroscope" if args.no_gyro else ""
    print(f"{len(results)} labelled wrist sets from {root}{rate}{gyro}, {elapsed:.1f} s")

    table("all", {"all": results})
    by_dataset: dict[str, list[Result]] = defaultdict(list)
    by_exercise: dict[str, list[Result]] = defaultdict(list)
    by_raw: dict[str, list[Result]] = defaultdict(list)
    by_half: dict[str, list[Result]] = defaultdict(list)
    by_counter: dict[str, list[Result]] = defaultdict(list)
    by_lost: dict[str, list[Result]] = defaultdict(list)
    for r in results:
        by_lost[lost_group(r)].append(r)
        by_counter[f"{r.dataset.split('_')[0]} {r.counter}"].append(r)
        by_dataset[r.dataset].append(r)
        by_half[f"{r.dataset} {('tuning', 'held out')[half(r.name)]}"].append(r)
        if not r.samples_lost:
            by_half[f"{r.dataset} {('tuning', 'held out')[half(r.name)]}, whole"].append(r)
        by_exercise[f"{r.dataset.split('_')[0]}/{r.exercise}"].append(r)
        if r.dataset == MUVR and not r.samples_lost:
            by_raw[r.raw_exercise].append(r)
    table("per data set", by_dataset)
    table("per data set and half", by_half)
    table("per data set and exercise", by_exercise)
    table(f"{MUVR}, whole files, per exercise as labelled", by_raw)
    table("samples lost (reps made while samples were lost are not in the file)", by_lost)
    table("per counter", by_counter)
    hand_table(results)
    print(f"\n{'counter':<40} {'reps':>5} {'delay p50 s':>12} {'p95 s':>7}")
    for key in sorted(by_counter):
        delays = [d for r in by_counter[key] for d in r.delays_s]
        if delays:
            p50, p95 = np.percentile(delays, [50, 95])
            print(f"{key:<40} {len(delays):5d} {p50:12.2f} {p95:7.2f}")

    worst = sorted(results, key=lambda r: (-abs(r.error), r.name))[: args.worst]
    print(f"\n{args.worst} worst sets")
    print(f"{'set':<70} {'exercise':>8} {'true':>5} {'counted':>7}")
    for r in worst:
        print(f"{r.name:<70} {r.exercise:>8} {r.true_reps:5d} {r.counted:7d}")


if __name__ == "__main__":
    main()
