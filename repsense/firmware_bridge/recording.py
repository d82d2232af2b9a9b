"""Recording format v1: timestamped IMU samples as UTF-8 CSV, with a reader and a crash-safe writer.

The format is described for users in ``docs/recording-format.md``. In short::

    # repsense-recording: v1
    # exercise: squat
    t,ax,ay,az,gx,gy,gz
    0.000000,0.01234,-0.00321,0.99871,0.123,-1.250,0.004
    # gap: 3.20 s

The reader parses the numeric body with ``np.loadtxt`` (a C parser, correctly rounded like ``float``) and checks
the result with whole-array operations. Only when that fast path meets something it does not handle (a problem,
whitespace-only lines, text in an unknown column) does a line-by-line pass run; it decides, and names the first
bad line. The writer formats values with fixed decimals and returns them as they will read back, parsed by the
same routine the reader uses, so a live session and a later replay see the same numbers bit for bit.
"""

from __future__ import annotations

import dataclasses
import io
import math
import os
import re
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import numpy as np

from repsense.errors import RecordingError
from repsense.firmware_bridge.textfile import decode_text, read_file_bytes
from repsense.samples import MAX_ABS_ACC_G, MAX_ABS_GYRO_DPS, SampleBlock

#: The metadata key our writer puts on the first line, and the version it writes.
FORMAT_KEY = "repsense-recording"
FORMAT_VERSION = "v1"

REQUIRED_COLUMNS = ("t", "ax", "ay", "az")
GYRO_COLUMNS = ("gx", "gy", "gz")

#: Decimals written per column: 1 us for time, 10 ug for acceleration, 1 mdps for angular rate.
_ROW_FORMAT = "%.6f,%.5f,%.5f,%.5f"
_GYRO_FORMAT = ",%.3f,%.3f,%.3f"

# A finite decimal number as the fast path (loadtxt) accepts it, spelled out so the slow path accepts exactly
# the same cells: no '_' separators, no non-ASCII digits, no hex.
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_NON_FINITE = re.compile(r"[+-]?(?:nan|inf|infinity)", re.IGNORECASE)
_COMMENT_LINE = re.compile(r"^[ \t]*#(.*)\n", re.MULTILINE)


@dataclass(frozen=True)
class Recording:
    """A recording read from a file or text.

    ``metadata`` holds the leading ``# key: value`` lines (keys lower-cased). ``annotations`` holds the comment
    lines after the header as ``(t_s, text)``, where ``t_s`` is the time of the data row before the comment (the
    first row's time when no row precedes it). ``truncated_last_line`` is True when an incomplete last line, as
    left by a crash, was dropped.
    """

    samples: SampleBlock
    metadata: dict[str, str]
    annotations: list[tuple[float, str]]
    source: str
    truncated_last_line: bool = False


@dataclass(frozen=True)
class _Layout:
    """Where the columns we use sit in a file's rows."""

    header: list[str]  # names as written, stripped
    header_line: int
    index: tuple[int, ...]  # positions of t, ax, ay, az[, gx, gy, gz]

    @property
    def has_gyro(self) -> bool:
        return len(self.index) == 7


# --- reading ------------------------------------------------------------------------------------------------


def read_recording(path: str | os.PathLike[str]) -> Recording:
    """Read a recording file. Every problem raises ``RecordingError`` naming the file (and line, and column)."""
    source = os.fspath(path)
    data = read_file_bytes(path, what="recording file")
    text, cut = decode_text(data, source, what="CSV recording")
    recording = parse_recording(text, source)
    return dataclasses.replace(recording, truncated_last_line=True) if cut else recording


