"""COBS, CRC, frame layout and FrameDecoder: fixed vectors, the h11-style streaming test, fuzzing, timing."""

from __future__ import annotations

import itertools
import struct

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from repsense.errors import ConfigError
from repsense.firmware_bridge.cobs import CobsDecodeError, cobs_decode, cobs_encode, crc16_ccitt_false
from repsense.firmware_bridge.framing import (
    MAX_ENCODED_FRAME,
    ClockMapper,
    DeviceConfig,
    Fault,
    FrameDecoder,
    FrameEncoder,
    FrameError,
    FrameType,
    decode_frame,
    encode_frame,
)
from repsense.samples import SampleBlock

ACC = 1 / 4096
GYRO = 1 / 32.8


def _bytes(hexstr: str) -> bytes:
    return bytes.fromhex(hexstr.replace(" ", ""))


# -- fixed vectors ---------------------------------------------------------------------------------------------


def test_crc16_ccitt_false_check_value() -> None:
    assert crc16_ccitt_false(b"123456789") == 0x29B1


_RUN = bytes(range(1, 255))  # 01..FE, 254 non-zero bytes

# The examples of https://en.wikipedia.org/wiki/Consistent_Overhead_Byte_Stuffing (encoded form with delimiter).
COBS_VECTORS = [
    (b"", b"\x01\x00"),
    (_bytes("00"), _bytes("01 01 00")),
    (_bytes("00 00"), _bytes("01 01 01 00")),
    (_bytes("00 11 00"), _bytes("01 02 11 01 00")),
    (_bytes("11 22 00 33"), _bytes("03 11 22 02 33 00")),
    (_bytes("11 22 33 44"), _bytes("05 11 22 33 44 00")),
    (_bytes("11 00 00 00"), _bytes("02 11 01 01 01 00")),
    (_RUN, b"\xff" + _RUN + b"\x00"),
    (b"\x00" + _RUN, b"\x01\xff" + _RUN + b"\x00"),
    (_RUN + b"\xff", b"\xff" + _RUN + b"\x02\xff\x00"),
    (bytes(range(2, 256)) + b"\x00", b"\xff" + bytes(range(2, 256)) + b"\x01\x01\x00"),
    (bytes(range(3, 256)) + b"\x00\x01", b"\xfe" + bytes(range(3, 256)) + b"\x02\x01\x00"),
]


@pytest.mark.parametrize(("raw", "wire"), COBS_VECTORS)
def test_cobs_wikipedia_vectors(raw: bytes, wire: bytes) -> None:
    assert cobs_encode(raw) + b"\x00" == wire
    assert cobs_decode(wire[:-1]) == raw


@given(st.binary(max_size=1200))
def test_cobs_round_trip(raw: bytes) -> None:
    encoded = cobs_encode(raw)
    assert b"\x00" not in encoded
    assert len(encoded) <= len(raw) + len(raw) // 254 + 1
    assert cobs_decode(encoded) == raw


@pytest.mark.parametrize("bad", [_bytes("05 11 22"), _bytes("02 11 00 01"), _bytes("ff") + b"\x01" * 10])
def test_cobs_decode_rejects_invalid(bad: bytes) -> None:
    with pytest.raises(CobsDecodeError):
        cobs_decode(bad)


# The worked example of docs/protocol.md: these bytes are the protocol.
DOC_CONFIG = _bytes("03 01 01 01 04 40 42 0f 03 88 13 01 01 01 0f 80 39 90 c1 f9 3c 0a 04 62 61 72 31 88 b4 00")
DOC_DATA = _bytes(
    "04 01 02 01 04 10 4a 0f 03 06 02 01 01 01 01 03 10 21 03 df ff 01 03 ff ff 04 01 04 10 01 01 01 02 01 03 a7 da 00"
)


