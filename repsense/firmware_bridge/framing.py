"""The binary serial protocol of our own firmware: frame layout, encoder and a sans-I/O decoder.

Theory of operation
-------------------
On the wire, each frame is COBS-encoded and ends with one 0x00 byte (see ``docs/protocol.md`` for the bytes).
Before COBS, a frame is::

    version u8 (=1) | type u8 | seq u16 | t_us u32 | payload ... | crc16 u16      (all little-endian)

``crc16`` is CRC-16/CCITT-FALSE over everything before it. ``t_us`` is the device's microsecond clock at the first
sample of a DATA frame (or when a CONFIG frame was sent). ``seq`` counts every frame, of either type, and wraps.

``FrameDecoder.feed(bytes, arrival_s)`` runs three stages and never raises on bad input:

1. *Segmenting*: bytes up to each 0x00 form a segment. A segment that is not COBS, or is too short or too long to
   be a frame, is thrown away (``resyncs``); so is a failed first segment, which is usually the tail of a frame we
   joined in the middle of. Decoding resumes at the next 0x00, so garbage costs at most one frame.
2. *Checking* (``decode_frame``): CRC (``crc_errors``), then version, type and payload layout (``malformed``).
3. *Sequencing and timing*: the sequence counter finds lost frames (``seq_gaps``, ``frames_lost``), and a frame at
   or behind the last one is dropped (``out_of_order``). A device reboot (``restarts``) is recognised by its first
   CONFIG, numbered 0, or by the clock going back, and the time line continues. The u32 device clock is unwrapped
   into seconds since the first frame; with ``arrival_s`` it is then mapped onto the host clock (``ClockMapper``).
   A DATA frame before any CONFIG cannot be scaled and is dropped (``no_config``).

Every non-empty segment ends up in exactly one of ``frames_ok``, ``resyncs``, ``crc_errors``, ``malformed``,
``no_config`` and ``out_of_order``. Each DATA frame that is used becomes one ``SampleBlock``, so the blocks do not
depend on how the byte stream was cut.
"""

from __future__ import annotations

import math
import struct
from collections import deque
from dataclasses import dataclass
from enum import IntEnum, StrEnum

import numpy as np
import numpy.typing as npt

from repsense.errors import ConfigError, ProtocolError
from repsense.firmware_bridge.cobs import (
    CobsDecodeError,
    cobs_decode,
    cobs_encode,
    cobs_max_encoded_len,
    crc16_ccitt_false,
)
from repsense.samples import MAX_ABS_ACC_G, MAX_ABS_GYRO_DPS, SampleBlock

PROTOCOL_VERSION = 1

#: version, type, seq, t_us.
_HEADER = struct.Struct("<BBHI")
HEADER_LEN = _HEADER.size
CRC_LEN = 2
#: period_us, acc_scale_g, gyro_scale_dps, samples_per_frame, sensor id length; the id's bytes follow.
_CONFIG = struct.Struct("<IffBB")
_DATA_HEAD = struct.Struct("<BB")

MAX_SENSOR_ID_BYTES = 32
MAX_SAMPLES_PER_FRAME = 255
#: Shortest sample period a CONFIG may announce (10 kHz); keeps sample times distinct on the host clock.
MIN_PERIOD_US = 100
_MAX_RAW_FRAME = HEADER_LEN + _DATA_HEAD.size + 2 * 6 * MAX_SAMPLES_PER_FRAME + CRC_LEN
#: No valid frame is longer than this on the wire (without its delimiter); longer segments are garbage.
MAX_ENCODED_FRAME = cobs_max_encoded_len(_MAX_RAW_FRAME)
#: BLE ATT payload with an MTU of 247.
BLE_PAYLOAD_BYTES = 244

_U16 = 1 << 16
_U32 = 1 << 32
#: The device clock jumping back by more than this means the device restarted.
_RESTART_BACKSTEP_US = 1_000_000
#: A CONFIG numbered 0 this soon after the last frame is the sequence counter wrapping, not a restart.
_WRAP_STEP_US = 10_000_000
#: Frames in a row that are behind the sequence but follow on from each other mean the device restarted.
_RESTART_FRAMES = 3


