"""The training history on a real SQLite file: what is stored, how it is queried, corrected and migrated."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from repsense.core.history import History, RepRow, SetRecord, SetRow, recompute
from repsense.core.history_rows import missed_rep_room, set_order
from repsense.core.history_schema import APPLICATION_ID, MIGRATIONS, statements
from repsense.core.session import SessionResult, SetSession, replay
from repsense.core.setcontrol import SetConfig
from repsense.errors import HistoryError
from repsense.events import Exercise, Placement, RepFlag, StopReason
from repsense.firmware_bridge.recording import read_recording

SAMPLES = Path(__file__).resolve().parents[2] / "sample_recordings"
DEMO = SAMPLES / "squat_amrap_walkout_100hz.csv"


@pytest.fixture(scope="module")
def demo_result() -> SessionResult:
    recording = read_recording(DEMO)
    session = SetSession(Exercise.SQUAT, Placement.BAR, SetConfig.for_lift(Exercise.SQUAT), source=DEMO.name)
    return replay(recording.samples, session)


def rep(idx: int, mcv: float | None, *flags: RepFlag, counted: bool = True) -> RepRow:
    if mcv is None:
        return RepRow(idx, None, None, None, None, None, None, (), counted, True)
    return RepRow(idx, idx * 4.0, idx * 4.0 + 0.8, mcv, mcv * 1.6, 0.55, None, tuple(str(f) for f in flags), counted)


def record(mcvs: list[float], *, exercise: str = "squat", load_kg: float | None = 100.0, **fields) -> SetRecord:
    stop = fields.get("stop_rep")
    reps = tuple(rep(i, v, counted=stop is None or i <= stop) for i, v in enumerate(mcvs, start=1))
    return SetRecord(exercise=exercise, mode=fields.pop("mode", "amrap"), reps=reps, load_kg=load_kg, **fields)


def test_a_replayed_set_is_stored_whole_and_reads_back(tmp_path, demo_result):
    path = tmp_path / "h.sqlite3"
    assert demo_result.stop is not None and demo_result.stop.reason == StopReason.VELOCITY_LOSS
    stop = demo_result.stop.rep
    with History(path) as history:
        set_id = history.save_set(
            SetRecord.from_result(
                demo_result, load_kg=120.0, load_unit="kg", plan_text="4x5@120kg, last AMRAP", set_number=4
            )
        )
    with History(path, create=False) as history:
        row = history.get_set(set_id)
    assert len(row.reps) == len(demo_result.reps) == 9
    assert [r.counted for r in row.reps] == [r.index <= stop for r in demo_result.reps]
    assert row.rep_count == stop == 6
    assert row.good_reps == sum(
        1 for r in demo_result.reps[:stop] if not {RepFlag.SHORT_ROM, RepFlag.GRINDING} & set(r.flags)
    )
    counted = demo_result.reps[:stop]
    assert row.best_mcv_m_s == max(r.mean_velocity_m_s for r in counted)
    assert row.vl_at_stop == pytest.approx(counted[-1].velocity_loss, abs=1e-12)
    # Nothing corrected: recomputing velocity loss from the stored reps gives what the pipeline said.
    for stored, event in zip(row.reps[:stop], counted, strict=True):
        assert stored.mean_velocity_m_s == event.mean_velocity_m_s
        assert stored.velocity_loss == pytest.approx(event.velocity_loss, abs=1e-12)
        assert stored.flags == tuple(str(f) for f in event.flags)
    assert row.reps[6].flags == ("data_gap",) and row.reps[8].flags == ("grinding",)
    assert (row.exercise, row.placement, row.mode, row.stop_reason) == ("squat", "bar", "amrap", "velocity_loss")
    assert row.vl_threshold == pytest.approx(0.20)
    assert row.load_text == "120 kg" and row.set_number == 4 and row.stop_rep == 6
    assert row.source == DEMO.name and row.corrected_at is None


def test_good_reps_match_owner_a_rule_when_it_exists(tmp_path, demo_result):
    advice = pytest.importorskip("repsense.core.advice")
    with History(tmp_path / "h.sqlite3") as history:
        row = history.get_set(history.save_set(SetRecord.from_result(demo_result)))
    assert row.good_reps == advice.good_reps(demo_result)


def test_the_database_is_wal_with_foreign_keys_and_version_1(tmp_path):
    path = tmp_path / "h.sqlite3"
    with History(path) as history:
        history.save_set(record([0.7]))
        conn = history._conn
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2
        assert history.schema_version == len(MIGRATIONS) == 2
    raw = sqlite3.connect(path)
    assert raw.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    with pytest.raises(sqlite3.IntegrityError):
        raw.execute("PRAGMA foreign_keys = ON")
        raw.execute(
            "INSERT INTO sets (session_id, exercise, mode, reps, good_reps, created_at) "
            "VALUES (99, 'x', 'amrap', 0, 0, 'now')"
        )
    raw.close()


def test_a_failed_save_leaves_nothing_behind(tmp_path):
    path = tmp_path / "h.sqlite3"
    bad = SetRecord(exercise="squat", mode="amrap", reps=(rep(1, 0.7), rep(1, 0.6)))  # the same rep twice
    with History(path) as history:
        history.save_set(record([0.7, 0.6]))
        with pytest.raises(HistoryError):
            history.save_set(bad)
        counts = [
            history._conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("sessions", "sets", "reps")
        ]
        assert counts == [1, 1, 2]
        assert history.save_set(record([0.5])) == 2  # the connection is usable afterwards


def test_sets_are_newest_first_and_filter_by_lift_date_and_count(tmp_path):
    day = dt.datetime(2025, 3, 1, 17, 0, tzinfo=dt.UTC)
    with History(tmp_path / "h.sqlite3") as history:
        ids = [
            history.save_set(record([0.7], exercise=lift, started_at=day + dt.timedelta(days=d)))
            for lift, d in [("squat", 0), ("bench", 1), ("squat", 7), ("squat", 14)]
        ]
        assert [r.id for r in history.sets()] == ids[::-1]
        assert [r.id for r in history.sets(exercise="squat")] == [ids[3], ids[2], ids[0]]
        assert [r.id for r in history.sets(since=day + dt.timedelta(days=1))] == [ids[3], ids[2], ids[1]]
        assert [r.id for r in history.sets(exercise="squat", limit=2)] == [ids[3], ids[2]]
        assert [r.id for r in history.sets(until=day + dt.timedelta(days=1))] == [ids[0]]
        assert history.sets()[0].started_at == day + dt.timedelta(days=14)


def test_the_endurance_number_is_the_last_earlier_days_endurance_set_at_the_lift_and_load(tmp_path):
    """Beat last week's number: not the best ever, not a plain AMRAP set at the load, not a set of the same day."""
    lb225 = 225 * 0.45359237
    endurance = {"plan_text": "endurance 225lb, 2 sets", "load_unit": "lb"}
    today = dt.datetime(2026, 11, 25, 18, 0).astimezone()
    week = dt.timedelta(days=7)
    with History(tmp_path / "h.sqlite3") as history:
        assert history.endurance_number("bench", lb225, before=today) is None
        history.save_set(record([0.5] * 20, exercise="bench", load_kg=lb225, started_at=today - 3 * week, **endurance))
        history.save_set(record([0.5] * 12, exercise="bench", load_kg=lb225, started_at=today - week, **endurance))
        second = today - week + dt.timedelta(minutes=10)
        history.save_set(record([0.5] * 9, exercise="bench", load_kg=lb225, started_at=second, **endurance))
        history.save_set(
            record([0.5] * 30, exercise="bench", load_kg=lb225, started_at=today - 2 * dt.timedelta(days=1))
        )
        history.save_set(
            record(
                [0.5] * 25,
                exercise="bench",
                load_kg=110.0,
                started_at=today - dt.timedelta(days=2),
                plan_text="endurance 110kg, 1 set",
            )
        )  # another load
        history.save_set(
            record([0.5] * 25, exercise="squat", load_kg=lb225, started_at=today - dt.timedelta(days=2), **endurance)
        )  # another lift
        history.save_set(record([0.5] * 40, exercise="bench", load_kg=lb225, started_at=today, **endurance))  # today
        midnight = today.replace(hour=0)
        # last week's day: the better of its two sets; the plain AMRAP set 2 days ago and today's set do not count
        assert history.endurance_number("bench", 102.0582, before=midnight) == 12
        assert history.endurance_number("bench", lb225, before=midnight - 2 * week) == 20
        assert history.endurance_number("bench", lb225, before=midnight - 4 * week) is None


