"""End to end over a real pty pair: ``repsense emulate`` plays a recording, ``repsense live`` counts it.

Both run as real processes. The emulator plays 20 times faster than real time (``live --speed 20`` knows), so a
30 s set takes about 1.5 s. Every live session must agree with a replay of its own recording; with a clean or a
corrupted link it must also count the reps and stop that a replay of the source recording gives.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from repsense.core.cli import main
from repsense.events import Exercise
from repsense.firmware_bridge.recording import RecordingWriter, read_recording
from repsense.firmware_bridge.simulator import random_config, simulate_set, write_simulated
from repsense.samples import SampleBlock

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REPO_ROOT = Path(__file__).resolve().parents[2]
SPEED = "20"
#: The set options every run uses: no velocity-loss stop, so the whole set counts (the stop rules have own tests).
AMRAP = ("--exercise", "squat", "--velocity-loss", "60")


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "repsense", *args]


@pytest.fixture(scope="module")
def squat_file(tmp_path_factory) -> Path:
    sim = simulate_set(
        random_config(np.random.default_rng(3), Exercise.SQUAT, rate_hz=100, has_gyro=True, hard=False), 3
    )
    path, _ = write_simulated(sim, tmp_path_factory.mktemp("e2e") / "squat.csv")
    return path


class Emulator:
    """``repsense emulate FILE --pty`` in the background; ``port`` is what ``live --port`` should open."""

    def __init__(self, recording: Path, *args: str, speed: str = SPEED) -> None:
        self.proc = subprocess.Popen(
            command("emulate", str(recording), "--pty", "--speed", speed, *args),
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self.port = self.wait_for("device:").split()[1]
        if "--link" in args:
            self.port = self.wait_for("link:").split()[1]

    def wait_for(self, prefix: str) -> str:
        assert self.proc.stdout is not None
        while True:
            line = self.proc.stdout.readline()
            assert line, f"the emulator ended early: {self.lines} {self.proc.stderr.read() if self.proc.stderr else ''}"
            self.lines.append(line.strip())
            if line.startswith(prefix):
                return line.strip()

    def finish(self) -> list[str]:
        out, err = self.proc.communicate(timeout=60)
        assert self.proc.returncode == 0, err
        return self.lines + out.splitlines()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()


def live(port: str, record: Path, *args: str) -> dict[str, Any]:
    proc = subprocess.run(
        command("live", "--port", port, "--record", str(record), "--json", "--speed", SPEED, "--give-up", "1.5", *args),
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def replay(path: Path, *args: str) -> dict[str, Any]:
    """``repsense replay PATH --json ...``, in this process (the live side is the one that needs real processes)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["replay", str(path), "--json", *args]) == 0
    return json.loads(out.getvalue())


def mcvs(result: dict[str, Any]) -> list[float]:
    return [rep["mean_velocity"] for rep in result["reps"]]


@pytest.mark.parametrize("wire_format", ["frame", "csv"])
def test_live_counts_what_replay_counts_and_stops_by_itself(squat_file, tmp_path, assert_same_session, wire_format):
    options = ("--exercise", "squat", "--mode", "fixed", "--reps", "5", "--load", "225lb")
    emulator = Emulator(squat_file, "--format", wire_format)
    try:
        result = live(emulator.port, tmp_path / "live.csv", *options)
        emulator.finish()
    finally:
        emulator.kill()
    source = replay(squat_file, *options)
    assert_same_session(result, replay(tmp_path / "live.csv", *options), tmp_path / "live.csv")
    # the recording keeps the load, so that replaying it (to save it later) needs no --load
    assert replay(tmp_path / "live.csv", *options[:-2])["load"]["kg"] == pytest.approx(102.058)
    assert (result["stop"] is None) == (source["stop"] is None)
    if source["stop"] is not None:
        assert result["stop"]["reason"] == source["stop"]["reason"] == "target_reached"
        assert result["stop"]["rep"] == source["stop"]["rep"] == 5
        # The set ended at the stop: the recording holds little beyond it.
        assert result["summary"]["duration_s"] < source["summary"]["duration_s"]
    n = len(result["reps"])
    assert n >= (5 if source["stop"] else len(source["reps"]))
    np.testing.assert_allclose(mcvs(result), mcvs(source)[:n], rtol=0.01)