def test_worked_example_of_the_protocol_document() -> None:
    encoder = FrameEncoder(5000, ACC, GYRO, 10, "bar1")
    assert encoder.config_frame(1_000_000) == DOC_CONFIG
    frames = encoder.data_frames(1_002_000, [[0, 0, 4096], [-1, 256, 4100]], [[33, -33, 0], [0, 0, 1]])
    assert frames == [DOC_DATA]
    decoder = FrameDecoder()
    (block,) = decoder.feed(DOC_CONFIG + DOC_DATA)
    assert decoder.config == DeviceConfig(5000, ACC, float(np.float32(GYRO)), 10, "bar1")
    np.testing.assert_allclose(block.t_s, [0.002, 0.007])
    np.testing.assert_allclose(block.acc_g, [[0, 0, 1.0], [-ACC, 0.0625, 4100 * ACC]])
    assert block.gyro_dps is not None
    np.testing.assert_allclose(block.gyro_dps[0], [33 * GYRO, -33 * GYRO, 0], rtol=1e-6)


def test_ten_samples_with_gyro_fit_one_ble_notification() -> None:
    encoder = FrameEncoder(5000, ACC, GYRO, 19)
    worst = np.full((19, 3), -1)  # 0xFFFF everywhere: no zeros, the longest COBS output
    (frame,) = encoder.data_frames(0xFFFFFFFF, worst, worst)
    assert len(frame) <= 244
    assert len(FrameEncoder(5000, ACC, GYRO, 10).data_frames(0, worst[:10], worst[:10])[0]) == 134


# -- stream helpers --------------------------------------------------------------------------------------------


def _counts(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.integers(-32768, 32768, size=(n, 3))


def _stream(
    n_frames: int = 12, seq: int = 0, t0_us: int = 1000, gyro: bool = True, seed: int = 1
) -> tuple[bytes, FrameEncoder, np.ndarray, np.ndarray | None]:
    rng = np.random.default_rng(seed)
    encoder = FrameEncoder(5000, ACC, GYRO if gyro else None, 10, "test", seq=seq)
    acc = _counts(rng, 10 * n_frames)
    gyr = _counts(rng, 10 * n_frames) if gyro else None
    stream = encoder.config_frame(t0_us) + b"".join(encoder.data_frames(t0_us + 500, acc, gyr))
    return stream, encoder, acc, gyr


def _decode_all(decoder: FrameDecoder, pieces: list[bytes]) -> list[SampleBlock]:
    out: list[SampleBlock] = []
    for piece in pieces:
        out += decoder.feed(piece)
    return out


def _same_blocks(a: list[SampleBlock], b: list[SampleBlock]) -> bool:
    return len(a) == len(b) and all(
        np.array_equal(x.t_s, y.t_s)
        and np.array_equal(x.acc_g, y.acc_g)
        and (x.gyro_dps is None) == (y.gyro_dps is None)
        and (x.gyro_dps is None or y.gyro_dps is None or np.array_equal(x.gyro_dps, y.gyro_dps))
        for x, y in zip(a, b, strict=True)
    )


def test_round_trip_values_and_times() -> None:
    stream, _, acc, gyr = _stream()
    decoder = FrameDecoder()
    block = SampleBlock.concat(decoder.feed(stream))
    assert gyr is not None and block.gyro_dps is not None
    np.testing.assert_array_equal(block.acc_g, acc * np.float32(ACC))
    np.testing.assert_array_equal(block.gyro_dps, gyr * np.float32(GYRO))
    np.testing.assert_allclose(block.t_s, 0.0005 + 0.005 * np.arange(len(block)), atol=1e-12)
    assert decoder.stats.frames_ok == 13
    assert decoder.stats.bytes_in == len(stream)


def test_accelerometer_only_sensor_gives_no_gyro() -> None:
    stream, _, acc, _ = _stream(gyro=False)
    blocks = FrameDecoder().feed(stream)
    assert all(b.gyro_dps is None for b in blocks)
    np.testing.assert_array_equal(SampleBlock.concat(blocks).acc_g, acc * ACC)


# -- h11-style: the same blocks whatever the cuts ----------------------------------------------------------------


def test_whole_and_byte_at_a_time_agree() -> None:
    stream, *_ = _stream()
    data = b"\x13\x37garbage" + b"\x00" + stream + b"\x05trailing"
    whole = FrameDecoder().feed(data)
    one_by_one = _decode_all(FrameDecoder(), [data[i : i + 1] for i in range(len(data))])
    assert len(whole) == 12
    assert _same_blocks(whole, one_by_one)


@settings(max_examples=60, deadline=None)
@given(
    cuts=st.lists(st.integers(1, 300), max_size=40),
    junk_before=st.binary(max_size=50),
    junk_after=st.binary(max_size=50),
)
def test_blocks_do_not_depend_on_cuts(cuts: list[int], junk_before: bytes, junk_after: bytes) -> None:
    stream, *_ = _stream(n_frames=8)
    data = junk_before + b"\x00" + stream + junk_after
    pieces, start = [], 0
    for size in cuts:
        pieces.append(data[start : start + size])
        start += size
    pieces.append(data[start:])
    whole = FrameDecoder()
    expected = whole.feed(data)
    cut = FrameDecoder()
    assert _same_blocks(expected, _decode_all(cut, pieces))
    assert whole.stats == cut.stats
    assert len(expected) == 8


# -- fuzzing -----------------------------------------------------------------------------------------------------


def _segments_counted(data: bytes) -> int:
    *complete, tail = data.split(b"\x00")
    return sum(1 for s in complete if s) + (len(tail) > MAX_ENCODED_FRAME)


def _sorted_segments(decoder: FrameDecoder) -> int:
    s = decoder.stats
    return s.frames_ok + s.resyncs + s.crc_errors + s.malformed + s.no_config + s.out_of_order


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=400), max_size=8))
def test_random_bytes_never_raise_and_every_segment_is_counted_once(chunks: list[bytes]) -> None:
    decoder = FrameDecoder()
    for i, chunk in enumerate(chunks):
        decoder.feed(chunk, arrival_s=0.01 * i)
    assert _sorted_segments(decoder) == _segments_counted(b"".join(chunks))


