"""The report's figures, drawn with matplotlib's object API (``Figure``, never ``pyplot``): no global state, so
figures made one after another or side by side never share settings, and no display is needed.

Each function takes a ``SetReport`` and returns a ``Figure``, or None when there is nothing honest to draw.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence

import numpy as np
from matplotlib.cm import ScalarMappable
from matplotlib.colors import LinearSegmentedColormap, Normalize
from matplotlib.dates import AutoDateLocator, DateFormatter, DayLocator
from matplotlib.figure import Figure
from matplotlib.image import imread, imsave
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator

from repsense.core.report import FLAG_WORDS, LB_PER_KG, ReportRep, SetReport, VerticalTrace, shown_flags
from repsense.events import RepFlag

DPI = 110
FONT = 12  # tick labels and annotations
LABEL = 13  # axis labels
TITLE = 15
STOP_RED = "#c0111f"
GREEN = "#2e9e4f"
ORANGE = "#f08c00"
#: Velocity loss from 0 to the set's limit: green (fresh) -> yellow (half way) -> red (at the limit).
VL_CMAP = LinearSegmentedColormap.from_list("velocity_loss", [GREEN, "#f2c230", "#d7301f"])


def figures(report: SetReport) -> dict[str, Figure]:
    """The report's figures by name, in reading order: ``velocity``, ``trace``, ``trends`` (those that apply)."""
    made = {"velocity": velocity_figure(report), "trace": trace_figure(report), "trends": trends_figure(report)}
    return {name: fig for name, fig in made.items() if fig is not None}


def png_bytes(fig: Figure) -> bytes:
    buf = io.BytesIO()
    # No software/version stamp: the same report gives the same bytes.
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": "repsense"}, facecolor="white")
    return buf.getvalue()


def stack_pngs(pngs: Sequence[bytes], gap_px: int = 24) -> bytes:
    """Several PNGs as one, one below the other on white (for ``--png FILE.png``)."""
    images = [imread(io.BytesIO(p), format="png") for p in pngs]
    images = [im if im.shape[2] == 4 else np.dstack([im, np.ones(im.shape[:2], dtype=im.dtype)]) for im in images]
    width = max(im.shape[1] for im in images)
    rows: list[np.ndarray] = []
    for i, im in enumerate(images):
        padded = np.ones((im.shape[0], width, 4), dtype=np.float32)
        padded[:, : im.shape[1]] = im
        rows.append(padded)
        if i < len(images) - 1:
            rows.append(np.ones((gap_px, width, 4), dtype=np.float32))
    buf = io.BytesIO()
    imsave(buf, np.vstack(rows), format="png", metadata={"Software": "repsense"})
    return buf.getvalue()


def _title(report: SetReport, what: str) -> str:
    load = f" {report.load_text}" if report.load_text else ""
    when = f", {report.when.split()[0]}" if report.when else ""
    return f"{report.lift}{load}{when}: {what}"


def _short_flags(rep: ReportRep) -> str:
    words = [FLAG_WORDS.get(f, (f, f.replace("_", " ")))[1] for f in shown_flags(rep.flags)]
    if rep.struck_out:
        words.append("struck out")
    return ", ".join(words)


def _other_arm(rep: ReportRep) -> bool:
    return RepFlag.OTHER_ARM in rep.flags


