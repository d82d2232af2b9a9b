"""What a live session shows: a full-screen rich view at a terminal, plain lines otherwise, nothing with --json.

The rich view holds the rep count in big digits, each rep's mean concentric velocity as a bar with its velocity
loss and the threshold line (the velocity at which the set stops), and the link's health: rate, dropped frames,
bad CRCs. At the end of the set it shows a STOP cue with the reason and rings the bell, then the summary.
Rendering only: the live session hands it events and status.
"""

from __future__ import annotations

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from repsense.core.live import EndReason, LiveStatus
from repsense.core.percent import loss_percent
from repsense.core.session import SessionEvent, SessionResult
from repsense.core.setcontrol import SetConfig, SetMode
from repsense.core.view import SetView, mode_text, unmeasured_words, unseen_words
from repsense.events import (
    Exercise,
    FailedRepEvent,
    GapEvent,
    Placement,
    RepEvent,
    SetEnded,
    UnseenRepsEvent,
)
from repsense.firmware_bridge.links import LinkEvent, LinkEventKind, LinkHealth

BAR_WIDTH = 40
SHOWN_REPS = 12

#: A 5-row block font for the rep count and the STOP cue.
_GLYPHS = {
    "0": ["███", "█ █", "█ █", "█ █", "███"],
    "1": [" █ ", "██ ", " █ ", " █ ", "███"],
    "2": ["███", "  █", "███", "█  ", "███"],
    "3": ["███", "  █", "███", "  █", "███"],
    "4": ["█ █", "█ █", "███", "  █", "  █"],
    "5": ["███", "█  ", "███", "  █", "███"],
    "6": ["███", "█  ", "███", "█ █", "███"],
    "7": ["███", "  █", "  █", "  █", "  █"],
    "8": ["███", "█ █", "███", "█ █", "███"],
    "9": ["███", "█ █", "███", "  █", "███"],
    "S": ["███", "█  ", "███", "  █", "███"],
    "T": ["███", " █ ", " █ ", " █ ", " █ "],
    "O": ["███", "█ █", "█ █", "█ █", "███"],
    "P": ["███", "█ █", "███", "█  ", "█  "],
}


def big(text: str, style: str = "bold") -> Text:
    """``text`` (digits and the letters of STOP) five rows tall."""
    rows = [" ".join(_GLYPHS[ch][row] for ch in text if ch in _GLYPHS) for row in range(5)]
    return Text("\n".join(rows), style=style)


def health_text(status: LiveStatus, port: str) -> Text:
    h: LinkHealth = status.health
    text = Text()
    if status.ended:
        text.append("● ended", "bold")
    elif h.connected and status.silent_s < 1.0:
        text.append("● connected", "bold green")
    elif h.connected:
        text.append(f"● no data for {status.silent_s:.0f} s", "bold yellow")
    else:
        text.append(f"● LINK LOST {status.silent_s:.0f} s: set kept, reconnecting", "bold white on red")
        text.append(f" (gives up at {status.give_up_s:g} s)", "red")
    text.append(f"  {port}", "dim")
    if h.wire_format:
        text.append(f" {h.wire_format}", "dim")
    rate = "-" if status.rate_hz is None else f"{status.rate_hz:.0f} Hz"
    text.append(f"  rate {rate}")
    text.append(f"  dropped {h.dropped}", "yellow" if h.dropped else "")
    text.append(f"  bad CRC {h.crc_errors}", "yellow" if h.crc_errors else "")
    if h.bad:
        text.append(f"  discarded {h.bad}", "yellow")
    if h.reconnects:
        text.append(f"  reconnects {h.reconnects}", "yellow")
    return text


