"""The export formats of the history: JSON (sets with their reps) and CSV (one row per rep, or one per set).

Pure: stored sets in, text out. Numbers are written in full (Python's shortest round-trip form), so reading an
export back gives exactly the stored values. docs/history.md describes the columns.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from repsense.core.history_rows import RepRow, SetRow, to_iso

FORMAT_NAME = "repsense-history"
FORMAT_VERSION = 1

#: The set columns of both CSV layouts, in order (as in ``SetRow.to_dict``).
SET_FIELDS = (
    "id",
    "session_id",
    "started_at",
    "sensor",
    "source",
    "exercise",
    "placement",
    "load_kg",
    "load_unit",
    "plan_text",
    "set_number",
    "mode",
    "target_reps",
    "vl_threshold",
    "stop_reason",
    "stop_detail",
    "stop_rep",
    "reps",
    "good_reps",
    "best_mcv",
    "vl_at_stop",
    "advice_verdict",
    "advice_text",
    "recording_path",
    "created_at",
    "corrected_at",
    "unseen_reps",
)
#: The rep columns of the per-rep CSV, after the set columns, each prefixed ``rep_``.
REP_FIELDS = tuple(f"rep_{k}" for k in RepRow(0, None, None, None, None, None, None).to_dict())


def to_json(rows: Sequence[SetRow], schema_version: int, exported_at: Any) -> str:
    """``{"format", "version", "schema_version", "exported_at", "sets": [set with "rep_rows": [...]]}``."""
    document = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "schema_version": schema_version,
        "exported_at": to_iso(exported_at),
        "sets": [row.to_dict() for row in rows],
    }
    return json.dumps(document, indent=2, allow_nan=False) + "\n"


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    return value


def to_csv(rows: Sequence[SetRow], *, per: str = "rep") -> str:
    """One row per rep, the set's columns repeated (``per="rep"``; a set without reps still gets a row), or one row
    per set (``per="set"``). Empty cells are None; rep flags are joined with ``;``; booleans are 1 or 0."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(SET_FIELDS + (REP_FIELDS if per == "rep" else ()))
    for row in rows:
        data = row.to_dict()
        cells = [_cell(data[k]) for k in SET_FIELDS]
        if per != "rep":
            writer.writerow(cells)
            continue
        for rep in row.reps or (None,):
            rep_cells = [""] * len(REP_FIELDS) if rep is None else [_cell(v) for v in rep.to_dict().values()]
            writer.writerow(cells + rep_cells)
    return buffer.getvalue()
