"""Links: the thin I/O around the decoders, one small interface for every transport.

A ``Link`` turns a transport into an async stream of ``SampleBlock`` and ``LinkEvent`` (connected, lost, resumed).
The consumer never learns which transport runs, in the manner of bleak's backends.

``SerialLink`` reads a serial port (USB CDC, a UART adapter or a pseudo-terminal) on a dedicated thread,
``read(in_waiting or 1)``, and hands each chunk with its arrival time to the asyncio loop through
``loop.call_soon_threadsafe``. Decoding stays on the loop: ``streams.StreamDecoder`` picks ``FrameDecoder`` or
``TextLineDecoder`` by ``--format``, or detects the format (printable lines are CSV; binary ending in 0x00 bytes
is frames), and all that one read decoded goes on as one block. When the port vanishes or errors, the link
reports ``lost``, reopens the path until it works, and reports ``resumed``; each connection gets a fresh decoder,
so a device that restarts its frame sequence on reconnection is simply a new stream. pyserial errors become
``LinkError`` here, where they are raised.

Times: block times are host seconds since the link opened, scaled by ``time_scale`` (see ``SerialLink``).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import AsyncGenerator, Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

import serial

from repsense.errors import LinkError
from repsense.firmware_bridge.framing import ClockMapper
from repsense.firmware_bridge.streams import DecoderCounts, StreamDecoder, TextOptions, WireFormat, merge_blocks
from repsense.samples import SampleBlock

__all__ = ["Link", "LinkEvent", "LinkEventKind", "LinkHealth", "MemoryLink", "SerialLink", "WireFormat"]


class LinkEventKind(StrEnum):
    CONNECTED = "connected"  # the first connection
    LOST = "lost"  # the transport vanished or failed; the link is trying to get it back
    RESUMED = "resumed"  # connected again after a loss


@dataclass(frozen=True, slots=True)
class LinkEvent:
    """Something happened to the transport at ``t_s`` (on the clock of the block times); ``detail`` says what."""

    kind: LinkEventKind
    t_s: float
    detail: str = ""


@dataclass(frozen=True, slots=True)
class LinkHealth:
    """Counters of a link over all its connections.

    ``units_ok`` counts frames (or CSV lines) turned into samples, ``dropped`` frames the sequence counter shows
    missing, ``crc_errors`` frames that failed their CRC, and ``bad`` everything else thrown away (resyncs,
    malformed frames or lines, frames out of order or before any CONFIG).
    """

    connected: bool = False
    wire_format: str = ""
    samples: int = 0
    units_ok: int = 0
    dropped: int = 0
    crc_errors: int = 0
    bad: int = 0
    bytes_in: int = 0
    reconnects: int = 0


class Link(Protocol):
    """A sensor transport. ``blocks()`` is an async generator (declared without ``async`` here, as its type is the
    generator's; a generator rather than any async iterator, so that ``aclosing`` can close it).

    Consume it inside ``contextlib.aclosing`` so the transport closes when the loop breaks.
    ``last_arrival_wall_s`` is when (``time.monotonic``) the bytes of the last block yielded arrived, if known.
    """

    last_arrival_wall_s: float | None

    def blocks(self) -> AsyncGenerator[SampleBlock | LinkEvent, None]: ...

    def health(self) -> LinkHealth: ...


# --- serial ports --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Bytes:
    data: bytes
    wall_s: float


@dataclass(frozen=True, slots=True)
class _Gone:
    reason: str


def _reason(exc: BaseException) -> str:
    """A short reason: the operating system's words when there are some, not pyserial's restatement of them."""
    chain: list[BaseException] = []
    cause: BaseException | None = exc
    while cause is not None and cause not in chain:
        chain.append(cause)
        cause = cause.__cause__ or cause.__context__
    for inner in reversed(chain):
        if isinstance(inner, OSError) and inner.strerror and not isinstance(inner, serial.SerialException):
            return inner.strerror
    text = str(exc)
    if "returned no data" in text:  # pyserial's words for a read that found the other end gone
        return "the device disconnected"
    return text.split(": ", 1)[-1] if text.startswith("[Errno") else text or type(exc).__name__


class _PortReader(threading.Thread):
    """Reads a port until it fails or is stopped, posting ``_Bytes`` then ``_Gone`` to the loop's queue."""

    def __init__(
        self,
        port: serial.Serial,
        loop: asyncio.AbstractEventLoop,
        queue: asyncio.Queue[_Bytes | _Gone],
        wall: Callable[[], float],
    ) -> None:
        super().__init__(name=f"repsense-read-{port.port}", daemon=True)
        self._port = port
        self._loop = loop
        self._queue = queue
        self._wall = wall
        self._stopping = threading.Event()

    def _post(self, item: _Bytes | _Gone) -> bool:
        try:
            self._loop.call_soon_threadsafe(self._queue.put_nowait, item)
        except RuntimeError:  # the loop is closed: nobody is listening any more
            return False
        return True

    def run(self) -> None:
        port = self._port
        try:
            while not self._stopping.is_set():
                data = port.read(port.in_waiting or 1)
                waiting = port.in_waiting  # the rest of a frame whose first byte woke us: one hand-over, not two
                if waiting:
                    data += port.read(waiting)
                if data and not self._post(_Bytes(bytes(data), self._wall())):
                    return
        except (serial.SerialException, OSError) as exc:
            if not self._stopping.is_set():
                self._post(_Gone(_reason(exc)))

    def stop(self) -> None:
        self._stopping.set()
        with contextlib.suppress(serial.SerialException, OSError, AttributeError):  # closed already
            self._port.cancel_read()
        self.join(timeout=2.0)


class SerialLink:
    """A sensor on a serial port (or a pseudo-terminal), with reconnection.

    The first open failing raises ``LinkError`` (a wrong path should say so at once). After that, a lost port is
    reopened every ``retry_s`` until it works; the caller decides when to give up by closing the generator.

    ``time_scale``: how many times faster than the host clock the device clock runs. A real sensor runs at 1. An
    emulator playing a recording X times faster runs at X: arrival times are then scaled by X, so they keep pace
    with the device clock, and the clock mapper holds its offset still instead of following drift, because the
    arrival jitter, magnified X times, would otherwise bend the time line.
    """

    def __init__(
        self,
        port: str,
        baud: int = 115_200,
        wire_format: WireFormat = WireFormat.AUTO,
        *,
        time_scale: float = 1.0,
        retry_s: float = 0.1,
        wall: Callable[[], float] = time.monotonic,
        text: TextOptions | None = None,
    ) -> None:
        if not time_scale > 0:
            raise LinkError(f"time scale must be positive, got {time_scale}")
        self.port = port
        self.baud = baud
        self.wire_format = wire_format
        self.text = text
        self.time_scale = time_scale
        self.retry_s = retry_s
        self._wall = wall
        self.origin_wall_s: float | None = None
        #: Wall time (``wall`` clock) when the earliest bytes of the last yielded block arrived.
        self.last_arrival_wall_s: float | None = None
        self._decoder: StreamDecoder | None = None
        self._totals = DecoderCounts()
        self._samples = 0
        self._reconnects = 0
        self._connected = False
        self._format_seen = "" if wire_format is WireFormat.AUTO else str(wire_format)

    def link_time(self, wall_s: float) -> float:
        """The block-time clock at wall time ``wall_s``."""
        origin = self.origin_wall_s if self.origin_wall_s is not None else wall_s
        return (wall_s - origin) * self.time_scale

    def _mapper(self) -> ClockMapper:
        if self.time_scale == 1.0:
            return ClockMapper()
        return ClockMapper(max_slew=1e-9, max_catchup=1e-9)

    def health(self) -> LinkHealth:
        counts = DecoderCounts()
        counts.add(self._totals)
        if self._decoder is not None:
            counts.add(self._decoder.counts())
            if self._decoder.wire_format is not WireFormat.AUTO:
                self._format_seen = str(self._decoder.wire_format)
        return LinkHealth(
            self._connected,
            self._format_seen,
            self._samples,
            counts.units_ok,
            counts.dropped,
            counts.crc_errors,
            counts.bad,
            counts.bytes_in,
            self._reconnects,
        )

    def _open(self) -> serial.Serial:
        try:
            return serial.Serial(self.port, self.baud, timeout=None, exclusive=True)
        except (serial.SerialException, OSError, ValueError) as exc:
            raise LinkError(f"cannot open {self.port}: {_reason(exc)}") from exc

    async def _reopen(self) -> serial.Serial:
        while True:
            await asyncio.sleep(self.retry_s)
            try:
                return self._open()
            except LinkError:
                continue

    async def blocks(self) -> AsyncGenerator[SampleBlock | LinkEvent, None]:
        loop = asyncio.get_running_loop()
        port = self._open()
        if self.origin_wall_s is None:
            self.origin_wall_s = self._wall()
        kind = LinkEventKind.CONNECTED
        while True:
            queue: asyncio.Queue[_Bytes | _Gone] = asyncio.Queue()
            self._decoder = StreamDecoder(self.wire_format, self._mapper, self.text)
            reader = _PortReader(port, loop, queue, self._wall)
            reader.start()
            self._connected = True
            gone: str | None = None
            try:
                yield LinkEvent(kind, self.link_time(self._wall()), self.port)
                while gone is None:
                    batch = [await queue.get()]
                    while not queue.empty():
                        batch.append(queue.get_nowait())
                    decoded: list[SampleBlock] = []
                    first_wall: float | None = None
                    for item in batch:
                        if isinstance(item, _Gone):
                            gone = item.reason
                            break
                        first_wall = item.wall_s if first_wall is None else first_wall
                        decoded.extend(self._decoder.feed(item.data, self.link_time(item.wall_s)))
                    for block in merge_blocks(decoded):
                        self._samples += len(block)
                        self.last_arrival_wall_s = first_wall
                        yield block
            finally:
                reader.stop()
                port.close()
                self._connected = False
                self._totals.add(self._decoder.counts())
                if self._decoder.wire_format is not WireFormat.AUTO:
                    self._format_seen = str(self._decoder.wire_format)
                self._decoder = None
            yield LinkEvent(LinkEventKind.LOST, self.link_time(self._wall()), gone or "")
            port = await self._reopen()
            self._reconnects += 1
            kind = LinkEventKind.RESUMED


# --- in memory -----------------------------------------------------------------------------------------------------


@dataclass
class MemoryLink:
    """A link that yields the given items (blocks and events), optionally ``pause_s`` apart. For tests and demos."""

    items: Iterable[SampleBlock | LinkEvent]
    pause_s: float = 0.0
    last_arrival_wall_s: float | None = field(default=None, init=False)
    _samples: int = field(default=0, init=False)

    async def blocks(self) -> AsyncGenerator[SampleBlock | LinkEvent, None]:
        for item in self.items:
            if self.pause_s:
                await asyncio.sleep(self.pause_s)
            if isinstance(item, SampleBlock):
                self._samples += len(item)
                self.last_arrival_wall_s = time.monotonic()
            yield item

    def health(self) -> LinkHealth:
        return LinkHealth(connected=True, wire_format="memory", samples=self._samples)
