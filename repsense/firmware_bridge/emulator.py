"""A recording played as a sensor would send it, with faults on demand: the hardware-free end of a live session.

Two parts, split along the job:

- ``SensorEmulator`` (here) is sans-I/O. It turns a recording into timed chunks of bytes, ``Chunk(at_s, data)`` where
  ``at_s`` is recording seconds since the first sample (when a sensor would send it: after its last sample), in
  our frame protocol or as CSV lines, and injects faults: byte corruption, dropped frames, a burst of noise, a
  disconnection (``Disconnect``; the samples of the outage are never sent, and the device clock keeps running).
- ``emulator_io.play`` paces those chunks in real time (or ``speed`` times faster) onto a device: ``PtyDevice``,
  a pseudo-terminal whose other end ``repsense live --port`` opens, or ``SerialDevice``, a real port.

Frames: ``period_us`` is the recording's median interval; device timestamps come from the recording's own ``t``,
and a frame is closed early where the timing departs from the period (as our firmware does when it misses a slot),
so irregular recordings keep their timing. A CONFIG goes out on every (re)connection, with the frame sequence
restarted at 0, and every ``config_every_s`` of device time. CSV: a header, then ``ms,ax,ay,az[,gx,gy,gz]``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from repsense.errors import ConfigError
from repsense.firmware_bridge.framing import MAX_SAMPLES_PER_FRAME, MIN_PERIOD_US, FrameEncoder, quantise
from repsense.firmware_bridge.streams import WireFormat
from repsense.samples import SampleBlock

#: Full-scale ranges a sensor may be set to; the emulator takes the smallest that holds the recording.
ACC_RANGES_G = (2.0, 4.0, 8.0, 16.0, 32.0, 64.0)
GYRO_RANGES_DPS = (250.0, 500.0, 1000.0, 2000.0, 4000.0, 8000.0)


@dataclass(frozen=True, slots=True)
class Faults:
    """What goes wrong on the way. Rates are fractions; times are recording seconds since the first sample.

    ``corrupt_rate``: each byte sent is replaced by a different random byte with this probability.
    ``drop_rate``: each DATA frame (CSV line) is never sent with this probability.
    ``noise_at_s``: ``noise_bytes`` random bytes go out in front of the chunk sent at that time.
    ``disconnect_at_s``: the sensor is unplugged then for ``disconnect_for_s``.
    """

    corrupt_rate: float = 0.0
    drop_rate: float = 0.0
    noise_at_s: float | None = None
    noise_bytes: int = 256
    disconnect_at_s: float | None = None
    disconnect_for_s: float = 2.0
    seed: int = 0

    def __post_init__(self) -> None:
        if not (0.0 <= self.corrupt_rate < 1.0 and 0.0 <= self.drop_rate < 1.0):
            raise ConfigError("corruption and drop rates must be between 0 and 100 %")
        if self.noise_bytes < 1 or (self.noise_at_s is not None and self.noise_at_s < 0):
            raise ConfigError("a noise burst needs a time >= 0 and at least 1 byte")
        if self.disconnect_for_s <= 0 or (self.disconnect_at_s is not None and self.disconnect_at_s < 0):
            raise ConfigError("a disconnection needs a time >= 0 and a positive duration")


@dataclass(frozen=True, slots=True)
class Chunk:
    """Bytes the sensor sends at ``at_s`` (recording seconds since the first sample), carrying ``samples``."""

    at_s: float
    data: bytes
    samples: int


@dataclass(frozen=True, slots=True)
class Disconnect:
    """The sensor is unplugged at ``at_s`` for ``duration_s``; reconnect, then send ``SensorEmulator.hello()``."""

    at_s: float
    duration_s: float


@dataclass(slots=True)
class EmulatorStats:
    samples_sent: int = 0
    samples_lost: int = 0  # in an outage, in dropped frames, or sent while no reader listened
    frames_dropped: int = 0
    bytes_sent: int = 0
    bytes_corrupted: int = 0
    disconnects: int = 0


def _full_scale(peak: float, ranges: tuple[float, ...]) -> float:
    return next((r for r in ranges if peak * 1.02 <= r), ranges[-1])


class SensorEmulator:
    """Turns ``samples`` into the byte stream a sensor would send. See the module docstring."""

    def __init__(
        self,
        samples: SampleBlock,
        wire_format: WireFormat = WireFormat.FRAME,
        faults: Faults | None = None,
        *,
        chunk_s: float = 0.01,
        config_every_s: float = 2.0,
        sensor_id: str = "emulator",
    ) -> None:
        if len(samples) < 2:
            raise ConfigError("the recording needs at least two samples to play")
        if wire_format is WireFormat.AUTO:
            raise ConfigError("the emulator sends frame or csv, not auto")
        self.samples = samples
        self.wire_format = wire_format
        self.faults = faults or Faults()
        self.chunk_s = chunk_s
        self.config_every_s = config_every_s
        self.stats = EmulatorStats()
        self._rng = np.random.default_rng(self.faults.seed)
        t = samples.t_s
        self._t0 = float(t[0])
        self.period_us = max(MIN_PERIOD_US, round(float(np.median(np.diff(t))) * 1e6))
        self.rate_hz = 1e6 / self.period_us
        acc_range = _full_scale(float(np.max(np.abs(samples.acc_g))), ACC_RANGES_G)
        gyro_range = None
        if samples.gyro_dps is not None:
            gyro_range = _full_scale(float(np.max(np.abs(samples.gyro_dps))), GYRO_RANGES_DPS)
        channels = 3 if gyro_range is None else 6
        per_frame = min(max(1, round(10_000 / self.period_us)), (244 - 14) // (2 * channels), MAX_SAMPLES_PER_FRAME)
        self.encoder = FrameEncoder(
            self.period_us, acc_range / 32768, None if gyro_range is None else gyro_range / 32768, per_frame, sensor_id
        )
        config = self.encoder.config
        self._acc_counts = quantise(samples.acc_g, config.acc_scale_g)
        self._gyro_counts = None
        if samples.gyro_dps is not None and config.gyro_scale_dps is not None:
            self._gyro_counts = quantise(samples.gyro_dps, config.gyro_scale_dps)
        self._t_us = np.rint((t - self._t0) * 1e6).astype(np.int64)
        self._last_t_us = 0
        self._last_config_us = 0  # device time of the last CONFIG sent by ``encode_span`` or ``hello``

    @property
    def duration_s(self) -> float:
        return float(self.samples.t_s[-1]) - self._t0

    def hello(self) -> bytes:
        """What the sensor sends when a connection starts: a CONFIG numbered 0 (frames) or the header (CSV)."""
        if self.wire_format is WireFormat.CSV:
            return self._header()
        self.encoder.seq = 0
        self._last_config_us = self._last_t_us
        return self.config_frame(self._last_t_us)

    def config_frame(self, t_us: int | None = None) -> bytes:
        """A CONFIG frame now (frames), or the header again (CSV); for a reader that may have missed the first."""
        if self.wire_format is WireFormat.CSV:
            return self._header()
        return self.encoder.config_frame(self._last_t_us if t_us is None else t_us)

    def _header(self) -> bytes:
        return b"ms,ax,ay,az,gx,gy,gz\n" if self._gyro_counts is not None else b"ms,ax,ay,az\n"

    def chunks(self) -> Iterator[Chunk | Disconnect]:
        """The whole stream, in order. Send ``hello()`` before the first chunk and after every reconnection."""
        f = self.faults
        window = None if f.disconnect_at_s is None else (f.disconnect_at_s, f.disconnect_at_s + f.disconnect_for_s)
        unplugged = False
        noise_due = f.noise_at_s
        next_config_s = self.config_every_s
        rel = self.samples.t_s - self._t0
        chunk_index = np.floor(rel / self.chunk_s).astype(np.int64)
        bounds = np.flatnonzero(np.diff(chunk_index)) + 1
        for lo, hi in zip([0, *bounds.tolist()], [*bounds.tolist(), len(rel)], strict=True):
            at_s = float(rel[hi - 1])
            if window is not None and at_s >= window[0] and rel[lo] < window[1]:
                if not unplugged:
                    unplugged = True
                    self.stats.disconnects += 1
                    yield Disconnect(window[0], window[1] - window[0])
                # Samples taken while unplugged are never heard (nor those of the chunk the unplug cut short).
                keep = rel[lo:hi] >= window[1]
                self.stats.samples_lost += int(np.count_nonzero(~keep))
                if not keep.any():
                    continue
                lo += int(np.argmax(keep))
                next_config_s = float(rel[lo]) + self.config_every_s
            parts: list[bytes] = []
            if noise_due is not None and at_s >= noise_due:
                parts.append(self._rng.integers(0, 256, f.noise_bytes, dtype=np.uint8).tobytes())
                noise_due = None
            if self.wire_format is WireFormat.FRAME and rel[lo] >= next_config_s:
                parts.append(self.encoder.config_frame(int(self._t_us[lo])))
                next_config_s = float(rel[lo]) + self.config_every_s
            sent = self._encode(lo, hi, parts)
            self._last_t_us = int(self._t_us[hi - 1])
            data = self._corrupt(b"".join(parts))
            if data:
                yield Chunk(at_s, data, sent)

    def encode_span(self, lo: int, hi: int) -> bytes:
        """Frames (or lines) for samples ``lo:hi``, with a CONFIG when one is due: for a transport that paces and
        drops on its own (BLE notifications). Faults apply as in ``chunks``."""
        parts: list[bytes] = []
        if self.wire_format is WireFormat.FRAME and self._t_us[lo] - self._last_config_us >= self.config_every_s * 1e6:
            parts.append(self.encoder.config_frame(int(self._t_us[lo])))
            self._last_config_us = int(self._t_us[lo])
        self._encode(lo, hi, parts)
        self._last_t_us = int(self._t_us[hi - 1])
        return self._corrupt(b"".join(parts))

    def _encode(self, lo: int, hi: int, parts: list[bytes]) -> int:
        """Append the frames (or lines) for samples ``lo:hi`` to ``parts``; return the samples kept."""
        drop = self.faults.drop_rate
        sent = 0
        if self.wire_format is WireFormat.CSV:
            keep = np.ones(hi - lo, dtype=bool)
            if drop:
                keep = self._rng.random(hi - lo) >= drop
            sent = int(np.count_nonzero(keep))
            self.stats.frames_dropped += hi - lo - sent
            self.stats.samples_lost += hi - lo - sent
            columns = [self._t_us[lo:hi, None] / 1000.0, self.samples.acc_g[lo:hi]]
            row = "{:.3f},{:.5f},{:.5f},{:.5f}"
            if self.samples.gyro_dps is not None:
                columns.append(self.samples.gyro_dps[lo:hi])
                row += ",{:.3f},{:.3f},{:.3f}"
            values = np.hstack(columns)[keep].ravel().tolist()
            parts.append(((row + "\n") * sent).format(*values).encode())
            self.stats.samples_sent += sent
            return sent
        for a, b in self._frame_spans(lo, hi):
            gyro_counts = None if self._gyro_counts is None else self._gyro_counts[a:b]
            frames = self.encoder.data_frames(int(self._t_us[a]), self._acc_counts[a:b], gyro_counts)
            if drop and self._rng.random() < drop:
                self.stats.frames_dropped += 1
                self.stats.samples_lost += b - a
                continue
            parts.extend(frames)
            sent += b - a
        self.stats.samples_sent += sent
        return sent

    def _frame_spans(self, lo: int, hi: int) -> Iterator[tuple[int, int]]:
        """Runs of samples that fit one frame: at most ``samples_per_frame``, on the period's grid (within half)."""
        per_frame = self.encoder.config.samples_per_frame
        period = self.period_us
        t = self._t_us
        a = lo
        while a < hi:
            b = min(a + per_frame, hi)
            expected = t[a] + np.arange(b - a) * period
            off = np.flatnonzero(np.abs(t[a:b] - expected) > period // 2)
            if len(off):
                b = a + int(off[0])
            yield a, b
            a = b

    def _corrupt(self, data: bytes) -> bytes:
        rate = self.faults.corrupt_rate
        if not rate or not data:
            return data
        hit = np.flatnonzero(self._rng.random(len(data)) < rate)
        if not len(hit):
            return data
        buf = np.frombuffer(data, dtype=np.uint8).copy()
        buf[hit] ^= self._rng.integers(1, 256, len(hit), dtype=np.uint8)
        self.stats.bytes_corrupted += len(hit)
        return buf.tobytes()
