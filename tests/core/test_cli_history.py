"""The history on the command line: replay --save, live, history, export, correct, profile, and the set defaults."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import subprocess
import sys
from argparse import Namespace
from pathlib import Path

import pytest

from repsense.core.cli import main
from repsense.core.cli_history import default_db_path, default_set_number, parse_since, previous_best, save_result
from repsense.core.history import History, RepRow, SetRecord
from repsense.core.plan import parse_plan
from repsense.core.session import SessionResult
from repsense.core.setcontrol import SetConfig
from repsense.core.view import make_console
from repsense.events import Exercise, Placement, RepEvent, SetEnded, StopReason

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "sample_recordings" / "squat_amrap_walkout_100hz.csv"
PLAN = "4x5@100kg, last AMRAP"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "repsense", *args], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )


def cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def simple_set(mcvs: list[float], load_kg: float | None = 100.0, **fields) -> SetRecord:
    reps = tuple(RepRow(i, i * 4.0, i * 4.0 + 0.8, v, v * 1.5, 0.55, None) for i, v in enumerate(mcvs, start=1))
    return SetRecord(exercise=fields.pop("exercise", "squat"), mode="amrap", reps=reps, load_kg=load_kg, **fields)


@pytest.fixture
def saved(tmp_path, capsys) -> Path:
    """A history with the demo squat saved twice: plain at 100 kg (set 1), and as set 4 of the plan (set 2)."""
    db = tmp_path / "h.sqlite3"
    assert main(["replay", str(DEMO), "--save", "--load", "100kg", "--db", str(db)]) == 0
    assert main(["replay", str(DEMO), "--save", "--plan", PLAN, "--set", "4", "--db", str(db)]) == 0
    assert capsys.readouterr().out.count(f"in {db}") == 2
    return db


@pytest.mark.integration
def test_replay_save_then_history_shows_it_in_real_processes(tmp_path):
    db = tmp_path / "x.sqlite3"
    proc = run("replay", str(DEMO), "--save", "--load", "100kg", "--db", str(db))
    assert proc.returncode == 0, proc.stderr
    assert f"saved as set 1 in {db}" in proc.stdout
    proc = run("history", "--db", str(db))
    assert proc.returncode == 0, proc.stderr
    line = next(x for x in proc.stdout.splitlines() if x.strip().startswith("1 "))
    for cell in ("squat", "100 kg", "AMRAP", "6/6", "0.69", "25%"):  # 25.34 %, rounded down
        assert cell in line, line


def test_replay_saves_only_when_asked_and_keeps_stdout_json(tmp_path, capsys, monkeypatch):
    db = tmp_path / "h.sqlite3"
    monkeypatch.setenv("REPSENSE_DB", str(db))
    code, out, err = cli(capsys, "replay", str(DEMO), "--json")
    assert code == 0 and not db.exists()
    code, out, err = cli(capsys, "replay", str(DEMO), "--json", "--save", "--plan", PLAN, "--set", "4")
    assert code == 0
    result = json.loads(out)  # stdout is only the JSON; the save is reported on stderr
    assert f"saved as set 1 in {db}" in err
    with History(db) as history:
        row = history.get_set(1)
    assert row.rep_count == result["stop"]["rep"] == 6
    assert row.good_reps == result["advice"]["good_reps"] == result["summary"]["good_reps"]
    assert (row.advice_verdict, row.advice_text) == (result["advice"]["verdict"], result["advice"]["text"])
    assert (row.plan_text, row.set_number, row.target_reps, row.load_text) == (PLAN, 4, 5, "100 kg")
    assert [r.mean_velocity_m_s for r in row.reps] == pytest.approx(
        [r["mean_velocity"] for r in result["reps"]], abs=5e-5
    )
    assert row.recording_path == str(DEMO)
    assert row.sensor == "repsense-simulator"


def test_history_table_and_one_set(saved, capsys):
    code, out, _ = cli(capsys, "history", "--db", str(saved))
    assert code == 0
    rows = {line.split()[0]: line for line in out.splitlines() if line.strip()[:1].isdigit()}
    assert set(rows) == {"1", "2"}
    assert "4x5@100kg, last AMRAP #4" in rows["2"] and "6/6" in rows["2"] and "6 good reps" in rows["2"]
    assert "(5 planned): the load is right. Keep 100 kg" in " ".join(out.split())  # the advice wraps in its column
    assert out.index("\n    2 ") < out.index("\n    1 ")  # newest first
    code, out, _ = cli(capsys, "history", "--db", str(saved), "--set", "2")
    assert code == 0
    assert "6 reps, 6 good; best MCV 0.69 m/s, VL at stop 25%" in out  # 25.34 %, rounded down
    assert out.count("after the stop") == 3 and out.count("counted") == 6
    code, out, _ = cli(capsys, "history", "--db", str(saved), "--exercise", "bench")
    assert (code, out.strip()) == (0, "no sets match")


def test_history_into_a_pipe_is_not_padded_with_spaces(saved, capsys):
    """The audit: piped `history` padded every line with spaces to about 200 columns."""
    for extra in ([], ["--set", "2"]):
        code, out, _ = cli(capsys, "history", "--db", str(saved), *extra)
        assert code == 0 and out.strip()
        assert [line for line in out.splitlines() if line != line.rstrip()] == []
    code, out, _ = cli(capsys, "history", "--db", str(saved))
    header = next(line for line in out.splitlines() if "reps/good" in line)
    assert header.endswith("advice")


def test_history_without_a_database_says_so_and_creates_none(tmp_path, capsys):
    db = tmp_path / "none.sqlite3"
    code, out, _ = cli(capsys, "history", "--db", str(db))
    assert code == 0 and "no history yet" in out and not db.exists()
    code, _, err = cli(capsys, "export", "--format", "json", "--db", str(db))
    assert code == 2 and "no history at" in err and not db.exists()


def test_export_json_round_trips_every_stored_number(saved, capsys):
    code, out, _ = cli(capsys, "export", "--format", "json", "--db", str(saved))
    assert code == 0
    document = json.loads(out)
    assert (document["format"], document["version"], document["schema_version"]) == ("repsense-history", 1, 2)
    with History(saved) as history:
        stored = [history.get_set(1).to_dict(), history.get_set(2).to_dict()]
    assert document["sets"] == stored  # oldest first, every float exactly
    assert document["sets"][1]["rep_rows"][2]["mcv_m_s"] == stored[1]["rep_rows"][2]["mcv_m_s"]


def test_export_csv_round_trips_per_rep_and_per_set(saved, capsys, tmp_path):
    with History(saved) as history:
        rows = [history.get_set(1), history.get_set(2)]
    out_file = tmp_path / "reps.csv"
    code, out, _ = cli(capsys, "export", "--format", "csv", "--out", str(out_file), "--db", str(saved))
    assert code == 0 and out.strip() == f"wrote 2 sets to {out_file}"
    table = list(csv.DictReader(io.StringIO(out_file.read_text())))
    assert len(table) == sum(len(r.reps) for r in rows) == 18
    for line in table:
        row = rows[int(line["id"]) - 1]
        rep = row.reps[int(line["rep_idx"]) - 1]
        assert float(line["rep_mcv_m_s"]) == rep.mean_velocity_m_s
        assert float(line["rep_velocity_loss"]) == rep.velocity_loss
        assert float(line["rep_rom_m"]) == rep.rom_m
        assert line["rep_flags"] == ";".join(rep.flags)
        assert line["rep_counted"] == str(int(rep.counted))
        assert float(line["best_mcv"]) == row.best_mcv_m_s and float(line["load_kg"]) == row.load_kg
    code, out, _ = cli(capsys, "export", "--format", "csv", "--per", "set", "--limit", "1", "--db", str(saved))
    (only,) = list(csv.DictReader(io.StringIO(out)))
    assert only["id"] == "2" and only["plan_text"] == PLAN and float(only["vl_at_stop"]) == rows[1].vl_at_stop
    assert int(only["reps"]) == 6 and only["advice_verdict"] == "right"


def test_correct_recomputes_good_reps_velocity_loss_and_advice(saved, capsys):
    code, out, _ = cli(capsys, "correct", "2", "--drop", "4", "--drop", "5", "--db", str(saved))
    assert code == 0
    assert "reps 6 -> 4, good 6 -> 4" in out
    with History(saved) as history:
        row = history.get_set(2)
    assert (row.rep_count, row.good_reps, row.advice_verdict) == (4, 4, "too_heavy")
    assert "4 good reps" in (row.advice_text or "") and "92.5 kg" in (row.advice_text or "")
    code, out, _ = cli(capsys, "history", "--db", str(saved))
    line = next(x for x in out.splitlines() if x.strip().startswith("2 "))
    assert "4/4*" in line and "4 good reps on the AMRAP set" in line
    assert "the load is too heavy. Next time: 92.5 kg" in " ".join(out.split())
    assert "* corrected by hand" in out
    # Dropping the best rep moves the reference: velocity loss is measured against rep 2 from there on.
    code, out, _ = cli(capsys, "correct", "2", "--drop", "1", "--restore", "4", "--add-rep", "--db", str(saved))
    with History(saved) as history:
        row = history.get_set(2)
    r2 = row.reps[1].mean_velocity_m_s
    assert row.reps[5].velocity_loss == pytest.approx(1 - row.reps[5].mean_velocity_m_s / r2)
    assert row.vl_at_stop == row.reps[5].velocity_loss
    assert (row.rep_count, row.good_reps) == (5, 5) and row.reps[-1].added_by_user
    assert row.advice_verdict == "at_limit"


def test_adding_reps_past_the_stop_of_an_amrap_set_is_refused_and_changes_nothing(saved, capsys):
    """The audit: after `correct --drop 2`, `--add-rep 5` counted reps after the stop (5 -> 10) and the advice went
    from "at your limit" to "too light. Next time: 110 kg". A rep missed before the stop is still added."""
    assert cli(capsys, "correct", "2", "--drop", "2", "--db", str(saved))[0] == 0
    with History(saved) as history:
        before = history.get_set(2)
    code, out, err = cli(capsys, "correct", "2", "--add-rep", "5", "--db", str(saved))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "stopped after rep 6" in err and "nothing was changed" in err
    with History(saved) as history:
        assert history.get_set(2) == before
    code, out, _ = cli(capsys, "correct", "2", "--add-rep", "--db", str(saved))
    assert code == 0 and "reps 5 -> 6" in out
    listed = [line.split()[0] for line in out.splitlines() if line.strip()[:2].strip().isdigit()]
    assert listed[-5:] == ["10", "6", "7", "8", "9"]  # the added rep belongs before the stop, not after rep 9


def test_a_replay_saves_the_recordings_load_unless_a_flag_gives_one(tmp_path, capsys):
    """The audit: `report FILE` titled the demo "Squat · 120 kg" (its load_kg), but `replay FILE --save` stored no
    load, so `profile squat` had no point from it. A replay uses the recording's load when neither --load nor the
    plan gives one; a flag overrides the file."""
    db = tmp_path / "h.sqlite3"
    for extra in ([], ["--load", "100kg"], ["--plan", "4x5@110kg, last AMRAP", "--set", "4"], ["--plan", "3x5"]):
        assert cli(capsys, "replay", str(DEMO), "--save", "--db", str(db), *extra)[0] == 0
    with History(db) as history:
        rows = [history.get_set(i) for i in (1, 2, 3, 4)]
        points = history.profile_points("squat")
    assert [r.load_text for r in rows] == ["120 kg", "100 kg", "110 kg", "120 kg"]
    assert rows[3].plan_text == "3x5@120kg" and "next time 122.5 kg" in (rows[3].advice_text or "")
    assert sorted({load for load, _ in points}) == [100.0, 110.0, 120.0]
    unloaded = tmp_path / "unloaded.csv"
    unloaded.write_text(DEMO.read_text(encoding="utf-8").replace("# load_kg: 120.0\n", ""), encoding="utf-8")
    assert cli(capsys, "replay", str(unloaded), "--save", "--db", str(db))[0] == 0
    with History(db) as history:
        assert history.get_set(5).load_kg is None


def test_correct_refuses_nonsense_in_one_line(saved, capsys):
    for args, words in [
        (["correct", "2"], "say what to correct"),
        (["correct", "2", "--drop", "12"], "set 2 has no rep 12 (reps 1-9)"),
        (["correct", "7", "--drop", "1"], "no set 7"),
        (["correct", "2", "--add-rep", "-1"], "--add-rep must be at least 1"),
    ]:
        code, _, err = cli(capsys, *args, "--db", str(saved))
        assert code == 2 and err.count("\n") == 1 and words in err, err


def test_profile_fits_three_loads_and_refuses_fewer(tmp_path, capsys):
    db = tmp_path / "h.sqlite3"
    with History(db) as history:
        history.save_set(simple_set([0.9, 1.0], load_kg=60.0, load_unit="kg"))
        history.save_set(simple_set([0.8, 0.75], load_kg=80.0, load_unit="kg"))
    code, _, err = cli(capsys, "profile", "squat", "--db", str(db))
    assert code == 2 and "need sets at 3 or more different loads" in err and "60 kg, 80 kg" in err
    with History(db) as history:
        history.save_set(simple_set([0.6], load_kg=100.0, load_unit="kg"))
    code, out, _ = cli(capsys, "profile", "squat", "--db", str(db))
    # Points (60, 1.0), (80, 0.8), (100, 0.6): MCV = 1.6 - 0.01 x load, exact; at 0.30 m/s the load is 130 kg.
    assert code == 0
    assert "from 3 sets at 3 loads" in out and "MCV = 1.600 - 0.01000 x load" in out and "r² 1.000" in out
    assert "e1RM 130 kg" in out
    code, out, _ = cli(capsys, "profile", "squat", "--unit", "lb", "--db", str(db))
    assert "e1RM 286.6 lb" in out
    # an e1RM off the grid has one decimal, as docs/history.md shows it ("e1RM 165.45 kg" before)
    with History(db) as history:
        history.save_set(simple_set([0.71], load_kg=90.0, load_unit="kg"))
    code, out, _ = cli(capsys, "profile", "squat", "--db", str(db))
    e1rm = re.search(r"e1RM (\S+) kg", out)
    assert e1rm is not None and re.fullmatch(r"\d+(\.\d)?", e1rm[1]), out


def test_profile_refuses_a_poor_fit_and_names_loads_in_the_lifters_unit(tmp_path, capsys):
    """``repsense profile squat`` printed "r² 0.021 ... e1RM 1323.62 kg"; and its refusal listed 225 lb as
    102.06 kg."""
    db = tmp_path / "h.sqlite3"
    with History(db) as history:
        history.save_set(simple_set([0.75], load_kg=225 * 0.45359237, load_unit="lb"))
        history.save_set(simple_set([0.62], load_kg=90.0, load_unit="kg"))
    code, _, err = cli(capsys, "profile", "squat", "--db", str(db))
    assert code == 2 and "have 2: 90 kg, 225 lb" in err
    with History(db) as history:
        for load_kg, mcv in [(140.0, 0.66), (60.0, 0.72)]:
            history.save_set(simple_set([mcv], load_kg=load_kg, load_unit="kg"))
    code, out, _ = cli(capsys, "profile", "squat", "--db", str(db))
    assert code == 0
    assert "MCV = " in out and "r² 0.0" in out  # the line stays
    assert "e1RM" not in out.replace("no e1RM", "")
    assert "no e1RM: the fit is too poor to extrapolate (r² 0.0" in out


def test_default_set_number_is_the_next_set_of_the_plan_today(tmp_path):
    db = tmp_path / "h.sqlite3"
    args = Namespace(db=db, exercise="squat")
    plan = parse_plan(PLAN)
    assert default_set_number(args, plan) == 1 and not db.exists()
    yesterday = dt.datetime.now(dt.UTC) - dt.timedelta(days=2)
    with History(db) as history:
        history.save_set(simple_set([0.7], plan_text=plan.text, set_number=3, started_at=yesterday))
        assert default_set_number(args, plan) == 1
        history.save_set(simple_set([0.7], plan_text=plan.text, set_number=1))
        history.save_set(simple_set([0.7], plan_text=plan.text, set_number=2, exercise="bench"))
        assert default_set_number(args, plan) == 2
        assert default_set_number(Namespace(db=db, exercise=None), plan) == 3
        assert default_set_number(args, parse_plan("3x8@60kg")) == 1
        history.save_set(simple_set([0.7], plan_text=plan.text, set_number=4))
        assert default_set_number(args, plan) == 1  # all four done: a new round


def test_previous_best_counts_days_before_today(tmp_path):
    db = tmp_path / "h.sqlite3"
    args = Namespace(db=db)
    plan = parse_plan("endurance 200lb, 2 sets")
    spec = plan.set(1)
    assert previous_best(args, Exercise.BENCH, spec) is None
    last_week = dt.datetime.now(dt.UTC) - dt.timedelta(days=7)
    with History(db) as history:
        endurance = {"load_kg": spec.load.kg, "exercise": "bench", "plan_text": plan.text}
        history.save_set(simple_set([0.5] * 14, started_at=last_week, **endurance))
        history.save_set(simple_set([0.5] * 17, **endurance))  # today: not the target
    assert previous_best(args, Exercise.BENCH, spec) == 14


def test_where_the_history_lives(monkeypatch, tmp_path):
    monkeypatch.setenv("REPSENSE_DB", str(tmp_path / "env.sqlite3"))
    assert default_db_path() == tmp_path / "env.sqlite3"
    monkeypatch.delenv("REPSENSE_DB")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_db_path() == tmp_path / "xdg" / "repsense" / "history.sqlite3"
    monkeypatch.setenv("XDG_DATA_HOME", "relative/ignored")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_db_path() == tmp_path / "home" / ".local" / "share" / "repsense" / "history.sqlite3"


def test_the_default_location_is_created_on_the_first_save(monkeypatch, tmp_path, capsys):
    monkeypatch.delenv("REPSENSE_DB")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    code, out, _ = cli(capsys, "replay", str(DEMO), "--save")
    path = tmp_path / "xdg" / "repsense" / "history.sqlite3"
    assert code == 0 and f"saved as set 1 in {path}" in out and path.is_file()


def test_since_reads_dates_and_relative_days():
    now = dt.datetime(2025, 3, 10, 15, 30).astimezone()
    assert parse_since("7d", now) == now.replace(day=3, hour=0, minute=0)
    assert parse_since("2w", now) == now.replace(month=2, day=24, hour=0, minute=0)
    assert parse_since("2025-03-01") == dt.datetime(2025, 3, 1).astimezone()
    assert parse_since("2025-03-01T18:00+00:00") == dt.datetime(2025, 3, 1, 18, tzinfo=dt.UTC)
    with pytest.raises(Exception, match="expected a date like 2025-03-01"):
        parse_since("last tuesday")


def test_history_filters_by_since_and_limit(tmp_path, capsys):
    db = tmp_path / "h.sqlite3"
    old = dt.datetime(2024, 1, 5, 12, tzinfo=dt.UTC)
    with History(db) as history:
        history.save_set(simple_set([0.7], started_at=old))
        history.save_set(simple_set([0.7, 0.6]))
        history.save_set(simple_set([0.7, 0.6, 0.5]))
    code, out, _ = cli(capsys, "export", "--format", "json", "--since", "2025-01-01", "--db", str(db))
    assert [s["id"] for s in json.loads(out)["sets"]] == [2, 3]
    code, out, _ = cli(capsys, "export", "--format", "json", "--limit", "1", "--db", str(db))
    assert [s["id"] for s in json.loads(out)["sets"]] == [3]
    code, _, err = cli(capsys, "history", "--limit", "0", "--db", str(db))
    assert code == 2 and "--limit must be at least 1" in err


@pytest.mark.integration
@pytest.mark.slow
def test_live_saves_by_default_and_not_with_no_save(tmp_path):
    recording = ROOT / "sample_recordings" / "ohp_fixed5_25hz.csv"
    db = tmp_path / "live.sqlite3"
    for extra in ((), ("--no-save",)):
        emulator = subprocess.Popen(
            [sys.executable, "-m", "repsense", "emulate", str(recording), "--pty", "--speed", "20"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert emulator.stdout is not None
            port = emulator.stdout.readline().split()[1]
            proc = run(
                "live", "--port", port, "--json", "--speed", "20", "--give-up", "1.5", "--mode", "fixed", "--reps",
                "5", "--db", str(db), *extra,
            )  # fmt: skip
            emulator.communicate(timeout=60)
        finally:
            if emulator.poll() is None:
                emulator.kill()
                emulator.communicate()
        assert proc.returncode == 0, proc.stderr
        result = json.loads(proc.stdout)
        if not extra:
            assert f"saved as set 1 in {db}" in proc.stderr
            with History(db) as history:
                row = history.get_set(1)
            assert row.sensor.startswith("live on /dev/") and row.mode == "fixed" and row.target_reps == 5
            assert [r.mean_velocity_m_s for r in row.reps] == pytest.approx(
                [r["mean_velocity"] for r in result["reps"]], abs=5e-5
            )
            assert row.rep_count == result["stop"]["rep"] == 5
        else:
            assert "saved" not in proc.stderr
            with History(db) as history:
                assert len(history.sets()) == 1


def test_backup_is_a_whole_copy_and_never_overwrites(saved, tmp_path, capsys):
    copy = tmp_path / "backup.sqlite3"
    code, out, _ = cli(capsys, "backup", str(copy), "--db", str(saved))
    assert code == 0 and out.strip() == f"backed up 2 sets from {saved} to {copy}"
    assert not Path(str(copy) + "-wal").exists()
    with History(copy) as backup, History(saved) as original:
        assert [r.to_dict() for r in backup.sets()] == [r.to_dict() for r in original.sets()]
    before = copy.read_bytes()
    code, _, err = cli(capsys, "backup", str(copy), "--db", str(saved))
    assert code == 2 and "exists already" in err and copy.read_bytes() == before


def test_backup_creates_its_folder_as_the_docs_show_it(saved, tmp_path, capsys):
    """The audit: `repsense backup ~/backups/repsense-2025-03-01.sqlite3` failed when ~/backups did not exist."""
    copy = tmp_path / "backups" / "2025" / "repsense-2025-03-01.sqlite3"
    code, out, _ = cli(capsys, "backup", str(copy), "--db", str(saved))
    assert code == 0 and f"to {copy}" in out
    with History(copy) as backup:
        assert len(backup.sets()) == 2
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder", encoding="utf-8")
    code, _, err = cli(capsys, "backup", str(blocked / "b.sqlite3"), "--db", str(saved))
    assert code == 2 and err.count("\n") == 1 and "cannot create the folder" in err


def test_endurance_beats_the_number_from_an_earlier_day_and_a_correction_rechecks_it(tmp_path, capsys):
    db = tmp_path / "h.sqlite3"
    last_week = dt.datetime.now(dt.UTC) - dt.timedelta(days=7)
    with History(db) as history:
        history.save_set(
            simple_set([0.7] * 4, load_unit="kg", started_at=last_week, plan_text="endurance 100kg, 1 set")
        )
    code, out, _ = cli(capsys, "replay", str(DEMO), "--save", "--plan", "endurance 100kg, 2 sets", "--db", str(db))
    assert code == 0 and "your number: 4, beat it: 5" in out
    with History(db) as history:
        row = history.get_set(2)
    assert (row.good_reps, row.advice_verdict) == (6, "keep") and "you beat your number (4)" in (row.advice_text or "")
    code, out, _ = cli(capsys, "correct", "2", "--drop", "1", "--drop", "2", "--drop", "3", "--db", str(db))
    with History(db) as history:
        row = history.get_set(2)
    assert row.good_reps == 3 and "short of your number (4)" in (row.advice_text or "")


def dated(tmp_path: Path, started: dt.datetime, *, load: bool = True) -> Path:
    """The demo recording as if recorded at ``started`` (its ``started`` metadata); ``load=False`` drops its load
    (``load_kg: 120.0``)."""
    lines = DEMO.read_text(encoding="utf-8").splitlines()
    lines.insert(1, f"# started: {started.isoformat(timespec='seconds')}")
    if not load:
        lines = [line for line in lines if not line.startswith("# load_kg:")]
    path = tmp_path / f"squat_{started:%Y%m%d_%H%M}.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_endurance_beats_last_weeks_number_as_of_the_recordings_own_day(tmp_path, capsys):
    """The audit: the number was the best ever at the load, a plain AMRAP set saved with --load counted, and a
    replayed recording from last week was compared with sets of its own day and after. The number is the good reps
    of the most recent earlier day's endurance set at that lift and load, before the recording's own day."""
    db = tmp_path / "h.sqlite3"
    day = (dt.datetime.now().astimezone() - dt.timedelta(days=10)).replace(hour=18, minute=0, second=0, microsecond=0)
    endurance = {"plan_text": "endurance 100kg, 1 set", "load_unit": "kg"}
    with History(db) as history:
        history.save_set(simple_set([0.7] * 12, started_at=day - dt.timedelta(days=14), **endurance))  # best ever
        history.save_set(simple_set([0.7] * 4, started_at=day - dt.timedelta(days=7), **endurance))  # last week
        history.save_set(simple_set([0.7] * 20, started_at=day - dt.timedelta(days=3)))  # plain AMRAP at 100 kg
        history.save_set(simple_set([0.7] * 15, started_at=day - dt.timedelta(hours=1), **endurance))  # same day
        history.save_set(simple_set([0.7] * 30, **endurance))  # today, after the recording
    code, out, _ = cli(capsys, "replay", str(dated(tmp_path, day)), "--plan", "endurance 100kg", "--db", str(db))
    assert code == 0
    # last week's number is 4; the set an hour earlier the same day is the day's number so far, not last week's
    assert "your number: 4, beaten today with 15 (an earlier set), beat that: 16" in out
    assert (
        "6 good reps at 100 kg: you beat your number (4). Your earlier set today beat it with 15. Next time: 16." in out
    )
    # no load (not in the plan, nor in the recording): no number, and it says so
    unloaded = dated(tmp_path, day, load=False)
    code, out, _ = cli(capsys, "replay", str(unloaded), "--plan", "endurance", "--db", str(db))
    assert "no load, so no number to beat" in out and "that is your number" not in out


def test_a_second_endurance_set_on_the_same_day_counts_the_days_best(tmp_path, capsys):
    """The audit: set 1 of "endurance 100kg, 2 sets" made 8 ("that is your number, beat it: 9"), set 2 the same day
    made 6 and was told "6 ... that is your number. Next time, beat it: 7", while next week's number was 8. The
    second set now says the day's number so far and the target from it; so does its correction."""
    db = tmp_path / "h.sqlite3"
    day = (dt.datetime.now().astimezone() - dt.timedelta(days=10)).replace(hour=18, minute=0, second=0, microsecond=0)
    plan = "endurance 100kg, 2 sets"
    with History(db) as history:
        history.save_set(simple_set([0.7] * 8, started_at=day, plan_text=plan, set_number=1, load_unit="kg"))
    second = dated(tmp_path, day + dt.timedelta(minutes=10))
    code, out, _ = cli(capsys, "replay", str(second), "--plan", plan, "--save", "--db", str(db))
    assert code == 0
    assert "set 2 of 2, AMRAP at 100 kg; your number today so far: 8 (an earlier set), beat it: 9" in out
    assert "6 good reps at 100 kg; your number today is 8, from an earlier set. Next time, beat it: 9." in out
    assert "that is your number. Next time, beat it: 7" not in out
    code, out, _ = cli(capsys, "correct", "2", "--drop", "1", "--db", str(db))
    with History(db) as history:
        assert "5 good reps at 100 kg; your number today is 8" in (history.get_set(2).advice_text or "")
    # a week later the number is the better of that day's two sets, as the second set said
    code, out, _ = cli(
        capsys, "replay", str(dated(tmp_path, day + dt.timedelta(days=7))), "--plan", plan, "--db", str(db)
    )
    assert "your number: 8, beat it: 9" in out


