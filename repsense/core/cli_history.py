"""The history commands (``history``, ``export``, ``correct``, ``profile``), and saving sets from ``replay``/``live``.

Where the history lives: ``--db PATH``, else ``$REPSENSE_DB``, else ``$XDG_DATA_HOME/repsense/history.sqlite3``
(``~/.local/share/repsense/history.sqlite3`` without XDG). ``$REPSENSE_BUSY_TIMEOUT`` (seconds, default 5) is how long a
write waits for another program holding the database. See docs/history.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from rich.console import Console

from repsense.core.advice import Advice, unseen_in_set
from repsense.core.history import History
from repsense.core.history_advice import recompute_advice
from repsense.core.history_export import to_csv, to_json
from repsense.core.history_rows import SetRecord, local_midnight, recording_started, utc_now
from repsense.core.history_view import print_correction, print_history, print_profile, print_set
from repsense.core.loadvelocity import LOAD_RESOLUTION_KG, fit_profile
from repsense.core.plan import Load, Plan, SetSpec, WeightUnit, format_number
from repsense.core.session import SessionResult, parse_exercise
from repsense.core.view import make_console
from repsense.errors import ConfigError, HistoryError
from repsense.events import Exercise

DB_ENV = "REPSENSE_DB"
BUSY_ENV = "REPSENSE_BUSY_TIMEOUT"
DB_HELP = "the history database (default: $REPSENSE_DB, else $XDG_DATA_HOME/repsense/history.sqlite3)"


# -- where the history is -------------------------------------------------------------------------------------------


def data_dir() -> Path:
    """Where repsense keeps its data: ``$XDG_DATA_HOME/repsense`` (``~/.local/share/repsense`` without XDG)."""
    base = os.environ.get("XDG_DATA_HOME", "")
    root = Path(base) if os.path.isabs(base) else Path.home() / ".local" / "share"
    return root / "repsense"


def default_db_path() -> Path:
    """``$REPSENSE_DB``, else ``history.sqlite3`` in ``data_dir()``."""
    if os.environ.get(DB_ENV):
        return Path(os.environ[DB_ENV]).expanduser()
    return data_dir() / "history.sqlite3"


def default_recording_path(exercise: str, now: dt.datetime | None = None) -> Path:
    """A new recording for a live set: ``recordings/2026-11-24_181502_squat.csv`` in ``data_dir()``."""
    now = now or dt.datetime.now().astimezone()
    return data_dir() / "recordings" / f"{now:%Y-%m-%d_%H%M%S}_{exercise}.csv"


def db_path(args: argparse.Namespace) -> Path:
    db = getattr(args, "db", None)
    return Path(db).expanduser() if db is not None else default_db_path()


def busy_timeout_s() -> float:
    text = os.environ.get(BUSY_ENV, "5")
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"${BUSY_ENV} must be a number of seconds, got {text!r}") from None
    if not value >= 0:
        raise ConfigError(f"${BUSY_ENV} must not be negative, got {text!r}")
    return value


def open_history(args: argparse.Namespace, *, create: bool = False) -> History:
    """The history named by ``args``; ``create`` starts one (and the default folder) when there is none."""
    path = db_path(args)
    if create and getattr(args, "db", None) is None and not os.environ.get(DB_ENV):
        path.parent.mkdir(parents=True, exist_ok=True)
    return History(path, create=create, busy_timeout_s=busy_timeout_s())


def add_db_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", type=Path, metavar="PATH", help=DB_HELP)


def add_save_options(p: argparse.ArgumentParser, *, default_save: bool) -> None:
    """``replay``: ``--save``; ``live`` (saves by default): ``--no-save``. Both: ``--db``."""
    if default_save:
        p.add_argument("--no-save", action="store_true", help="do not store the set in the history")
    else:
        p.add_argument("--save", action="store_true", help="store the set in the history")
    add_db_option(p)


# -- saving a set ---------------------------------------------------------------------------------------------------


def save_result(
    args: argparse.Namespace,
    result: SessionResult,
    out: Console,
    *,
    metadata: Mapping[str, Any] | None = None,
    plan: Plan | None = None,
    spec: SetSpec | None = None,
    advice: Advice | None = None,
    load: Load | None = None,
    recording_path: Path | str | None = None,
) -> int | None:
    """Store a replayed or live set, when the command asks for it (``--save``, or ``live`` without ``--no-save``).

    ``load`` is the load used (default: the plan's for this set); ``metadata`` the recording's (its ``sensor`` and
    ``started`` time). Says where it went on stdout, or on stderr with ``--json``. The new set id, or None.
    """
    say = make_console(stderr=True) if getattr(args, "json", False) else out
    unseen = unseen_in_set(result)
    if not getattr(args, "save", False) and (not hasattr(args, "no_save") or args.no_save):
        if unseen and hasattr(args, "save"):
            say.print(
                f"{_unseen_words(unseen)}: to count {'it' if unseen == 1 else 'them'}, replay with --save, then "
                f"repsense correct ID --add-rep {unseen} with the id it prints",
                markup=False,
                soft_wrap=True,
            )
        return None
    # A set is its counted reps: those up to the stop. A failed attempt before the first rep ends the set with none,
    # however many reps the recording goes on with.
    counted = len(result.reps) if result.stop is None else min(result.stop.rep, len(result.reps))
    if not counted:
        why = (
            ""
            if result.stop is None or not result.reps
            else f" (the set ended before its first rep: {result.stop.reason})"
        )
        say.print(f"history: no rep counted{why}, nothing saved", markup=False, soft_wrap=True)
        return None
    metadata = metadata or {}
    if load is None and spec is not None:
        load = spec.load
    started = recording_started(metadata)
    record = SetRecord.from_result(
        result,
        load_kg=None if load is None else load.kg,
        load_unit=None if load is None else str(load.unit),
        plan_text=None if plan is None else plan.text,
        set_number=None if spec is None else spec.number,
        advice_verdict=None if advice is None else str(advice.verdict),
        advice_text=None if advice is None else advice.text,
        recording_path=None if recording_path is None else str(Path(recording_path).resolve()),
        started_at=started,
        sensor=str(metadata.get("sensor", "")),
    )
    if spec is not None and spec.target_reps is not None:
        record = replace(record, target_reps=spec.target_reps)
    try:
        with open_history(args, create=True) as history:
            set_id = history.save_set(record)
    except HistoryError as exc:
        later = f" (replay {record.recording_path} --save later)" if record.recording_path else ""
        raise HistoryError(f"{exc}; the set was not saved{later}") from None
    say.print(f"saved as set {set_id} in {history.path}", markup=False, soft_wrap=True)
    if unseen:
        say.print(
            f"{_unseen_words(unseen)}: if you made {'it' if unseen == 1 else 'them'}, "
            f"repsense correct {set_id} --add-rep {unseen} counts {'it' if unseen == 1 else 'them'} "
            "and works the advice out again",
            markup=False,
            soft_wrap=True,
        )
    return set_id


def _unseen_words(unseen: int) -> str:
    return f"about {unseen} rep{'' if unseen == 1 else 's'} of the set went unseen in a sensor gap"


def _history_if_any(args: argparse.Namespace) -> History | None:
    """The history for a look-up that must not fail a set: None when there is none or it cannot be used."""
    path = db_path(args)
    if not path.is_file():
        return None
    try:
        return History(path, create=False, busy_timeout_s=min(busy_timeout_s(), 1.0))
    except HistoryError:
        return None


def default_set_number(args: argparse.Namespace, plan: Plan, started: dt.datetime | None = None) -> int:
    """Which set of ``plan`` comes next: one after the highest set of it saved on the set's own day (for
    ``--exercise`` when given); 1 when none is, when all are done, or without a usable history. ``started``: when
    the set was done, a replayed recording's start (only sets of its day that began before it count, so replaying
    last week's files in order reaches the plan's last set); None: now, and the sets saved today."""
    history = _history_if_any(args)
    if history is None:
        return 1
    exercise = (getattr(args, "exercise", None) or "").strip().lower() or None
    try:
        with history:
            rows = history.sets(exercise=exercise, since=local_midnight(started), until=started, plan_text=plan.text)
    except HistoryError:
        return 1
    done = max((r.set_number or 0 for r in rows), default=0)
    return done + 1 if done < len(plan.sets) else 1


def previous_best(
    args: argparse.Namespace, exercise: Exercise, spec: SetSpec, started: dt.datetime | None = None
) -> int | None:
    """Beat last week's number: the good reps of the endurance set at this lift and the set's load on the most
    recent day before the set's own day (``started``: a replayed recording's start; None: now). None the first time,
    without a load, or without a usable history."""
    if spec.load is None:
        return None
    return number_to_beat(args, str(exercise), spec.load.kg, started)


def number_to_beat(
    args: argparse.Namespace, exercise: str, load_kg: float, started: dt.datetime | None = None
) -> int | None:
    """The number from the most recent earlier day's endurance set for this lift and load (see
    ``History.endurance_number``); None if there is none. (The number to reach today is one more.)"""
    history = _history_if_any(args)
    if history is None:
        return None
    try:
        with history:
            return history.endurance_number(str(exercise), load_kg, before=local_midnight(started))
    except HistoryError:
        return None


def endurance_numbers(
    args: argparse.Namespace, exercise: Exercise, spec: SetSpec, started: dt.datetime | None = None
) -> tuple[int | None, int | None]:
    """For an endurance set: last week's number (``previous_best``) and the day's number so far, the most good reps
    of the endurance sets at this lift and load earlier on the set's own day (``started``: a replayed recording's
    start, only sets that began before it; None: now). Each None when there is none, and both without a load."""
    if spec.load is None:
        return None, None
    previous = number_to_beat(args, str(exercise), spec.load.kg, started)
    history = _history_if_any(args)
    if history is None:
        return previous, None
    try:
        with history:
            day = history.endurance_day_best(
                str(exercise), spec.load.kg, since=local_midnight(started), before=started or utc_now()
            )
    except HistoryError:
        day = None
    return previous, day


# -- the commands ---------------------------------------------------------------------------------------------------


def add_history_commands(sub: Any) -> None:
    """Add ``history``, ``export``, ``correct`` and ``profile`` to the ``repsense`` subcommands."""
    p = sub.add_parser("history", help="list the sets stored in the history")
    _add_filters(p)
    p.add_argument("--set", type=int, dest="set_id", metavar="ID", help="show one set with its reps")
    add_db_option(p)

    p = sub.add_parser("export", help="write the history (or a filter of it) as CSV or JSON")
    p.add_argument("--format", choices=["csv", "json"], required=True, help="csv or json")
    p.add_argument("--per", choices=["rep", "set"], default="rep", help="CSV: one row per rep (default) or per set")
    p.add_argument("--out", type=Path, metavar="FILE", help="write to FILE (default: standard output)")
    _add_filters(p)
    add_db_option(p)

    p = sub.add_parser("correct", help="correct a stored set: drop a rep, count a missed one")
    p.add_argument("set_id", type=int, metavar="SET", help="the set id, as `repsense history` shows it")
    p.add_argument("--drop", type=int, action="append", default=[], metavar="REP", help="this rep does not count")
    p.add_argument(
        "--restore", type=int, action="append", default=[], metavar="REP", help="count this rep again (also after stop)"
    )
    p.add_argument(
        "--add-rep", type=int, nargs="?", const=1, default=0, metavar="N", help="count N missed reps (1), no velocity"
    )
    add_db_option(p)

    p = sub.add_parser("backup", help="copy the history to a new file, safely even while repsense is running")
    p.add_argument("out", type=Path, metavar="FILE", help="the new file (never overwritten)")
    add_db_option(p)

    p = sub.add_parser("profile", help="load-velocity profile and e1RM of a lift, from the history")
    p.add_argument("exercise", metavar="LIFT", help="the lift")
    p.add_argument("--unit", choices=["kg", "lb"], help="loads in kg or lb (default: the unit of the latest set)")
    add_db_option(p)


def _add_filters(p: argparse.ArgumentParser) -> None:
    p.add_argument("--exercise", metavar="LIFT", help="only this lift")
    p.add_argument("--since", metavar="DATE", help="only sets from DATE on: 2025-03-01, 2025-03-01T18:00, 7d or 4w")
    p.add_argument("--limit", type=int, metavar="N", help="only the N newest sets")


def parse_since(text: str, now: dt.datetime | None = None) -> dt.datetime:
    """A date (local midnight), a local date and time, or ``Nd`` / ``Nw`` days or weeks before today's midnight."""
    text = text.strip()
    if m := re.fullmatch(r"(\d+)\s*([dw])", text.lower()):
        days = int(m[1]) * (7 if m[2] == "w" else 1)
        start = (now or dt.datetime.now().astimezone()).replace(hour=0, minute=0, second=0, microsecond=0)
        return start - dt.timedelta(days=days)
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"--since {text!r}: expected a date like 2025-03-01, a date and time, or 7d / 4w") from None
    return moment if moment.tzinfo is not None else moment.astimezone()


