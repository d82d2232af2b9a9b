"""One set, from samples to a decision: the pipeline and the set controller wired together.

Live sessions and replays both run through ``SetSession``; a replay is the live path fed from a file.
"""

from __future__ import annotations

import dataclasses
import itertools
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from repsense.core.advice import good_reps, unseen_in_set
from repsense.core.setcontrol import SetConfig, SetController
from repsense.errors import ConfigError
from repsense.events import (
    Exercise,
    FailedRepEvent,
    GapEvent,
    PipelineEvent,
    Placement,
    RepEvent,
    SetEnded,
    UnseenRepsEvent,
)
from repsense.samples import SampleBlock
from repsense.signal.pipeline import PipelineConfig, RepPipeline

SessionEvent = PipelineEvent | SetEnded


def parse_exercise(value: str, where: str) -> Exercise:
    try:
        return Exercise(value.strip().lower())
    except ValueError:
        choices = ", ".join(e.value for e in Exercise)
        raise ConfigError(f"{where}: unknown exercise {value!r} (choose from {choices})") from None


def parse_placement(value: str, where: str) -> Placement:
    try:
        return Placement(value.strip().lower())
    except ValueError:
        raise ConfigError(f"{where}: unknown placement {value!r} (choose bar or wrist)") from None


def lift_from_metadata(
    metadata: Mapping[str, str], exercise: str | None, placement: str | None
) -> tuple[Exercise, Placement]:
    """Flags win over the recording's metadata; without either, ``other`` on the bar."""
    if exercise is not None:
        ex = parse_exercise(exercise, "--exercise")
    elif metadata.get("exercise"):
        ex = parse_exercise(metadata["exercise"], "recording metadata")
    else:
        ex = Exercise.OTHER
    if placement is not None:
        pl = parse_placement(placement, "--placement")
    elif metadata.get("placement"):
        pl = parse_placement(metadata["placement"], "recording metadata")
    else:
        pl = Placement.BAR
    return ex, pl


@dataclass
class SessionResult:
    """Everything a set produced, in the shape ``--json`` prints."""

    exercise: Exercise
    placement: Placement
    set_config: SetConfig
    reps: list[RepEvent] = field(default_factory=list)
    failed: list[FailedRepEvent] = field(default_factory=list)
    gaps: list[GapEvent] = field(default_factory=list)
    unseen: list[UnseenRepsEvent] = field(default_factory=list)
    stop: SetEnded | None = None
    source: str = ""
    samples: int = 0
    duration_s: float = 0.0

    def to_json(self) -> dict[str, Any]:
        cfg = self.set_config
        best = max((r.mean_velocity_m_s for r in self.reps if r.has_velocity), default=None)
        in_set = self.reps if self.stop is None else self.reps[: self.stop.rep]
        best_in_set = max((r.mean_velocity_m_s for r in in_set if r.has_velocity), default=None)
        return {
            "source": self.source,
            "exercise": str(self.exercise),
            "placement": str(self.placement),
            "settings": {
                "mode": str(cfg.mode),
                "target_reps": cfg.target_reps,
                "velocity_loss_pct": round(cfg.velocity_loss * 100, 3),
                "confirm": cfg.confirm_estimated if self.placement == Placement.WRIST else cfg.confirm,
                "min_velocity": cfg.min_velocity_m_s,
                "inactivity_s": cfg.inactivity_s,
            },
            "reps": [r.to_dict() for r in self.reps],
            "failed": [f.to_dict() for f in self.failed],
            "gaps": [g.to_dict() for g in self.gaps],
            "unseen_reps": [u.to_dict() for u in self.unseen],
            "stop": None if self.stop is None else self.stop.to_dict(),
            "summary": {
                "reps": len(self.reps),
                "reps_at_stop": None if self.stop is None else self.stop.rep,
                "good_reps": good_reps(self),
                "unseen_reps": sum(u.reps for u in self.unseen),
                "unseen_reps_in_set": unseen_in_set(self),
                "best_mean_velocity": None if best is None else round(best, 4),
                "best_mean_velocity_in_set": None if best_in_set is None else round(best_in_set, 4),
                "samples": self.samples,
                "duration_s": round(self.duration_s, 3),
            },
        }


#: No bar in the lifts repsense knows moves this far in one concentric (m), or this fast on average (m/s).
NO_BAR_ROM_M = 1.5
NO_BAR_MCV_M_S = 3.0


