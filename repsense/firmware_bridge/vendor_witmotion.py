"""WitMotion app and PC-software exports: one text table per recording, accelerometer and gyroscope in each row.

Three layouts are read; their column names are those that gyroflow's telemetry-parser (AdrianEddy/telemetry-parser,
``src/witmotion/txt*.rs``) and the WitMotion SDK's Python samples parse or write:

- the current software (tab- or comma-separated, English or Chinese names, written in UTF-8 or GBK)::

      time	DeviceName	ChipTime()	AccX(g)	AccY(g)	AccZ(g)	AsX(°/s)	AsY(°/s)	AsZ(°/s)	AngleX(°)	...
      时间	设备名称	加速度X(g)	加速度Y(g)	加速度Z(g)	角速度X(°/s)	角速度Y(°/s)	角速度Z(°/s)	角度X(°)	...
      Chip Time()	Acceleration X(g)	...	Angular velocity X(°/s)	...

  with times like ``2025-01-01 00:00:00.100``, ``2026-10-02T07:48:45.830`` or ``2024-03-01 10:11:12:345`` (a
  colon before the milliseconds);
- the older software and the SDK samples (tab-separated)::

      Chiptime	ax(g)	ay(g)	az(g)	wx(deg/s)	wy(deg/s)	wz(deg/s)	AngleX(deg)	...

- a whitespace-separated variant with separate ``Date`` and ``Time`` columns and bare ``ax ... wz`` names
  (in g and deg/s).

A line before the header (``Start time: ...``) is skipped, and so are repeated header lines. A file holding more
than one sensor (several ``DeviceName`` values) is refused: a recording is one sensor.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import numpy as np

from repsense.errors import RecordingError
from repsense.firmware_bridge.recording import Recording
from repsense.firmware_bridge.vendor_common import (
    Table,
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
    read_text,
    split_table,
    strictly_increasing,
)

FORMAT = "witmotion"

#: WitMotion's Windows software writes its column names (加速度X(g), AsX(°/s)) in the ANSI code page when it is
#: not UTF-8; GB18030 reads GBK. Only WitMotion files are read this way: any other file must be UTF-8.
GBK = "gb18030"

_ACC = [
    ("ax(g)", "accx(g)", "acceleration x(g)", "加速度x(g)", "ax"),
    ("ay(g)", "accy(g)", "acceleration y(g)", "加速度y(g)", "ay"),
    ("az(g)", "accz(g)", "acceleration z(g)", "加速度z(g)", "az"),
]
_GYRO = [
    ("wx(deg/s)", "asx(°/s)", "angular velocity x(°/s)", "角速度x(°/s)", "wx"),
    ("wy(deg/s)", "asy(°/s)", "angular velocity y(°/s)", "角速度y(°/s)", "wy"),
    ("wz(deg/s)", "asz(°/s)", "angular velocity z(°/s)", "角速度z(°/s)", "wz"),
]
#: Time columns, best first: the PC's clock per row, then the sensor's chip time, then elapsed seconds.
_TIME = [("time", "时间"), ("chiptime()", "chiptime", "chip time()", "片上时间()"), ("time(s)",)]
_DEVICE = ("devicename", "设备名称")
_DATE = ("date", "日期")

#: Words that mark a WitMotion header line.
_MARKERS = (
    "ax(g)",
    "accx(g)",
    "acceleration x(g)",
    "加速度x(g)",
    "anglex",
    "角度x",
    "devicename",
    "设备名称",
    "chiptime",
)

_CLOCK = re.compile(
    r"^(?:(?P<y>\d{4})[-/](?P<mo>\d{1,2})[-/](?P<d>\d{1,2})[ T]+)?"
    r"(?P<h>\d{1,2}):(?P<mi>\d{1,2}):(?P<s>\d{1,2})(?:(?P<sep>[.:])(?P<frac>\d{1,9}))?$"
)
_SECONDS = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)$")


def header_index(lines: list[str], limit: int = 30) -> int | None:
    """Index of the WitMotion header line among the first ``limit`` lines, if there is one."""
    for i, line in enumerate(lines[:limit]):
        lower = line.lower()
        if any(marker in lower for marker in _MARKERS):
            return i
    return None


def load(path: Path) -> Recording:
    source = str(path)
    text, notes = read_text(path, fallback=GBK)
    lines = text.split("\n")
    index = header_index(lines)
    if index is None:
        raise RecordingError(f"{source}: unrecognised WitMotion export: no header line with AccX(g) or ax(g) columns")
    header_line = lines[index]
    delimiter: str | None = "\t" if "\t" in header_line else "," if "," in header_line else None
    table = split_table(text, source, index, delimiter)

    acc_cols = [find_column(table.header, *names) for names in _ACC]
    if None in acc_cols:
        found = ", ".join(h for h in table.header if h)[:120]
        raise RecordingError(f"{source}: unrecognised WitMotion export: no acceleration columns (found: {found})")
    gyro_cols = [find_column(table.header, *names) for names in _GYRO]
    has_gyro = None not in gyro_cols
    # Outside comma-separated files, the software writes the locale's decimal separator.
    comma = delimiter != ","
    numeric = [c for c in acc_cols + (gyro_cols if has_gyro else []) if c is not None]
    table, cut = drop_cut_last_row(table, numeric, decimal_comma=comma)
    notes += cut
    check_widths(table)
    acc_used = [c for c in acc_cols if c is not None]
    gyro_used = [c for c in gyro_cols if c is not None]
    acc_g = np.column_stack([column_numbers(table, c, decimal_comma=comma) for c in acc_used])
    check_range(table, acc_used, acc_g, gyro=False)
    gyro_dps = None
    if has_gyro:
        gyro_dps = np.column_stack([column_numbers(table, c, decimal_comma=comma) for c in gyro_used])
        check_range(table, gyro_used, gyro_dps, gyro=True)
    device = _one_device(table)
    t_us, start = _times(table)
    t_s = (t_us - t_us[0]).astype(np.float64) / 1e6
    values = acc_g if gyro_dps is None else np.hstack([acc_g, gyro_dps])
    keep = strictly_increasing(t_s, values, table.lines, source)
    samples = make_block(source, t_s[keep], acc_g[keep], None if gyro_dps is None else gyro_dps[keep])
    notes += drop_note(int(len(keep) - keep.sum()), "data")
    if not has_gyro:
        notes.append("no angular velocity columns; loaded without gyroscope")
    metadata = {
        "exercise": guess_exercise(path.stem) or "",
        "sensor": f"WitMotion {device}" if device else "WitMotion",
        "sample_rate_hz": format_rate(median_rate_hz(samples.t_s)),
        "start_time": start,
        "source_format": "WitMotion export",
        "source_files": path.name,
    }
    return build_recording(path, samples, metadata, notes)


def _one_device(table: Table) -> str:
    col = find_column(table.header, *_DEVICE)
    if col is None:
        return ""
    names = sorted({row[col] for row in table.rows})
    if len(names) > 1:
        shown = ", ".join(names[:4]) + (", ..." if len(names) > 4 else "")
        raise RecordingError(
            f"{table.source}: holds {len(names)} sensors ({shown}); a recording is one sensor, so export each "
            f"sensor to its own file"
        )
    return names[0]


def _times(table: Table) -> tuple[np.ndarray, str]:
    """Each row's time in integer microseconds (any origin), and the first row's time as written."""
    first = table.rows[0]
    date_col = find_column(table.header, *_DATE)
    for names in _TIME:
        col = find_column(table.header, *names)
        if col is None:
            continue
        joined = date_col is not None and col != date_col and names == _TIME[0]
        if _parse_time(_cell(first, col, date_col if joined else None)) is None:
            continue
        values = []
        for row, line in zip(table.rows, table.lines, strict=True):
            cell = _cell(row, col, date_col if joined else None)
            us = _parse_time(cell)
            if us is None:
                raise RecordingError(
                    f"{table.source} line {line}, column {table.header[col]!r}: {cell[:40]!r} is not a time"
                )
            values.append(us)
        return np.array(values, dtype=np.int64), _cell(first, col, date_col if joined else None)
    raise RecordingError(
        f"{table.source}: unrecognised WitMotion export: no time column (time, ChipTime or Time(s)) with readable "
        f"times on line {table.lines[0]}"
    )


def _cell(row: list[str], col: int, date_col: int | None) -> str:
    return f"{row[date_col]} {row[col]}" if date_col is not None else row[col]


def _parse_time(text: str) -> int | None:
    """Microseconds: a date and/or clock time (``.fff`` fractional seconds, or ``:fff`` milliseconds), or seconds."""
    m = _CLOCK.match(text)
    if m is not None:
        day = 0
        if m["y"] is not None:
            try:
                day = dt.date(int(m["y"]), int(m["mo"]), int(m["d"])).toordinal()
            except ValueError:
                return None
        frac = m["frac"] or ""
        if m["sep"] == ":":
            if len(frac) > 3:
                return None
            frac_us = int(frac) * 1000
        else:
            frac_us = int((frac + "000000")[:6])
        seconds = ((day * 24 + int(m["h"])) * 60 + int(m["mi"])) * 60 + int(m["s"])
        return seconds * 1_000_000 + frac_us
    if _SECONDS.match(text):
        return round(float(text) * 1e6)
    return None
