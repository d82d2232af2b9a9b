"""What the vendor-file readers share: reading text, splitting tables, checking time, pairing a gyroscope file.

Every reader turns a vendor's export into a ``Recording`` (see ``recording.py``), and every problem it finds is a
``RecordingError`` whose message starts with the file name and, where it applies, the line and column.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from repsense.errors import RecordingError
from repsense.firmware_bridge import textfile
from repsense.firmware_bridge.recording import Recording, row_is_cut
from repsense.firmware_bridge.textfile import read_file_bytes
from repsense.samples import MAX_ABS_ACC_G, MAX_ABS_GYRO_DPS, SampleBlock

#: Names in a file name that say which lift a set was, as MetaBase users name their exports
#: (``A-bench-heavy2-rpe8_MetaWear_...``). Only whole words count, so ``arrow`` is not a row.
_EXERCISE_WORDS = {
    "bench": "bench",
    "squat": "squat",
    "squats": "squat",
    "dead": "deadlift",
    "deadlift": "deadlift",
    "deadlifts": "deadlift",
    "ohp": "ohp",
    "row": "row",
    "rows": "row",
}

#: The gyroscope is only interpolated between two of its samples at most this many of its median periods apart;
#: across a longer hole (a dropped BLE burst) interpolation would invent motion.
_MAX_GYRO_GAP_PERIODS = 2.5

#: A partner gyroscope file must cover at least this share of the accelerometer's samples to be used.
_MIN_GYRO_COVERAGE = 0.5


@dataclass(frozen=True)
class Table:
    """A delimited text table: the header cells and the data rows, each with its 1-based line number."""

    source: str
    header: list[str]
    header_line: int
    rows: list[list[str]]
    lines: list[int]
    #: The last row has no line end, so an interrupted write may have cut it short (see ``drop_cut_last_row``).
    last_unterminated: bool = False


@dataclass
class Series:
    """Timestamped three-axis samples read from one file, before they become a ``SampleBlock``."""

    source: str
    t_s: np.ndarray  # float64 [n], seconds from the file's own origin, strictly increasing
    xyz: np.ndarray  # float64 [n, 3], g or deg/s
    notes: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return int(self.t_s.shape[0])


def read_text(path: Path, *, fallback: str | None = None) -> tuple[str, list[str]]:
    """The file's text, BOM removed and line ends made ``\\n``, and a note when its last line was cut inside a
    character and dropped. UTF-8, else the ``fallback`` encoding if one is given."""
    text, cut = decode_text(read_file_bytes(path), str(path), fallback=fallback)
    return text, [cut_note(path.name, text.count("\n") + 1)] if cut else []


def decode_text(data: bytes, source: str, *, fallback: str | None = None) -> tuple[str, bool]:
    """The text of a vendor export's bytes, and whether a last line cut inside a character was dropped."""
    if len(data) > 11 and data[0:2] == b"\x55\x50" and data[11] == 0x55:
        raise RecordingError(
            f"{source}: a WitMotion binary log; export the recording as text from the WitMotion app and import that"
        )
    text, cut = textfile.decode_text(data, source, what="text export", fallback=fallback)
    text = text.removeprefix("\ufeff")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text, cut


def cut_note(file_name: str, line: int) -> str:
    return f"the incomplete last line of {file_name} (line {line}) was skipped"


def split_table(text: str, source: str, header_index: int, delimiter: str | None) -> Table:
    """Split ``text`` into the header (the ``header_index``-th line, 0-based) and the data rows after it.

    ``delimiter=None`` splits on runs of whitespace. Blank lines are skipped; so are repeats of the header line,
    which appear when an app appends a second export to the same file.
    """
    lines = text.split("\n")
    header_text = lines[header_index].strip()
    header = [cell.strip() for cell in _split(header_text, delimiter)]
    while header and not header[-1]:
        header.pop()  # Polar Sensor Logger ends some header lines with ';'
    rows: list[list[str]] = []
    numbers: list[int] = []
    for i in range(header_index + 1, len(lines)):
        line = lines[i].strip()
        if not line or line == header_text:
            continue
        rows.append([cell.strip() for cell in _split(line, delimiter)])
        numbers.append(i + 1)
    if not rows:
        raise RecordingError(f"{source}: no data rows after the header (line {header_index + 1})")
    return Table(source, header, header_index + 1, rows, numbers, last_unterminated=numbers[-1] == len(lines))