def test_replaying_a_days_recordings_in_order_takes_the_plans_sets_in_order(tmp_path, capsys):
    """Without --set, the set number came from today's sets, so replaying last week's two recordings of a
    "2x5, last AMRAP" plan made both set 1 and the AMRAP set was never reached. It counts the recording's own day."""
    db = tmp_path / "h.sqlite3"
    day = (dt.datetime.now().astimezone() - dt.timedelta(days=7)).replace(hour=18, minute=0, second=0, microsecond=0)
    first, second = dated(tmp_path, day), dated(tmp_path, day + dt.timedelta(minutes=10))
    plan = ["--plan", "2x5@100kg, last AMRAP", "--save", "--db", str(db)]
    assert cli(capsys, "replay", str(first), *plan)[0] == 0
    code, out, _ = cli(capsys, "replay", str(second), *plan)
    assert code == 0 and "set 2 of 2, AMRAP (5 planned)" in out
    code, out, _ = cli(capsys, "replay", str(first), *plan)  # the first again: still the day's first set
    assert "set 1 of 2, fixed 5 reps" in out
    with History(db) as history:
        assert [history.get_set(i).set_number for i in (1, 2, 3)] == [1, 2, 1]


def test_the_reps_a_gap_hid_are_stored_shown_exported_and_reported(tmp_path, capsys, gap_recording):
    """A set saved from a replay keeps what the rhythm said about a sensor gap: in the history, its export and its
    report. Adding the rep by hand counts it and settles the unseen one. (As a fixed set of 8 it ends after the gap;
    as an AMRAP set it stops before it, and the hidden rep is not the set's.)"""
    path, _ = gap_recording
    db = tmp_path / "h.sqlite3"
    assert cli(capsys, "replay", str(path), "--plan", "3x8@60kg", "--set", "3", "--save", "--db", str(db))[0] == 0
    code, out, _ = cli(capsys, "history", "--set", "1", "--db", str(db))
    assert code == 0
    assert "about 1 more made in a sensor gap: unseen, not counted" in out
    assert "if you made them: repsense correct 1 --add-rep 1" in out
    code, out, _ = cli(capsys, "export", "--format", "json", "--db", str(db))
    (stored,) = json.loads(out)["sets"]
    assert stored["unseen_reps"] == 1
    report = tmp_path / "r.html"
    assert cli(capsys, "report", "1", "--db", str(db), "--out", str(report))[0] == 0
    assert "About 1 more rep went unseen in a sensor gap" in report.read_text(encoding="utf-8")
    reps = stored["reps"]
    assert cli(capsys, "correct", "1", "--add-rep", "--db", str(db))[0] == 0
    with History(db) as history:
        corrected = history.get_set(1)
    assert (corrected.rep_count, corrected.unseen_reps) == (reps + 1, 0)  # the added rep settles the unseen one
    code, out, _ = cli(capsys, "history", "--set", "1", "--db", str(db))
    assert "made in a sensor gap" not in out and "--add-rep" not in out


