"""MbientLab MetaMotion exports (MetaBase / MetaHub CSV): one file per sensor, paired by name and time.

MetaBase exports one set as two files in one folder, for example::

    A-bench-heavy2-rpe8_MetaWear_2019-01-11T16.10.08.270_C42732BE255C_Accelerometer_12.500Hz_1.4.4.csv
    A-bench-heavy2-rpe8_MetaWear_2019-01-11T16.10.08.270_C42732BE255C_Gyroscope_25.000Hz_1.4.4.csv

    epoch (ms),time (01:00),elapsed (s),x-axis (g),y-axis (g),z-axis (g)
    1547219408431,2019-01-11T16:10:08.431,0.000,0.010,0.964,-0.087

The gyroscope file has ``x-axis (deg/s)`` and so on. Other writers spell the first columns ``epoc (ms)`` and
``timestamp (-0700)``, and files rewritten by pandas write ``0.0`` for ``0.000`` and a space for the ``T``; only
``epoch`` and the three axes are read, so all of these load. The two sensors run on their own clocks and rates
(12.5 Hz and 25 Hz in the app's defaults), so ``elapsed (s)`` differs between the files; ``epoch (ms)`` is what
they share, and the gyroscope is interpolated onto the accelerometer's epoch times.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from repsense.errors import RecordingError
from repsense.firmware_bridge.recording import Recording
from repsense.firmware_bridge.vendor_common import (
    attach_gyro,
    build_recording,
    check_range,
    check_widths,
    column_numbers,
    drop_cut_last_row,
    drop_note,
    format_rate,
    guess_exercise,
    make_block,
    median_rate_hz,
    plural,
    read_text,
    split_table,
    strictly_increasing,
)

FORMAT = "metamotion"

# <prefix>_<Accelerometer|Gyroscope>[_<rate>Hz_<app version>].csv
_FILE_NAME = re.compile(r"^(?P<prefix>.+)_(?P<kind>Accelerometer|Gyroscope)(?P<rest>_.*)?\.csv$", re.IGNORECASE)
# <set name>_MetaWear_<start time>_<MAC>
_PREFIX = re.compile(r"^(?P<name>.*?)_MetaWear_(?P<start>[^_]+)_(?P<mac>[0-9A-Fa-f]{12})$")

_ACC, _GYRO = "Accelerometer", "Gyroscope"


def looks_like(header_line: str) -> bool:
    """True for a MetaMotion export's header line (``epoch (ms),...,x-axis (g),...``)."""
    cells = [c.strip().lower() for c in header_line.split(",")]
    return (
        len(cells) >= 4
        and cells[0].startswith("epoc")
        and "(ms)" in cells[0]
        and any(c.startswith("x-axis") for c in cells)
    )


@dataclass(frozen=True)
class _SensorFile:
    path: Path
    kind: str  # _ACC or _GYRO
    epoch_ms: np.ndarray  # float64 [n], strictly increasing
    xyz: np.ndarray  # float64 [n, 3], g or deg/s
    duplicates_dropped: int
    notes: list[str]  # what reading this file took, e.g. an incomplete last line skipped


def load(path: Path) -> Recording:
    """Load one set from its Accelerometer file, or from its Gyroscope file (the accelerometer is then required)."""
    first = _read(path)
    notes: list[str] = []
    if first.kind == _ACC:
        acc, gyro = first, _find_partner(first, notes)
    else:
        found = _find_partner(first, [])
        if found is None:
            raise RecordingError(
                f"{path}: a MetaMotion gyroscope export without its accelerometer file; repsense needs the "
                f"matching ..._{_ACC}_....csv from the same set in the same folder"
            )
        acc, gyro = found, first
    epoch0_ms = float(acc.epoch_ms[0])
    t_s = (acc.epoch_ms - epoch0_ms) / 1000.0
    acc_g = acc.xyz
    gyro_dps = None
    notes += acc.notes + drop_note(acc.duplicates_dropped, "accelerometer")
    if gyro is not None:
        notes += gyro.notes + drop_note(gyro.duplicates_dropped, "gyroscope")
        attached = attach_gyro(t_s, (gyro.epoch_ms - epoch0_ms) / 1000.0, gyro.xyz)
        assert attached is not None  # _find_partner only returns a gyroscope that covers the accelerometer
        keep, gyro_dps = attached
        dropped = int(len(keep) - keep.sum())
        if dropped:
            notes.append(f"{plural(dropped, 'accelerometer sample')} outside the gyroscope's time span dropped")
        t_s, acc_g = t_s[keep], acc_g[keep]
    samples = make_block(str(path), t_s, acc_g, gyro_dps)

    prefix = _prefix_of(acc.path)
    parts = _PREFIX.match(prefix) if prefix else None
    set_name = parts["name"].strip() if parts else (prefix or acc.path.stem)
    metadata = {
        "exercise": guess_exercise(set_name) or "",
        "placement": "wrist",
        "sensor": f"MetaMotion (MetaWear {parts['mac'].upper()})" if parts else "MetaMotion",
        "sample_rate_hz": format_rate(median_rate_hz(acc.epoch_ms / 1000.0)),
        "start_time": dt.datetime.fromtimestamp(epoch0_ms / 1000.0, tz=dt.UTC).isoformat(timespec="milliseconds"),
        "source_format": "MetaMotion CSV (MetaBase)",
        "source_files": "; ".join(f.path.name for f in (acc, gyro) if f is not None),
        "gyro_rate_hz": format_rate(median_rate_hz(gyro.epoch_ms / 1000.0)) if gyro is not None else "",
    }
    return build_recording(acc.path, samples, metadata, notes)


