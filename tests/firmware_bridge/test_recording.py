"""Recording format v1: round trips, tolerated variations, crash safety and every error a user can cause."""

from __future__ import annotations

import inspect
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from repsense.errors import RecordingError
from repsense.firmware_bridge import recording as rec_module
from repsense.firmware_bridge.recording import (
    Recording,
    RecordingWriter,
    parse_recording,
    quantize,
    read_recording,
)
from repsense.samples import SampleBlock

REPO_ROOT = Path(__file__).resolve().parents[2]


def make_block(n: int, t0_s: float = 0.0, rate_hz: float = 100.0, gyro: bool = True, seed: int = 0) -> SampleBlock:
    rng = np.random.default_rng(seed)
    t = t0_s + np.arange(n) / rate_hz
    acc = rng.normal(0.0, 0.5, (n, 3)) + np.array([0.0, 0.0, 1.0])
    return SampleBlock(t, acc, rng.normal(0.0, 150.0, (n, 3)) if gyro else None)


def same_bits(a: np.ndarray | None, b: np.ndarray | None) -> bool:
    """Equal to the last bit, -0.0 and 0.0 told apart."""
    if a is None or b is None:
        return a is None and b is None
    return a.shape == b.shape and np.array_equal(
        np.ascontiguousarray(a).view(np.int64), np.ascontiguousarray(b).view(np.int64)
    )


def assert_same_block(a: SampleBlock, b: SampleBlock) -> None:
    assert same_bits(a.t_s, b.t_s)
    assert same_bits(a.acc_g, b.acc_g)
    assert same_bits(a.gyro_dps, b.gyro_dps)


def data_rows(path: Path) -> int:
    """Data rows that have reached the file so far."""
    lines = path.read_text().splitlines()
    return sum(1 for line in lines if line and line[0] in "-0123456789")


# --- round trips ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("gyro", [True, False])
def test_round_trip_is_bit_exact_and_keeps_metadata_and_annotations(tmp_path: Path, gyro: bool) -> None:
    path = tmp_path / "session.csv"
    metadata: dict[str, str | float | int] = {
        "exercise": "squat",
        "placement": "bar",
        "sample_rate_hz": 100,
        "load_kg": 102.5,
        "Sensor": "BMI270",
    }
    block = make_block(1000, t0_s=12.0, gyro=gyro, seed=1)
    pieces = block.split([1, 7, 300, 92])
    with RecordingWriter(path, metadata, has_gyro=gyro) as writer:
        returned = [writer.write(pieces[0]), writer.write(pieces[1])]
        writer.annotate("gap: 3.20 s")
        returned += [writer.write(piece) for piece in pieces[2:]]
        writer.annotate("  set ended  ")
        assert writer.samples_written == 1000
    recording = read_recording(path)

    assert_same_block(recording.samples, quantize(block))
    assert_same_block(recording.samples, SampleBlock.concat(returned))
    assert recording.metadata == {
        "repsense-recording": "v1",
        "exercise": "squat",
        "placement": "bar",
        "sample_rate_hz": "100",
        "load_kg": "102.5",
        "sensor": "BMI270",
    }
    # After 1 + 7 samples: the time of the 8th sample (12.07 s); at the end: the last sample's time.
    assert recording.annotations == [(12.07, "gap: 3.20 s"), (float(recording.samples.t_s[-1]), "set ended")]
    assert recording.source == str(path)
    assert recording.truncated_last_line is False
    assert path.read_text().startswith("# repsense-recording: v1\n# exercise: squat\n")


def test_quantize_is_formatting_then_float() -> None:
    block = make_block(200, t0_s=1234.5678901, seed=2)
    q = quantize(block)
    assert same_bits(q.t_s, np.array([float(f"{x:.6f}") for x in block.t_s]))
    assert same_bits(q.acc_g, np.array([[float(f"{x:.5f}") for x in row] for row in block.acc_g]))
    assert q.gyro_dps is not None and block.gyro_dps is not None
    assert same_bits(q.gyro_dps, np.array([[float(f"{x:.3f}") for x in row] for row in block.gyro_dps]))
    # Quantizing twice changes nothing, so a replayed recording written again stays identical.
    assert_same_block(quantize(q), q)


