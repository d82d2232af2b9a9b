"""The live session in process, on in-memory links: it records what it feeds, and a replay of the file agrees."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import re
from collections.abc import AsyncGenerator
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from repsense.core.cli import main
from repsense.core.live import EndReason, LiveSession, LiveStatus
from repsense.core.liveview import PlainLiveView, QuietLiveView, RichLiveView
from repsense.core.session import SessionEvent, SessionResult, SetSession, replay
from repsense.core.setcontrol import SetConfig, SetMode
from repsense.errors import ConfigError, LinkError
from repsense.events import Exercise, GapEvent, Placement, RepEvent, RepFlag, SetEnded, StopReason, UnseenRepsEvent
from repsense.firmware_bridge.links import LinkEvent, LinkEventKind, LinkHealth, MemoryLink
from repsense.firmware_bridge.plausible import DoubtKind
from repsense.firmware_bridge.recording import read_recording
from repsense.firmware_bridge.simulator import random_config, simulate_set
from repsense.samples import STANDARD_GRAVITY_M_S2 as G
from repsense.samples import SampleBlock

SQUAT = Exercise.SQUAT


@pytest.fixture(scope="module")
def squat() -> SampleBlock:
    return simulate_set(
        random_config(np.random.default_rng(3), SQUAT, rate_hz=100, has_gyro=True, hard=False), 3
    ).samples


def session(mode: SetMode = SetMode.AMRAP, reps: int | None = None) -> SetSession:
    return SetSession(SQUAT, Placement.BAR, SetConfig.for_lift(SQUAT, mode=mode, target_reps=reps), source="test")


def pieces(samples: SampleBlock, block_s: float = 0.05) -> list[SampleBlock]:
    t = samples.t_s - samples.t_s[0]
    edges = np.flatnonzero(np.diff(np.floor(t / block_s))) + 1
    return [samples.slice(a, b) for a, b in zip([0, *edges], [*edges, len(t)], strict=True)]


class Shown:
    """A display that remembers what it was shown."""

    def __init__(self) -> None:
        self.shown: list[SessionEvent] = []
        self.links: list[LinkEvent] = []
        self.ended: EndReason | None = None

    def events(self, events: list[SessionEvent]) -> None:
        self.shown.extend(events)

    def link(self, event: LinkEvent) -> None:
        self.links.append(event)

    def tick(self, status: LiveStatus) -> None:
        return None

    def finish(self, result: SessionResult, ended_by: EndReason, status: LiveStatus) -> None:
        self.ended = ended_by


def run(link, live_session: SetSession, path: Path | None, **kw) -> tuple:
    display = Shown()
    live = LiveSession(link, live_session, display, record=path, handle_signals=False, **kw)
    return asyncio.run(live.run()), display


def replay_of(path: Path, mode: SetMode = SetMode.AMRAP, reps: int | None = None) -> SessionResult:
    return replay(read_recording(path).samples, session(mode, reps))


def test_live_and_the_replay_of_its_recording_agree(squat, tmp_path, assert_same_session):
    path = tmp_path / "live.csv"
    outcome, shown = run(MemoryLink(pieces(squat)), session(), path, metadata={"exercise": "squat"})
    assert outcome.ended_by is EndReason.LINK_ENDED and shown.ended is EndReason.LINK_ENDED
    assert outcome.result.samples == len(squat) and len(outcome.result.reps) >= 3
    assert_same_session(outcome.result.to_json(), replay_of(path).to_json(), path)
    assert read_recording(path).metadata["exercise"] == "squat"
    assert [e for e in shown.shown if isinstance(e, RepEvent)] == outcome.result.reps


def test_the_session_stops_at_the_end_of_the_set_and_records_no_further(squat, tmp_path, assert_same_session):
    path = tmp_path / "live.csv"
    outcome, shown = run(MemoryLink(pieces(squat)), session(SetMode.FIXED, 2), path)
    assert outcome.ended_by is EndReason.SET_ENDED
    stop = outcome.result.stop
    assert stop is not None and stop.reason is StopReason.TARGET_REACHED and stop.rep == 2
    assert any(isinstance(e, SetEnded) for e in shown.shown)
    recorded = read_recording(path).samples
    assert recorded.t_s[-1] < squat.t_s[-1] - 1.0  # the rest of the set was never taken in
    assert len(recorded) == outcome.result.samples
    assert_same_session(outcome.result.to_json(), replay_of(path, SetMode.FIXED, 2).to_json(), path)


def test_overlapping_blocks_are_clipped_never_reordered(squat, tmp_path):
    blocks = pieces(squat.slice(0, 500))
    messy = [blocks[0], blocks[2], blocks[1], blocks[2], *blocks[3:]]
    path = tmp_path / "live.csv"
    outcome, _ = run(MemoryLink(messy), session(), path)
    recorded = read_recording(path).samples
    assert np.all(np.diff(recorded.t_s) > 0)
    assert outcome.samples_clipped == len(blocks[1]) + len(blocks[2])
    assert len(recorded) == 500 - len(blocks[1])


def test_a_lost_link_is_annotated_and_the_set_goes_on(squat, tmp_path, assert_same_session):
    blocks = pieces(squat)
    half = len(blocks) // 2
    t_lost = float(blocks[half - 1].t_s[-1])
    later = [SampleBlock(b.t_s + 3.0, b.acc_g, b.gyro_dps) for b in blocks[half:]]
    items = [
        LinkEvent(LinkEventKind.CONNECTED, 0.0, "mem"),
        *blocks[:half],
        LinkEvent(LinkEventKind.LOST, t_lost, "unplugged"),
        LinkEvent(LinkEventKind.RESUMED, t_lost + 3.0, "mem"),
        *later,
    ]
    path = tmp_path / "live.csv"
    outcome, shown = run(MemoryLink(items), session(), path)
    notes = [text for _, text in read_recording(path).annotations]
    assert notes == [f"gap: link lost at {t_lost:.3f} s (unplugged)", f"link resumed at {t_lost + 3.0:.3f} s"]
    assert [e.kind for e in shown.links] == [LinkEventKind.CONNECTED, LinkEventKind.LOST, LinkEventKind.RESUMED]
    (gap,) = outcome.result.gaps
    assert gap.duration_s == pytest.approx(3.01, abs=0.02)
    assert any(isinstance(e, GapEvent) for e in shown.shown)
    assert any(r.t_start_s > t_lost + 3.0 for r in outcome.result.reps)
    assert_same_session(outcome.result.to_json(), replay_of(path).to_json(), path)


class Silent:
    """A link that connects, sends a little, then says nothing."""

    last_arrival_wall_s: float | None = None

    def __init__(self, first: SampleBlock) -> None:
        self.first = first

    async def blocks(self) -> AsyncGenerator[SampleBlock | LinkEvent, None]:
        yield LinkEvent(LinkEventKind.CONNECTED, 0.0, "silent")
        yield self.first
        await asyncio.sleep(3600)

    def health(self) -> LinkHealth:
        return LinkHealth(connected=True)


def test_give_up_when_the_sensor_is_gone_and_keep_what_came(squat, tmp_path):
    path = tmp_path / "live.csv"
    outcome, shown = run(Silent(squat.slice(0, 200)), session(), path, give_up_s=0.3, tick_s=0.02)
    assert outcome.ended_by is EndReason.GAVE_UP and shown.ended is EndReason.GAVE_UP
    assert len(read_recording(path).samples) == 200


def test_stop_ends_cleanly_and_keeps_everything(squat, tmp_path):
    path = tmp_path / "live.csv"
    display = Shown()
    live = LiveSession(Silent(squat.slice(0, 200)), session(), display, record=path, handle_signals=False)

    async def main():
        task = asyncio.create_task(live.run())
        await asyncio.sleep(0.2)
        live.stop()
        return await task

    outcome = asyncio.run(main())
    assert outcome.ended_by is EndReason.INTERRUPTED
    assert len(read_recording(path).samples) == 200


class Broken:
    last_arrival_wall_s: float | None = None

    async def blocks(self) -> AsyncGenerator[SampleBlock | LinkEvent, None]:
        raise LinkError("cannot open /dev/nothing: No such file or directory")
        yield  # pragma: no cover

    def health(self) -> LinkHealth:
        return LinkHealth()


def test_a_link_that_cannot_open_raises_its_link_error(tmp_path):
    with pytest.raises(LinkError, match="cannot open"):
        run(Broken(), session(), tmp_path / "live.csv")
    assert not (tmp_path / "live.csv").exists()


# --- the views ------------------------------------------------------------------------------------------------------


def a_set() -> tuple[list[SessionEvent], SessionResult, LiveStatus]:
    reps = [
        RepEvent(i, i * 3.0, i * 3.0 + 0.6, i * 3.0 + 0.7, 0.8 - 0.05 * i, 1.2, 0.5, 0.0625 * (i - 1))
        for i in (1, 2, 3, 4)
    ]
    stop = SetEnded(4, 12.7, StopReason.VELOCITY_LOSS, "velocity loss 19% reached the 15% threshold")
    result = SessionResult(SQUAT, Placement.BAR, SetConfig.for_lift(SQUAT), reps=reps, stop=stop, samples=1300)
    health = LinkHealth(connected=True, wire_format="frame", samples=1300, dropped=3, crc_errors=2)
    return [*reps, stop], result, LiveStatus(12.7, 100.0, 0.0, 30.0, health)


@pytest.mark.parametrize("view_class", [RichLiveView, PlainLiveView])
def test_views_show_count_bars_health_and_an_unmistakable_stop(view_class):
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=100, color_system=None)
    view = view_class(console, "/dev/pts/9", SQUAT, Placement.BAR, SetConfig.for_lift(SQUAT, velocity_loss=0.15))
    events, result, status = a_set()
    view.link(LinkEvent(LinkEventKind.CONNECTED, 0.0, "/dev/pts/9"))
    view.tick(status)
    view.link(LinkEvent(LinkEventKind.LOST, 5.0, "the device disconnected"))
    view.events(events)
    view.finish(result, EndReason.SET_ENDED, status)
    text = buffer.getvalue()
    assert "\a" in text  # the bell
    assert "STOP" in text or "███" in text
    assert "velocity loss 19% reached the 15% threshold" in text
    assert "link lost" in text
    assert "dropped 3" in text and "bad CRC 2" in text
    assert "0.60" in text  # the last rep's MCV


@pytest.mark.parametrize("view_class", [RichLiveView, PlainLiveView])
def test_views_say_what_a_gap_hid(view_class):
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=120, color_system=None)
    view = view_class(console, "/dev/pts/9", SQUAT, Placement.BAR, SetConfig.for_lift(SQUAT))
    events, result, status = a_set()
    view.tick(status)
    view.events([*events[:2], GapEvent(6.8, 2.4), events[2], UnseenRepsEvent(6.8, 2.4, 1, 3.0, 9.7), events[3]])
    view.finish(result, EndReason.SET_ENDED, status)
    text = buffer.getvalue()
    assert "no data for 2.4 s" in text
    assert "about 1 rep made in the 2.4 s gap" in text and "not counted" in text
    if view_class is RichLiveView:
        assert "+1 unseen in a gap" in text


def test_the_stop_line_is_drawn_from_reps_measured_whole():
    """A rep flagged data_gap (its velocity read while the filters settled) does not move the stop line."""
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=100, color_system=None)
    view = RichLiveView(console, "/dev/pts/9", SQUAT, Placement.WRIST, SetConfig.for_lift(SQUAT))
    events, _, status = a_set()
    settling = dataclasses.replace(events[2], mean_velocity_m_s=1.5, flags=(RepFlag.DATA_GAP,))
    view.tick(status)
    view.events([events[0], events[1], settling])
    view.close()
    assert "stop below 0.60 m/s" in buffer.getvalue()  # 20 % below rep 1's 0.75 m/s, not below 1.5


def test_rich_view_draws_the_threshold_line_and_big_digits():
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=100, color_system=None)
    view = RichLiveView(console, "/dev/pts/9", SQUAT, Placement.BAR, SetConfig.for_lift(SQUAT, velocity_loss=0.15))
    events, _, status = a_set()
    view.tick(status)
    view.events(events[:-1])
    text = buffer.getvalue()
    view.close()
    assert "stop below 0.64 m/s" in text  # 15 % below the best rep, 0.75 m/s
    assert text.count("│") >= 4  # the threshold mark crosses each bar
    assert "█ █" in text  # the 4, five rows tall


def test_quiet_view_keeps_stdout_for_the_json(capsys):
    view = QuietLiveView(Console(stderr=True))
    events, result, status = a_set()
    view.link(LinkEvent(LinkEventKind.LOST, 5.0, "the device disconnected"))
    view.events(events)
    view.finish(result, EndReason.SET_ENDED, status)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "link lost" in captured.err and "STOP after rep 4" in captured.err


@pytest.mark.parametrize(
    "args",
    [
        ["live", "--port", "/dev/ttyNOPE"],
        ["live", "--port", "/dev/ttyNOPE", "--give-up", "0"],
        ["live", "--port", "/dev/ttyNOPE", "--record", "/no/such/folder/x.csv"],
        ["live", "--port", "/dev/ttyNOPE", "--format", "morse"],
        ["emulate", "squat.csv", "--port", "/dev/ttyNOPE", "--link", "/tmp/x"],
        ["emulate", "squat.csv", "--pty", "--corrupt", "100"],
        ["emulate", "squat.csv", "--pty", "--speed", "0"],
        ["emulate", "squat.csv"],
        ["emulate", "missing.csv", "--pty"],
    ],
)
def test_bad_live_and_emulate_commands_are_one_line_and_exit_2(squat, tmp_path, capsys, args):
    from repsense.firmware_bridge.recording import RecordingWriter

    with RecordingWriter(tmp_path / "squat.csv", {"exercise": "squat"}, has_gyro=True) as writer:
        writer.write(squat.slice(0, 100))
    args = [str(tmp_path / a) if a.endswith(".csv") and "/" not in a else a for a in args]
    assert main(args) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("repsense: error: "), captured.err


@pytest.mark.parametrize("view_class", [RichLiveView, PlainLiveView])
def test_a_loss_just_short_of_the_threshold_is_not_shown_at_it(view_class):
    """19.54 % against a 20 % threshold reads 19 %, never 20 %: a shown value reaches the threshold only if the
    real one does."""
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=120, color_system=None)
    view = view_class(console, "/dev/pts/9", SQUAT, Placement.BAR, SetConfig.for_lift(SQUAT))
    view.link(LinkEvent(LinkEventKind.CONNECTED, 0.0, "/dev/pts/9"))
    first = RepEvent(1, 1.0, 2.0, 2.1, 0.80, 1.2, 0.5, 0.0, ())
    short = RepEvent(2, 4.0, 5.0, 5.1, 0.80 * (1 - 0.1954), 1.0, 0.5, 0.1954, ())
    view.events([first, short])
    if isinstance(view, RichLiveView):
        view.close()
    text = buffer.getvalue()
    assert re.search(r"VL +19%", text) and not re.search(r"VL +20%", text)


@pytest.mark.parametrize("view_class", [RichLiveView, PlainLiveView])
def test_reps_with_no_velocity_show_as_counted_without_a_bar_or_a_stop_line(view_class):
    """On the wrist an ``other`` lift's reps carry no velocity: they showed as 0.00 m/s bars at 100 % loss."""
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=120, color_system=None)
    view = view_class(console, "/dev/pts/9", Exercise.OTHER, Placement.WRIST, SetConfig(exercise=Exercise.OTHER))
    view.link(LinkEvent(LinkEventKind.CONNECTED, 0.0, "/dev/pts/9"))
    reps = [
        RepEvent(i, 3.0 * i, 3.0 * i + 1.0, 3.0 * i + 2.0, 0.0, 0.0, 0.0, 0.0, (RepFlag.NO_VELOCITY,)) for i in (1, 2)
    ]
    view.events(reps)
    if isinstance(view, RichLiveView):
        view.close()
    text = buffer.getvalue()
    assert "counted, no velocity" in text
    assert "0.00" not in text and "stop below" not in text


