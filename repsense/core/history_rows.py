"""What the history stores, as values: a rep, a set to save, a stored set, and the arithmetic of a corrected set.

Pure: no SQLite here (that is ``repsense.core.history``). Times are aware datetimes, stored as ISO 8601 UTC text.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from repsense.core.advice import unseen_in_set
from repsense.events import UNTRUSTED_VELOCITY, RepFlag

if TYPE_CHECKING:
    from repsense.core.session import SessionResult

LB_KG = 0.45359237

#: A bad-form flag: the rep happened but is not a good rep.
BAD_FORM = frozenset({RepFlag.SHORT_ROM.value, RepFlag.GRINDING.value})


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def to_iso(when: dt.datetime) -> str:
    """``when`` as stored: UTC, whole seconds, ``Z``. A naive datetime is taken as local time."""
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def from_iso(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def local_day(when: dt.datetime) -> dt.date:
    """The local calendar day of ``when`` (a naive datetime is local time)."""
    return when.astimezone().date()


def local_midnight(when: dt.datetime | None = None) -> dt.datetime:
    """The start of the local day of ``when`` (now when None), an aware datetime."""
    return (when or dt.datetime.now()).astimezone().replace(hour=0, minute=0, second=0, microsecond=0)


#: Metadata keys that say when a recording began: ours (``started``, live sessions) and the vendor importers'.
STARTED_KEYS = ("started", "start_time", "date")


def recording_started(metadata: Mapping[str, str]) -> dt.datetime | None:
    """When a recording began, by its metadata (a time without a zone is local), or None if it does not say."""
    text = next((str(metadata[key]) for key in STARTED_KEYS if metadata.get(key)), None)
    try:
        return None if text is None else from_iso(text)
    except ValueError:
        return None


def kg_to_unit(load_kg: float, unit: str | None) -> float:
    """A load in kg expressed in ``unit`` (kg or lb), rounded so that 225 lb reads back as 225."""
    return round(load_kg / LB_KG, 6) if unit == "lb" else round(load_kg, 6)


@dataclass(frozen=True, slots=True)
class RepRow:
    """One rep as stored. Metrics are None for a rep the user added (it was missed: nothing was measured)."""

    idx: int
    t_start_s: float | None
    t_end_s: float | None
    mean_velocity_m_s: float | None
    peak_velocity_m_s: float | None
    rom_m: float | None
    velocity_loss: float | None
    flags: tuple[str, ...] = ()
    counted: bool = True
    added_by_user: bool = False

    @property
    def good(self) -> bool:
        """Counted, and with good form (no short range of motion, no grinding)."""
        return self.counted and not BAD_FORM.intersection(self.flags)

    def to_dict(self) -> dict[str, Any]:
        return {
            "idx": self.idx,
            "t_start_s": self.t_start_s,
            "t_end_s": self.t_end_s,
            "mcv_m_s": self.mean_velocity_m_s,
            "peak_m_s": self.peak_velocity_m_s,
            "rom_m": self.rom_m,
            "velocity_loss": self.velocity_loss,
            "flags": list(self.flags),
            "counted": self.counted,
            "added_by_user": self.added_by_user,
        }


@dataclass(frozen=True, slots=True)
class SetSummary:
    """What a set's reps add up to. ``best_mcv_m_s`` and ``vl_at_stop`` are None when no counted rep has a velocity."""

    rep_count: int
    good_reps: int
    best_mcv_m_s: float | None
    vl_at_stop: float | None