def velocity_figure(report: SetReport) -> Figure | None:
    """Bars of mean concentric velocity per rep, coloured by velocity loss, with the limit and the stop marked."""
    reps = report.reps
    if not reps:
        return None
    limit = report.velocity_loss_limit or 0.20
    norm = Normalize(0.0, limit, clip=True)
    fig = Figure(figsize=(10, 5.4), dpi=DPI, layout="constrained")
    ax = fig.subplots()
    top = max((r.mean_velocity_m_s or 0.0) for r in reps) or 1.0
    # Bars stand in the set's order (a rep added by hand before the stop rep), labelled with their numbers.
    slot = {rep.index: x for x, rep in enumerate(reps, start=1)}
    stop = None if report.stop_rep is None else slot.get(report.stop_rep, report.stop_rep)
    last = len(reps)
    handles: list[Line2D | Patch] = []
    threshold_drawn = False
    for rep in reps:
        x = slot[rep.index]
        after = rep.after_stop
        alpha = 0.45 if after else 1.0
        mcv = rep.mean_velocity_m_s
        if mcv is None:
            ax.bar(x, top * 0.12, color="white", edgecolor="#555", linestyle="--", linewidth=1.2, alpha=alpha)
            label = "added\nby hand" if rep.added_by_user else "other\narm" if _other_arm(rep) else "no\nvelocity"
            ax.text(x, top * 0.13, label, ha="center", va="bottom", fontsize=FONT - 2, alpha=alpha)
            continue
        colour = "#bbbbbb" if rep.struck_out else VL_CMAP(norm(rep.velocity_loss or 0.0))
        remark = _short_flags(rep)
        ax.bar(
            x,
            mcv,
            width=0.8,
            color=colour,
            alpha=alpha,
            edgecolor="#333333",
            linewidth=0.8,
            hatch="//" if remark else None,
        )
        ax.text(
            x,
            mcv + top * 0.015,
            f"{mcv:.2f}",
            ha="center",
            va="bottom",
            fontsize=FONT,
            alpha=max(alpha, 0.7),
            bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.85},
            zorder=5,
        )
        if remark:
            ax.text(
                x,
                mcv * 0.5,
                remark,
                rotation=90,
                ha="center",
                va="center",
                fontsize=FONT - 1,
                bbox={"boxstyle": "round,pad=0.25", "facecolor": "white", "edgecolor": "none", "alpha": 0.9},
            )
        if report.mode == "amrap" and rep.velocity_loss is not None and rep.velocity_loss < 1.0 and not rep.struck_out:
            # The engine's own reference: best MCV so far = MCV / (1 - VL); the limit is that times (1 - limit).
            line = mcv / (1.0 - rep.velocity_loss) * (1.0 - limit)
            ax.hlines(line, x - 0.5, x + 0.5, colors=STOP_RED, linestyles="--", linewidth=2.0, alpha=alpha)
            threshold_drawn = True
    if threshold_drawn:
        handles.append(
            Line2D([], [], color=STOP_RED, linestyle="--", linewidth=2, label=f"{limit:.0%} velocity-loss limit")
        )
    if report.min_velocity_m_s is not None and report.mode == "amrap":
        ax.axhline(report.min_velocity_m_s, color="#555555", linestyle=":", linewidth=2.0)
        handles.append(
            Line2D(
                [],
                [],
                color="#555555",
                linestyle=":",
                linewidth=2,
                label=f"minimal velocity {report.min_velocity_m_s:.2f} m/s",
            )
        )
    if any(_short_flags(r) for r in reps):
        handles.append(Patch(facecolor="white", edgecolor="#333333", hatch="//", label="rep with a remark"))
    ax.set_ylim(0, top * 1.22)
    ax.set_xlim(1 - 0.6, last + (0.6 if stop is None or last > stop else 0.8))
    if stop is not None:
        ax.axvline(stop + 0.5, color=STOP_RED, linewidth=3)
        ax.text(
            stop + 0.5,
            top * 1.2,
            f" STOP after rep {report.stop_rep} ",
            color="white",
            fontsize=FONT,
            fontweight="bold",
            ha="center" if last > stop else "right",
            va="top",
            bbox={"boxstyle": "round,pad=0.3", "facecolor": STOP_RED, "edgecolor": "none"},
        )
        if last > stop:
            ax.axvspan(stop + 0.5, last + 0.6, color="#888888", alpha=0.12, linewidth=0)
            ax.text(
                (stop + 0.5 + last + 0.6) / 2,
                top * 1.08,
                "after the stop" if last - stop > 1 else "after\nthe stop",
                ha="center",
                va="center",
                fontsize=FONT,
                color="#555555",
                style="italic",
            )
        handles.append(Line2D([], [], color=STOP_RED, linewidth=3, label="end of the set"))
    ax.set_xticks(range(1, last + 1), [str(r.index) for r in reps])
    ax.set_xlabel("rep", fontsize=LABEL)
    ax.set_ylabel("mean concentric velocity (m/s)", fontsize=LABEL)
    ax.tick_params(labelsize=FONT)
    ax.set_title(_title(report, "speed of each rep"), fontsize=TITLE, loc="left")
    ax.spines[["top", "right"]].set_visible(False)
    bar = fig.colorbar(ScalarMappable(norm, VL_CMAP), ax=ax, pad=0.01, fraction=0.04)
    bar.set_label("velocity loss vs best rep so far", fontsize=LABEL)
    bar.set_ticks([0.0, limit / 2, limit])
    bar.ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:.0%}" if v < limit else f"\u2265 {v:.0%}"))
    bar.ax.tick_params(labelsize=FONT)
    if handles:
        fig.legend(handles=handles, loc="outside lower center", ncol=len(handles), frameon=False, fontsize=FONT)
    return fig


