"""Rep counting on your own recordings, against the reps you counted: the figures for sets repsense has not seen.

``bench_realdata.py`` scores two public data sets whose labels were prescribed or typed in. A few sets of your
own, with the reps counted from video or by a coach watching, are the fairer test. Give them in a labels file, a
CSV with a header and one row per set::

    file,reps,exercise,placement
    week47/squat_top_set.csv,5,squat,wrist
    MetaWear_2026-11-20T18.12.13.952_C42732BE255C_Accelerometer_12.500Hz_1.4.4.csv,10,bench,
    Polar_Sense_0C301E3F_20261120_121435_ACC.txt,12,curl,

- ``file``: anything ``repsense replay`` opens (a repsense recording, a MetaMotion/MetaBase, Polar Sensor Logger
  or WitMotion export; the gyroscope file of a pair is found beside it), relative to the labels file's folder;
- ``reps``: the reps made, as counted by someone who watched (not the plan: a plan is not what was lifted);
- ``exercise``, ``placement``: optional; empty takes what ``repsense replay`` takes, the recording's metadata,
  else ``other`` on the bar.

Each set goes through the pipeline ``repsense replay`` uses and its count is compared with yours. It prints a
line per set (with the reps a sensor gap hid, which are not counted, and whether samples were lost) and the
tables: exact %, within one rep %, mean absolute error and bias (counted - true), for all sets, per placement and
exercise, and for the files that lost samples against the whole ones. A row that cannot be used is named in one
line and left out; the others are still scored.

``--template DIR`` starts a labels file: it writes ``DIR/labels.csv`` with a row for every set in ``DIR`` (both
files of a pair are one set), the exercise and placement filled in where the files say them and the reps left for
you to fill in. Rows without reps are skipped when scoring.

Run by hand: ``python bench/bench_labelled.py LABELS.csv`` or ``python bench/bench_labelled.py --template DIR``.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# bench_realdata.py sits beside this script, which Python puts first on sys.path: the same tables, read the same way.
from bench_realdata import table

from repsense.core.session import lift_from_metadata
from repsense.errors import RepsenseError
from repsense.events import Exercise, Placement, RepEvent, UnseenRepsEvent
from repsense.firmware_bridge.vendor_files import detect_format, load_any, pair_key
from repsense.signal.pipeline import PipelineConfig, RepPipeline

COLUMNS = ("file", "reps", "exercise", "placement")
#: A gap longer than the resampler bridges: the samples stopped, and a rep made then is not in the file (s).
GAP_S = 1.0


@dataclass(frozen=True)
class Label:
    line: int  # in the labels file
    path: Path
    reps: int
    exercise: str | None
    placement: str | None


@dataclass(frozen=True)
class Result:
    label: Label
    exercise: Exercise
    placement: Placement
    counted: int
    unseen: int
    longest_gap_s: float
    guessed: tuple[str, ...] = ()  # what neither the labels nor the file said, so the default was taken

    @property
    def true_reps(self) -> int:
        return self.label.reps

    @property
    def error(self) -> int:
        return self.counted - self.true_reps

    @property
    def samples_lost(self) -> bool:
        return self.longest_gap_s > GAP_S


def read_labels(path: Path) -> tuple[list[Label], dict[int, str]]:
    """The usable rows of a labels file, and one line for each row that is not, by its line number."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise SystemExit(f"{path}: cannot read the labels file ({exc})") from None
    rows = csv.DictReader(text.splitlines())
    header = [name.strip().lower() for name in rows.fieldnames or []]
    if "file" not in header or "reps" not in header:
        raise SystemExit(f"{path}: the labels file needs a header with at least 'file' and 'reps' (got {header})")
    labels: list[Label] = []
    problems: dict[int, str] = {}
    for line, row in enumerate(rows, start=2):
        cells = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items() if isinstance(v, str)}
        if not cells.get("file"):
            if any(cells.values()):
                problems[line] = f"{path}:{line}: no file named"
            continue
        reps = cells.get("reps", "")
        if not reps:
            problems[line] = f"{path}:{line}: {cells['file']}: no reps given, skipped"
            continue
        if not reps.isdigit():
            problems[line] = f"{path}:{line}: {cells['file']}: reps must be a whole number, not {reps!r}"
            continue
        labels.append(
            Label(
                line,
                path.parent / cells["file"],
                int(reps),
                cells.get("exercise") or None,
                cells.get("placement") or None,
            )
        )
    return labels, problems