def _read(path: Path) -> _SensorFile:
    source = str(path)
    text, notes = read_text(path)
    lines = text.split("\n")
    header_index = next((i for i, line in enumerate(lines) if line.strip()), None)
    if header_index is None:
        raise RecordingError(f"{source}: the file is empty")
    if not looks_like(lines[header_index]):
        named = _FILE_NAME.match(path.name)
        unit = "deg/s" if named and named["kind"].lower() == _GYRO.lower() else "g"
        raise RecordingError(
            f"{source}: not a MetaMotion CSV export (the header should start 'epoch (ms),...,x-axis ({unit}),...', "
            f"got {lines[header_index].strip()[:60]!r})"
        )
    table = split_table(text, source, header_index, ",")
    lower = [c.lower() for c in table.header]
    axes = [next((i for i, c in enumerate(lower) if c.startswith(f"{a}-axis")), -1) for a in "xyz"]
    if min(axes) < 0:
        raise RecordingError(f"{source} line {table.header_line}: the header lacks an x-, y- or z-axis column")
    table, cut = drop_cut_last_row(table, [0, *axes])
    check_widths(table)
    unit = lower[axes[0]].partition("(")[2].rstrip(")").strip()
    if unit == "g":
        kind = _ACC
    elif unit in ("deg/s", "°/s", "dps"):
        kind = _GYRO
    else:
        raise RecordingError(
            f"{source}: a MetaMotion export in {unit or 'unknown units'!r} ({table.header[axes[0]]!r}); repsense "
            f"reads the {_ACC} (g) and {_GYRO} (deg/s) files"
        )
    epoch_ms = column_numbers(table, 0)
    xyz = np.column_stack([column_numbers(table, i) for i in axes])
    check_range(table, axes, xyz, gyro=kind == _GYRO)
    keep = strictly_increasing(epoch_ms / 1000.0, xyz, table.lines, source)
    return _SensorFile(path, kind, epoch_ms[keep], xyz[keep], int(len(keep) - keep.sum()), notes + cut)


def _prefix_of(path: Path) -> str | None:
    m = _FILE_NAME.match(path.name)
    return m["prefix"] if m else None


def _version_of(path: Path) -> str:
    m = _FILE_NAME.match(path.name)
    return (m["rest"] or "").rsplit("_", 1)[-1] if m else ""


def _squash(text: str) -> str:
    # MetaBase users type the set name; a stray space ("A-bench-half _MetaWear...") must not split a pair.
    return "".join(text.split()).lower()


def _find_partner(first: _SensorFile, notes: list[str]) -> _SensorFile | None:
    """The other sensor's file of the same set: same name prefix, in the same folder, overlapping in time."""
    other = _GYRO if first.kind == _ACC else _ACC
    prefix = _prefix_of(first.path)
    if prefix is None:
        notes.append(f"no {other.lower()} file looked for: the file name does not end in _{first.kind}_....csv")
        return None
    try:
        siblings = sorted(first.path.parent.iterdir())
    except OSError as exc:
        raise RecordingError(f"{first.path}: cannot list its folder ({exc.strerror or exc})") from exc
    candidates = []
    for p in siblings:
        m = _FILE_NAME.match(p.name)
        if m and m["kind"].lower() == other.lower() and _squash(m["prefix"]) == _squash(prefix) and p.is_file():
            candidates.append(p)
    # The same app version first: a folder may hold re-exports of the same set (..._1.4.4.csv, ..._1.4.41.csv).
    candidates.sort(key=lambda p: (_version_of(p) != _version_of(first.path), p.name))
    for candidate in candidates:
        try:
            partner = _read(candidate)
            if partner.kind != other:
                raise RecordingError(f"{candidate}: holds {partner.kind.lower()} columns, not {other.lower()} ones")
        except RecordingError as exc:
            if other == _ACC:
                raise  # the accelerometer is what counts reps: without it there is nothing to load
            notes.append(f"{other.lower()} file not used: {exc}")
            continue
        acc, gyro = (first, partner) if first.kind == _ACC else (partner, first)
        t0 = float(acc.epoch_ms[0])
        if attach_gyro((acc.epoch_ms - t0) / 1000.0, (gyro.epoch_ms - t0) / 1000.0, gyro.xyz) is not None:
            return partner
        notes.append(f"{candidate.name} does not overlap this file in time and was not used")
    if not candidates:
        notes.append(f"no {other.lower()} file found beside it (looked for {prefix}_{other}_*.csv)")
    if first.kind == _ACC:
        notes.append("loaded without gyroscope")
    return None