class FrameType(IntEnum):
    CONFIG = 0x01
    DATA = 0x02


class Fault(StrEnum):
    """Why a segment was not a usable frame."""

    COBS = "cobs"  # not valid COBS
    SHORT = "short"  # shorter than a header and a CRC
    LONG = "long"  # longer than any frame
    CRC = "crc"
    VERSION = "version"
    TYPE = "type"
    LENGTH = "length"  # payload length does not fit its type
    VALUE = "value"  # a CONFIG value no sensor can have


class FrameError(ProtocolError):
    """A segment is not a valid frame; ``fault`` says why."""

    def __init__(self, fault: Fault, detail: str) -> None:
        super().__init__(f"{fault}: {detail}")
        self.fault = fault


@dataclass(frozen=True, slots=True)
class DeviceConfig:
    """What a CONFIG frame says about the DATA frames that follow.

    ``acc_scale_g`` and ``gyro_scale_dps`` are per count (LSB); ``gyro_scale_dps`` is None for a sensor without a
    gyroscope (0.0 on the wire).
    """

    period_us: int
    acc_scale_g: float
    gyro_scale_dps: float | None
    samples_per_frame: int
    sensor_id: str = ""

    @property
    def channels(self) -> int:
        return 3 if self.gyro_scale_dps is None else 6

    @property
    def period_s(self) -> float:
        return self.period_us * 1e-6


@dataclass(frozen=True, slots=True)
class Frame:
    """One checked frame. ``counts`` is int16 [n, channels] for DATA, ``config`` is set for CONFIG."""

    frame_type: FrameType
    seq: int
    t_us: int
    config: DeviceConfig | None = None
    counts: npt.NDArray[np.int16] | None = None


@dataclass(slots=True)
class LinkStats:
    """Counters of a decoder. See the module docstring for how segments are sorted into them."""

    frames_ok: int = 0
    crc_errors: int = 0
    seq_gaps: int = 0
    frames_lost: int = 0
    resyncs: int = 0
    bytes_in: int = 0
    malformed: int = 0
    no_config: int = 0
    out_of_order: int = 0
    restarts: int = 0


def _f32(value: float) -> float:
    """``value`` rounded to the float32 the wire carries."""
    return float(np.float32(value))


def _config_error(config: DeviceConfig) -> str | None:
    """Why ``config`` is impossible, or None. Limits keep every decoded value a valid ``SampleBlock``."""
    if config.period_us < MIN_PERIOD_US or config.period_us >= _U32:
        return f"sample period {config.period_us} us"
    if not (math.isfinite(config.acc_scale_g) and 0 < config.acc_scale_g * 32768 <= MAX_ABS_ACC_G):
        return f"acc scale {config.acc_scale_g} g/LSB"
    gyro = config.gyro_scale_dps
    if gyro is not None and not (math.isfinite(gyro) and 0 < gyro * 32768 <= MAX_ABS_GYRO_DPS):
        return f"gyro scale {gyro} dps/LSB"
    if not 1 <= config.samples_per_frame <= MAX_SAMPLES_PER_FRAME:
        return f"{config.samples_per_frame} samples per frame"
    if len(config.sensor_id.encode()) > MAX_SENSOR_ID_BYTES:
        return f"sensor id longer than {MAX_SENSOR_ID_BYTES} bytes"
    return None


def encode_frame(frame_type: FrameType, seq: int, t_us: int, payload: bytes) -> bytes:
    """One frame as sent: header, payload and CRC, COBS-encoded, with the trailing 0x00."""
    body = _HEADER.pack(PROTOCOL_VERSION, frame_type, seq & 0xFFFF, t_us & 0xFFFFFFFF) + payload
    return cobs_encode(body + crc16_ccitt_false(body).to_bytes(2, "little")) + b"\x00"