def trace_figure(report: SetReport) -> Figure | None:
    """The vertical acceleration over the recording, with the way up of each rep shaded and the stop marked."""
    trace = report.trace
    if trace is None or len(trace.t_s) == 0:
        return None
    t0 = trace.t0_s
    fig = Figure(figsize=(11, 5), dpi=DPI, layout="constrained")
    ax = fig.subplots()
    ax.plot(trace.t_s - t0, trace.acc_m_s2, color="#1f4e79", linewidth=1.0)
    ax.axhline(0.0, color="#666666", linewidth=0.8)
    label_at = ax.get_xaxis_transform()  # x in data, y in axes fraction
    duration_s = float(trace.t_s[-1] - t0)
    last_remark_x, level = -np.inf, 0
    for rep in report.reps:
        # The other arm's reps are not in the trace: the sensor never saw them.
        if rep.t_start_s is None or rep.t_end_s is None or _other_arm(rep):
            continue
        after = rep.after_stop
        remark = _short_flags(rep)
        colour = ORANGE if remark else GREEN
        ax.axvspan(rep.t_start_s - t0, rep.t_end_s - t0, color=colour, alpha=0.15 if after else 0.3, linewidth=0)
        mid = (rep.t_start_s + rep.t_end_s) / 2 - t0
        ax.text(mid, 0.98, str(rep.index), transform=label_at, ha="center", va="top", fontsize=FONT, fontweight="bold")
        if remark:
            # Neighbouring remarks would overlap: step the next one down.
            level = 1 - level if mid - last_remark_x < 0.08 * duration_s else 0
            last_remark_x = mid
            y = 0.91 - 0.06 * level
            ax.text(mid, y, remark, transform=label_at, ha="center", va="top", fontsize=FONT - 2, color="#a35a00")
    for start, stall in report.failed:
        ax.axvspan(start - t0, stall - t0, color=STOP_RED, alpha=0.25, linewidth=0)
        ax.text(
            (start + stall) / 2 - t0,
            0.98,
            "failed",
            transform=label_at,
            ha="center",
            va="top",
            fontsize=FONT - 1,
            color=STOP_RED,
        )
    for start, duration in trace.gaps:
        ax.axvspan(start - t0, start + duration - t0, color="#777777", alpha=0.3, hatch="xx", linewidth=0)
    if report.stop_t_s is not None:
        x = report.stop_t_s - t0
        ax.axvline(x, color=STOP_RED, linewidth=2.5)
        ax.text(
            x,
            0.04,
            " STOP ",
            transform=label_at,
            color="white",
            fontsize=FONT,
            fontweight="bold",
            ha="center",
            va="bottom",
            bbox={"boxstyle": "round,pad=0.3", "facecolor": STOP_RED, "edgecolor": "none"},
        )
    lo, hi, cut = _trace_limits(report, trace)
    span = max(hi - lo, 1.0)
    ax.set_ylim(lo - 0.05 * span, hi + 0.25 * span)  # room at the top for the rep numbers
    if cut:
        ax.text(0.995, 0.02, cut, transform=ax.transAxes, ha="right", va="bottom", fontsize=FONT - 2, color="#555555")
    ax.set_xlim(0.0, duration_s)
    ax.set_xlabel("time since the recording started (s)", fontsize=LABEL)
    ax.set_ylabel("vertical acceleration (m/s\u00b2, up +)", fontsize=LABEL)
    ax.grid(axis="y", alpha=0.3)
    ax.tick_params(labelsize=FONT)
    ax.set_title(_title(report, "vertical acceleration, reps numbered"), fontsize=TITLE, loc="left")
    ax.spines[["top", "right"]].set_visible(False)
    handles: list[Line2D | Patch] = [
        Line2D([], [], color="#1f4e79", linewidth=1.5, label="acceleration"),
        Patch(color=GREEN, alpha=0.3, label="way up of a rep"),
    ]
    if any(_short_flags(r) for r in report.reps):
        handles.append(Patch(color=ORANGE, alpha=0.3, label="rep with a remark"))
    if report.failed:
        handles.append(Patch(color=STOP_RED, alpha=0.25, label="failed attempt"))
    if any(_other_arm(r) for r in report.reps):
        handles.append(Line2D([], [], linestyle="none", label="the other arm's reps: not seen, not shown"))
    if trace.gaps:
        handles.append(Patch(facecolor="#777777", alpha=0.3, hatch="xx", label="no sensor data"))
    if report.stop_t_s is not None:
        handles.append(Line2D([], [], color=STOP_RED, linewidth=2.5, label="end of the set"))
    fig.legend(handles=handles, loc="outside lower center", ncol=len(handles), frameon=False, fontsize=FONT)
    return fig