def test_one_percent_corrupted_bytes_lose_no_rep_and_invent_none(squat_file, tmp_path, assert_same_session):
    emulator = Emulator(squat_file, "--corrupt", "1", "--seed", "5")
    try:
        result = live(emulator.port, tmp_path / "live.csv", *AMRAP)
        lines = emulator.finish()
    finally:
        emulator.kill()
    assert any("bytes corrupted" in line and " 0 bytes corrupted" not in line for line in lines), lines
    source = replay(squat_file, *AMRAP)
    assert len(result["reps"]) == len(source["reps"]) >= 3
    assert (result["stop"] or {}).get("reason") == (source["stop"] or {}).get("reason")
    # About a fifth of the frames are lost, so the velocities move a little, but not much.
    np.testing.assert_allclose(mcvs(result), mcvs(source), rtol=0.08)
    assert result["summary"]["samples"] < 0.9 * source["summary"]["samples"]
    assert_same_session(result, replay(tmp_path / "live.csv", *AMRAP), tmp_path / "live.csv")


def test_the_session_goes_on_after_an_unplug(squat_file, tmp_path, assert_same_session):
    link = tmp_path / "ttyREPSENSE"
    emulator = Emulator(squat_file, "--link", str(link), "--disconnect-at", "12", "--disconnect-for", "2")
    try:
        result = live(emulator.port, tmp_path / "live.csv", *AMRAP)
        lines = emulator.finish()
    finally:
        emulator.kill()
    assert any(line.startswith("reconnected") for line in lines), lines
    notes = [text for _, text in read_recording(tmp_path / "live.csv").annotations]
    assert notes[0].startswith("gap: link lost at") and notes[1].startswith("link resumed at"), notes
    (gap, *_) = result["gaps"]
    # The new connection's clock is anchored to its own first arrivals, so the gap may read a few ms short.
    assert gap["duration"] >= 2.0 - 0.05
    assert any(rep["t_start"] > gap["t"] + gap["duration"] for rep in result["reps"])
    source = replay(squat_file, *AMRAP)
    assert len(source["reps"]) - 2 <= len(result["reps"]) <= len(source["reps"])
    assert_same_session(result, replay(tmp_path / "live.csv", *AMRAP), tmp_path / "live.csv")


