"""Set control: when does a set end, and why.

A sans-I/O state machine in the manner of h11: feed it pipeline events and the passing of time, and it answers
with at most one ``SetEnded``. It never ends a set twice, and after the end it keeps counting reps (a replay reports
every rep in the recording) without changing its decision.

Theory of operation. The phases and what moves between them::

    TRANSITIONS = {
        (WAITING, rep):             LIFTING or ENDED   (a fixed set of 1 rep ends at once)
        (LIFTING, rep):             LIFTING or ENDED   (the stop rules below)
        (WAITING|LIFTING, failed):  ENDED              (a failed attempt ends any set)
        (LIFTING, tick):            LIFTING or ENDED   (no rep for ``inactivity_s``)
        (LIFTING, gap):             LIFTING or ENDED   (the inactivity timer restarts when data comes back)
        (ENDED, anything):          ENDED
    }

Stop rules on each rep, checked in this order (the first that holds is the reason; the others go in the detail):

- AMRAP: velocity loss at or above the threshold for ``confirm`` reps in a row; mean concentric velocity below the
  lift's minimal velocity threshold; range of motion clearly short of the set's reference; a grinding rep.
- A rep flagged ``data_gap`` (samples lost during it) counts, but its velocity triggers nothing; nor does a rep
  flagged ``no_velocity`` (on the wrist, a lift whose concentric the sensor cannot time; or the other arm's rep of
  alternating curls, ``other_arm``, which no sensor saw), which has none. Neither breaks a run of reps at the
  velocity-loss threshold.
- A rep flagged ``velocity_estimated`` (a wrist-worn sensor) has only a rough velocity: velocity loss needs
  ``confirm_estimated`` reps in a row (2 unless set), and the absolute minimal velocity does not apply. On real
  MetaMotion wrist sets it ended 4 of 13 squat sets at rep 1; on the wrist simulator, two reps in a row cut the
  velocity-loss stops that come two or more reps early from 52 to 20 of 120 sets (all four simulated motions,
  measured while ``other`` lifts still had a velocity).
- Fixed: the target rep count is reached (never more is asked for); a short or grinding rep also ends a fixed set,
  because a beginner's predetermined scheme is not worth bad reps. Velocity loss does not end a fixed set. Reps a
  sensor gap hid (``UnseenRepsEvent``) count towards the target, so that a dropped link does not ask for an extra
  rep; they are never counted as reps.
- Inactivity: no rep for ``inactivity_s`` of *seen* time. A sensor gap (``GapEvent``) restarts the timer when data
  comes back: during a gap no rep can be seen, and a lifter who lifted through it should not have the set ended for
  it. A deadline that fell before the gap began still ends the set, at that deadline, however blocks were cut.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from repsense.core.percent import loss_text, threshold_text
from repsense.errors import ConfigError
from repsense.events import (
    Exercise,
    FailedRepEvent,
    GapEvent,
    PipelineEvent,
    RepEvent,
    RepFlag,
    SetEnded,
    StopReason,
    UnseenRepsEvent,
)

#: Minimal velocity thresholds (mean concentric velocity at a 1RM), m/s, from the velocity-based-training
#: literature. Approximate: individual values scatter by several hundredths.
#: - squat ~0.30-0.32: Sanchez-Medina, Pallares, Perez et al. (2017), full squat;
#: - bench ~0.17 (0.16-0.19): Gonzalez-Badillo & Sanchez-Medina (2010);
#: - deadlift ~0.15 (0.14-0.17): Ruf, Chery & Taylor (2018); Helms et al. (2017);
#: - overhead press ~0.20 (0.19-0.22): Balsalobre-Fernandez et al. (2018), military press.
#: Rows, RDLs, curls and "other" have no agreed threshold, so none is applied.
MIN_VELOCITY_M_S: dict[Exercise, float] = {
    Exercise.SQUAT: 0.30,
    Exercise.BENCH: 0.17,
    Exercise.DEADLIFT: 0.15,
    Exercise.OHP: 0.20,
}


class SetMode(StrEnum):
    AMRAP = "amrap"  # as many good reps as possible: the set ends itself
    FIXED = "fixed"  # a predetermined number of reps


class SetPhase(StrEnum):
    WAITING = "waiting"
    LIFTING = "lifting"
    ENDED = "ended"


@dataclass(frozen=True, slots=True)
class SetConfig:
    """How a set is run. ``velocity_loss`` is a fraction (0.20 = 20 %)."""

    exercise: Exercise = Exercise.OTHER
    mode: SetMode = SetMode.AMRAP
    target_reps: int | None = None
    velocity_loss: float = 0.20
    confirm: int = 1
    confirm_estimated: int = 2  # the same, for reps whose velocity is estimated (a sensor on the wrist)
    min_velocity_m_s: float | None = None
    stop_on_short_rom: bool = True
    stop_on_grinding: bool = True
    inactivity_s: float = 10.0

    def __post_init__(self) -> None:
        if self.mode == SetMode.FIXED and (self.target_reps is None or self.target_reps < 1):
            raise ConfigError("a fixed set needs a target of at least 1 rep (--reps N)")
        if not 0.0 < self.velocity_loss < 1.0:
            pct = self.velocity_loss * 100
            raise ConfigError(f"velocity loss threshold must be between 0 and 100 %, got {pct:g} %")
        if self.confirm < 1 or self.confirm_estimated < 1:
            raise ConfigError("--confirm must be at least 1")
        if self.inactivity_s <= 0.0:
            raise ConfigError("the inactivity timeout must be positive")

    @staticmethod
    def for_lift(exercise: Exercise, **overrides: object) -> SetConfig:
        """The lift's defaults (its minimal velocity threshold), with any field overridden."""
        fields: dict[str, object] = {"exercise": exercise, "min_velocity_m_s": MIN_VELOCITY_M_S.get(exercise)}
        fields.update(overrides)
        return SetConfig(**fields)  # type: ignore[arg-type]