def recompute(reps: Sequence[RepRow]) -> tuple[tuple[RepRow, ...], SetSummary]:
    """Velocity loss of every rep and the set's summary, from which reps are counted.

    As the pipeline does it, velocity loss is ``1 - MCV / best MCV so far``, where the best runs over the counted reps
    up to and including this one; a rep measured across lost samples (``data_gap``) sets no reference, and one not
    measured at all (``no_velocity``, stored without velocities) has no loss. A dropped rep is measured against the
    counted reps before it. ``vl_at_stop`` is the velocity loss of the last counted rep with a velocity. With nothing
    corrected, this reproduces what the pipeline said for the reps up to the stop.
    """
    best = 0.0
    out: list[RepRow] = []
    for rep in sorted(reps, key=lambda r: r.idx):
        mcv = rep.mean_velocity_m_s
        if mcv is None:
            out.append(replace(rep, velocity_loss=None))
            continue
        if rep.counted and not UNTRUSTED_VELOCITY.intersection(rep.flags):
            best = max(best, mcv)
        out.append(replace(rep, velocity_loss=max(0.0, 1.0 - mcv / best) if best > 0 else 0.0))
    counted = [r for r in out if r.counted]
    with_velocity = [r for r in counted if r.mean_velocity_m_s is not None]
    summary = SetSummary(
        rep_count=len(counted),
        good_reps=sum(r.good for r in counted),
        best_mcv_m_s=best if best > 0 else None,
        vl_at_stop=with_velocity[-1].velocity_loss if with_velocity else None,
    )
    return tuple(out), summary


def missed_rep_room(reps: Sequence[RepRow], stop_rep: int | None, unseen_reps: int = 0) -> int | None:
    """How many reps the sensor can have missed before a set's stop: reps a user may add (``repsense correct
    --add-rep``) as the set's own. None when the set never stopped (it has no "after the stop").

    A missed rep took time before the stop. At the set's own rhythm (the median time from one measured rep's start to
    the next), the time from the first measured rep's start to the stop rep's start holds so many reps; those
    measured up to the stop (dropped ones too: they took their time) leave the rest, plus one that may come before
    the first measured rep or hide in a slowing end. Never fewer than ``unseen_reps``, the reps a sensor gap hid.
    A rep claimed beyond that would have come after the stop, where reps are not the set's.
    """
    if stop_rep is None:
        return None
    timed = sorted((r.idx, r.t_start_s) for r in reps if not r.added_by_user and r.t_start_s is not None)
    before = [t for idx, t in timed if idx <= stop_rep]
    starts = [t for _idx, t in timed]
    cycles = [b - a for a, b in itertools.pairwise(starts) if b > a]
    room = 1
    if before and cycles:
        fit = math.floor((before[-1] - before[0]) / statistics.median(cycles) + 0.5) + 1
        room += max(0, fit - len(before))
    return max(room, unseen_reps)


def set_order(reps: Sequence[RepRow], stop_rep: int | None) -> tuple[RepRow, ...]:
    """A set's reps in the order they belong: for a set that stopped, reps added by hand (missed before the stop)
    come just before the stop rep, and the reps after the stop last; otherwise by number."""
    if stop_rep is None:
        return tuple(sorted(reps, key=lambda r: r.idx))

    def place(r: RepRow) -> tuple[int, int]:
        if r.added_by_user:
            return (1, r.idx)
        return (0 if r.idx < stop_rep else 2 if r.idx == stop_rep else 3, r.idx)

    return tuple(sorted(reps, key=place))