def test_a_set_that_ended_before_its_first_rep_is_not_saved(tmp_path, capsys):
    """A failed attempt before the first rep ends the set with no rep counted (the rule stays); the reps the
    recording goes on with are after the stop. Such a set was saved as 0/0; a set without a rep is not saved."""
    config = SetConfig.for_lift(Exercise.SQUAT)
    reps = [RepEvent(i, 3.0 * i, 3.0 * i + 0.8, 3.0 * i + 0.9, 0.6, 1.0, 0.5, 0.0, ()) for i in (1, 2, 3)]
    stop = SetEnded(0, 1.5, StopReason.FAILED_REP, "attempt stalled after 0.23 m and went back down")
    result = SessionResult(Exercise.SQUAT, Placement.BAR, config, reps=reps, stop=stop)
    db = tmp_path / "h.sqlite3"
    args = Namespace(save=True, db=db, json=False)
    assert save_result(args, result, make_console()) is None
    assert "no rep counted (the set ended before its first rep: failed_rep), nothing saved" in capsys.readouterr().out
    assert not db.exists()
    result.stop = None  # the same reps in a set that never stopped: saved
    assert save_result(args, result, make_console()) == 1


def test_the_correction_for_a_hidden_rep_names_the_saved_set(tmp_path, capsys, gap_recording):
    """Saved, the set has an id, and the line after "saved as set N" gives the command with it (no literal SET);
    unsaved, it says how to get one. Adding more reps than a fixed set's target leaves room for is refused."""
    path, _ = gap_recording
    db = tmp_path / "h.sqlite3"
    assert cli(capsys, "replay", str(path), "--save", "--db", str(db))[0] == 0  # a first set, so that ids differ
    code, out, _ = cli(capsys, "replay", str(path), "--plan", "3x8@60kg", "--set", "3", "--save", "--db", str(db))
    assert code == 0 and "SET" not in out
    assert "saved as set 2 in" in out
    assert "if you made it, repsense correct 2 --add-rep 1 counts it" in out
    code, out, _ = cli(capsys, "replay", str(path), "--plan", "3x8@60kg", "--set", "3")
    assert "SET" not in out and "replay with --save, then repsense correct ID --add-rep 1" in out
    code, _, err = cli(capsys, "correct", "2", "--add-rep", "2", "--db", str(db))
    assert code == 2
    assert err.strip() == (
        "repsense: error: set 2 is a fixed set of 8 reps: --add-rep 2 would count 9, past its target; nothing was "
        "changed"
    )
    assert cli(capsys, "correct", "2", "--add-rep", "--db", str(db))[0] == 0
    with History(db) as history:
        assert (history.get_set(2).rep_count, history.get_set(2).unseen_reps) == (8, 0)


