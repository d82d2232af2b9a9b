"""CSV text lines from third-party or DIY firmware (``ms,ax,ay,az,gx,gy,gz``) to ``SampleBlock``. Sans-I/O.

Theory of operation
-------------------
Bytes are split into lines at ``\\n`` or ``\\r`` (so CRLF works); a line split across chunks waits for its end.
Each line is a header (names, no numbers), a numeric line, or malformed (counted in ``stats.malformed``).

The layout is the column map plus the time, acceleration and gyro units. Whatever the caller leaves out is
detected, but only once the last ``agree_lines`` numeric lines agree and the guess is safe; until then lines wait.

- Columns: a header naming them, else the count of numbers per line: 7 = t + acc + gyro, 4 = t + acc,
  6 = acc + gyro and 3 = acc (those two are stamped with host time). A time column must increase.
- Acceleration: median magnitude near 1 means g, near 9.8 means m/s^2 (the sensor starts roughly still).
- Time: decimals stepping below 1 mean seconds; integers stepping by at most 250 mean ms, by more mean us.
- Gyro: values beyond 40 can only be deg/s. Otherwise it follows the accelerometer: firmware printing m/s^2
  usually prints rad/s (Adafruit's unified sensor API), firmware printing g prints deg/s. ``layout`` says which.

CSV has no checksum, so a corrupted digit in the time field still parses. A device time that jumps ahead of the
last line by more than ``jump_s`` (5 of the usual steps, at least 20 ms; 1 s before any step is known) is held
back until the next line decides: a line that follows on from it confirms a real pause of the device (it passes as
a gap), a line that follows on from the lines before refutes it, and the held line is dropped
(``stats.time_jumps``). So one bad time never becomes the clock, at the cost of one line of latency after a jump.
A device time that goes backwards drops the line (``stats.time_backwards``); three lines in a row that are more
than ``jump_s`` behind and increase among themselves mean the device restarted (``stats.restarts``). A line a
little behind (after a line whose time was a little ahead) is only dropped: it cannot be a restart. Nor can lines
that follow on from the time before a confirmed jump: two lines corrupted alike confirmed a jump that was none,
and the lines after them are dropped until the clock catches up, rather than shifting every later line. An integer
ms/us counter that wraps (``millis()``/``micros()`` as u32, or printed signed) is unwrapped. Device time is
mapped onto the host clock with ``ClockMapper`` when arrival times are given. Without a time column, the lines of
one chunk are spread evenly since the previous chunk's arrival, or, with ``rate_hz``, stamped from the line count
and mapped like device time.

Each ``feed`` returns at most one block.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import deque
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

from repsense.errors import ConfigError
from repsense.firmware_bridge.framing import ClockMapper
from repsense.samples import MAX_ABS_ACC_G, MAX_ABS_GYRO_DPS, STANDARD_GRAVITY_M_S2, SampleBlock


class AccUnit(StrEnum):
    G = "g"
    M_S2 = "m/s2"


class GyroUnit(StrEnum):
    DPS = "dps"
    RAD_S = "rad/s"


class TimeUnit(StrEnum):
    MS = "ms"
    US = "us"
    S = "s"


_TIME_UNIT_S = {TimeUnit.MS: 1e-3, TimeUnit.US: 1e-6, TimeUnit.S: 1.0}
_ACC_TO_G = {AccUnit.G: 1.0, AccUnit.M_S2: 1.0 / STANDARD_GRAVITY_M_S2}
_GYRO_TO_DPS = {GyroUnit.DPS: 1.0, GyroUnit.RAD_S: 180.0 / math.pi}

_ACC = ("ax", "ay", "az")
_GYRO = ("gx", "gy", "gz")
IGNORED = "_"
#: Column layouts by the count of numbers per line, when nothing names them.
_BY_COUNT = {
    7: ("t", *_ACC, *_GYRO),
    4: ("t", *_ACC),
    6: (*_ACC, *_GYRO),
    3: _ACC,
}

#: Header names (lower case, letters and digits only) -> column, and the time unit a name implies.
_ALIASES: dict[str, tuple[str, TimeUnit | None]] = {
    **{name: ("t", None) for name in ("t", "time", "timestamp", "ts", "elapsed")},
    **{name: ("t", TimeUnit.MS) for name in ("ms", "millis", "tms", "timems", "timestampms")},
    **{name: ("t", TimeUnit.US) for name in ("us", "micros", "tus", "timeus", "timestampus")},
    **{name: ("t", TimeUnit.S) for name in ("s", "sec", "seconds", "timesec", "times")},
    **{
        f"{prefix}{axis}": (f"a{axis}", None)
        for axis in "xyz"
        for prefix in ("a", "acc", "accel", "acceleration", "ac")
    },
    **{f"{prefix}{axis}": (f"g{axis}", None) for axis in "xyz" for prefix in ("g", "gyr", "gyro", "gy", "w")},
    IGNORED: (IGNORED, None),
}

#: Lines longer than this are garbage (a lost newline), not data.
MAX_LINE_CHARS = 512
#: Undecided lines kept while waiting for the layout; older ones are dropped and counted.
MAX_PENDING_LINES = 200
_RESTART_LINES = 3
#: A device time further ahead of the last line than this many usual steps (and ``_MIN_JUMP_S``) waits for the
#: next line to confirm it; before any step is known, ``_FIRST_JUMP_S`` is the bound.
_JUMP_STEPS = 5.0
_MIN_JUMP_S = 0.02
_FIRST_JUMP_S = 1.0
#: Lines that must follow on from a jump (the jump's own line included) before it is taken as real.
_CONFIRM_LINES = 2
#: Recent steps whose median is the usual step.
_STEP_HISTORY = 15
#: Fields are separated by a comma, semicolon or tab (with any spaces around it), or by spaces alone.
_SPLIT = re.compile(r"\s*[,;\t]\s*|\s+")
_U32 = float(1 << 32)
_QUARTER_RANGE = float(1 << 30)
#: Spacing assumed for host-stamped lines when nothing better is known: the first chunk, or no arrival times
#: and no ``rate_hz``.
_FIRST_CHUNK_PERIOD_S = 0.01


def _canonical(name: str) -> tuple[str, TimeUnit | None] | None:
    key = re.sub(r"[^a-z0-9_]", "", name.strip().lower())
    key = key if key == IGNORED else key.replace("_", "")
    return _ALIASES.get(key)


def _parse_columns(columns: str) -> tuple[tuple[str, ...], TimeUnit | None]:
    names: list[str] = []
    hint: TimeUnit | None = None
    for token in columns.split(","):
        canonical = _canonical(token)
        if canonical is None:
            raise ConfigError(f"unknown column {token.strip()!r} in {columns!r}")
        names.append(canonical[0])
        hint = hint or canonical[1]
    problem = _columns_problem(tuple(names))
    if problem is not None:
        raise ConfigError(f"columns {columns!r}: {problem}")
    return tuple(names), hint


def _columns_problem(names: tuple[str, ...]) -> str | None:
    real = [n for n in names if n != IGNORED]
    if len(real) != len(set(real)) or not set(_ACC) <= set(real):
        return "must name ax, ay, az, once each"
    if 0 < len(set(_GYRO) & set(real)) < 3:
        return "must name all of gx, gy, gz or none"
    return None


@dataclass(frozen=True, slots=True)
class TextLayout:
    """What the decoder reads from each line. ``time_unit`` None: no time column, host time is used."""

    columns: tuple[str, ...]
    time_unit: TimeUnit | None
    acc_unit: AccUnit
    gyro_unit: GyroUnit | None
    notes: tuple[str, ...] = ()

    def __str__(self) -> str:
        time = f"time in {self.time_unit}" if self.time_unit else "host time"
        gyro = f", gyro in {self.gyro_unit}" if self.gyro_unit else ", no gyro"
        notes = f" ({'; '.join(self.notes)})" if self.notes else ""
        return f"columns {','.join(self.columns)}: {time}, acc in {self.acc_unit}{gyro}{notes}"


@dataclass(slots=True)
class TextStats:
    lines_ok: int = 0
    malformed: int = 0
    headers: int = 0
    time_backwards: int = 0
    restarts: int = 0
    undecided: int = 0
    bytes_in: int = 0
    time_jumps: int = 0  # lines whose time jumped away from the lines around them: corrupted


@dataclass(frozen=True, slots=True)
class _Timed:
    """A numeric line with its unwrapped device time, and the unwrapping state it implies."""

    row: tuple[float, ...]
    arrival_s: float | None
    dev_s: float
    raw: float
    wraps: int


@dataclass(slots=True)
class _Pending:
    values: list[tuple[float, ...]] = field(default_factory=list)
    arrivals: list[float | None] = field(default_factory=list)


class TextLineDecoder:
    """CSV lines in, ``SampleBlock`` out. Units and columns not given are detected (see the module docstring)."""

    def __init__(
        self,
        columns: str | None = None,
        acc_unit: str | None = None,
        gyro_unit: str | None = None,
        time_unit: str | None = None,
        *,
        rate_hz: float | None = None,
        agree_lines: int = 5,
        clock: ClockMapper | None = None,
    ) -> None:
        try:
            self._acc_unit = None if acc_unit is None else AccUnit(acc_unit)
            self._gyro_unit = None if gyro_unit is None else GyroUnit(gyro_unit)
            self._time_unit = None if time_unit is None else TimeUnit(time_unit)
        except ValueError as exc:
            raise ConfigError(f"text line decoder: {exc}") from None
        self._user_columns: tuple[str, ...] | None = None
        self._user_time_hint: TimeUnit | None = None
        if columns is not None:
            self._user_columns, self._user_time_hint = _parse_columns(columns)
        if rate_hz is not None and not rate_hz > 0:
            raise ConfigError(f"text line decoder: rate_hz must be positive, got {rate_hz}")
        if agree_lines < 1:
            raise ConfigError("text line decoder: agree_lines must be at least 1")
        self.rate_hz = rate_hz
        self.agree_lines = agree_lines
        self._clock_settings = clock
        self.reset()

    def reset(self) -> None:
        self.stats = TextStats()
        self.layout: TextLayout | None = self._explicit_layout()
        self.clock = ClockMapper() if self._clock_settings is None else self._clock_settings
        self.clock.reset()
        self._partial = bytearray()
        self._overlong = False
        self._header: tuple[tuple[str, ...], TimeUnit | None] | None = None
        self._pending = _Pending()
        self._wraps = 0
        self._last_raw_t: float | None = None
        self._origin_raw_t = 0.0
        self._last_dev_s: float | None = None
        self._last_step_s = 0.0
        self._backwards: list[float] = []
        self._steps: deque[float] = deque(maxlen=_STEP_HISTORY)
        self._held: list[_Timed] = []
        # The device time before the last confirmed jump, until a line follows on from the jump: lines behind the
        # jump but after this are the old timeline going on (the jump's lines were corrupted alike), not a restart.
        self._before_jump_s: float | None = None
        self._line_index = 0
        self._last_arrival_s: float | None = None
        self._last_t_s: float | None = None
        self._feed_arrival_s: float | None = None

    def _explicit_layout(self) -> TextLayout | None:
        """The layout when the caller named the columns and every unit they need: nothing to detect."""
        columns = self._user_columns
        if columns is None or self._acc_unit is None:
            return None
        time_unit = self._time_unit or self._user_time_hint
        if "t" in columns and time_unit is None:
            return None
        if "gx" in columns and self._gyro_unit is None:
            return None
        gyro_unit = self._gyro_unit if "gx" in columns else None
        return TextLayout(columns, time_unit if "t" in columns else None, self._acc_unit, gyro_unit, ("as given",))

    # -- bytes to lines ---------------------------------------------------------------------------------------

    def feed(self, data: bytes, arrival_s: float | None = None) -> list[SampleBlock]:
        data = bytes(data)
        self.stats.bytes_in += len(data)
        self._feed_arrival_s = arrival_s
        rows: list[tuple[float, ...]] = []
        arrivals: list[float | None] = []
        for piece in re.split(rb"([\r\n])", data):
            if piece in (b"\r", b"\n"):
                if not self._overlong:
                    self._on_line(bytes(self._partial), arrival_s, rows, arrivals)
                self._partial.clear()
                self._overlong = False
            elif piece and not self._overlong:
                self._partial += piece
                if len(self._partial) > MAX_LINE_CHARS:
                    self.stats.malformed += 1
                    self._partial.clear()
                    self._overlong = True
        return self._emit(rows, arrivals)

    def flush(self) -> list[SampleBlock]:
        """End of stream: decode an unterminated last line. Lines still waiting for a layout are counted."""
        rows: list[tuple[float, ...]] = []
        arrivals: list[float | None] = []
        if self._partial and not self._overlong:
            self._on_line(bytes(self._partial), self._feed_arrival_s, rows, arrivals)
        self._partial.clear()
        self.stats.undecided += len(self._pending.values)
        self._pending = _Pending()
        blocks = self._emit(rows, arrivals)
        # A jump that no later line confirms cannot be told from a corrupted time.
        self.stats.time_jumps += len(self._held)
        self._held = []
        return blocks

    def _on_line(
        self, raw: bytes, arrival_s: float | None, rows: list[tuple[float, ...]], arrivals: list[float | None]
    ) -> None:
        # A trailing separator is common (``Serial.print(x); Serial.print(",")`` in a loop); an empty field is not.
        line = raw.decode("utf-8", errors="replace").strip(" ,;\t")
        if not line:
            return
        tokens = _SPLIT.split(line)
        values: list[float] = []
        for token in tokens:
            try:
                value = float(token)
            except ValueError:
                break
            if not math.isfinite(value):
                break
            values.append(value)
        if len(values) != len(tokens):
            self._on_text(tokens)
            return
        if self.layout is None:
            self._pending.values.append(tuple(values))
            self._pending.arrivals.append(arrival_s)
            self._try_decide()
            if self.layout is None:
                if len(self._pending.values) > MAX_PENDING_LINES:
                    del self._pending.values[0], self._pending.arrivals[0]
                    self.stats.undecided += 1
                return
            pending, self._pending = self._pending, _Pending()
            rows.extend(pending.values)
            arrivals.extend(pending.arrivals)
            return
        rows.append(tuple(values))
        arrivals.append(arrival_s)

    def _on_text(self, tokens: list[str]) -> None:
        """A line that is not all numbers: a header when every token names a column, else malformed."""
        canonical = [_canonical(t) for t in tokens]
        names = tuple(c[0] for c in canonical if c is not None)
        hint = next((c[1] for c in canonical if c is not None and c[1] is not None), None)
        if len(names) != len(tokens) or _columns_problem(names) is not None:
            self.stats.malformed += 1
            return
        self.stats.headers += 1
        if self.layout is None and self._user_columns is None:
            self._header = (names, hint)
            # Lines before the header belong to no known layout.
            self.stats.undecided += len(self._pending.values)
            self._pending = _Pending()

    # -- deciding the layout ----------------------------------------------------------------------------------

    def _try_decide(self) -> None:
        pending = self._pending.values
        if len(pending) < self.agree_lines:
            return
        recent = pending[-self.agree_lines :]
        width = len(recent[0])
        if any(len(v) != width for v in recent):
            return
        notes: list[str] = []
        if self._user_columns is not None:
            columns, hint = self._user_columns, self._user_time_hint
        elif self._header is not None:
            columns, hint = self._header
            notes.append("columns from header")
        elif width in _BY_COUNT:
            columns, hint = _BY_COUNT[width], None
            notes.append(f"columns from {width} numbers per line")
        else:
            return
        if width != len(columns):
            return
        table = np.array(recent)
        col = {name: table[:, i] for i, name in enumerate(columns) if name != IGNORED}
        time_unit = self._time_unit or hint
        if "t" in col:
            steps = np.diff(col["t"])
            if not np.all(steps > 0):
                return
            if time_unit is None:
                time_unit = _guess_time_unit(col["t"], steps, notes)
        acc_unit = self._acc_unit
        if acc_unit is None:
            acc_unit = _guess_acc_unit(np.stack([col[a] for a in _ACC], axis=1), notes)
            if acc_unit is None:
                return
        gyro_unit = None
        if "gx" in col:
            gyro_unit = self._gyro_unit or _guess_gyro_unit(np.stack([col[g] for g in _GYRO], axis=1), acc_unit, notes)
        self.layout = TextLayout(columns, time_unit if "t" in col else None, acc_unit, gyro_unit, tuple(notes))
        # Lines whose width does not fit the layout never become samples.
        keep = [i for i, v in enumerate(pending) if len(v) == len(columns)]
        self.stats.malformed += len(pending) - len(keep)
        self._pending = _Pending([pending[i] for i in keep], [self._pending.arrivals[i] for i in keep])

    # -- lines to samples -------------------------------------------------------------------------------------

    def _emit(self, rows: list[tuple[float, ...]], arrivals: list[float | None]) -> list[SampleBlock]:
        layout = self.layout
        if not rows or layout is None:
            return []
        index = {name: i for i, name in enumerate(layout.columns)}
        table = np.array([r for r in rows if len(r) == len(layout.columns)], dtype=np.float64).reshape(
            -1, len(layout.columns)
        )
        arrivals = [a for r, a in zip(rows, arrivals, strict=True) if len(r) == len(layout.columns)]
        self.stats.malformed += len(rows) - table.shape[0]
        acc = table[:, [index[a] for a in _ACC]] * _ACC_TO_G[layout.acc_unit]
        gyro = None
        if layout.gyro_unit is not None:
            gyro = table[:, [index[g] for g in _GYRO]] * _GYRO_TO_DPS[layout.gyro_unit]
        physical = np.all(np.abs(acc) <= MAX_ABS_ACC_G, axis=1)
        if gyro is not None:
            physical &= np.all(np.abs(gyro) <= MAX_ABS_GYRO_DPS, axis=1)
        values = acc if gyro is None else np.hstack([acc, gyro])
        times: list[float] = []
        kept: list[np.ndarray] = []
        for i in range(table.shape[0]):
            if not physical[i]:
                self.stats.malformed += 1
                continue
            if layout.time_unit is None:
                times.append(self._host_time(i, arrivals))
                kept.append(values[i])
                continue
            for line in self._sequence(values[i], float(table[i, index["t"]]), layout.time_unit, arrivals[i]):
                if line.arrival_s is not None:
                    self.clock.observe(line.dev_s, line.arrival_s)
                times.append(float(self.clock.map(np.array([line.dev_s]))[0]))
                kept.append(np.asarray(line.row))
        self.stats.lines_ok += len(kept)
        if not kept:
            return []
        out = np.array(kept).reshape(len(kept), -1)
        return [SampleBlock(np.array(times), out[:, :3], None if gyro is None else out[:, 3:])]

    def _unwrap(self, value: float, unit: TimeUnit, after: _Timed | None) -> _Timed:
        """``value`` as device seconds, unwrapped as the line after ``after`` (None: after the last line taken)."""
        wraps, last_raw = (self._wraps, self._last_raw_t) if after is None else (after.wraps, after.raw)
        raw = value
        if unit is not TimeUnit.S and value == int(value):
            raw += wraps * _U32
            if last_raw is not None and 0 < raw + _U32 - last_raw < _QUARTER_RANGE:
                # A u32 counter wrapped (or a signed print went negative): the value after adding 2^32 follows on.
                wraps += 1
                raw += _U32
        if self._last_dev_s is None:
            self._origin_raw_t = raw
        return _Timed((), None, (raw - self._origin_raw_t) * _TIME_UNIT_S[unit], raw, wraps)

    def jump_s(self) -> float:
        """How far ahead of the last line a device time may be before it waits for the next line to confirm it."""
        if not self._steps:
            return _FIRST_JUMP_S
        return max(_MIN_JUMP_S, _JUMP_STEPS * float(np.median(self._steps)))

    def _sequence(self, row: np.ndarray, value: float, unit: TimeUnit, arrival_s: float | None) -> list[_Timed]:
        """The lines to emit now, in order, after the line stamped ``value``: none while a jump waits for a
        confirmation or when the line is dropped, several when a jump is confirmed."""
        values = tuple(float(v) for v in row)
        jump = self.jump_s()
        if self._held:
            candidate = self._unwrap(value, unit, self._held[-1])
            line = _Timed(values, arrival_s, candidate.dev_s, candidate.raw, candidate.wraps)
            # A line before the jump can never follow on from it, so the bound may be as wide as the jump itself:
            # then a stream whose every step is large (a rate not yet known, s read for ms) is not refused.
            jumped_s = self._held[0].dev_s - (self._last_dev_s or 0.0)
            if 0 < line.dev_s - self._held[-1].dev_s <= max(jump, jumped_s):
                self._held.append(line)
                if len(self._held) < _CONFIRM_LINES:
                    return []
                held, self._held = self._held, []
                self._before_jump_s = self._last_dev_s
                return [taken for h in held if (taken := self._take(h)) is not None]
            # It does not follow on from the jump: the jump was a corrupted time.
            self.stats.time_jumps += len(self._held)
            self._held = []
        candidate = self._unwrap(value, unit, None)
        line = _Timed(values, arrival_s, candidate.dev_s, candidate.raw, candidate.wraps)
        if self._last_dev_s is not None and line.dev_s - self._last_dev_s > jump:
            self._held = [line]
            return []
        taken = self._take(line, value, unit)
        return [] if taken is None else [taken]

    def _take(self, line: _Timed, value: float | None = None, unit: TimeUnit | None = None) -> _Timed | None:
        """Commit ``line`` to the device clock, or drop it (None) when its time is not after the last line's.

        ``value`` and ``unit`` (the line as printed) allow a restart to be recognised; lines confirmed after a jump
        follow on by construction and need neither."""
        dev_s = line.dev_s
        if self._last_dev_s is not None and dev_s <= self._last_dev_s:
            far = dev_s < self._last_dev_s - self.jump_s()
            if self._before_jump_s is not None and dev_s > self._before_jump_s:
                far = False  # the timeline from before a jump that was no pause: only dropped, until it catches up
            if far and value is not None:
                self._backwards.append(value)
                del self._backwards[:-_RESTART_LINES]
            else:
                self._backwards.clear()
            recent = self._backwards[-_RESTART_LINES:]
            if (
                value is None
                or unit is None
                or not far
                or len(recent) < _RESTART_LINES
                or not all(a < b for a, b in itertools.pairwise(recent))
            ):
                self.stats.time_backwards += 1
                return None
            # The device restarted: continue the device clock from the last line, one usual step later.
            self.stats.restarts += 1
            scale = _TIME_UNIT_S[unit]
            self._origin_raw_t = value - (self._last_dev_s + max(self._last_step_s, 1e-6)) / scale
            dev_s = (value - self._origin_raw_t) * scale
            line = _Timed(line.row, line.arrival_s, dev_s, value, 0)
            self.clock.restart()
        else:
            self._backwards.clear()
            if value is not None:  # a line of its own follows on: the jump, if any, is behind us
                self._before_jump_s = None
        if self._last_dev_s is not None:
            self._last_step_s = dev_s - self._last_dev_s
            self._steps.append(self._last_step_s)
        self._last_dev_s = dev_s
        self._last_raw_t = line.raw
        self._wraps = line.wraps
        return line

    def _host_time(self, i: int, arrivals: list[float | None]) -> float:
        """Time of a line without a device time: the line count at ``rate_hz``, else spread between arrivals."""
        arrival_s = arrivals[i]
        if self.rate_hz is not None or arrival_s is None:
            period_s = _FIRST_CHUNK_PERIOD_S if self.rate_hz is None else 1.0 / self.rate_hz
            dev_s = self._line_index * period_s
            self._line_index += 1
            if arrival_s is not None:
                self.clock.observe(dev_s, arrival_s)
            return float(self.clock.map(np.array([dev_s]))[0])
        # Lines that arrived together: spread them over the time since the previous chunk arrived.
        group_start = i
        while group_start > 0 and arrivals[group_start - 1] == arrival_s:
            group_start -= 1
        group_end = i
        while group_end + 1 < len(arrivals) and arrivals[group_end + 1] == arrival_s:
            group_end += 1
        size = group_end - group_start + 1
        previous = self._last_arrival_s
        if previous is None or previous >= arrival_s:
            previous = arrival_s - size * _FIRST_CHUNK_PERIOD_S
        t = previous + (arrival_s - previous) * (i - group_start + 1) / size
        if self._last_t_s is not None and t <= self._last_t_s:
            t = self._last_t_s + 1e-6
        self._last_t_s = t
        if i == group_end:
            self._last_arrival_s = arrival_s
        return t


def _guess_time_unit(t: np.ndarray, steps: np.ndarray, notes: list[str]) -> TimeUnit:
    step = float(np.median(steps))
    if not np.all(t == np.round(t)) and step < 1.0:
        unit = TimeUnit.S
    elif step <= 250:
        unit = TimeUnit.MS
    else:
        unit = TimeUnit.US
    notes.append(f"time in {unit} from a median step of {step:g}")
    return unit


def _guess_acc_unit(acc: np.ndarray, notes: list[str]) -> AccUnit | None:
    magnitude = float(np.median(np.linalg.norm(acc, axis=1)))
    if 0.5 <= magnitude <= 2.5:
        unit = AccUnit.G
    elif 4.9 <= magnitude <= 25.0:
        unit = AccUnit.M_S2
    else:
        return None
    notes.append(f"acc in {unit} from a median |a| of {magnitude:.2f}")
    return unit


def _guess_gyro_unit(gyro: np.ndarray, acc_unit: AccUnit, notes: list[str]) -> GyroUnit:
    if float(np.max(np.abs(gyro))) > 40.0:
        notes.append("gyro in dps: values beyond 40")
        return GyroUnit.DPS
    unit = GyroUnit.RAD_S if acc_unit is AccUnit.M_S2 else GyroUnit.DPS
    notes.append(f"gyro in {unit} assumed from acc in {acc_unit}; pass gyro_unit to override")
    return unit