class RichLiveView:
    """The full-screen view for a person at a terminal. Redrawn on events and on every status tick."""

    def __init__(
        self, console: Console, port: str, exercise: Exercise, placement: Placement, config: SetConfig
    ) -> None:
        self.console = console
        self.port = port
        self.title = f"repsense live · {exercise} on the {placement} · {mode_text(config, placement)}"
        self.config = config
        self.reps: list[RepEvent] = []
        self.unseen = 0
        self.notes: list[Text] = []
        self.stop: SetEnded | None = None
        self.status: LiveStatus | None = None
        self._live = Live(console=console, auto_refresh=False, transient=False, redirect_stderr=False)

    def close(self) -> None:
        """Leave the live display (also when the session failed). Harmless after ``finish``."""
        if self._live.is_started:
            self._live.stop()

    def events(self, events: list[SessionEvent]) -> None:
        for event in events:
            if isinstance(event, RepEvent):
                self.reps.append(event)
            elif isinstance(event, FailedRepEvent):
                self.notes.append(Text(f"x failed attempt: stalled after {event.rom_m:.2f} m", "red"))
            elif isinstance(event, GapEvent):
                self.notes.append(Text(f"~ no data for {event.duration_s:.1f} s (sensor gap)", "yellow"))
            elif isinstance(event, UnseenRepsEvent):
                self.unseen += event.reps
                self.notes.append(Text(f"? {unseen_words(event)}", "yellow"))
            elif isinstance(event, SetEnded) and self.stop is None:
                self.stop = event
                self.console.bell()
        self._redraw()

    def link(self, event: LinkEvent) -> None:
        if event.kind is LinkEventKind.LOST:
            self.notes.append(Text(f"! link lost at {event.t_s:.1f} s ({event.detail}); the set is kept", "bold red"))
        elif event.kind is LinkEventKind.RESUMED:
            self.notes.append(Text(f"+ link back at {event.t_s:.1f} s", "green"))
        self._redraw()

    def tick(self, status: LiveStatus) -> None:
        self.status = status
        self._redraw()

    def finish(self, result: SessionResult, ended_by: EndReason, status: LiveStatus) -> None:
        self.status = status
        if ended_by is not EndReason.SET_ENDED:
            self.notes.append(Text(_ended_text(ended_by, status), "bold"))
        self._redraw()
        self.close()
        SetView(self.console).summary(result)

    def _redraw(self) -> None:
        if not self._live.is_started:
            self._live.start()  # at the first link event: a port that cannot be opened leaves the screen alone
        self._live.update(self._render(), refresh=True)

    def _render(self) -> RenderableType:
        parts: list[RenderableType] = []
        count = Table.grid(padding=(0, 3))
        count.add_row(big(str(len(self.reps)), "bold cyan"), Text(self._count_label(), "bold"))
        parts.append(count)
        parts.append(Text())
        parts.append(self._bars())
        parts.extend(self.notes[-4:])
        if self.stop is not None:
            reason = self.stop.detail or str(self.stop.reason).replace("_", " ")
            cue = Table.grid(padding=(0, 3))
            cue.add_row(big("STOP", "bold white on red"), Text(f"after rep {self.stop.rep}\n\n{reason}", "bold"))
            parts.append(Panel(cue, border_style="bold red", expand=False))
        if self.status is not None:
            parts.append(health_text(self.status, self.port))
        return Panel(Group(*parts), title=self.title, title_align="left")

    def _count_label(self) -> str:
        label = f"reps\nof {self.config.target_reps}" if self.config.mode == SetMode.FIXED else "reps"
        if self.unseen:
            label += f"\n+{self.unseen} unseen in a gap"
        return label

    def _bars(self) -> RenderableType:
        if not self.reps:
            return Text("waiting for the first rep ...", "dim")
        # As set control does it: a rep measured across lost samples is no reference, and some have no velocity.
        references = [r for r in self.reps if r.velocity_trusted] or [r for r in self.reps if r.has_velocity]
        best = max((r.mean_velocity_m_s for r in references), default=0.0)
        scale = max(best * 1.15, 0.1)
        threshold = best * (1.0 - self.config.velocity_loss) if self.config.mode == SetMode.AMRAP and best else None
        mark = None if threshold is None else min(BAR_WIDTH - 1, round(BAR_WIDTH * threshold / scale))
        lines = []
        if threshold is not None:
            # Rows start with 9 characters ("%3d %4.2f ") before the bar.
            lines.append(Text(" " * (9 + (mark or 0)) + f"▼ stop below {threshold:.2f} m/s", "red"))
        for rep in self.reps[-SHOWN_REPS:]:
            if not rep.has_velocity:
                lines.append(Text.assemble((f"{rep.index:3d} ", "bold"), (unmeasured_words(rep), "dim")))
                continue
            loss = rep.velocity_loss
            limit = self.config.velocity_loss
            colour = "green" if loss < limit * 0.5 else "yellow" if loss < limit else "red"
            filled = min(BAR_WIDTH, round(BAR_WIDTH * rep.mean_velocity_m_s / scale))
            line = Text(f"{rep.index:3d} {rep.mean_velocity_m_s:4.2f} ", "bold")
            for i in range(BAR_WIDTH):
                if i == mark:
                    line.append("│", "bold red")
                else:
                    line.append("█" if i < filled else "·", colour if i < filled else "dim")
            line.append(f" VL {loss_percent(loss):3d}%" if rep.velocity_trusted else " VL    -", colour)
            if rep.flags:
                line.append("  " + " ".join(str(f) for f in rep.flags), "magenta")
            lines.append(line)
        return Group(*lines)