def parse_recording(text: str, source: str = "<text>") -> Recording:
    """Parse the text of a recording; ``source`` names it in error messages."""
    text = text.removeprefix("\ufeff")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text or text.isspace():
        raise RecordingError(f"{source}: the file is empty")
    metadata, layout, body_start = _read_head(text, source)
    body = text[body_start:]
    # An unterminated last line may be cut short by a crash; it is judged on its own after the rest.
    split = body.rfind("\n") + 1
    main, last = body[:split], body[split:]
    first_line = layout.header_line + 1
    parsed = _parse_body_fast(main, layout)
    if parsed is None:
        parsed = _parse_body_slow(main, layout, first_line, source)
    values, notes = parsed
    truncated = False
    if last and not last.isspace():
        last_line = first_line + main.count("\n")
        if last.lstrip().startswith("#"):
            notes.append((len(values) - 1, last.strip()[1:].strip()))
        else:
            prev_t = float(values[-1, 0]) if len(values) else None
            row = _parse_row(last, last_line, layout, prev_t, source, may_be_cut=True)
            if row is None:
                truncated = True
            else:
                values = np.vstack([values, np.array([row])])
    if len(values) == 0:
        cut_note = " (the only data line was cut off)" if truncated else ""
        raise RecordingError(f"{source}: no data rows after the header (line {layout.header_line}){cut_note}")
    try:
        samples = _block_from_values(values, layout.has_gyro)
    except RecordingError as exc:
        raise RecordingError(f"{source}: {exc}") from exc
    t_first = float(samples.t_s[0])
    annotations = [(float(samples.t_s[i]) if i >= 0 else t_first, note) for i, note in notes]
    return Recording(samples, metadata, annotations, source, truncated)


def _read_head(text: str, source: str) -> tuple[dict[str, str], _Layout, int]:
    """The metadata, the column layout, and the offset where the body starts."""
    metadata: dict[str, str] = {}
    pos = 0
    line_no = 0
    while pos < len(text):
        end = text.find("\n", pos)
        end = len(text) if end < 0 else end
        line = text[pos:end].strip()
        line_no += 1
        pos = end + 1
        if not line:
            continue
        if line.startswith("#"):
            key, colon, value = line[1:].partition(":")
            if colon and key.strip():
                metadata[key.strip().lower()] = value.strip()
            continue
        return metadata, _parse_header(line, line_no, source), min(pos, len(text))
    raise RecordingError(f"{source}: holds only comments, no header row and no data")


def _parse_header(line: str, line_no: int, source: str) -> _Layout:
    header = [cell.strip() for cell in line.split(",")]
    names = [cell.lower() for cell in header]
    if all(_NUMBER.fullmatch(cell) or _NON_FINITE.fullmatch(cell) for cell in header):
        raise RecordingError(
            f"{source} line {line_no}: no header row; the first line is data ({_show(line)}), "
            f"expected column names such as 't,ax,ay,az'"
        )
    for name in REQUIRED_COLUMNS + GYRO_COLUMNS:
        if names.count(name) > 1:
            raise RecordingError(f"{source} line {line_no}: column '{name}' appears twice in the header")
    missing = [name for name in REQUIRED_COLUMNS if name not in names]
    if missing:
        raise RecordingError(
            f"{source} line {line_no}: header lacks required column(s) {', '.join(missing)} "
            f"(header: {_show(line)}; required: t, ax, ay, az)"
        )
    gyro = [name for name in GYRO_COLUMNS if name in names]
    if 0 < len(gyro) < 3:
        absent = [name for name in GYRO_COLUMNS if name not in names]
        raise RecordingError(
            f"{source} line {line_no}: header has {', '.join(gyro)} but not {', '.join(absent)}; "
            f"gyroscope columns gx, gy, gz come all three or none"
        )
    used = REQUIRED_COLUMNS + (GYRO_COLUMNS if gyro else ())
    return _Layout(header, line_no, tuple(names.index(name) for name in used))


def _parse_body_fast(main: str, layout: _Layout) -> tuple[np.ndarray, list[tuple[int, str]]] | None:
    """Values [n, 4 or 7] and notes (index of the preceding row, text), or None to let the slow pass decide."""
    segments: list[str] = []
    notes: list[tuple[int, str]] = []
    note_after_segment: list[str | None] = []
    pos = 0
    if "#" in main:
        for match in _COMMENT_LINE.finditer(main):
            segments.append(main[pos : match.start()])
            note_after_segment.append(match.group(1).strip())
            pos = match.end()
    segments.append(main[pos:])
    note_after_segment.append(None)
    pieces: list[np.ndarray] = []
    rows = 0
    for segment, note in zip(segments, note_after_segment, strict=True):
        if segment and not segment.isspace():
            try:
                piece = _loadtxt(segment)
            except ValueError:
                return None
            if piece.shape[1] != len(layout.header):
                return None
            pieces.append(piece[:, layout.index])
            rows += len(piece)
        if note is not None:
            notes.append((rows - 1, note))
    values = np.concatenate(pieces) if pieces else np.empty((0, len(layout.index)))
    if not _values_ok(values):
        return None
    return values, notes