def _trace_limits(report: SetReport, trace: VerticalTrace) -> tuple[float, float, str]:
    """The acceleration range to show, and a note when a short spike away from the reps is cut off.

    A dropped bar or a bar hitting the pins reads several times the reps' acceleration; scaled to it, the reps would
    be flat lines. The range covers every rep (with the second before it, the bottom of the descent) and all but
    the most extreme 0.2 % of samples; what lies beyond is named in the note.
    """
    acc = trace.acc_m_s2
    finite = np.isfinite(acc)
    if not finite.any():
        return -1.0, 1.0, ""
    values = acc[finite]
    lo, hi = (float(v) for v in np.percentile(values, [0.1, 99.9]))
    spans = [(r.t_start_s, r.t_end_s) for r in report.reps if r.t_start_s is not None and r.t_end_s is not None]
    spans += list(report.failed)
    for start, end in spans:
        inside = finite & (trace.t_s >= start - 1.0) & (trace.t_s <= end + 0.3)
        if inside.any():
            lo, hi = min(lo, float(acc[inside].min())), max(hi, float(acc[inside].max()))
    top, bottom = float(values.max()), float(values.min())
    margin = 0.3 * (hi - lo)
    if top <= hi + margin and bottom >= lo - margin:
        return bottom, top, ""
    at = trace.t_s[finite][int(np.argmax(np.abs(values)))] - trace.t0_s
    peak = values[int(np.argmax(np.abs(values)))]
    return lo, hi, f"off the scale: a spike of {peak:+.0f} m/s\u00b2 at {at:.1f} s (outside the reps)"


#: Line colours of the AMRAP reps at each load (the first is the figure's usual blue).
LOAD_COLOURS = ("#1f4e79", "#c55a11", "#548235", "#7030a0", "#bf9000")


