"""The history in the terminal: the table of sets, one set with its reps, a correction, a load-velocity profile.

Rendering only: it is handed stored sets and draws them. Dates are shown in local time (the file stores UTC).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from pathlib import Path

from rich import box
from rich.console import Console
from rich.table import Table

from repsense.core.history_rows import SetRow, set_order
from repsense.core.loadvelocity import LoadVelocityProfile
from repsense.core.percent import loss_text
from repsense.core.plan import Load, WeightUnit, format_number


def _local(moment: dt.datetime) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")


def _pct(value: float | None) -> str:
    return "" if value is None else loss_text(value)


def _vl_at_stop(row: SetRow) -> str:
    """The velocity loss at the stop, or a dash for a set that never stopped (its last rep's loss stopped nothing)."""
    return _pct(row.vl_at_stop) if row.stop_rep is not None and row.vl_at_stop is not None else "-"


def _mcv(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def _best_mcv(row: SetRow) -> str:
    """The set's best MCV; from a wrist sensor it is an estimate, marked "~"."""
    text = _mcv(row.best_mcv_m_s)
    return f"~{text}" if text and row.placement == "wrist" else text


def _plan_cell(row: SetRow) -> str:
    if row.plan_text:
        return row.plan_text + ("" if row.set_number is None else f" #{row.set_number}")
    return f"fixed {row.target_reps}" if row.mode == "fixed" else row.mode.upper()


def _rep_status(row: SetRow, idx: int, counted: bool, added: bool) -> str:
    if added:
        return "added by hand"
    if counted:
        return "counted"
    return "after the stop" if row.stop_rep is not None and idx > row.stop_rep else "dropped"


def print_set(out: Console, row: SetRow) -> None:
    """One set: what it was, its counts and advice, and every rep with whether it counts."""
    load = f" at {row.load_text}" if row.load_text else ""
    out.print(f"set {row.id}: {row.exercise}{load}, {_plan_cell(row)}, {_local(row.started_at)}", markup=False)
    stop = f"stopped after rep {row.stop_rep}: {row.stop_detail or row.stop_reason}" if row.stop_rep else "no stop"
    out.print(
        f"{row.rep_count} reps, {row.good_reps} good; best MCV {_best_mcv(row) or '-'} m/s, "
        f"VL at stop {_vl_at_stop(row)}; {stop}",
        markup=False,
    )
    if row.advice_text:
        out.print(f"advice: {row.advice_text}", markup=False)
    if row.corrected_at:
        out.print(f"corrected by hand on {_local(row.corrected_at)}", markup=False)
    if row.unseen_reps:
        out.print(f"about {row.unseen_reps} more made in a sensor gap: unseen, not counted", markup=False)
        out.print(f"  if you made them: repsense correct {row.id} --add-rep {row.unseen_reps}", markup=False)
    table = Table(box=box.SIMPLE_HEAD)
    for name in ("rep", "MCV m/s", "peak m/s", "ROM m", "VL", "flags", ""):
        table.add_column(name, justify="left" if name in ("flags", "") else "right")
    for rep in set_order(row.reps, row.stop_rep):  # reps added by hand were missed before the stop
        table.add_row(
            str(rep.idx),
            _mcv(rep.mean_velocity_m_s),
            _mcv(rep.peak_velocity_m_s),
            _mcv(rep.rom_m),
            _pct(rep.velocity_loss),
            " ".join(rep.flags),
            _rep_status(row, rep.idx, rep.counted, rep.added_by_user),
        )
    _print_table(out, table)


def _print_table(out: Console, table: Table, width: int | None = None) -> None:
    """A table; into a file or a pipe, at ``width`` and without the spaces rich pads every line with to the full
    width (a piped table was ~200 columns of mostly blanks, which ``grep``, ``diff`` and editors show)."""
    if out.is_terminal:
        out.print(table)
        return
    console = Console(file=io.StringIO(), width=width or out.width, highlight=False, color_system=None)
    console.print(table)
    text = console.file.getvalue()  # type: ignore[attr-defined]
    out.file.write("".join(line.rstrip() + "\n" for line in text.splitlines()))


def print_history(out: Console, rows: list[SetRow], path: Path) -> None:
    """The table of sets, as ``repsense history`` shows it."""
    table = Table(title=f"History ({path})", title_justify="left", box=box.SIMPLE_HEAD)
    for name, right in [
        ("set", True),
        ("date", False),
        ("lift", False),
        ("load", True),
        ("plan / set", False),
        ("reps/good", True),
        ("best MCV", True),
        ("VL at stop", True),
    ]:
        table.add_column(name, justify="right" if right else "left", no_wrap=name != "plan / set")
    table.add_column("advice", min_width=20)
    for row in rows:
        table.add_row(
            str(row.id),
            _local(row.started_at),
            row.exercise,
            row.load_text,
            _plan_cell(row),
            f"{row.rep_count}/{row.good_reps}" + ("*" if row.corrected_at else ""),
            _best_mcv(row),
            _vl_at_stop(row),
            row.advice_text or "",
        )
    # A terminal sets the width; into a file or a pipe, lines may be long rather than wrapped into a column of words.
    _print_table(out, table, width=max(out.width, 160))
    if any(r.corrected_at for r in rows):
        out.print("* corrected by hand (repsense correct)")
    if any(r.placement == "wrist" and r.best_mcv_m_s is not None for r in rows):
        out.print("~ estimated from a wrist sensor")


def _reps_words(idxs: list[int]) -> str:
    return f"rep {idxs[0]}" if len(idxs) == 1 else "reps " + ", ".join(str(i) for i in idxs)


def _uncounted_words(before: SetRow, dropped: Sequence[int]) -> str | None:
    """One line on reps asked to be dropped that did not count before either (after the stop, or dropped already),
    so that "reps 6 -> 6" is not read as a correction that failed; None if there are none."""
    status = {rep.idx: _rep_status(before, rep.idx, rep.counted, rep.added_by_user) for rep in before.reps}
    already = sorted({i for i in dropped if status.get(i) == "dropped"})
    after_stop = sorted({i for i in dropped if status.get(i) == "after the stop"})
    parts = []
    if already:
        parts.append(f"{_reps_words(already)} {'was' if len(already) == 1 else 'were'} dropped already")
    if after_stop:
        they = "it" if len(after_stop) == 1 else "they"
        parts.append(
            f"{_reps_words(after_stop)} came after the stop (rep {before.stop_rep}): {they} did not count anyway"
        )
    return "; ".join(parts) or None


def print_correction(out: Console, before: SetRow, after: SetRow, dropped: Sequence[int] = ()) -> None:
    """What a correction changed, then the corrected set. ``dropped``: the reps asked to be dropped."""
    uncounted = _uncounted_words(before, dropped)
    if after == before:
        why = "" if uncounted is None else f": {uncounted}"
        out.print(f"set {after.id}: nothing changed{why}", markup=False, soft_wrap=True)
        return
    out.print(
        f"set {after.id} corrected: reps {before.rep_count} -> {after.rep_count}, good {before.good_reps} -> "
        f"{after.good_reps}, VL at stop {_vl_at_stop(before)} -> {_vl_at_stop(after)}",
        markup=False,
    )
    if uncounted is not None:
        out.print(uncounted, markup=False)
    if after.advice_text != before.advice_text:
        out.print(f"advice was: {before.advice_text or '-'}", markup=False)
    print_set(out, after)


def print_profile(out: Console, profile: LoadVelocityProfile, unit: WeightUnit) -> None:
    """The fitted line, its r² and points, and the e1RM (or why there is none), loads in ``unit``."""
    exercise = profile.exercise

    def show(load_kg: float) -> str:
        return str(Load(load_kg, WeightUnit.KG).to(unit)) if load_kg > 0 else f"{format_number(load_kg)} kg"

    out.print(
        f"{exercise}: load-velocity profile from {profile.n_points} sets at {profile.n_loads} loads", markup=False
    )
    out.print(
        f"  MCV = {profile.intercept:.3f} {'-' if profile.slope < 0 else '+'} {abs(profile.slope):.5f} x load (kg)"
        f"   r² {profile.r2:.3f}, {profile.n_points} points",
        markup=False,
    )
    if profile.e1rm_kg is not None and profile.min_velocity_m_s is not None:
        # An extrapolated e1RM is good to a kilo or two at best: one decimal, as the docs show it (131.5 kg).
        e1rm = Load(profile.e1rm_kg, WeightUnit.KG).to(unit)
        e1rm = Load(round(e1rm.value, 1), unit)
        out.print(f"  minimal velocity {profile.min_velocity_m_s:.2f} m/s -> e1RM {e1rm}", markup=False)
    else:
        out.print(f"  no e1RM: {profile.no_e1rm_why(show)}", markup=False, soft_wrap=True)
