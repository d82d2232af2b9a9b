"""TextLineDecoder: CSV lines from DIY firmware, split anywhere, in any of the common layouts and units."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from repsense.errors import ConfigError
from repsense.firmware_bridge.textlines import AccUnit, GyroUnit, TextLineDecoder, TimeUnit
from repsense.samples import STANDARD_GRAVITY_M_S2, SampleBlock

G = STANDARD_GRAVITY_M_S2


def _lines(n: int = 30, t0: int = 1000, step: int = 10, si: bool = False, time: bool = True, gyro: bool = True) -> str:
    """``ms,ax,ay,az[,gx,gy,gz]`` lines of a sensor lying still and turning slowly."""
    out = []
    for i in range(n):
        acc = (0.01 * (i % 5), -0.02, 1.0)
        rate = (1.5, -0.5 * (i % 3), 2.0)
        if si:
            acc = tuple(a * G for a in acc)
            rate = tuple(math.radians(r) for r in rate)
        fields = ([str(t0 + step * i)] if time else []) + [f"{a:.5f}" for a in acc]
        fields += [f"{r:.6f}" for r in rate] if gyro else []
        out.append(",".join(fields))
    return "\n".join(out) + "\n"


def _decode(decoder: TextLineDecoder, pieces: list[bytes], arrivals: list[float] | None = None) -> SampleBlock:
    blocks: list[SampleBlock] = []
    for i, piece in enumerate(pieces):
        blocks += decoder.feed(piece, None if arrivals is None else arrivals[i])
    return SampleBlock.concat(blocks)


def test_ms_acc_gyro_in_g_and_dps() -> None:
    decoder = TextLineDecoder()
    block = _decode(decoder, [_lines().encode()])
    assert decoder.layout is not None
    assert decoder.layout.columns == ("t", "ax", "ay", "az", "gx", "gy", "gz")
    assert (decoder.layout.time_unit, decoder.layout.acc_unit, decoder.layout.gyro_unit) == (
        TimeUnit.MS,
        AccUnit.G,
        GyroUnit.DPS,
    )
    assert "7 numbers" in str(decoder.layout)
    assert len(block) == 30
    np.testing.assert_allclose(block.t_s, 0.01 * np.arange(30), atol=1e-12)
    np.testing.assert_allclose(block.acc_g[:, 2], 1.0)
    assert block.gyro_dps is not None
    np.testing.assert_allclose(block.gyro_dps[:, 0], 1.5)


def test_si_units_are_converted() -> None:
    decoder = TextLineDecoder()
    block = _decode(decoder, [_lines(si=True).encode()])
    assert decoder.layout is not None
    assert (decoder.layout.acc_unit, decoder.layout.gyro_unit) == (AccUnit.M_S2, GyroUnit.RAD_S)
    assert "assumed" in str(decoder.layout)  # rad/s was inferred from m/s^2, and says so
    np.testing.assert_allclose(block.acc_g[:, 2], 1.0, atol=1e-5)
    np.testing.assert_allclose(block.acc_g[:, 1], -0.02, atol=1e-5)
    assert block.gyro_dps is not None
    np.testing.assert_allclose(block.gyro_dps[:, 2], 2.0, atol=1e-4)


def test_large_gyro_values_can_only_be_dps_even_with_si_acc() -> None:
    text = "".join(f"{10 * i},0,0,{G:.4f},{100 + i},0,0\n" for i in range(10))
    decoder = TextLineDecoder()
    block = _decode(decoder, [text.encode()])
    assert decoder.layout is not None and decoder.layout.gyro_unit is GyroUnit.DPS
    assert block.gyro_dps is not None and block.gyro_dps[0, 0] == 100


@pytest.mark.parametrize(
    ("time", "gyro", "columns"),
    [
        (True, True, ("t", "ax", "ay", "az", "gx", "gy", "gz")),
        (True, False, ("t", "ax", "ay", "az")),
        (False, True, ("ax", "ay", "az", "gx", "gy", "gz")),
        (False, False, ("ax", "ay", "az")),
    ],
)
def test_each_layout_is_detected(time: bool, gyro: bool, columns: tuple[str, ...]) -> None:
    decoder = TextLineDecoder()
    text = _lines(n=20, time=time, gyro=gyro).encode()
    block = _decode(decoder, [text])
    assert decoder.layout is not None and decoder.layout.columns == columns
    assert (decoder.layout.time_unit is None) == (not time)
    assert len(block) == 20
    assert block.has_gyro == gyro
    assert np.all(np.diff(block.t_s) > 0)


def test_nothing_is_decided_before_enough_lines_agree() -> None:
    decoder = TextLineDecoder(agree_lines=5)
    text = _lines(n=4).encode()
    assert decoder.feed(text) == []
    assert decoder.layout is None
    block = _decode(decoder, [_lines(n=1, t0=1040).encode()])
    assert len(block) == 5  # the waiting lines come out once the layout is known


def test_header_names_the_columns() -> None:
    text = "temp,accX,accY,accZ,time_us\n" + "".join(f"25.0,0,0,1,{5000 * i}\n" for i in range(8))
    with pytest.raises(ConfigError):
        TextLineDecoder(columns="temp,ax,ay,az")
    decoder = TextLineDecoder(columns=None)
    block = _decode(decoder, [text.encode()])
    # "temp" is no known column, so the header is not taken and 5 numbers fit no layout: nothing is guessed.
    assert len(block) == 0 and decoder.layout is None
    text = "_,accX,accY,accZ,time_us\n" + "".join(f"25.0,0,0,1,{5000 * i}\n" for i in range(8))
    decoder = TextLineDecoder()
    block = _decode(decoder, [text.encode()])
    assert decoder.layout is not None and decoder.layout.time_unit is TimeUnit.US
    assert "header" in str(decoder.layout)
    np.testing.assert_allclose(block.t_s, 0.005 * np.arange(8))
    assert decoder.stats.headers == 1


def test_explicit_columns_and_units() -> None:
    decoder = TextLineDecoder(columns="ax,ay,az,gx,gy,gz,_,t", acc_unit="m/s2", gyro_unit="rad/s", time_unit="s")
    assert decoder.layout is not None  # nothing left to detect
    block = _decode(decoder, [f"0,0,{G},0,0,{math.pi},99,12.5\n0,0,{G},0,0,0,99,12.52\n".encode()])
    np.testing.assert_allclose(block.t_s, [0.0, 0.02])
    np.testing.assert_allclose(block.acc_g[0], [0, 0, 1])
    assert block.gyro_dps is not None
    np.testing.assert_allclose(block.gyro_dps[0], [0, 0, 180])
    with pytest.raises(ConfigError):
        TextLineDecoder(acc_unit="furlongs")
    with pytest.raises(ConfigError):
        TextLineDecoder(columns="ax,ay,az,gx")


def test_time_units_are_detected() -> None:
    for text, unit in [
        ("".join(f"{1_000_000 + 2500 * i},0,0,1\n" for i in range(6)), TimeUnit.US),
        ("".join(f"{3.5 + 0.01 * i:.2f},0,0,1\n" for i in range(6)), TimeUnit.S),
        ("".join(f"{123456 + 5 * i},0,0,1\n" for i in range(6)), TimeUnit.MS),
    ]:
        decoder = TextLineDecoder()
        block = _decode(decoder, [text.encode()])
        assert decoder.layout is not None and decoder.layout.time_unit is unit
        step = {TimeUnit.US: 0.0025, TimeUnit.S: 0.01, TimeUnit.MS: 0.005}[unit]
        np.testing.assert_allclose(np.diff(block.t_s), step, rtol=1e-6)


def test_raw_counts_are_not_guessed() -> None:
    decoder = TextLineDecoder()
    text = "".join(f"{10 * i},120,-40,16384\n" for i in range(20))
    assert decoder.feed(text.encode()) == []
    assert decoder.layout is None
    decoder.flush()
    assert decoder.stats.undecided == 20
    decoder = TextLineDecoder(acc_unit="g", columns="t,ax,ay,az")
    assert decoder.feed(text.encode()) == []  # 16384 g is no reading: malformed
    assert decoder.stats.malformed == 20


# -- streaming ---------------------------------------------------------------------------------------------------


@settings(max_examples=80, deadline=None)
@given(cuts=st.lists(st.integers(1, 60), max_size=60), crlf=st.booleans())
def test_samples_do_not_depend_on_cuts(cuts: list[int], crlf: bool) -> None:
    text = _lines(n=40)
    data = (text.replace("\n", "\r\n") if crlf else text).encode()
    whole = _decode(TextLineDecoder(), [data])
    pieces, start = [], 0
    for size in cuts:
        pieces.append(data[start : start + size])
        start += size
    pieces.append(data[start:])
    cut = _decode(TextLineDecoder(), pieces)
    assert len(whole) == 40
    np.testing.assert_array_equal(whole.t_s, cut.t_s)
    np.testing.assert_array_equal(whole.acc_g, cut.acc_g)


def test_one_byte_at_a_time_with_crlf_and_lone_cr() -> None:
    data = _lines(n=12).replace("\n", "\r\n").encode() + _lines(n=5, t0=2000).replace("\n", "\r").encode()
    decoder = TextLineDecoder()
    block = _decode(decoder, [data[i : i + 1] for i in range(len(data))])
    assert len(block) == 17
    assert decoder.stats.malformed == 0


def test_joining_mid_line_and_garbage_are_counted() -> None:
    text = "0.01,-0.02,1.0,1.5\n" + _lines(n=10) + "MPU6050 found!\n1070,0.0,nan,1,0,0,0\n1080,0.1,0.2\n"
    text += _lines(n=3, t0=1100) + "x" * 600 + "\n" + _lines(n=2, t0=1200)
    decoder = TextLineDecoder()
    block = _decode(decoder, [text.encode()])
    assert len(block) == 15
    # The partial first line, the text, nan, a short line, and the 600-character line.
    assert decoder.stats.malformed == 5


def test_separators_trailing_commas_and_empty_fields() -> None:
    text = "".join(f"{10 * i}, 0.0; 0.0\t1.0 ,\n" for i in range(6)) + "60,0.0,,1.0\n" + "70 0.0 0.0 1.0\n"
    decoder = TextLineDecoder()
    block = _decode(decoder, [text.encode()])
    assert len(block) == 7
    assert decoder.stats.malformed == 1  # the empty field: no silent shift of the columns


def test_flush_reads_an_unterminated_last_line() -> None:
    decoder = TextLineDecoder()
    block = _decode(decoder, [_lines(n=10).encode() + b"1100,0,0,1,0,0,0"])
    assert len(block) == 10
    assert len(SampleBlock.concat(decoder.flush())) == 1


# -- time --------------------------------------------------------------------------------------------------------


def test_millis_wrap_is_unwrapped() -> None:
    start = (1 << 32) - 55
    text = "".join(f"{(start + 10 * i) % (1 << 32)},0,0,1\n" for i in range(20))
    decoder = TextLineDecoder()
    block = _decode(decoder, [text.encode()])
    assert len(block) == 20
    np.testing.assert_allclose(block.t_s, 0.01 * np.arange(20), atol=1e-9)


def test_micros_printed_signed_is_unwrapped() -> None:
    start = (1 << 31) - 7000
    values = [start + 2500 * i for i in range(12)]
    signed = [v - (1 << 32) if v >= (1 << 31) else v for v in values]
    text = "".join(f"{v},0,0,1\n" for v in signed)
    block = _decode(TextLineDecoder(time_unit="us"), [text.encode()])
    np.testing.assert_allclose(block.t_s, 0.0025 * np.arange(12), atol=1e-9)


def test_time_going_backwards_is_dropped_and_a_restart_is_followed() -> None:
    text = _lines(n=10) + "1050,0,0,1,0,0,0\n" + _lines(n=10, t0=1100)
    decoder = TextLineDecoder()
    block = _decode(decoder, [text.encode()])
    assert decoder.stats.time_backwards == 1
    assert len(block) == 20
    rebooted = _lines(n=10, t0=5)  # the device restarted: millis() near 0 again
    more = _decode(decoder, [rebooted.encode()])
    assert decoder.stats.restarts == 1
    assert decoder.stats.time_backwards == 3  # two lines before the restart was clear
    assert len(more) == 8
    assert more.t_s[0] > block.t_s[-1]
    np.testing.assert_allclose(np.diff(more.t_s), 0.01)


def test_device_time_is_mapped_onto_bursty_arrivals() -> None:
    rng = np.random.default_rng(5)
    n = 3000  # 30 s at 100 Hz
    lines = [f"{7000 + 10 * i},0,0,1\n".encode() for i in range(n)]
    host0 = 500.0
    pieces, arrivals, i = [], [], 0
    while i < n:
        k = int(rng.integers(1, 8))
        pieces.append(b"".join(lines[i : i + k]))
        arrivals.append(host0 + 0.01 * (i + k - 1) + rng.uniform(0.001, 0.02))
        i += k
    block = _decode(TextLineDecoder(), pieces, arrivals)
    truth = host0 + 0.01 * np.arange(n)
    assert np.all(np.diff(block.t_s) > 0)
    late = block.t_s[1000:] - truth[1000:]
    assert late.min() > -1e-6
    assert late.max() < 0.005
    np.testing.assert_allclose(np.diff(block.t_s[1000:]), 0.01, rtol=0.02)


def test_host_time_lines_are_spread_between_arrivals() -> None:
    decoder = TextLineDecoder()
    chunks = [_lines(n=5, time=False, gyro=False).encode() for _ in range(4)]
    block = _decode(decoder, chunks, [10.0, 10.05, 10.1, 10.15])
    assert len(block) == 20
    assert np.all(np.diff(block.t_s) > 0)
    np.testing.assert_allclose(block.t_s[5:], 10.0 + 0.01 * np.arange(1, 16))


def test_host_time_lines_with_a_known_rate() -> None:
    decoder = TextLineDecoder(rate_hz=50.0)
    block = _decode(decoder, [_lines(n=10, time=False).encode()])
    np.testing.assert_allclose(block.t_s, 0.02 * np.arange(10))


# -- fuzzing -----------------------------------------------------------------------------------------------------

_text_chunks = st.lists(
    st.one_of(st.text(alphabet="0123456789,.-+e \r\n\tnax", max_size=120).map(str.encode), st.binary(max_size=60)),
    max_size=12,
)


@settings(max_examples=300, deadline=None)
@given(chunks=_text_chunks, columns=st.sampled_from([None, "t,ax,ay,az", "ax,ay,az"]), arrivals=st.booleans())
def test_any_input_never_raises(chunks: list[bytes], columns: str | None, arrivals: bool) -> None:
    decoder = TextLineDecoder(columns, acc_unit=None if columns is None else "g", time_unit="ms", agree_lines=2)
    blocks: list[SampleBlock] = []
    for i, chunk in enumerate(chunks):
        blocks += decoder.feed(chunk, arrival_s=0.01 * (i // 2) if arrivals else None)
    blocks += decoder.flush()
    t = np.concatenate([b.t_s for b in blocks]) if blocks else np.empty(0)
    assert np.all(np.diff(t) > 0)


# -- corrupted times ---------------------------------------------------------------------------------------------


def _numbered(n: int, times: list[int] | None = None) -> list[str]:
    """``ms,ax,ay,az`` lines 10 ms apart whose ``ax`` numbers them (line ``i`` has ``ax = i / 10000``)."""
    times = times or [1000 + 10 * i for i in range(n)]
    return [f"{t},{i / 10000:.4f},0.0,1.0\n" for i, t in enumerate(times)]


def _both_ways(text: str) -> tuple[SampleBlock, TextLineDecoder]:
    """Decoded whole and one byte at a time, which must agree; the block and the byte-by-byte decoder."""
    data = text.encode()
    whole = _decode(TextLineDecoder(), [data])
    decoder = TextLineDecoder()
    cut = _decode(decoder, [data[i : i + 1] for i in range(len(data))])
    np.testing.assert_array_equal(whole.t_s, cut.t_s)
    np.testing.assert_array_equal(whole.acc_g, cut.acc_g)
    return cut, decoder


def test_a_corrupted_time_far_ahead_is_dropped_and_never_becomes_the_clock() -> None:
    lines = _numbered(400)
    lines[200] = "9" + lines[200]  # one flipped character: 3000 ms becomes 93000 ms
    block, decoder = _both_ways("".join(lines))
    assert decoder.stats.time_jumps == 1
    assert decoder.stats.restarts == 0
    assert len(block) == 399
    index = np.rint(block.acc_g[:, 0] * 10000).astype(int)
    assert 200 not in index
    np.testing.assert_allclose(block.t_s, 0.01 * index, atol=1e-9)


def test_a_corrupted_time_a_little_ahead_costs_a_few_lines_and_shifts_nothing() -> None:
    lines = _numbered(100)
    lines[50] = lines[50].replace("1500,", "1530,", 1)  # within the jump bound: taken, then 3 lines are behind it
    block, decoder = _both_ways("".join(lines))
    assert (decoder.stats.time_jumps, decoder.stats.restarts, decoder.stats.time_backwards) == (0, 0, 3)
    index = np.rint(block.acc_g[:, 0] * 10000).astype(int)
    assert len(block) == 97 and not {51, 52, 53} & set(index)
    clean = index != 50
    np.testing.assert_allclose(block.t_s[clean], 0.01 * index[clean], atol=1e-9)


def test_a_real_pause_of_the_device_clock_passes_as_a_gap() -> None:
    times = [1000 + 10 * i for i in range(200)] + [1000 + 10 * 199 + 5000 + 10 * i for i in range(200)]
    block, decoder = _both_ways("".join(_numbered(400, times)))
    assert (decoder.stats.time_jumps, decoder.stats.time_backwards) == (0, 0)
    assert len(block) == 400
    np.testing.assert_allclose(np.diff(block.t_s)[199], 5.0, atol=1e-9)


def test_a_jump_no_line_confirms_is_dropped_at_the_end() -> None:
    lines = _numbered(20)
    lines[-1] = "9" + lines[-1]
    decoder = TextLineDecoder()
    assert len(_decode(decoder, ["".join(lines).encode()])) == 19
    assert decoder.flush() == [] and decoder.stats.time_jumps == 1


@settings(max_examples=150, deadline=None)
@given(hits=st.lists(st.tuples(st.integers(10, 299), st.integers(0, 3), st.sampled_from("0123456789-.")), max_size=4))
@example(hits=[(100, 1, "1"), (101, 1, "1")])  # two lines 90 ms ahead confirm each other: no restart follows
def test_no_corrupted_time_character_moves_the_lines_around_it(hits: list[tuple[int, int, str]]) -> None:
    lines = _numbered(300)
    for line, position, char in hits:
        lines[line] = lines[line][:position] + char + lines[line][position + 1 :]
    block, _ = _both_ways("".join(lines))
    hit = {line for line, _, _ in hits}
    index = np.rint(block.acc_g[:, 0] * 10000).astype(int)
    clean = ~np.isin(index, list(hit))
    # The clock is the first line's: every untouched line keeps its time, and few are lost.
    np.testing.assert_allclose(block.t_s[clean], 0.01 * index[clean], atol=1e-9)
    assert clean.sum() >= 300 - len(hit) * 6


def test_steps_of_seconds_from_the_start_are_not_taken_for_jumps() -> None:
    """ms read as s (``--time-unit s``): every step is 10 s, more than any bound before a step is known."""
    decoder = TextLineDecoder(time_unit="s")
    block = _decode(decoder, ["".join(_numbered(50)).encode()])
    assert (len(block), decoder.stats.time_jumps) == (50, 0)
    np.testing.assert_allclose(np.diff(block.t_s), 10.0)
