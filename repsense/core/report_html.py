"""A ``SetReport`` as one self-contained HTML page: title, summary in words, advice, a table of reps, and the
figures embedded as base64 PNG, each with a legend that says how to read it.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping

from repsense.core.percent import loss_percent
from repsense.core.report import SEPARATOR, SetReport, count_text, rep_remarks, summary_text, title_text

FIGURE_TITLES = {
    "velocity": "Speed of each rep",
    "trace": "Vertical acceleration over the set",
    "trends": "Trends for this lift",
}

_CSS = """
body { font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; max-width: 60rem; margin: 2rem auto;
       padding: 0 1rem; color: #1d1d1f; line-height: 1.45; }
h1 { margin-bottom: 0.2rem; } .sub { color: #555; margin-top: 0; }
.summary { font-size: 1.1rem; } .advice { background: #eef6ee; border-left: 4px solid #3a8a3a; padding: 0.6rem 1rem; }
table { border-collapse: collapse; margin: 1rem 0; } th, td { padding: 0.3rem 0.7rem; text-align: right; }
th { border-bottom: 2px solid #999; } td { border-bottom: 1px solid #ddd; } td.words { text-align: left; }
tr.after td { color: #888; } tr.stop td { font-weight: bold; }
figure { margin: 1.5rem 0; } figure img { max-width: 100%; } figcaption { color: #333; font-size: 0.95rem; }
.note { color: #7a5a00; } .key { color: #555; font-size: 0.9rem; }
footer { color: #777; font-size: 0.85rem; margin-top: 2rem; }
"""


def figure_legends(report: SetReport) -> dict[str, str]:
    """One short paragraph per figure: how to read it."""
    limit = report.velocity_loss_limit
    if report.mode == "amrap" and limit is not None:
        line = (
            f"The dashed red line is the {limit:.0%} velocity-loss limit (the best rep so far, {1 - limit:.0%} of its "
            "speed): a rep below it ends an AMRAP set."
        )
    else:
        line = "This was a fixed set: velocity loss is shown but does not end it."
    mvt = (
        f" The dotted grey line is the lift's minimal velocity, {report.min_velocity_m_s:.2f} m/s."
        if report.min_velocity_m_s is not None and report.mode == "amrap"
        else ""
    )
    unit = report.trend_unit
    return {
        "velocity": (
            "Each bar is one rep's mean speed on the way up (mean concentric velocity, m/s), numbered in order. "
            "Colour shows how much slower it was than the best rep so far: green fresh, yellow half way, red at the "
            f"limit. {line}{mvt} The red STOP line marks where the set ended; reps after it are faded. Hatched bars "
            "carry a remark (written on the bar)."
        ),
        "trace": (
            "The sensor's vertical acceleration (m/s\u00b2, 0 at rest; positive when the bar speeds up upwards or "
            "brakes on the way down). Green bands are the way up of each counted rep, numbered; orange bands are "
            "reps with a remark; red bands are failed attempts; grey bands are moments without sensor data. The red "
            "line marks the stop."
        ),
        "trends": (
            "One point per training day for this lift: the most good reps on an AMRAP set, the best mean concentric "
            f"velocity of any set, and the estimated one-rep max ({unit}, Epley formula from AMRAP sets with a known "
            "load). The dashed line marks the day of this set."
        ),
    }


def render_html(report: SetReport, pngs: Mapping[str, bytes], *, generated_by: str = "repsense") -> str:
    """The report as one self-contained HTML page; ``pngs`` are the figures by name (``velocity``, ``trace``,
    ``trends``), embedded as base64."""
    e = html.escape
    out: list[str] = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{e(title_text(report))}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{e(title_text(report))}</h1>",
    ]
    sub: list[str] = []
    if report.plan_text:
        sub.append(f"plan {report.plan_text}" + (f", set {report.set_number}" if report.set_number else ""))
    sub.append(
        "AMRAP (as many good reps as possible)"
        if report.mode == "amrap"
        else f"fixed set of {report.target_reps} reps"
        if report.target_reps
        else "fixed set"
    )
    if report.when_note:
        sub.append(f"date: {report.when_note}")
    if report.set_id is not None:
        sub.append(f"history set {report.set_id}")
    out.append(f'<p class="sub">{e(SEPARATOR.join(sub))}</p>')
    out.append(f'<p class="summary">{e(summary_text(report))}</p>')
    if report.advice:
        out.append(f'<p class="advice"><strong>Advice:</strong> {e(report.advice)}</p>')
    for note in report.notes:
        out.append(f'<p class="note">{e(note)}</p>')
    out.extend(_rep_table(report))
    legends = figure_legends(report)
    for name, title in FIGURE_TITLES.items():
        out.append(f"<h2>{e(title)}</h2>")
        if name in pngs:
            data = base64.b64encode(pngs[name]).decode("ascii")
            out.append(
                f'<figure><img src="data:image/png;base64,{data}" alt="{e(title)}">'
                f"<figcaption>{e(legends[name])}</figcaption></figure>"
            )
            if name == "trends" and report.trend_note:
                out.append(f"<p>{e(report.trend_note)}</p>")
        else:
            out.append(f'<p class="note">{e(_missing_figure_note(report, name))}</p>')
    out.append(f"<footer>Made by {e(generated_by)} from {e(report.source)}.</footer>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def _missing_figure_note(report: SetReport, name: str) -> str:
    if name == "trace":
        return report.trace_note or "No recording: no acceleration trace."
    if name == "trends":
        days = len(report.trends)
        if days == 0:
            return "No earlier sets of this lift in the history: trends appear once there are two training days."
        return f"Only {count_text(days, 'training day')} of this lift in the history: trends appear from two days on."
    return "No reps: nothing to draw."


def _cell(value: float | None, fmt: str) -> str:
    return "" if value is None else format(value, fmt)


def _rep_table(report: SetReport) -> list[str]:
    if not report.reps:
        return []
    rows = [
        "<table>",
        "<tr><th>rep</th><th>MCV m/s</th><th>peak m/s</th><th>ROM cm</th><th>duration s</th><th>VL %</th>"
        '<th class="words">remarks</th></tr>',
    ]
    for rep in report.reps:
        css = ' class="after"' if rep.after_stop else ' class="stop"' if rep.index == report.stop_rep else ""
        rom_cm = None if rep.rom_m is None else rep.rom_m * 100
        vl_pct = None if rep.velocity_loss is None else loss_percent(rep.velocity_loss)
        rows.append(
            f"<tr{css}><td>{rep.index}</td><td>{_cell(rep.mean_velocity_m_s, '.2f')}</td>"
            f"<td>{_cell(rep.peak_velocity_m_s, '.2f')}</td><td>{_cell(rom_cm, '.0f')}</td>"
            f"<td>{_cell(rep.duration_s, '.2f')}</td><td>{_cell(vl_pct, 'd')}</td>"
            f'<td class="words">{html.escape(rep_remarks(rep, report.stop_rep))}</td></tr>'
        )
    rows.append("</table>")
    rows.append(
        '<p class="key">MCV: mean concentric velocity, the average speed on the way up. Peak: the fastest moment '
        "on the way up. ROM: range of motion, how far the bar travelled up. VL: velocity loss, how much slower the "
        "rep was than the best rep so far.</p>"
    )
    return rows