def test_overlong_garbage_costs_one_resync() -> None:
    stream, *_ = _stream(n_frames=2)
    decoder = FrameDecoder()
    blocks = decoder.feed(b"\x01" * 5000 + b"\x00" + stream)
    assert len(blocks) == 2
    assert decoder.stats.resyncs == 1


_mutation = st.tuples(
    st.sampled_from(["flip", "insert", "delete"]), st.floats(0, 1, exclude_max=True), st.integers(0, 255)
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutations=st.lists(_mutation, min_size=1, max_size=6))
def test_untouched_frames_survive_mutations(mutations: list[tuple[str, float, int]]) -> None:
    # Frame k carries acc x counts = k in every sample, so a recovered block names its frame.
    n_frames = 20
    encoder = FrameEncoder(5000, ACC, None, 4, seq=65530)
    first = encoder.config_frame(0)
    frames = [
        encoder.data_frames(100 + 20_000 * k, np.column_stack([np.full(4, k), np.arange(4), np.full(4, 4096)]))[0]
        for k in range(n_frames)
    ]
    stream = bytearray(first + b"".join(frames))
    starts = np.cumsum([len(first)] + [len(f) for f in frames])[:-1]
    touched: set[int] = set()
    # Apply from the end so earlier positions stay valid; positions never touch the CONFIG frame.
    # One mutation per position: a second delete at the same place would reach the byte after it.
    by_position = {
        len(first) + int(where * (len(stream) - len(first))): (kind, value) for kind, where, value in mutations
    }
    positions = sorted(((pos, kind, value) for pos, (kind, value) in by_position.items()), reverse=True)
    for pos, kind, value in positions:
        k = int(np.searchsorted(starts, pos, side="right")) - 1
        touched.add(k)
        if pos == starts[k] + len(frames[k]) - 1:
            touched.add(k + 1)  # frame k's delimiter: changing it merges frame k + 1 into k
        if kind == "flip":
            stream[pos] ^= 1 << (value % 8)
        elif kind == "insert":
            stream[pos:pos] = bytes([value])
        else:
            del stream[pos]
    decoder = FrameDecoder()
    blocks = decoder.feed(bytes(stream))
    recovered = {round(float(b.acc_g[0, 0] / np.float32(ACC))): b for b in blocks}
    for k in set(range(n_frames)) - touched:
        assert k in recovered, f"frame {k} was not touched but was lost ({decoder.stats})"
        np.testing.assert_allclose(recovered[k].t_s - recovered[k].t_s[0], 0.005 * np.arange(4), atol=1e-9)
        np.testing.assert_array_equal(recovered[k].acc_g[:, 1], np.arange(4) * np.float32(ACC))
    good = sorted(k for k in recovered if k not in touched)
    for a, b in itertools.pairwise(good):
        assert recovered[b].t_s[0] - recovered[a].t_s[0] == pytest.approx(0.02 * (b - a), abs=1e-9)
    assert _sorted_segments(decoder) == _segments_counted(bytes(stream))