def test_profile_points_are_load_and_best_velocity_of_sets_with_a_load(tmp_path):
    with History(tmp_path / "h.sqlite3") as history:
        history.save_set(record([0.9, 0.95, 0.8], load_kg=60.0))
        history.save_set(record([0.7, 0.65], load_kg=80.0))
        history.save_set(record([0.7], load_kg=None))
        history.save_set(record([0.5], exercise="bench", load_kg=60.0))
        history.save_set(record([], load_kg=90.0))  # no rep, no velocity
        assert history.profile_points("squat") == [(60.0, 0.95), (80.0, 0.7)]


def test_dropping_the_best_rep_recomputes_velocity_loss_and_good_reps(tmp_path):
    mcvs = [1.0, 0.8, 0.9, 0.72, 0.6]
    with History(tmp_path / "h.sqlite3") as history:
        set_id = history.save_set(record(mcvs, stop_rep=4))
        before = history.get_set(set_id)
        assert [r.velocity_loss for r in before.reps] == pytest.approx([0.0, 0.2, 0.1, 0.28, 0.4])
        assert (before.rep_count, before.good_reps, before.vl_at_stop) == (4, 4, pytest.approx(0.28))
        after = history.correct(set_id, drop=[1])
    assert [r.counted for r in after.reps] == [False, True, True, True, False]
    # Against the best counted rep so far: rep 2 is now the reference, then rep 3.
    assert [r.velocity_loss for r in after.reps] == pytest.approx([0.0, 0.0, 0.0, 0.2, 1 - 0.6 / 0.9])
    assert (after.rep_count, after.good_reps) == (3, 3)
    assert after.best_mcv_m_s == 0.9 and after.vl_at_stop == pytest.approx(0.2)
    assert after.corrected_at is not None