def test_reps_a_gap_hid_after_the_stop_are_not_the_sets(tmp_path, capsys, gap_recording):
    """A fixed set of 5 ends before the gap: the reps the gap hid are not the set's, so nothing offers to add them
    and the history stores none."""
    path, _ = gap_recording
    db = tmp_path / "h.sqlite3"
    code, out, _ = cli(capsys, "replay", str(path), "--plan", "1x5@60kg", "--save", "--db", str(db))
    assert code == 0
    assert "unseen" not in out.split("advice:")[1]
    assert "(none of them in the set)" in out
    assert "--add-rep" not in out
    with History(db) as history:
        assert history.get_set(1).unseen_reps == 0


@pytest.mark.parametrize(
    ("line", "stored"),
    [
        ("# start_time: 2019-01-11T16:10:08.431+00:00", "2019-01-11T16:10:08Z"),  # a MetaMotion import
        ("# started: 2026-03-02T07:30:00+00:00", "2026-03-02T07:30:00Z"),  # a live session's recording
    ],
)
def test_a_saved_recording_keeps_the_day_it_was_made(tmp_path, capsys, line, stored):
    """Imported vendor files say when they began as ``start_time``; history read only ``started``, so a set
    recorded in 2019 was saved as today's, and its week's trends and the number to beat were wrong."""
    text = DEMO.read_text(encoding="utf-8").splitlines()
    recording = tmp_path / "old.csv"
    recording.write_text("\n".join([text[0], line, *text[1:]]) + "\n", encoding="utf-8")
    db = tmp_path / "h.sqlite3"
    assert main(["replay", str(recording), "--save", "--db", str(db)]) == 0
    capsys.readouterr()
    code, out, _ = cli(capsys, "export", "--format", "json", "--db", str(db))
    assert code == 0
    assert json.loads(out)["sets"][0]["started_at"] == stored