def trends_figure(report: SetReport) -> Figure | None:
    """AMRAP good reps, best MCV and e1RM per training day; None with fewer than two days."""
    points = report.trends
    if len(points) < 2:
        return None
    days = [p.day for p in points]
    scale = LB_PER_KG if report.trend_unit == "lb" else 1.0
    e1rm = [None if p.e1rm_kg is None else p.e1rm_kg * scale for p in points]
    profile = None if report.profile_e1rm_kg is None else report.profile_e1rm_kg * scale
    # (axis label, values, value format, text when empty, smallest half-range, a reference line)
    series: list[tuple[str, list[float | None], str, str, float, float | None]] = [
        ("AMRAP good reps", [p.amrap_reps for p in points], "{:.0f}", "no AMRAP sets yet", 1.0, None),
        ("best MCV (m/s)", [p.best_mcv_m_s for p in points], "{:.2f}", "no velocities", 0.05, None),
        (f"e1RM ({report.trend_unit})", e1rm, "{:.0f}", "no AMRAP sets with a known load yet", 5.0, profile),
    ]
    fig = Figure(figsize=(10, 8), dpi=DPI, layout="constrained")
    axes = fig.subplots(3, 1, sharex=True)
    # AMRAP reps mean something only at their load: one line per load, each point labelled with it.
    amrap_loads = [p.amrap_load_text for p in points]
    for ax, (label, values, fmt, empty, min_half, reference) in zip(axes, series, strict=True):
        xs = [d for d, v in zip(days, values, strict=True) if v is not None]
        ys = [float(v) for v in values if v is not None]
        loads = [w for w, v in zip(amrap_loads, values, strict=True) if v is not None]
        by_load = ax is axes[0]
        if ys:
            lines = sorted(set(loads), key=loads.index) if by_load else [None]
            for n, load in enumerate(lines):
                picked = [(x, y) for x, y, w in zip(xs, ys, loads, strict=True) if not by_load or w == load]
                ax.plot(
                    [x for x, _ in picked],
                    [y for _, y in picked],
                    color=LOAD_COLOURS[n % len(LOAD_COLOURS)],
                    marker="o",
                    markersize=7,
                    linewidth=1.8,
                    label=load or "no load",
                )
            if by_load and len(lines) > 1:
                ax.legend(title="load", fontsize=FONT - 2, title_fontsize=FONT - 2, frameon=False, loc="upper left")
            for x, y, load in zip(xs, ys, loads, strict=True):
                ax.annotate(
                    fmt.format(y) + (f" @ {load}" if by_load and load else ""),
                    (x, y),
                    textcoords="offset points",
                    xytext=(0, 8),
                    ha="center",
                    fontsize=FONT - 1,
                    bbox={"boxstyle": "round,pad=0.1", "facecolor": "white", "edgecolor": "none", "alpha": 0.85},
                )
            shown = ys if reference is None else [*ys, reference]
            middle, half = (min(shown) + max(shown)) / 2, max((max(shown) - min(shown)) / 2, min_half)
            ax.set_ylim(middle - half * 1.3, middle + half * 1.6)
        else:
            ax.text(0.5, 0.5, empty, transform=ax.transAxes, ha="center", va="center", fontsize=FONT, color="#777777")
            ax.set_yticks([])
        if fmt == "{:.0f}":
            ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        if reference is not None and ys:
            ax.axhline(reference, color="#777777", linestyle="--", linewidth=1.5)
            ax.annotate(
                f"e1RM from the load-velocity profile: {reference:.0f} {report.trend_unit}",
                (0.01, reference),
                xycoords=("axes fraction", "data"),
                xytext=(0, 4),
                textcoords="offset points",
                fontsize=FONT - 2,
                color="#555555",
            )
        if report.trend_highlight is not None:
            ax.axvline(report.trend_highlight, color=STOP_RED, linestyle="--", linewidth=1.2, alpha=0.7)
        ax.set_ylabel(label, fontsize=LABEL)
        ax.tick_params(labelsize=FONT)
        ax.grid(axis="y", alpha=0.3)
        ax.spines[["top", "right"]].set_visible(False)
    if report.trend_highlight is not None:
        axes[0].annotate(
            "this set",
            (report.trend_highlight, 0.97),
            xycoords=("data", "axes fraction"),
            xytext=(-4, 0),
            textcoords="offset points",
            ha="right",
            va="top",
            fontsize=FONT - 1,
            color=STOP_RED,
        )
    span = (days[-1] - days[0]).days
    bottom = axes[-1]
    bottom.set_xlim(days[0] - dt.timedelta(days=1 + span // 20), days[-1] + dt.timedelta(days=1 + span // 20))
    bottom.xaxis.set_major_locator(
        DayLocator(interval=max(1, span // 7))  # type: ignore[no-untyped-call]
        if span <= 21
        else AutoDateLocator(maxticks=10)  # type: ignore[no-untyped-call]
    )
    year_fmt = "%d %b" if days[0].year == days[-1].year else "%d %b %Y"
    bottom.xaxis.set_major_formatter(DateFormatter(year_fmt))  # type: ignore[no-untyped-call]
    bottom.set_xlabel(
        f"training day ({days[0].year})" if days[0].year == days[-1].year else "training day", fontsize=LABEL
    )
    axes[0].set_title(f"{report.lift}: trends over {len(points)} training days", fontsize=TITLE, loc="left")
    return fig
