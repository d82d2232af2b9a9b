"""The one streaming pipeline that live sessions and replays share.

``SampleBlock`` -> (on the wrist, the glitch filter) -> uniform grid -> vertical specific force -> rep segmenter
(on the wrist, one of the wrist counters) -> events. Feed it blocks of any size in order; it returns the events
each block completed. ``flush()`` ends the stream. After a gap in the samples, the rep that shows the set's rhythm
across it is followed by an ``UnseenRepsEvent`` when reps were made in the gap (``repsense.signal.unseen``).

Alternating lifts (``alt_curl``: left, right, left, ...) are counted as their one-arm lift is, and the sensor sees
only the arm it is on. So every rep it sees stands for two: the other arm's rep (flags ``other_arm`` and
``no_velocity``: times at the start of the seen rep's concentric, no velocity, range or loss), then the seen rep,
with its own velocity and flags; the indexes run 1, 2, 3, ... with the seen reps on the even ones. This happens
here, once, so that live sessions and replays share it. The pair is emitted together because that is simple and
predictable: the count always moves by two, when the seen arm locks out, and nothing waits for a rep nobody can
see. The other arm's rep comes first so that a stop, which only a seen rep's velocity can trigger, ends the set
on a whole pair: an AMRAP set stopped on the seen arm's slowing rep has both arms' reps in it (with the other
arm's after it, its last rep fell outside the set). Which arm really began is not known, and the count runs
ahead of the other arm: a fixed set of N reps reaches N when the seen arm does its N/2-th rep, and its cue comes
while the other arm may still do its last one. (The other arm may also stop short of its partner's count: that is
not seen either.) A gap's hidden reps are reckoned on the seen arm's rhythm and doubled.

On the wrist the seen reps are not timed either (``no_velocity``): the sensor's arm rests while the other arm
curls, and the curl counter's estimate does not survive that. On 40 hard simulated sets it read the first seen rep
at 1.84 times the others (median; 0.96 for one-arm curls), and an AMRAP set of alternating curls stopped on
velocity loss too early or for nothing in 34 of 60 (9 for one-arm curls). So such a set ends at its target, or
when the reps stop. On the bar path (the sensor on one dumbbell) the seen reps keep their velocity, and velocity
loss is the segmenter's own, over seen reps only.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from repsense.errors import RecordingError
from repsense.events import Exercise, GapEvent, PipelineEvent, Placement, RepEvent, RepFlag
from repsense.samples import SampleBlock
from repsense.signal.despike import Decided, GlitchConfig, GlitchFilter
from repsense.signal.periodic import PeriodicConfig, PeriodicRepCounter
from repsense.signal.resample import Gap, ResamplerConfig, UniformResampler
from repsense.signal.segmenter import RepSegmenter, SegmenterConfig
from repsense.signal.unseen import UnseenReps
from repsense.signal.vertical import VerticalConfig, VerticalSpecificForce
from repsense.signal.wrist import WristConfig, WristRepCounter

#: Smallest concentric range that counts as a rep, per lift (m). Unracking lifts the bar 4-10 cm, so the floor is
#: well above that; the shortest common full-ROM barbell lift (a bench press with a big arch) travels ~0.25 m.
MIN_ROM_M: dict[Exercise, float] = {
    Exercise.SQUAT: 0.18,
    Exercise.BENCH: 0.14,
    Exercise.DEADLIFT: 0.18,
    Exercise.RDL: 0.15,
    Exercise.OHP: 0.18,
    Exercise.ROW: 0.12,
    Exercise.CURL: 0.15,
    Exercise.ALT_CURL: 0.15,
    Exercise.OTHER: 0.12,
}

#: Longest concentric range a lift plausibly has (m): a tall lifter's full squat or overhead press.
MAX_ROM_M: dict[Exercise, float] = {
    Exercise.SQUAT: 0.85,
    Exercise.BENCH: 0.55,
    Exercise.DEADLIFT: 0.75,
    Exercise.RDL: 0.7,
    Exercise.OHP: 0.75,
    Exercise.ROW: 0.6,
    Exercise.CURL: 0.7,
    Exercise.ALT_CURL: 0.7,
    Exercise.OTHER: 1.2,
}

#: Lifts whose wrist follows the bar up and down, counted by the vertical motion (``WristRepCounter``). On the
#: others (curls, machines, cables, dumbbells) the wrist turns more than it rises, and the whole accelerometer's
#: rhythm is counted instead (``PeriodicRepCounter``).
BARBELL_LIFTS = frozenset({Exercise.SQUAT, Exercise.BENCH, Exercise.DEADLIFT, Exercise.RDL, Exercise.OHP, Exercise.ROW})

#: Flags a rep with no velocity drops: it has no estimate, and says so once.
UNTIMED = frozenset({RepFlag.VELOCITY_ESTIMATED, RepFlag.NO_VELOCITY})

#: Lifts counted as curls: their concentric raises the wrist to lockout (``PeriodicConfig.lockout_at_top``).
CURLS = frozenset({Exercise.CURL, Exercise.ALT_CURL})

#: Barbell lifts whose bar goes down after every rep, the last one too (it is put down, not racked). On the wrist, a
#: rep of these counts once the wrist has come down again: after a set put down and a still wrist, the band-pass
#: gives back the final descent as a rise of about its size, and that is no rep (see ``repsense.signal.wrist``).
#: RDLs are often racked at the top instead, and would lose their last rep.
PUT_DOWN_AFTER_THE_SET = frozenset({Exercise.DEADLIFT, Exercise.ROW})


@dataclass(frozen=True, slots=True)
class PipelineConfig:
    """Settings for one stream. Build it with ``PipelineConfig.for_lift`` to get the lift's defaults."""

    exercise: Exercise = Exercise.OTHER
    placement: Placement = Placement.BAR
    glitch: GlitchConfig | None = None  # the wrist's glitch filter (see repsense.signal.despike)
    resampler: ResamplerConfig = field(default_factory=ResamplerConfig)
    vertical: VerticalConfig = field(default_factory=VerticalConfig)
    segmenter: SegmenterConfig = field(default_factory=SegmenterConfig)
    wrist: WristConfig = field(default_factory=WristConfig)
    periodic: PeriodicConfig = field(default_factory=PeriodicConfig)

    @staticmethod
    def for_lift(exercise: Exercise, placement: Placement = Placement.BAR) -> PipelineConfig:
        resampler = ResamplerConfig()
        rate = resampler.rate_hz
        segmenter = SegmenterConfig(
            rate_hz=rate,
            needs_descent=exercise.starts_from_top,
            min_rom_m=MIN_ROM_M[exercise],
            max_rom_m=MAX_ROM_M[exercise],
            estimated_velocity=placement == Placement.WRIST,
        )
        return PipelineConfig(
            exercise=exercise,
            placement=placement,
            resampler=resampler,
            vertical=VerticalConfig(rate_hz=rate),
            segmenter=segmenter,
            # The same gaps as the resampler's: the glitch filter never compares samples across one.
            glitch=GlitchConfig(gap_s=resampler.gap_s) if placement == Placement.WRIST else None,
            wrist=WristConfig(rate_hz=rate, confirm_by_descent=exercise in PUT_DOWN_AFTER_THE_SET),
            periodic=PeriodicConfig(rate_hz=rate, lockout_at_top=exercise in CURLS),
        )