def config_payload(config: DeviceConfig) -> bytes:
    sensor_id = config.sensor_id.encode()
    gyro = 0.0 if config.gyro_scale_dps is None else config.gyro_scale_dps
    return (
        _CONFIG.pack(config.period_us, config.acc_scale_g, gyro, config.samples_per_frame, len(sensor_id)) + sensor_id
    )


def decode_frame(segment: bytes) -> Frame:
    """Check one segment (COBS-encoded, without its 0x00) and unpack it. Raises ``FrameError``."""
    if len(segment) > MAX_ENCODED_FRAME:
        raise FrameError(Fault.LONG, f"{len(segment)} bytes")
    try:
        raw = cobs_decode(segment)
    except CobsDecodeError as exc:
        raise FrameError(Fault.COBS, str(exc)) from None
    if len(raw) < HEADER_LEN + CRC_LEN:
        raise FrameError(Fault.SHORT, f"{len(raw)} bytes")
    body = raw[:-CRC_LEN]
    crc = int.from_bytes(raw[-CRC_LEN:], "little")
    if crc16_ccitt_false(body) != crc:
        raise FrameError(Fault.CRC, f"crc {crc:04x}, computed {crc16_ccitt_false(body):04x}")
    version, frame_type, seq, t_us = _HEADER.unpack_from(body)
    if version != PROTOCOL_VERSION:
        raise FrameError(Fault.VERSION, f"version {version}")
    payload = body[HEADER_LEN:]
    if frame_type == FrameType.DATA:
        if len(payload) < _DATA_HEAD.size:
            raise FrameError(Fault.LENGTH, "DATA frame without a sample count")
        channels, n = _DATA_HEAD.unpack_from(payload)
        if channels not in (3, 6) or n == 0 or len(payload) != _DATA_HEAD.size + 2 * n * channels:
            raise FrameError(Fault.LENGTH, f"{len(payload)} payload bytes for {n} x {channels} samples")
        counts = np.frombuffer(payload, dtype="<i2", offset=_DATA_HEAD.size).reshape(n, channels)
        return Frame(FrameType.DATA, seq, t_us, counts=counts)
    if frame_type == FrameType.CONFIG:
        if len(payload) < _CONFIG.size:
            raise FrameError(Fault.LENGTH, f"CONFIG payload of {len(payload)} bytes")
        period_us, acc, gyro, per_frame, id_len = _CONFIG.unpack_from(payload)
        # Bytes after the sensor id are allowed: later firmware may append fields without a new version.
        if len(payload) < _CONFIG.size + id_len:
            raise FrameError(Fault.LENGTH, f"sensor id of {id_len} bytes does not fit")
        sensor_id = payload[_CONFIG.size : _CONFIG.size + id_len].decode("utf-8", errors="replace")
        config = DeviceConfig(period_us, acc, None if gyro == 0.0 else gyro, per_frame, sensor_id)
        problem = _config_error(config)
        if problem is not None:
            raise FrameError(Fault.VALUE, problem)
        return Frame(FrameType.CONFIG, seq, t_us, config=config)
    raise FrameError(Fault.TYPE, f"frame type {frame_type}")


def quantise(values: npt.ArrayLike, scale: float) -> npt.NDArray[np.int16]:
    """Physical values to int16 counts of ``scale`` units per count, rounded and saturated."""
    counts = np.rint(np.asarray(values, dtype=np.float64) / scale)
    return np.clip(counts, -32768, 32767).astype(np.int16)