def _filters(args: argparse.Namespace) -> dict[str, Any]:
    if args.limit is not None and args.limit < 1:
        raise ConfigError("--limit must be at least 1")
    return {
        "exercise": None if args.exercise is None else str(parse_exercise(args.exercise, "--exercise")),
        "since": None if args.since is None else parse_since(args.since),
        "limit": args.limit,
    }


def cmd_history(args: argparse.Namespace, out: Console) -> int:
    path = db_path(args)
    if not path.exists():
        out.print(
            f"no history yet at {path}: save sets with `repsense replay FILE --save` or `repsense live`",
            markup=False,
            soft_wrap=True,
        )
        return 0
    filters = _filters(args)
    with open_history(args) as history:
        if args.set_id is not None:
            print_set(out, history.get_set(args.set_id))
            return 0
        rows = history.sets(**filters)
    if not rows:
        out.print("no sets match" if any(filters.values()) else f"no sets in {path} yet", markup=False, soft_wrap=True)
        return 0
    print_history(out, rows, path)
    return 0


def cmd_export(args: argparse.Namespace, out: Console) -> int:
    filters = _filters(args)
    if args.out is not None and not args.out.parent.is_dir():
        raise ConfigError(f"--out {args.out}: no such folder {args.out.parent}")
    with open_history(args) as history:
        rows = history.sets(**filters)[::-1]  # oldest first: the order a spreadsheet or a script expects
        version = history.schema_version
    text = to_json(rows, version, utc_now()) if args.format == "json" else to_csv(rows, per=args.per)
    if args.out is None:
        sys.stdout.write(text)
        return 0
    try:
        args.out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"--out {args.out}: {exc.strerror}") from None
    out.print(f"wrote {len(rows)} sets to {args.out}", markup=False, soft_wrap=True)
    return 0


