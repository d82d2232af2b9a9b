"""The BLE profile decoders: vendor test vectors, stream cuts, junk, truncation and corruption."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from repsense.errors import ConfigError
from repsense.firmware_bridge.profiles import ArrivalClock, metamotion, polar_pmd, witmotion
from repsense.samples import SampleBlock

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _join(blocks: list[SampleBlock]) -> SampleBlock:
    return SampleBlock.concat(blocks)


def _feed_cuts(decoder: witmotion.WitMotionDecoder, data: bytes, cuts: list[int]) -> list[SampleBlock]:
    blocks: list[SampleBlock] = []
    pos = 0
    for size in cuts:
        blocks += decoder.feed(data[pos : pos + size])
        pos += size
    blocks += decoder.feed(data[pos:])
    return blocks


# ---------------------------------------------------------------------------------------------------------------
# WitMotion


def test_witmotion_commands_are_the_documented_bytes() -> None:
    # Bytes from the fact sheet (/work/shared/PROTOCOLS.md, WitMotion section).
    assert witmotion.unlock_command() == bytes.fromhex("FF AA 69 88 B5")
    assert witmotion.save_command() == bytes.fromhex("FF AA 00 00 00")
    assert [witmotion.rate_command(hz) for hz in (10, 20, 50, 100)] == [
        bytes.fromhex(f"FF AA 03 {code:02X} 00") for code in (6, 7, 8, 9)
    ]
    assert witmotion.rate_commands(50)[1] == bytes.fromhex("FF AA 03 08 00")
    with pytest.raises(ConfigError):
        witmotion.rate_command(200)


def test_witmotion_packet_scales() -> None:
    # 55 61, ax = 0x0800 (2048 -> 1 g), ay = -2048, az = 0x4000 (8 g), wx = 0x4000 (1000 dps), wy = -16384, wz = 0,
    # then three angles that are ignored.
    packet = bytes.fromhex("55 61 00 08 00 F8 00 40 00 40 00 C0 00 00 11 11 22 22 33 33")
    blocks = witmotion.WitMotionDecoder().feed(packet)
    assert len(blocks) == 1
    np.testing.assert_allclose(blocks[0].acc_g, [[1.0, -1.0, 8.0]])
    assert blocks[0].gyro_dps is not None
    np.testing.assert_allclose(blocks[0].gyro_dps, [[1000.0, -1000.0, 0.0]])


def _wit_stream(seed: int, n: int) -> tuple[bytes, np.ndarray]:
    rng = np.random.default_rng(seed)
    counts = rng.integers(-32768, 32768, size=(n, 9))
    data = b"".join(witmotion.encode_packet(tuple(c[0:3]), tuple(c[3:6]), tuple(c[6:9])) for c in counts)
    return data, counts


@FAST
@given(seed=st.integers(0, 2**32 - 1), cuts=st.lists(st.integers(1, 45), max_size=40))
def test_witmotion_samples_do_not_depend_on_cuts(seed: int, cuts: list[int]) -> None:
    data, counts = _wit_stream(seed, 25)
    whole = _join(witmotion.WitMotionDecoder().feed(data))
    cut_decoder = witmotion.WitMotionDecoder()
    cut = _join(_feed_cuts(cut_decoder, data, cuts))
    np.testing.assert_array_equal(whole.acc_g, cut.acc_g)
    np.testing.assert_array_equal(whole.gyro_dps, cut.gyro_dps)
    np.testing.assert_array_equal(whole.t_s, cut.t_s)  # no arrival times: k / nominal rate
    np.testing.assert_allclose(whole.acc_g, counts[:, 0:3] * 16 / 32768)
    assert cut_decoder.stats.frames_ok == 25 and cut_decoder.stats.resyncs == 0


def test_witmotion_byte_by_byte() -> None:
    data, counts = _wit_stream(1, 10)
    decoder = witmotion.WitMotionDecoder()
    blocks = [b for i in range(len(data)) for b in decoder.feed(data[i : i + 1])]
    assert len(blocks) == 10
    gyro = _join(blocks).gyro_dps
    assert gyro is not None
    np.testing.assert_allclose(gyro, counts[:, 3:6] * 2000 / 32768)


@FAST
@given(
    seed=st.integers(0, 2**32 - 1),
    junk=st.lists(st.binary(min_size=1, max_size=30).filter(lambda b: 0x55 not in b), min_size=1, max_size=5),
    cuts=st.lists(st.integers(1, 60), max_size=20),
)
def test_witmotion_junk_between_packets_resyncs(seed: int, junk: list[bytes], cuts: list[int]) -> None:
    data, counts = _wit_stream(seed, 12)
    packets = [data[i : i + 20] for i in range(0, len(data), 20)]
    # A reply packet and junk (with a stray 0x55 that is not a header) between data packets.
    reply = bytes.fromhex("55 71") + bytes(18)
    stream = b"".join(packets[:2]) + reply
    for k, j in enumerate(junk):
        stream += j + b"\x55\x00" + packets[2 + k]
    stream += b"".join(packets[2 + len(junk) :])
    decoder = witmotion.WitMotionDecoder()
    got = _join(_feed_cuts(decoder, stream, cuts))
    np.testing.assert_allclose(got.acc_g, counts[:, 0:3] * 16 / 32768)
    assert decoder.stats.frames_ok == 12
    assert decoder.stats.replies == 1
    assert decoder.stats.resyncs == len(junk)
    assert decoder.stats.junk_bytes == sum(len(j) + 2 for j in junk)


def test_witmotion_truncated_packet_waits_then_completes() -> None:
    data, _ = _wit_stream(2, 2)
    decoder = witmotion.WitMotionDecoder()
    assert len(_join(decoder.feed(data[:33]))) == 1
    assert decoder.pending_bytes == 13
    assert len(_join(decoder.feed(data[33:]))) == 1
    assert decoder.pending_bytes == 0


@FAST
@given(data=st.binary(max_size=300), cuts=st.lists(st.integers(1, 40), max_size=10))
def test_witmotion_never_raises_and_buffers_little(data: bytes, cuts: list[int]) -> None:
    decoder = witmotion.WitMotionDecoder()
    _feed_cuts(decoder, data, cuts)
    assert decoder.pending_bytes < witmotion.PACKET_LEN
    assert decoder.stats.bytes_in == len(data)


def test_witmotion_times_follow_the_measured_rate() -> None:
    # Asked for 100 Hz, the sensor sends 50 Hz, 5 packets per notification, with latency jitter.
    rng = np.random.default_rng(3)
    data, _ = _wit_stream(4, 1000)
    decoder = witmotion.WitMotionDecoder(nominal_rate_hz=100)
    blocks = []
    for k in range(200):
        arrival = 10.0 + (k * 5 + 4) / 50 + rng.uniform(0.005, 0.030)
        blocks += decoder.feed(data[k * 100 : (k + 1) * 100], arrival)
    t = _join(blocks).t_s
    assert decoder.measured_rate_hz == pytest.approx(50, rel=0.01)
    assert np.all(np.diff(t) > 0)
    assert np.median(np.diff(t[-250:])) == pytest.approx(0.02, rel=0.02)
    # Anchored to the arrivals: the last sample is stamped shortly before its notification came.
    assert 10.0 + 999 / 50 - 0.01 < t[-1] < 10.0 + 999 / 50 + 0.035


def test_arrival_clock_without_arrivals_is_the_nominal_grid() -> None:
    clock = ArrivalClock(25.0)
    np.testing.assert_allclose(np.r_[clock.times(3), clock.times(2)], np.arange(5) / 25.0)
    assert clock.measured_rate_hz is None


def test_arrival_clock_keeps_the_spacing_smooth_when_the_rate_is_slightly_off() -> None:
    """A sensor 3 % fast, arriving with BLE-like jitter (a connection interval of up to 30 ms): the period is
    corrected without a jump, so no sample step is far from the true one (a jump inside a rep bends its
    velocity)."""
    rng = np.random.default_rng(7)
    clock = ArrivalClock(100.0)
    rate = 103.0
    times = []
    for k in range(300):  # 3 samples per notification, 9 s
        arrival = (3 * k + 2) / rate + rng.uniform(0.0, 0.030)
        times.append(clock.times(3, arrival))
    t = np.concatenate(times)
    steps = np.diff(t)
    assert np.all(np.abs(steps * rate - 1.0) < 0.06)  # within the 2 % slew plus the 3 % error, never a jump
    assert clock.rate_in_use_hz == pytest.approx(rate, rel=0.01)  # corrected once 5 s backed it up


def test_arrival_clock_jumps_to_a_rate_far_from_the_one_asked() -> None:
    """Asked for 200 Hz, the sensor gives 100 Hz: after a second of arrivals the time line moves to 100 Hz."""
    clock = ArrivalClock(200.0)
    for k in range(200):
        clock.times(2, (2 * k + 1) / 100.0 + 0.01)
    assert clock.rate_in_use_hz == pytest.approx(100.0, rel=0.02)
    t = clock.times(2, 401 / 100.0 + 0.01)
    assert t[1] - t[0] == pytest.approx(0.01, rel=0.05)


# ---------------------------------------------------------------------------------------------------------------
# Polar PMD


def test_pmd_commands() -> None:
    # The H10 example of the fact sheet: ACC at 200 Hz, 16 bit, +-8 g.
    assert polar_pmd.start_acc_command(rate_hz=200, resolution=16, range_g=8) == bytes.fromhex(
        "02 02 00 01 C8 00 01 01 10 00 02 01 08 00"
    )
    assert polar_pmd.stop_command() == bytes.fromhex("03 02")
    assert polar_pmd.get_settings_command() == bytes.fromhex("01 02")


def test_pmd_control_response() -> None:
    # Built from the layout in the SDK's PmdControlPointResponse.kt (F0 op type status more params) and the
    # settings TLV; not a captured response.
    factor = struct.pack("<f", 2.44e-4)
    start = bytes.fromhex("F0 02 02 00 00") + bytes.fromhex("05 01") + factor
    decoder = polar_pmd.PmdDecoder()
    response = decoder.feed_control(start)
    assert response is not None and response.ok and response.op_code == polar_pmd.OpCode.START
    assert response.factor == pytest.approx(2.44e-4)
    assert decoder.factor == pytest.approx(2.44e-4)
    settings_resp = polar_pmd.parse_control_response(
        bytes.fromhex("F0 01 02 00 00 00 02 32 00 C8 00 01 01 10 00 02 03 02 00 04 00 08 00")
    )
    assert settings_resp is not None
    assert settings_resp.settings == {0: (50, 200), 1: (16,), 2: (2, 4, 8)}
    error = polar_pmd.parse_control_response(bytes.fromhex("F0 02 02 06"))
    assert error is not None and not error.ok and error.status == 6 and not error.more
    assert polar_pmd.parse_control_response(b"\x01\x02") is None
    assert polar_pmd.parse_control_response(b"") is None


# Test vectors from the Polar BLE SDK, polarofficial/polar-ble-sdk,
# sources/Android/android-communications/library/src/test/java/com/polar/androidcommunications/api/ble/model/
# gatt/client/pmd/model/AccDataTest.kt: "process acc raw data frame type 1", "process acc compressed data type 0"
# and "process acc compressed data type 1". The parser under test there is AccData.kt / parseDeltaFramesAll.
_SDK_HEADER_TS_2E9 = bytes.fromhex("02 00 94 35 77 00 00 00 00")  # ACC, timestamp 2_000_000_000 ns
_SDK_RAW_TYPE1 = bytes.fromhex(
    "F7 FF FF FF E7 03 F8 FF FE FF E5 03 F9 FF FF FF E5 03 FA FF FF FF E6 03 FA FF FE FF E6 03 F9 FF FF FF E5 03"
    " F8 FF FF FF E6 03 F8 FF FE FF E6 03 FA FF FF FF E5 03 FA FF FF FF E7 03 FA FF FF FF E5 03 F8 FF FF FF E6 03"
    " F7 FF FF FF E6 03 F8 FF FE FF E6 03 F9 FF FE FF E7 03 F9 FF 00 00 E6 03 F9 FF FF FF E6 03 F7 FF FE FF E5 03"
    " F9 FF FF FF E5 03 F9 FF FF FF E5 03 FA FF 00 00 E6 03 F9 FF FE FF E6 03 F8 FF FF FF E6 03 F8 FF FF FF E5 03"
    " F9 FF FF FF E6 03 F9 FF FF FF E5 03 FA FF FF FF E6 03 F9 FF FF FF E5 03 F9 FF FF FF E5 03 F8 FF FE FF E6 03"
    " F9 FF FF FF E6 03 F9 FF FF FF E6 03 F9 FF 00 00 E5 03 F9 FF FE FF E6 03 F8 FF FE FF E6 03 F7 FF FE FF E6 03"
)
_SDK_COMPRESSED_TYPE0 = bytes.fromhex(
    "71 07 F0 6A 9E 8D 0A 38 BE 5C BE BA 2F 96 B3 EE 4B E5 AD FB 42 B9 EB BE 4C FE BA 2F 92 BF EE 4B E4 B1 FB 12"
    " B9 EC BD 3C 3E BB 2F 8F D3 DE 4B E3 B5 F7 D2 B8 ED BD 30 7E 7B 2F 8B E3 CE 8B E2 BA F7 A2 B8 EE BC 20 BE 7B"
    " 2F 88 F3 CE CB E1 BD EF 52 F8 EF BC 18 FE 3B 2F 84 03 BF CB E0 C2 EF 32 B8 F0 BB 04 4E BC 2E 81 13 AF 0B E0"
    " C6 EF F2 F7 F1 B9 FC 7D BC 2E 7D 27 9F 4B DF CA EB C2 F7 F2 B8 EC CD 7C 2E 7B 37 8F 4B DE CE E3 92 F7 F3 B8"
    " E0 0D FD 2D 77 4B 7F CB DD D2 DF 62 37 F5 B7 D4 4D BD 2D 74 5B 6F CB DC D7 D7 32 37 F6 B5 C8 8D 7D 2D 71 6B"
    " 4F 4B DC DC D3 F2 36 F7 B4 BC DD FD 2C 6F 7B 3F 4B DB E0 CF D2 36 F8 B2 B0 2D BE 2C 6C 8F 1F CB DA E3 C7 A2"
    " 76 F9"
)


def test_pmd_sdk_raw_type1_vector() -> None:
    decoder = polar_pmd.PmdDecoder(sample_rate_hz=52)
    blocks = decoder.feed(_SDK_HEADER_TS_2E9 + b"\x01" + _SDK_RAW_TYPE1)
    assert len(blocks) == 1 and decoder.stats.frames_ok == 1
    acc = blocks[0].acc_g
    assert acc.shape == (len(_SDK_RAW_TYPE1) // 6, 3)
    np.testing.assert_allclose(acc[:2] * 1000, [[-9, -1, 999], [-8, -2, 997]])
    # First frame: spread back from the timestamp at the configured 52 Hz.
    np.testing.assert_allclose(np.diff(blocks[0].t_s), 1 / 52)


def test_pmd_sdk_compressed_type0_vector() -> None:
    raw = polar_pmd.parse_delta_payload(_SDK_COMPRESSED_TYPE0, 3, 16)
    assert raw.shape == (57, 3)  # reference sample + 56 deltas of 10 bits
    np.testing.assert_array_equal(raw[0], [1905, 27376, -29282])
    np.testing.assert_array_equal(raw[1], [1905 + 190, 27376 - 105, -29282 - 85])
    factor = 2.44e-4  # type 0 times the factor is in g
    decoder = polar_pmd.PmdDecoder(factor=factor)
    decoder.feed(polar_pmd.encode_raw_frame([[0, 0, 1000]], 100))  # a previous frame at t = 100 ns
    blocks = decoder.feed(_SDK_HEADER_TS_2E9 + b"\x80" + _SDK_COMPRESSED_TYPE0)
    assert decoder.stats.frames_ok == 2 and decoder.stats.malformed == 0
    np.testing.assert_allclose(blocks[0].acc_g, raw * factor)
    assert np.all(np.abs(blocks[0].acc_g) <= 8)  # the SDK's range check for +-8 g


def test_pmd_sdk_compressed_type1_vector() -> None:
    header = bytes.fromhex("02 65 00 00 00 00 00 00 00 81")  # timestamp 101 ns, compressed type 1
    payload = bytes.fromhex("F1 FF 14 00 F0 03 06 01 7B 0F 08")
    decoder = polar_pmd.PmdDecoder()
    decoder.feed(polar_pmd.encode_raw_frame([[0, 0, 1000]], 100))  # the SDK test's previous timestamp: 100 ns
    blocks = decoder.feed(header + payload)
    np.testing.assert_allclose(blocks[0].acc_g * 1000, [[-15, 20, 1008], [-20, 17, 1008]])
    # Interpolated from the previous frame: samples at 100.5 and 101 ns, i.e. 0.5 and 1 ns after it.
    np.testing.assert_allclose(blocks[0].t_s, [0.5e-9, 1e-9], rtol=1e-9)


@settings(max_examples=150, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 400),
    block=st.integers(1, 255),
    spread=st.integers(0, 16),
    extra=st.lists(st.integers(0, 16), min_size=1, max_size=4),
)
def test_pmd_delta_encoding_round_trips(seed: int, n: int, block: int, spread: int, extra: list[int]) -> None:
    # Random int16 samples that wander by steps of up to 2**spread, so the deltas need 1..18 bits; each block is
    # written with a random width at least as wide as it needs.
    rng = np.random.default_rng(seed)
    steps = rng.integers(-(2**spread), 2**spread + 1, size=(n, 3))
    steps[0] = rng.integers(-32768, 32768, size=3)
    samples = np.clip(np.cumsum(steps, axis=0), -32768, 32767)
    deltas = np.diff(samples, axis=0)
    widths = [
        min(32, polar_pmd._delta_bits_needed(deltas[k : k + block]) + extra[(k // block) % len(extra)])
        for k in range(0, n - 1, block)
    ]
    payload = polar_pmd.encode_delta_payload(samples, 16, widths, block)
    np.testing.assert_array_equal(polar_pmd.parse_delta_payload(payload, 3, 16), samples)
    # The same through a whole frame and the decoder, scaled by the factor (type 1: mG).
    decoder = polar_pmd.PmdDecoder(factor=0.5)
    frame = polar_pmd.encode_delta_frame(samples, 10**15, delta_bits=widths, block_samples=block)
    blocks = decoder.feed(frame)
    np.testing.assert_array_equal(blocks[0].acc_g, samples * 0.5e-3)


def test_pmd_encoder_refuses_what_does_not_fit() -> None:
    with pytest.raises(ValueError):
        polar_pmd.encode_delta_payload([[0, 0, 0], [100, 0, 0]], delta_bits=7)
    with pytest.raises(ValueError):
        polar_pmd.encode_delta_payload([[40000, 0, 0]])


def test_pmd_timestamps_across_frames_and_gaps() -> None:
    period_ns = 5_000_000  # 200 Hz
    decoder = polar_pmd.PmdDecoder(sample_rate_hz=200)
    x = np.zeros((10, 3), dtype=int)
    t = [decoder.feed(polar_pmd.encode_delta_frame(x, 10**12 + k * 10 * period_ns))[0].t_s for k in (0, 1, 2)]
    # Three frames lost before this one: spread at 200 Hz, not stretched over the hole.
    t.append(decoder.feed(polar_pmd.encode_delta_frame(x, 10**12 + 6 * 10 * period_ns))[0].t_s)
    all_t = np.concatenate(t)
    np.testing.assert_allclose(np.diff(all_t[:30]), 0.005, rtol=1e-9)
    np.testing.assert_allclose(np.diff(t[3]), 0.005, rtol=1e-9)
    assert t[3][0] - t[2][-1] == pytest.approx(0.155)
    assert decoder.stats.gaps == 1
    # A repeated or older timestamp is dropped.
    assert decoder.feed(polar_pmd.encode_delta_frame(x, 10**12)) == []
    assert decoder.stats.out_of_order == 1


def test_pmd_truncated_and_corrupted_frames_are_counted() -> None:
    samples = np.array([[0, 0, 1000], [3, -2, 990], [7, 1, 1001], [6, 0, 1003]])
    frame = polar_pmd.encode_delta_frame(samples, 10**12, delta_bits=6)
    decoder = polar_pmd.PmdDecoder()
    for cut in range(len(frame)):
        decoder.feed(frame[:cut])
    # Only the prefix ending right after the reference sample (a one-sample frame) is a valid frame.
    assert decoder.stats.frames_ok == 1
    assert decoder.stats.malformed == len(frame) - 1
    decoder.feed(bytes([5]) + frame[1:])
    assert decoder.stats.other == 1
    decoder.feed(frame[:9] + bytes([0x85]) + frame[10:])  # compressed type 5 is not ACC
    decoder.feed(frame[:9] + bytes([0x01]) + frame[10:-1])  # raw int16, not whole samples
    decoder.feed(frame[:10] + frame[10:16] + bytes([40, 1]) + bytes(15))  # 40-bit deltas
    assert decoder.stats.malformed == len(frame) - 1 + 3


@settings(max_examples=200, deadline=None)
@given(frames=st.lists(st.binary(max_size=80), max_size=8), flips=st.lists(st.integers(0, 10_000), max_size=6))
def test_pmd_never_raises(frames: list[bytes], flips: list[int]) -> None:
    decoder = polar_pmd.PmdDecoder(factor=2.44e-4)
    good = polar_pmd.encode_delta_frame(np.array([[1, 2, 3], [4, 5, 6], [-7, 8, 9]]), 10**12)
    corrupted = bytearray(good)
    for f in flips:
        corrupted[f % len(corrupted)] ^= 1 << (f % 8)
    inputs = [*frames, bytes(corrupted)]
    for item in inputs:
        decoder.feed(item)
    s = decoder.stats
    assert s.frames_ok + s.malformed + s.other + s.out_of_order == len(inputs)


# ---------------------------------------------------------------------------------------------------------------
# MetaMotion


def test_metamotion_start_commands() -> None:
    # The documented example (fact sheet): 100 Hz, +-2 g. Registers from mbientlab/MetaWear-SDK-Cpp,
    # src/metawear/sensor/cpp/accelerometer_bosch_register.h (POWER_MODE 1, DATA_INTERRUPT_ENABLE 2,
    # DATA_CONFIG 3, DATA_INTERRUPT 4); 0x28 0x03 is also the SDK's BMI160_DEFAULT_CONFIG (accelerometer_bosch.cpp).
    assert metamotion.start_acc_commands(range_g=2, rate_hz=100) == [
        bytes.fromhex("03 03 28 03"),
        bytes.fromhex("03 04 01"),
        bytes.fromhex("03 02 01 00"),
        bytes.fromhex("03 01 01"),
    ]
    assert metamotion.start_acc_commands(range_g=16, rate_hz=50)[0] == bytes.fromhex("03 03 27 0C")
    # The disable write 03 02 00 01 matches the SDKs' accelerometer disable command.
    assert metamotion.stop_acc_commands()[1] == bytes.fromhex("03 02 00 01")


def test_metamotion_vector() -> None:
    # mbientlab/MetaWear-SDK-CSharp, MetaWear.Test/AccelerometerTest.cs (HandleSingleAxisDataAsync, BMI160 at
    # +-4 g), the same vector as the Python SDK's test_get_acceleration_data_g.
    decoder = metamotion.MetaMotionDecoder(range_g=4)
    blocks = decoder.feed(bytes.fromhex("03 04 16 C4 94 A2 2A D0"))
    np.testing.assert_allclose(blocks[0].acc_g, [[-1.872, -2.919, -1.495]], atol=5e-4)
    assert decoder.stats.frames_ok == 1


def test_metamotion_packed_vector() -> None:
    # Same C# test file, HandlePackedResponseAsync (BMI160 at +-8 g): three samples in one 03 1C message; the
    # expected values there are float32 bytes, decoded here.
    decoder = metamotion.MetaMotionDecoder(range_g=8)
    blocks = decoder.feed(bytes.fromhex("03 1c 62 b7 53 0d e9 fd 16 d0 4d 0e 57 02 8a ff a1 05 0a 01"))
    expected = [
        struct.unpack("<3f", bytes.fromhex(h))
        for h in ("003c91c0 0030553f 00c005be", "00a83fc0 00d0643f 00c0153e", "0000ecbc 0020b43e 0000853d")
    ]
    np.testing.assert_allclose(blocks[0].acc_g, expected, rtol=1e-6)
    assert np.all(np.diff(blocks[0].t_s) > 0)


def test_metamotion_other_and_malformed_are_counted() -> None:
    decoder = metamotion.MetaMotionDecoder()
    for message in (b"", b"\x03", bytes.fromhex("13 05 01 02"), bytes.fromhex("03 83 28 03")):
        assert decoder.feed(message) == []
    for message in (bytes.fromhex("03 04 16 C4 94"), bytes.fromhex("03 04 16 C4 94 A2 2A D0 00")):
        assert decoder.feed(message) == []
    assert (decoder.stats.other, decoder.stats.malformed, decoder.stats.frames_ok) == (4, 2, 0)


@FAST
@given(messages=st.lists(st.binary(max_size=24), max_size=20))
def test_metamotion_never_raises(messages: list[bytes]) -> None:
    decoder = metamotion.MetaMotionDecoder(range_g=16)
    blocks = [b for m in messages for b in decoder.feed(m, 1.0 + 0.01 * len(m))]
    s = decoder.stats
    assert s.frames_ok + s.malformed + s.other == len(messages)
    if blocks:
        assert np.all(np.diff(_join(blocks).t_s) > 0)


def test_metamotion_gyro_commands_are_the_sdk_registers() -> None:
    # GyroBmi160 in MetaWear-SDK-CSharp: POWER_MODE 1, DATA_INTERRUPT_ENABLE 2, CONFIG 3, DATA 5; 100 Hz is ODR 8.
    assert metamotion.start_gyro_commands(2000, 100) == [
        bytes.fromhex("13 03 28 00"),
        bytes.fromhex("13 05 01"),
        bytes.fromhex("13 02 01 00"),
        bytes.fromhex("13 01 01"),
    ]
    assert metamotion.stop_gyro_commands()[0] == bytes.fromhex("13 01 00")


def _acc_gyro_messages(n: int) -> tuple[list[bytes], np.ndarray, np.ndarray]:
    rng = np.random.default_rng(5)
    acc = rng.integers(-8000, 8000, (n, 3))
    gyro = rng.integers(-3000, 3000, (n, 3))
    messages = []
    for a, g in zip(acc.tolist(), gyro.tolist(), strict=True):
        messages += [metamotion.encode_sample(tuple(a)), metamotion.encode_gyro_sample(tuple(g))]
    return messages, acc, gyro


def test_metamotion_pairs_gyro_with_acc_samples() -> None:
    messages, acc, gyro = _acc_gyro_messages(40)
    decoder = metamotion.MetaMotionDecoder(8, 100, gyro=True, gyro_range_dps=2000)
    blocks = [b for k, m in enumerate(messages) for b in decoder.feed(m, 1.0 + k * 0.005)]
    joined = _join(blocks)
    assert decoder.has_gyro is True and len(joined) == 40
    np.testing.assert_allclose(joined.acc_g, acc / 4096.0)
    assert joined.gyro_dps is not None
    np.testing.assert_allclose(joined.gyro_dps, gyro / 16.4)


def test_metamotion_without_a_gyroscope_settles_on_the_accelerometer() -> None:
    messages, acc, _ = _acc_gyro_messages(metamotion.GYRO_WAIT + 10)
    decoder = metamotion.MetaMotionDecoder(8, 100, gyro=True)
    blocks = [b for m in messages[::2] for b in decoder.feed(m)]  # the accelerometer's messages only
    joined = _join(blocks)
    assert decoder.has_gyro is False and joined.gyro_dps is None
    np.testing.assert_allclose(joined.acc_g, acc / 4096.0)  # the first samples waited, none were lost


def test_metamotion_drops_what_one_stream_overran() -> None:
    messages, _, _ = _acc_gyro_messages(60)
    decoder = metamotion.MetaMotionDecoder(8, 100, gyro=True)
    decoder.feed(messages[1])  # one gyro message: the board has a gyroscope
    accs, gyros = messages[2::2], messages[3::2]
    burst = [b for m in accs[:40] for b in decoder.feed(m)]  # 40 accelerometer samples, no gyro: a FIFO overrun
    rest = [b for a, g in zip(accs[40:], gyros[40:], strict=True) for m in (a, g) for b in decoder.feed(m)]
    assert decoder.stats.unpaired > 0
    joined = _join(burst + rest)
    assert np.all(np.diff(joined.t_s) > 0) and joined.gyro_dps is not None
    assert len(joined) <= 60 and decoder.stats.unpaired + len(joined) >= 40


def test_metamotion_rate_is_measured_from_arrivals() -> None:
    decoder = metamotion.MetaMotionDecoder(range_g=2, rate_hz=100)
    rng = np.random.default_rng(5)
    blocks = []
    # The board really runs 1 % fast; notifications arrive in order, 0-20 ms after their sample.
    arrivals = np.maximum.accumulate(np.arange(500) / 101.0 + rng.uniform(0.0, 0.02, 500))
    for arrival in arrivals:
        blocks += decoder.feed(metamotion.encode_sample((0, 0, 16384)), float(arrival))
    block = _join(blocks)
    assert decoder.measured_rate_hz == pytest.approx(101, rel=0.01)
    np.testing.assert_allclose(block.acc_g[-1], [0, 0, 1])
    assert np.all(np.diff(block.t_s) > 0)


@pytest.mark.parametrize(("frame_type", "limit"), [(0, 127), (1, 32767), (2, 63999)])
def test_pmd_raw_frames_of_each_width(frame_type: int, limit: int) -> None:
    samples = np.array([[-limit, limit, 0], [1, -1, limit - 1], [limit // 2, -limit // 3, -7]])
    blocks = polar_pmd.PmdDecoder().feed(polar_pmd.encode_raw_frame(samples, 10**12, frame_type=frame_type))
    np.testing.assert_allclose(blocks[0].acc_g, samples * 1e-3)