def drop_cut_last_row(table: Table, used: Collection[int], *, decimal_comma: bool = False) -> tuple[Table, list[str]]:
    """The table without its last row when a write cut short left that row incomplete, and a note saying so.

    The rule is the v1 recordings' (``row_is_cut``): only a last row with no line end can be cut, and it is
    incomplete when it has fewer cells than the header, or a last cell in a ``used`` numeric column that is not a
    number. Any other bad row stays an error naming its line.
    """
    if not table.last_unterminated:
        return table, []
    cells = table.rows[-1]
    if decimal_comma:
        cells = [c.replace(",", ".") for c in cells]
    if not row_is_cut(cells, len(table.header), used):
        return table, []
    if len(table.rows) == 1:
        raise RecordingError(
            f"{table.source}: no data rows after the header (line {table.header_line}) (the only data line was cut off)"
        )
    note = cut_note(Path(table.source).name, table.lines[-1])
    return replace(table, rows=table.rows[:-1], lines=table.lines[:-1], last_unterminated=False), [note]


def _split(line: str, delimiter: str | None) -> list[str]:
    return line.split() if delimiter is None else line.split(delimiter)


def check_widths(table: Table) -> None:
    """Every row has the header's cells (empty cells past the end, as ``a;b;`` leaves, are allowed)."""
    width = len(table.header)
    for row, line in zip(table.rows, table.lines, strict=True):
        if len(row) > width and not any(row[width:]):
            del row[width:]
        if len(row) != width:
            raise RecordingError(
                f"{table.source} line {line}: {len(row)} fields where the header (line {table.header_line}) has {width}"
            )


def column_numbers(table: Table, index: int, *, decimal_comma: bool = False) -> np.ndarray:
    """One column as float64. A cell that is not a finite number raises, naming the line and the column."""
    cells = [row[index] for row in table.rows]
    if decimal_comma:
        cells = [c.replace(",", ".") for c in cells]
    try:
        values = np.array(cells, dtype=np.float64)
    except ValueError:
        values = None
    if values is not None and np.all(np.isfinite(values)):
        return values
    for cell, line in zip(cells, table.lines, strict=True):
        try:
            value = float(cell)
        except ValueError:
            value = None
        if value is None or not np.isfinite(value):
            shown = repr(cell if len(cell) <= 40 else cell[:40] + "...")
            raise RecordingError(
                f"{table.source} line {line}, column {table.header[index]!r}: {shown} is not a finite number"
            )
    raise AssertionError("unreachable: numpy rejected a column whose cells all parse")  # pragma: no cover


def check_range(table: Table, columns: Sequence[int], values: np.ndarray, *, gyro: bool) -> None:
    """``values`` [n, len(columns)], read from ``columns`` of the rows (g, or deg/s when ``gyro``), must be
    plausible IMU readings, as in v1 recordings. The first that is not raises, naming its line and column."""
    limit, unit = (MAX_ABS_GYRO_DPS, "deg/s") if gyro else (MAX_ABS_ACC_G, "g")
    bad = np.argwhere(np.abs(values) > limit)
    if len(bad):
        row, k = (int(i) for i in bad[0])
        raise RecordingError(
            f"{table.source} line {table.lines[row]}, column {table.header[columns[k]]!r}: {values[row, k]:g} {unit} "
            f"is beyond +-{limit:g} {unit}, not a plausible IMU reading"
        )


def find_column(header: Sequence[str], *names: str) -> int | None:
    """Index of the first header cell equal to one of ``names`` (compared case-insensitively, spaces removed)."""
    wanted = {_norm(n) for n in names}
    for i, cell in enumerate(header):
        if _norm(cell) in wanted:
            return i
    return None


def _norm(name: str) -> str:
    return "".join(name.split()).lower().replace("μ", "u").replace("º", "°")


