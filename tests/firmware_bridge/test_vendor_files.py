"""Vendor exports (MetaMotion, Polar Sensor Logger, WitMotion) into recordings: values, pairing, errors, import.

Every vendor file here is synthetic, written in tmp_path. The ``realdata`` tests read the real MetaBase exports in
``../shared/realdata`` (never copied into the repo) and skip when that folder is absent.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import io
import json
import os
import re
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
import realdata  # bench/realdata.py: pytest puts bench/ on the path
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from repsense.core.cli import main
from repsense.core.cli_import import add_import_command, cmd_import
from repsense.errors import RecordingError
from repsense.events import Exercise
from repsense.firmware_bridge.recording import RecordingWriter, read_recording
from repsense.firmware_bridge.simulator import random_config, simulate_set
from repsense.firmware_bridge.vendor_common import guess_exercise
from repsense.firmware_bridge.vendor_files import detect_format, import_files, load_any
from repsense.samples import SampleBlock

REPO_ROOT = Path(__file__).resolve().parents[2]

MM_HEADER_ACC = "epoch (ms),time (01:00),elapsed (s),x-axis (g),y-axis (g),z-axis (g)"
MM_HEADER_GYRO = "epoch (ms),time (01:00),elapsed (s),x-axis (deg/s),y-axis (deg/s),z-axis (deg/s)"
MM_PREFIX = "A-bench-heavy2-rpe8_MetaWear_2019-01-11T16.10.08.270_C42732BE255C"
EPOCH0 = 1547219408431


# --- writers of small synthetic vendor files ----------------------------------------------------------------


def mm_rows(epochs: list[int], xyz: list[tuple[float, float, float]]) -> list[str]:
    return [
        f"{e},2019-01-11T16:10:{(e // 1000) % 60:02d}.{e % 1000:03d},{(e - epochs[0]) / 1000:.3f},{x},{y},{z}"
        for e, (x, y, z) in zip(epochs, xyz, strict=True)
    ]


def write_mm(folder: Path, prefix: str, kind: str, rows: list[str], version: str = "1.4.4") -> Path:
    rate = "12.500Hz" if kind == "Accelerometer" else "25.000Hz"
    path = folder / f"{prefix}_{kind}_{rate}_{version}.csv"
    header = MM_HEADER_ACC if kind == "Accelerometer" else MM_HEADER_GYRO
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


ACC_EPOCHS = [EPOCH0 + 80 * i for i in range(6)]
ACC_XYZ = [(0.01, 0.964, -0.087), (0.0, 0.961, -0.069), (0.001, 0.974, -0.087), (-0.012, 0.971, -0.084)]
ACC_XYZ += [(-0.013, 0.954, -0.094), (-0.017, 0.902, -0.108)]
# The gyroscope starts 80 ms before the accelerometer, as in real MetaBase exports, and runs at twice its rate.
GYRO_EPOCHS = [EPOCH0 - 80 + 40 * i for i in range(16)]
GYRO_XYZ = [(1.0 * i, -2.0 * i, 0.5) for i in range(16)]


def write_mm_pair(folder: Path, prefix: str = MM_PREFIX) -> tuple[Path, Path]:
    acc = write_mm(folder, prefix, "Accelerometer", mm_rows(ACC_EPOCHS, ACC_XYZ))
    gyro = write_mm(folder, prefix, "Gyroscope", mm_rows(GYRO_EPOCHS, GYRO_XYZ))
    return acc, gyro


POLAR_ACC = "Phone timestamp;sensor timestamp [ns];X [mg];Y [mg];Z [mg]"
POLAR_GYRO = "Phone timestamp;sensor timestamp [ns];X [dps];Y [dps];Z [dps]"
NS0 = 599616065136175104


def write_polar(folder: Path, model: str = "Sense", gyro: bool = True) -> Path:
    prefix = f"Polar_{model}_0C301E3F_20260613_121435"
    acc_rows = [f"2026-06-13T12:14:35.{i:03d};{NS0 + 19230769 * i};{-953 + i};{63};{425 - 2 * i}" for i in range(8)]
    # Rows ending in ';' and a header with a trailing space, as one writer of this format does.
    (folder / f"{prefix}_ACC.txt").write_text("\r\n".join([POLAR_ACC + " ", *acc_rows]) + "\r\n", encoding="utf-8")
    if gyro:
        gyro_rows = [f"2026-06-13T12:14:35.{i:03d};{NS0 + 19230769 * i};{i * 1.5};{-i};{0.25};" for i in range(8)]
        (folder / f"{prefix}_GYRO.txt").write_text("\n".join([POLAR_GYRO, *gyro_rows]) + "\n", encoding="utf-8")
    return folder / f"{prefix}_ACC.txt"


WIT_HEADER = "time\tDeviceName\tChipTime()\tAccX(g)\tAccY(g)\tAccZ(g)\tAsX(°/s)\tAsY(°/s)\tAsZ(°/s)\tAngleX(°)"
WIT_HEADER_ZH = "时间,设备名称,加速度X(g),加速度Y(g),加速度Z(g),角速度X(°/s),角速度Y(°/s),角速度Z(°/s),角度X(°)"


def wit_rows(n: int = 5, device: str = "WT901BLE67(E5:9E:9B:1F:CE:48)", sep: str = "\t") -> list[str]:
    rows = []
    for i in range(n):
        t = f"2025-01-01 10:00:00.{100 + 10 * i:03d}"
        cells = [t, device] + (["null"] if sep == "\t" else [])
        cells += [f"{0.004 * i:.3f}", "-0.001", "1.001", f"{1.5 * i}", "0.000", "-2.000", "64.36"]
        rows.append(sep.join(cells))
    return rows


# --- MetaMotion ---------------------------------------------------------------------------------------------


def test_metamotion_pair_exact_values(tmp_path: Path) -> None:
    acc_path, gyro_path = write_mm_pair(tmp_path)
    rec = load_any(acc_path)
    s = rec.samples
    assert detect_format(acc_path) == detect_format(gyro_path) == "metamotion"
    np.testing.assert_allclose(s.t_s, [0.0, 0.08, 0.16, 0.24, 0.32, 0.4], rtol=0, atol=1e-12)
    assert s.acc_g.tolist() == [list(v) for v in ACC_XYZ]
    # Accelerometer sample i sits on gyroscope sample 2 + 2i: interpolation returns it.
    assert s.gyro_dps is not None
    np.testing.assert_allclose(s.gyro_dps, [GYRO_XYZ[2 + 2 * i] for i in range(6)], rtol=0, atol=1e-9)
    assert rec.metadata["exercise"] == "bench"
    assert rec.metadata["placement"] == "wrist"
    assert rec.metadata["sensor"] == "MetaMotion (MetaWear C42732BE255C)"
    assert rec.metadata["sample_rate_hz"] == "12.5"
    assert rec.metadata["gyro_rate_hz"] == "25"
    assert rec.metadata["start_time"] == "2019-01-11T15:10:08.431+00:00"
    assert rec.metadata["source_files"] == f"{acc_path.name}; {gyro_path.name}"
    assert "import_notes" not in rec.metadata


def test_metamotion_gyro_interpolated_between_its_samples(tmp_path: Path) -> None:
    gyro_epochs = [EPOCH0 - 60 + 40 * i for i in range(16)]  # 20 ms off the accelerometer's grid
    acc = write_mm(tmp_path, MM_PREFIX, "Accelerometer", mm_rows(ACC_EPOCHS, ACC_XYZ))
    write_mm(tmp_path, MM_PREFIX, "Gyroscope", mm_rows(gyro_epochs, GYRO_XYZ))
    gyro = load_any(acc).samples.gyro_dps
    assert gyro is not None
    # Halfway between gyroscope samples 1+2i and 2+2i.
    np.testing.assert_allclose(gyro[:, 0], [1.5 + 2 * i for i in range(6)], rtol=0, atol=1e-9)
    np.testing.assert_allclose(gyro[:, 1], [-3.0 - 4 * i for i in range(6)], rtol=0, atol=1e-9)


def test_metamotion_loads_the_same_from_either_file(tmp_path: Path) -> None:
    acc_path, gyro_path = write_mm_pair(tmp_path)
    a, b = load_any(acc_path), load_any(gyro_path)
    assert a.samples.t_s.tolist() == b.samples.t_s.tolist()
    assert a.samples.acc_g.tolist() == b.samples.acc_g.tolist()
    assert a.metadata == b.metadata
    assert a.source == b.source == str(acc_path)


def test_metamotion_pairs_by_name_and_time(tmp_path: Path) -> None:
    acc_path, gyro_path = write_mm_pair(tmp_path)
    # Decoys: another set's gyroscope, and a re-export of this one shifted by a day (as the 1.4.41 copies are).
    write_mm(tmp_path, MM_PREFIX.replace("bench", "squat"), "Gyroscope", mm_rows(GYRO_EPOCHS, GYRO_XYZ))
    day_later = [e + 86_400_000 for e in GYRO_EPOCHS]
    write_mm(tmp_path, MM_PREFIX, "Gyroscope", mm_rows(day_later, GYRO_XYZ), version="1.4.41")
    rec = load_any(acc_path)
    assert rec.metadata["source_files"].split("; ") == [acc_path.name, gyro_path.name]
    assert "import_notes" not in rec.metadata


def test_metamotion_partner_must_overlap_in_time(tmp_path: Path) -> None:
    acc = write_mm(tmp_path, MM_PREFIX, "Accelerometer", mm_rows(ACC_EPOCHS, ACC_XYZ), version="1.4.41")
    day_later = [e + 86_400_000 for e in GYRO_EPOCHS]
    stale = write_mm(tmp_path, MM_PREFIX, "Gyroscope", mm_rows(day_later, GYRO_XYZ))
    rec = load_any(acc)
    assert not rec.samples.has_gyro
    assert f"{stale.name} does not overlap this file in time" in rec.metadata["import_notes"]


def test_metamotion_stray_space_in_the_name_still_pairs(tmp_path: Path) -> None:
    acc = write_mm(tmp_path, MM_PREFIX.replace("rpe8_", "rpe8 _"), "Accelerometer", mm_rows(ACC_EPOCHS, ACC_XYZ))
    write_mm(tmp_path, MM_PREFIX, "Gyroscope", mm_rows(GYRO_EPOCHS, GYRO_XYZ))
    assert load_any(acc).samples.has_gyro


def test_metamotion_missing_gyro_partner_loads_acc_only_with_a_note(tmp_path: Path) -> None:
    acc = write_mm(tmp_path, MM_PREFIX, "Accelerometer", mm_rows(ACC_EPOCHS, ACC_XYZ))
    rec = load_any(acc)
    assert not rec.samples.has_gyro
    assert len(rec.samples) == 6
    assert "no gyroscope file found" in rec.metadata["import_notes"]
    assert "loaded without gyroscope" in rec.metadata["import_notes"]
    assert rec.metadata["source_files"] == acc.name


@pytest.mark.parametrize("as_json", [True, False])
def test_replay_says_the_import_notes_on_stderr_with_and_without_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], as_json: bool
) -> None:
    """``replay --json`` dropped the notes the other path printed; now both print them on stderr, and stdout holds
    only the JSON."""
    acc = write_mm(tmp_path, MM_PREFIX, "Accelerometer", mm_rows(ACC_EPOCHS, ACC_XYZ))
    assert main(["replay", str(acc), *(["--json"] if as_json else [])]) == 0
    captured = capsys.readouterr()
    notes = [line for line in captured.err.splitlines() if line.startswith("repsense: note: ")]
    assert len(notes) == 1 and "loaded without gyroscope" in notes[0], captured.err
    assert "loaded without gyroscope" not in captured.out
    if as_json:
        assert json.loads(captured.out)["reps"] == []


def test_metamotion_gyro_file_alone_is_an_error(tmp_path: Path) -> None:
    gyro = write_mm(tmp_path, MM_PREFIX, "Gyroscope", mm_rows(GYRO_EPOCHS, GYRO_XYZ))
    with pytest.raises(RecordingError, match=r"\.csv: a MetaMotion gyroscope export without its accelerometer"):
        load_any(gyro)


def test_metamotion_file_rewritten_by_pandas_loads_the_same(tmp_path: Path) -> None:
    # The copies in public forks were rewritten: '0.0' for '0.000', a space for the 'T', no trailing zeros.
    rows = [
        f"{e},2019-01-11 16:10:08.{i:03d},{(e - ACC_EPOCHS[0]) / 1000},{x},{y},{z}"
        for i, (e, (x, y, z)) in enumerate(zip(ACC_EPOCHS, ACC_XYZ, strict=True))
    ]
    acc = write_mm(tmp_path, MM_PREFIX, "Accelerometer", rows)
    assert load_any(acc).samples.acc_g.tolist() == [list(v) for v in ACC_XYZ]


def test_exact_duplicate_rows_are_dropped_with_a_note(tmp_path: Path) -> None:
    rows = mm_rows(ACC_EPOCHS, ACC_XYZ)
    rows.insert(3, rows[2])
    acc = write_mm(tmp_path, MM_PREFIX, "Accelerometer", rows)
    rec = load_any(acc)
    assert len(rec.samples) == 6
    assert "1 exact duplicate accelerometer row dropped" in rec.metadata["import_notes"]


def test_time_going_backwards_names_file_and_line(tmp_path: Path) -> None:
    rows = mm_rows(ACC_EPOCHS, ACC_XYZ)
    rows[3], rows[4] = rows[4], rows[3]
    acc = write_mm(tmp_path, MM_PREFIX, "Accelerometer", rows)
    with pytest.raises(RecordingError) as info:
        load_any(acc)
    assert str(info.value) == f"{acc} line 6: time goes backwards (1547219408.751 -> 1547219408.671 s)"


def test_same_time_with_other_values_is_an_error(tmp_path: Path) -> None:
    rows = mm_rows(ACC_EPOCHS, ACC_XYZ)
    rows[3] = rows[3].rsplit(",", 1)[0] + ",0.5"
    rows.insert(3, rows[2].rsplit(",", 1)[0] + ",0.25")
    acc = write_mm(tmp_path, MM_PREFIX, "Accelerometer", rows)
    with pytest.raises(RecordingError, match=r"line 5: time does not advance"):
        load_any(acc)


def test_bad_cell_names_file_line_and_column(tmp_path: Path) -> None:
    rows = mm_rows(ACC_EPOCHS, ACC_XYZ)
    rows[1] = rows[1].replace("0.961", "abc")
    acc = write_mm(tmp_path, MM_PREFIX, "Accelerometer", rows)
    with pytest.raises(RecordingError) as info:
        load_any(acc)
    assert str(info.value) == f"{acc} line 3, column 'y-axis (g)': 'abc' is not a finite number"


def test_short_row_names_file_and_line(tmp_path: Path) -> None:
    rows = mm_rows(ACC_EPOCHS, ACC_XYZ)
    rows[2] = rows[2].rsplit(",", 1)[0]
    acc = write_mm(tmp_path, MM_PREFIX, "Accelerometer", rows)
    with pytest.raises(RecordingError, match=r"line 4: 5 fields where the header \(line 1\) has 6"):
        load_any(acc)


def cut_file(path: Path, n_bytes: int) -> Path:
    """Keep the first ``n_bytes`` of the file, as ``head -c`` or an interrupted copy does."""
    path.write_bytes(path.read_bytes()[:n_bytes])
    return path


def test_metamotion_cut_anywhere_in_its_last_line_keeps_the_rows_before(tmp_path: Path) -> None:
    acc = write_mm(tmp_path, MM_PREFIX, "Accelerometer", mm_rows(ACC_EPOCHS, ACC_XYZ))
    data = acc.read_bytes()
    last_start = data.rstrip(b"\n").rfind(b"\n") + 1
    for n_bytes in range(last_start + 1, len(data) - 1):  # every cut inside line 7, which then has no line end
        rec = load_any(cut_file(acc, n_bytes))
        kept = len(rec.samples)
        assert kept in (5, 6), n_bytes
        assert rec.samples.acc_g[:5].tolist() == [list(v) for v in ACC_XYZ[:5]]
        # A cut that leaves the last cell a number cannot be told from a whole line (as in v1 recordings).
        noted = f"the incomplete last line of {acc.name} (line 7) was skipped" in rec.metadata["import_notes"]
        assert noted == (kept == 5), n_bytes
        acc.write_bytes(data)


@pytest.mark.parametrize("kind", ["Accelerometer", "Gyroscope"])
def test_metamotion_pair_with_a_cut_file_loads_with_a_note(tmp_path: Path, kind: str) -> None:
    acc, gyro = write_mm_pair(tmp_path)
    cut = acc if kind == "Accelerometer" else gyro
    data = cut.read_bytes()
    cut_file(cut, len(data) - 12)
    rec = load_any(acc)
    assert rec.samples.has_gyro
    assert f"the incomplete last line of {cut.name}" in rec.metadata["import_notes"]


def test_polar_cut_last_line_is_skipped(tmp_path: Path) -> None:
    acc = write_polar(tmp_path, gyro=False)
    data = acc.read_bytes()
    for n_bytes in (len(data) - 6, len(data) - 8):  # '...;63;4' and '...;63;' (the last cell empty)
        rec = load_any(cut_file(acc, n_bytes))
        assert len(rec.samples) == 7
        assert f"the incomplete last line of {acc.name} (line 9) was skipped" in rec.metadata["import_notes"]
        acc.write_bytes(data)


def test_witmotion_cut_last_line_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "wit.txt"
    path.write_text("\n".join([WIT_HEADER, *wit_rows()]), encoding="utf-8")
    rec = load_any(cut_file(path, len(path.read_bytes()) - 20))
    assert len(rec.samples) == 4
    assert "the incomplete last line of wit.txt (line 6) was skipped" in rec.metadata["import_notes"]


def test_witmotion_cut_inside_a_multibyte_character_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "wit.txt"
    path.write_text("\n".join([WIT_HEADER, *wit_rows(device="传感器")]), encoding="utf-8")
    data = path.read_bytes()
    cut_at = data.rfind("感".encode()) + 1  # inside the last row's device name
    rec = load_any(cut_file(path, cut_at))
    assert len(rec.samples) == 4
    assert "the incomplete last line of wit.txt (line 6) was skipped" in rec.metadata["import_notes"]


def test_a_cut_only_data_line_is_an_error(tmp_path: Path) -> None:
    acc = write_mm(tmp_path, MM_PREFIX, "Accelerometer", mm_rows(ACC_EPOCHS[:1], ACC_XYZ[:1]))
    cut_file(acc, len(acc.read_bytes()) - 10)
    with pytest.raises(RecordingError, match=r"no data rows after the header \(line 1\) \(the only data line was cut"):
        load_any(acc)


def test_short_last_line_with_its_line_end_is_still_an_error(tmp_path: Path) -> None:
    # A line end after it means the line was written whole: it is no cut but a bad line.
    rows = mm_rows(ACC_EPOCHS, ACC_XYZ)
    rows[-1] = rows[-1].rsplit(",", 1)[0]
    acc = write_mm(tmp_path, MM_PREFIX, "Accelerometer", rows)
    with pytest.raises(RecordingError, match=rf"^{re.escape(str(acc))} line 7: 5 fields where the header"):
        load_any(acc)


def test_short_line_in_the_middle_of_a_cut_file_is_still_an_error(tmp_path: Path) -> None:
    rows = mm_rows(ACC_EPOCHS, ACC_XYZ)
    rows[2] = rows[2].rsplit(",", 1)[0]
    acc = write_mm(tmp_path, MM_PREFIX, "Accelerometer", rows)
    cut_file(acc, len(acc.read_bytes()) - 10)
    with pytest.raises(RecordingError, match=rf"^{re.escape(str(acc))} line 4: 5 fields where the header"):
        load_any(acc)


GYRO_LINES = [MM_HEADER_GYRO, *mm_rows(GYRO_EPOCHS, GYRO_XYZ)]


@pytest.mark.parametrize(
    ("gyro_lines", "problem"),
    [
        ([*GYRO_LINES[:4], "1547219408500,x", *GYRO_LINES[4:]], r" line 5: 2 fields where the header"),
        ([*GYRO_LINES[:5], GYRO_LINES[5].replace(",-8.0,", ",?,")], r" line 6, column 'y-axis \(deg/s\)': '\?' is not"),
        (["epoch (ms),x,y,z", *GYRO_LINES[1:]], r": not a MetaMotion CSV export"),
        ([*GYRO_LINES[:3], GYRO_LINES[3].replace(",0.5", ",20000"), *GYRO_LINES[4:]], r" line 4, .* beyond \+-10000"),
    ],
    ids=["short row", "bad cell", "bad header", "out of range"],
)
def test_broken_gyro_partner_loads_the_accelerometer_with_a_note(
    tmp_path: Path, gyro_lines: list[str], problem: str
) -> None:
    acc = write_mm(tmp_path, MM_PREFIX, "Accelerometer", mm_rows(ACC_EPOCHS, ACC_XYZ))
    gyro = tmp_path / f"{MM_PREFIX}_Gyroscope_25.000Hz_1.4.4.csv"
    gyro.write_text("\n".join(gyro_lines) + "\n", encoding="utf-8")
    rec = load_any(acc)
    assert not rec.samples.has_gyro
    assert rec.samples.acc_g.tolist() == [list(v) for v in ACC_XYZ]
    notes = rec.metadata["import_notes"]
    assert re.search(rf"gyroscope file not used: {re.escape(str(gyro))}{problem}", notes), notes
    assert notes.endswith("loaded without gyroscope")


def test_broken_gyro_file_given_alone_is_an_error(tmp_path: Path) -> None:
    write_mm(tmp_path, MM_PREFIX, "Accelerometer", mm_rows(ACC_EPOCHS, ACC_XYZ))
    gyro = write_mm(tmp_path, MM_PREFIX, "Gyroscope", [*mm_rows(GYRO_EPOCHS, GYRO_XYZ)[:3], "1547219408500,x"])
    with pytest.raises(RecordingError, match=rf"^{re.escape(str(gyro))} line 5: 2 fields"):
        load_any(gyro)


def test_broken_accelerometer_partner_is_an_error_naming_it(tmp_path: Path) -> None:
    acc = write_mm(tmp_path, MM_PREFIX, "Accelerometer", [*mm_rows(ACC_EPOCHS, ACC_XYZ)[:3], "1547219408500,x"])
    gyro = write_mm(tmp_path, MM_PREFIX, "Gyroscope", mm_rows(GYRO_EPOCHS, GYRO_XYZ))
    with pytest.raises(RecordingError, match=rf"^{re.escape(str(acc))} line 5: 2 fields"):
        load_any(gyro)


def test_polar_broken_gyro_loads_the_accelerometer_with_a_note(tmp_path: Path) -> None:
    acc = write_polar(tmp_path)
    gyro = acc.with_name(acc.name.replace("_ACC", "_GYRO"))
    gyro.write_text(gyro.read_text().replace("\n", "\nx;abc;2;3;4\n", 1), encoding="utf-8")
    rec = load_any(acc)
    assert not rec.samples.has_gyro and len(rec.samples) == 8
    assert f"GYRO file not used: {gyro} line 2" in rec.metadata["import_notes"]
    with pytest.raises(RecordingError, match=rf"^{re.escape(str(gyro))} line 2"):
        load_any(gyro)


def test_metamotion_magnetometer_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / f"{MM_PREFIX}_Magnetometer_25.000Hz_1.4.4.csv"
    path.write_text("epoch (ms),time (01:00),elapsed (s),x-axis (T),y-axis (T),z-axis (T)\n1,a,0,1,2,3\n")
    with pytest.raises(RecordingError, match=r"MetaMotion export in 't'"):
        load_any(path)


@settings(max_examples=30, deadline=None)
@given(repeats=st.lists(st.integers(0, 2), min_size=6, max_size=6))
def test_duplicated_rows_never_change_the_samples(tmp_path_factory: pytest.TempPathFactory, repeats: list[int]) -> None:
    folder = tmp_path_factory.mktemp("dups")
    rows = [row for row, k in zip(mm_rows(ACC_EPOCHS, ACC_XYZ), repeats, strict=True) for _ in range(k + 1)]
    rec = load_any(write_mm(folder, MM_PREFIX, "Accelerometer", rows))
    assert rec.samples.acc_g.tolist() == [list(v) for v in ACC_XYZ]
    assert (f"{sum(repeats)} exact duplicate" in rec.metadata.get("import_notes", "")) == (sum(repeats) > 0)


@pytest.mark.parametrize(
    ("name", "exercise"),
    [
        ("A-bench-heavy2-rpe8", "bench"),
        ("B-dead-medium", "deadlift"),
        ("C-squat-heavy1", "squat"),
        ("D-ohp-medium3-rpe7", "ohp"),
        ("E-row-heavy", "row"),
        ("my_deadlift_day", "deadlift"),
        ("A-rest-sitting", None),
        ("arrow-test", None),
        ("bench-and-row", None),
    ],
)
def test_exercise_guessed_from_the_name(name: str, exercise: str | None) -> None:
    assert guess_exercise(name) == exercise


# --- Polar Sensor Logger ------------------------------------------------------------------------------------


def test_polar_verity_acc_and_gyro(tmp_path: Path) -> None:
    acc_path = write_polar(tmp_path)
    assert detect_format(acc_path) == "polar"
    rec = load_any(acc_path)
    s = rec.samples
    np.testing.assert_allclose(s.t_s, np.arange(8) * 0.019230769, rtol=0, atol=1e-12)
    np.testing.assert_allclose(s.acc_g[:, 0], (-953 + np.arange(8)) / 1000, rtol=0, atol=1e-15)
    np.testing.assert_allclose(s.acc_g[:, 2], (425 - 2 * np.arange(8)) / 1000, rtol=0, atol=1e-15)
    assert s.gyro_dps is not None
    np.testing.assert_allclose(s.gyro_dps[:, 0], np.arange(8) * 1.5, rtol=0, atol=1e-12)
    assert rec.metadata["placement"] == "wrist"
    assert rec.metadata["sensor"] == "Polar Verity Sense (0C301E3F)"
    assert rec.metadata["start_time"] == "2026-06-13T12:14:35.000"
    assert rec.metadata["source_files"] == f"{acc_path.name}; {acc_path.name.replace('_ACC', '_GYRO')}"
    assert load_any(acc_path.with_name(acc_path.name.replace("_ACC", "_GYRO"))).metadata == rec.metadata


def test_polar_h10_without_gyro(tmp_path: Path) -> None:
    rec = load_any(write_polar(tmp_path, model="H10", gyro=False))
    assert not rec.samples.has_gyro
    assert "placement" not in rec.metadata
    assert "no GYRO file found" in rec.metadata["import_notes"]
    assert "chest strap" in rec.metadata["import_notes"]


def test_polar_other_streams_are_refused(tmp_path: Path) -> None:
    hr = tmp_path / "Polar_Sense_0C301E3F_20260613_121435_PPG.txt"
    hr.write_text("Phone timestamp;sensor timestamp [ns];channel 0;channel 1;channel 2;ambient\nx;1;2;3;4;5\n")
    with pytest.raises(RecordingError, match=r"_PPG\.txt: a Polar Sensor Logger file without accelerometer"):
        load_any(hr)


def test_polar_bad_timestamp_names_line(tmp_path: Path) -> None:
    path = tmp_path / "Polar_Sense_0C301E3F_20260613_121435_ACC.txt"
    path.write_text(f"{POLAR_ACC}\nx;{NS0};1;2;3\nx;12.5;1;2;3\n")
    with pytest.raises(RecordingError, match=r"line 3, column 'sensor timestamp \[ns\]': '12.5' is not a whole"):
        load_any(path)


# --- WitMotion ----------------------------------------------------------------------------------------------


def test_witmotion_current_software_layout(tmp_path: Path) -> None:
    path = tmp_path / "20250101100000.txt"
    path.write_text("\n".join([WIT_HEADER, *wit_rows()]) + "\n", encoding="utf-8")
    assert detect_format(path) == "witmotion"
    rec = load_any(path)
    np.testing.assert_allclose(rec.samples.t_s, [0.0, 0.01, 0.02, 0.03, 0.04], rtol=0, atol=1e-12)
    assert rec.samples.acc_g[:, 0].tolist() == [0.0, 0.004, 0.008, 0.012, 0.016]
    assert rec.samples.gyro_dps is not None
    assert rec.samples.gyro_dps[:, 0].tolist() == [0.0, 1.5, 3.0, 4.5, 6.0]
    assert rec.metadata["sensor"] == "WitMotion WT901BLE67(E5:9E:9B:1F:CE:48)"
    assert rec.metadata["sample_rate_hz"] == "100"
    assert rec.metadata["start_time"] == "2025-01-01 10:00:00.100"


def test_witmotion_chinese_headers_in_gbk(tmp_path: Path) -> None:
    path = tmp_path / "squat_wit.csv"
    path.write_bytes(("\r\n".join([WIT_HEADER_ZH, *wit_rows(sep=",")]) + "\r\n").encode("gbk"))
    rec = load_any(path)
    assert rec.samples.acc_g[:, 2].tolist() == [1.001] * 5
    assert rec.samples.gyro_dps is not None
    assert rec.samples.gyro_dps[:, 2].tolist() == [-2.0] * 5
    assert rec.metadata["exercise"] == "squat"


def test_witmotion_english_headers_in_gbk(tmp_path: Path) -> None:
    # The degree sign of AsX(°/s) is the only non-ASCII character, written in the ANSI code page.
    path = tmp_path / "wit_gbk.txt"
    path.write_bytes(("\r\n".join([WIT_HEADER, *wit_rows()]) + "\r\n").encode("gbk"))
    assert detect_format(path) == "witmotion"
    assert load_any(path).samples.gyro_dps is not None


def test_witmotion_sdk_layout_with_colon_milliseconds(tmp_path: Path) -> None:
    header = "Chiptime\tax(g)\tay(g)\taz(g)\twx(deg/s)\twy(deg/s)\twz(deg/s)\tAngleX(deg)\tAngleY(deg)\tAngleZ(deg)"
    rows = [f"2024-03-01 10:11:12:{5 * i:03d}\t0,5\t0\t1\t{i}\t0\t0\t1\t2\t3" for i in range(4)]
    path = tmp_path / "wit.txt"
    path.write_text("\n".join(["Start time: 2024-03-01", header, *rows, header]) + "\n", encoding="utf-8")
    rec = load_any(path)
    np.testing.assert_allclose(rec.samples.t_s, [0.0, 0.005, 0.01, 0.015], rtol=0, atol=1e-12)
    assert rec.samples.acc_g[:, 0].tolist() == [0.5] * 4  # a decimal comma


def test_witmotion_two_sensors_in_one_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "two.txt"
    rows = wit_rows(3) + wit_rows(3, device="WT901BLE68(00:0C:BF:19:3F:0D)")
    path.write_text("\n".join([WIT_HEADER, *rows]) + "\n", encoding="utf-8")
    with pytest.raises(RecordingError, match=r"two\.txt: holds 2 sensors"):
        load_any(path)


def test_witmotion_without_acceleration_is_unrecognised(tmp_path: Path) -> None:
    path = tmp_path / "angles.txt"
    path.write_text("time\tDeviceName\tAngleX(°)\tAngleY(°)\n2025-01-01 10:00:00.100\tWT\t1\t2\n", encoding="utf-8")
    with pytest.raises(RecordingError, match=r"angles\.txt: unrecognised WitMotion export: no acceleration"):
        load_any(path)


def test_witmotion_binary_log_is_explained(tmp_path: Path) -> None:
    path = tmp_path / "wit.bin"
    path.write_bytes(bytes([0x55, 0x50] + [1] * 9 + [0x55, 0x51] + [0] * 20))
    with pytest.raises(RecordingError, match=r"wit\.bin: a WitMotion binary log"):
        load_any(path)


def test_a_bar_mounted_witmotion_at_its_default_10_hz_stops_an_amrap_on_velocity_loss(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """WitMotion's app exports at 10 Hz unless told otherwise. The samples' own spacing is no lost data: the reps
    are measured and the set stops where the simulator's truth says a 20 % loss is first reached."""
    config = random_config(np.random.default_rng(5), Exercise.SQUAT, rate_hz=10.0, has_gyro=True, hard=False)
    sim = simulate_set(dataclasses.replace(config, n_good_reps=8, fatigue_per_rep_frac=0.06), seed=8)
    assert sim.samples.gyro_dps is not None
    start = dt.datetime(2025, 1, 1, 10, 0, 0)
    rows = []
    for t, acc, gyro in zip(sim.samples.t_s, sim.samples.acc_g, sim.samples.gyro_dps, strict=True):
        stamp = (start + dt.timedelta(seconds=float(t))).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
        values = [f"{v:.4f}" for v in acc] + [f"{v:.3f}" for v in gyro]
        rows.append("\t".join([stamp, "WT901BLE67(E5:9E:9B:1F:CE:48)", "null", *values, "0.0"]))
    path = tmp_path / "squat_wit.txt"
    path.write_text("\n".join([WIT_HEADER, *rows]) + "\n", encoding="utf-8")
    assert main(["replay", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["exercise"], out["placement"], len(out["reps"])) == ("squat", "bar", 8)
    assert all(rep["flags"] == [] for rep in out["reps"])
    assert out["stop"]["reason"] == "velocity_loss" and out["stop"]["rep"] == sim.truth.vl20_stop_rep == 5


# --- any file -----------------------------------------------------------------------------------------------


def test_v1_recording_passes_through(tmp_path: Path) -> None:
    path = tmp_path / "rec.csv"
    block = SampleBlock(np.arange(4) / 100.0, np.tile([0.0, 0.0, 1.0], (4, 1)), None)
    with RecordingWriter(path, {"exercise": "squat"}, has_gyro=False) as writer:
        writer.write(block)
    assert detect_format(path) == "repsense"
    loaded, read = load_any(path), read_recording(path)
    assert loaded.samples.t_s.tolist() == read.samples.t_s.tolist()
    assert loaded.metadata == read.metadata == {"repsense-recording": "v1", "exercise": "squat"}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", r"unrecognised file format \(the file is empty\)"),
        (b"hello,world\n1,2\n", r"unrecognised file format \('hello,world'\)"),
        (b"\x00\x01\x02", r"binary data"),
    ],
)
def test_unknown_files_are_named(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "mystery.dat"
    path.write_bytes(content)
    with pytest.raises(RecordingError, match=rf"^{re.escape(str(path))}: {message}"):
        load_any(path)


def test_headerless_numbers_say_a_header_is_needed(tmp_path: Path) -> None:
    # As muvr's Pebble CSVs are: acceleration, a label, a weight and a count, and no time.
    path = tmp_path / "labelled.csv"
    path.write_text(
        "0.92,0.216,0.512,straight-bar-biceps-curl,,35.0,20\n0.9,0.2,0.5,straight-bar-biceps-curl,,35.0,20\n"
    )
    with pytest.raises(RecordingError) as info:
        load_any(path)
    assert str(info.value) == (
        f"{path}: unrecognised file format (no header, the first line is data: "
        "'0.92,0.216,0.512,straight-bar-biceps-curl,,35.0,20'); repsense reads its own v1 recordings (a header "
        "'t,ax,ay,az', t in seconds), MetaMotion/MetaBase CSV, Polar Sensor Logger and WitMotion exports"
    )


@pytest.mark.parametrize(
    ("header", "missing"),
    [("time,ax,ay,az", "t"), ("ax,ay,az", "t"), ("t,x,y,z", "ax, ay, az"), ("# exercise: squat\nt,ay,az", "ax")],
)
def test_a_header_near_v1_names_the_missing_column(tmp_path: Path, header: str, missing: str) -> None:
    path = tmp_path / "near.csv"
    path.write_text(f"{header}\n0.0,0.1,0.2,0.9\n")
    with pytest.raises(
        RecordingError,
        match=rf"^{re.escape(str(path))} line \d: header lacks required column\(s\) "
        rf"{missing} \(header: .*; required: t, ax, ay, az\)$",
    ):
        load_any(path)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_file_is_named_as_such(tmp_path: Path, encoding: str) -> None:
    acc = write_mm(tmp_path, MM_PREFIX, "Accelerometer", mm_rows(ACC_EPOCHS, ACC_XYZ))
    acc.write_bytes(acc.read_text(encoding="utf-8").encode(encoding))
    with pytest.raises(RecordingError, match=rf"^{re.escape(str(acc))}: saved as UTF-16; save it as UTF-8$"):
        load_any(acc)


@pytest.mark.parametrize("latin1", [b"caf\xe9 ", b"dur\xe9e"])  # the second is also valid GBK
def test_latin1_file_is_not_utf8_with_byte_and_line(tmp_path: Path, latin1: bytes) -> None:
    acc = write_mm(tmp_path, MM_PREFIX, "Accelerometer", mm_rows(ACC_EPOCHS, ACC_XYZ))
    lines = acc.read_bytes().split(b"\n")
    lines[2] = lines[2].replace(b"2019-01-11T", latin1)
    acc.write_bytes(b"\n".join(lines))
    with pytest.raises(RecordingError, match=rf"^{re.escape(str(acc))}: not UTF-8 \(byte 0xe9 at line 3\); save it"):
        load_any(acc)


def test_metamotion_gyroscope_header_error_names_deg_per_s(tmp_path: Path) -> None:
    acc = write_mm(tmp_path, MM_PREFIX, "Accelerometer", mm_rows(ACC_EPOCHS, ACC_XYZ))
    write_mm(tmp_path, MM_PREFIX, "Gyroscope", mm_rows(GYRO_EPOCHS, GYRO_XYZ)).write_text("epoch,x,y,z\n1,2,3,4\n")
    notes = load_any(acc).metadata["import_notes"]
    assert "the header should start 'epoch (ms),...,x-axis (deg/s),...', got 'epoch,x,y,z'" in notes


def test_acceleration_out_of_range_names_file_line_and_column(tmp_path: Path) -> None:
    rows = mm_rows(ACC_EPOCHS, ACC_XYZ)
    rows[2] = rows[2].replace(",0.974,", ",70.5,")
    acc = write_mm(tmp_path, MM_PREFIX, "Accelerometer", rows)
    with pytest.raises(RecordingError) as info:
        load_any(acc)
    assert str(info.value) == (
        f"{acc} line 4, column 'y-axis (g)': 70.5 g is beyond +-64 g, not a plausible IMU reading"
    )


def test_angular_rate_out_of_range_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "wit.txt"
    rows = wit_rows()
    rows[3] = rows[3].replace("\t-2.000\t", "\t-20000\t")
    path.write_text("\n".join([WIT_HEADER, *rows]) + "\n", encoding="utf-8")
    with pytest.raises(RecordingError, match=r"wit\.txt line 5, column 'AsZ\(°/s\)': -20000 deg/s is beyond \+-10000"):
        load_any(path)


def test_polar_out_of_range_in_mg_names_the_line(tmp_path: Path) -> None:
    acc = write_polar(tmp_path, gyro=False)
    acc.write_text(acc.read_text().replace(";-948;", ";-70000;"), encoding="utf-8")
    with pytest.raises(RecordingError, match=r"_ACC\.txt line 7, column 'X \[mg\]': -70 g is beyond \+-64 g"):
        load_any(acc)


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(RecordingError, match=r"nope\.csv: no such file"):
        load_any(tmp_path / "nope.csv")
    with pytest.raises(RecordingError, match=r"is a directory"):
        load_any(tmp_path)


# --- import -------------------------------------------------------------------------------------------------


def test_import_writes_v1_recordings_once_per_pair(tmp_path: Path) -> None:
    src = tmp_path / "exports"
    src.mkdir()
    acc, gyro = write_mm_pair(src)
    polar = write_polar(src)
    out = tmp_path / "out"
    written = import_files([acc, gyro, polar], out)
    assert [p.name for p in written] == [f"{MM_PREFIX}.csv", "Polar_Sense_0C301E3F_20260613_121435.csv"]
    for path, source in zip(written, (acc, polar), strict=True):
        original, back = load_any(source), read_recording(path)
        np.testing.assert_allclose(back.samples.t_s, original.samples.t_s, rtol=0, atol=1e-6)
        np.testing.assert_allclose(back.samples.acc_g, original.samples.acc_g, rtol=0, atol=1e-5)
        assert back.samples.gyro_dps is not None and original.samples.gyro_dps is not None
        np.testing.assert_allclose(back.samples.gyro_dps, original.samples.gyro_dps, rtol=0, atol=1e-3)
        assert {k: v for k, v in back.metadata.items() if k != "repsense-recording"} == original.metadata
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in written)


