"""Loaders for the two real third-party wrist data sets kept outside the repo, following their MANIFEST.txt files.

The data lives in ``../shared/realdata`` beside the repo (override with the environment variable
``REPSENSE_REALDATA``) and never goes into the repo. Each loader yields ``RealSet`` values:

- ``ebbelaar_sets``: MetaMotion wrist band, MetaBase CSV exports, 57 labelled sets / 410 reps. Participant ``E`` is
  a copy of A and D shifted by one day, and every ``*_1.4.41.csv`` is a copy of a ``*_1.4.4.csv``: both are dropped.
  Rest and improper-form recordings are left out by default (form sets have unknown rep counts, so never appear).
  Reps come from the protocol in the file name: ``heavy`` = 5, ``medium`` = 10. Accelerometer and gyroscope files
  are paired by ``repsense.firmware_bridge.vendor_files.load_any``, the same reader users get.
- ``muvr_sets``: Pebble watch, accelerometer only, 284 labelled sets / 3042 reps. Columns x, y, z [g], exercise,
  intensity, weight [kg], repetitions; no timestamps (50 Hz assumed, ``t = arange(n) / 50``); exercises mapped by
  ``muvr_exercise`` (``alt-dumbbell-biceps-curl`` is ``alt_curl``: the label counts both arms, the watch sees
  one); sets with a count of 0 or -1 are skipped, and the ``18-09-15-triceps-biceps-lateral`` folder (no counts)
  is not read. 44 files are spliced from packets with samples lost between them (``muvr_spliced``, metadata
  ``spliced``): see ``MUVR_SPLICED_PACKET``.

``python bench/realdata.py`` prints a summary table.
"""

from __future__ import annotations

import csv
import os
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from repsense.firmware_bridge.vendor_files import load_any
from repsense.samples import SampleBlock

DEFAULT_ROOT = Path(__file__).resolve().parents[2] / "shared" / "realdata"
EBBELAAR = "ebbelaar_metamotion"
MUVR = "muvr_wrist"

#: muvr's rate is not in its files; the MANIFEST explains why 50 Hz.
MUVR_RATE_HZ = 50.0
#: The watch app sent its samples in packets of 102 (2.04 s). 44 files are whole packets of 112 instead, and those
#: are spliced: across their packet boundaries the signal jumps (median step 7.5 times the median step within a
#: packet; 1.4 times in the 102-sample files), and they hold 1.16 s per labelled rep at the median (2.93 s in the
#: others). Samples between the packets were lost, so no counter can reach the label there.
MUVR_PACKET = 102
MUVR_SPLICED_PACKET = 112
MUVR_FOLDERS = ("arms", "back", "chest", "core", "shoulders")

_EBBELAAR_NAME = re.compile(
    r"^(?P<participant>[A-Z])-(?P<exercise>[a-z]+)-(?P<category>[a-z]+)(?P<setno>\d*)(?:-rpe(?P<rpe>\d+))?\s*"
    r"_MetaWear_(?P<start>[^_]+)_(?P<mac>[0-9A-F]{12})_Accelerometer_.*_(?P<version>[\d.]+)\.csv$"
)
_EBBELAAR_EXERCISES = {"bench": "bench", "squat": "squat", "dead": "deadlift", "ohp": "ohp", "row": "row"}
_EBBELAAR_REPS = {"heavy": 5, "medium": 10}


@dataclass(frozen=True)
class RealSet:
    """One labelled set: ``exercise`` in repsense's vocabulary, the true rep count, the samples."""

    name: str
    exercise: str
    true_reps: int
    samples: SampleBlock
    metadata: dict[str, str] = field(default_factory=dict)


def realdata_root() -> Path:
    return Path(os.environ.get("REPSENSE_REALDATA", DEFAULT_ROOT))


def ebbelaar_files(
    root: Path | None = None, *, include_rest: bool = False, include_removed: bool = False
) -> list[tuple[Path, dict[str, str]]]:
    """The accelerometer files of the unique sets, with what their names say. Does not read the files."""
    raw = (root or realdata_root()) / EBBELAAR / "raw"
    if not raw.is_dir():
        raise FileNotFoundError(f"{raw}: the {EBBELAAR} data set is not there")
    folders = [raw] + ([raw / "removed_in_head"] if include_removed else [])
    found = []
    for folder in folders:
        for path in sorted(folder.glob("*_Accelerometer_*.csv")):
            m = _EBBELAAR_NAME.match(path.name)
            if m is None:
                raise ValueError(f"{path}: unexpected file name for {EBBELAAR}")
            # MANIFEST caveat 1: E is a one-day-shifted copy of A and D, and 1.4.41 files copy 1.4.4 files.
            if m["participant"] == "E" or m["version"] == "1.4.41":
                continue
            if m["exercise"] == "rest" and not include_rest:
                continue
            found.append((path, {k: v for k, v in m.groupdict().items() if v}))
    return found