def test_adding_a_missed_rep_and_counting_one_after_the_stop(tmp_path):
    with History(tmp_path / "h.sqlite3") as history:
        set_id = history.save_set(record([0.8, 0.75, 0.7, 0.6], stop_rep=3))
        row = history.correct(set_id, add=1, restore=[4])
        assert [r.idx for r in row.reps] == [1, 2, 3, 4, 5]
        added = row.reps[4]
        assert added.added_by_user and added.counted and added.mean_velocity_m_s is None and added.velocity_loss is None
        assert (row.rep_count, row.good_reps) == (5, 5)
        assert row.vl_at_stop == pytest.approx(0.25)  # the last counted rep with a velocity: rep 4
        row = history.correct(set_id, drop=[5])
        assert (row.rep_count, row.good_reps) == (4, 4)
        assert history.get_set(set_id) == row


def test_a_stopped_set_counts_only_the_missed_reps_the_time_before_its_stop_has_room_for(tmp_path):
    """The audit: after the stop at rep 6 of 9, --add-rep 5 counted 10 reps and turned "right" into "too light". A
    missed rep took time before the stop; more than that time holds would be reps after it, which do not count."""
    with History(tmp_path / "h.sqlite3") as history:
        set_id = history.save_set(record([0.8, 0.8, 0.78, 0.72, 0.68, 0.62, 0.55, 0.5, 0.45], stop_rep=6))
        before = history.get_set(set_id)
        assert missed_rep_room(before.reps, 6) == 1  # six reps at a steady rhythm: one may hide at an end
        with pytest.raises(HistoryError, match=r"stopped after rep 6: .* room for about 1 more missed rep, not 5"):
            history.correct(set_id, add=5, drop=[2])
        assert history.get_set(set_id) == before
        row = history.correct(set_id, add=1)
        assert row.rep_count == 7 and [r.idx for r in set_order(row.reps, 6)] == [1, 2, 3, 4, 5, 10, 6, 7, 8, 9]
        with pytest.raises(HistoryError, match="room for about 0 more missed reps, not 1"):
            history.correct(set_id, add=1)
        # a set that never stopped has no "after the stop": reps may be added freely
        free = history.save_set(record([0.8, 0.7]))
        assert history.correct(free, add=3).rep_count == 5
    # a hole of two rep cycles before the stop leaves room for two reps more
    holey = [rep(i, 0.7) for i in (1, 2, 5, 6)] + [rep(7, 0.6, counted=False)]
    assert missed_rep_room(holey, 6) == 3
    assert missed_rep_room(holey, None) is None
    assert missed_rep_room(holey[:1], 1, unseen_reps=2) == 2