@pytest.mark.parametrize("view_class", [RichLiveView, PlainLiveView])
def test_the_other_arms_rep_says_the_sensor_sees_one_arm(view_class):
    """Alternating curls: the other arm's rep has no velocity because the sensor never saw it, not because the wrist
    cannot time a curl; the seen rep keeps its bar."""
    from repsense.core.view import NO_VELOCITY_WORDS, OTHER_ARM_WORDS

    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=120, color_system=None)
    config = SetConfig(exercise=Exercise.ALT_CURL)
    view = view_class(console, "/dev/pts/9", Exercise.ALT_CURL, Placement.WRIST, config)
    view.link(LinkEvent(LinkEventKind.CONNECTED, 0.0, "/dev/pts/9"))
    seen = RepEvent(1, 2.0, 3.0, 3.5, 0.62, 0.95, 0.41, 0.0, (RepFlag.VELOCITY_ESTIMATED,))
    other = RepEvent(2, 3.0, 3.0, 3.5, 0.0, 0.0, 0.0, 0.0, (RepFlag.OTHER_ARM, RepFlag.NO_VELOCITY))
    view.events([seen, other])
    if isinstance(view, RichLiveView):
        view.close()
    text = buffer.getvalue()
    assert f"counted, {OTHER_ARM_WORDS}" in text and NO_VELOCITY_WORDS not in text
    assert "0.62" in text and "0.00" not in text


