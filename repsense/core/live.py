"""A live set: link -> recording -> the same ``SetSession`` replay uses -> the live display.

Theory of operation. Three tasks run on one asyncio loop until the first of them finishes:

- the *consumer* reads the link (inside ``aclosing``, so the port closes however the loop ends). Each block is
  clipped to start after the last sample fed, written to the recording, and the block *as written* goes to the
  session, so replaying the file later is bit-for-bit the same stream. It finishes when the session reports
  ``SetEnded`` (nothing after that block is written or fed) or when the link ends;
- the *watchdog* wakes every ``tick_s``: it refreshes the display, flushes the recording during silences (so a
  ``kill -9`` loses at most about a second), and gives up when no sample has come for ``give_up_s``;
- the *stopper* waits for ``stop()`` (Ctrl-C or SIGTERM).

Then the session is flushed (``finish()``, as replay does at the end of a file), the recording closed, and the
display shows the end. A lost link is written into the recording as an annotation and shown; the session carries
on when samples resume (the pipeline itself reports a ``GapEvent`` after a silence of more than a second).

The first samples are checked as replay checks a file (``firmware_bridge.plausible``): acceleration in g, angular
rate in deg/s, and sample times advancing with the host clock. Samples read in the wrong unit or from the wrong
columns would be counted as nothing; instead the session ends with a ``ConfigError`` that names the likely wrong
option (``remedies``), and the recording made so far is kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Protocol

import numpy as np

from repsense.core.session import SessionEvent, SessionResult, SetSession
from repsense.errors import ConfigError, LinkError, ProtocolError, RecordingError
from repsense.events import RepEvent, SetEnded
from repsense.firmware_bridge.links import Link, LinkEvent, LinkEventKind, LinkHealth
from repsense.firmware_bridge.plausible import (
    MAX_CLOCK_RATIO,
    Doubt,
    DoubtKind,
    acceleration_doubt,
    clock_doubt,
    gyro_doubt,
)
from repsense.firmware_bridge.recording import RecordingWriter, quantize
from repsense.samples import SampleBlock


class EndReason(StrEnum):
    """Why a live session ended."""

    SET_ENDED = "set_ended"  # the set controller stopped the set
    INTERRUPTED = "interrupted"  # Ctrl-C, SIGTERM or stop()
    GAVE_UP = "gave_up"  # no samples for longer than give_up_s
    LINK_ENDED = "link_ended"  # the link had nothing more (in-memory links)


@dataclass(frozen=True, slots=True)
class LiveStatus:
    """What the display shows besides events. Times: ``t_s`` on the sample clock, the rest wall seconds."""

    t_s: float | None
    rate_hz: float | None
    silent_s: float
    give_up_s: float
    health: LinkHealth
    ended: bool = False  # the session is over (the link was closed on purpose)


class LiveDisplay(Protocol):
    def events(self, events: list[SessionEvent]) -> None: ...
    def link(self, event: LinkEvent) -> None: ...
    def tick(self, status: LiveStatus) -> None: ...
    def finish(self, result: SessionResult, ended_by: EndReason, status: LiveStatus) -> None: ...


@dataclass
class LiveOutcome:
    """The result, why it ended, and figures about the run: latencies in wall seconds from the arrival of the
    bytes of a block to the events it produced (``block_latency_s`` for every block, ``rep_latency_s`` for the
    blocks that completed a rep)."""

    result: SessionResult
    ended_by: EndReason
    recording: Path | None
    samples_clipped: int = 0
    samples_refused: int = 0
    block_latency_s: list[float] = field(default_factory=list)
    rep_latency_s: list[float] = field(default_factory=list)


#: Recording time between two samples the writer can tell apart (it writes 6 decimals).
_MIN_STEP_S = 1e-6
_RATE_WINDOW_S = 2.0
#: The units are checked on the first this many samples (or what came in ``_CHECK_HOST_S``), and the sample clock
#: against the host clock once ``_CHECK_HOST_S`` of host time (on the link's time scale) has passed.
_CHECK_SAMPLES = 200
_CHECK_HOST_S = 2.0


class _FirstSeconds:
    """The first samples and when they came, for the checks of ``plausible``."""

    def __init__(self) -> None:
        self.acc: list[np.ndarray] = []
        self.gyro: list[np.ndarray] = []
        self.samples = 0
        self.first: tuple[float, float] | None = None  # (sample time, host time) of the first sample
        self.units_done = False
        self.clock_done = False

    def add(self, block: SampleBlock, host_s: float | None) -> list[Doubt]:
        """Take ``block`` (arrived at ``host_s``, None when the link's times are not the host's: then only the
        units are checked); the doubts the checks that are due now raise."""
        if host_s is None:
            self.clock_done = True
            host_s = 0.0
        if self.first is None:
            self.first = (float(block.t_s[0]), host_s)
        if not self.units_done:
            self.acc.append(block.acc_g)
            if block.gyro_dps is not None:
                self.gyro.append(block.gyro_dps)
            self.samples += len(block)
        sample_span_s = float(block.t_s[-1]) - self.first[0]
        host_span_s = host_s - self.first[1]
        doubts: list[Doubt] = []
        if not self.units_done and (self.samples >= _CHECK_SAMPLES or host_span_s >= _CHECK_HOST_S):
            doubts += self.units()
        # A clock running far ahead shows before the host clock has run long: ms read as s is 10 s a sample.
        fast = sample_span_s > MAX_CLOCK_RATIO * _CHECK_HOST_S and sample_span_s > MAX_CLOCK_RATIO * host_span_s
        if not self.clock_done and (host_span_s >= _CHECK_HOST_S or fast):
            self.clock_done = True
            doubt = clock_doubt(sample_span_s, host_span_s)
            doubts += [doubt] if doubt is not None else []
        return doubts

    def units(self) -> list[Doubt]:
        """The doubts about the units of the samples kept (once; none after the first call)."""
        if self.units_done or not self.acc:
            return []
        self.units_done = True
        acc = np.concatenate(self.acc)
        gyro = np.concatenate(self.gyro) if self.gyro else None
        self.acc, self.gyro = [], []
        doubt = acceleration_doubt(acc, gyro) or gyro_doubt(gyro)
        return [] if doubt is None else [doubt]


class LiveSession:
    """Runs one set from a link. ``record``: the v1 recording to write as samples stream (created at the first
    sample, since its header says whether there is a gyroscope; never over an existing file: then at the next free
    name, see ``next_free_path``); ``metadata`` goes into its header. ``outcome.recording`` is the file written,
    None when no sample came.

    ``time_scale``: how many times faster than the host clock the link's samples come (1 for a sensor, X for an
    emulator at ``--speed X``), so that the sample clock is checked against the host's; None for a link whose
    times are not the host's (a recording in memory). ``remedies``: what to tell the user for each doubt about
    the data, naming the options that set the units. A session that ends without a single sample raises
    ``LinkError`` (no bytes came) or ``ProtocolError`` (bytes came but none decoded; ``undecodable_hint`` says
    what to try), and the display is not told the end of a set that never began."""

    def __init__(
        self,
        link: Link,
        session: SetSession,
        display: LiveDisplay,
        *,
        record: Path | None = None,
        metadata: Mapping[str, str | float | int] | None = None,
        give_up_s: float = 30.0,
        tick_s: float = 0.1,
        handle_signals: bool = True,
        wall: Callable[[], float] = time.monotonic,
        time_scale: float | None = None,
        remedies: Mapping[DoubtKind, str] | None = None,
        undecodable_hint: str = "",
    ) -> None:
        self.link = link
        self.session = session
        self.display = display
        self.record = record
        self.metadata = dict(metadata or {})
        self.give_up_s = give_up_s
        self.tick_s = tick_s
        self.handle_signals = handle_signals
        self._wall = wall
        self.time_scale = time_scale
        self.remedies = dict(remedies or {})
        self.undecodable_hint = undecodable_hint
        self._first = _FirstSeconds()
        self._writer: RecordingWriter | None = None
        self._has_gyro: bool | None = None
        self._last_t_s: float | None = None
        self._last_data_wall = wall()
        self._recent: deque[tuple[float, int]] = deque()
        self._stop: asyncio.Event | None = None
        self._ended_by: EndReason | None = None
        self.outcome = LiveOutcome(session.result, EndReason.LINK_ENDED, None)

    # -- running --------------------------------------------------------------------------------------------------

    def stop(self, reason: EndReason = EndReason.INTERRUPTED) -> None:
        """End the session cleanly, keeping everything (safe to call from a signal handler on the loop)."""
        if self._ended_by is None:
            self._ended_by = reason
        if self._stop is not None:
            self._stop.set()

    async def run(self) -> LiveOutcome:
        loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self._last_data_wall = self._wall()
        signals = self._install_signals(loop)
        tasks = [
            asyncio.create_task(self._consume(), name="consume"),
            asyncio.create_task(self._watch(), name="watch"),
            asyncio.create_task(self._stop.wait(), name="stop"),
        ]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for sig in signals:
                loop.remove_signal_handler(sig)
            if self._writer is not None:
                self._writer.close()
        error = None if tasks[0].cancelled() else tasks[0].exception()
        if error is not None:
            raise error
        self._doubt(self._first.units())  # a session shorter than the checks' wait is checked all the same
        if self._last_t_s is None:
            self._no_sample()
        self.display.events(self.session.finish())
        self.outcome.ended_by = self._ended_by or EndReason.LINK_ENDED
        self.display.finish(self.session.result, self.outcome.ended_by, self._status(ended=True))
        return self.outcome

    def _install_signals(self, loop: asyncio.AbstractEventLoop) -> list[signal.Signals]:
        if not self.handle_signals:
            return []
        installed = []
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, self.stop)
            except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or not POSIX
                continue
            installed.append(sig)
        return installed

    async def _consume(self) -> None:
        async with contextlib.aclosing(self.link.blocks()) as items:
            async for item in items:
                if isinstance(item, LinkEvent):
                    self._on_link(item)
                elif self._on_block(item):
                    self.stop(EndReason.SET_ENDED)
                    return
        self.stop(EndReason.LINK_ENDED)

    def _no_sample(self) -> None:
        """A session that never got a sample is an error, not an empty set: say whether bytes came at all."""
        health = self.link.health()
        ended = {
            EndReason.GAVE_UP: f"for {self.give_up_s:g} s",
            EndReason.INTERRUPTED: "before it was stopped",
        }.get(self._ended_by or EndReason.LINK_ENDED, "before the link ended")
        if health.bytes_in == 0:
            raise LinkError(f"no data from the sensor {ended}")
        what = f"as {health.wire_format}" if health.wire_format else "as frames or CSV lines"
        hint = f": {self.undecodable_hint}" if self.undecodable_hint else ""
        raise ProtocolError(
            f"receiving bytes that do not decode {what} ({health.bytes_in} bytes, {health.bad} discarded, "
            f"no sample {ended}){hint}"
        )

    def _doubt(self, doubts: list[Doubt]) -> None:
        """End the session on the first doubt about the units: one line naming the likely wrong option."""
        if not doubts:
            return
        doubt = doubts[0]
        remedy = self.remedies.get(doubt.kind, "the sensor does not send what was expected")
        kept = f" (the recording so far is in {self.record})" if self._writer is not None else ""
        raise ConfigError(f"{doubt.text}: {remedy}{kept}")

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.tick_s)
            silent_s = self._wall() - self._last_data_wall
            if silent_s > self.give_up_s:
                self.stop(EndReason.GAVE_UP)
                return
            if silent_s > 0.5 and self._writer is not None:
                self._writer.flush()
            self.display.tick(self._status())

    # -- what arrives ---------------------------------------------------------------------------------------------

    def _on_link(self, event: LinkEvent) -> None:
        if self._writer is not None and event.kind is not LinkEventKind.CONNECTED:
            if event.kind is LinkEventKind.LOST:
                detail = f" ({event.detail})" if event.detail else ""
                self._writer.annotate(f"gap: link lost at {event.t_s:.3f} s{detail}")
            else:
                self._writer.annotate(f"link resumed at {event.t_s:.3f} s")
        self.display.link(event)

    def _on_block(self, block: SampleBlock) -> bool:
        """Record and feed one block; True when the set ended."""
        arrival = self.link.last_arrival_wall_s
        outcome = self.outcome
        if self._has_gyro is not None and block.has_gyro != self._has_gyro:
            outcome.samples_refused += len(block)  # the stream changed shape: the pipeline cannot take it
            return False
        if self._last_t_s is not None and len(block) and block.t_s[0] < self._last_t_s + _MIN_STEP_S:
            keep = int((block.t_s < self._last_t_s + _MIN_STEP_S).sum())
            outcome.samples_clipped += keep
            block = block.slice(keep, len(block))
        if len(block) == 0:
            return False
        stored = self._store(block)
        if stored is None:
            outcome.samples_refused += len(block)
            return False
        self._has_gyro = stored.has_gyro
        self._last_t_s = float(stored.t_s[-1])
        if self.time_scale is not None:
            host_s: float | None = (arrival if arrival is not None else self._wall()) * self.time_scale
        else:
            host_s = None
        self._doubt(self._first.add(stored, host_s))
        events = self.session.feed(stored)
        now = self._wall()
        self._last_data_wall = now
        if arrival is not None:
            outcome.block_latency_s.append(now - arrival)
            if any(isinstance(e, RepEvent) for e in events):
                outcome.rep_latency_s.append(now - arrival)
        self._recent.append((self._last_t_s, len(stored)))
        while self._recent and self._recent[0][0] < self._last_t_s - _RATE_WINDOW_S:
            self._recent.popleft()
        if events:
            self.display.events(events)
        return any(isinstance(e, SetEnded) for e in events)

    def _store(self, block: SampleBlock) -> SampleBlock | None:
        """The block as the recording keeps it (also without a recording, so results never depend on it), or None
        for samples the file cannot hold (closer than 1 us apart): the pipeline must not see them either."""
        if self.record is None:
            try:
                return quantize(block)
            except RecordingError:
                return None
        if self._writer is None:
            self._writer = RecordingWriter(self.record, self.metadata, has_gyro=block.has_gyro, new_name=True)
            self.record = self.outcome.recording = self._writer.path
        try:
            return self._writer.write(block)
        except RecordingError:
            return None

    def _status(self, ended: bool = False) -> LiveStatus:
        rate = None
        if len(self._recent) >= 2:
            span = self._recent[-1][0] - self._recent[0][0]
            if span > 0:
                rate = sum(n for _, n in list(self._recent)[1:]) / span
        silent_s = self._wall() - self._last_data_wall
        return LiveStatus(self._last_t_s, rate, silent_s, self.give_up_s, self.link.health(), ended)