# -- faults, sorted into their counters --------------------------------------------------------------------------


def _raw_frame(version: int, frame_type: int, payload: bytes, seq: int = 0, t_us: int = 0) -> bytes:
    body = struct.pack("<BBHI", version, frame_type, seq, t_us) + payload
    return cobs_encode(body + crc16_ccitt_false(body).to_bytes(2, "little")) + b"\x00"


def test_faults_are_sorted_into_counters() -> None:
    encoder = FrameEncoder(5000, ACC, GYRO, 10)
    counts = np.full((10, 3), 257)  # bytes 01 01: the payload holds no zero, so COBS codes sit in the header
    (before_config,) = encoder.data_frames(1000, counts, counts)  # seq 0
    config = encoder.config_frame(51_000)  # seq 1: a listener joined mid-stream
    lost, last = encoder.data_frames(52_000, np.vstack([counts, counts]), np.vstack([counts, counts]))
    corrupted = bytearray(lost)
    corrupted[30] = 0x02  # a payload byte, still non-zero: valid COBS with a bad CRC
    decoder = FrameDecoder()
    decoder.feed(b"\x00" + before_config)
    decoder.feed(config + bytes(corrupted) + last)
    decoder.feed(_raw_frame(2, 2, b"") + _raw_frame(1, 9, b"") + _raw_frame(1, 2, b"\x06\x02\x00"))
    decoder.feed(_raw_frame(1, 1, struct.pack("<IffBB", 5000, 1.0, 0.0, 10, 0)))  # 32768 g full scale
    decoder.feed(b"\x02\x00" + last)  # not COBS, then a duplicate
    s = decoder.stats
    assert (s.no_config, s.crc_errors, s.malformed, s.resyncs, s.out_of_order) == (1, 1, 4, 1, 1)
    assert s.frames_ok == 2  # the CONFIG and the last DATA frame
    assert (s.seq_gaps, s.frames_lost) == (1, 1)  # the corrupted frame


def test_decode_frame_names_the_fault() -> None:
    with pytest.raises(FrameError) as info:
        decode_frame(_raw_frame(1, 2, b"\x04\x01\x00\x00\x00\x00\x00\x00\x00\x00")[:-1])
    assert info.value.fault is Fault.LENGTH
    frame = decode_frame(encode_frame(FrameType.DATA, 7, 99, b"\x03\x01\x01\x00\x02\x00\x03\x00")[:-1])
    assert (frame.seq, frame.t_us) == (7, 99)
    assert frame.counts is not None and frame.counts.tolist() == [[1, 2, 3]]