def cmd_correct(args: argparse.Namespace, out: Console) -> int:
    if not (args.drop or args.restore or args.add_rep):
        raise ConfigError("say what to correct: --drop REP, --restore REP or --add-rep [N]")
    if args.add_rep < 0:
        raise ConfigError("--add-rep must be at least 1")
    with open_history(args) as history:
        before = history.get_set(args.set_id)
        after = history.correct(
            args.set_id, drop=args.drop, restore=args.restore, add=args.add_rep, advice=recompute_advice
        )
    print_correction(out, before, after, args.drop)
    return 0


def cmd_backup(args: argparse.Namespace, out: Console) -> int:
    with open_history(args) as history:
        history.backup(args.out)
        count = len(history.sets())
    out.print(f"backed up {count} sets from {history.path} to {args.out}", markup=False, soft_wrap=True)
    return 0


def load_texts(history: History, exercise: str) -> Callable[[float], str]:
    """Loads of this lift's sets as the lifter gave them (``225 lb``, not ``102.06 kg``): a load in kg to its text in
    the unit of the latest set at that load; any other load in kg."""
    texts: dict[int, str] = {}
    for row in history.sets(exercise=exercise):  # newest first: the latest set's unit wins
        if row.load_kg is not None:
            texts.setdefault(round(row.load_kg / LOAD_RESOLUTION_KG), row.load_text)

    def show(load_kg: float) -> str:
        return texts.get(round(load_kg / LOAD_RESOLUTION_KG)) or f"{format_number(round(load_kg, 2))} kg"

    return show


def cmd_profile(args: argparse.Namespace, out: Console) -> int:
    exercise = parse_exercise(args.exercise, "profile")
    with open_history(args) as history:
        points = history.profile_points(str(exercise))
        latest = history.sets(exercise=str(exercise), limit=1)
        show = load_texts(history, str(exercise))
    profile = fit_profile(points, exercise, show)
    unit = WeightUnit(args.unit or (latest[0].load_unit if latest and latest[0].load_unit else "kg"))
    print_profile(out, profile, unit)
    return 0


HISTORY_COMMANDS: dict[str, Callable[[argparse.Namespace, Console], int]] = {
    "history": cmd_history,
    "export": cmd_export,
    "correct": cmd_correct,
    "backup": cmd_backup,
    "profile": cmd_profile,
}
