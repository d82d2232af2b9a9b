"""The terminal view of a set: each rep as it is detected, the stop cue, and a summary.

Rendering only: it is handed events and draws them. ``rich`` degrades to plain text when the output is not a
terminal, so the same view serves a person at a terminal and a log file.
"""

from __future__ import annotations

from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from repsense.core.advice import good_reps, unseen_in_set
from repsense.core.percent import loss_percent, loss_text, threshold_text
from repsense.core.session import SessionEvent, SessionResult, not_a_bar_warning
from repsense.core.setcontrol import SetConfig, SetMode
from repsense.events import Exercise, FailedRepEvent, GapEvent, Placement, RepEvent, RepFlag, SetEnded, UnseenRepsEvent

BAR_WIDTH = 24

#: Into a file or a pipe there is no screen to fit: lines stay whole, and tables and panels may be this wide.
PIPE_WIDTH = 200


def make_console(*, stderr: bool = False) -> Console:
    """The console the commands print to. At a terminal it fits the screen; into a file or a pipe (where rich would
    wrap at 80 columns, splitting paths and flag names) lines are not wrapped."""
    console = Console(stderr=stderr, highlight=False)
    if console.is_terminal:
        return console
    return Console(stderr=stderr, highlight=False, soft_wrap=True, width=PIPE_WIDTH)


def mode_text(config: SetConfig, placement: Placement) -> str:
    """The set's mode as the views say it: its target, or when velocity loss stops it."""
    if config.mode == SetMode.FIXED:
        return f"fixed {config.target_reps} reps"
    confirm = config.confirm_estimated if placement == Placement.WRIST else config.confirm
    in_a_row = f" on {confirm} reps in a row" if confirm > 1 else ""
    return f"AMRAP, stop at {threshold_text(config.velocity_loss)} velocity loss{in_a_row}"


def unseen_words(event: UnseenRepsEvent) -> str:
    """One line on reps a gap hid, for the terminal views."""
    reps = f"{event.reps} rep{'' if event.reps == 1 else 's'}"
    return (
        f"about {reps} made in the {event.gap_duration_s:.1f} s gap, by the rhythm (a rep every "
        f"{event.period_s:.1f} s): not seen, not counted"
    )


#: What a rep flagged ``no_velocity`` shows instead of its velocity.
NO_VELOCITY_WORDS = "the wrist cannot time this lift's concentric"
#: What the other arm's rep of an alternating lift shows instead (it is flagged ``no_velocity`` too).
OTHER_ARM_WORDS = "the other arm's rep: the sensor sees one arm"


def unmeasured_words(rep: RepEvent) -> str:
    """The line a rep with no velocity shows instead of one: why it has none."""
    if RepFlag.OTHER_ARM in rep.flags:
        return f"counted, {OTHER_ARM_WORDS}"
    return f"counted, no velocity: {NO_VELOCITY_WORDS}"


#: Said once, at the first rep measured across lost samples: "VL 0%" and no stop would otherwise look like a
#: set that is not slowing down.
UNTRUSTED_WORDS = (
    "samples were lost during this rep: its velocity is shown, but velocity loss neither uses nor stops on it"
)


def warn_not_a_bar(result: SessionResult, err: Console) -> None:
    """One line on stderr when the reps say the sensor was not on a bar (see ``not_a_bar_warning``)."""
    warning = not_a_bar_warning(result)
    if warning is not None:
        err.print(f"repsense: warning: {warning}", style="yellow", markup=False)