def test_channels_unlike_the_config_are_malformed() -> None:
    encoder = FrameEncoder(5000, ACC, None, 10)
    decoder = FrameDecoder()
    decoder.feed(encoder.config_frame(0))
    decoder.feed(encode_frame(FrameType.DATA, 1, 100, b"\x06\x01" + bytes(12)))
    assert decoder.stats.malformed == 1


# -- sequence numbers and the device clock -------------------------------------------------------------------


def test_sequence_gaps_across_the_u16_wrap() -> None:
    stream, *_ = _stream(n_frames=12, seq=65530)  # CONFIG 65530, DATA 65531 .. 65535, 0 .. 6
    frames = [f + b"\x00" for f in stream.split(b"\x00")[:-1]]
    kept = [f for i, f in enumerate(frames) if i not in (4, 5, 6, 7, 10)]  # seq 65534, 65535, 0, 1 and 4
    decoder = FrameDecoder()
    blocks = decoder.feed(b"".join(kept))
    assert (decoder.stats.seq_gaps, decoder.stats.frames_lost) == (2, 5)
    assert len(blocks) == 7
    starts = np.array([b.t_s[0] for b in blocks])
    np.testing.assert_allclose(np.diff(starts) / 0.05, [1, 1, 5, 1, 2, 1], atol=1e-9)


def test_device_clock_unwraps_across_u32() -> None:
    t0 = (1 << 32) - 120_000  # the clock wraps during the third frame
    stream, *_ = _stream(n_frames=6, t0_us=t0)
    block = SampleBlock.concat(FrameDecoder().feed(stream))
    np.testing.assert_allclose(block.t_s, 0.0005 + 0.005 * np.arange(60), atol=1e-9)


def test_duplicates_and_reordered_frames_are_dropped() -> None:
    stream, *_ = _stream(n_frames=5)
    frames = [f + b"\x00" for f in stream.split(b"\x00")[:-1]]
    order = [0, 1, 2, 2, 4, 3, 5]
    decoder = FrameDecoder()
    blocks = decoder.feed(b"".join(frames[i] for i in order))
    t = np.concatenate([b.t_s for b in blocks])
    assert np.all(np.diff(t) > 0)
    assert len(blocks) == 4  # frames 1, 2, 4, 5; the duplicate 2 and the late 3 are dropped
    assert decoder.stats.out_of_order == 2
    assert (decoder.stats.seq_gaps, decoder.stats.frames_lost) == (1, 1)


def test_device_restart_continues_the_time_line() -> None:
    first, *_ = _stream(n_frames=4, t0_us=50_000_000)
    second, *_ = _stream(n_frames=4, t0_us=300_000, seed=2)  # rebooted: seq 0 and a young clock
    decoder = FrameDecoder()
    blocks = decoder.feed(first + second)
    t = np.concatenate([b.t_s for b in blocks])
    assert len(blocks) == 8
    assert np.all(np.diff(t) > 0)
    assert decoder.stats.restarts == 1
    assert decoder.stats.frames_lost == 0


def test_restart_after_the_clock_passed_half_its_range() -> None:
    # After 40 min the clock is past 2^31 us, so a reboot looks like a step forward: the CONFIG numbered 0 tells.
    first, *_ = _stream(n_frames=4, seq=50_000, t0_us=40 * 60 * 10**6)
    second, *_ = _stream(n_frames=4, t0_us=300_000, seed=2)
    decoder = FrameDecoder()
    blocks = decoder.feed(first + second)
    assert (len(blocks), decoder.stats.restarts, decoder.stats.frames_lost) == (8, 1, 0)
    steps = np.diff(np.concatenate([b.t_s for b in blocks]))
    # The new boot continues a period after the last sample (plus the new CONFIG's lead of 0.5 ms).
    np.testing.assert_allclose(np.delete(steps, 39), 0.005)
    assert steps[39] == pytest.approx(0.0055)