def test_a_set_that_never_stopped_has_no_velocity_loss_at_stop(tmp_path, capsys):
    """A set without a stop showed "VL at stop 7%" (its last rep's loss): it now shows a dash."""
    db = tmp_path / "h.sqlite3"
    with History(db) as history:
        history.save_set(simple_set([1.0, 0.9, 0.93]))
    code, out, _ = cli(capsys, "history", "--db", str(db), "--set", "1")
    assert code == 0
    assert "VL at stop -; no stop" in out
    code, out, _ = cli(capsys, "history", "--db", str(db))
    line = next(x for x in out.splitlines() if x.strip().startswith("1 "))
    assert line.split()[-1] == "-" and "7%" not in line, line


def test_dropping_a_rep_after_the_stop_says_it_did_not_count_anyway(saved, capsys):
    """The audit: dropping reps that did not count (after the stop, or dropped already) said "set 1 corrected" and
    set the correction time. It says nothing changed, and leaves the row as it was."""
    with History(saved) as history:
        untouched = history.get_set(2)
    code, out, _ = cli(capsys, "correct", "2", "--drop", "9", "--db", str(saved))
    assert code == 0
    assert out.strip() == "set 2: nothing changed: rep 9 came after the stop (rep 6): it did not count anyway"
    with History(saved) as history:
        assert history.get_set(2) == untouched and untouched.corrected_at is None
    code, out, _ = cli(capsys, "correct", "2", "--drop", "4", "--db", str(saved))
    assert "did not count" not in out and "set 2 corrected: reps 6 -> 5" in out
    with History(saved) as history:
        corrected = history.get_set(2)
    code, out, _ = cli(capsys, "correct", "2", "--drop", "4", "--drop", "8", "--drop", "9", "--db", str(saved))
    assert out.strip() == (
        "set 2: nothing changed: rep 4 was dropped already; reps 8, 9 came after the stop (rep 6): they did not count "
        "anyway"
    )
    with History(saved) as history:
        assert history.get_set(2) == corrected
    # dropping one that counts along with one that did not: a correction, with the note
    code, out, _ = cli(capsys, "correct", "2", "--drop", "5", "--drop", "9", "--db", str(saved))
    assert "set 2 corrected: reps 5 -> 4" in out and "rep 9 came after the stop" in out


def test_a_wrist_sets_best_mcv_is_marked_as_an_estimate(tmp_path, capsys):
    """On the wrist velocity is an estimate (README); the history showed it as if measured on the bar."""
    db = tmp_path / "h.sqlite3"
    wrist = ROOT / "sample_recordings" / "curl_wrist_50hz_nogyro.csv"
    assert main(["replay", str(wrist), "--save", "--db", str(db)]) == 0
    assert main(["replay", str(DEMO), "--save", "--db", str(db)]) == 0
    capsys.readouterr()
    code, out, _ = cli(capsys, "history", "--db", str(db))
    assert code == 0
    curl = next(line for line in out.splitlines() if " curl " in line)
    squat = next(line for line in out.splitlines() if " squat " in line)
    assert "~0." in curl and "~" not in squat and "~ estimated from a wrist sensor" in out
    code, out, _ = cli(capsys, "history", "--set", "1", "--db", str(db))
    assert "best MCV ~0." in out
