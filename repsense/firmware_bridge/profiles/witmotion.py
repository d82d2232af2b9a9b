"""WitMotion WT901BLECL / BWT901BLE5.0 over BLE: UUIDs, commands and a sans-I/O stream decoder.

Theory of operation
-------------------
The sensor notifies on ``NOTIFY_UUID`` a byte stream of 20-byte packets::

    55 61 | ax ay az | wx wy wz | roll pitch yaw        (nine int16, little-endian)

acc = v / 32768 * 16 g, gyro = v / 32768 * 2000 deg/s; the angles are ignored (the pipeline estimates its own
orientation). A register read (``FF AA 27 reg 00``) is answered by a 20-byte ``55 71`` packet, which is skipped.
One notification may carry several packets, or end in the middle of one, so ``WitMotionDecoder`` treats its input
as a stream: it keeps a partial packet for the next ``feed`` and, on anything that is not a packet header, skips
to the next ``55 61`` / ``55 71`` (``resyncs``, ``junk_bytes``).

The packets carry no checksum and no timestamp. A corrupted byte inside a packet cannot be detected, only a broken
header; junk that itself holds ``55 61`` is read as a packet. Times come from the arrival of the notifications
(``ArrivalClock``): even spacing at the measured rate (``measured_rate_hz``), anchored to the arrivals.

Every packet decoded in one ``feed`` becomes one ``SampleBlock``; the samples (not the blocks) are the same
however the stream is cut.

Facts: the fact sheet ``/work/shared/PROTOCOLS.md`` (WitMotion section).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from repsense.errors import ConfigError
from repsense.firmware_bridge.profiles import ArrivalClock
from repsense.samples import SampleBlock

# The UUIDs end in ...00805F9A34FB (9A, not the Bluetooth base's 9B): they are vendor UUIDs.
SERVICE_UUID = "0000ffe5-0000-1000-8000-00805f9a34fb"
NOTIFY_UUID = "0000ffe4-0000-1000-8000-00805f9a34fb"
WRITE_UUID = "0000ffe9-0000-1000-8000-00805f9a34fb"

PACKET_LEN = 20
HEADER = 0x55
DATA_TYPE = 0x61
REPLY_TYPE = 0x71  # answer to a register read
_DATA_HEADER = bytes((HEADER, DATA_TYPE))

ACC_G_PER_LSB = 16.0 / 32768
GYRO_DPS_PER_LSB = 2000.0 / 32768

#: Output-rate codes for register 0x03. 200 Hz is 0x0A or 0x0B depending on the source, so it is left out:
#: ask for 100 Hz or less and read ``measured_rate_hz``.
RATE_CODES = {10: 0x06, 20: 0x07, 50: 0x08, 100: 0x09}
DEFAULT_RATE_HZ = 10

_REG_SAVE = 0x00
_REG_RATE = 0x03
_REG_READ = 0x27
_REG_UNLOCK = 0x69


def command(register: int, value: int) -> bytes:
    """A 5-byte write command: ``FF AA reg lo hi``."""
    return bytes((0xFF, 0xAA, register & 0xFF, value & 0xFF, (value >> 8) & 0xFF))


def unlock_command() -> bytes:
    """``FF AA 69 88 B5``: unlocks configuration writes for about 10 s."""
    return command(_REG_UNLOCK, 0xB588)


def save_command() -> bytes:
    """``FF AA 00 00 00``: stores the configuration."""
    return command(_REG_SAVE, 0)


def rate_command(hz: int) -> bytes:
    """``FF AA 03 code 00`` for an output rate of 10, 20, 50 or 100 Hz. Send ``unlock_command()`` first."""
    if hz not in RATE_CODES:
        raise ConfigError(f"WitMotion output rate {hz} Hz: choose one of {sorted(RATE_CODES)}")
    return command(_REG_RATE, RATE_CODES[hz])


def read_register_command(register: int) -> bytes:
    """``FF AA 27 reg 00``: the sensor answers with a ``55 71`` packet."""
    return command(_REG_READ, register)


def rate_commands(hz: int) -> list[bytes]:
    """The writes that set the output rate and keep it: unlock, rate, save."""
    return [unlock_command(), rate_command(hz), save_command()]


def encode_packet(
    acc_counts: tuple[int, int, int],
    gyro_counts: tuple[int, int, int],
    angle_counts: tuple[int, int, int] = (0, 0, 0),
) -> bytes:
    """One ``55 61`` data packet from int16 counts (for tests and the emulator)."""
    values = np.array([*acc_counts, *gyro_counts, *angle_counts], dtype="<i2")
    return _DATA_HEADER + values.tobytes()


@dataclass(slots=True)
class WitMotionStats:
    """Counters of a ``WitMotionDecoder``."""

    frames_ok: int = 0
    replies: int = 0  # ``55 71`` register replies, skipped
    resyncs: int = 0  # runs of bytes skipped to find a header
    junk_bytes: int = 0
    bytes_in: int = 0


class WitMotionDecoder:
    """Notification bytes in, ``SampleBlock`` (acc and gyro) out. No I/O; never raises on input.

    ``nominal_rate_hz`` is the output rate asked for; the times follow the rate measured from ``arrival_s``.
    """

    def __init__(self, nominal_rate_hz: float = DEFAULT_RATE_HZ) -> None:
        self.nominal_rate_hz = nominal_rate_hz
        self.clock = ArrivalClock(nominal_rate_hz)
        self.reset()

    def reset(self) -> None:
        self.stats = WitMotionStats()
        self.clock.reset()
        self._buffer = bytearray()
        self._skipping = False  # inside a run of skipped bytes (counted once as a resync)

    @property
    def measured_rate_hz(self) -> float | None:
        return self.clock.measured_rate_hz

    @property
    def pending_bytes(self) -> int:
        """Bytes kept for the next ``feed``: the start of a packet that has not fully arrived."""
        return len(self._buffer)

    def feed(self, data: bytes, arrival_s: float | None = None) -> list[SampleBlock]:
        self.stats.bytes_in += len(data)
        buf = self._buffer
        buf += data
        packets: list[bytes] = []
        pos = 0
        while True:
            start = self._find_header(buf, pos)
            self._skip(start - pos)
            pos = start
            if len(buf) - pos < PACKET_LEN:
                break
            if buf[pos + 1] == DATA_TYPE:
                packets.append(bytes(buf[pos : pos + PACKET_LEN]))
                self.stats.frames_ok += 1
            else:
                self.stats.replies += 1
            self._skipping = False
            pos += PACKET_LEN
        del buf[:pos]
        if not packets:
            return []
        counts = np.frombuffer(b"".join(p[2:] for p in packets), dtype="<i2").reshape(len(packets), 9)
        values = counts.astype(np.float64)
        t_s = self.clock.times(len(packets), arrival_s)
        return [SampleBlock(t_s, values[:, 0:3] * ACC_G_PER_LSB, values[:, 3:6] * GYRO_DPS_PER_LSB)]

    @staticmethod
    def _find_header(buf: bytearray, pos: int) -> int:
        """Index of the next packet header at or after ``pos``; a lone trailing 0x55 may start one, so it stays."""
        while True:
            i = buf.find(HEADER, pos)
            if i < 0:
                return len(buf)
            if i + 1 == len(buf) or buf[i + 1] in (DATA_TYPE, REPLY_TYPE):
                return i
            pos = i + 1

    def _skip(self, n: int) -> None:
        if n <= 0:
            return
        self.stats.junk_bytes += n
        if not self._skipping:
            self.stats.resyncs += 1
            self._skipping = True