@dataclass(frozen=True, slots=True)
class SetRecord:
    """A set to store: what ``save_set`` takes. The summary columns are computed from ``reps``."""

    exercise: str
    mode: str
    reps: tuple[RepRow, ...]
    placement: str = "bar"
    load_kg: float | None = None
    load_unit: str | None = None  # "kg" or "lb": the unit the user gave, for display
    plan_text: str | None = None
    set_number: int | None = None
    target_reps: int | None = None
    vl_threshold: float | None = None  # the AMRAP stop threshold, a fraction
    stop_reason: str | None = None
    stop_detail: str = ""
    stop_rep: int | None = None
    advice_verdict: str | None = None
    advice_text: str | None = None
    recording_path: str | None = None
    unseen_reps: int = 0  # reps a sensor gap hid, by the set's rhythm: not counted
    started_at: dt.datetime | None = None  # the session's start; now when None
    sensor: str = ""
    source: str = ""

    @classmethod
    def from_result(cls, result: SessionResult, **fields: Any) -> SetRecord:
        """A set from a replay or a live session. Reps after the stop are stored but not counted; reps a sensor gap
        hid are those within the set (``advice.unseen_in_set``)."""
        stop_rep = None if result.stop is None else result.stop.rep
        reps = tuple(
            RepRow(
                idx=r.index,
                t_start_s=r.t_start_s,
                t_end_s=r.t_end_s,
                mean_velocity_m_s=r.mean_velocity_m_s if r.has_velocity else None,
                peak_velocity_m_s=r.peak_velocity_m_s if r.has_velocity else None,
                rom_m=r.rom_m if r.has_velocity else None,
                velocity_loss=r.velocity_loss if r.has_velocity else None,
                flags=tuple(str(f) for f in r.flags),
                counted=stop_rep is None or r.index <= stop_rep,
            )
            for r in result.reps
        )
        cfg = result.set_config
        base: dict[str, Any] = {
            "exercise": str(result.exercise),
            "placement": str(result.placement),
            "mode": str(cfg.mode),
            "target_reps": cfg.target_reps,
            "vl_threshold": cfg.velocity_loss,
            "stop_reason": None if result.stop is None else str(result.stop.reason),
            "stop_detail": "" if result.stop is None else result.stop.detail,
            "stop_rep": stop_rep,
            "source": result.source,
            "reps": reps,
            "unseen_reps": unseen_in_set(result),
        }
        base.update(fields)
        return cls(**base)


@dataclass(frozen=True, slots=True)
class SetRow:
    """A stored set with its session and reps. ``rep_count`` is the ``reps`` column (counted reps); ``reps`` the
    rep rows."""

    id: int
    session_id: int
    started_at: dt.datetime
    sensor: str
    source: str
    exercise: str
    placement: str
    load_kg: float | None
    load_unit: str | None
    plan_text: str | None
    set_number: int | None
    mode: str
    target_reps: int | None
    vl_threshold: float | None
    stop_reason: str | None
    stop_detail: str
    stop_rep: int | None
    rep_count: int
    good_reps: int
    best_mcv_m_s: float | None
    vl_at_stop: float | None
    advice_verdict: str | None
    advice_text: str | None
    recording_path: str | None
    created_at: dt.datetime
    corrected_at: dt.datetime | None
    unseen_reps: int = 0
    reps: tuple[RepRow, ...] = ()

    @property
    def load_value(self) -> float | None:
        """The load in the unit the user gave it."""
        return None if self.load_kg is None else kg_to_unit(self.load_kg, self.load_unit)

    @property
    def load_text(self) -> str:
        """``100 kg``, ``225 lb``, or empty without a load."""
        value = self.load_value
        return "" if value is None else f"{value:g} {self.load_unit or 'kg'}"

    def to_dict(self) -> dict[str, Any]:
        """Every column, times as stored (ISO UTC), and the reps."""
        return {
            "id": self.id,
            "session_id": self.session_id,
            "started_at": to_iso(self.started_at),
            "sensor": self.sensor,
            "source": self.source,
            "exercise": self.exercise,
            "placement": self.placement,
            "load_kg": self.load_kg,
            "load_unit": self.load_unit,
            "plan_text": self.plan_text,
            "set_number": self.set_number,
            "mode": self.mode,
            "target_reps": self.target_reps,
            "vl_threshold": self.vl_threshold,
            "stop_reason": self.stop_reason,
            "stop_detail": self.stop_detail,
            "stop_rep": self.stop_rep,
            "reps": self.rep_count,
            "good_reps": self.good_reps,
            "best_mcv": self.best_mcv_m_s,
            "vl_at_stop": self.vl_at_stop,
            "advice_verdict": self.advice_verdict,
            "advice_text": self.advice_text,
            "recording_path": self.recording_path,
            "created_at": to_iso(self.created_at),
            "corrected_at": None if self.corrected_at is None else to_iso(self.corrected_at),
            "unseen_reps": self.unseen_reps,
            "rep_rows": [r.to_dict() for r in self.reps],
        }
