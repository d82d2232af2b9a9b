"""Polar H10 / Verity Sense PMD (Polar Measurement Data) over BLE: UUIDs, commands and a sans-I/O ACC decoder.

Theory of operation
-------------------
Subscribe to the control point (indications) and the data characteristic (notifications), then write a START
command to the control point (``start_acc_command``). The sensor answers ``F0 op type status more params...``
(``parse_control_response``); for START the params are settings, the factor among them.

Each data notification is one frame::

    [0] measurement type (2 = ACC) | [1..8] u64 LE: time of the LAST sample, ns since 2000-01-01 (sensor clock)
    [9] frame type: bit 7 = compressed (delta), low bits = type | payload

Raw ACC types 0/1/2 hold int8/int16/int24 per axis in mG. A compressed payload is a reference sample (channels x
ceil(resolution / 8) bytes, signed LE) and then blocks ``[delta bits u8][count u8][count x channels x bits]``,
packed LSB first, two's complement, each delta added to the previous sample. Compressed type 0 times the factor
is in g, compressed type 1 times the factor in mG (the SDK's ``AccData.kt``: "type 0 data arrives in G units").
Both are 16-bit, 3 channels.

Sample times are interpolated back from the frame's timestamp: at ``(t - t_prev) / n`` after the previous frame's
timestamp when there is one, else at the configured rate. A frame whose spacing is more than 1.5 configured periods
(frames were lost, ``gaps``) is spread at the configured rate instead, so a hole stays a hole.
Times are seconds on the sensor clock since the first frame; with ``arrival_s`` they are mapped onto the host
clock by ``ClockMapper``.

``PmdDecoder.feed`` never raises: a frame that is too short, of an unknown type or whose payload does not parse is
``malformed``, another measurement than ACC is ``other``, a timestamp at or before the last one ``out_of_order``.

Sources: the Polar BLE SDK, ``polarofficial/polar-ble-sdk``: ``sources/Android/android-communications/library/src/
main/java/com/polar/androidcommunications/api/ble/model/gatt/client/pmd/`` (``PmdDataFrame.kt``,
``model/AccData.kt``, ``model/PmdTimeStampUtils.kt``, ``PmdControlPointResponse.kt``, ``BlePMDClient``'s
``parseDeltaFramesAll``).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np
import numpy.typing as npt

from repsense.errors import ProtocolError
from repsense.firmware_bridge.framing import ClockMapper
from repsense.samples import MAX_ABS_ACC_G, SampleBlock

SERVICE_UUID = "fb005c80-02e7-f387-1cad-8acd2d8df0c8"
CONTROL_POINT_UUID = "fb005c81-02e7-f387-1cad-8acd2d8df0c8"
DATA_UUID = "fb005c82-02e7-f387-1cad-8acd2d8df0c8"


class MeasurementType(IntEnum):
    ECG = 0
    PPG = 1
    ACC = 2
    PPI = 3
    GYRO = 5
    MAG = 6
    SDK_MODE = 9


class OpCode(IntEnum):
    GET_SETTINGS = 1
    START = 2
    STOP = 3


class SettingType(IntEnum):
    SAMPLE_RATE = 0
    RESOLUTION = 1
    RANGE = 2
    RANGE_MILLIUNIT = 3
    CHANNELS = 4
    FACTOR = 5


#: Bytes per value of each setting (u16, u16, u16, u32, u8, f32).
_SETTING_SIZES = {0: 2, 1: 2, 2: 2, 3: 4, 4: 1, 5: 4}

RESPONSE_CODE = 0xF0
HEADER_LEN = 10
COMPRESSED_BIT = 0x80
ACC_CHANNELS = 3
COMPRESSED_RESOLUTION_BITS = 16
#: Seconds between the Unix epoch and 2000-01-01T00:00:00Z, the origin of PMD timestamps.
PMD_EPOCH_UNIX_S = 946_684_800
_MAX_DELTA_BITS = 32
#: A frame's sample spacing off the configured period by more than this share means frames were lost.
_GAP_TOLERANCE = 0.5


def _setting(kind: SettingType, value: int) -> bytes:
    return struct.pack("<BBH", kind, 1, value)


def start_acc_command(rate_hz: int = 200, resolution: int = 16, range_g: int = 8) -> bytes:
    """START ACC: ``02 02`` then sample rate, resolution and range settings (``02 02 00 01 C8 00 ...`` for H10)."""
    return (
        bytes((OpCode.START, MeasurementType.ACC))
        + _setting(SettingType.SAMPLE_RATE, rate_hz)
        + _setting(SettingType.RESOLUTION, resolution)
        + _setting(SettingType.RANGE, range_g)
    )


def stop_command(measurement: MeasurementType = MeasurementType.ACC) -> bytes:
    """STOP: ``03 02`` for ACC."""
    return bytes((OpCode.STOP, measurement))


def get_settings_command(measurement: MeasurementType = MeasurementType.ACC) -> bytes:
    """GET_SETTINGS: ``01 02`` for ACC; the response lists the values each setting may take."""
    return bytes((OpCode.GET_SETTINGS, measurement))


@dataclass(frozen=True, slots=True)
class ControlResponse:
    """A control-point response. ``settings`` maps a setting type to its values (several in GET_SETTINGS)."""

    op_code: int
    measurement_type: int
    status: int
    more: bool
    parameters: bytes
    settings: dict[int, tuple[float, ...]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == 0

    @property
    def factor(self) -> float | None:
        values = self.settings.get(SettingType.FACTOR)
        return values[0] if values else None


def parse_settings(data: bytes) -> dict[int, tuple[float, ...]]:
    """Settings TLV ``[type u8][count u8][count values]``; stops at an unknown type or a truncated entry."""
    settings: dict[int, tuple[float, ...]] = {}
    pos = 0
    while pos + 2 <= len(data):
        kind, count = data[pos], data[pos + 1]
        size = _SETTING_SIZES.get(kind)
        end = pos + 2 + count * (size or 0)
        if size is None or end > len(data):
            break
        raw = data[pos + 2 : end]
        if kind == SettingType.FACTOR:
            values: tuple[float, ...] = struct.unpack(f"<{count}f", raw)
        else:
            values = tuple(int.from_bytes(raw[i : i + size], "little") for i in range(0, len(raw), size))
        settings[kind] = values
        pos = end
    return settings


def parse_control_response(data: bytes) -> ControlResponse | None:
    """``F0 op type status [more] [params]``, or None when ``data`` is not a response."""
    if len(data) < 4 or data[0] != RESPONSE_CODE:
        return None
    status = data[3]
    more = status == 0 and len(data) > 4 and data[4] != 0
    params = bytes(data[5:]) if status == 0 else b""
    settings = parse_settings(params) if data[1] in (OpCode.GET_SETTINGS, OpCode.START) else {}
    return ControlResponse(data[1], data[2], status, more, params, settings)


class PmdFrameError(ProtocolError):
    """A PMD data frame does not parse."""


def _signed(values: npt.NDArray[np.int64], bits: int) -> npt.NDArray[np.int64]:
    """Two's complement of ``bits``-bit unsigned values."""
    if bits == 0:
        return values
    half = np.int64(1) << np.int64(bits - 1)
    return np.where(values >= half, values - (half << np.int64(1)), values)


