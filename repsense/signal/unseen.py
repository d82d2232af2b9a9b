"""Reps made while no samples came: how many the set's rhythm says a gap swallowed.

When a link drops for a few seconds mid-set, the reps made meanwhile are not in the data, and no counter can see
them (in 4 of ebbelaar_metamotion's 57 real wrist sets the link dropped for 2-3.5 s). They are not counted: an
unseen rep has no velocity and no form to judge. But the lifter should hear that the count may be short, and by
how much, so that they can add the reps they made (``repsense correct SET --add-rep N``).

The estimate comes from the rhythm of the reps around the gap. It is given only when that rhythm is clear:

- the gap lies between two counted reps, ``T`` apart;
- at least ``min_intervals`` rep-to-rep intervals that span no gap, the ones nearest the gap (up to
  ``max_intervals``, before it or after it), all lie within ``tempo_tolerance`` of their median ``P``: a steady
  tempo;
- ``T / P`` is within ``ratio_tolerance`` of a whole number ``k`` of at least 2: ``k - 1`` reps are missing;
- the missing reps, spaced evenly between the two, fall after the gap's start less half a period and before
  its end plus two periods (the counter may miss the first reps after it, while it settles again): reps missed
  well away from the gap are not the gap's doing;
- the gap (gaps with no rep between them taken as one) lasts at most ``max_gap_s``, 3 minutes: nobody keeps a
  steady tempo through a longer silence (it is a rest, or a corrupted clock), so a longer gap gets no estimate
  at all rather than an absurd one.

``UnseenRepsEvent`` says ``k - 1`` as soon as the tempo is known: with the first rep after the gap when enough
reps came before it, else with a later one. A gap after which no rep comes (the set ended in it) says nothing,
nor does an unsteady tempo. Gaps with no rep between them are taken as one. Pure bookkeeping on the events the
counters emit: causal, any block size.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field

from repsense.events import GapEvent, PipelineEvent, RepEvent, UnseenRepsEvent


@dataclass(frozen=True, slots=True)
class UnseenConfig:
    """How many intervals make a tempo, and how closely it and the interval across the gap must fit."""

    min_intervals: int = 2
    max_intervals: int = 4
    tempo_tolerance: float = 0.25
    ratio_tolerance: float = 0.25
    max_gap_s: float = 180.0


@dataclass(frozen=True, slots=True)
class _Span:
    """Two reps with a gap between them, waiting for the tempo."""

    last_before_s: float
    first_after_s: float
    gap_start_s: float
    gap_end_s: float


@dataclass(slots=True)
class UnseenState:
    rep_ends: list[float] = field(default_factory=list)  # recent reps' end times
    across: set[float] = field(default_factory=set)  # end times of reps whose interval from the one before spans a gap
    gap_start_s: float | None = None  # the gap (or gaps, with no rep between them) since the last rep
    gap_end_s: float = 0.0
    waiting: list[_Span] = field(default_factory=list)


class UnseenReps:
    """Feed it every event the pipeline emits, in order; it returns the ``UnseenRepsEvent``s to emit after it (a
    rep that shows, with the reps before it, that a gap hid reps)."""

    def __init__(self, config: UnseenConfig | None = None) -> None:
        self.config = config or UnseenConfig()
        self.state = UnseenState()

    def see(self, event: PipelineEvent) -> list[UnseenRepsEvent]:
        cfg, st = self.config, self.state
        if isinstance(event, GapEvent):
            if st.gap_start_s is None:
                st.gap_start_s = event.t_s
            st.gap_end_s = event.t_s + event.duration_s
            return []
        if not isinstance(event, RepEvent):
            return []
        if st.gap_start_s is not None and st.rep_ends:
            st.waiting.append(_Span(st.rep_ends[-1], event.t_end_s, st.gap_start_s, st.gap_end_s))
            st.across.add(event.t_end_s)
        st.gap_start_s = None
        st.rep_ends.append(event.t_end_s)
        keep = 2 * cfg.max_intervals + 2
        if len(st.rep_ends) > keep:
            del st.rep_ends[:-keep]
            st.across &= set(st.rep_ends)
        found = []
        for span in list(st.waiting):
            period = self._tempo(span)
            if period is None and len(st.rep_ends) < keep:
                continue  # not enough reps yet: wait for the next one
            st.waiting.remove(span)
            missing = None if period is None else self._missing(span, period, event.detected_at_s)
            if missing is not None:
                found.append(missing)
        return found

    def _tempo(self, span: _Span) -> float | None:
        """The median of the gap-free intervals nearest ``span``, if there are enough; ``nan`` if unsteady."""
        cfg, st = self.config, self.state
        intervals = [
            (abs(b - span.first_after_s), b - a)
            for a, b in zip(st.rep_ends, st.rep_ends[1:], strict=False)
            if b not in st.across
        ]
        if len(intervals) < cfg.min_intervals:
            return None
        nearest = [length for _, length in sorted(intervals)[: cfg.max_intervals]]
        period = statistics.median(nearest)
        if period <= 0.0 or any(abs(i - period) > cfg.tempo_tolerance * period for i in nearest):
            return math.nan
        return period

    def _missing(self, span: _Span, period: float, detected_at_s: float) -> UnseenRepsEvent | None:
        cfg = self.config
        if math.isnan(period) or span.gap_end_s - span.gap_start_s > cfg.max_gap_s:
            return None
        across = span.first_after_s - span.last_before_s
        k = round(across / period)
        if k < 2 or abs(across / period - k) > cfg.ratio_tolerance:
            return None
        first, last = span.last_before_s + across / k, span.first_after_s - across / k
        if first < span.gap_start_s - 0.5 * period or last > span.gap_end_s + 2.0 * period:
            return None  # not the gap's doing
        return UnseenRepsEvent(
            gap_t_s=span.gap_start_s,
            gap_duration_s=span.gap_end_s - span.gap_start_s,
            reps=k - 1,
            period_s=period,
            detected_at_s=detected_at_s,
        )
