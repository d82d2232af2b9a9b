"""Training history in SQLite: sessions, sets and reps in one file on disk, and the user's corrections to them.

Theory of operation.

- One ``History`` is one connection to one file. Opening checks, before anything is written, that the file is an
  SQLite database (its 16-byte magic), that it is a repsense history (``application_id``), that it is not damaged
  (``PRAGMA quick_check``) and that its schema is not newer than this code knows. Any of these failing raises
  ``HistoryError`` with one line, and the file is left exactly as it was.
- The schema is versioned by ``PRAGMA user_version``. ``MIGRATIONS[n - 1]`` brings a database from version ``n - 1`` to
  ``n``; each migration and its new ``user_version`` are committed in one transaction, so a database is always at a
  whole version. To change the schema, append one entry to ``MIGRATIONS``; never edit one that has been released.
- The connection is in autocommit mode and every write is an explicit ``BEGIN IMMEDIATE ... COMMIT``: a set, its
  session and its reps are stored together or not at all. WAL journaling with ``synchronous=FULL`` means a process
  killed in the middle of a save (``kill -9``) leaves the last committed state, and readers never block the writer.
- Another program holding the write lock makes a write wait ``busy_timeout_s`` and then fail with ``HistoryError``.

Schema version 1 (times are ISO 8601 UTC text, ``2025-03-01T17:04:05Z``; velocities m/s; loads kg)::

    sessions(id, started_at, sensor, source)
    sets(id, session_id -> sessions, exercise, placement, load_kg, load_unit, plan_text, set_number, mode,
         target_reps, vl_threshold, stop_reason, stop_detail, stop_rep, reps, good_reps, best_mcv, vl_at_stop,
         advice_verdict, advice_text, recording_path, created_at, corrected_at)
    reps(set_id -> sets, idx, t_start_s, t_end_s, mcv_m_s, peak_m_s, rom_m, velocity_loss, flags, counted,
         added_by_user)

A rep row is *counted* when it belongs to the set: reps after the set's stop are kept (they happened) but not
counted, a rep the user dropped is not counted, and a rep the user added (a missed rep, no velocity) is.

This module is the store (I/O). The SQL and its migrations are in ``history_schema``; the values it reads and writes
(``RepRow``, ``SetRecord``, ``SetRow``) and the arithmetic of a corrected set (``recompute``) in ``history_rows``.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from repsense.core.history_rows import (
    RepRow,
    SetRecord,
    SetRow,
    SetSummary,
    from_iso,
    local_day,
    missed_rep_room,
    recompute,
    to_iso,
    utc_now,
)
from repsense.core.history_schema import APPLICATION_ID, MIGRATIONS, statements
from repsense.errors import HistoryError

__all__ = [
    "MIGRATIONS",
    "History",
    "HistoryError",
    "RepRow",
    "SetRecord",
    "SetRow",
    "SetSummary",
    "recompute",
]

SQLITE_MAGIC = b"SQLite format 3\x00"
#: Two loads closer than this are the same load (kg): 225 lb stored as kg and read back must still match.
SAME_LOAD_KG = 0.01


#: Computes (advice_verdict, advice_text) for a corrected set; None keeps what was stored.
AdviceFn = Callable[["History", SetRow], tuple[str | None, str | None] | None]

_SET_COLUMNS = (
    "sets.id, sets.session_id, sessions.started_at, sessions.sensor, sessions.source, exercise, placement, load_kg, "
    "load_unit, plan_text, set_number, mode, target_reps, vl_threshold, stop_reason, stop_detail, stop_rep, reps, "
    "good_reps, best_mcv, vl_at_stop, advice_verdict, advice_text, recording_path, created_at, corrected_at, "
    "unseen_reps"
)
_REP_COLUMNS = "idx, t_start_s, t_end_s, mcv_m_s, peak_m_s, rom_m, velocity_loss, flags, counted, added_by_user"


def _not_a_database(path: Path) -> str:
    return f"history {path} is not an SQLite database; it was left untouched (use --db to choose another file)"


def _describe(path: Path, exc: sqlite3.Error, busy_timeout_s: float) -> str:
    """One line for the user about what went wrong with the history file."""
    name = getattr(exc, "sqlite_errorname", "")
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return (
            f"history {path} is locked by another program (waited {busy_timeout_s:g} s); "
            "close the other repsense or database tool and try again"
        )
    if name.startswith("SQLITE_NOTADB"):
        return _not_a_database(path)
    if name.startswith("SQLITE_CORRUPT"):
        return f"history {path} is damaged ({exc}); it was left untouched: restore it from a backup (docs/history.md)"
    if name.startswith("SQLITE_CANTOPEN"):
        return f"history {path} cannot be opened (missing folder or no permission)"
    if name.startswith("SQLITE_READONLY"):
        return f"history {path} is read-only: cannot save to it"
    if name.startswith("SQLITE_FULL"):
        return f"history {path}: the disk is full; nothing was saved"
    return f"history {path}: {exc}"


class History:
    """The training history in the SQLite file at ``path``; a context manager.

    ``create=False`` refuses a missing file instead of starting a new history. ``migrations`` is the schema's
    migration list (tests pass a longer one to rehearse an upgrade).
    """

    def __init__(
        self,
        path: Path,
        *,
        busy_timeout_s: float = 5.0,
        create: bool = True,
        migrations: Sequence[str] = MIGRATIONS,
    ) -> None:
        self.path = Path(path)
        self.busy_timeout_s = busy_timeout_s
        self._migrations = tuple(migrations)
        self._check_file(create)
        try:
            self._conn = sqlite3.connect(self.path, timeout=busy_timeout_s, isolation_level=None)
        except sqlite3.Error as exc:
            raise HistoryError(_describe(self.path, exc, busy_timeout_s)) from None
        try:
            with self._errors():
                self._open()
        except BaseException:
            self._conn.close()
            raise

    @property
    def schema_version(self) -> int:
        with self._errors():
            return int(self._conn.execute("PRAGMA user_version").fetchone()[0])

    def _check_file(self, create: bool) -> None:
        if self.path.is_dir():
            raise HistoryError(f"history {self.path} is a folder, not a file")
        if not self.path.exists():
            if not create:
                raise HistoryError(f"no history at {self.path} yet (save a set with replay --save or live)")
            if not self.path.parent.is_dir():
                raise HistoryError(f"history {self.path}: no such folder {self.path.parent}")
            return
        try:
            with self.path.open("rb") as f:
                head = f.read(len(SQLITE_MAGIC))
        except OSError as exc:
            raise HistoryError(f"history {self.path} cannot be read: {exc.strerror}") from None
        if head and head != SQLITE_MAGIC:
            raise HistoryError(_not_a_database(self.path))

    def _open(self) -> None:
        conn = self._conn
        conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_s * 1000)}")
        # Read-only checks first: nothing is written to a file that is damaged, foreign or too new.
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        app_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
        tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if app_id not in (0, APPLICATION_ID) or (app_id == 0 and tables > 0):
            raise HistoryError(f"history {self.path} is an SQLite database of another program; it was left untouched")
        if version > len(self._migrations):
            raise HistoryError(
                f"history {self.path} was written by a newer repsense (schema version {version}, this one knows "
                f"up to {len(self._migrations)}); upgrade repsense to use it"
            )
        problem = conn.execute("PRAGMA quick_check(1)").fetchone()[0]
        if problem != "ok":
            raise HistoryError(
                f"history {self.path} is damaged ({problem}); it was left untouched: restore it from a backup"
            )
        conn.execute("PRAGMA foreign_keys = ON")
        if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        self._migrate()

    def _migrate(self) -> None:
        """Apply the missing migrations, each with its ``user_version`` in one transaction."""
        conn = self._conn
        while int(conn.execute("PRAGMA user_version").fetchone()[0]) < len(self._migrations):
            with self._transaction():
                # Read again under the write lock: another process may have migrated meanwhile.
                version = int(conn.execute("PRAGMA user_version").fetchone()[0])
                if version >= len(self._migrations):
                    break
                for statement in statements(self._migrations[version]):
                    conn.execute(statement)
                if version == 0:
                    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                conn.execute(f"PRAGMA user_version = {version + 1}")

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:
            raise HistoryError(_describe(self.path, exc, self.busy_timeout_s)) from None

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: all of it is committed, or none of it."""
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing ---------------------------------------------------------------------------------------------------

    def save_set(self, record: SetRecord, *, session_id: int | None = None) -> int:
        """Store a set (and a new session for it unless ``session_id`` is given) in one transaction; its id."""
        reps, summary = recompute(record.reps)
        now = to_iso(utc_now())
        with self._errors(), self._transaction() as conn:
            if session_id is None:
                started = to_iso(record.started_at) if record.started_at is not None else now
                cur = conn.execute(
                    "INSERT INTO sessions (started_at, sensor, source) VALUES (?, ?, ?)",
                    (started, record.sensor, record.source),
                )
                session_id = cur.lastrowid
            cur = conn.execute(
                "INSERT INTO sets (session_id, exercise, placement, load_kg, load_unit, plan_text, set_number, mode, "
                "target_reps, vl_threshold, stop_reason, stop_detail, stop_rep, reps, good_reps, best_mcv, vl_at_stop, "
                "advice_verdict, advice_text, recording_path, created_at, unseen_reps) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    session_id,
                    record.exercise,
                    record.placement,
                    record.load_kg,
                    record.load_unit,
                    record.plan_text,
                    record.set_number,
                    record.mode,
                    record.target_reps,
                    record.vl_threshold,
                    record.stop_reason,
                    record.stop_detail,
                    record.stop_rep,
                    summary.rep_count,
                    summary.good_reps,
                    summary.best_mcv_m_s,
                    summary.vl_at_stop,
                    record.advice_verdict,
                    record.advice_text,
                    record.recording_path,
                    now,
                    record.unseen_reps,
                ),
            )
            set_id = cur.lastrowid
            assert set_id is not None
            conn.executemany(
                f"INSERT INTO reps (set_id, {_REP_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(set_id, *_rep_values(r)) for r in reps],
            )
        return set_id

    def correct(
        self,
        set_id: int,
        *,
        drop: Sequence[int] = (),
        restore: Sequence[int] = (),
        add: int = 0,
        advice: AdviceFn | None = None,
    ) -> SetRow:
        """Correct a set: ``drop`` reps (not counted), ``restore`` reps (counted again, also a rep after the stop),
        ``add`` missed reps (counted, no velocity; they settle as many of the reps a sensor gap hid; never past a fixed
        set's target, nor, in a set that stopped, more than the time before the stop has room for: ``missed_rep_room``;
        both are refused). A correction that changes no rep writes nothing and returns the set as it was. Velocity loss,
        good reps and the summary are recomputed and, if ``advice`` is given, the advice too; all in one
        transaction. The corrected set."""
        if add < 0:
            raise HistoryError("--add-rep must be at least 1")
        overlap = sorted(set(drop) & set(restore))
        if overlap:
            raise HistoryError(f"rep {overlap[0]} cannot be both dropped and restored")
        with self._errors(), self._transaction() as conn:
            row = self._get_set(set_id)
            known = {r.idx for r in row.reps}
            for idx in (*drop, *restore):
                if idx not in known:
                    have = f"reps 1-{max(known)}" if known else "no reps"
                    raise HistoryError(f"set {set_id} has no rep {idx} ({have})")
            top = max(known, default=0)
            reps = [
                replace(r, counted=False) if r.idx in drop else replace(r, counted=True) if r.idx in restore else r
                for r in row.reps
            ]
            if not add and all(r.counted == old.counted for r, old in zip(reps, row.reps, strict=True)):
                return row  # nothing to change (reps dropped already, or after the stop): the row is left as it was
            reps += [RepRow(top + k, None, None, None, None, None, None, (), True, True) for k in range(1, add + 1)]
            reps_now, summary = recompute(reps)
            target = row.target_reps
            if add and row.mode == "fixed" and target is not None and summary.rep_count > target:
                # A fixed set ends at its target: a rep past it would be a rep after the stop, which never counts.
                raise HistoryError(
                    f"set {set_id} is a fixed set of {target} reps: --add-rep {add} would count {summary.rep_count}, "
                    f"past its target; nothing was changed"
                )
            added_before = sum(r.added_by_user for r in row.reps)
            room = missed_rep_room(row.reps, row.stop_rep, row.unseen_reps + added_before)
            if add and room is not None and added_before + add > room:
                # An added rep was missed before the stop; one the time before the stop has no room for would have
                # come after it, and reps after the stop are not the set's.
                left = max(0, room - added_before)
                raise HistoryError(
                    f"set {set_id} stopped after rep {row.stop_rep}: the time before the stop leaves room for about "
                    f"{left} more missed rep{'' if left == 1 else 's'}, not {add}; reps after the stop do not count "
                    f"(--restore REP counts one the sensor saw); nothing was changed"
                )
            conn.execute("DELETE FROM reps WHERE set_id = ?", (set_id,))
            conn.executemany(
                f"INSERT INTO reps (set_id, {_REP_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(set_id, *_rep_values(r)) for r in reps_now],
            )
            conn.execute(
                "UPDATE sets SET reps = ?, good_reps = ?, best_mcv = ?, vl_at_stop = ?, corrected_at = ?, "
                "unseen_reps = ? WHERE id = ?",
                (
                    summary.rep_count,
                    summary.good_reps,
                    summary.best_mcv_m_s,
                    summary.vl_at_stop,
                    to_iso(utc_now()),
                    max(0, row.unseen_reps - add),
                    set_id,
                ),
            )
            corrected = self._get_set(set_id)
            if advice is not None:
                given = advice(self, corrected)
                if given is not None:
                    conn.execute("UPDATE sets SET advice_verdict = ?, advice_text = ? WHERE id = ?", (*given, set_id))
                    corrected = self._get_set(set_id)
        return corrected

    def backup(self, dest: Path) -> None:
        """Copy the whole history, consistently, to a new file ``dest`` (SQLite's online backup: safe while another
        repsense is writing), creating its folder when missing. Refuses to overwrite an existing file."""
        dest = Path(dest)
        if dest.exists():
            raise HistoryError(f"backup {dest} exists already: choose a new file name")
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)  # a dated backup into a new folder, as the docs show it
        except OSError as exc:
            raise HistoryError(f"backup {dest}: cannot create the folder {dest.parent} ({exc.strerror})") from None
        try:
            target = sqlite3.connect(dest)
        except sqlite3.Error as exc:
            raise HistoryError(_describe(dest, exc, self.busy_timeout_s)) from None
        try:
            with self._errors():
                self._conn.backup(target)
                target.execute("PRAGMA journal_mode = DELETE")  # one self-contained file, no -wal beside it
        finally:
            target.close()

    # -- reading ---------------------------------------------------------------------------------------------------

    def sets(
        self,
        exercise: str | None = None,
        since: dt.datetime | None = None,
        limit: int | None = None,
        *,
        until: dt.datetime | None = None,
        plan_text: str | None = None,
    ) -> list[SetRow]:
        """Stored sets with their reps, newest first (by the session's start, then by id)."""
        where, params = [], []
        if exercise is not None:
            where.append("exercise = ?")
            params.append(str(exercise))
        if since is not None:
            where.append("sessions.started_at >= ?")
            params.append(to_iso(since))
        if until is not None:
            where.append("sessions.started_at < ?")
            params.append(to_iso(until))
        if plan_text is not None:
            where.append("plan_text = ?")
            params.append(plan_text)
        sql = f"SELECT {_SET_COLUMNS} FROM sets JOIN sessions ON sessions.id = sets.session_id"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY sessions.started_at DESC, sets.id DESC"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        with self._errors():
            rows = self._conn.execute(sql, params).fetchall()
            return [self._with_reps(row) for row in rows]

    def get_set(self, set_id: int) -> SetRow:
        """One set with its reps; ``HistoryError`` when there is no such set."""
        with self._errors():
            return self._get_set(set_id)

    def endurance_number(self, exercise: str, load_kg: float, *, before: dt.datetime) -> int | None:
        """Beat last week's number: the good reps of the endurance set (a set of an ``endurance`` plan) of this lift
        and load on the most recent local day with one before ``before`` (the better one, when that day had two);
        None when there is none. Plain AMRAP sets at the load are not endurance sets and do not count."""
        with self._errors():
            rows = self._conn.execute(
                "SELECT sessions.started_at, good_reps FROM sets JOIN sessions ON sessions.id = sets.session_id "
                "WHERE exercise = ? AND abs(load_kg - ?) < ? AND plan_text LIKE 'endurance%' "
                "AND sessions.started_at < ? ORDER BY sessions.started_at DESC, sets.id DESC",
                (str(exercise), load_kg, SAME_LOAD_KG, to_iso(before)),
            ).fetchall()
        if not rows:
            return None
        day = local_day(from_iso(rows[0][0]))
        return max(int(good) for started, good in rows if local_day(from_iso(started)) == day)

    def endurance_day_best(
        self, exercise: str, load_kg: float, *, since: dt.datetime, before: dt.datetime, before_id: int | None = None
    ) -> int | None:
        """The day's number so far: the most good reps of the endurance sets of this lift and load that began from
        ``since`` (the day's midnight) and before ``before`` (the set's own start; a set that began at that very
        second counts when its id is below ``before_id``). None when there is none."""
        with self._errors():
            row = self._conn.execute(
                "SELECT max(good_reps) FROM sets JOIN sessions ON sessions.id = sets.session_id "
                "WHERE exercise = ? AND abs(load_kg - ?) < ? AND plan_text LIKE 'endurance%' "
                "AND sessions.started_at >= ? "
                "AND (sessions.started_at < ? OR (sessions.started_at = ? AND sets.id < ?))",
                (str(exercise), load_kg, SAME_LOAD_KG, to_iso(since), to_iso(before), to_iso(before), before_id or 0),
            ).fetchone()
        return None if row[0] is None else int(row[0])

    def profile_points(self, exercise: str) -> list[tuple[float, float]]:
        """``(load_kg, best MCV m/s)`` of every set of this lift with a load and a velocity, oldest first."""
        with self._errors():
            rows = self._conn.execute(
                "SELECT load_kg, best_mcv FROM sets JOIN sessions ON sessions.id = sets.session_id "
                "WHERE exercise = ? AND load_kg IS NOT NULL AND best_mcv IS NOT NULL "
                "ORDER BY sessions.started_at, sets.id",
                (str(exercise),),
            ).fetchall()
        return [(float(load), float(mcv)) for load, mcv in rows]

    def _get_set(self, set_id: int) -> SetRow:
        row = self._conn.execute(
            f"SELECT {_SET_COLUMNS} FROM sets JOIN sessions ON sessions.id = sets.session_id WHERE sets.id = ?",
            (set_id,),
        ).fetchone()
        if row is None:
            raise HistoryError(f"no set {set_id} in history {self.path}")
        return self._with_reps(row)

    def _with_reps(self, row: Sequence[Any]) -> SetRow:
        reps = self._conn.execute(
            f"SELECT {_REP_COLUMNS} FROM reps WHERE set_id = ? ORDER BY idx", (row[0],)
        ).fetchall()
        values = list(row)
        values[2] = from_iso(values[2])
        values[24] = from_iso(values[24])
        values[25] = None if values[25] is None else from_iso(values[25])
        values.append(tuple(_rep_row(r) for r in reps))
        return SetRow(*values)


def _rep_values(rep: RepRow) -> tuple[Any, ...]:
    return (
        rep.idx,
        rep.t_start_s,
        rep.t_end_s,
        rep.mean_velocity_m_s,
        rep.peak_velocity_m_s,
        rep.rom_m,
        rep.velocity_loss,
        ",".join(rep.flags),
        int(rep.counted),
        int(rep.added_by_user),
    )


def _rep_row(row: Sequence[Any]) -> RepRow:
    idx, t0, t1, mcv, peak, rom, vl, flags, counted, added = row
    return RepRow(idx, t0, t1, mcv, peak, rom, vl, tuple(f for f in flags.split(",") if f), bool(counted), bool(added))