def _read_le(data: bytes, n_values: int, width: int) -> npt.NDArray[np.int64]:
    """``n_values`` little-endian unsigned integers of ``width`` bytes each."""
    raw = np.frombuffer(data, dtype=np.uint8, count=n_values * width).reshape(n_values, width).astype(np.int64)
    values: npt.NDArray[np.int64] = (raw << (8 * np.arange(width, dtype=np.int64))).sum(axis=1)
    return values


def parse_raw_payload(payload: bytes, width: int, channels: int = ACC_CHANNELS) -> npt.NDArray[np.int64]:
    """Raw samples: signed LE integers of ``width`` bytes, ``channels`` per sample. Returns int64 [n, channels]."""
    step = width * channels
    if not payload or len(payload) % step:
        raise PmdFrameError(f"{len(payload)} payload bytes are not whole samples of {step} bytes")
    n = len(payload) // step
    return _signed(_read_le(payload, n * channels, width), 8 * width).reshape(n, channels)


def parse_delta_payload(payload: bytes, channels: int, resolution_bits: int) -> npt.NDArray[np.int64]:
    """Samples of a compressed (delta) payload, int64 [n, channels]. Raises ``PmdFrameError``."""
    width = -(-resolution_bits // 8)
    ref_len = channels * width
    if len(payload) < ref_len:
        raise PmdFrameError(f"{len(payload)} bytes, shorter than the {ref_len}-byte reference sample")
    pieces = [_signed(_read_le(payload, channels, width), resolution_bits).reshape(1, channels)]
    pos = ref_len
    while pos < len(payload):
        if pos + 2 > len(payload):
            raise PmdFrameError("a delta block header is cut off")
        bits, count = payload[pos], payload[pos + 1]
        pos += 2
        if bits > _MAX_DELTA_BITS:
            raise PmdFrameError(f"{bits}-bit deltas")
        n_bits = bits * count * channels
        end = pos + -(-n_bits // 8)
        if end > len(payload):
            raise PmdFrameError(f"a delta block of {count} x {bits} bits runs past the frame")
        if count and bits:
            stream = np.unpackbits(np.frombuffer(payload[pos:end], dtype=np.uint8), bitorder="little")[:n_bits]
            fields = stream.reshape(count * channels, bits).astype(np.int64)
            raw = (fields << np.arange(bits, dtype=np.int64)).sum(axis=1)
            pieces.append(_signed(raw, bits).reshape(count, channels))
        elif count:
            pieces.append(np.zeros((count, channels), dtype=np.int64))
        pos = end
    # The first row is the reference, the others deltas: a running sum rebuilds the samples.
    samples: npt.NDArray[np.int64] = np.cumsum(np.concatenate(pieces), axis=0)
    return samples


def _delta_bits_needed(deltas: npt.NDArray[np.int64]) -> int:
    """Fewest two's-complement bits that hold every value (at least 1)."""
    if deltas.size == 0:
        return 1
    hi, lo = int(deltas.max()), int(deltas.min())
    return max(1, hi.bit_length() + 1 if hi > 0 else 1, (-lo - 1).bit_length() + 1 if lo < 0 else 1)


def encode_delta_payload(
    samples: npt.ArrayLike,
    resolution_bits: int = COMPRESSED_RESOLUTION_BITS,
    delta_bits: int | Sequence[int] | None = None,
    block_samples: int = 255,
) -> bytes:
    """A compressed payload for int samples [n >= 1, channels], the inverse of ``parse_delta_payload``.

    Deltas go in blocks of up to ``block_samples``; each block uses ``delta_bits`` (one width, or one per block),
    or the fewest bits its deltas need when None. Raises ``ValueError`` when a sample or delta does not fit.
    """
    x = np.asarray(samples, dtype=np.int64)
    if x.ndim != 2 or x.shape[0] < 1:
        raise ValueError(f"samples must have shape (n >= 1, channels), got {x.shape}")
    limit = 1 << (resolution_bits - 1)
    if x.size and (x.min() < -limit or x.max() >= limit):
        raise ValueError(f"samples must fit in {resolution_bits} signed bits")
    if not 1 <= block_samples <= 255:
        raise ValueError("block_samples must be 1..255")
    width = -(-resolution_bits // 8)
    ref = x[0] & ((1 << (8 * width)) - 1)
    out = bytearray(b"".join(int(v).to_bytes(width, "little") for v in ref))
    deltas = np.diff(x, axis=0)
    for index, start in enumerate(range(0, deltas.shape[0], block_samples)):
        block = deltas[start : start + block_samples]
        if delta_bits is None:
            bits = _delta_bits_needed(block)
        elif isinstance(delta_bits, int):
            bits = delta_bits
        else:
            bits = delta_bits[index]
        if not 1 <= bits <= _MAX_DELTA_BITS or _delta_bits_needed(block) > bits:
            raise ValueError(f"block {index}: deltas do not fit in {bits} bits")
        unsigned = block.reshape(-1) & ((1 << bits) - 1)
        fields = (unsigned[:, None] >> np.arange(bits, dtype=np.int64)) & 1
        out += bytes((bits, block.shape[0]))
        out += np.packbits(fields.astype(np.uint8).reshape(-1), bitorder="little").tobytes()
    return bytes(out)


def encode_delta_frame(
    samples: npt.ArrayLike,
    timestamp_ns: int,
    *,
    frame_type: int = 1,
    delta_bits: int | Sequence[int] | None = None,
    block_samples: int = 255,
    measurement: MeasurementType = MeasurementType.ACC,
) -> bytes:
    """A whole compressed data frame (header and delta payload) for tests and the emulator."""
    payload = encode_delta_payload(samples, COMPRESSED_RESOLUTION_BITS, delta_bits, block_samples)
    return struct.pack("<BQB", measurement, timestamp_ns, COMPRESSED_BIT | frame_type) + payload


def encode_raw_frame(samples: npt.ArrayLike, timestamp_ns: int, *, frame_type: int = 1) -> bytes:
    """A whole raw ACC frame: ``frame_type`` 0/1/2 packs int8/int16/int24 per axis (mG)."""
    x = np.asarray(samples, dtype=np.int64).reshape(-1)
    width = frame_type + 1
    body = b"".join(int(v & ((1 << (8 * width)) - 1)).to_bytes(width, "little") for v in x)
    return struct.pack("<BQB", MeasurementType.ACC, timestamp_ns, frame_type) + body


@dataclass(slots=True)
class PmdStats:
    """Counters of a ``PmdDecoder``. Each frame lands in exactly one of the first four."""

    frames_ok: int = 0
    malformed: int = 0
    other: int = 0  # frames of another measurement than ACC
    out_of_order: int = 0  # timestamp at or before the previous frame's
    gaps: int = 0  # frames spread at the configured rate because their spacing was off
    bytes_in: int = 0


class PmdDecoder:
    """ACC data frames in, ``SampleBlock`` (acc only) out: one block per frame. No I/O; never raises on input.

    ``sample_rate_hz`` is the rate that was started; ``factor`` scales compressed frames (set it from the START
    response, or let ``feed_control`` do it).
    """

    def __init__(self, sample_rate_hz: float = 200, factor: float = 1.0, clock: ClockMapper | None = None) -> None:
        self.sample_rate_hz = float(sample_rate_hz)
        self.factor = factor
        self._clock_settings = clock
        self.reset()

    def reset(self) -> None:
        self.stats = PmdStats()
        self.clock = ClockMapper() if self._clock_settings is None else self._clock_settings
        self.clock.reset()
        self._first_ns: int | None = None
        self._last_ns: int | None = None

    @property
    def period_ns(self) -> float:
        return 1e9 / self.sample_rate_hz

    def feed_control(self, data: bytes) -> ControlResponse | None:
        """A control-point indication: returns it parsed, and takes the factor from a successful ACC START."""
        response = parse_control_response(data)
        if (
            response is not None
            and response.ok
            and response.op_code == OpCode.START
            and response.measurement_type == MeasurementType.ACC
            and response.factor is not None
            and np.isfinite(response.factor)
            and response.factor > 0
        ):
            self.factor = response.factor
        return response

    def feed(self, data: bytes, arrival_s: float | None = None) -> list[SampleBlock]:
        """One data notification (one frame) in."""
        data = bytes(data)
        self.stats.bytes_in += len(data)
        if len(data) < HEADER_LEN:
            self.stats.malformed += 1
            return []
        if data[0] != MeasurementType.ACC:
            self.stats.other += 1
            return []
        timestamp_ns = int.from_bytes(data[1:9], "little")
        try:
            acc_g = self._decode_acc(data[9], data[HEADER_LEN:])
        except PmdFrameError:
            self.stats.malformed += 1
            return []
        if self._last_ns is not None and timestamp_ns <= self._last_ns:
            self.stats.out_of_order += 1
            return []
        offsets_ns = self._sample_offsets_ns(timestamp_ns, acc_g.shape[0])
        if self._first_ns is None:
            self._first_ns = timestamp_ns
        self._last_ns = timestamp_ns
        # Relative to the first frame before going to float: float64 cannot hold ns since 2000 exactly.
        dev_s = (float(timestamp_ns - self._first_ns) + offsets_ns) * 1e-9
        if arrival_s is not None:
            self.clock.observe(float(dev_s[-1]), arrival_s)
        self.stats.frames_ok += 1
        return [SampleBlock(self.clock.map(dev_s), acc_g)]

    def _decode_acc(self, frame_type: int, payload: bytes) -> npt.NDArray[np.float64]:
        kind = frame_type & ~COMPRESSED_BIT
        if frame_type & COMPRESSED_BIT:
            if kind not in (0, 1):
                raise PmdFrameError(f"compressed ACC frame type {kind}")
            counts = parse_delta_payload(payload, ACC_CHANNELS, COMPRESSED_RESOLUTION_BITS)
            # Type 0 times the factor is in g, type 1 in mG.
            acc_g = counts * (self.factor if kind == 0 else self.factor * 1e-3)
        else:
            if kind not in (0, 1, 2):
                raise PmdFrameError(f"raw ACC frame type {kind}")
            acc_g = parse_raw_payload(payload, kind + 1) * 1e-3
        if not np.all(np.abs(acc_g) <= MAX_ABS_ACC_G):
            raise PmdFrameError("acceleration beyond any sensor's range")
        return np.asarray(acc_g, dtype=np.float64)

    def _sample_offsets_ns(self, timestamp_ns: int, n: int) -> npt.NDArray[np.float64]:
        """Times (ns) of a frame's ``n`` samples relative to its timestamp, the time of the last one."""
        period = self.period_ns
        if self._last_ns is not None:
            spacing = (timestamp_ns - self._last_ns) / n
            if spacing > (1 + _GAP_TOLERANCE) * period:
                # Frames were lost: spread this one at the configured rate, so the hole stays a hole.
                self.stats.gaps += 1
            else:
                period = spacing
        return -np.arange(n - 1, -1, -1, dtype=np.float64) * period