def not_a_bar_warning(result: SessionResult) -> str | None:
    """On the bar, reps that no bar makes mean the sensor was somewhere else, most often on a wrist: what to tell
    the user, or None. (Integrated, a wrist's swinging reads as a bar rising metres at metres a second.)"""
    if result.placement != Placement.BAR:
        return None
    # A rep measured across lost samples can be several reps run together (in 3 of 300 hard simulated bar sets).
    odd = [
        r
        for r in result.reps
        if r.velocity_trusted and (r.rom_m > NO_BAR_ROM_M or r.mean_velocity_m_s > NO_BAR_MCV_M_S)
    ]
    if not odd:
        return None
    which = ", ".join(str(r.index) for r in odd[:5]) + (", ..." if len(odd) > 5 else "")
    return (
        f"rep{'s' if len(odd) > 1 else ''} {which} of {len(result.reps)} moved like no bar does (up to "
        f"{max(r.rom_m for r in odd):.1f} m, {max(r.mean_velocity_m_s for r in odd):.1f} m/s): if the sensor was "
        "on a wrist, use --placement wrist"
    )


class SetSession:
    """Feed sample blocks as they arrive; get pipeline events and, once, the end of the set."""

    def __init__(self, exercise: Exercise, placement: Placement, set_config: SetConfig, source: str = "") -> None:
        if placement == Placement.WRIST:
            # On the wrist velocity is an estimate: no minimal velocity applies (see setcontrol), whatever a counter
            # flags, and the JSON's settings say so.
            set_config = dataclasses.replace(set_config, min_velocity_m_s=None)
        self.pipeline = RepPipeline(PipelineConfig.for_lift(exercise, placement))
        self.controller = SetController(set_config)
        self.result = SessionResult(exercise, placement, set_config, source=source)
        self._t_first: float | None = None

    def feed(self, block: SampleBlock) -> list[SessionEvent]:
        if len(block) == 0:
            return []
        if self._t_first is None:
            self._t_first = float(block.t_s[0])
        self.result.samples += len(block)
        self.result.duration_s = float(block.t_s[-1]) - self._t_first
        out = self._take(self.pipeline.feed(block))
        # Time runs on what the pipeline has judged: samples it still holds, or lost ones, may hide a gap, and
        # time in a gap is no inactivity. So the set ends the same however the stream is cut into blocks.
        if self.pipeline.judged_s is not None:
            ended = self.controller.tick(self.pipeline.judged_s)
            if ended is not None:
                out.append(ended)
                self.result.stop = ended
        return out

    def finish(self) -> list[SessionEvent]:
        """End of stream."""
        return self._take(self.pipeline.flush())

    def _take(self, events: list[PipelineEvent]) -> list[SessionEvent]:
        out: list[SessionEvent] = []
        for event in events:
            if isinstance(event, (RepEvent, FailedRepEvent, GapEvent)):
                # Time has passed up to this event: an inactivity deadline before it ends the set first, however
                # the stream was cut into blocks.
                ended = self.controller.tick(event.detected_at_s if not isinstance(event, GapEvent) else event.t_s)
                if ended is not None:
                    out.append(ended)
                    self.result.stop = ended
            out.append(event)
            if isinstance(event, RepEvent):
                self.result.reps.append(event)
            elif isinstance(event, FailedRepEvent):
                self.result.failed.append(event)
            elif isinstance(event, GapEvent):
                self.result.gaps.append(event)
            elif isinstance(event, UnseenRepsEvent):
                self.result.unseen.append(event)
            ended = self.controller.feed(event)
            if ended is not None:
                out.append(ended)
                self.result.stop = ended
        return out


def replay(
    samples: SampleBlock,
    session: SetSession,
    *,
    block_s: float = 10.0,
    on_event: Callable[[SessionEvent], None] | None = None,
    realtime: bool = False,
    speed: float = 1.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> SessionResult:
    """Play a recording through a session, as fast as possible or paced like the live sensor.

    Blocks are cut by recording time (``block_s`` each; 0.05 s when paced), so the pipeline sees what a live link
    would deliver. The result does not depend on the block size.
    """
    if realtime:
        block_s = min(block_s, 0.05)
    if len(samples) == 0:
        return session.result
    t = samples.t_s
    edges = [0]
    step_edges = (t - t[0]) // block_s
    change = (step_edges[1:] != step_edges[:-1]).nonzero()[0] + 1
    edges.extend(change.tolist())
    edges.append(len(t))
    start_wall = clock()
    for lo, hi in itertools.pairwise(edges):
        if hi <= lo:
            continue
        block = samples.slice(lo, hi)
        if realtime:
            wait = (float(block.t_s[-1]) - float(t[0])) / speed - (clock() - start_wall)
            if wait > 0:
                sleep(wait)
        for event in session.feed(block):
            if on_event is not None:
                on_event(event)
    for event in session.finish():
        if on_event is not None:
            on_event(event)
    return session.result