def test_restart_whose_first_config_was_lost() -> None:
    first, *_ = _stream(n_frames=4, seq=30_000, t0_us=40 * 60 * 10**6)
    second, *_ = _stream(n_frames=6, t0_us=300_000, seed=2)
    second = second[second.index(0) + 1 :]  # frames 1.. of the new boot: all behind seq 30 004
    decoder = FrameDecoder()
    blocks = decoder.feed(first + second)
    assert decoder.stats.restarts == 1
    assert decoder.stats.out_of_order == 2  # the two frames it took to be sure
    assert len(blocks) == 4 + 4
    assert np.all(np.diff(np.concatenate([b.t_s for b in blocks])) > 0)


def test_a_config_numbered_0_after_a_lost_65535_is_no_restart() -> None:
    encoder = FrameEncoder(5000, ACC, None, 10, seq=65533)
    counts = np.zeros((10, 3), int)
    frames = [encoder.config_frame(0), *encoder.data_frames(1000, np.vstack([counts, counts]))]
    lost = encoder.data_frames(101_000, counts)  # seq 65535
    frames += [encoder.config_frame(150_000), *encoder.data_frames(151_000, counts)]  # seq 0, 1
    decoder = FrameDecoder()
    blocks = decoder.feed(b"".join(frames))
    assert lost and len(blocks) == 3
    assert (decoder.stats.restarts, decoder.stats.frames_lost) == (0, 1)
    assert blocks[-1].t_s[0] == pytest.approx(0.151)


def test_config_change_applies_to_later_frames() -> None:
    stream, *_ = _stream(n_frames=2)
    faster = FrameEncoder(1000, ACC * 2, None, 5, seq=3)
    more = faster.config_frame(200_000) + b"".join(faster.data_frames(201_000, np.ones((5, 3), int)))
    blocks = FrameDecoder().feed(stream + more)
    assert blocks[-1].gyro_dps is None
    np.testing.assert_allclose(np.diff(blocks[-1].t_s), 0.001)
    np.testing.assert_allclose(blocks[-1].acc_g, 2 * ACC)


# -- de-jitter ---------------------------------------------------------------------------------------------------