def test_bad_form_reps_count_but_are_not_good(tmp_path):
    reps = (rep(1, 0.8), rep(2, 0.7, RepFlag.SHORT_ROM), rep(3, 0.6, RepFlag.GRINDING), rep(4, 0.75, RepFlag.DATA_GAP))
    with History(tmp_path / "h.sqlite3") as history:
        row = history.get_set(history.save_set(SetRecord(exercise="squat", mode="amrap", reps=reps)))
        assert (row.rep_count, row.good_reps) == (4, 2)
        row = history.correct(row.id, drop=[2, 3])
        assert (row.rep_count, row.good_reps) == (2, 2)


def test_corrections_that_make_no_sense_are_refused_and_change_nothing(tmp_path):
    with History(tmp_path / "h.sqlite3") as history:
        set_id = history.save_set(record([0.8, 0.7]))
        before = history.get_set(set_id)
        with pytest.raises(HistoryError, match="set 1 has no rep 7 \\(reps 1-2\\)"):
            history.correct(set_id, drop=[1, 7])
        with pytest.raises(HistoryError, match="both dropped and restored"):
            history.correct(set_id, drop=[1], restore=[1])
        with pytest.raises(HistoryError, match="no set 9"):
            history.correct(9, drop=[1])
        assert history.get_set(set_id) == before


def test_advice_is_recomputed_inside_the_correction(tmp_path):
    seen: list[SetRow] = []

    def advice(history: History, row: SetRow) -> tuple[str, str]:
        seen.append(row)
        return "right", f"{row.good_reps} good reps"

    with History(tmp_path / "h.sqlite3") as history:
        set_id = history.save_set(record([0.8, 0.7, 0.6], advice_verdict="too_light", advice_text="old"))
        row = history.correct(set_id, drop=[3], advice=advice)
    assert seen[0].good_reps == 2
    assert (row.advice_verdict, row.advice_text) == ("right", "2 good reps")


@given(st.lists(st.tuples(st.floats(0.05, 2.0), st.booleans()), max_size=15))
def test_recompute_is_the_running_best_of_counted_reps(reps):
    rows = [rep(i, v, counted=c) for i, (v, c) in enumerate(reps, start=1)]
    out, summary = recompute(rows)
    best = 0.0
    for (v, c), row in zip(reps, out, strict=True):
        best = max(best, v) if c else best
        assert row.velocity_loss == pytest.approx(max(0.0, 1 - v / best) if best else 0.0)
    assert summary.rep_count == sum(c for _, c in reps) == summary.good_reps
    assert summary.best_mcv_m_s == (max((v for v, c in reps if c), default=None))