def test_import_stops_at_the_first_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("nothing,here\n")
    with pytest.raises(RecordingError, match=r"bad\.csv: unrecognised file format"):
        import_files([bad], tmp_path / "out")


def write_two_exports_of_one_set(folder: Path) -> tuple[Path, Path]:
    """The set's 1.4.4 export and a 1.4.41 re-export shifted by a day (as in the real data), each with its gyroscope."""
    folder.mkdir()
    acc4, _ = write_mm_pair(folder)
    day = 86_400_000
    acc41 = write_mm(folder, MM_PREFIX, "Accelerometer", mm_rows([e + day for e in ACC_EPOCHS], ACC_XYZ), "1.4.41")
    write_mm(folder, MM_PREFIX, "Gyroscope", mm_rows([e + day for e in GYRO_EPOCHS], GYRO_XYZ), "1.4.41")
    return acc4, acc41


@pytest.mark.parametrize("reverse", [False, True])
def test_import_names_two_exports_of_one_set_by_app_version_in_any_order(tmp_path: Path, reverse: bool) -> None:
    acc4, acc41 = write_two_exports_of_one_set(tmp_path / "exports")
    out = tmp_path / "out"
    written = import_files([acc41, acc4] if reverse else [acc4, acc41], out)
    assert sorted(p.name for p in out.iterdir()) == [f"{MM_PREFIX}_1.4.4.csv", f"{MM_PREFIX}_1.4.41.csv"]
    for path in written:
        version = path.stem.rsplit("_", 1)[1]
        assert read_recording(path).metadata["source_files"].split("; ")[0].endswith(f"_{version}.csv")