def test_written_text_uses_fixed_decimals(tmp_path: Path) -> None:
    block = SampleBlock(np.array([0.5, 1.0]), np.array([[0.1, -0.0, 1.0], [2.0, -3.123456, 0.999999]]), None)
    with RecordingWriter(tmp_path / "r.csv", {}, has_gyro=False) as writer:
        writer.write(block)
    assert (tmp_path / "r.csv").read_text() == (
        "# repsense-recording: v1\nt,ax,ay,az\n0.500000,0.10000,-0.00000,1.00000\n1.000000,2.00000,-3.12346,1.00000\n"
    )


Drawn = tuple[float, np.ndarray, np.ndarray, np.ndarray | None, list[int]]
blocks = st.integers(1, 40).flatmap(
    lambda n: st.tuples(
        st.floats(-1e4, 1e6),
        hnp.arrays(np.float64, n, elements=st.floats(1e-5, 10.0)),
        hnp.arrays(np.float64, (n, 3), elements=st.floats(-64.0, 64.0)),
        st.one_of(st.none(), hnp.arrays(np.float64, (n, 3), elements=st.floats(-10_000.0, 10_000.0))),
        st.lists(st.integers(1, 15), max_size=5),
    )
)


@settings(max_examples=150, deadline=None)
@given(blocks)
def test_reading_what_was_written_gives_quantize_bit_for_bit(
    tmp_path_factory: pytest.TempPathFactory, drawn: Drawn
) -> None:
    t0, dt, acc, gyro, cuts = drawn
    block = SampleBlock(t0 + np.cumsum(dt), acc, gyro)
    path = tmp_path_factory.mktemp("prop") / "r.csv"
    with RecordingWriter(path, {"exercise": "other"}, has_gyro=gyro is not None) as writer:
        returned = [writer.write(piece) for piece in block.split(cuts)]
    expected = quantize(block)
    assert_same_block(SampleBlock.concat(returned), expected)
    assert_same_block(read_recording(path).samples, expected)


@settings(max_examples=100, deadline=None)
@given(blocks)
def test_fast_and_line_by_line_parsers_agree_bit_for_bit(drawn: Drawn) -> None:
    # The line-by-line pass (float()) must read valid files exactly as the fast path (np.loadtxt) does, since it
    # takes over whenever the fast path declines (for instance on a whitespace-only line).
    t0, dt, acc, gyro, _ = drawn
    block = SampleBlock(t0 + np.cumsum(dt), acc, gyro)
    body = rec_module._format_rows(block)
    names = ["t", "ax", "ay", "az", "gx", "gy", "gz"][: 4 if gyro is None else 7]
    layout = rec_module._Layout(names, 1, tuple(range(len(names))))
    fast = rec_module._parse_body_fast(body, layout)
    assert fast is not None
    slow = rec_module._parse_body_slow(body, layout, 2, "<text>")
    assert same_bits(fast[0], slow[0])
    header = ",".join(names)
    via_slow_path = parse_recording(header + "\n" + body.replace("\n", "\n   \n", 1))
    assert_same_block(via_slow_path.samples, quantize(block))


# --- what the reader tolerates ----------------------------------------------------------------------------

PLAIN = "t,ax,ay,az\n0.0,0.1,0.2,0.9\n0.01,0.11,0.21,0.91\n"


def test_columns_in_any_order_with_unknown_columns_ignored() -> None:
    text = (
        "# exercise: bench\n"
        " GZ , note, az,T,gy,AX,temp_c,ay, gx\n"
        "3,first,0.9,0.0,2,0.1,31.5,0.2,1\n"
        "6,,0.91,0.01,5,0.11,31.6,0.21,4\n"
    )
    recording = parse_recording(text, "any-order.csv")
    assert same_bits(recording.samples.t_s, np.array([0.0, 0.01]))
    assert same_bits(recording.samples.acc_g, np.array([[0.1, 0.2, 0.9], [0.11, 0.21, 0.91]]))
    assert same_bits(recording.samples.gyro_dps, np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]))


