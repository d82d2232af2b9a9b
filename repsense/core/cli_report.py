"""``repsense report SET|FILE [--out report.html] [--png DIR_OR_FILE] [--db PATH]``: a set as an HTML page and figures.

SET is a set id from the history; FILE a recording, replayed through the live pipeline with the usual set options.
This module does the I/O (reading the recording and the history, writing the files); ``repsense.core.report`` and
``repsense.core.report_figures`` turn what was read into text and figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from repsense import __version__
from repsense.core.history_rows import STARTED_KEYS, recording_started
from repsense.core.report import (
    SetReport,
    VerticalTrace,
    report_from_session,
    report_from_set_row,
    trend_points,
    vertical_trace,
)
from repsense.errors import ConfigError, RepsenseError
from repsense.events import Exercise, Placement

if TYPE_CHECKING:
    from repsense.core.history import History

FIGURE_FILE = "report-{name}.png"


def add_report_command(subparsers: Any) -> None:
    """Add the ``report`` subcommand to the parser's subparsers (``argparse._SubParsersAction``)."""
    from repsense.core.cli import _add_set_options
    from repsense.core.cli_history import add_db_option
    from repsense.core.cli_plan import add_plan_options

    p = subparsers.add_parser(
        "report",
        help="write a report of a set (HTML with figures, or PNGs): a history set id or a recording",
        description=(
            "Report one set for someone who was not there: lift, date, load, reps and good reps, why the set "
            "stopped, advice, a table of reps and figures (velocity per rep, the acceleration trace, trends for "
            "the lift). SET is a set id from the history (a number; write ./12 for a file named 12); FILE is a "
            "recording, replayed with the set options below (they do not apply to SET)."
        ),
    )
    p.add_argument("target", metavar="SET|FILE", help="a history set id, or a recording file")
    p.add_argument("--out", type=Path, metavar="FILE", help="write the HTML report (self-contained) to FILE")
    p.add_argument(
        "--png",
        type=Path,
        metavar="DIR|FILE",
        help="write the figures as PNG: into a folder as report-velocity.png, report-trace.png, report-trends.png; "
        "or to one FILE.png, one below the other",
    )
    _add_set_options(p, set_default="1: a report comes after the set")
    # The set options may come to include these; add them only where they do not.
    options = {option for action in p._actions for option in action.option_strings}
    if "--plan" not in options:
        add_plan_options(p, set_default="1: a report comes after the set")
    if "--db" not in options:
        add_db_option(p)


def cmd_report(args: argparse.Namespace, console: Console) -> int:
    from repsense.core.report_figures import figures, png_bytes
    from repsense.core.report_html import render_html

    if args.out is None and args.png is None:
        raise ConfigError("say where to write the report: --out FILE.html and/or --png DIR_OR_FILE")
    if args.out is not None:
        _check_folder(args.out, "--out")
    if args.png is not None and not args.png.is_dir():
        _check_folder(args.png, "--png")
    target = str(args.target)
    report = _history_report(args, int(target)) if target.isdigit() else _file_report(args, Path(target))
    made = figures(report)
    pngs = {name: png_bytes(fig) for name, fig in made.items()}
    written: list[Path] = []
    if args.out is not None:
        args.out.write_text(render_html(report, pngs, generated_by=f"repsense {__version__}"), encoding="utf-8")
        written.append(args.out)
    if args.png is not None:
        written.extend(_write_pngs(args.png, pngs))
    for path in written:
        console.print(str(path), markup=False, soft_wrap=True)
    return 0


def _check_folder(path: Path, option: str) -> None:
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise ConfigError(f"{option} {path}: no such folder {parent}")
    if path.is_dir():
        raise ConfigError(f"{option} {path} is a folder; give a file name")


def _write_pngs(where: Path, pngs: dict[str, bytes]) -> list[Path]:
    """A ``.png`` file gets the figures one below the other; anything else is a folder (made if need be)."""
    from repsense.core.report_figures import stack_pngs

    if not pngs:
        raise ConfigError("no figures to write: the set has no reps and no recording")
    if where.suffix.lower() == ".png" and not where.is_dir():
        where.write_bytes(stack_pngs(list(pngs.values())))
        return [where]
    where.mkdir(exist_ok=True)
    paths = []
    for name, data in pngs.items():
        path = where / FIGURE_FILE.format(name=name)
        path.write_bytes(data)
        paths.append(path)
    return paths