class SetView:
    """Prints a set as it happens. ``bell`` rings the terminal bell at the stop (live sessions)."""

    def __init__(self, console: Console, *, bell: bool = False) -> None:
        self.console = console
        self.bell = bell
        self.scale_m_s = 1.0
        self.t0_s = 0.0
        self._said_untrusted = False

    def header(
        self, source: str, exercise: Exercise, placement: Placement, config: SetConfig, t0_s: float = 0.0
    ) -> None:
        """Print what is being run. Times are shown from ``t0_s``, the recording's first sample."""
        self.t0_s = t0_s
        # On the wrist, velocity is an estimate: the absolute minimal velocity does not apply (see setcontrol).
        mvt = ""
        if config.min_velocity_m_s is not None and placement != Placement.WRIST:
            mvt = f", minimal velocity {config.min_velocity_m_s:.2f} m/s"
        self.console.print(Text.assemble(("repsense ", "bold"), source))
        self.console.print(f"{exercise} on the {placement}, {mode_text(config, placement)}{mvt}")
        self.console.print()

    def show(self, event: SessionEvent, config: SetConfig) -> None:
        if isinstance(event, RepEvent):
            self._rep(event, config)
        elif isinstance(event, FailedRepEvent):
            self.console.print(
                Text(
                    f"  x  failed attempt at {event.t_start_s - self.t0_s:.1f} s: stalled after {event.rom_m:.2f} m",
                    "red",
                )
            )
        elif isinstance(event, GapEvent):
            self.console.print(Text(f"  ~  no data for {event.duration_s:.1f} s (sensor gap)", "yellow"))
        elif isinstance(event, UnseenRepsEvent):
            self.console.print(Text(f"  ?  {unseen_words(event)}", "yellow"))
        elif isinstance(event, SetEnded):
            self._stop(event)

    def _rep(self, rep: RepEvent, config: SetConfig) -> None:
        if not rep.has_velocity:
            self.console.print(
                Text.assemble(
                    (f"{rep.index:3d} ", "bold"),
                    unmeasured_words(rep),
                    (f"  {rep.t_end_s - self.t0_s:5.1f} s", "dim"),
                )
            )
            return
        self.scale_m_s = max(self.scale_m_s, rep.mean_velocity_m_s * 1.1)
        filled = round(BAR_WIDTH * rep.mean_velocity_m_s / self.scale_m_s)
        loss = rep.velocity_loss
        colour = "green" if loss < config.velocity_loss * 0.5 else "yellow" if loss < config.velocity_loss else "red"
        line = Text()
        line.append(f"{rep.index:3d} ", "bold")
        line.append(f"{rep.mean_velocity_m_s:4.2f} m/s ")
        line.append("#" * filled, colour)
        line.append("." * (BAR_WIDTH - filled), "dim")
        line.append(f" VL{loss_percent(loss):3d}%" if rep.velocity_trusted else " VL   -", colour)
        line.append(f"  ROM {rep.rom_m:.2f} m  {rep.t_end_s - self.t0_s:5.1f} s", "dim")
        if rep.flags:
            line.append("  " + " ".join(str(f) for f in rep.flags), "magenta")
        self.console.print(line)
        if not rep.velocity_trusted and not self._said_untrusted:
            self._said_untrusted = True
            self.console.print(Text(f"  ~  {UNTRUSTED_WORDS}", "yellow"))

    def _stop(self, stop: SetEnded) -> None:
        if self.bell:
            self.console.bell()
        text = Text.assemble(
            ("STOP", "bold white on red"),
            f"  after rep {stop.rep} at {stop.t_s - self.t0_s:.1f} s: ",
            (stop.detail or str(stop.reason).replace("_", " "), "bold"),
        )
        self.console.print(Panel(text, border_style="red", expand=False))

    def summary(self, result: SessionResult) -> None:
        table = Table(title="Set summary", show_header=False, title_justify="left")
        table.add_column(style="bold")
        table.add_column()
        table.add_row("reps in recording", str(len(result.reps)))
        if result.stop is not None:
            table.add_row("set ends after", f"rep {result.stop.rep} ({result.stop.reason})")
        else:
            table.add_row("set ends after", "no stop rule fired")
        table.add_row("good reps", str(good_reps(result)))
        # The set is the reps up to the stop, as the history stores it: its best and last rep are among those. Its best
        # is one whose velocity may set the reference (not measured across lost samples), as for velocity loss.
        set_reps = result.reps if result.stop is None else result.reps[: result.stop.rep]
        after = result.reps[len(set_reps) :]
        measured = [r for r in set_reps if r.has_velocity]
        if measured:
            best = max([r for r in measured if r.velocity_trusted] or measured, key=lambda r: r.mean_velocity_m_s)
            table.add_row("best rep of the set", f"{best.index}: {best.mean_velocity_m_s:.2f} m/s")
            last = measured[-1]
            table.add_row(
                "last rep of the set",
                f"{last.index}: {last.mean_velocity_m_s:.2f} m/s, VL {loss_text(last.velocity_loss)}",
            )
            mean_rom = sum(r.rom_m for r in measured) / len(measured)
            table.add_row("mean ROM", f"{mean_rom:.2f} m")
        elif set_reps:
            table.add_row("velocity", f"none: {NO_VELOCITY_WORDS}")
        if after:
            fastest = max((r for r in after if r.has_velocity), key=lambda r: r.mean_velocity_m_s, default=None)
            words = "" if fastest is None else f", fastest {fastest.index}: {fastest.mean_velocity_m_s:.2f} m/s"
            table.add_row("after the stop", f"{len(after)} rep{'' if len(after) == 1 else 's'}{words}; not counted")
        if result.failed:
            table.add_row("failed attempts", str(len(result.failed)))
        if result.gaps:
            table.add_row("sensor gaps", ", ".join(f"{g.duration_s:.1f} s" for g in result.gaps))
        unseen = sum(u.reps for u in result.unseen)
        if unseen:
            # Reps hidden after the stop (or past a fixed set's target) are not the set's, as seen reps after it.
            in_set = unseen_in_set(result)
            part = ""
            if in_set < unseen:
                part = f" ({in_set} of them in the set)" if in_set else " (none of them in the set)"
            table.add_row("unseen reps", f"about {unseen} in the gaps{part}, not counted")
        table.add_row("recording", f"{result.samples} samples, {result.duration_s:.1f} s")
        self.console.print()
        self.console.print(table)