def test_crlf_bom_blank_lines_and_spaces_are_accepted(tmp_path: Path) -> None:
    text = (
        "\ufeff# Exercise :  deadlift \r\n\r\n# a remark without a key\r\n"
        "t, ax ,ay,az\r\n\r\n 0.0 ,0.1,0.2,0.9\r\n  \r\n0.01,0.11,0.21,0.91\r\n\r\n"
    )
    path = tmp_path / "windows.csv"
    path.write_bytes(text.encode("utf-8"))
    recording = read_recording(path)
    assert recording.metadata == {"exercise": "deadlift"}
    assert same_bits(recording.samples.t_s, np.array([0.0, 0.01]))
    assert same_bits(recording.samples.acc_g, np.array([[0.1, 0.2, 0.9], [0.11, 0.21, 0.91]]))
    assert recording.samples.gyro_dps is None


def test_metadata_values_keep_colons_and_later_comments_are_annotations() -> None:
    text = "# sensor: MetaMotion: S\n#Load_KG:100\nt,ax,ay,az\n# before any row\n0.5,0,0,1\n#gap: 3.20 s\n4.0,0,0,1\n"
    recording = parse_recording(text)
    assert recording.metadata == {"sensor": "MetaMotion: S", "load_kg": "100"}
    assert recording.annotations == [(0.5, "before any row"), (0.5, "gap: 3.20 s")]
    assert same_bits(recording.samples.t_s, np.array([0.5, 4.0]))  # a gap of seconds is fine


def test_irregular_sampling_without_the_marker_line_is_accepted() -> None:
    t = np.cumsum(np.random.default_rng(3).uniform(0.001, 0.05, 500)) + 1e5
    rows = "".join(f"{float(x)!r},0.0,0.0,1.0\n" for x in t)
    recording = parse_recording("t,ax,ay,az\n" + rows)
    assert same_bits(recording.samples.t_s, t)
    assert "repsense-recording" not in recording.metadata


# --- crash leftovers ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "tail",
    [
        "0.02,0.12,0.2",  # too few fields
        "0.02,0.12,0.22,",  # the last field empty
        "0.02,0.12,0.22,-",  # the last field not yet a number
    ],
)
def test_truncated_last_line_is_dropped_and_reported(tail: str) -> None:
    recording = parse_recording(PLAIN + tail, "cut.csv")
    assert recording.truncated_last_line is True
    assert same_bits(recording.samples.t_s, np.array([0.0, 0.01]))


def test_truncated_time_in_the_last_column_is_dropped() -> None:
    # t is the last column, cut from 0.015 to 0.0: it looks like time going backwards.
    recording = parse_recording("ax,ay,az,t\n0.1,0.2,0.9,0.005\n0.1,0.2,0.9,0.010\n0.1,0.2,0.9,0.0")
    assert recording.truncated_last_line is True
    assert len(recording.samples) == 2


def test_complete_last_line_without_newline_is_kept() -> None:
    recording = parse_recording(PLAIN + "0.02,0.12,0.22,0.92")
    assert recording.truncated_last_line is False
    assert same_bits(recording.samples.acc_g[-1], np.array([0.12, 0.22, 0.92]))


def test_last_line_comment_without_newline_is_an_annotation() -> None:
    recording = parse_recording(PLAIN + "# gap: 1.5 s")
    assert recording.annotations == [(0.01, "gap: 1.5 s")]
    assert recording.truncated_last_line is False


def test_multibyte_character_cut_at_the_end_counts_as_truncation(tmp_path: Path) -> None:
    path = tmp_path / "cut.csv"
    path.write_bytes((PLAIN + "# note: caf\u00e9").encode("utf-8")[:-1])
    recording = read_recording(path)
    assert recording.truncated_last_line is True
    assert len(recording.samples) == 2


