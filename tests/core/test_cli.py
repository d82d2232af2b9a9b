"""The command line as a user meets it: one JSON object, or one line and exit 2 for bad input."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from repsense.core.cli import main

GOOD_HEADER = "# exercise: squat\nt,ax,ay,az\n"


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "repsense", *args], capture_output=True, text=True, timeout=120, check=False
    )


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


BAD_FILES = {
    "missing": None,
    "empty.csv": "",
    "binary.csv": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe",
    "no_header.csv": "0.0,0,0,1\n0.1,0,0,1\n",
    "missing_column.csv": "t,ax,ay\n0.0,0,0\n",
    "non_numeric.csv": GOOD_HEADER + "0.0,0,0,1\n0.1,0,abc,1\n0.2,0,0,1\n",
    "nan.csv": GOOD_HEADER + "0.0,0,0,1\n0.1,0,nan,1\n0.2,0,0,1\n",
    "backwards.csv": GOOD_HEADER + "0.0,0,0,1\n0.2,0,0,1\n0.1,0,0,1\n0.3,0,0,1\n",
    "absurd.csv": GOOD_HEADER + "0.0,0,0,1\n0.1,0,0,900\n0.2,0,0,1\n",
    "header_only.csv": GOOD_HEADER,
    "m_s2.csv": GOOD_HEADER + "0.0,0.1,0.2,9.8\n0.1,0.1,0.3,9.7\n0.2,0.2,0.1,9.9\n",
    "milli_g_zeroed.csv": GOOD_HEADER + "0.0,0.001,0.002,0.0\n0.1,0.0,0.001,0.002\n",
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, name):
    content = BAD_FILES[name]
    path = tmp_path / name if content is None else write(tmp_path, name, content)
    assert main(["replay", str(path), "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("repsense: error: ")
    assert name.split(".")[0] in lines[0] or "no such file" in lines[0]


@pytest.mark.integration
def test_bad_input_in_a_real_process_has_no_traceback(tmp_path):
    path = write(tmp_path, "walkout.csv", BAD_FILES["non_numeric.csv"])
    proc = run_cli("replay", str(path))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1
    assert "walkout.csv" in proc.stderr and "line" in proc.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["replay"],
        ["replay", "x.csv", "--velocity-loss", "abc"],
        ["replay", "x.csv", "--velocity-loss", "150"],
        ["replay", "x.csv", "--exercise", "bicep-flex"],
        ["replay", "x.csv", "--mode", "fixed"],
        ["frobnicate"],
    ],
)
def test_bad_flags_are_one_line_and_exit_2(tmp_path, capsys, args):
    write(tmp_path, "x.csv", GOOD_HEADER + "0,0,0,1\n0.1,0,0,1\n")
    args = [str(tmp_path / a) if a == "x.csv" else a for a in args]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("repsense: error: ")


def test_unknown_exercise_in_metadata_is_named(tmp_path, capsys):
    path = write(tmp_path, "x.csv", "# exercise: zercher\nt,ax,ay,az\n0,0,0,1\n0.1,0,0,1\n")
    assert main(["replay", str(path), "--json"]) == 2
    assert "zercher" in capsys.readouterr().err


def test_json_of_a_still_recording_has_the_documented_shape(tmp_path, capsys):
    rows = "".join(f"{i * 0.01:.2f},0.0,0.0,1.0\n" for i in range(500))
    path = write(tmp_path, "still.csv", "# exercise: bench\n# placement: bar\nt,ax,ay,az\n" + rows)
    assert main(["replay", str(path), "--json", "--velocity-loss", "25"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["exercise"] == "bench" and out["placement"] == "bar"
    assert out["reps"] == [] and out["stop"] is None
    assert out["settings"]["velocity_loss_pct"] == 25.0
    assert out["settings"]["min_velocity"] == pytest.approx(0.17)
    assert out["settings"]["confirm"] == 1


def test_flags_override_metadata(tmp_path, capsys):
    rows = "".join(f"{i * 0.01:.2f},0.0,0.0,1.0\n" for i in range(100))
    path = write(tmp_path, "still.csv", "# exercise: bench\nt,ax,ay,az\n" + rows)
    assert main(["replay", str(path), "--json", "--exercise", "deadlift", "--placement", "wrist"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["exercise"], out["placement"]) == ("deadlift", "wrist")
    assert out["settings"]["confirm"] == 2, "a rough wrist velocity needs two reps in a row"
    assert main(["replay", str(path), "--json", "--placement", "wrist", "--confirm", "1"]) == 0
    assert json.loads(capsys.readouterr().out)["settings"]["confirm"] == 1


@pytest.mark.parametrize(("scale", "hint"), [(9.80665, "m/s^2"), (0.01, "in g?")])
def test_acceleration_that_is_not_in_g_is_refused_with_the_unit_it_looks_like(tmp_path, capsys, scale, hint):
    """A recording in m/s^2 was counted as a bar at 14 m/s through 21 m, without a word; the formats allow up to
    64 g, so it takes the median (about 1 g for any sensor that lifts) to tell."""
    demo = Path(__file__).resolve().parents[2] / "sample_recordings" / "squat_amrap_walkout_100hz.csv"
    lines = demo.read_text(encoding="utf-8").splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("t,"))
    scaled = [
        ",".join([cells[0], *(f"{float(v) * scale:.5f}" for v in cells[1:4]), *cells[4:]])
        for cells in (line.split(",") for line in lines[header + 1 :])
    ]
    path = write(tmp_path, "scaled.csv", "\n".join([*lines[: header + 1], *scaled]) + "\n")
    assert main(["replay", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "scaled.csv" in err and hint in err, err


SAMPLES = Path(__file__).resolve().parents[2] / "sample_recordings"


def test_replay_shows_a_loss_short_of_the_threshold_below_it(capsys):
    """The wrist curl sample: rep 10 loses 19.54 % and no stop fires. Shown as 20 %, that read as a broken rule."""
    assert main(["replay", str(SAMPLES / "curl_wrist_50hz_nogyro.csv")]) == 0
    out = capsys.readouterr().out
    rep_10 = next(line for line in out.splitlines() if line.startswith(" 10 "))
    assert "VL 19%" in rep_10
    assert "10: 0.28 m/s, VL 19%" in out and "no stop rule fired" in out


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("0.2", "--velocity-loss is a percentage: 20 means 20 %"),  # a fraction, as a user might write it
        ("0", "--velocity-loss is a percentage: 20 means 20 %"),
        ("0.99", "--velocity-loss is a percentage: 20 means 20 %"),
        ("100", "from 1 to below 100"),
        ("150", "from 1 to below 100"),
    ],
)
def test_velocity_loss_is_a_percentage_from_1_to_below_100(tmp_path, capsys, value, words):
    path = write(tmp_path, "x.csv", GOOD_HEADER + "0,0,0,1\n0.1,0,0,1\n")
    assert main(["replay", str(path), "--velocity-loss", value]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and words in err[0], err


def test_velocity_loss_of_1_percent_is_accepted(tmp_path, capsys):
    rows = "".join(f"{i * 0.01:.2f},0.0,0.0,1.0\n" for i in range(100))
    path = write(tmp_path, "still.csv", GOOD_HEADER + rows)
    assert main(["replay", str(path), "--json", "--velocity-loss", "1"]) == 0
    assert json.loads(capsys.readouterr().out)["settings"]["velocity_loss_pct"] == 1.0


def test_output_to_a_pipe_is_not_wrapped(tmp_path, capsys):
    """Into a file or a pipe, a rep's flags stay on its line and a long path stays whole (rich wrapped at 80)."""
    deep = tmp_path / ("a_rather_long_folder_name_" * 3) / "curl_wrist_50hz_nogyro.csv"
    deep.parent.mkdir()
    deep.write_bytes((SAMPLES / "curl_wrist_50hz_nogyro.csv").read_bytes())
    assert main(["replay", str(deep), "--placement", "wrist"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"repsense {deep}"
    reps = [line for line in lines if line[:4].strip().isdigit()]
    assert len(reps) == 10
    assert all(line.rstrip().endswith("velocity_estimated") for line in reps), reps
    assert "velocity_estimated" not in [line.strip() for line in lines]


def test_bare_repsense_prints_the_usage_and_the_commands(capsys):
    assert main([]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("usage: repsense")
    for command in ("replay", "live", "history", "report", "emulate"):
        assert f"    {command} " in captured.err, command


@pytest.mark.integration
def test_bare_repsense_in_a_real_process():
    proc = run_cli()
    assert proc.returncode == 2
    assert proc.stderr.startswith("usage: repsense") and "replay" in proc.stderr and "Traceback" not in proc.stderr


def test_replay_shows_reps_with_no_velocity_as_counted_and_json_gives_null(capsys):
    """A wrist set of an ``other`` lift: each rep counted, with no 0.00 m/s, and no stop on velocity loss."""
    curl = Path(__file__).resolve().parents[2] / "sample_recordings" / "curl_wrist_50hz_nogyro.csv"
    assert main(["replay", str(curl), "--exercise", "other"]) == 0
    out = capsys.readouterr().out
    assert out.count("counted, no velocity") == 10 and "0.00 m/s" not in out and "no stop rule fired" in out
    assert main(["replay", str(curl), "--exercise", "other", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert [r["mean_velocity"] for r in result["reps"]] == [None] * 10
    assert result["summary"]["best_mean_velocity"] is None and result["stop"] is None


def test_the_summary_gives_the_sets_best_and_last_rep_not_those_after_the_stop():
    """The audit: the history stored the set's best MCV (0.81) while the replay summary showed "best rep 9: 0.87
    m/s", a rep after the stop. The summary's best and last rep are the set's (up to the stop, the best not across
    lost samples), and the reps after the stop are named on their own line."""
    import io

    from rich.console import Console

    from repsense.core.session import SessionResult
    from repsense.core.setcontrol import SetConfig
    from repsense.core.view import SetView
    from repsense.events import Exercise, Placement, RepEvent, RepFlag, SetEnded, StopReason

    def rep_event(i: int, mcv: float, vl: float, *flags: RepFlag) -> RepEvent:
        return RepEvent(i, 3.0 * i, 3.0 * i + 0.8, 3.0 * i + 0.9, mcv, mcv * 1.5, 0.5, vl, flags)

    reps = [
        rep_event(1, 0.81, 0.0),
        rep_event(2, 0.95, 0.0, RepFlag.DATA_GAP),  # across lost samples: no reference
        rep_event(3, 0.62, 0.23),
        rep_event(4, 0.87, 0.0),  # after the stop
    ]
    stop = SetEnded(3, 9.9, StopReason.VELOCITY_LOSS, "velocity loss 23% reached the 20% threshold")
    result = SessionResult(Exercise.SQUAT, Placement.BAR, SetConfig.for_lift(Exercise.SQUAT), reps=reps, stop=stop)
    buffer = io.StringIO()
    SetView(Console(file=buffer, width=120)).summary(result)
    text = buffer.getvalue()
    assert "best rep of the set │ 1: 0.81 m/s" in text
    assert "last rep of the set │ 3: 0.62 m/s, VL 23%" in text
    assert "after the stop      │ 1 rep, fastest 4: 0.87 m/s; not counted" in text


def test_a_rep_measured_across_lost_samples_shows_no_velocity_loss_and_says_why():
    """The audit: with frames lost, every rep was ``data_gap`` and showed "VL 0%" while the bar slowed by half, and
    the AMRAP never stopped. Such a rep now shows no loss, and the first one says why the stop does not use it."""
    import io

    from rich.console import Console

    from repsense.core.setcontrol import SetConfig
    from repsense.core.view import UNTRUSTED_WORDS, SetView
    from repsense.events import Exercise, RepEvent, RepFlag

    out = io.StringIO()
    view = SetView(Console(file=out, width=200))
    config = SetConfig.for_lift(Exercise.SQUAT)
    for i, mcv in enumerate([0.69, 0.50, 0.32], start=1):
        view.show(
            RepEvent(i, 2.0 * i, 2.0 * i + 0.8, 2.0 * i + 0.9, mcv, mcv * 1.6, 0.55, 0.0, (RepFlag.DATA_GAP,)), config
        )
    text = out.getvalue()
    assert "VL  0%" not in text and text.count("VL   -") == 3
    assert text.count(UNTRUSTED_WORDS) == 1


def test_replay_of_alternating_curls_counts_both_arms(tmp_path, capsys):
    """A watch on one wrist during alternating curls: ``--exercise alt_curl`` counts the other arm's rep before each
    seen one, and says which is which (neither is timed on the wrist)."""
    import numpy as np

    from repsense.core.view import NO_VELOCITY_WORDS, OTHER_ARM_WORDS
    from repsense.firmware_bridge.sim_wrist import random_wrist_config, simulate_wrist_set
    from repsense.firmware_bridge.simulator import write_simulated

    config = random_wrist_config(np.random.default_rng(4), "curl", hard=False, alternating=True)
    sim = simulate_wrist_set(config, 4)
    path, _ = write_simulated(sim, tmp_path / "alt.csv")
    true_reps = len(sim.truth.reps)
    assert main(["replay", str(path), "--exercise", "alt_curl", "--placement", "wrist", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["exercise"] == "alt_curl" and result["summary"]["reps"] == true_reps == 2 * config.n_reps
    flags = [r["flags"] for r in result["reps"]]
    assert flags[0::2] == [["other_arm", "no_velocity"]] * config.n_reps
    assert flags[1::2] == [["no_velocity"]] * config.n_reps  # on the wrist the seen arm's reps are not timed
    assert all(r["mean_velocity"] is None for r in result["reps"])
    assert main(["replay", str(path), "--exercise", "alt_curl", "--reps", "6"]) == 0
    out = capsys.readouterr().out
    assert out.count(OTHER_ARM_WORDS) == config.n_reps and NO_VELOCITY_WORDS in out
    assert "after rep 6" in out and "6 of 6 reps done" in out
    assert main(["replay", str(path), "--exercise", "curl"]) == 0  # one arm, as before
    assert OTHER_ARM_WORDS not in capsys.readouterr().out


def test_alt_curl_is_among_the_lifts_the_help_names(capsys):
    for command in ("replay", "live", "report"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        assert "curl, alt_curl, other" in " ".join(capsys.readouterr().out.split()), command
