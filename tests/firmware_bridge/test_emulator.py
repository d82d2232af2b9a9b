"""The emulator's byte stream, checked with the real decoders: what goes in comes out, and faults cost only data."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from repsense.errors import ConfigError
from repsense.firmware_bridge.emulator import Chunk, Disconnect, Faults, SensorEmulator
from repsense.firmware_bridge.emulator_io import PtyDevice
from repsense.firmware_bridge.framing import FrameDecoder, FrameType, decode_frame
from repsense.firmware_bridge.streams import StreamDecoder, WireFormat
from repsense.firmware_bridge.textlines import TextLineDecoder
from repsense.samples import SampleBlock


def recording(seconds: float = 3.0, rate_hz: float = 100.0, gyro: bool = True, jitter: float = 0.0) -> SampleBlock:
    rng = np.random.default_rng(7)
    n = int(seconds * rate_hz)
    t = 1234.5 + (np.arange(n) + rng.uniform(-jitter, jitter, n)) / rate_hz
    acc = np.round(rng.normal(0.0, 0.3, (n, 3)) + np.array([0.0, 0.0, 1.0]), 5)
    return SampleBlock(t, acc, np.round(rng.normal(0.0, 40.0, (n, 3)), 3) if gyro else None)


def stream(emulator: SensorEmulator) -> list[bytes]:
    """Every chunk's bytes, with the hello first and again after a disconnection."""
    out = [emulator.hello()]
    for item in emulator.chunks():
        out.append(emulator.hello() if isinstance(item, Disconnect) else item.data)
    return out


def decode(pieces: list[bytes], decoder: FrameDecoder | TextLineDecoder | StreamDecoder) -> SampleBlock:
    blocks = [b for piece in pieces for b in decoder.feed(piece)]
    if isinstance(decoder, TextLineDecoder):
        blocks += decoder.flush()
    return SampleBlock.concat(blocks)


def test_frames_carry_the_recording_to_a_count():
    rec = recording()
    emulator = SensorEmulator(rec, WireFormat.FRAME)
    out = decode(stream(emulator), FrameDecoder())
    config = emulator.encoder.config
    assert config.period_us == 10_000 and config.samples_per_frame == 1
    assert len(out) == len(rec)
    np.testing.assert_allclose(out.t_s, rec.t_s - rec.t_s[0], atol=1e-9)
    assert np.max(np.abs(out.acc_g - rec.acc_g)) <= config.acc_scale_g / 2 + 1e-12
    assert out.gyro_dps is not None and config.gyro_scale_dps is not None
    assert np.max(np.abs(out.gyro_dps - rec.gyro_dps)) <= config.gyro_scale_dps / 2 + 1e-9


def test_frame_size_follows_the_rate_and_ranges_fit_the_data():
    emulator = SensorEmulator(recording(1.0, rate_hz=1000.0, gyro=False), WireFormat.FRAME)
    config = emulator.encoder.config
    assert (config.period_us, config.samples_per_frame, config.gyro_scale_dps) == (1000, 10, None)
    assert config.acc_scale_g * 32768 == 2.0  # the data stay within +-2 g


def test_irregular_timing_survives_within_half_a_period():
    rec = recording(jitter=0.3)
    rec = SampleBlock.concat([rec.slice(0, 100), SampleBlock(rec.t_s[150:] + 0.5, rec.acc_g[150:], rec.gyro_dps[150:])])
    out = decode(stream(SensorEmulator(rec, WireFormat.FRAME)), FrameDecoder())
    assert len(out) == len(rec)
    assert np.max(np.abs(out.t_s - (rec.t_s - rec.t_s[0]))) <= 0.005 + 1e-9


def test_csv_lines_carry_the_recording_exactly():
    rec = recording()
    decoder = StreamDecoder(WireFormat.AUTO)
    out = decode(stream(SensorEmulator(rec, WireFormat.CSV)), decoder)
    assert decoder.wire_format is WireFormat.CSV
    np.testing.assert_allclose(out.t_s, rec.t_s - rec.t_s[0], atol=1e-9)
    np.testing.assert_array_equal(out.acc_g, rec.acc_g)
    np.testing.assert_array_equal(out.gyro_dps, rec.gyro_dps)