# --- data in the wrong units ------------------------------------------------------------------------------------------


class Paced:
    """A link that yields each block as if it arrived ``every_s`` of wall time after the one before."""

    def __init__(self, blocks: list[SampleBlock], every_s: float) -> None:
        self.items = blocks
        self.every_s = every_s
        self.last_arrival_wall_s: float | None = None

    async def blocks(self) -> AsyncGenerator[SampleBlock | LinkEvent, None]:
        for i, block in enumerate(self.items):
            self.last_arrival_wall_s = 1000.0 + i * self.every_s
            yield block

    def health(self) -> LinkHealth:
        return LinkHealth(connected=True)


def _scaled(block: SampleBlock, t: float = 1.0, acc: float = 1.0) -> SampleBlock:
    return SampleBlock(block.t_s * t, block.acc_g * acc, block.gyro_dps)


@pytest.mark.parametrize(
    ("link", "kind", "said"),
    [
        (lambda sq: MemoryLink(pieces(_scaled(sq, acc=G))), DoubtKind.ACC_IN_M_S2, "acceleration is 9.8"),
        (lambda sq: Paced(pieces(_scaled(sq, t=1000.0), 50.0), 0.05), DoubtKind.CLOCK_FAST, "of samples came in"),
        (lambda sq: Paced(pieces(_scaled(sq, t=0.001), 5e-5), 0.05), DoubtKind.CLOCK_SLOW, "brought only"),
    ],
)
def test_data_in_the_wrong_units_end_the_session_with_the_remedy_and_keep_the_recording(
    squat, tmp_path, link, kind, said
):
    path = tmp_path / "live.csv"
    live = LiveSession(
        link(squat), session(), Shown(), record=path, handle_signals=False, time_scale=1.0, remedies={kind: "DO THIS"}
    )
    with pytest.raises(ConfigError, match=f"{said}.*: DO THIS \\(the recording so far is in {re.escape(str(path))}\\)"):
        asyncio.run(live.run())
    assert 0 < len(read_recording(path).samples) < len(squat)


def test_a_recording_never_overwrites_a_file(squat, tmp_path):
    path = tmp_path / "live.csv"
    path.write_text("an earlier set\n")
    (tmp_path / "live-2.csv").write_text("and another\n")
    outcome, _ = run(MemoryLink(pieces(squat.slice(0, 300))), session(), path)
    assert outcome.recording == tmp_path / "live-3.csv"
    assert path.read_text() == "an earlier set\n" and (tmp_path / "live-2.csv").read_text() == "and another\n"
    assert len(read_recording(tmp_path / "live-3.csv").samples) == 300


def test_a_session_without_a_sample_is_an_error_and_claims_no_recording(tmp_path):
    live = LiveSession(MemoryLink([]), session(), Shown(), record=tmp_path / "live.csv", handle_signals=False)
    with pytest.raises(LinkError, match=r"^no data from the sensor before the link ended$"):
        asyncio.run(live.run())
    assert live.outcome.recording is None and not (tmp_path / "live.csv").exists()