class FrameEncoder:
    """Builds the frames our firmware sends; the Python twin of ``firmware/repsense_frame.c``.

    ``seq`` is the sequence number of the next frame; it counts CONFIG and DATA frames alike and wraps at 2^16.
    """

    def __init__(
        self,
        period_us: int,
        acc_scale_g: float,
        gyro_scale_dps: float | None,
        samples_per_frame: int,
        sensor_id: str = "",
        seq: int = 0,
    ) -> None:
        gyro = None if not gyro_scale_dps else _f32(gyro_scale_dps)
        self.config = DeviceConfig(int(period_us), _f32(acc_scale_g), gyro, int(samples_per_frame), sensor_id)
        problem = _config_error(self.config)
        if problem is not None:
            raise ConfigError(f"frame encoder: impossible {problem}")
        self.seq = seq & 0xFFFF

    def _frame(self, frame_type: FrameType, t_us: int, payload: bytes) -> bytes:
        frame = encode_frame(frame_type, self.seq, t_us, payload)
        self.seq = (self.seq + 1) & 0xFFFF
        return frame

    def config_frame(self, t_us: int) -> bytes:
        """A CONFIG frame stamped ``t_us`` (the device clock when it is sent)."""
        return self._frame(FrameType.CONFIG, t_us, config_payload(self.config))

    def data_frames(
        self, t_us_first: int, acc_counts: npt.ArrayLike, gyro_counts: npt.ArrayLike | None = None
    ) -> list[bytes]:
        """DATA frames for consecutive samples starting at device time ``t_us_first``.

        ``acc_counts`` and ``gyro_counts`` are int16 counts [n, 3]. Frames hold ``samples_per_frame`` samples each
        (the last one may hold fewer).
        """
        acc = np.asarray(acc_counts)
        if (gyro_counts is None) != (self.config.gyro_scale_dps is None):
            raise ValueError("gyro_counts must be given exactly when the encoder has a gyro scale")
        columns = [acc] if gyro_counts is None else [acc, np.asarray(gyro_counts)]
        if any(c.ndim != 2 or c.shape != (acc.shape[0], 3) for c in columns):
            raise ValueError(f"counts must have shape (n, 3), got {[c.shape for c in columns]}")
        if any(c.size and (c.min() < -32768 or c.max() > 32767) for c in columns):
            raise ValueError("counts must fit in int16")
        samples = np.hstack(columns).astype("<i2")
        per_frame = self.config.samples_per_frame
        frames = []
        for start in range(0, samples.shape[0], per_frame):
            chunk = samples[start : start + per_frame]
            payload = _DATA_HEAD.pack(chunk.shape[1], chunk.shape[0]) + chunk.tobytes()
            frames.append(self._frame(FrameType.DATA, t_us_first + start * self.config.period_us, payload))
        return frames

    def encode_block(self, block: SampleBlock, t_us_first: int | None = None) -> bytes:
        """DATA frames for ``block`` (assumed sampled at this encoder's period), joined into one byte string.

        Values are quantised to the encoder's scales, saturating at int16. ``t_us_first`` defaults to the block's
        first time in microseconds. A block's gyro is ignored when the encoder has none.
        """
        if t_us_first is None:
            t_us_first = round(float(block.t_s[0]) * 1e6) if len(block) else 0
        gyro_scale = self.config.gyro_scale_dps
        gyro = None
        if gyro_scale is not None:
            if block.gyro_dps is None:
                raise ValueError("the encoder sends gyro data but the block has none")
            gyro = quantise(block.gyro_dps, gyro_scale)
        acc = quantise(block.acc_g, self.config.acc_scale_g)
        return b"".join(self.data_frames(t_us_first, acc, gyro))