@settings(max_examples=25, deadline=None)
@given(cuts=st.lists(st.integers(1, 300), min_size=1, max_size=40))
def test_how_the_bytes_are_cut_does_not_matter(cuts):
    data = b"".join(stream(SensorEmulator(recording(1.0), WireFormat.FRAME, Faults(corrupt_rate=0.01, seed=3))))
    pieces, start = [], 0
    for size in cuts * (len(data) // sum(cuts) + 1):
        pieces.append(data[start : start + size])
        start += size
    whole = decode([data], FrameDecoder())
    cut = decode(pieces, StreamDecoder(WireFormat.AUTO))
    np.testing.assert_array_equal(cut.t_s, whole.t_s)
    np.testing.assert_array_equal(cut.acc_g, whole.acc_g)


def test_corruption_costs_frames_but_never_invents_a_sample():
    rec = recording(10.0)
    emulator = SensorEmulator(rec, WireFormat.FRAME, Faults(corrupt_rate=0.01, seed=1))
    pieces = stream(emulator)
    decoder = FrameDecoder()
    out = decode(pieces, decoder)
    sent = sum(len(p) for p in pieces)
    assert 0.007 < emulator.stats.bytes_corrupted / sent < 0.013
    assert 0.6 * len(rec) < len(out) < 0.9 * len(rec)  # 26-byte frames: about 23 % of them are hit
    assert decoder.stats.crc_errors > 0
    # Every sample that got through is the one sent at that time: the CRC lets nothing wrong pass.
    index = np.rint(out.t_s / 0.01).astype(int)
    np.testing.assert_allclose(out.t_s, rec.t_s[index] - rec.t_s[0], atol=1e-9)
    assert np.max(np.abs(out.acc_g - rec.acc_g[index])) <= emulator.encoder.config.acc_scale_g


def test_every_dropped_frame_shows_in_the_sequence_counter():
    emulator = SensorEmulator(recording(10.0), WireFormat.FRAME, Faults(drop_rate=0.05, seed=2))
    decoder = FrameDecoder()
    out = decode(stream(emulator), decoder)
    assert 20 < emulator.stats.frames_dropped < 80
    assert decoder.stats.frames_lost == emulator.stats.frames_dropped
    assert len(out) == 1000 - emulator.stats.frames_dropped


def test_a_noise_burst_costs_at_most_the_frames_around_it():
    emulator = SensorEmulator(recording(4.0), WireFormat.FRAME, Faults(noise_at_s=2.0, noise_bytes=500, seed=4))
    decoder = FrameDecoder()
    out = decode(stream(emulator), decoder)
    assert decoder.stats.resyncs + decoder.stats.crc_errors + decoder.stats.malformed > 0
    assert len(out) >= 400 - 1


def test_a_disconnection_loses_its_samples_and_restarts_the_sequence_with_a_config():
    rec = recording(6.0)
    emulator = SensorEmulator(rec, WireFormat.FRAME, Faults(disconnect_at_s=2.0, disconnect_for_s=1.5))
    items = list(emulator.chunks())
    cut = [i for i, item in enumerate(items) if isinstance(item, Disconnect)]
    assert len(cut) == 1 and items[cut[0]] == Disconnect(2.0, 1.5)
    before, after = items[: cut[0]], items[cut[0] + 1 :]
    assert all(isinstance(c, Chunk) and c.at_s < 2.0 for c in before)
    assert all(isinstance(c, Chunk) and c.at_s >= 3.5 for c in after)
    sent = sum(c.samples for c in items if isinstance(c, Chunk))
    assert sent + emulator.stats.samples_lost == len(rec)
    assert emulator.stats.samples_lost == pytest.approx(150, abs=2)
    hello = decode_frame(emulator.hello()[:-1])
    assert (hello.frame_type, hello.seq) == (FrameType.CONFIG, 0)
    # A fresh decoder per connection (as the serial link does) picks the stream up at once.
    first = after[0]
    assert isinstance(first, Chunk)
    assert len(decode([emulator.hello(), first.data], FrameDecoder())) == first.samples


def test_impossible_settings_are_config_errors():
    with pytest.raises(ConfigError):
        Faults(corrupt_rate=1.5)
    with pytest.raises(ConfigError):
        Faults(disconnect_at_s=1.0, disconnect_for_s=0.0)
    with pytest.raises(ConfigError):
        SensorEmulator(recording(), WireFormat.AUTO)


@pytest.mark.integration
def test_a_pty_device_knows_when_a_reader_is_there(tmp_path):
    import serial

    device = PtyDevice(link=tmp_path / "sensor")
    name = device.open()
    try:
        assert (tmp_path / "sensor").resolve() == (tmp_path / name).resolve()
        assert not device.reader_attached()
        with serial.Serial(str(tmp_path / "sensor"), timeout=1.0) as reader:
            assert device.reader_attached()
            assert device.write(b"hello\x00")
            assert reader.read(6) == b"hello\x00"
        assert not device.reader_attached()
        assert not device.write(b"nobody listens")
    finally:
        device.close()
    assert not (tmp_path / "sensor").exists()
