"""The history's file format: the SQL schema, versioned by ``PRAGMA user_version``, and its migrations.

``MIGRATIONS[n - 1]`` brings a database from schema version ``n - 1`` to ``n``. ``History`` runs each missing one with
its new ``user_version`` in one transaction, so a database is always at a whole version. To change the schema, append
one script (for example ``"ALTER TABLE sets ADD COLUMN rpe REAL;"``); never edit one that has been released.
docs/history.md describes every column.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

#: ``PRAGMA application_id`` of a repsense history: "RPSH".
APPLICATION_ID = 0x52505348

_V1 = """
CREATE TABLE sessions (
    id          INTEGER PRIMARY KEY,
    started_at  TEXT NOT NULL,
    sensor      TEXT NOT NULL DEFAULT '',
    source      TEXT NOT NULL DEFAULT ''
);
CREATE TABLE sets (
    id              INTEGER PRIMARY KEY,
    session_id      INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    exercise        TEXT NOT NULL,
    placement       TEXT NOT NULL DEFAULT 'bar',
    load_kg         REAL CHECK (load_kg IS NULL OR load_kg >= 0),
    load_unit       TEXT CHECK (load_unit IS NULL OR load_unit IN ('kg', 'lb')),
    plan_text       TEXT,
    set_number      INTEGER CHECK (set_number IS NULL OR set_number >= 1),
    mode            TEXT NOT NULL,
    target_reps     INTEGER,
    vl_threshold    REAL,
    stop_reason     TEXT,
    stop_detail     TEXT NOT NULL DEFAULT '',
    stop_rep        INTEGER,
    reps            INTEGER NOT NULL,
    good_reps       INTEGER NOT NULL,
    best_mcv        REAL,
    vl_at_stop      REAL,
    advice_verdict  TEXT,
    advice_text     TEXT,
    recording_path  TEXT,
    created_at      TEXT NOT NULL,
    corrected_at    TEXT
);
CREATE INDEX sets_by_session ON sets(session_id);
CREATE INDEX sets_by_exercise ON sets(exercise, created_at);
CREATE TABLE reps (
    set_id          INTEGER NOT NULL REFERENCES sets(id) ON DELETE CASCADE,
    idx             INTEGER NOT NULL CHECK (idx >= 1),
    t_start_s       REAL,
    t_end_s         REAL,
    mcv_m_s         REAL,
    peak_m_s        REAL,
    rom_m           REAL,
    velocity_loss   REAL,
    flags           TEXT NOT NULL DEFAULT '',
    counted         INTEGER NOT NULL DEFAULT 1 CHECK (counted IN (0, 1)),
    added_by_user   INTEGER NOT NULL DEFAULT 0 CHECK (added_by_user IN (0, 1)),
    PRIMARY KEY (set_id, idx)
) WITHOUT ROWID;
"""

#: Version 2: reps a sensor gap hid, by the set's rhythm (``UnseenRepsEvent``); never counted as reps.
_V2 = """
ALTER TABLE sets ADD COLUMN unseen_reps INTEGER NOT NULL DEFAULT 0 CHECK (unseen_reps >= 0);
"""

#: Migration n brings schema version n - 1 to n. Append to change the schema; never edit a released entry.
MIGRATIONS: tuple[str, ...] = (_V1, _V2)


def statements(script: str) -> Iterator[str]:
    """The SQL statements of a script, one at a time (so they can run inside our own transaction)."""
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            yield buffer.strip()
            buffer = ""
    if buffer.strip():
        yield buffer.strip()