def _values_ok(values: np.ndarray) -> bool:
    """True when the values break none of the rules the slow pass would report."""
    return bool(
        np.all(np.isfinite(values))
        and np.all(np.diff(values[:, 0]) > 0)
        and np.all(np.abs(values[:, 1:4]) <= MAX_ABS_ACC_G)
        and np.all(np.abs(values[:, 4:]) <= MAX_ABS_GYRO_DPS)
    )


def _parse_body_slow(
    main: str, layout: _Layout, first_line: int, source: str
) -> tuple[np.ndarray, list[tuple[int, str]]]:
    """Line by line: the authority on what a body means, and the one that names the first bad line."""
    rows: list[list[float]] = []
    notes: list[tuple[int, str]] = []
    prev_t: float | None = None
    for offset, line in enumerate(main.split("\n")[:-1]):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            notes.append((len(rows) - 1, stripped[1:].strip()))
            continue
        row = _parse_row(line, first_line + offset, layout, prev_t, source, may_be_cut=False)
        assert row is not None  # only a last line that may be cut returns None
        rows.append(row)
        prev_t = row[0]
    return np.array(rows, dtype=np.float64).reshape(-1, len(layout.index)), notes


def _parse_row(
    line: str, line_no: int, layout: _Layout, prev_t: float | None, source: str, *, may_be_cut: bool
) -> list[float] | None:
    """The used values of one data row, or None when ``may_be_cut`` and the line is evidently incomplete.

    A crash can only cut a line short, so an incomplete line has too few fields, or a last field that is not a
    number, or (when time is the last column) a time that does not advance.
    """
    cells = line.split(",")
    last = len(layout.header) - 1
    if may_be_cut and row_is_cut(cells, len(layout.header), layout.index):
        return None
    if len(cells) != len(layout.header):
        raise RecordingError(
            f"{source} line {line_no}: {len(cells)} fields, but the header (line {layout.header_line}) "
            f"names {len(layout.header)} columns"
        )
    row: list[float] = []
    for i in layout.index:
        cell = cells[i].strip()
        where = f"{source} line {line_no}, column '{layout.header[i]}'"
        if not _NUMBER.fullmatch(cell):
            problem = "is NaN or infinite" if _NON_FINITE.fullmatch(cell) else "is not a number"
            raise RecordingError(f"{where}: {_show(cell)} {problem}")
        value = float(cell)
        if not math.isfinite(value):
            raise RecordingError(f"{where}: {_show(cell)} is too large to be a number")
        row.append(value)
    t = row[0]
    if prev_t is not None and not t > prev_t:
        if may_be_cut and layout.index[0] == last:
            return None
        problem = "goes backwards" if t < prev_t else "does not advance"
        raise RecordingError(f"{source} line {line_no}: time {problem} ({_show_times(prev_t, t)})")
    for k, i in enumerate(layout.index[1:], start=1):
        limit, unit = (MAX_ABS_ACC_G, "g") if k < 4 else (MAX_ABS_GYRO_DPS, "deg/s")
        if abs(row[k]) > limit:
            raise RecordingError(
                f"{source} line {line_no}, column '{layout.header[i]}': {row[k]:g} {unit} is beyond "
                f"+-{limit:g} {unit}, not a plausible IMU reading"
            )
    return row


def row_is_cut(cells: Sequence[str], width: int, used: Collection[int]) -> bool:
    """True when a last line without a line end is evidently incomplete: a write cut short, as a crash or an
    interrupted copy leaves it.

    A cut can only shorten a line, so the line is incomplete when it has fewer than the header's ``width`` cells,
    or when its last cell is one of the ``used`` columns and is not a number while the other used cells are. A bad
    cell before the last is no cut but a real error, which the caller reports.
    """
    if len(cells) < width:
        return True
    if len(cells) > width or width - 1 not in used or _NUMBER.fullmatch(cells[width - 1].strip()):
        return False
    return all(_NUMBER.fullmatch(cells[i].strip()) for i in used if i != width - 1)