class RepPipeline:
    """Causal, chunk-invariant: the same events whether fed one sample at a time or all at once."""

    def __init__(self, config: PipelineConfig) -> None:
        self.config = config
        self.reset()

    def reset(self) -> None:
        self._resampler: UniformResampler | None = None
        self._glitch: GlitchFilter | None = None
        self._vertical = VerticalSpecificForce(self.config.vertical)
        self._segmenter = RepSegmenter(self.config.segmenter)
        # A wrist never rests like a bar: it is read by its rhythm, not by anchored integration.
        self._wrist: WristRepCounter | None = None
        self._periodic: PeriodicRepCounter | None = None
        if self.config.placement == Placement.WRIST:
            if self.config.exercise in BARBELL_LIFTS:
                self._wrist = WristRepCounter(self.config.wrist)
            else:
                self._periodic = PeriodicRepCounter(self.config.periodic)
        self._unseen = UnseenReps()
        self._reps_out = 0  # reps emitted so far: on an alternating lift, both arms'
        self._has_gyro: bool | None = None
        self.last_seen_s: float | None = None
        #: The stream time up to which every event is out: the last sample through the filters, or the end of the
        #: last gap. Samples still held (by the glitch filter, the resampler) or taken as lost are not judged, and
        #: neither is a gap before the sample that ends it. A clock that runs on this never counts unknown time.
        self.judged_s: float | None = None

    @property
    def segmenter(self) -> RepSegmenter:
        return self._segmenter

    def feed(self, block: SampleBlock) -> list[PipelineEvent]:
        if len(block) == 0:
            return []
        if self._has_gyro is None:
            self._has_gyro = block.has_gyro
            self._resampler = UniformResampler(self.config.resampler, 6 if block.has_gyro else 3)
            if self.config.glitch is not None:
                self._glitch = GlitchFilter(self.config.glitch, rest_channels=3 if block.has_gyro else 0)
        if self.last_seen_s is not None and block.t_s[0] <= self.last_seen_s:
            raise RecordingError("sample times must keep increasing across blocks")
        if self._has_gyro and block.gyro_dps is None:
            raise ValueError("the stream started with a gyroscope and this block has none")
        self.last_seen_s = float(block.t_s[-1])
        # Some sensors send (0, 0, 0) until they are awake, or for a reading they lost. No accelerometer reads
        # exactly that (gravity and noise see to it), so such a sample is taken as lost.
        t_s, acc_g, gyro = block.t_s, block.acc_g, block.gyro_dps if self._has_gyro else None
        read = np.any(acc_g != 0.0, axis=1)
        if not read.all():
            t_s, acc_g, gyro = t_s[read], acc_g[read], None if gyro is None else gyro[read]
            if len(t_s) == 0:
                return []
        if self._glitch is None:
            return self._resampled(t_s, acc_g if gyro is None else np.hstack([acc_g, gyro]), None)
        return self._decided(self._glitch.feed(t_s, acc_g, gyro))

    def _decided(self, samples: Decided) -> list[PipelineEvent]:
        return self._resampled(samples.t_s, np.hstack([samples.acc_g, samples.rest]), samples.known_at_s)

    def _resampled(self, t_s: np.ndarray, x: np.ndarray, known_at_s: np.ndarray | None) -> list[PipelineEvent]:
        assert self._resampler is not None
        events: list[PipelineEvent] = []
        for item in self._resampler.feed(t_s, x, known_at_s):
            if isinstance(item, Gap):
                # Reps waiting for confirmation (periodic) or for the filter to start (wrist) count before the gap.
                if self._periodic is not None:
                    events.extend(self._periodic.restart_after_gap(item.known_at_s))
                if self._wrist is not None:
                    events.extend(self._wrist.restart_after_gap(item.known_at_s))
                events.append(GapEvent(item.t_s, item.duration_s))
                self._vertical.reset()
                self._segmenter.restart_after_gap()
                self.judged_s = item.t_s + item.duration_s
                continue
            if len(item.t_s):
                self.judged_s = float(item.t_s[-1])
            gyro = item.x[:, 3:6] if self._has_gyro else None
            s, s_smooth, up = self._vertical.feed(item.x[:, 0:3], gyro)
            if self._wrist is not None:
                events.extend(self._wrist.feed(item.t_s, s, item.enabled_at_s, up))
            elif self._periodic is not None:
                events.extend(self._periodic.feed(item.t_s, item.x[:, 0:3], s, item.enabled_at_s))
            else:
                events.extend(
                    self._segmenter.feed(item.t_s, s, s_smooth, up, item.enabled_at_s, item.hole, item.input_interval_s)
                )
        return self._with_unseen(self._both_arms(events))

    def flush(self) -> list[PipelineEvent]:
        if self.last_seen_s is None:
            return []
        # The last samples, held back to be judged against those after them, go through first.
        done = [] if self._glitch is None else self._decided(self._glitch.flush())
        events: list[PipelineEvent]
        if self._wrist is not None:
            events = list(self._wrist.flush(self.last_seen_s))
        elif self._periodic is not None:
            events = list(self._periodic.flush(self.last_seen_s))
        else:
            events = list(self._segmenter.flush(self.last_seen_s))
        return done + self._with_unseen(self._both_arms(events))

    def _both_arms(self, events: list[PipelineEvent]) -> list[PipelineEvent]:
        """On an alternating lift, each rep the counter saw after the other arm's (see the module's docstring); on
        any other lift, ``events`` as they are."""
        if not self.config.exercise.alternating:
            return events
        out: list[PipelineEvent] = []
        for event in events:
            if not isinstance(event, RepEvent):
                out.append(event)
                continue
            other = _untimed(
                event, index=self._reps_out + 1, t_end_s=event.t_start_s, flags=(RepFlag.OTHER_ARM, RepFlag.NO_VELOCITY)
            )
            seen = replace(event, index=self._reps_out + 2)
            if self.config.placement == Placement.WRIST:
                seen = _untimed(seen, flags=(*(f for f in event.flags if f not in UNTIMED), RepFlag.NO_VELOCITY))
            self._reps_out += 2
            out.extend((other, seen))
        return out

    def _with_unseen(self, events: list[PipelineEvent]) -> list[PipelineEvent]:
        """``events``, each followed by what the rhythm says about reps hidden in a gap before it.

        On an alternating lift the rhythm is the seen arm's: the estimator sees each pair once, as its seen rep
        (the pair's second), so that what it says follows the pair; each seen rep it finds missing hid two reps,
        a rep every half of its period.
        """
        alternating = self.config.exercise.alternating
        out: list[PipelineEvent] = []
        for event in events:
            out.append(event)
            if alternating and isinstance(event, RepEvent) and RepFlag.OTHER_ARM in event.flags:
                continue
            for unseen in self._unseen.see(event):
                out.append(
                    replace(unseen, reps=2 * unseen.reps, period_s=unseen.period_s / 2) if alternating else unseen
                )
        return out

    def run(self, block: SampleBlock) -> list[PipelineEvent]:
        """Feed a whole recording and flush: the replay path, which is just the live path in one go."""
        return self.feed(block) + self.flush()

    def __deepcopy__(self, memo: dict[int, object]) -> RepPipeline:
        clone = RepPipeline.__new__(RepPipeline)
        clone.__dict__.update({k: copy.deepcopy(v, memo) for k, v in self.__dict__.items()})
        return clone


def _untimed(rep: RepEvent, **changes: Any) -> RepEvent:
    """``rep`` counted but not measured: no velocity, range or loss."""
    return replace(rep, mean_velocity_m_s=0.0, peak_velocity_m_s=0.0, rom_m=0.0, velocity_loss=0.0, **changes)


def with_segmenter(config: PipelineConfig, **changes: object) -> PipelineConfig:
    """A copy of ``config`` with some segmenter thresholds changed."""
    return replace(config, segmenter=replace(config.segmenter, **changes))  # type: ignore[arg-type]
