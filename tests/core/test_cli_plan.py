"""Plans on the command line, end to end on the bundled squat recording.

``squat_amrap_walkout_100hz.csv`` holds 9 reps. As an AMRAP set it ends at rep 6 on velocity loss (25 % against the
20 % threshold); reps 1-6 have good form, so 6 good reps: the rule says RIGHT for "4x5, last AMRAP".
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from repsense.core.advice import amrap_advice
from repsense.core.cli import main
from repsense.core.plan import Load, WeightUnit

REPO_ROOT = Path(__file__).resolve().parents[2]
SQUAT = REPO_ROOT / "sample_recordings" / "squat_amrap_walkout_100hz.csv"


def replay_json(capsys, *args: str) -> tuple[dict[str, Any], str]:
    """``replay SQUAT --json ARGS``: the JSON object and stderr."""
    assert main(["replay", str(SQUAT), "--json", *args]) == 0
    captured = capsys.readouterr()
    return json.loads(captured.out), captured.err


def fails(capsys, *args: str) -> str:
    """``replay SQUAT ARGS`` must fail as a user error: exit 2, nothing on stdout, one line on stderr."""
    assert main(["replay", str(SQUAT), *args]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("repsense: error: ")
    return lines[0]


def test_the_amrap_last_set_gets_the_rule(capsys):
    result, err = replay_json(capsys, "--plan", "4x5@100kg, last AMRAP", "--set", "4")
    assert err == ""
    assert result["settings"]["mode"] == "amrap"
    assert result["stop"]["reason"] == "velocity_loss" and result["stop"]["rep"] == 6
    good = result["summary"]["good_reps"]
    assert good == 6
    advice = result["advice"]
    expected = amrap_advice(5, good, Load(100, WeightUnit.KG))
    assert advice == expected.to_dict()
    assert advice["verdict"] == "right"
    assert advice["next_load"] == {"value": 100.0, "unit": "kg", "kg": 100.0}
    assert advice["text"] == "6 good reps on the AMRAP set (5 planned): the load is right. Keep 100 kg (e1RM 120 kg)."
    assert result["plan"] == {
        "text": "4x5@100kg, last AMRAP",
        "kind": "amrap_last",
        "sets": 4,
        "set": 4,
        "mode": "amrap",
        "target_reps": 5,
        "load": {"value": 100.0, "unit": "kg", "kg": 100.0},
        "beginner": False,
        "warnings": [],
        "previous_best": None,
        "day_best": None,
    }


@pytest.mark.parametrize(
    ("plan", "verdict", "next_load"),
    [
        # 6 good reps against other plans: the same recording judged by the rule
        ("4x3@225lb, last AMRAP", "a_little_light", {"value": 230.0, "unit": "lb", "kg": 104.326}),
        ("3x1@100kg, last AMRAP", "too_light", {"value": 110.0, "unit": "kg", "kg": 110.0}),
        ("3x8@100kg, last AMRAP", "too_heavy", {"value": 90.0, "unit": "kg", "kg": 90.0}),
        ("1x6@80kg, last AMRAP", "at_limit", {"value": 80.0, "unit": "kg", "kg": 80.0}),
    ],
)
def test_other_schemes_follow_the_rule(capsys, plan, verdict, next_load):
    result, _ = replay_json(capsys, "--plan", plan, "--set", plan[0])
    assert result["summary"]["good_reps"] == 6
    assert result["advice"]["verdict"] == verdict
    assert result["advice"]["next_load"] == next_load


def test_a_fixed_set_ends_at_its_target(capsys):
    result, _ = replay_json(capsys, "--plan", "3x8@60kg", "--set", "1")
    assert len(result["reps"]) == 9  # the recording goes on ...
    assert result["stop"]["reason"] == "target_reached" and result["stop"]["rep"] == 8  # ... the set does not
    assert result["settings"]["mode"] == "fixed" and result["settings"]["target_reps"] == 8
    assert result["summary"]["good_reps"] == 8
    assert result["advice"]["verdict"] == "add"
    assert result["advice"]["next_load"] == {"value": 62.5, "unit": "kg", "kg": 62.5}
    last, _ = replay_json(capsys, "--plan", "3x8@60kg", "--set", "3")
    assert last["advice"]["text"] == "8 of 8 good reps: next time 62.5 kg (add 2.5 kg)."


def test_beginner_turns_the_amrap_set_fixed_and_warns(capsys):
    result, err = replay_json(capsys, "--plan", "4x5@100kg, last AMRAP", "--set", "4", "--beginner")
    assert result["settings"]["mode"] == "fixed" and result["settings"]["target_reps"] == 5
    assert result["stop"]["reason"] == "target_reached" and result["stop"]["rep"] == 5
    assert result["plan"]["text"] == "4x5@100kg" and result["plan"]["beginner"] is True
    assert len(result["plan"]["warnings"]) == 1
    assert err.startswith("repsense: warning: beginner: set 4 of 4x5@100kg, last AMRAP runs as a fixed set of 5")
    assert result["advice"]["verdict"] == "add"
    assert result["advice"]["next_load"]["value"] == 102.5


def test_beginner_warns_only_on_the_set_it_changes(capsys):
    """The audit: sets 1-3 each printed "warning: beginner: set 4 of 4x5@100kg, last AMRAP runs as a fixed set",
    naming set 4 while on set 1."""
    result, err = replay_json(capsys, "--plan", "4x5@100kg, last AMRAP", "--set", "1", "--beginner")
    assert err == "" and result["plan"]["warnings"] == []
    assert main(["replay", str(SQUAT), "--plan", "4x5@100kg, last AMRAP", "--set", "2", "--beginner"]) == 0
    assert "warning" not in capsys.readouterr().out
    result, err = replay_json(capsys, "--plan", "4x5@100kg, last AMRAP", "--set", "4", "--beginner")
    assert len(result["plan"]["warnings"]) == 1 and "set 4 of" in err


def test_beginner_without_a_plan(capsys):
    result, err = replay_json(capsys, "--beginner", "--reps", "4")
    assert result["settings"]["mode"] == "fixed" and result["stop"]["rep"] == 4
    assert "warning: beginner" in err
    assert "plan" not in result and "advice" not in result
    line = fails(capsys, "--beginner")
    assert "--beginner keeps AMRAP off" in line


def test_load_overrides_the_plan(capsys):
    result, _ = replay_json(capsys, "--plan", "4x5@100kg, last AMRAP", "--set", "4", "--load", "225 lbs")
    assert result["plan"]["text"] == "4x5@225lb, last AMRAP"
    assert result["advice"]["text"] == (
        "6 good reps on the AMRAP set (5 planned): the load is right. Keep 225 lb (e1RM 270 lb)."
    )


def test_without_a_plan_nothing_changes_but_good_reps(capsys):
    result, err = replay_json(capsys)
    assert err == ""
    assert "plan" not in result and "advice" not in result
    assert result["load"] == {"value": 120.0, "unit": "kg", "kg": 120.0}  # the recording's load_kg
    assert result["settings"]["mode"] == "amrap" and result["settings"]["target_reps"] is None
    assert result["summary"]["good_reps"] == 6
    with_load, _ = replay_json(capsys, "--load", "100kg")
    assert with_load["load"] == {"value": 100.0, "unit": "kg", "kg": 100.0}
    assert "advice" not in with_load
    fixed, _ = replay_json(capsys, "--mode", "fixed", "--reps", "3")
    assert fixed["stop"]["rep"] == 3


def test_endurance_set(capsys):
    result, _ = replay_json(capsys, "--plan", "endurance 200lb, 2 sets", "--set", "1")
    assert result["settings"]["mode"] == "amrap"
    assert result["plan"]["target_reps"] is None and result["plan"]["previous_best"] is None
    assert result["advice"]["text"] == "6 good reps at 200 lb: that is your number. Next time, beat it: 7."


def test_the_advice_is_printed_after_the_set(capsys):
    assert main(["replay", str(SQUAT), "--plan", "4x5@100kg,last amrap", "--set", "4"]) == 0
    out = capsys.readouterr().out
    assert "plan 4x5@100kg, last AMRAP: set 4 of 4, AMRAP (5 planned) at 100 kg" in out
    assert "advice: set 4 of 4x5@100kg, last AMRAP" in out
    assert "the load is right" in " ".join(out.split())
    assert out.index("Set summary") < out.index("advice: set 4")


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--plan", "4x5@100kb"], "plan \"4x5@100kb\": load '100kb' is not a load"),
        (["--plan", "4x5@100kg, lats AMRAP"], 'cannot read "latsamrap"'),
        (["--plan", "five by five"], 'cannot read "fivebyfive"'),
        (["--plan", "3x8@60kg", "--set", "4"], 'set 4 is not in plan "3x8@60kg", which has 3 sets'),
        (["--plan", "3x8@60kg", "--set", "0"], "set 0 is not in plan"),
        (["--plan", "3x8@60kg", "--mode", "fixed"], "--mode and --reps conflict with --plan"),
        (["--plan", "3x8@60kg", "--reps", "8"], "--mode and --reps conflict with --plan"),
        (["--set", "2"], "--set goes with --plan"),
        (["--load", "100"], "no unit"),
        (["--plan", "endurance 200lb", "--beginner"], "--beginner"),
    ],
)
def test_bad_plan_options_are_one_line_and_exit_2(capsys, args, says):
    line = fails(capsys, *args)
    assert says in line
    line_json = fails(capsys, "--json", *args)
    assert line_json == line


@pytest.mark.integration
@pytest.mark.slow
def test_live_with_a_plan(tmp_path):
    """``emulate`` plays the recording on a pty 20 times faster; ``live --plan ... --json`` counts it and advises."""
    env = {**os.environ, "REPSENSE_DB": str(tmp_path / "history.sqlite3")}
    emulator = subprocess.Popen(
        [sys.executable, "-m", "repsense", "emulate", str(SQUAT), "--pty", "--speed", "20"],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert emulator.stdout is not None
        first = emulator.stdout.readline()
        assert first.startswith("device:"), first + (emulator.stderr.read() if emulator.stderr else "")
        port = first.split()[1]
        live = subprocess.run(
            [
                *(sys.executable, "-m", "repsense", "live", "--port", port, "--json", "--speed", "20"),
                *("--give-up", "1.5", "--exercise", "squat", "--plan", "4x5@100kg, last AMRAP", "--set", "4"),
            ],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            env=env,
        )
        emulator.communicate(timeout=60)
    finally:
        if emulator.poll() is None:
            emulator.kill()
            emulator.communicate()
    assert live.returncode == 0, live.stderr
    result = json.loads(live.stdout)
    assert result["plan"]["text"] == "4x5@100kg, last AMRAP" and result["plan"]["set"] == 4
    good = result["summary"]["good_reps"]
    assert good == 6  # as the replay
    assert result["advice"] == amrap_advice(5, good, Load(100, WeightUnit.KG)).to_dict()


def test_reps_without_a_mode_is_a_fixed_set(capsys):
    """``--reps 5`` alone ran an AMRAP set and ignored the 5."""
    result, err = replay_json(capsys, "--reps", "5")
    assert err == ""
    assert result["settings"]["mode"] == "fixed" and result["settings"]["target_reps"] == 5
    assert result["stop"]["reason"] == "target_reached" and result["stop"]["rep"] == 5


def test_reps_that_an_amrap_set_would_ignore_are_refused(capsys):
    line = fails(capsys, "--mode", "amrap", "--reps", "5")
    assert "--reps" in line and "amrap" in line


def test_speed_without_realtime_is_refused(capsys):
    """Without --realtime a replay runs as fast as it can: a --speed there did nothing."""
    line = fails(capsys, "--speed", "5")
    assert "--speed goes with --realtime" in line
    assert main(["replay", str(SQUAT), "--json", "--realtime", "--speed", "1000"]) == 0
    assert json.loads(capsys.readouterr().out)["summary"]["reps"] == 9