def _show(text: str, limit: int = 40) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")


def _show_times(a: float, b: float) -> str:
    """``a -> b`` with enough decimals to tell them apart (3 when they are equal)."""
    digits = next((d for d in (3, 6, 9) if a == b or f"{a:.{d}f}" != f"{b:.{d}f}"), 17)
    return f"{a:.{digits}f} -> {b:.{digits}f}"


# --- numbers, shared by the reader and the writer -----------------------------------------------------------


def _loadtxt(text: str) -> np.ndarray:
    """Parse comma-separated rows of numbers. Raises ValueError on anything else (blank-only lines included)."""
    return np.loadtxt(io.StringIO(text), dtype=np.float64, delimiter=",", comments=None, ndmin=2)


def _block_from_values(values: np.ndarray, has_gyro: bool) -> SampleBlock:
    return SampleBlock(
        np.ascontiguousarray(values[:, 0]),
        np.ascontiguousarray(values[:, 1:4]),
        np.ascontiguousarray(values[:, 4:7]) if has_gyro else None,
    )


def _format_rows(block: SampleBlock) -> str:
    """The block's data rows as the writer writes them."""
    if len(block) == 0:
        return ""
    columns = [block.t_s[:, None], block.acc_g]
    row_format = _ROW_FORMAT
    if block.gyro_dps is not None:
        columns.append(block.gyro_dps)
        row_format += _GYRO_FORMAT
    flat = np.hstack(columns).ravel().tolist()
    return ((row_format + "\n") * len(block)) % tuple(flat)


def _quantize_text(block: SampleBlock) -> tuple[str, SampleBlock]:
    text = _format_rows(block)
    if not text:
        return text, block
    values = _loadtxt(text)
    t = values[:, 0]
    collide = np.flatnonzero(np.diff(t) <= 0)
    if len(collide):
        i = int(collide[0])
        raise RecordingError(
            f"samples at t={block.t_s[i]!r} s and t={block.t_s[i + 1]!r} s are less than 1 us apart "
            f"and collide when written with 6 decimals"
        )
    return text, _block_from_values(values, block.has_gyro)


def quantize(block: SampleBlock) -> SampleBlock:
    """The block as a recording stores it: t to 6 decimals, acceleration to 5, angular rate to 3.

    The values are formatted as the writer writes them and parsed back as the reader parses them, so they are
    exactly what a replay of the file will see.
    """
    return _quantize_text(block)[1]


# --- writing ------------------------------------------------------------------------------------------------


def next_free_path(path: str | os.PathLike[str]) -> Path:
    """``path`` when nothing is there, else the first of ``stem-2.suffix``, ``stem-3.suffix``, ... that is free."""
    path = Path(path)
    n = 2
    candidate = path
    while candidate.exists() or candidate.is_symlink():
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
        n += 1
    return candidate