class SetController:
    """Counts reps and decides when the set ends. Feed it every pipeline event, and ``tick`` as time passes."""

    def __init__(self, config: SetConfig) -> None:
        self.config = config
        self.reset()

    def reset(self) -> None:
        self.phase = SetPhase.WAITING
        self.reps: list[RepEvent] = []
        self.failed: list[FailedRepEvent] = []
        self.ended: SetEnded | None = None
        self.unseen = 0  # reps a sensor gap hid, by the rhythm: not counted, but done
        self.data_back_s: float | None = None  # when data last came back after a gap (recording clock, s)
        self._loss_streak = 0

    @property
    def rep_count(self) -> int:
        return len(self.reps)

    def feed(self, event: PipelineEvent) -> SetEnded | None:
        """Take one pipeline event; return ``SetEnded`` if this event ends the set."""
        if isinstance(event, RepEvent):
            self.reps.append(event)
            if self.phase == SetPhase.ENDED:
                return None
            self.phase = SetPhase.LIFTING
            return self._end(self._stop_after_rep(event), event.detected_at_s)
        if isinstance(event, FailedRepEvent):
            self.failed.append(event)
            if self.phase == SetPhase.ENDED or not self.reps:
                # Before the first rep, an "attempt" is far more often the walk-out or a descent that drift
                # inflated than a failed first rep (which the lifter racks, and inactivity then ends the set).
                return None
            detail = f"attempt stalled after {event.rom_m:.2f} m and went back down"
            return self._end([(StopReason.FAILED_REP, detail)], event.detected_at_s)
        if isinstance(event, UnseenRepsEvent):
            self.unseen += event.reps
            if self.phase == SetPhase.ENDED or self.config.mode != SetMode.FIXED:
                return None
            return self._end(self._target_reached(), event.detected_at_s)
        if isinstance(event, GapEvent):
            # Time ran up to the gap's start: a deadline before it ends the set there, as a tick would have.
            ended = self.tick(event.t_s)
            if ended is not None:
                return ended
            back_s = event.t_s + event.duration_s
            self.data_back_s = back_s if self.data_back_s is None else max(self.data_back_s, back_s)
        return None

    def tick(self, now_s: float) -> SetEnded | None:
        """Time has reached ``now_s`` (recording clock). Ends the set if no rep came for ``inactivity_s``."""
        if self.phase != SetPhase.LIFTING or not self.reps:
            return None
        since_s = self.reps[-1].detected_at_s
        if self.data_back_s is not None:
            since_s = max(since_s, self.data_back_s)
        deadline = since_s + self.config.inactivity_s
        if now_s < deadline:
            return None
        detail = f"no rep for {self.config.inactivity_s:g} s"
        return self._end([(StopReason.INACTIVITY, detail)], deadline)

    def _stop_after_rep(self, rep: RepEvent) -> list[tuple[StopReason, str]]:
        cfg = self.config
        reasons: list[tuple[StopReason, str]] = []
        if cfg.mode == SetMode.FIXED:
            reasons.extend(self._target_reached())
        elif not rep.velocity_trusted:
            pass  # measured across lost samples, or not measured at all: it neither triggers nor breaks a stop
        else:
            estimated = RepFlag.VELOCITY_ESTIMATED in rep.flags
            self._loss_streak = self._loss_streak + 1 if rep.velocity_loss >= cfg.velocity_loss else 0
            if self._loss_streak >= (cfg.confirm_estimated if estimated else cfg.confirm):
                reasons.append(
                    (
                        StopReason.VELOCITY_LOSS,
                        f"velocity loss {loss_text(rep.velocity_loss)} reached the "
                        f"{threshold_text(cfg.velocity_loss)} threshold",
                    )
                )
            if not estimated and cfg.min_velocity_m_s is not None and rep.mean_velocity_m_s < cfg.min_velocity_m_s:
                reasons.append(
                    (
                        StopReason.MIN_VELOCITY,
                        f"{rep.mean_velocity_m_s:.2f} m/s is below the {cfg.min_velocity_m_s:.2f} m/s "
                        f"minimal velocity for {cfg.exercise}",
                    )
                )
        if cfg.stop_on_short_rom and RepFlag.SHORT_ROM in rep.flags:
            reasons.append((StopReason.SHORT_ROM, f"range of motion {rep.rom_m:.2f} m is clearly short"))
        if cfg.stop_on_grinding and RepFlag.GRINDING in rep.flags:
            reasons.append((StopReason.GRINDING, f"a grinding rep ({rep.duration_s:.1f} s concentric)"))
        return reasons

    def _target_reached(self) -> list[tuple[StopReason, str]]:
        """A fixed set's target, reached by the reps counted and those a sensor gap hid."""
        done = self.rep_count + self.unseen
        if self.config.target_reps is None or done < self.config.target_reps:
            return []
        target = self.config.target_reps
        if done > target:  # the rhythm's guess of the hidden reps overshot: the target is what was done
            detail = f"all {target} reps done ({self.rep_count} counted, about {self.unseen} unseen in a sensor gap)"
        else:
            hidden = f" ({self.unseen} unseen in a sensor gap)" if self.unseen else ""
            detail = f"{done} of {target} reps done{hidden}"
        return [(StopReason.TARGET_REACHED, detail)]

    def _end(self, reasons: list[tuple[StopReason, str]], t_s: float) -> SetEnded | None:
        if not reasons:
            return None
        reason, detail = reasons[0]
        if len(reasons) > 1:
            detail += "; also: " + ", ".join(str(r) for r, _ in reasons[1:])
        self.phase = SetPhase.ENDED
        self.ended = SetEnded(self.rep_count, t_s, reason, detail)
        return self.ended