def test_a_bad_last_line_that_is_not_a_cut_is_still_an_error() -> None:
    # Only the last field can be cut short: a bad field before it is a real error.
    with pytest.raises(RecordingError, match=r"^cut\.csv line 4, column 'ay': 'x' is not a number$"):
        parse_recording(PLAIN + "0.02,0.12,x,0.92", "cut.csv")


# --- the writer ---------------------------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now_s = 0.0

    def __call__(self) -> float:
        return self.now_s


def test_writer_flushes_after_one_second_of_sample_time(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    block = make_block(200, seed=4)
    with RecordingWriter(path, {}, has_gyro=True, clock=FakeClock()) as writer:
        assert path.read_text().endswith("t,ax,ay,az,gx,gy,gz\n")  # the header is on disk at once
        for k in range(10):
            writer.write(block.slice(10 * k, 10 * k + 10))  # t up to 0.99 s: less than 1 s since the first sample
        assert data_rows(path) == 0
        writer.write(block.slice(100, 110))  # reaches t = 1.09 s
        assert data_rows(path) == 110
        writer.write(block.slice(110, 200))
        assert data_rows(path) == 110  # 0.9 s since the last flush at 1.09 s
    assert data_rows(path) == 200  # close() flushes


def test_writer_flushes_after_one_second_of_wall_time(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    clock = FakeClock()
    block = make_block(30, seed=5)
    with RecordingWriter(path, {}, has_gyro=True, clock=clock) as writer:
        writer.write(block.slice(0, 10))
        clock.now_s = 0.9
        writer.write(block.slice(10, 20))
        assert data_rows(path) == 0
        clock.now_s = 1.0
        writer.write(block.slice(20, 30))
        assert data_rows(path) == 30


def test_annotate_and_flush_reach_the_file_at_once(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    with RecordingWriter(path, {}, has_gyro=False, clock=FakeClock()) as writer:
        writer.write(make_block(5, gyro=False))
        writer.annotate("gap: 2.00 s")
        assert path.read_text().endswith("# gap: 2.00 s\n")
        assert data_rows(path) == 5
        writer.write(make_block(5, t0_s=2.0, gyro=False))
        writer.flush()
        assert data_rows(path) == 10


def test_writer_refuses_time_that_does_not_advance(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    with RecordingWriter(path, {}, has_gyro=True) as writer:
        writer.write(make_block(10))
        with pytest.raises(RecordingError, match=r"r\.csv: cannot write samples: the block starts at t=0\.05"):
            writer.write(make_block(10, t0_s=0.05))
        with pytest.raises(RecordingError, match="less than 1 us apart"):
            writer.write(SampleBlock(np.array([5.0, 5.0000001]), np.zeros((2, 3)), np.zeros((2, 3))))
        assert writer.samples_written == 10
    assert len(read_recording(path).samples) == 10


def test_writer_refuses_misuse(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="':'"):
        RecordingWriter(tmp_path / "a.csv", {"bad:key": 1}, has_gyro=False)
    with pytest.raises(ValueError, match="one line"):
        RecordingWriter(tmp_path / "b.csv", {"sensor": "two\nlines"}, has_gyro=False)
    writer = RecordingWriter(tmp_path / "c.csv", {"repsense-recording": "v1"}, has_gyro=False)
    with pytest.raises(ValueError, match="gyroscope"):
        writer.write(make_block(3, gyro=True))
    with pytest.raises(ValueError, match="one line"):
        writer.annotate("a\nb")
    writer.close()
    writer.close()
    with pytest.raises(ValueError, match="closed"):
        writer.write(make_block(3, gyro=False))
    assert (tmp_path / "c.csv").read_text() == "# repsense-recording: v1\nt,ax,ay,az\n"


def test_writer_reports_a_path_it_cannot_create(tmp_path: Path) -> None:
    with pytest.raises(RecordingError, match=r"no-such-dir/r\.csv: cannot create the recording"):
        RecordingWriter(tmp_path / "no-such-dir" / "r.csv", {}, has_gyro=False)


def crash_samples(start: int, n: int) -> SampleBlock:
    """Samples ``start..start+n`` of the killed writer's stream: 100 Hz, deterministic."""
    k = np.arange(start, start + n)
    t = k / 100.0
    acc = np.column_stack([np.sin(t), np.cos(t), np.full(n, 0.98)])
    gyro = np.column_stack([k % 7, -(k % 5), k * 0.001]).astype(float)
    return SampleBlock(t, acc, gyro)


CHILD = (
    """
import sys, time
import numpy as np
from repsense.samples import SampleBlock
from repsense.firmware_bridge.recording import RecordingWriter
"""
    + inspect.getsource(crash_samples)
    + """
with RecordingWriter(sys.argv[1], {"exercise": "squat"}, has_gyro=True, flush_interval_s=1.0) as writer:
    print("ready", flush=True)
    start = time.monotonic()
    produced = 0
    while True:
        writer.write(crash_samples(produced, 10))  # 0.1 s of samples, in step with the wall clock
        produced += 10
        print(produced, flush=True)
        time.sleep(max(0.0, start + produced / 100.0 - time.monotonic()))
"""
)


@pytest.mark.integration
@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_recording_survives_kill_9(tmp_path: Path) -> None:
    path = tmp_path / "killed.csv"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))}
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(path)], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        time.sleep(2.5)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
        progress = [int(line) for line in child.stdout.read().split() if line.isdigit()]
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    produced = progress[-1]
    recording = read_recording(path)
    n = len(recording.samples)

    assert child.returncode == -signal.SIGKILL
    assert produced >= 150  # about 2.5 s at 100 Hz went through the writer
    assert produced - 120 <= n <= produced + 10  # lost at most 1 s (100 samples) plus a block or two
    assert recording.truncated_last_line is False  # whole lines only, even when killed
    assert recording.metadata["exercise"] == "squat"
    assert_same_block(recording.samples, quantize(crash_samples(0, n)))