def _trends(history: History, exercise: str, unit: str | None) -> dict[str, Any]:
    """The trends fields of a ``SetReport``: the history's sets of this lift and its load-velocity profile."""
    from repsense.core.advice import e1rm_epley
    from repsense.core.cli_history import load_texts
    from repsense.core.loadvelocity import fit_profile

    fields: dict[str, Any] = {
        "trends": trend_points(history.sets(exercise=exercise), e1rm_epley),
        "trend_unit": unit or "kg",
    }
    show = load_texts(history, exercise)
    try:
        profile = fit_profile(history.profile_points(exercise), Exercise(exercise), show)
    except ValueError:
        return fields  # a lift this repsense does not know: no profile
    except ConfigError as exc:
        fields["trend_note"] = f"No load-velocity profile yet: {exc}."
        return fields
    fields["trend_note"] = f"Load-velocity profile for {profile.describe(show)}."
    fields["profile_e1rm_kg"] = profile.e1rm_kg
    return fields


#: Set options that mean nothing for a stored set (it is reported as it was saved).
_FILE_ONLY = ("exercise", "placement", "mode", "reps", "plan", "set", "load", "beginner")


def _history_report(args: argparse.Namespace, set_id: int) -> SetReport:
    from repsense.core.cli_history import open_history

    given = [f"--{name}" for name in _FILE_ONLY if getattr(args, name, None) not in (None, False)]
    if given:
        raise ConfigError(
            f"{', '.join(given)}: set options apply to a recording FILE; set {set_id} is reported as saved"
        )
    with open_history(args, create=False) as history:
        row = history.get_set(set_id)
        extra = _trends(history, row.exercise, row.load_unit)
    trace: VerticalTrace | None = None
    note = None
    if not row.recording_path:
        note = "This set was saved without a recording, so there is no acceleration trace."
    elif not Path(row.recording_path).is_file():
        note = f"The recording {row.recording_path} is no longer there, so there is no acceleration trace."
    else:
        from repsense.firmware_bridge.vendor_files import load_any

        try:
            recording = load_any(Path(row.recording_path))
            trace = vertical_trace(recording.samples, Exercise(row.exercise), Placement(row.placement))
        except (RepsenseError, ValueError) as exc:
            note = f"The recording {row.recording_path} could not be read ({exc}), so there is no acceleration trace."
    return report_from_set_row(row, trace=trace, trace_note=note, **extra)


def _file_report(args: argparse.Namespace, path: Path) -> SetReport:
    from repsense.core.advice import good_reps
    from repsense.core.cli_history import db_path, endurance_numbers, open_history
    from repsense.core.cli_plan import check_plan_options, choose_set, recording_load, set_advice
    from repsense.core.history_rows import recording_started
    from repsense.core.session import SetSession, lift_from_metadata, replay
    from repsense.firmware_bridge.vendor_files import load_any

    check_plan_options(args)
    recording = load_any(path)
    exercise, placement = lift_from_metadata(recording.metadata, args.exercise, args.placement)
    # A report comes after the set: without --set it is the plan's first set (not "the next one" as in a replay).
    choice = choose_set(
        args,
        exercise,
        lambda _args, _plan, _started: 1,
        endurance_numbers,
        started=recording_started(recording.metadata),
        recorded_load=recording_load(recording.metadata),
    )
    result = replay(recording.samples, SetSession(exercise, placement, choice.config, source=str(path)))
    advice = set_advice(choice, result)
    details: dict[str, Any] = {"good_reps": good_reps(result)}
    details["when"], details["when_note"] = _recording_date(recording.metadata, path)
    if choice.load is not None:  # --load, else the plan's, else the recording's
        details["load_kg"], details["load_text"] = choice.load.kg, str(choice.load)
    if choice.plan is not None and choice.spec is not None:
        details["plan_text"], details["set_number"] = choice.plan.text, choice.spec.number
    if advice is not None:
        details["advice"] = advice.text
    notes = [f"Note: {w}." for w in choice.warnings]
    if recording.truncated_last_line:
        notes.append("The last line of the recording was incomplete and was skipped.")
    if recording.metadata.get("import_notes"):
        notes.append(f"Import: {recording.metadata['import_notes']}")
    details["notes"] = tuple(notes)
    if db_path(args).is_file():
        # Trends only from a history that exists: a report never creates one.
        with open_history(args, create=False) as history:
            unit = None if choice.load is None else str(choice.load.unit)
            details.update(_trends(history, str(exercise), unit))
    return report_from_session(result, trace=vertical_trace(recording.samples, exercise, placement), **details)


def _recording_date(metadata: dict[str, str], path: Path) -> tuple[str | None, str]:
    """The date of a recording: its ``started``/``start_time`` metadata, else the file's modification time."""
    from repsense.core.report import when_text

    started = recording_started(metadata)
    if started is not None:
        return when_text(started), ""
    text = next((metadata[key] for key in STARTED_KEYS if metadata.get(key)), None)
    if text:
        return text, ""  # a date it could not read: shown as written
    moment = dt.datetime.fromtimestamp(path.stat().st_mtime, tz=dt.UTC)
    return when_text(moment), "from the file (the recording does not say when it was made)"
