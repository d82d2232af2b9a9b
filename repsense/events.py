"""What the pipeline and the set controller say: reps, failed attempts, gaps (and the reps they hid), the end of a set.

All values are frozen dataclasses with units in their names. Times are on the recording's own clock (seconds).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Exercise(StrEnum):
    """The lifts repsense knows. ``OTHER`` still counts: it assumes nothing about where a rep starts."""

    SQUAT = "squat"
    BENCH = "bench"
    DEADLIFT = "deadlift"
    RDL = "rdl"
    OHP = "ohp"
    ROW = "row"
    CURL = "curl"
    ALT_CURL = "alt_curl"  # alternating dumbbell curls: the sensor sees one arm, and each rep it sees stands for two
    OTHER = "other"

    @property
    def starts_from_top(self) -> bool:
        """True when a rep begins with the eccentric (squat, bench, ohp from the rack position)."""
        return self in (Exercise.SQUAT, Exercise.BENCH, Exercise.OHP)

    @property
    def alternating(self) -> bool:
        """True when the arms take turns (alternating dumbbell curls): a sensor on one arm sees half the reps."""
        return self is Exercise.ALT_CURL


class Placement(StrEnum):
    """Where the sensor sits."""

    BAR = "bar"
    WRIST = "wrist"


class RepFlag(StrEnum):
    """Remarks on one rep. A flagged rep still counts; the set controller decides what a flag means."""

    SHORT_ROM = "short_rom"  # range of motion clearly short of the set's reference
    GRINDING = "grinding"  # concentric much slower than the set's first reps
    VELOCITY_ESTIMATED = "velocity_estimated"  # velocity inferred from a body-worn sensor, not the bar
    DATA_GAP = "data_gap"  # samples were lost during this rep: its velocity is not to be trusted
    NO_VELOCITY = "no_velocity"  # the sensor cannot time this lift's concentric: no velocity, range or loss
    OTHER_ARM = "other_arm"  # the other arm's rep of an alternating lift: counted, not seen


#: A rep with one of these flags sets no reference for velocity loss, and its velocity triggers no stop.
UNTRUSTED_VELOCITY = frozenset({RepFlag.DATA_GAP, RepFlag.NO_VELOCITY})


class StopReason(StrEnum):
    """Why a set ended."""

    VELOCITY_LOSS = "velocity_loss"
    MIN_VELOCITY = "min_velocity"
    SHORT_ROM = "short_rom"
    GRINDING = "grinding"
    FAILED_REP = "failed_rep"
    INACTIVITY = "inactivity"
    TARGET_REACHED = "target_reached"


@dataclass(frozen=True, slots=True)
class RepEvent:
    """One completed rep, emitted at lockout.

    ``t_start_s``..``t_end_s`` is the concentric phase: from the lowest point, where velocity turns upward, to
    lockout, where it returns to zero. ``mean_velocity_m_s`` is the mean concentric velocity (ROM over duration),
    ``velocity_loss`` is ``1 - MCV / best MCV so far`` as a fraction, and ``detected_at_s`` is the time of the last
    sample consumed when the event was emitted.
    """

    index: int
    t_start_s: float
    t_end_s: float
    detected_at_s: float
    mean_velocity_m_s: float
    peak_velocity_m_s: float
    rom_m: float
    velocity_loss: float
    flags: tuple[RepFlag, ...] = ()

    @property
    def duration_s(self) -> float:
        return self.t_end_s - self.t_start_s

    @property
    def has_velocity(self) -> bool:
        """False for a rep that was counted but not measured (``no_velocity``): its velocities, range and loss
        are zeros that mean nothing."""
        return RepFlag.NO_VELOCITY not in self.flags

    @property
    def velocity_trusted(self) -> bool:
        """Whether its velocity may set a reference for velocity loss and trigger a stop."""
        return not UNTRUSTED_VELOCITY.intersection(self.flags)

    def to_dict(self) -> dict[str, Any]:
        def measured(value: float) -> float | None:
            return round(value, 4) if self.has_velocity else None

        return {
            "index": self.index,
            "t_start": round(self.t_start_s, 4),
            "t_end": round(self.t_end_s, 4),
            "detected_at": round(self.detected_at_s, 4),
            "mean_velocity": measured(self.mean_velocity_m_s),
            "peak_velocity": measured(self.peak_velocity_m_s),
            "rom": measured(self.rom_m),
            "velocity_loss": measured(self.velocity_loss),
            "flags": [str(f) for f in self.flags],
        }


@dataclass(frozen=True, slots=True)
class FailedRepEvent:
    """A concentric attempt that stalled part way and went back down. It is not a rep."""

    t_start_s: float
    t_stall_s: float
    detected_at_s: float
    rom_m: float
    peak_velocity_m_s: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "t_start": round(self.t_start_s, 4),
            "t_stall": round(self.t_stall_s, 4),
            "detected_at": round(self.detected_at_s, 4),
            "rom": round(self.rom_m, 4),
            "peak_velocity": round(self.peak_velocity_m_s, 4),
        }


@dataclass(frozen=True, slots=True)
class GapEvent:
    """No samples arrived between ``t_s`` and ``t_s + duration_s``; the integrators were reset."""

    t_s: float
    duration_s: float

    def to_dict(self) -> dict[str, Any]:
        return {"t": round(self.t_s, 4), "duration": round(self.duration_s, 4)}


@dataclass(frozen=True, slots=True)
class UnseenRepsEvent:
    """By the set's rhythm (a rep every ``period_s``), about ``reps`` reps were made in the gap that began at
    ``gap_t_s`` and lasted ``gap_duration_s`` (gaps with no rep between them taken as one). They are not counted:
    no sample saw them. Reported with the first rep after the gap (``detected_at_s``)."""

    gap_t_s: float
    gap_duration_s: float
    reps: int
    period_s: float
    detected_at_s: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "gap_t": round(self.gap_t_s, 4),
            "gap_duration": round(self.gap_duration_s, 4),
            "reps": self.reps,
            "period": round(self.period_s, 4),
            "detected_at": round(self.detected_at_s, 4),
        }


@dataclass(frozen=True, slots=True)
class SetEnded:
    """The set is over: ``rep`` reps had been counted when it ended at ``t_s``, for ``reason``."""

    rep: int
    t_s: float
    reason: StopReason
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"rep": self.rep, "t": round(self.t_s, 4), "reason": str(self.reason), "detail": self.detail}


PipelineEvent = RepEvent | FailedRepEvent | GapEvent | UnseenRepsEvent
