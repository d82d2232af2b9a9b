"""One connection's byte stream to sample blocks, whatever the wire format: sans-I/O, shared by every link.

``StreamDecoder`` runs ``FrameDecoder`` or ``TextLineDecoder`` as ``--format`` says, or detects the format from the
first bytes: CSV lines are printable text, our frames are mostly not and end in 0x00. ``merge_blocks`` joins the
blocks of one read so the pipeline runs once per read rather than once per frame.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from repsense.errors import RecordingError
from repsense.firmware_bridge.framing import MAX_ENCODED_FRAME, ClockMapper, FrameDecoder
from repsense.firmware_bridge.textlines import TextLineDecoder
from repsense.samples import SampleBlock


class WireFormat(StrEnum):
    FRAME = "frame"  # our firmware's COBS frames (docs/protocol.md)
    CSV = "csv"  # text lines such as ``ms,ax,ay,az,gx,gy,gz``
    AUTO = "auto"  # decide from the first bytes


@dataclass(slots=True)
class DecoderCounts:
    units_ok: int = 0
    dropped: int = 0
    crc_errors: int = 0
    bad: int = 0
    bytes_in: int = 0

    def add(self, other: DecoderCounts) -> None:
        self.units_ok += other.units_ok
        self.dropped += other.dropped
        self.crc_errors += other.crc_errors
        self.bad += other.bad
        self.bytes_in += other.bytes_in


#: Bytes seen before the format is decided, and the share of them that must be printable for text.
_DETECT_BYTES = 128
_TEXT_PRINTABLE = 0.95
_TEXT_MIN_LINES = 3


def _detect(seen: bytes) -> WireFormat | None:
    """Frames or CSV, or None to wait for more bytes. CSV lines are printable text; frames are mostly not."""
    if len(seen) < _DETECT_BYTES:
        return None
    printable = sum(1 for b in seen if 32 <= b < 127 or b in (9, 10, 13))
    if printable >= _TEXT_PRINTABLE * len(seen) and seen.count(b"\n") + seen.count(b"\r") >= _TEXT_MIN_LINES:
        return WireFormat.CSV
    if b"\x00" in seen or len(seen) > MAX_ENCODED_FRAME:
        return WireFormat.FRAME
    return None


@dataclass(frozen=True, slots=True)
class TextOptions:
    """How CSV lines are read (``TextLineDecoder``): a column map such as ``"t,ax,ay,az,gx,gy,gz"`` and units;
    ``None`` for each means auto-detect."""

    columns: str | None = None
    acc_unit: str | None = None
    gyro_unit: str | None = None
    time_unit: str | None = None


class StreamDecoder:
    """One connection's bytes in, blocks out: frames, CSV, or whichever the first bytes show. No I/O.

    With ``AUTO``, the first bytes wait until the format is clear: CSV when they are (nearly all) printable lines,
    frames when they are not and a 0x00 delimiter has come, or after more bytes than any frame.
    ``clock`` makes the clock mapper each decoder uses.
    """

    def __init__(
        self,
        wire_format: WireFormat,
        clock: Callable[[], ClockMapper] = ClockMapper,
        text: TextOptions | None = None,
    ) -> None:
        self._clock = clock
        self._text = text or TextOptions()
        self._decoder: FrameDecoder | TextLineDecoder | None = None
        self._waiting: list[tuple[bytes, float | None]] = []
        self.wire_format = wire_format
        if wire_format is not WireFormat.AUTO:
            self._choose(wire_format)

    def _choose(self, wire_format: WireFormat) -> None:
        self.wire_format = wire_format
        if wire_format is WireFormat.FRAME:
            self._decoder = FrameDecoder(clock=self._clock())
        else:
            t = self._text
            self._decoder = TextLineDecoder(t.columns, t.acc_unit, t.gyro_unit, t.time_unit, clock=self._clock())

    def feed(self, data: bytes, arrival_s: float | None = None) -> list[SampleBlock]:
        if self._decoder is None:
            self._waiting.append((bytes(data), arrival_s))
            detected = _detect(b"".join(chunk for chunk, _ in self._waiting))
            if detected is None:
                return []
            self._choose(detected)
            waiting, self._waiting = self._waiting, []
            return [block for chunk, arrival in waiting for block in self.feed(chunk, arrival)]
        return self._decoder.feed(data, arrival_s)

    def counts(self) -> DecoderCounts:
        decoder = self._decoder
        if isinstance(decoder, FrameDecoder):
            s = decoder.stats
            bad = s.resyncs + s.malformed + s.no_config + s.out_of_order
            return DecoderCounts(s.frames_ok, s.frames_lost, s.crc_errors, bad, s.bytes_in)
        if isinstance(decoder, TextLineDecoder):
            t = decoder.stats
            return DecoderCounts(
                t.lines_ok, 0, 0, t.malformed + t.time_backwards + t.time_jumps + t.undecided, t.bytes_in
            )
        return DecoderCounts(bytes_in=sum(len(chunk) for chunk, _ in self._waiting))


def merge_blocks(blocks: list[SampleBlock]) -> list[SampleBlock]:
    """Join consecutive blocks that can be joined (same gyro, times increasing) so the pipeline runs fewer times."""
    out: list[SampleBlock] = []
    run: list[SampleBlock] = []
    for block in blocks:
        if len(block) == 0:
            continue
        if run and (block.has_gyro != run[-1].has_gyro or block.t_s[0] <= run[-1].t_s[-1]):
            out.append(_join(run))
            run = []
        run.append(block)
    if run:
        out.append(_join(run))
    return out


def _join(run: list[SampleBlock]) -> SampleBlock:
    try:
        return run[0] if len(run) == 1 else SampleBlock.concat(run)
    except RecordingError:  # cannot happen after the checks in merge_blocks; keep the first block rather than fail
        return run[0]