def _ended_text(ended_by: EndReason, status: LiveStatus) -> str:
    if ended_by is EndReason.GAVE_UP:
        return f"no data from the sensor for {status.give_up_s:g} s: gave up"
    if ended_by is EndReason.INTERRUPTED:
        return "stopped by hand"
    return "the link ended"


class PlainLiveView:
    """One line per rep and per link event, for logs and pipes (``SetView`` with link lines)."""

    def __init__(
        self, console: Console, port: str, exercise: Exercise, placement: Placement, config: SetConfig
    ) -> None:
        self.console = console
        self.port = port
        self.config = config
        self.view = SetView(console, bell=True)
        self._header = (f"live on {port}", exercise, placement, config)
        self._warned_silence = False

    def events(self, events: list[SessionEvent]) -> None:
        for event in events:
            self.view.show(event, self.config)

    def link(self, event: LinkEvent) -> None:
        if event.kind is LinkEventKind.LOST:
            lost = f"  !  link lost at {event.t_s:.1f} s ({event.detail}); the set is kept, reconnecting"
            self.console.print(lost, soft_wrap=True)
        elif event.kind is LinkEventKind.RESUMED:
            self.console.print(f"  +  link back at {event.t_s:.1f} s", soft_wrap=True)
        else:
            self.view.header(*self._header)

    def tick(self, status: LiveStatus) -> None:
        if status.silent_s > 2.0 and not self._warned_silence:
            self._warned_silence = True
            self.console.print(f"  ~  no data from the sensor (gives up after {status.give_up_s:g} s)", soft_wrap=True)
        elif status.silent_s < 1.0:
            self._warned_silence = False

    def finish(self, result: SessionResult, ended_by: EndReason, status: LiveStatus) -> None:
        if ended_by is not EndReason.SET_ENDED:
            self.console.print(_ended_text(ended_by, status), soft_wrap=True)
        self.console.print(health_text(status, self.port), soft_wrap=True)
        self.view.summary(result)


class QuietLiveView:
    """For ``--json``: nothing on stdout until the final JSON; link events and the end as lines on stderr."""

    def __init__(self, err: Console) -> None:
        self.err = err

    def events(self, events: list[SessionEvent]) -> None:
        for event in events:
            if isinstance(event, SetEnded):
                self.err.print(f"repsense: STOP after rep {event.rep}: {event.reason}", markup=False, soft_wrap=True)

    def link(self, event: LinkEvent) -> None:
        if event.kind is not LinkEventKind.CONNECTED:
            line = f"repsense: link {event.kind} at {event.t_s:.1f} s {event.detail}".rstrip()
            self.err.print(line, markup=False, soft_wrap=True)

    def tick(self, status: LiveStatus) -> None:
        return None

    def finish(self, result: SessionResult, ended_by: EndReason, status: LiveStatus) -> None:
        if ended_by is not EndReason.SET_ENDED:
            self.err.print(f"repsense: {_ended_text(ended_by, status)}", markup=False, soft_wrap=True)