@pytest.mark.slow
def test_an_hour_at_100_hz_reads_back_fast(tmp_path: Path) -> None:
    path = tmp_path / "hour.csv"
    block = make_block(360_000, t0_s=3.0, seed=6)
    with RecordingWriter(path, {"exercise": "row"}, has_gyro=True) as writer:
        written = writer.write(block)
    start = time.perf_counter()
    recording = read_recording(path)
    elapsed_s = time.perf_counter() - start
    assert_same_block(recording.samples, written)
    assert elapsed_s < 5.0  # about 0.5 s on a laptop; the line-by-line pass would take several seconds


# --- errors: one line naming the file, the line and the column ---------------------------------------------


def read_error(tmp_path: Path, content: str | bytes, name: str = "walkout.csv") -> str:
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8", newline="")
    else:
        path.write_bytes(content)
    with pytest.raises(RecordingError) as caught:
        read_recording(path)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(str(path))
    return message[len(str(path)) :]


def test_error_missing_file(tmp_path: Path) -> None:
    with pytest.raises(RecordingError, match=r"nope\.csv: no such file$"):
        read_recording(tmp_path / "nope.csv")


def test_error_directory(tmp_path: Path) -> None:
    (tmp_path / "dir.csv").mkdir()
    with pytest.raises(RecordingError, match=r"dir\.csv: is a directory, not a recording file$"):
        read_recording(tmp_path / "dir.csv")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", ": the file is empty"),
        (b" \n\r\n\t\n", ": the file is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", ": binary data (NUL bytes), not a CSV recording"),
        ("t,ax,ay,az\n0,0,0,1\n".encode("utf-16"), ": saved as UTF-16; save it as UTF-8"),
        ("t,ax,ay,az\n0,0,0,1\n".encode("utf-16-le"), ": saved as UTF-16; save it as UTF-8"),
        (b"t,ax,ay,az\n0,0,0,1\n# caf\xe9\n", ": not UTF-8 (byte 0xe9 at line 3); save it as UTF-8"),
        ("# exercise: squat\n\n# load_kg: 100\n", ": holds only comments, no header row and no data"),
        (
            "# exercise: squat\n0.0,0.1,0.2,0.9\n0.01,0.1,0.2,0.9\n",
            " line 2: no header row; the first line is data ('0.0,0.1,0.2,0.9'), expected column names such as "
            "'t,ax,ay,az'",
        ),
        (
            "time,ax,ay\n0,0,0\n",
            " line 1: header lacks required column(s) t, az (header: 'time,ax,ay'; required: t, ax, ay, az)",
        ),
        (
            "t,ax,ay,az,gx,gy\n0,0,0,1,0,0\n",
            " line 1: header has gx, gy but not gz; gyroscope columns gx, gy, gz come all three or none",
        ),
        ("t,ax,ay,az,AX\n0,0,0,1,0\n", " line 1: column 'ax' appears twice in the header"),
        ("# exercise: squat\nt,ax,ay,az\n\n# nothing recorded\n", ": no data rows after the header (line 2)"),
        ("t,ax,ay,az\n0.0,0.1,0", ": no data rows after the header (line 1) (the only data line was cut off)"),
        (PLAIN + "0.02,0.1,abc,0.9\n0.03,0,0,1\n", " line 4, column 'ay': 'abc' is not a number"),
        (PLAIN + "0.02,0.1,1_0,0.9\n0.03,0,0,1\n", " line 4, column 'ay': '1_0' is not a number"),
        (PLAIN + "0.02,0.1,,0.9\n0.03,0,0,1\n", " line 4, column 'ay': '' is not a number"),
        (PLAIN + "0.02,0.1,0.2,nan\n", " line 4, column 'az': 'nan' is NaN or infinite"),
        (PLAIN + "0.02,-inf,0.2,0.9\n", " line 4, column 'ax': '-inf' is NaN or infinite"),
        (PLAIN + "0.02,1e999,0.2,0.9\n", " line 4, column 'ax': '1e999' is too large to be a number"),
        (PLAIN + "0.02,0.1,0.2\n0.03,0,0,1\n", " line 4: 3 fields, but the header (line 1) names 4 columns"),
        (PLAIN + "0.02,0.1,0.2,0.9,5\n", " line 4: 5 fields, but the header (line 1) names 4 columns"),
        (PLAIN + "0.005,0.1,0.2,0.9\n", " line 4: time goes backwards (0.010 -> 0.005)"),
        (PLAIN + "0.01,0.1,0.2,0.9\n", " line 4: time does not advance (0.010 -> 0.010)"),
        (PLAIN + "0.0100001,0.1,0.2,0.9\n0.01,0,0,1\n", " line 5: time goes backwards (0.010000100 -> 0.010000000)"),
        (
            PLAIN + "0.02,0.1,-70.5,0.9\n",
            " line 4, column 'ay': -70.5 g is beyond +-64 g, not a plausible IMU reading",
        ),
        (
            "t,ax,ay,az,gx,gy,gz\n0,0,0,1,0,0,0\n1,0,0,1,0,12000,0\n",
            " line 3, column 'gy': 12000 deg/s is beyond +-10000 deg/s, not a plausible IMU reading",
        ),
    ],
)
def test_error_messages(tmp_path: Path, content: str | bytes, expected: str) -> None:
    assert read_error(tmp_path, content) == expected


def test_error_names_the_first_bad_line_of_a_long_file(tmp_path: Path) -> None:
    rows = "".join(f"{i / 100:.6f},0.00000,0.00000,1.00000\n" for i in range(10_000))
    rows += "123.300000,0,0,1\n123.100000,0,0,1\n0.5,0,0,1\n"
    assert read_error(tmp_path, "t,ax,ay,az\n" + rows) == " line 10003: time goes backwards (123.300 -> 123.100)"


def test_error_in_text_names_the_source() -> None:
    with pytest.raises(RecordingError, match=r"^live-buffer line 4, column 'az': 'oops' is not a number$"):
        parse_recording(PLAIN + "0.02,0,0,oops\n0.03,0,0,1\n", "live-buffer")


def test_recording_is_a_value() -> None:
    recording = parse_recording(PLAIN)
    assert isinstance(recording, Recording)
    with pytest.raises(AttributeError):
        recording.source = "other"  # type: ignore[misc]
    assert recording.source == "<text>"
