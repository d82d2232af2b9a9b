"""Where the emulator's bytes go, and when: a pseudo-terminal or a real port, paced by the recording's clock.

``play`` takes a ``SensorEmulator`` (sans-I/O, in ``emulator``) and sends its chunks in real time, or ``speed``
times faster, to a ``Device``. ``PtyDevice`` is the sensor's end of a pseudo-terminal whose other end
``repsense live --port`` opens; with a ``link`` path it keeps a symlink to the current one, like
``/dev/serial/by-id/...``, so an unplug (closing the master) and replug (a new pty) look as they would with USB.
"""

from __future__ import annotations

import errno
import os
import select
import time
import tty
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import serial

from repsense.errors import ConfigError, LinkError
from repsense.firmware_bridge.emulator import Disconnect, EmulatorStats, SensorEmulator


class Device(Protocol):
    #: A stable path that always leads to the current device (a symlink), or None.
    link: Path | None

    def open(self) -> str: ...  # returns the path a reader opens
    def reader_attached(self) -> bool: ...
    def write(self, data: bytes) -> bool: ...  # False: the reader went away, the bytes are lost
    def close(self) -> None: ...


class PtyDevice:
    """The sensor's end of a pseudo-terminal. ``link``: a symlink kept pointing at the current slave.

    The emulator holds only the master, so it can tell whether a reader has the slave open (no POLLHUP). A pty
    never drops bytes (it blocks the writer when about 20 KB wait), so writes wait for room, up to ``stall_s``.
    Closing the master is what an unplugged cable looks like to the reader: its next read fails.
    """

    def __init__(self, link: Path | None = None, stall_s: float = 2.0) -> None:
        self.link = link
        self.stall_s = stall_s
        self._master: int | None = None

    def open(self) -> str:
        master, slave = os.openpty()
        tty.setraw(slave)  # no echo, no CR/LF translation, even for a reader that sets nothing
        name = os.ttyname(slave)
        os.close(slave)
        os.set_blocking(master, False)
        self._master = master
        if self.link is not None:
            tmp = self.link.with_name(self.link.name + ".new")
            tmp.unlink(missing_ok=True)
            tmp.symlink_to(name)
            os.replace(tmp, self.link)
        return name

    def _poll(self, events: int, timeout_ms: int) -> int:
        if self._master is None:
            return select.POLLHUP
        poller = select.poll()
        poller.register(self._master, events)
        ready = poller.poll(timeout_ms)
        return ready[0][1] if ready else 0

    def reader_attached(self) -> bool:
        return not self._poll(select.POLLOUT, 0) & select.POLLHUP

    def write(self, data: bytes) -> bool:
        view = memoryview(data)
        deadline = time.monotonic() + self.stall_s
        while view:
            ready = self._poll(select.POLLOUT, 50)
            if ready & (select.POLLHUP | select.POLLERR | select.POLLNVAL) or self._master is None:
                return False
            if ready & select.POLLOUT:
                try:
                    view = view[os.write(self._master, view) :]
                except BlockingIOError:
                    pass
                except OSError as exc:
                    if exc.errno in (errno.EIO, errno.EBADF):
                        return False
                    raise
            elif time.monotonic() > deadline:
                return False
        return True

    def close(self) -> None:
        if self.link is not None:
            self.link.unlink(missing_ok=True)
        if self._master is not None:
            os.close(self._master)
            self._master = None


class SerialDevice:
    """A real serial port (a null-modem cable, a USB-UART loopback). Someone is always taken to be listening."""

    link: Path | None = None

    def __init__(self, port: str, baud: int = 115_200) -> None:
        self.port = port
        self.baud = baud
        self._serial: serial.Serial | None = None

    def open(self) -> str:
        try:
            self._serial = serial.Serial(self.port, self.baud, write_timeout=2.0)
        except (serial.SerialException, OSError, ValueError) as exc:
            raise LinkError(f"cannot open {self.port}: {exc}") from exc
        return self.port

    def reader_attached(self) -> bool:
        return self._serial is not None

    def write(self, data: bytes) -> bool:
        if self._serial is None:
            return False
        try:
            self._serial.write(data)
        except (serial.SerialException, OSError) as exc:
            raise LinkError(f"{self.port}: write failed: {exc}") from exc
        return True

    def close(self) -> None:
        if self._serial is not None:
            self._serial.close()
            self._serial = None


def play(
    emulator: SensorEmulator,
    device: Device,
    *,
    speed: float = 1.0,
    wait_for_reader: bool = True,
    grace_s: float = 0.3,
    linger_s: float = 0.5,
    log: Callable[[str], None] = print,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> EmulatorStats:
    """Send the emulator's stream to ``device``, paced by the recording's clock over ``speed``.

    ``log`` gets ``device: PATH`` first (and ``link: PATH`` for a device with a stable link), then progress lines.
    With ``wait_for_reader`` the clock starts once a reader has the device open (plus ``grace_s``, since opening a
    port flushes what came before). Whenever a reader attaches, a CONFIG (or the CSV header) follows each chunk for
    ``grace_s``, for the same reason. While nobody listens, chunks are lost, as with a sensor streaming into an
    unplugged cable. At the end the device stays open for ``linger_s``, so the reader gets the last bytes.
    """
    if not speed > 0:
        raise ConfigError("--speed must be positive")
    stats = emulator.stats
    log(f"device: {device.open()}")
    if device.link is not None:
        log(f"link: {device.link}")
    try:
        if wait_for_reader:
            while not device.reader_attached():
                sleep(0.02)
            sleep(grace_s)
        log(
            f"streaming {len(emulator.samples)} samples ({emulator.duration_s:.1f} s at {emulator.rate_hz:g} Hz) "
            f"as {emulator.wire_format}, {speed:g}x"
        )
        start = clock()
        attached = device.reader_attached()
        attached_at = clock()
        pending_hello = emulator.hello()
        for item in emulator.chunks():
            due = start + item.at_s / speed
            wait = due - clock()
            if wait > 0:
                sleep(wait)
            if isinstance(item, Disconnect):
                device.close()
                log(f"disconnected at {item.at_s:.2f} s for {item.duration_s:.2f} s")
                wait = start + (item.at_s + item.duration_s) / speed - clock()
                if wait > 0:
                    sleep(wait)
                log(f"reconnected: device {device.open()}")
                pending_hello = emulator.hello()
                attached = False
                continue
            now_attached = device.reader_attached()
            if now_attached and not attached:
                attached_at = clock()
            attached = now_attached
            if not attached:
                stats.samples_lost += item.samples
                stats.samples_sent -= item.samples
                continue
            data = pending_hello + item.data
            pending_hello = b""
            if clock() - attached_at < grace_s:
                # After the chunk, so the sequence numbers stay in order.
                data += emulator.config_frame()
            if device.write(data):
                stats.bytes_sent += len(data)
            else:
                stats.samples_lost += item.samples
                stats.samples_sent -= item.samples
        if device.reader_attached():
            sleep(linger_s)  # closing the master discards what the reader has not read yet
        log(
            f"done: {stats.samples_sent} samples sent, {stats.samples_lost} lost, {stats.frames_dropped} dropped, "
            f"{stats.bytes_corrupted} bytes corrupted, {stats.disconnects} disconnects"
        )
    finally:
        device.close()
    return stats
