"""The history file under abuse: a writer killed mid-save, another program's lock, damaged and foreign files."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from repsense.core.cli import main
from repsense.core.history import History, RepRow, SetRecord
from repsense.errors import HistoryError

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]

#: Saves sets forever: set k has 1 + k % 13 reps and says so in its source; prints k after each commit.
WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from repsense.core.history import History, RepRow, SetRecord

    history = History(Path(sys.argv[1]))
    k = history._conn.execute("SELECT count(*) FROM sets").fetchone()[0]
    while True:
        n = 1 + k % 13
        reps = tuple(RepRow(i, i * 4.0, i * 4.0 + 0.8, 0.8 - 0.02 * i, 1.2, 0.55, None) for i in range(1, n + 1))
        history.save_set(SetRecord(exercise="squat", mode="amrap", reps=reps, load_kg=100.0, source=f"{k} {n}"))
        k += 1
        print(k, flush=True)
    """
)


def one_set(n: int = 3) -> SetRecord:
    reps = tuple(RepRow(i, i * 4.0, i * 4.0 + 0.8, 0.8 - 0.05 * i, 1.2, 0.55, None) for i in range(1, n + 1))
    return SetRecord(exercise="squat", mode="amrap", reps=reps, load_kg=100.0, load_unit="kg")


def test_kill_9_while_saving_leaves_a_consistent_database(tmp_path):
    path = tmp_path / "h.sqlite3"
    saved = 0
    for stop_after in (25, 40, 60):  # three writers, each killed at an arbitrary moment of its loop
        proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None
        for line in proc.stdout:
            saved = int(line)
            if saved >= stop_after:
                break
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL, proc.stderr.read() if proc.stderr else ""
        proc.stdout.close()
        assert proc.stderr is not None
        proc.stderr.close()
    assert Path(str(path) + "-wal").exists()  # killed: nothing checkpointed the log on close
    raw = sqlite3.connect(path)
    assert raw.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    raw.close()
    with History(path) as history:
        rows = history.sets()
        assert len(rows) >= saved >= 60
        assert len(rows) == history._conn.execute("SELECT count(*) FROM sessions").fetchone()[0]
        for row in rows:
            k, n = map(int, row.source.split())
            assert row.rep_count == n == len(row.reps) == 1 + k % 13
            assert [r.idx for r in row.reps] == list(range(1, n + 1))
        assert sorted(int(r.source.split()[0]) for r in rows) == list(range(len(rows)))
        assert history.save_set(one_set()) == len(rows) + 1


def hold_lock(path: Path) -> sqlite3.Connection:
    """Another program in the middle of a write transaction on ``path``."""
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    return other


def test_a_locked_database_refuses_a_save_with_one_line_after_the_busy_timeout(tmp_path):
    path = tmp_path / "h.sqlite3"
    with History(path) as history:
        history.save_set(one_set())
    other = hold_lock(path)
    other.execute("INSERT INTO sessions (started_at) VALUES ('2025-01-01T00:00:00Z')")
    try:
        with History(path, busy_timeout_s=0.2) as history:
            assert len(history.sets()) == 1  # readers are not blocked in WAL mode
            t0 = time.monotonic()
            with pytest.raises(HistoryError) as caught:
                history.save_set(one_set())
            waited = time.monotonic() - t0
            with pytest.raises(HistoryError, match="locked"):
                history.correct(1, drop=[1])
    finally:
        other.execute("ROLLBACK")
        other.close()
    message = str(caught.value)
    assert "\n" not in message
    assert message == (
        f"history {path} is locked by another program (waited 0.2 s); "
        "close the other repsense or database tool and try again"
    )
    assert waited < 10  # it gave up; it did not hang
    with History(path) as history:  # nothing stored was lost, and it works again
        assert [r.rep_count for r in history.sets()] == [3]
        history.save_set(one_set(2))
        assert len(history.sets()) == 2


def test_a_new_database_locked_before_its_schema_exists_is_refused(tmp_path):
    path = tmp_path / "h.sqlite3"
    other = hold_lock(path)
    other.execute("CREATE TABLE scratch (x)")
    try:
        with pytest.raises(HistoryError, match="is locked by another program"):
            History(path, busy_timeout_s=0.1)
    finally:
        other.execute("ROLLBACK")
        other.close()


def test_correct_on_a_locked_database_is_one_line_and_exit_2(tmp_path, capsys, monkeypatch):
    path = tmp_path / "h.sqlite3"
    with History(path) as history:
        history.save_set(one_set())
    other = hold_lock(path)
    other.execute("INSERT INTO sessions (started_at) VALUES ('2025-01-01T00:00:00Z')")
    monkeypatch.setenv("REPSENSE_BUSY_TIMEOUT", "0.1")
    try:
        assert main(["correct", "1", "--drop", "2", "--db", str(path)]) == 2
    finally:
        other.execute("ROLLBACK")
        other.close()
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("repsense: error: history ") and "locked" in err[0]


def damaged_files(tmp_path: Path) -> dict[str, Path]:
    """A file of random bytes, and a real history cut short in the middle of its pages."""
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(os.urandom(20_000))
    cut = tmp_path / "cut.sqlite3"
    with History(cut) as history:
        for _ in range(60):
            history.save_set(one_set(12))
    data = cut.read_bytes()
    assert len(data) > 40_000
    cut.write_bytes(data[: len(data) // 2 + 100])
    return {"junk": junk, "cut": cut}


@pytest.mark.parametrize("kind", ["junk", "cut"])
def test_a_damaged_file_is_refused_clearly_and_left_untouched(tmp_path, kind):
    path = damaged_files(tmp_path)[kind]
    before = path.read_bytes()
    with pytest.raises(HistoryError) as caught:
        History(path)
    message = str(caught.value)
    assert "\n" not in message and str(path) in message and "left untouched" in message
    assert ("not an SQLite database" if kind == "junk" else "damaged") in message
    assert path.read_bytes() == before
    assert not Path(str(path) + "-wal").exists() or kind == "cut"


@pytest.mark.parametrize("kind", ["junk", "cut"])
def test_the_cli_on_a_damaged_file_is_one_line_without_traceback(tmp_path, kind):
    path = damaged_files(tmp_path)[kind]
    before = path.read_bytes()
    for args in (["history"], ["export", "--format", "json"], ["correct", "1", "--add-rep"]):
        proc = subprocess.run(
            [sys.executable, "-m", "repsense", *args, "--db", str(path)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert proc.returncode == 2, proc.stderr
        assert "Traceback" not in proc.stderr and proc.stdout == ""
        assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("repsense: error: history ")
    assert path.read_bytes() == before


def test_a_database_from_a_newer_repsense_is_refused(tmp_path):
    path = tmp_path / "h.sqlite3"
    with History(path) as history:
        history.save_set(one_set())
    raw = sqlite3.connect(path)
    raw.execute("PRAGMA user_version = 7")
    raw.commit()
    raw.close()
    before = path.read_bytes()
    with pytest.raises(HistoryError, match=r"written by a newer repsense \(schema version 7, this one knows up to 2\)"):
        History(path)
    assert path.read_bytes() == before


def test_another_programs_sqlite_file_is_refused(tmp_path):
    path = tmp_path / "other.sqlite3"
    raw = sqlite3.connect(path)
    raw.execute("CREATE TABLE contacts (name TEXT)")
    raw.commit()
    raw.close()
    before = path.read_bytes()
    with pytest.raises(HistoryError, match="SQLite database of another program"):
        History(path)
    assert path.read_bytes() == before