class ClockMapper:
    """Maps device time (s) onto the host clock from arrival times, smoothly and without going backwards.

    Each observation is ``arrival_s - dev_s`` for an event the device stamped ``dev_s``. Transport latency only
    ever adds to it, so the minimum over the last ``window_s`` of device time tracks the lowest-latency path: that
    is the target offset. The window lets the offset follow clock drift between device and host.

    The applied offset moves toward the target by at most ``max_slew`` seconds per second of device time, ramped
    across the samples, so the spacing of host times stays within ``max_slew`` of the device spacing and host
    times strictly increase. For the first ``window_s`` after the start (or a device restart) it may move down by
    ``max_catchup`` instead: the first frames may have come late (a backlog read in one go), and later, lower
    observations show it.

    Without any observation the offset is 0: host time is device time.
    """

    def __init__(self, window_s: float = 8.0, max_slew: float = 0.02, max_catchup: float = 0.25) -> None:
        if not (window_s > 0 and 0 < max_slew < 1 and 0 < max_catchup < 1):
            raise ConfigError("clock mapper: window_s > 0 and slew limits in (0, 1) are required")
        self.window_s = window_s
        self.max_slew = max_slew
        self.max_catchup = max_catchup
        self.reset()

    def reset(self) -> None:
        #: (dev_s, arrival - dev) pairs with increasing offsets: the front is the window minimum.
        self._window: deque[tuple[float, float]] = deque()
        self.offset_s = 0.0
        self._jump_allowed = True
        self._start_dev_s: float | None = None
        self._last_dev_s: float | None = None
        self._last_t_s: float | None = None

    def restart(self) -> None:
        """The device clock started over: forget old observations but keep host times increasing."""
        self._window.clear()
        self._jump_allowed = True
        self._start_dev_s = None

    @property
    def target_s(self) -> float | None:
        return self._window[0][1] if self._window else None

    def observe(self, dev_s: float, arrival_s: float) -> None:
        offset = arrival_s - dev_s
        window = self._window
        while window and window[-1][1] >= offset:
            window.pop()
        window.append((dev_s, offset))
        while window[0][0] < dev_s - self.window_s:
            window.popleft()

    def map(self, dev_s: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Host times of samples at device times ``dev_s`` (increasing, and later than any mapped before)."""
        first, last = float(dev_s[0]), float(dev_s[-1])
        if self._start_dev_s is None:
            self._start_dev_s = first
        target = self.target_s
        previous = self.offset_s
        offset = previous
        ramp = False
        if target is not None:
            if self._jump_allowed or self._last_dev_s is None:
                offset = target
                self._jump_allowed = False
            else:
                elapsed = max(last - self._last_dev_s, 0.0)
                warm = last - self._start_dev_s < self.window_s
                down = (self.max_catchup if warm else self.max_slew) * elapsed
                offset += min(max(target - offset, -down), self.max_slew * elapsed)
                ramp = True
        if ramp and self._last_dev_s is not None and last > self._last_dev_s:
            # Spread the change over the samples, so no single step takes it all.
            share = (dev_s - self._last_dev_s) / (last - self._last_dev_s)
            t = dev_s + previous + (offset - previous) * share
        else:
            t = dev_s + offset
        if self._last_t_s is not None and self._last_dev_s is not None and t[0] <= self._last_t_s:
            # Only after a jump (first observation, restart): keep the promised minimum spacing.
            spacing = (1.0 - self.max_catchup) * max(first - self._last_dev_s, 1e-6)
            offset = self._last_t_s + spacing - first
            t = dev_s + offset
        self.offset_s = offset
        self._last_dev_s = last
        self._last_t_s = float(t[-1])
        return t


class FrameDecoder:
    """Bytes from our firmware in, ``SampleBlock`` out (one block per DATA frame). No I/O; never raises on input.

    ``feed(data, arrival_s)``: ``arrival_s`` is the host time when ``data`` arrived (any clock, seconds). With it,
    block times are on the host clock (see ``ClockMapper``); without it, they are device seconds since the first
    frame. ``config`` is the last CONFIG received, ``stats`` the counters.
    """

    def __init__(self, clock: ClockMapper | None = None) -> None:
        self._clock_settings = clock
        self.reset()

    def reset(self) -> None:
        self.stats = LinkStats()
        self.config: DeviceConfig | None = None
        self.clock = ClockMapper() if self._clock_settings is None else self._clock_settings
        self.clock.reset()
        self._segment = bytearray()
        self._overlong = False
        self._aligned = False  # a 0x00 has been seen, so the current segment started at a frame boundary
        self._last_seq: int | None = None
        self._last_raw_us = 0
        self._last_dev_us = 0  # unwrapped device time of the last frame, us since the first frame
        self._last_sample_us: int | None = None  # unwrapped device time of the last sample emitted
        self._behind: list[int] = []  # sequence numbers of the frames just dropped as behind

    def feed(self, data: bytes, arrival_s: float | None = None) -> list[SampleBlock]:
        data = bytes(data)
        self.stats.bytes_in += len(data)
        blocks: list[SampleBlock] = []
        start = 0
        while True:
            end = data.find(0, start)
            piece = data[start:] if end < 0 else data[start:end]
            if not self._overlong:
                self._segment += piece
                if len(self._segment) > MAX_ENCODED_FRAME:
                    # Garbage without delimiters: stop buffering it.
                    self._overlong = True
                    self._segment.clear()
                    self.stats.resyncs += 1
            if end < 0:
                return blocks
            if self._segment:
                self._on_segment(bytes(self._segment), arrival_s, blocks)
                self._segment.clear()
            self._overlong = False
            self._aligned = True
            start = end + 1

    def _on_segment(self, segment: bytes, arrival_s: float | None, blocks: list[SampleBlock]) -> None:
        try:
            frame = decode_frame(segment)
        except FrameError as exc:
            if not self._aligned or exc.fault in (Fault.COBS, Fault.SHORT, Fault.LONG):
                self.stats.resyncs += 1
            elif exc.fault is Fault.CRC:
                self.stats.crc_errors += 1
            else:
                self.stats.malformed += 1
            return
        self._on_frame(frame, arrival_s, blocks)

    def _on_frame(self, frame: Frame, arrival_s: float | None, blocks: list[SampleBlock]) -> None:
        stats = self.stats
        config = frame.config if frame.config is not None else self.config
        if frame.counts is not None and config is not None and frame.counts.shape[1] != config.channels:
            stats.malformed += 1
            return
        last_seq = self._last_seq
        restart = False
        dev_us = 0
        lost = 0
        if last_seq is not None:
            step = (frame.t_us - self._last_raw_us) % _U32
            step = step - _U32 if step >= _U32 // 2 else step
            dev_us = self._last_dev_us + step
            lost = (frame.seq - last_seq - 1) % _U16
            # Firmware starts every boot with a CONFIG numbered 0. Numbered 0 after a lost 65535, it is the counter
            # wrapping, and then the clock has moved on by a little.
            booted = frame.frame_type == FrameType.CONFIG and frame.seq == 0 and last_seq != 0xFFFF
            restart = (booted and not 0 < step <= _WRAP_STEP_US) or step < -_RESTART_BACKSTEP_US
            if not restart and lost >= _U16 // 2:
                # Behind: a duplicate or a late frame, unless several follow on from each other (a restart whose
                # first CONFIG was lost).
                follows = self._behind and frame.seq == (self._behind[-1] + 1) % _U16
                self._behind = [*self._behind, frame.seq] if follows else [frame.seq]
                if len(self._behind) < _RESTART_FRAMES:
                    stats.out_of_order += 1
                    return
                restart = True
            if restart:
                dev_us = max(self._last_dev_us, self._last_sample_us or 0) + (config.period_us if config else 1)
            if frame.counts is not None and self._last_sample_us is not None and dev_us <= self._last_sample_us:
                stats.out_of_order += 1
                return
        self._behind = []
        # The frame is in order: commit it to the sequence and clock state.
        if restart:
            stats.restarts += 1
            self.clock.restart()
        elif lost:
            stats.seq_gaps += 1
            stats.frames_lost += lost
        self._last_seq = frame.seq
        self._last_raw_us = frame.t_us
        self._last_dev_us = dev_us
        if frame.config is not None:
            self.config = frame.config
            stats.frames_ok += 1
            if arrival_s is not None:
                self.clock.observe(dev_us * 1e-6, arrival_s)
            return
        if config is None or frame.counts is None:
            stats.no_config += 1
            return
        n = frame.counts.shape[0]
        dev_s = np.asarray((dev_us + np.arange(n) * config.period_us) * 1e-6, dtype=np.float64)
        if arrival_s is not None:
            self.clock.observe(float(dev_s[-1]), arrival_s)
        t_s = self.clock.map(dev_s)
        counts = frame.counts.astype(np.float64)
        gyro = None if config.gyro_scale_dps is None else counts[:, 3:] * config.gyro_scale_dps
        blocks.append(SampleBlock(t_s, counts[:, :3] * config.acc_scale_g, gyro))
        self._last_sample_us = dev_us + (n - 1) * config.period_us
        stats.frames_ok += 1