def ebbelaar_sets(
    root: Path | None = None, *, include_rest: bool = False, include_removed: bool = False
) -> Iterator[RealSet]:
    """The ebbelaar_metamotion sets (57 by default; +5 deleted row sets with ``include_removed``)."""
    for path, parts in ebbelaar_files(root, include_rest=include_rest, include_removed=include_removed):
        recording = load_any(path)
        if parts["exercise"] == "rest":
            exercise, true_reps = "other", 0
        else:
            exercise, true_reps = _EBBELAAR_EXERCISES[parts["exercise"]], _EBBELAAR_REPS[parts["category"]]
        label = f"{parts['participant']}-{parts['exercise']}-{parts['category']}{parts.get('setno', '')}"
        metadata = {
            **recording.metadata,
            "dataset": EBBELAAR,
            "participant": parts["participant"],
            "category": parts["category"],
            "raw_exercise": parts["exercise"],
        }
        if "rpe" in parts:
            metadata["rpe"] = parts["rpe"]
        yield RealSet(f"{EBBELAAR}/{label}@{parts['start']}", exercise, true_reps, recording.samples, metadata)


#: muvr's free-weight versions of repsense's barbell lifts, as a lifter would pick them from the list: the dumbbell
#: bench press, the overhead press with a barbell or dumbbells, the one-arm dumbbell row. Machine and cable versions
#: (``angle-chest-press``, ``leverage-high-row``, the pulldowns) and the rear-delt ``deltoid-row`` guide the hands
#: along another path: they stay ``other``.
MUVR_BARBELL_LIFTS = {
    "dumbbell-chest-press": "bench",
    "barbell-press": "ohp",
    "dumbbell-press": "ohp",
    "dumbbell-row": "row",
}


def muvr_exercise(raw: str) -> str:
    """repsense's name for a muvr exercise: alternating dumbbell curls are alt_curl, the other curls curl, the
    free-weight presses and rows those of ``MUVR_BARBELL_LIFTS``, the rest other."""
    if raw == "alt-dumbbell-biceps-curl":
        return "alt_curl"
    if raw.endswith("biceps-curl"):
        return "curl"
    return MUVR_BARBELL_LIFTS.get(raw, "other")


def muvr_spliced(n_samples: int) -> bool:
    """Whether a muvr file of ``n_samples`` is made of 112-sample packets with lost samples between them."""
    return n_samples % MUVR_SPLICED_PACKET == 0 and n_samples % MUVR_PACKET != 0


def muvr_files(root: Path | None = None) -> list[Path]:
    labelled = (root or realdata_root()) / MUVR / "raw" / "labelled"
    if not labelled.is_dir():
        raise FileNotFoundError(f"{labelled}: the {MUVR} data set is not there")
    return [p for folder in MUVR_FOLDERS for p in sorted((labelled / folder).glob("*.csv"))]


def muvr_sets(root: Path | None = None) -> Iterator[RealSet]:
    """The muvr_wrist sets with a rep count (284)."""
    base = (root or realdata_root()) / MUVR / "raw" / "labelled"
    for path in muvr_files(root):
        with path.open(newline="", encoding="utf-8") as f:
            rows = [row for row in csv.reader(f) if row]
        labels = {tuple(row[3:7]) for row in rows}
        if len(labels) != 1:
            raise ValueError(f"{path}: more than one label in one set: {sorted(labels)[:3]}")
        raw_exercise, intensity, weight, reps_text = rows[0][3:7]
        true_reps = int(float(reps_text))
        if true_reps <= 0:  # 0 / -1: count unknown
            continue
        acc_g = np.array([[float(v) for v in row[:3]] for row in rows])
        t_s = np.arange(len(rows)) / MUVR_RATE_HZ
        relative = path.relative_to(base)
        metadata = {
            "dataset": MUVR,
            "raw_exercise": raw_exercise,
            "weight_kg": weight,
            "placement": "wrist",
            "sensor": "Pebble watch",
            "sample_rate_hz": f"{MUVR_RATE_HZ:g} (assumed)",
            "source_files": str(relative),
            "spliced": "yes" if muvr_spliced(len(rows)) else "no",
        }
        if intensity:
            metadata["intensity"] = intensity
        name = f"{MUVR}/{relative.with_suffix('')}:{raw_exercise}"
        yield RealSet(name, muvr_exercise(raw_exercise), true_reps, SampleBlock(t_s, acc_g, None), metadata)


def all_sets(root: Path | None = None) -> Iterator[RealSet]:
    yield from ebbelaar_sets(root)
    yield from muvr_sets(root)


def main() -> None:
    root = realdata_root()
    for label, sets in ((EBBELAAR, ebbelaar_sets), (MUVR, muvr_sets)):
        try:
            loaded = list(sets(root))
        except FileNotFoundError as exc:
            print(f"{label}: missing ({exc})")
            continue
        minutes = sum(float(s.samples.t_s[-1] - s.samples.t_s[0]) for s in loaded) / 60.0
        gyro = sum(s.samples.has_gyro for s in loaded)
        print(
            f"{label}: {len(loaded)} sets, {sum(s.true_reps for s in loaded)} reps, {minutes:.1f} min, {gyro} with gyro"
        )
        by = Counter(s.exercise for s in loaded)
        print("  " + ", ".join(f"{k} {v}" for k, v in sorted(by.items())))
        if label == EBBELAAR:
            people = Counter(s.metadata["participant"] for s in loaded)
            print("  participants: " + ", ".join(f"{k} {v}" for k, v in sorted(people.items())))


if __name__ == "__main__":
    main()
