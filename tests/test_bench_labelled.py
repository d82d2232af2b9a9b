"""bench/bench_labelled.py: scoring the team's own labelled recordings, and starting their labels file."""

from __future__ import annotations

import csv
import json
import os
import shutil
from pathlib import Path

import bench_labelled  # bench/bench_labelled.py: pytest puts bench/ on the path
import pytest
import realdata

REPO_ROOT = Path(__file__).resolve().parents[1]
SAMPLES = REPO_ROOT / "sample_recordings"
USED = ("squat_amrap_walkout_100hz", "curl_wrist_50hz_nogyro", "ohp_fixed5_25hz")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    for name in USED:
        shutil.copy(SAMPLES / f"{name}.csv", tmp_path / f"{name}.csv")
    (tmp_path / "notes.txt").write_text("squat felt heavy\n")
    return tmp_path


def made(name: str) -> int:
    return len(json.loads((SAMPLES / f"{name}.truth.json").read_text())["reps"])


def test_template_lists_each_set_with_what_its_file_says(folder: Path, capsys) -> None:
    assert bench_labelled.main(["--template", str(folder)]) == 0
    rows = list(csv.DictReader((folder / "labels.csv").open()))
    assert [(r["file"], r["reps"], r["exercise"], r["placement"]) for r in rows] == [
        ("curl_wrist_50hz_nogyro.csv", "", "curl", "wrist"),
        ("ohp_fixed5_25hz.csv", "", "ohp", "bar"),
        ("squat_amrap_walkout_100hz.csv", "", "squat", "bar"),
    ]
    assert "3 sets; fill in the reps" in capsys.readouterr().out
    assert bench_labelled.main(["--template", str(folder)]) == 1  # never overwrites the counts someone typed in
    assert "already there" in capsys.readouterr().out


def test_scores_the_usable_rows_and_names_the_others(folder: Path, capsys) -> None:
    squat = made("squat_amrap_walkout_100hz")
    (folder / "labels.csv").write_text(
        "file,reps,exercise,placement\n"
        f"squat_amrap_walkout_100hz.csv,{squat + 1},,\n"  # counted one more by the watcher than the file holds
        f"curl_wrist_50hz_nogyro.csv,{made('curl_wrist_50hz_nogyro')},,\n"
        f"ohp_fixed5_25hz.csv,{made('ohp_fixed5_25hz')},ohp,bar\n"
        "gone.csv,5,,\n"
        "notes.txt,5,,\n"
        "ohp_fixed5_25hz.csv,five,,\n"
        "ohp_fixed5_25hz.csv,,,\n"
    )
    assert bench_labelled.main([str(folder / "labels.csv")]) == 0
    out = capsys.readouterr().out
    assert ":5: " in out and "gone.csv" in out
    assert ":6: " in out and "unrecognised file format" in out
    assert ":7: " in out and "reps must be a whole number, not 'five'" in out
    assert ":8: " in out and "no reps given" in out
    assert "Traceback" not in out
    lines = {line.split()[0]: line.split() for line in out.splitlines() if line.strip()}
    assert lines["squat_amrap_walkout_100hz.csv"][1:6] == ["squat", "bar", str(squat + 1), str(squat), "-1"]
    assert lines["curl_wrist_50hz_nogyro.csv"][1:3] == ["curl", "wrist"]
    assert lines["curl_wrist_50hz_nogyro.csv"][5] == "+0"
    assert lines["all"][1:4] == ["3", "66.7", "100.0"]
    assert lines["wrist/curl"][1:3] == ["1", "100.0"]


def test_a_labels_file_without_its_columns_is_one_line(tmp_path: Path) -> None:
    labels = tmp_path / "labels.csv"
    labels.write_text("name,count\nsquat.csv,5\n")
    with pytest.raises(SystemExit, match="needs a header with at least 'file' and 'reps'"):
        bench_labelled.main([str(labels)])


@pytest.mark.realdata
def test_a_metamotion_pair_is_one_set_in_the_template(tmp_path: Path, capsys) -> None:
    """A real MetaBase export: its accelerometer and gyroscope files are one set, listed once, on the wrist."""
    raw = Path(os.environ.get("REPSENSE_REALDATA", realdata.DEFAULT_ROOT)) / "ebbelaar_metamotion" / "raw"
    if not raw.is_dir():
        pytest.skip(f"real data not found at {raw} (set REPSENSE_REALDATA)")
    for path in raw.glob("A-ohp-heavy_MetaWear_2019-01-14T14.49.46.484_*_1.4.4.csv"):
        shutil.copy(path, tmp_path / path.name)
    assert len(list(tmp_path.iterdir())) == 2
    assert bench_labelled.main(["--template", str(tmp_path)]) == 0
    rows = list(csv.DictReader((tmp_path / "labels.csv").open()))
    assert [(r["exercise"], r["placement"]) for r in rows] == [("ohp", "wrist")]
    assert "Accelerometer" in rows[0]["file"]
    rows[0]["reps"] = "5"
    with (tmp_path / "labels.csv").open("w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=bench_labelled.COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    capsys.readouterr()
    assert bench_labelled.main([str(tmp_path / "labels.csv")]) == 0
    assert "wrist/ohp" in capsys.readouterr().out


def test_a_set_whose_lift_nobody_named_says_what_was_taken(tmp_path: Path, capsys) -> None:
    """Neither the labels nor the file say the lift or the placement: the set is counted as ``repsense replay``
    would count it, ``other`` on the bar, and its line says so."""
    lines = (SAMPLES / "ohp_fixed5_25hz.csv").read_text().splitlines()
    unnamed = [line for line in lines if not line.startswith(("# exercise", "# placement"))]
    (tmp_path / "unnamed.csv").write_text("\n".join(unnamed) + "\n")
    (tmp_path / "labels.csv").write_text("file,reps\nunnamed.csv,5\n")
    assert bench_labelled.main([str(tmp_path / "labels.csv")]) == 0
    line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("unnamed.csv"))
    assert "other" in line and "no exercise given: other taken, no placement given: bar taken" in line