def make_v1_by_hand(path: Path) -> None:
    """A version 1 history as repsense 0.1 writes it, made without the History class."""
    raw = sqlite3.connect(path, isolation_level=None)
    raw.executescript(MIGRATIONS[0])
    raw.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    raw.execute("PRAGMA user_version = 1")
    raw.execute("INSERT INTO sessions (started_at, sensor, source) VALUES ('2024-12-01T08:00:00Z', 'old', 'x.csv')")
    raw.execute(
        "INSERT INTO sets (session_id, exercise, load_kg, load_unit, mode, reps, good_reps, best_mcv, created_at) "
        "VALUES (1, 'squat', 100, 'kg', 'amrap', 2, 2, 0.8, '2024-12-01T08:05:00Z')"
    )
    raw.execute("INSERT INTO reps (set_id, idx, mcv_m_s, velocity_loss) VALUES (1, 1, 0.8, 0), (1, 2, 0.7, 0.125)")
    raw.close()


def test_a_v1_database_made_by_hand_opens_and_upgrades(tmp_path):
    """Version 2 (reps a sensor gap hid) is applied on opening; a later version the code does not know is refused."""
    path = tmp_path / "v1.sqlite3"
    make_v1_by_hand(path)
    with History(path) as history:
        assert history.schema_version == 2
        row = history.get_set(1)
        assert (row.rep_count, row.unseen_reps) == (2, 0)
        assert row.started_at == dt.datetime(2024, 12, 1, 8, tzinfo=dt.UTC)
        assert [r.mean_velocity_m_s for r in row.reps] == [0.8, 0.7]
        new = history.save_set(dataclasses.replace(record([0.6, 0.6]), unseen_reps=1))
        assert history.get_set(new).unseen_reps == 1
    v3 = (*MIGRATIONS, "ALTER TABLE sets ADD COLUMN rpe REAL;")
    with History(path, migrations=v3) as history:
        assert history.schema_version == 3
        assert history.get_set(1).rep_count == 2
    raw = sqlite3.connect(path)
    assert "rpe" in [c[1] for c in raw.execute("PRAGMA table_info(sets)")]
    raw.close()
    with pytest.raises(HistoryError, match="newer repsense \\(schema version 3, this one knows up to 2\\)"):
        History(path)


def test_a_migration_that_fails_rolls_back_whole(tmp_path):
    path = tmp_path / "v1.sqlite3"
    make_v1_by_hand(path)
    broken = (*MIGRATIONS, "ALTER TABLE sets ADD COLUMN rpe REAL;\nALTER TABLE no_such_table ADD COLUMN x;")
    with pytest.raises(HistoryError, match="no such table"):
        History(path, migrations=broken)
    raw = sqlite3.connect(path)
    assert raw.execute("PRAGMA user_version").fetchone()[0] == 2  # version 2 went in whole; the broken 3 not at all
    assert "rpe" not in [c[1] for c in raw.execute("PRAGMA table_info(sets)")]
    raw.close()
    with History(path) as history:
        assert history.get_set(1).rep_count == 2


def test_migration_scripts_split_into_statements():
    assert list(statements("CREATE TABLE a (x);\nCREATE TABLE b (\n y\n);\n")) == [
        "CREATE TABLE a (x);",
        "CREATE TABLE b (\n y\n);",
    ]
    assert len(list(statements(MIGRATIONS[0]))) == 5  # three tables, two indexes


def test_create_false_refuses_a_missing_file_and_makes_none(tmp_path):
    path = tmp_path / "none.sqlite3"
    with pytest.raises(HistoryError, match="no history at"):
        History(path, create=False)
    assert not path.exists()
    with pytest.raises(HistoryError, match="no such folder"):
        History(tmp_path / "nope" / "h.sqlite3")
    with pytest.raises(HistoryError, match="is a folder"):
        History(tmp_path)