class RecordingWriter:
    """Writes a recording as samples arrive, so that a crash loses at most about a second of them.

    Rows collect in memory and go to the file with one ``write`` call of whole lines (never half a line) when
    ``flush_interval_s`` of sample time or of wall time has passed since the last flush, checked on every
    ``write``; annotations, ``flush()`` and ``close()`` flush at once. A process killed outright therefore
    leaves a readable file. Nothing runs in the background: during a long silence the caller should ``flush()``.

    ``new_name``: never overwrite a file; when one is at ``path`` (even one created a moment ago by another
    session), write to ``next_free_path(path)`` instead. ``path`` then says where the recording went.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        metadata: Mapping[str, str | float | int],
        has_gyro: bool,
        flush_interval_s: float = 1.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        new_name: bool = False,
    ) -> None:
        if not flush_interval_s > 0:
            raise ValueError(f"flush_interval_s must be positive, got {flush_interval_s!r}")
        self.path = Path(path)
        self.has_gyro = has_gyro
        self.flush_interval_s = flush_interval_s
        self.samples_written = 0
        self._clock = clock
        self._pending: list[str] = [_format_head(metadata, has_gyro)]
        self._last_t_s: float | None = None
        self._flushed_t_s: float | None = None
        self._flushed_wall_s = clock()
        self._file: io.FileIO | None = None
        while self._file is None:
            try:
                self._file = open(self.path, "xb" if new_name else "wb", buffering=0)  # noqa: SIM115 (closed in close())
            except FileExistsError:
                # Another session took the name since it was free: take the next, never overwrite.
                self.path = next_free_path(self.path)
            except OSError as exc:
                raise RecordingError(f"{self.path}: cannot create the recording ({exc.strerror or exc})") from exc
        self.flush()

    def write(self, block: SampleBlock) -> SampleBlock:
        """Append the block; return it exactly as the file will read back (see ``quantize``)."""
        self._check_open()
        if block.has_gyro != self.has_gyro:
            with_or_without = "with" if self.has_gyro else "without"
            raise ValueError(f"{self.path}: this recording is {with_or_without} gyroscope, the block is not")
        try:
            text, written = _quantize_text(block)
        except RecordingError as exc:
            raise RecordingError(f"{self.path}: cannot write samples: {exc}") from exc
        if not text:
            return written
        first_t = float(written.t_s[0])
        if self._last_t_s is not None and not first_t > self._last_t_s:
            raise RecordingError(
                f"{self.path}: cannot write samples: the block starts at t={first_t:.6f} s, not after the last "
                f"sample written (t={self._last_t_s:.6f} s)"
            )
        self._pending.append(text)
        self.samples_written += len(written)
        self._last_t_s = float(written.t_s[-1])
        if self._flushed_t_s is None:
            self._flushed_t_s = first_t
        if (
            self._last_t_s - self._flushed_t_s >= self.flush_interval_s
            or self._clock() - self._flushed_wall_s >= self.flush_interval_s
        ):
            self.flush()
        return written

    def annotate(self, text: str) -> None:
        """Write ``# text`` after the samples written so far (one line; flushed at once)."""
        self._check_open()
        if "\n" in text or "\r" in text:
            raise ValueError(f"an annotation is one line, got {text!r}")
        self._pending.append(f"# {text.strip()}\n")
        self.flush()

    def flush(self) -> None:
        """Hand everything written so far to the operating system, as whole lines."""
        if self._file is None or not self._pending:
            return
        data = memoryview("".join(self._pending).encode("utf-8"))
        self._pending.clear()
        try:
            while data:
                data = data[self._file.write(data) :]
        except OSError as exc:
            raise RecordingError(f"{self.path}: cannot write the recording ({exc.strerror or exc})") from exc
        self._flushed_wall_s = self._clock()
        self._flushed_t_s = self._last_t_s

    def close(self) -> None:
        """Flush and close the file. Closing twice is harmless."""
        if self._file is None:
            return
        try:
            self.flush()
            os.fsync(self._file.fileno())
        except OSError as exc:
            raise RecordingError(f"{self.path}: cannot write the recording ({exc.strerror or exc})") from exc
        finally:
            self._file.close()
            self._file = None

    def __enter__(self) -> RecordingWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _check_open(self) -> None:
        if self._file is None:
            raise ValueError(f"{self.path}: the recording writer is closed")


def _format_head(metadata: Mapping[str, str | float | int], has_gyro: bool) -> str:
    lines = [f"# {FORMAT_KEY}: {FORMAT_VERSION}"]
    for raw_key, raw_value in metadata.items():
        key, value = raw_key.strip().lower(), str(raw_value).strip()
        if not key or ":" in key or "\n" in key or "\r" in key:
            raise ValueError(f"metadata key {raw_key!r} must be non-empty, without ':' or line breaks")
        if "\n" in value or "\r" in value:
            raise ValueError(f"metadata value for {key!r} must be one line, got {value!r}")
        if key == FORMAT_KEY:
            if value != FORMAT_VERSION:
                raise ValueError(f"this writer writes {FORMAT_KEY} {FORMAT_VERSION}, not {value!r}")
            continue
        lines.append(f"# {key}: {value}")
    lines.append(",".join(REQUIRED_COLUMNS + (GYRO_COLUMNS if has_gyro else ())))
    return "\n".join(lines) + "\n"