def strictly_increasing(t_s: np.ndarray, values: np.ndarray, lines: Sequence[int], source: str) -> np.ndarray:
    """The rows to keep: each row that repeats the row before it exactly (time and values) is dropped.

    Any other row whose time does not advance raises ``RecordingError`` naming its line.
    """
    keep = np.ones(len(t_s), dtype=bool)
    if len(t_s) > 1:
        same = (np.diff(t_s) == 0) & np.all(values[1:] == values[:-1], axis=1)
        keep[1:] = ~same
    kept = np.flatnonzero(keep)
    steps = np.diff(t_s[kept])
    bad = np.flatnonzero(steps <= 0)
    if len(bad):
        i, j = kept[bad[0]], kept[bad[0] + 1]
        problem = "goes backwards" if t_s[j] < t_s[i] else "does not advance (same time, different values)"
        raise RecordingError(f"{source} line {lines[j]}: time {problem} ({_show_t(t_s[i])} -> {_show_t(t_s[j])} s)")
    return keep


def _show_t(t: float) -> str:
    return f"{t:.6f}".rstrip("0").rstrip(".")


def plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def drop_note(dropped: int, what: str) -> list[str]:
    return [f"{plural(dropped, f'exact duplicate {what} row')} dropped"] if dropped else []


def median_rate_hz(t_s: np.ndarray) -> float | None:
    if len(t_s) < 2:
        return None
    step = float(np.median(np.diff(t_s)))
    return 1.0 / step if step > 0 else None


def format_rate(rate_hz: float | None) -> str:
    return "" if rate_hz is None else f"{rate_hz:.4g}"


def attach_gyro(
    acc_t_s: np.ndarray, gyro_t_s: np.ndarray, gyro_dps: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | None:
    """Resample a gyroscope onto the accelerometer's times by linear interpolation.

    Returns ``(keep, gyro_on_acc)``: which accelerometer samples the gyroscope covers (it is never extrapolated,
    nor interpolated across a hole longer than ``_MAX_GYRO_GAP_PERIODS`` of its periods) and its values there.
    Returns None when it covers less than ``_MIN_GYRO_COVERAGE`` of them: that file belongs to another set.
    """
    if len(gyro_t_s) < 2:
        return None
    steps = np.diff(gyro_t_s)
    max_gap_s = _MAX_GYRO_GAP_PERIODS * float(np.median(steps))
    k = np.searchsorted(gyro_t_s, acc_t_s, side="right") - 1
    inside = (k >= 0) & (k < len(gyro_t_s) - 1)
    k_in = np.clip(k, 0, len(steps) - 1)
    keep = inside & (steps[k_in] <= max_gap_s)
    keep |= (k >= 0) & (gyro_t_s[np.clip(k, 0, None)] == acc_t_s)  # a sample right on a gyro sample
    if keep.sum() < _MIN_GYRO_COVERAGE * len(acc_t_s):
        return None
    t = acc_t_s[keep]
    on_acc = np.column_stack([np.interp(t, gyro_t_s, gyro_dps[:, axis]) for axis in range(3)])
    return keep, on_acc


def make_block(source: str, t_s: np.ndarray, acc_g: np.ndarray, gyro_dps: np.ndarray | None) -> SampleBlock:
    try:
        return SampleBlock(t_s, acc_g, gyro_dps)
    except RecordingError as exc:
        raise RecordingError(f"{source}: {exc}") from exc


def guess_exercise(name: str) -> str | None:
    """The lift a file name names (``bench``, ``squat``, ``dead``/``deadlift``, ``ohp``, ``row``), if exactly one."""
    found = set()
    for token in re.split(r"[^a-z0-9]+", name.lower()):
        word = _EXERCISE_WORDS.get(token.rstrip("0123456789"))
        if word is not None:
            found.add(word)
    return found.pop() if len(found) == 1 else None


def one_line(text: str) -> str:
    """``text`` made safe as a metadata value: one line."""
    return " ".join(text.split())


def build_recording(
    path: Path,
    samples: SampleBlock,
    metadata: dict[str, str],
    notes: Sequence[str],
) -> Recording:
    meta = {k: one_line(v) for k, v in metadata.items() if v}
    if notes:
        meta["import_notes"] = one_line("; ".join(notes))
    return Recording(samples, meta, [], str(path))