def test_import_refuses_names_that_still_collide(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    paths = []
    for folder in ("monday", "tuesday"):
        (tmp_path / folder).mkdir()
        path = tmp_path / folder / "squat.txt"
        path.write_text("\n".join([WIT_HEADER, *wit_rows()]) + "\n", encoding="utf-8")
        paths.append(path)
    out = tmp_path / "out"
    code, _ = run_import([*map(str, paths), "--out", str(out)])
    assert code == 2
    assert capsys.readouterr().err.splitlines() == [
        f"repsense: error: {paths[0]}: would be written as squat.csv, as would {paths[1]}; import them into "
        "separate --out folders or rename one",
        f"repsense: error: {paths[1]}: would be written as squat.csv, as would {paths[0]}; import them into "
        "separate --out folders or rename one",
    ]
    assert list(out.iterdir()) == []


def run_import(argv: list[str]) -> tuple[int, str]:
    parser = argparse.ArgumentParser(prog="repsense")
    add_import_command(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["import", *argv])
    buffer = io.StringIO()
    code = cmd_import(args, Console(file=buffer, width=300, highlight=False))
    return code, buffer.getvalue()


def test_cmd_import_reports_each_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    acc, gyro = write_mm_pair(tmp_path)
    bad = tmp_path / "broken.txt"
    bad.write_text("???\n")
    out = tmp_path / "imported"
    code, printed = run_import([str(acc), str(bad), str(gyro), "--out", str(out)])
    assert code == 2
    assert f"{acc} -> {out / (MM_PREFIX + '.csv')}  (6 samples, 0.4 s, acc+gyro, 12.5 Hz, exercise bench" in printed
    assert f"{gyro}: same set as {out / (MM_PREFIX + '.csv')}, already written" in printed
    assert capsys.readouterr().err == f"repsense: error: {bad}: unrecognised file format ('???'); " + (
        "repsense reads its own v1 recordings (a header 't,ax,ay,az', t in seconds), MetaMotion/MetaBase CSV, "
        "Polar Sensor Logger and WitMotion exports\n"
    )
    assert (out / f"{MM_PREFIX}.csv").is_file()


def test_cmd_import_default_out_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    acc = write_mm(tmp_path, MM_PREFIX, "Accelerometer", mm_rows(ACC_EPOCHS, ACC_XYZ))
    monkeypatch.chdir(tmp_path)
    code, printed = run_import([str(acc)])
    assert code == 0
    assert (tmp_path / "imported" / f"{MM_PREFIX}.csv").is_file()
    assert "note: no gyroscope file found" in printed


# --- the real MetaBase exports (../shared/realdata, never in the repo) ---------------------------------------


@pytest.fixture(scope="module")
def ebbelaar_raw() -> tuple[ModuleType, Path]:
    root = Path(os.environ.get("REPSENSE_REALDATA", realdata.DEFAULT_ROOT))
    raw = root / "ebbelaar_metamotion" / "raw"
    if not raw.is_dir():
        pytest.skip(f"real data not found at {raw} (set REPSENSE_REALDATA)")
    return realdata, root


@pytest.mark.realdata
def test_real_ebbelaar_set_count_and_duplicates_excluded(ebbelaar_raw: tuple[ModuleType, Path]) -> None:
    realdata, root = ebbelaar_raw
    raw = root / "ebbelaar_metamotion" / "raw"
    # The traps are on disk ...
    assert any(raw.glob("E-*_Accelerometer_*.csv"))
    assert any(raw.glob("*_1.4.41.csv"))
    sets = list(realdata.ebbelaar_sets(root))
    # ... and the loader steps around them: 57 unique sets, 410 reps (MANIFEST).
    assert len(sets) == 57
    assert sum(s.true_reps for s in sets) == 410
    assert {s.metadata["participant"] for s in sets} == {"A", "B", "C", "D"}
    assert not any("1.4.41" in s.metadata["source_files"] for s in sets)
    assert all(s.samples.has_gyro for s in sets)
    assert {s.true_reps for s in sets} == {5, 10}
    assert len({s.name for s in sets}) == 57
    by_participant = {p: sum(s.metadata["participant"] == p for s in sets) for p in "ABCD"}
    assert by_participant == {"A": 25, "B": 9, "C": 14, "D": 9}


@pytest.mark.realdata
def test_real_metabase_pair_loads_from_either_file(ebbelaar_raw: tuple[ModuleType, Path]) -> None:
    _, root = ebbelaar_raw
    raw = root / "ebbelaar_metamotion" / "raw"
    acc = raw / f"{MM_PREFIX}_Accelerometer_12.500Hz_1.4.4.csv"
    gyro = raw / f"{MM_PREFIX}_Gyroscope_25.000Hz_1.4.4.csv"
    a, b = load_any(acc), load_any(gyro)
    assert a.samples.has_gyro and a.metadata == b.metadata
    assert a.metadata["exercise"] == "bench" and a.metadata["placement"] == "wrist"
    assert a.metadata["sample_rate_hz"] == "12.5" and a.metadata["gyro_rate_hz"] == "25"
    assert a.samples.t_s.tolist() == b.samples.t_s.tolist()


@pytest.mark.realdata
def test_real_copy_without_partner_is_not_paired_with_a_day_old_file(ebbelaar_raw: tuple[ModuleType, Path]) -> None:
    # This 1.4.41 copy has no gyroscope of its own; the 1.4.4 gyroscope beside it is a day off.
    _, root = ebbelaar_raw
    raw = root / "ebbelaar_metamotion" / "raw"
    acc = raw / "E-row-medium_MetaWear_2019-01-18T18.34.52.516_C42732BE255C_Accelerometer_12.500Hz_1.4.41.csv"
    if not acc.is_file():
        pytest.skip(f"{acc.name} not in this copy of the data")
    rec = load_any(acc)
    assert not rec.samples.has_gyro
    assert "does not overlap this file in time" in rec.metadata["import_notes"]
