"""Per-set reports for a person who was not there: the facts of a set, in words, figures and one HTML page.

Pure: data in, text out. Reading recordings and the history database is the caller's job
(``repsense.core.cli_report``); this module turns what was read into a ``SetReport`` and puts it in words.
``repsense.core.report_figures`` draws it and ``repsense.core.report_html`` lays it out as a page.

::

    SessionResult (a replayed file) --- report_from_session ---+
                                                                +--> SetReport --> report_figures.figures()
    SetRow (a history set) ------------ report_from_set_row ---+              +--> report_html.render_html()

Times in a ``SetReport`` are on the recording's own clock (seconds), as in ``RepEvent``; the figures show them
from the recording's first sample.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from repsense.core.advice import FORM_BREAKERS, unseen_in_set
from repsense.core.advice import good_reps as count_good_reps
from repsense.core.history_rows import set_order
from repsense.core.percent import loss_text
from repsense.core.session import SessionResult
from repsense.core.setcontrol import MIN_VELOCITY_M_S
from repsense.events import Exercise, Placement, RepEvent, RepFlag, StopReason
from repsense.samples import STANDARD_GRAVITY_M_S2, SampleBlock
from repsense.signal.despike import without_glitches
from repsense.signal.pipeline import PipelineConfig
from repsense.signal.resample import Gap, UniformResampler
from repsense.signal.vertical import VerticalSpecificForce

if TYPE_CHECKING:
    from repsense.core.history import SetRow

LB_PER_KG = 1.0 / 0.45359237
SEPARATOR = " \u00b7 "  # between the parts of a title

#: Why a set ended, in words a lifter reads; the controller's detail (the numbers) follows after a colon.
STOP_WORDS: dict[str, str] = {
    StopReason.VELOCITY_LOSS: "the bar had slowed down too much compared with the best rep",
    StopReason.MIN_VELOCITY: "the rep was slower than the lift's minimal velocity (the speed of a maximal single)",
    StopReason.SHORT_ROM: "the rep was clearly shorter than the others",
    StopReason.GRINDING: "the rep was a grind, far slower on the way up than the first reps",
    StopReason.FAILED_REP: "an attempt stalled and went back down",
    StopReason.INACTIVITY: "no further rep came",
    StopReason.TARGET_REACHED: "all planned reps were done",
}

#: Rep flags in words, for the table and the figure labels (long, short).
FLAG_WORDS: dict[str, tuple[str, str]] = {
    RepFlag.SHORT_ROM: ("short range of motion", "short"),
    RepFlag.GRINDING: ("grind: much slower than the first reps", "grind"),
    RepFlag.VELOCITY_ESTIMATED: ("velocity estimated from the wrist", "wrist est."),
    RepFlag.DATA_GAP: ("sensor data lost during the rep: velocity unreliable", "data gap"),
    RepFlag.NO_VELOCITY: ("counted, but the wrist cannot time this lift's concentric", "no velocity"),
    RepFlag.OTHER_ARM: ("the other arm's rep: the sensor sees one arm", "other arm"),
}

#: Flags that make a rep not a good rep.
BAD_FORM_FLAGS = frozenset(str(f) for f in FORM_BREAKERS)


@dataclass(frozen=True, slots=True)
class ReportRep:
    """One rep as the report shows it. Velocities and range are None for a rep added by hand, or counted with no
    velocity (``no_velocity``, on the wrist): nothing measured."""

    index: int
    t_start_s: float | None
    t_end_s: float | None
    mean_velocity_m_s: float | None
    peak_velocity_m_s: float | None
    rom_m: float | None
    velocity_loss: float | None  # fraction, against the best rep so far
    flags: tuple[str, ...] = ()
    counted: bool = True  # part of the set: not after the stop (unless restored by hand), not struck out by hand
    added_by_user: bool = False
    after_stop: bool = False  # it happened after the set had ended

    @property
    def struck_out(self) -> bool:
        return not self.counted and not self.after_stop

    @property
    def duration_s(self) -> float | None:
        if self.t_start_s is None or self.t_end_s is None:
            return None
        return self.t_end_s - self.t_start_s

    @staticmethod
    def from_event(rep: RepEvent, stop_rep: int | None) -> ReportRep:
        after = stop_rep is not None and rep.index > stop_rep
        return ReportRep(
            rep.index,
            rep.t_start_s,
            rep.t_end_s,
            rep.mean_velocity_m_s if rep.has_velocity else None,
            rep.peak_velocity_m_s if rep.has_velocity else None,
            rep.rom_m if rep.has_velocity else None,
            rep.velocity_loss if rep.has_velocity else None,
            tuple(str(f) for f in rep.flags),
            counted=not after,
            after_stop=after,
        )


@dataclass(frozen=True, slots=True)
class VerticalTrace:
    """Vertical acceleration of the sensor on a uniform grid: ``t_s`` (recording clock, s) and ``acc_m_s2``.

    ``acc_m_s2`` is the vertical specific force (low-passed as the pipeline does) minus 1 g, so it reads 0 at rest
    (up to the sensor's bias) and positive while the bar speeds up on the way up. NaN separates the pieces on either
    side of a data gap. ``t0_s`` is the recording's first sample, the figure's time origin.
    """

    t_s: np.ndarray
    acc_m_s2: np.ndarray
    t0_s: float
    gaps: tuple[tuple[float, float], ...] = ()  # (start s, duration s)


@dataclass(frozen=True, slots=True)
class TrendPoint:
    """One training day of a lift: the best AMRAP good reps (and the load they were done at, as the lifter gave it:
    ``100 kg``, or None without one), the best mean concentric velocity, the best e1RM."""

    day: dt.date
    amrap_reps: int | None
    best_mcv_m_s: float | None
    e1rm_kg: float | None
    amrap_load_text: str | None = None


@dataclass(frozen=True, slots=True)
class SetReport:
    """Everything one report shows. Build it with ``report_from_session`` or ``report_from_set_row``."""

    exercise: str
    source: str
    reps: tuple[ReportRep, ...]
    mode: str = "amrap"  # "amrap" or "fixed"
    when: str | None = None  # date (and time) of the set, as text
    when_note: str = ""  # where the date comes from, when it is not a record of the set (e.g. "file date")
    load_kg: float | None = None
    load_text: str | None = None  # "120 kg", "225 lb"
    plan_text: str | None = None
    set_number: int | None = None
    set_id: int | None = None
    target_reps: int | None = None
    velocity_loss_limit: float | None = None  # fraction; the AMRAP stop rule
    min_velocity_m_s: float | None = None
    stop_rep: int | None = None
    stop_reason: str | None = None
    stop_detail: str = ""
    stop_t_s: float | None = None
    good_reps: int | None = None
    advice: str | None = None
    failed: tuple[tuple[float, float], ...] = ()  # failed attempts: (start s, stall s)
    unseen_reps: int = 0  # reps a sensor gap hid, by the set's rhythm: not counted
    trace: VerticalTrace | None = None
    trace_note: str | None = None  # why there is no trace figure
    trends: tuple[TrendPoint, ...] = ()
    trend_unit: str = "kg"
    trend_note: str | None = None  # a sentence on the lift's load-velocity profile, if one was fitted
    trend_highlight: dt.date | None = None  # the day of this set, marked on the trends
    profile_e1rm_kg: float | None = None  # e1RM from the load-velocity profile, drawn on the trends
    notes: tuple[str, ...] = ()

    @property
    def lift(self) -> str:
        if self.exercise == Exercise.ALT_CURL:
            return "Alternating curl"
        return self.exercise.upper() if self.exercise in ("ohp", "rdl") else self.exercise.capitalize()


def vertical_trace(samples: SampleBlock, exercise: Exercise, placement: Placement) -> VerticalTrace:
    """The vertical acceleration of a recording, computed as the pipeline computes it (on the wrist the glitch
    filter, then the resampler and ``VerticalSpecificForce`` with the lift's settings; its 10 Hz low-passed
    output, minus 1 g)."""
    if len(samples) == 0:
        return VerticalTrace(np.empty(0), np.empty(0), 0.0)
    config = PipelineConfig.for_lift(exercise, placement)
    if config.glitch is not None:
        samples = without_glitches(samples, config.glitch)
    x = samples.acc_g if samples.gyro_dps is None else np.hstack([samples.acc_g, samples.gyro_dps])
    resampler = UniformResampler(config.resampler, x.shape[1])
    vertical = VerticalSpecificForce(config.vertical)
    times: list[np.ndarray] = []
    values: list[np.ndarray] = []
    gaps: list[tuple[float, float]] = []
    for item in resampler.feed(samples.t_s, x):
        if isinstance(item, Gap):
            vertical.reset()
            gaps.append((item.t_s, item.duration_s))
            # A NaN between the pieces: the line breaks instead of bridging the gap.
            times.append(np.array([item.t_s + item.duration_s / 2]))
            values.append(np.array([np.nan]))
            continue
        gyro = item.x[:, 3:6] if samples.gyro_dps is not None else None
        _, s_smooth_g, _ = vertical.feed(item.x[:, 0:3], gyro)
        times.append(item.t_s)
        values.append((s_smooth_g - 1.0) * STANDARD_GRAVITY_M_S2)
    return VerticalTrace(np.concatenate(times), np.concatenate(values), float(samples.t_s[0]), tuple(gaps))


def report_from_session(
    result: SessionResult,
    *,
    trace: VerticalTrace | None = None,
    good_reps: int | None = None,
    **details: Any,
) -> SetReport:
    """A report of a replayed set. ``details`` are further ``SetReport`` fields (when, load_text, advice, ...)."""
    cfg = result.set_config
    stop = result.stop
    stop_rep = None if stop is None else stop.rep
    reps = tuple(ReportRep.from_event(r, stop_rep) for r in result.reps)
    fields: dict[str, Any] = {
        "exercise": str(result.exercise),
        "source": result.source,
        "reps": reps,
        "mode": str(cfg.mode),
        "target_reps": cfg.target_reps,
        "velocity_loss_limit": cfg.velocity_loss,
        # On the wrist, velocity is an estimate and no minimal velocity applies (see setcontrol).
        "min_velocity_m_s": None if result.placement == Placement.WRIST else cfg.min_velocity_m_s,
        "stop_rep": stop_rep,
        "stop_reason": None if stop is None else str(stop.reason),
        "stop_detail": "" if stop is None else stop.detail,
        "stop_t_s": None if stop is None else stop.t_s,
        "good_reps": count_good_reps(result) if good_reps is None else good_reps,
        "failed": tuple((f.t_start_s, f.t_stall_s) for f in result.failed),
        "unseen_reps": unseen_in_set(result),
        "trace": trace,
    }
    fields.update(details)
    return SetReport(**fields)


def report_from_set_row(row: SetRow, *, trace: VerticalTrace | None = None, **details: Any) -> SetReport:
    """A report of a set from the history. ``details`` are further ``SetReport`` fields (trends, notes, ...)."""
    reps = tuple(
        ReportRep(
            r.idx,
            r.t_start_s,
            r.t_end_s,
            r.mean_velocity_m_s,
            r.peak_velocity_m_s,
            r.rom_m,
            r.velocity_loss,
            tuple(r.flags),
            counted=r.counted,
            added_by_user=r.added_by_user,
            # A rep added by hand was missed during the set, whatever number it was given.
            after_stop=row.stop_rep is not None and r.idx > row.stop_rep and not r.added_by_user,
        )
        # In the set's order: a rep added by hand sits before the stop rep, not among the reps after the stop.
        for r in set_order(row.reps, row.stop_rep)
    )
    exercise = _exercise_or_none(row.exercise)
    fields: dict[str, Any] = {
        "exercise": row.exercise,
        "source": row.recording_path or row.source or f"history set {row.id}",
        "reps": reps,
        "mode": row.mode,
        "when": when_text(row.started_at),
        "load_kg": row.load_kg,
        "load_text": row.load_text or None,
        "plan_text": row.plan_text,
        "set_number": row.set_number,
        "set_id": row.id,
        "target_reps": row.target_reps,
        "velocity_loss_limit": row.vl_threshold,
        "min_velocity_m_s": (
            None if exercise is None or row.placement == Placement.WRIST else MIN_VELOCITY_M_S.get(exercise)
        ),
        "stop_rep": row.stop_rep,
        "stop_reason": row.stop_reason,
        "stop_detail": row.stop_detail,
        "stop_t_s": next((r.t_end_s for r in reps if r.index == row.stop_rep), None),
        "good_reps": row.good_reps,
        "unseen_reps": row.unseen_reps,
        "advice": row.advice_text,
        "trace": trace,
        "trend_highlight": row.started_at.date(),
    }
    if row.corrected_at is not None:
        fields["notes"] = (f"Corrected by hand on {when_text(row.corrected_at)}.",)
    fields.update(details)
    return SetReport(**fields)


def _exercise_or_none(value: str) -> Exercise | None:
    try:
        return Exercise(value)
    except ValueError:
        return None


def when_text(moment: dt.datetime) -> str:
    """A date and time for a title: UTC when the time zone is known (``2025-03-01 17:04 UTC``)."""
    if moment.tzinfo is not None:
        return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return moment.strftime("%Y-%m-%d %H:%M")


def trend_points(rows: Iterable[SetRow], e1rm: Callable[[float, int], float] | None = None) -> tuple[TrendPoint, ...]:
    """Per training day of a lift: the most good reps on an AMRAP set (with its load), the best MCV, the best e1RM.

    ``rows`` are history sets of one lift; ``e1rm(load_kg, reps) -> kg`` (Epley) turns AMRAP sets with a load into
    an e1RM (None: no e1RM). Days come out in order.
    """
    days: dict[dt.date, dict[str, Any]] = {}
    for row in rows:
        day = days.setdefault(row.started_at.date(), {"reps": None, "mcv": None, "e1rm": None, "load": None})
        if row.best_mcv_m_s is not None:
            day["mcv"] = max(day["mcv"] or 0.0, row.best_mcv_m_s)
        if row.mode == "amrap":
            if day["reps"] is None or row.good_reps > day["reps"]:
                day["reps"], day["load"] = row.good_reps, row.load_text or None
            if e1rm is not None and row.load_kg and row.good_reps > 0:
                day["e1rm"] = max(day["e1rm"] or 0.0, e1rm(row.load_kg, row.good_reps))
    return tuple(TrendPoint(d, v["reps"], v["mcv"], v["e1rm"], v["load"]) for d, v in sorted(days.items()))


def summary_text(report: SetReport) -> str:
    """The set in plain words: reps, good reps, why and when it stopped, what happened after the stop."""
    reps = report.reps
    if not reps:
        text = "No rep was detected in this recording."
        if report.failed:
            text += f" {count_text(len(report.failed), 'failed attempt')} (stalled and went back down)."
        return text
    in_set = [r for r in reps if r.counted]
    parts: list[str] = []
    head = count_text(len(in_set), "rep")
    if report.good_reps is not None:
        head += f", {report.good_reps} good"
    if report.mode == "fixed" and report.target_reps:
        head += f" ({report.target_reps} planned)"
    parts.append(head + ".")
    if report.stop_rep is not None and report.stop_reason:
        words = STOP_WORDS.get(report.stop_reason, report.stop_reason.replace("_", " "))
        detail = f": {report.stop_detail}" if report.stop_detail else ""
        parts.append(f"The set was stopped at rep {report.stop_rep} because {words}{detail}.")
    else:
        parts.append("No stop rule fired: the recording ended first.")
    after = [r for r in reps if r.after_stop and not r.counted]
    if after:
        parts.append(
            f"The recording goes on with {count_text(len(after), 'more rep')} after the stop; they are shown but are "
            "not part of the set."
        )
    if report.failed:
        parts.append(f"{count_text(len(report.failed), 'failed attempt')} (stalled and went back down).")
    if report.unseen_reps:
        parts.append(
            f"About {count_text(report.unseen_reps, 'more rep')} went unseen in a sensor gap "
            "(by the rhythm of the set): not counted."
        )
    bad = [r for r in in_set if BAD_FORM_FLAGS.intersection(r.flags)]
    if bad:
        listed = ", ".join(f"rep {r.index} ({_flag_words(r.flags, short=True)})" for r in bad)
        parts.append(f"Not good: {listed}.")
    struck = [str(r.index) for r in reps if r.struck_out]
    added = [str(r.index) for r in reps if r.added_by_user]
    if struck:
        parts.append(f"Struck out by hand: rep {', '.join(struck)}.")
    if added:
        when = " before the stop" if report.stop_rep is not None else ""
        parts.append(f"Added by hand (missed by the sensor{when}, not measured): rep {', '.join(added)}.")
    measured = [r for r in in_set if r.mean_velocity_m_s is not None]
    if measured:
        best = max(measured, key=lambda r: r.mean_velocity_m_s or 0.0)
        last = measured[-1]
        slower = f", {loss_text(last.velocity_loss)} slower than the best so far" if last.velocity_loss else ""
        parts.append(
            f"Fastest rep: {best.index} at {best.mean_velocity_m_s:.2f} m/s; last rep of the set: {last.index} at "
            f"{last.mean_velocity_m_s:.2f} m/s{slower}."
        )
    return " ".join(parts)


def count_text(n: int, noun: str) -> str:
    """``1 rep``, ``3 reps``."""
    return f"{n} {noun}" + ("" if n == 1 else "s")


def shown_flags(flags: Iterable[str]) -> list[str]:
    """The flags a report puts in words. The other arm's rep has no velocity because it was not seen: its
    ``other_arm`` says so, and ``no_velocity`` (the wrist cannot time the lift) would say something untrue."""
    flags = list(flags)
    if RepFlag.OTHER_ARM in flags:
        return [f for f in flags if f != RepFlag.NO_VELOCITY]
    return flags


def _flag_words(flags: Iterable[str], *, short: bool = False) -> str:
    return ", ".join(
        FLAG_WORDS.get(f, (f.replace("_", " "), f.replace("_", " ")))[1 if short else 0] for f in shown_flags(flags)
    )


def rep_remarks(rep: ReportRep, stop_rep: int | None) -> str:
    """The rep's flags and state in words, for the table."""
    words = [_flag_words(rep.flags)] if rep.flags else []
    if rep.struck_out:
        words.append("struck out by hand")
    if rep.added_by_user:
        words.append("added by hand: not measured")
    if rep.after_stop:
        words.append("after the stop, counted by hand" if rep.counted else "after the stop")
    elif stop_rep is not None and rep.index == stop_rep:
        words.append("the set stopped here")
    return "; ".join(words)


def title_text(report: SetReport) -> str:
    parts = [report.lift]
    if report.load_text:
        parts.append(report.load_text)
    if report.when:
        parts.append(report.when)
    return SEPARATOR.join(parts)
