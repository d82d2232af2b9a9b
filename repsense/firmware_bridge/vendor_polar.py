"""Polar Sensor Logger exports (Verity Sense, H10, OH1): semicolon-separated text, one file per stream.

The app writes a folder of files named ``Polar_<model>_<device id>_<YYYYMMDD>_<HHMMSS>_<STREAM>.txt``, for example
``Polar_Sense_0C301E3F_20260613_121435_ACC.txt`` and ``..._GYRO.txt``::

    Phone timestamp;sensor timestamp [ns];X [mg];Y [mg];Z [mg]
    2026-04-24T14:10:20.058;599616065136175104;-953;63;425

Where these column names come from (the search corpus holds no export from the app itself, so this is what
third-party code that reads or imitates it agrees on):

- agodianel/Polar-Recording-Application, README.md, "CSV format matching Polar Sensor Logger (Android)": the
  ACC header and row above, semicolons, CRLF line ends (polar_recorder/recording/writer.py);
- a Kotlin Polar SDK logger writing ``...;X [mg];Y [mg];Z [mg] `` and ``...;X [dps];Y [dps];Z [dps] `` headers
  (note the trailing space) and rows ending in ``;``;
- several readers keyed on ``Polar_Sense_*_GYRO.txt`` / ``*_MAGN.txt`` with ``X [dps]`` and ``X [G]`` headers;
- the Polar BLE SDK's ``PolarAccelerometerData`` / ``PolarGyroData``: axes in mG and deg/s, sample time in ns
  since 2000-01-01 on the sensor's clock.

Time comes from ``sensor timestamp [ns]``, the sensor's own per-sample clock. ``Phone timestamp`` is when the phone
received the packet (every sample of a packet gets about the same one), so it is kept only as the start time.
The H10 does not keep its clock set, so the sensor timestamp is used relative to the first sample, never as a date.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from repsense.errors import RecordingError
from repsense.firmware_bridge.recording import Recording
from repsense.firmware_bridge.vendor_common import (
    Table,
    attach_gyro,
    build_recording,
    check_range,
    check_widths,
    column_numbers,
    drop_cut_last_row,
    drop_note,
    find_column,
    format_rate,
    guess_exercise,
    make_block,
    median_rate_hz,
    plural,
    read_text,
    split_table,
    strictly_increasing,
)

FORMAT = "polar"

_TIME_COLUMN = "sensor timestamp [ns]"
_FILE_NAME = re.compile(
    r"^(?P<prefix>Polar_(?P<model>[^_]+)_(?P<device>[0-9A-Za-z]+)_\d{8}_\d{6})_(?P<stream>[A-Z]+)(?P<rest>.*)$"
)
_MODELS = {"sense": "Polar Verity Sense", "veritysense": "Polar Verity Sense", "h10": "Polar H10", "oh1": "Polar OH1"}
#: Models worn on the forearm or wrist; the H10 is a chest strap.
_ARM_MODELS = {"sense", "veritysense", "oh1"}


def looks_like(header_line: str) -> bool:
    """True for a Polar Sensor Logger header line (``Phone timestamp;sensor timestamp [ns];...``)."""
    cells = [c.strip().lower() for c in header_line.split(";")]
    return "phone timestamp" in cells or _TIME_COLUMN in cells


@dataclass(frozen=True)
class _Stream:
    path: Path
    kind: str  # "acc" or "gyro"
    t_ns: np.ndarray  # int64 [n], sensor clock, strictly increasing
    xyz: np.ndarray  # float64 [n, 3], g or deg/s
    duplicates_dropped: int
    start: str  # the first row's phone timestamp, as written
    notes: list[str]  # what reading this file took, e.g. an incomplete last line skipped


def load(path: Path) -> Recording:
    """Load an ACC file, with its GYRO file when one from the same session lies beside it (or the reverse)."""
    first = _read(path)
    notes: list[str] = []
    partner_path = _partner_path(path, "GYRO" if first.kind == "acc" else "ACC")
    partner = None
    if partner_path is None:
        if first.kind == "acc":
            notes.append("no GYRO file found beside it; loaded without gyroscope")
    else:
        try:
            partner = _read(partner_path)
            if partner.kind == first.kind:
                raise RecordingError(
                    f"{partner.path}: expected {'gyroscope' if first.kind == 'acc' else 'accelerometer'} columns"
                )
        except RecordingError as exc:
            if first.kind != "acc":
                raise  # the accelerometer is what counts reps: without it there is nothing to load
            notes.append(f"GYRO file not used: {exc}; loaded without gyroscope")
            partner = None
    if first.kind == "acc":
        acc, gyro = first, partner
    elif partner is None:
        raise RecordingError(
            f"{path}: a Polar Sensor Logger GYRO file without its ACC file; repsense needs the ..._ACC.txt "
            f"of the same session in the same folder"
        )
    else:
        acc, gyro = partner, first
    t0_ns = int(acc.t_ns[0])
    t_s = _seconds(acc.t_ns, t0_ns)
    acc_g = acc.xyz
    notes += acc.notes + drop_note(acc.duplicates_dropped, "accelerometer")
    gyro_on_acc = None
    if gyro is not None:
        attached = attach_gyro(t_s, _seconds(gyro.t_ns, t0_ns), gyro.xyz)
        if attached is None:
            if first.kind == "gyro":
                raise RecordingError(f"{path}: its ACC file {acc.path.name} does not overlap it in time")
            notes.append(f"{gyro.path.name} does not overlap this file in time; loaded without gyroscope")
            gyro = None
        else:
            keep, gyro_on_acc = attached
            notes += gyro.notes + drop_note(gyro.duplicates_dropped, "gyroscope")
            dropped = int(len(keep) - keep.sum())
            if dropped:
                notes.append(f"{plural(dropped, 'accelerometer sample')} outside the gyroscope's time span dropped")
            t_s, acc_g = t_s[keep], acc_g[keep]
    samples = make_block(str(acc.path), t_s, acc_g, gyro_on_acc)

    m = _FILE_NAME.match(acc.path.name)
    model = m["model"].lower() if m else ""
    sensor = _MODELS.get(model, f"Polar {m['model']}" if m else "Polar sensor")
    metadata = {
        "exercise": guess_exercise(acc.path.stem) or "",
        "placement": "wrist" if model in _ARM_MODELS else "",
        "sensor": f"{sensor} ({m['device']})" if m else sensor,
        "sample_rate_hz": format_rate(median_rate_hz(_seconds(acc.t_ns, t0_ns))),
        "start_time": acc.start,
        "source_format": "Polar Sensor Logger",
        "source_files": "; ".join(f.path.name for f in (acc, gyro) if f is not None),
        "gyro_rate_hz": format_rate(median_rate_hz(_seconds(gyro.t_ns, t0_ns))) if gyro is not None else "",
    }
    if model == "h10":
        notes.append("a Polar H10 is a chest strap: set the placement yourself if it was not on the chest")
    return build_recording(acc.path, samples, metadata, notes)


def _seconds(t_ns: np.ndarray, t0_ns: int) -> np.ndarray:
    # Integer nanoseconds first: since-2000 values (~6e17) lose their last digits in float64.
    return (t_ns - t0_ns).astype(np.float64) / 1e9


def _read(path: Path) -> _Stream:
    source = str(path)
    text, notes = read_text(path)
    lines = text.split("\n")
    header_index = next((i for i, line in enumerate(lines) if line.strip()), None)
    if header_index is None:
        raise RecordingError(f"{source}: the file is empty")
    if not looks_like(lines[header_index]):
        raise RecordingError(f"{source}: not a Polar Sensor Logger export (no 'sensor timestamp [ns]' column)")
    table = split_table(text, source, header_index, ";")
    t_col = find_column(table.header, _TIME_COLUMN)
    acc_cols = [find_column(table.header, f"{a} [mg]") for a in "XYZ"]
    gyro_cols = [find_column(table.header, f"{a} [dps]") for a in "XYZ"]
    if t_col is None:
        raise RecordingError(f"{source} line {table.header_line}: no '{_TIME_COLUMN}' column")
    if None not in acc_cols:
        kind, cols, scale = "acc", acc_cols, 1e-3  # mG -> g
    elif None not in gyro_cols:
        kind, cols, scale = "gyro", gyro_cols, 1.0
    else:
        shown = ";".join(table.header[:5])
        raise RecordingError(
            f"{source}: a Polar Sensor Logger file without accelerometer (X [mg]) or gyroscope (X [dps]) columns "
            f"({shown!r}); repsense reads the ACC and GYRO files"
        )
    table, cut = drop_cut_last_row(table, [t_col, *(c for c in cols if c is not None)])
    check_widths(table)
    t_ns = _integers(table, t_col)
    used = [c for c in cols if c is not None]
    xyz = np.column_stack([column_numbers(table, c) for c in used]) * scale
    check_range(table, used, xyz, gyro=kind == "gyro")
    keep = strictly_increasing(_seconds(t_ns, int(t_ns[0])), xyz, table.lines, source)
    phone_col = find_column(table.header, "Phone timestamp")
    start = table.rows[0][phone_col] if phone_col is not None else ""
    return _Stream(path, kind, t_ns[keep], xyz[keep], int(len(keep) - keep.sum()), start, notes + cut)


def _integers(table: Table, index: int) -> np.ndarray:
    values = []
    for row, line in zip(table.rows, table.lines, strict=True):
        cell = row[index]
        try:
            value = int(cell)
        except ValueError:
            value = -1
        if not 0 <= value < 2**63:
            raise RecordingError(
                f"{table.source} line {line}, column {table.header[index]!r}: {cell[:40]!r} is not a whole number "
                f"of nanoseconds"
            )
        values.append(value)
    return np.array(values, dtype=np.int64)


def _partner_path(path: Path, stream: str) -> Path | None:
    """The file of ``stream`` from the same session: the same name with the stream swapped, else the same prefix."""
    m = _FILE_NAME.match(path.name)
    if m is None:
        return None
    exact = path.with_name(f"{m['prefix']}_{stream}{m['rest']}")
    if exact.is_file():
        return exact
    try:
        siblings = sorted(path.parent.iterdir())
    except OSError as exc:
        raise RecordingError(f"{path}: cannot list its folder ({exc.strerror or exc})") from exc
    for p in siblings:
        n = _FILE_NAME.match(p.name)
        if n and n["prefix"] == m["prefix"] and n["stream"] == stream and p.is_file():
            return p
    return None