def _start_live_plain(port: str, record: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        command("live", "--port", port, "--record", str(record), "--speed", "2", *AMRAP, *args),
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_kill_9_loses_at_most_the_last_second_and_the_file_replays(squat_file, tmp_path):
    record = tmp_path / "live.csv"
    emulator = Emulator(squat_file, speed="2")
    proc = _start_live_plain(emulator.port, record)
    try:
        emulator.wait_for("streaming")
        started = time.monotonic()
        time.sleep(2.5)
        os.kill(proc.pid, signal.SIGKILL)
        streamed_s = (time.monotonic() - started) * 2
        proc.communicate(timeout=10)
    finally:
        emulator.kill()
        if proc.poll() is None:
            proc.kill()
    recording = read_recording(record)
    recorded_s = float(recording.samples.t_s[-1] - recording.samples.t_s[0])
    assert streamed_s - 1.0 - 0.4 <= recorded_s <= streamed_s
    replay(record, *AMRAP)


def test_ctrl_c_ends_cleanly_and_keeps_everything(squat_file, tmp_path, assert_same_session):
    record = tmp_path / "live.csv"
    emulator = Emulator(squat_file, speed="2")
    proc = _start_live_plain(emulator.port, record, "--json")
    try:
        emulator.wait_for("streaming")
        time.sleep(2.0)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    finally:
        emulator.kill()
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    result = json.loads(out)
    assert result["summary"]["samples"] == len(read_recording(record).samples) > 300
    assert "stopped by hand" in err
    assert_same_session(result, replay(record, *AMRAP), record)


@pytest.fixture(scope="module")
def glitchy_wrist_squat(tmp_path_factory) -> Path:
    """A squat seen from the wrist at 25 Hz, accelerometer only, with a 2 g glitch every 3 s."""
    rng = np.random.default_rng(12)
    sim = simulate_set(random_config(rng, Exercise.SQUAT, rate_hz=25, has_gyro=False, hard=False), 12)
    t = sim.samples.t_s
    acc = sim.samples.acc_g.copy()
    acc[np.searchsorted(t, np.arange(t[0] + 1.0, t[-1], 3.0))] += [2.0, -1.0, 0.5]
    path = tmp_path_factory.mktemp("e2e") / "wrist_squat.csv"
    with RecordingWriter(path, {"exercise": "squat", "placement": "wrist"}, has_gyro=False) as writer:
        writer.write(SampleBlock(t, acc))
    return path


@pytest.mark.parametrize("which", ["curl", "squat"])
def test_a_wrist_sensor_counts_live_what_replay_counts(which, glitchy_wrist_squat, tmp_path, assert_same_session):
    """On the wrist, live and replay share the glitch filter, the counters' wait to start and their rhythm."""
    if which == "curl":
        source, options = REPO_ROOT / "sample_recordings" / "curl_wrist_50hz_nogyro.csv", ("--exercise", "curl")
    else:
        source, options = glitchy_wrist_squat, ("--exercise", "squat")
    options = (*options, "--placement", "wrist", "--velocity-loss", "60")
    emulator = Emulator(source)
    try:
        result = live(emulator.port, tmp_path / "live.csv", *options)
        emulator.finish()
    finally:
        emulator.kill()
    assert_same_session(result, replay(tmp_path / "live.csv", *options), tmp_path / "live.csv")
    expected = replay(source, *options)
    assert len(result["reps"]) == len(expected["reps"]) >= 4
    assert all("velocity_estimated" in rep["flags"] for rep in result["reps"])


def _live_that_fails(
    source: Path, wire: str, record: Path, db: Path, *options: str
) -> subprocess.CompletedProcess[str]:
    """``repsense live`` in a real process against the emulator sending ``source`` as ``wire``, giving up after
    1.5 s without a sample: for the sessions that must end with an error."""
    emulator = Emulator(source, "--format", wire)
    try:
        args = ("--port", emulator.port, "--record", str(record), "--db", str(db))
        return subprocess.run(
            command("live", *args, "--speed", SPEED, "--give-up", "1.5", *AMRAP, *options),
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        emulator.kill()


@pytest.mark.parametrize(
    ("options", "named"),
    [
        (("--acc-unit", "m/s2"), "pass --acc-unit g, not m/s2"),
        (("--columns", "ms,gx,gy,gz,ax,ay,az"), "check --columns ms,gx,gy,gz,ax,ay,az"),
        (("--time-unit", "s"), "pass --time-unit ms, not s"),
        (("--time-unit", "us"), "pass --time-unit ms, not us"),
        (("--gyro-unit", "rad/s"), "pass --gyro-unit dps, not rad/s"),
    ],
)
def test_wrong_units_or_columns_stop_live_with_one_line_naming_the_option(tmp_path, options, named):
    """Read with the wrong option, a set used to count 0 reps and exit 0; replay refuses such a file."""
    source = REPO_ROOT / "sample_recordings" / "squat_amrap_walkout_100hz.csv"
    record = tmp_path / "live.csv"
    proc = _live_that_fails(source, "csv", record, tmp_path / "h.sqlite3", "--json", *options)
    assert proc.returncode == 2 and proc.stdout == "", proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("repsense: error: ") and named in line and str(record) in line, line
    assert len(read_recording(record).samples) > 0
    assert not (tmp_path / "h.sqlite3").exists()


def test_two_sessions_with_the_same_record_path_keep_both_sets(squat_file, tmp_path):
    """The README's example, twice with one --db: set 1's recording must stay set 1's."""
    record, db = tmp_path / "live.csv", tmp_path / "h.sqlite3"
    results = []
    for _ in range(2):
        emulator = Emulator(squat_file)
        try:
            results.append(live(emulator.port, record, *AMRAP, "--db", str(db)))
            emulator.finish()
        finally:
            emulator.kill()
    with contextlib.closing(sqlite3.connect(db)) as conn:
        paths = [Path(p) for (p,) in conn.execute("SELECT recording_path FROM sets ORDER BY id")]
    assert paths == [record.resolve(), (tmp_path / "live-2.csv").resolve()]
    for path, result in zip(paths, results, strict=True):
        assert len(read_recording(path).samples) == result["summary"]["samples"]


@pytest.mark.parametrize(
    ("sent", "options", "said"),
    [
        (
            "frame",
            ("--format", "csv"),
            "do not decode as csv \\(.* discarded, no sample for 1.5 s\\): try --format auto",
        ),
        (
            "csv",
            ("--format", "frame"),
            "do not decode as frame \\(.* discarded, no sample for 1.5 s\\): try --format auto \\(or csv\\)",
        ),
        (
            "csv",
            ("--columns", "ms,ax,ay,az"),
            "do not decode as csv \\(.* discarded, .*\\): check --columns ms,ax,ay,az",
        ),
    ],
)
def test_bytes_in_the_wrong_format_are_named_so_and_exit_2(squat_file, tmp_path, sent, options, said):
    """Not 'no data ... gave up', a summary naming a file never written, and exit 0."""
    record = tmp_path / "live.csv"
    proc = _live_that_fails(squat_file, sent, record, tmp_path / "h.sqlite3", *options)
    assert proc.returncode == 2, proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert re.search(f"^repsense: error: receiving bytes that {said}$", line), line
    assert "recording" not in proc.stdout + proc.stderr
    assert not record.exists() and not (tmp_path / "h.sqlite3").exists()