def _bursty_session(
    seed: int, drift_ppm: float, backlog_frames: int = 0, seconds: float = 30.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Decode a session whose frames reach the host in bursts. Returns host times, true host times, arrivals."""
    rng = np.random.default_rng(seed)
    period_us, per_frame = 5000, 10
    n_frames = int(seconds / (period_us * per_frame * 1e-6))
    encoder = FrameEncoder(period_us, ACC, GYRO, per_frame)
    host_epoch = 12_345.678  # host clock when the device clock read 0
    rate = 1 + drift_ppm * 1e-6  # host seconds per device second

    def host(dev_us: float) -> float:
        return host_epoch + dev_us * 1e-6 * rate

    chunks: list[tuple[float, bytes]] = [(host(0) + 0.003, encoder.config_frame(0))]
    truth: list[np.ndarray] = []
    next_burst = host(0)
    for k in range(n_frames):
        t0 = 1000 + k * per_frame * period_us
        counts = np.zeros((per_frame, 3), int)
        (frame,) = encoder.data_frames(t0, counts, counts)
        ready = host(t0 + (per_frame - 1) * period_us)
        # The host reads in bursts every 20-60 ms, a little after each burst is due (USB polling, BLE intervals).
        while next_burst < ready:
            next_burst += rng.uniform(0.02, 0.06)
        arrival = next_burst + rng.uniform(0.0005, 0.004)
        if k < backlog_frames:
            arrival = host(1000 + backlog_frames * per_frame * period_us) + 0.002
        chunks.append((arrival, frame))
        truth.append(np.array([host(t0 + i * period_us) for i in range(per_frame)]))
        if k % 40 == 39:  # sent right after the frame, so it cannot arrive earlier
            chunks.append((arrival, encoder.config_frame(t0 + (per_frame - 1) * period_us)))
    decoder = FrameDecoder()
    t: list[np.ndarray] = []
    arrivals: list[np.ndarray] = []
    for arrival, data in chunks:
        for block in decoder.feed(data, arrival_s=arrival):
            t.append(block.t_s)
            arrivals.append(np.full(len(block), arrival))
    return np.concatenate(t), np.concatenate(truth), np.concatenate(arrivals)


@pytest.mark.parametrize("drift_ppm", [-80.0, 0.0, 80.0])
def test_bursty_arrivals_give_smooth_increasing_times(drift_ppm: float) -> None:
    t, truth, arrivals = _bursty_session(seed=3, drift_ppm=drift_ppm)
    assert np.all(np.diff(t) > 0)
    # Hardly ever placed after it arrived: only while the offset slews down to a new, lower minimum.
    assert np.all(t <= arrivals + 0.002)
    assert np.all(np.abs(np.diff(t) / 0.005 - 1) <= 0.25 + 1e-6)
    steady = slice(1600, None)  # after the first window (8 s)
    spacing = np.diff(t[steady]) / 0.005
    assert np.all(np.abs(spacing - 1) <= 0.02 + 1e-6)
    error = t[steady] - truth[steady]
    # Never early; late by at most the lowest latency seen (0.5-4 ms plus the wait for the next burst).
    assert error.min() > -1e-3
    assert error.max() < 0.03
    assert np.median(error) < 0.01


def test_a_backlog_at_start_is_recovered_from() -> None:
    t, truth, _ = _bursty_session(seed=4, drift_ppm=0.0, backlog_frames=20)
    assert np.all(np.diff(t) > 0)
    assert np.all(np.diff(t) >= 0.005 * 0.75 - 1e-9)
    late = t[-1000:] - truth[-1000:]
    assert late.max() < 0.03


def test_without_arrival_times_device_time_is_used() -> None:
    stream, *_ = _stream(n_frames=3, t0_us=7_000_000)
    block = SampleBlock.concat(FrameDecoder().feed(stream))
    assert block.t_s[0] == pytest.approx(0.0005)


def test_clock_mapper_settings_are_checked() -> None:
    with pytest.raises(ConfigError):
        ClockMapper(max_slew=1.5)


# -- the encoder ---------------------------------------------------------------------------------------------


def test_encode_block_quantises_and_saturates() -> None:
    encoder = FrameEncoder(5000, ACC, GYRO, 10)
    t = np.arange(3) * 0.005
    block = SampleBlock(t, [[0.5, -9.5, 1.0], [8.5, 0.0, 0.00013], [-8.0, 0.1, 0.2]], np.full((3, 3), 1500.0))
    decoder = FrameDecoder()
    decoder.feed(encoder.config_frame(0))
    (out,) = decoder.feed(encoder.encode_block(block, t_us_first=1000))
    full_scale = 32767 * ACC
    np.testing.assert_allclose(out.acc_g[:, 0], [0.5, full_scale, -8.0])
    assert out.acc_g[0, 1] == -8.0
    assert out.acc_g[1, 2] == pytest.approx(ACC)  # 0.00013 g rounds to one count
    assert out.gyro_dps is not None
    assert out.gyro_dps.max() == pytest.approx(32767 * np.float32(GYRO))


def test_encoder_rejects_impossible_settings() -> None:
    with pytest.raises(ConfigError):
        FrameEncoder(5000, 1.0, None, 10)
    with pytest.raises(ConfigError):
        FrameEncoder(5000, ACC, None, 0)
    with pytest.raises(ConfigError):
        FrameEncoder(5000, ACC, None, 10, sensor_id="x" * 33)
    with pytest.raises(ValueError, match="int16"):
        FrameEncoder(5000, ACC, None, 10).data_frames(0, [[40000, 0, 0]])