def score(label: Label) -> Result:
    """Count one labelled set as ``repsense replay`` does. Raises ``RepsenseError`` for a file it cannot use."""
    recording = load_any(label.path)
    exercise, placement = lift_from_metadata(recording.metadata, label.exercise, label.placement)
    events = RepPipeline(PipelineConfig.for_lift(exercise, placement)).run(recording.samples)
    t = recording.samples.t_s
    said = {"exercise": label.exercise, "placement": label.placement}
    return Result(
        label,
        exercise,
        placement,
        sum(isinstance(e, RepEvent) for e in events),
        sum(e.reps for e in events if isinstance(e, UnseenRepsEvent)),
        float(np.max(np.diff(t))) if len(t) > 1 else 0.0,
        tuple(key for key, value in said.items() if not (value or recording.metadata.get(key))),
    )


def report(labels_path: Path) -> int:
    labels, problems = read_labels(labels_path)
    start = time.perf_counter()
    results: list[Result] = []
    for label in labels:
        try:
            results.append(score(label))
        except RepsenseError as exc:
            problems[label.line] = f"{labels_path}:{label.line}: {exc}"
    elapsed = time.perf_counter() - start
    for line_no in sorted(problems):
        print(problems[line_no])
    if not results:
        print(f"{labels_path}: no set could be scored")
        return 1
    print(f"{len(results)} labelled sets from {labels_path}, {elapsed:.1f} s\n")
    names = [os.path.relpath(r.label.path, labels_path.parent) for r in results]
    width = max(len(name) for name in names)
    print(f"{'set':<{width}} {'exercise':>8} {'placement':>9} {'true':>5} {'counted':>7} {'error':>5}  notes")
    for name, r in zip(names, results, strict=True):
        notes = []
        if r.unseen:
            notes.append(f"{r.unseen} unseen in a gap")
        if r.samples_lost:
            notes.append(f"samples stop for {r.longest_gap_s:.1f} s")
        notes.extend(f"no {what} given: {getattr(r, what)} taken" for what in r.guessed)
        print(
            f"{name:<{width}} {r.exercise:>8} {r.placement:>9} {r.true_reps:5d} {r.counted:7d} {r.error:+5d}  "
            + ", ".join(notes)
        )
    table("all", {"all": results})
    by_lift: dict[str, list[Result]] = defaultdict(list)
    by_lost: dict[str, list[Result]] = defaultdict(list)
    for r in results:
        by_lift[f"{r.placement}/{r.exercise}"].append(r)
        by_lost["samples lost" if r.samples_lost else "whole"].append(r)
    table("per placement and exercise", by_lift)
    table(f"whole files, and files whose samples stop for more than {GAP_S:g} s", by_lost)
    return 0


def sets_in(folder: Path) -> Iterator[tuple[Path, dict[str, str]]]:
    """Every set in ``folder`` and below, once (a pair's two files are one set), with what its files say of it."""
    seen: set[tuple[str, ...]] = set()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")):
        if path.name == "labels.csv" or detect_format(path) is None:
            continue
        try:
            recording = load_any(path)
        except RepsenseError as exc:
            print(f"left out: {exc}")
            continue
        key = pair_key(path, recording)
        if key not in seen:
            seen.add(key)
            yield path, recording.metadata


def template(folder: Path) -> int:
    target = folder / "labels.csv"
    if target.exists():
        print(f"{target}: already there; fill it in, or move it away to start again")
        return 1
    rows = [
        {
            "file": str(path.relative_to(folder)),
            "reps": "",
            "exercise": meta.get("exercise", ""),
            "placement": meta.get("placement", ""),
        }
        for path, meta in sets_in(folder)
    ]
    if not rows:
        print(f"{folder}: no recordings found")
        return 1
    with target.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    print(f"{target}: {len(rows)} sets; fill in the reps you counted, then: python {sys.argv[0]} {target}")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("labels", nargs="?", type=Path, help="the labels file (CSV: file,reps[,exercise,placement])")
    ap.add_argument("--template", type=Path, metavar="DIR", help="write DIR/labels.csv listing the sets in DIR")
    args = ap.parse_args(argv)
    if args.template is not None:
        return template(args.template)
    if args.labels is None:
        ap.error("give a labels file, or --template DIR to start one")
    return report(args.labels)


if __name__ == "__main__":
    sys.exit(main())
