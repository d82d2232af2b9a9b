"""Links: format detection (sans-I/O) and the serial link over a real pseudo-terminal, with unplug and replug."""

from __future__ import annotations

import asyncio
import contextlib
import os
import tty
from pathlib import Path

import numpy as np
import pytest

from repsense.errors import LinkError
from repsense.firmware_bridge.emulator import Faults, SensorEmulator
from repsense.firmware_bridge.links import LinkEvent, LinkEventKind, SerialLink
from repsense.firmware_bridge.streams import StreamDecoder, WireFormat, merge_blocks
from repsense.samples import SampleBlock


def recording(seconds: float = 2.0, rate_hz: float = 100.0) -> SampleBlock:
    rng = np.random.default_rng(5)
    n = int(seconds * rate_hz)
    acc = np.round(rng.normal(0.0, 0.2, (n, 3)) + np.array([0.0, 0.0, 1.0]), 5)
    return SampleBlock(np.arange(n) / rate_hz, acc, np.round(rng.normal(0.0, 30.0, (n, 3)), 3))


def wire(wire_format: WireFormat, faults: Faults | None = None) -> bytes:
    emulator = SensorEmulator(recording(), wire_format, faults)
    return emulator.hello() + b"".join(c.data for c in emulator.chunks())  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("wire_format", "faults"),
    [
        (WireFormat.FRAME, None),
        (WireFormat.CSV, None),
        (WireFormat.FRAME, Faults(corrupt_rate=0.02, seed=1)),
        # Corrupted text may hold a 0x00: still text.
        (WireFormat.CSV, Faults(corrupt_rate=0.02, seed=1)),
    ],
)
def test_auto_detects_the_format_the_same_way_whole_or_byte_by_byte(wire_format, faults):
    data = wire(wire_format, faults)
    whole = StreamDecoder(WireFormat.AUTO)
    blocks_whole = whole.feed(data)
    trickle = StreamDecoder(WireFormat.AUTO)
    blocks_trickle = [b for i in range(len(data)) for b in trickle.feed(data[i : i + 1])]
    assert whole.wire_format is trickle.wire_format is wire_format
    a, b = SampleBlock.concat(blocks_whole), SampleBlock.concat(blocks_trickle)
    assert len(a) > 50  # corrupted CSV loses most of its ~60-byte lines
    np.testing.assert_array_equal(a.t_s, b.t_s)
    np.testing.assert_array_equal(a.acc_g, b.acc_g)


def test_auto_waits_for_enough_bytes_and_counts_them():
    decoder = StreamDecoder(WireFormat.AUTO)
    assert decoder.feed(b"0,0.0,0.0,1.0\n") == []
    assert decoder.wire_format is WireFormat.AUTO
    assert decoder.counts().bytes_in == 14


def test_merge_joins_what_can_be_joined():
    rec = recording(0.1)
    a, b, c = rec.slice(0, 3), rec.slice(3, 6), rec.slice(6, 10)
    merged = merge_blocks([a, b, c])
    assert len(merged) == 1 and len(merged[0]) == 10
    no_gyro = SampleBlock(rec.t_s[3:6], rec.acc_g[3:6])
    assert [len(m) for m in merge_blocks([a, no_gyro, c])] == [3, 3, 4]
    assert [len(m) for m in merge_blocks([b, a])] == [3, 3]  # never reordered


# --- over a real pseudo-terminal -----------------------------------------------------------------------------------


class Pty:
    """The sensor's end of a pty, with a symlink that can be moved to a new pty (an unplug and replug)."""

    def __init__(self, link: Path) -> None:
        self.link = link
        self.master = -1
        self.open()

    def open(self) -> None:
        self.master, slave = os.openpty()
        tty.setraw(slave)
        name = os.ttyname(slave)
        os.close(slave)
        self.link.unlink(missing_ok=True)
        self.link.symlink_to(name)

    def unplug(self) -> None:
        self.link.unlink()
        os.close(self.master)
        self.master = -1

    def close(self) -> None:
        if self.master >= 0:
            os.close(self.master)


async def take(items, count: int, timeout_s: float = 5.0) -> list[SampleBlock | LinkEvent]:
    out: list[SampleBlock | LinkEvent] = []
    async with asyncio.timeout(timeout_s):
        while len(out) < count:
            out.append(await anext(items))
    return out


async def samples_until(items, n: int, timeout_s: float = 5.0) -> list[SampleBlock]:
    got: list[SampleBlock] = []
    async with asyncio.timeout(timeout_s):
        while sum(len(b) for b in got) < n:
            item = await anext(items)
            assert isinstance(item, SampleBlock), item
            got.append(item)
    return got


@pytest.mark.integration
def test_serial_link_reads_a_pty_and_survives_an_unplug(tmp_path):
    pty = Pty(tmp_path / "sensor")
    emulator = SensorEmulator(recording(), WireFormat.FRAME)
    chunks = list(emulator.chunks())
    half = len(chunks) // 2
    n_first = sum(c.samples for c in chunks[:half])  # type: ignore[union-attr]
    n_second = sum(c.samples for c in chunks[half:])  # type: ignore[union-attr]

    async def scenario() -> None:
        # Each half second of samples goes out at once: a device clock far ahead of the wall clock, as with an
        # emulator playing fast.
        link = SerialLink(str(pty.link), wire_format=WireFormat.AUTO, retry_s=0.02, time_scale=100.0)
        async with contextlib.aclosing(link.blocks()) as items:
            (event,) = await take(items, 1)
            assert isinstance(event, LinkEvent) and event.kind is LinkEventKind.CONNECTED
            os.write(pty.master, emulator.hello() + b"".join(c.data for c in chunks[:half]))  # type: ignore[union-attr]
            first = await samples_until(items, n_first)
            assert link.last_arrival_wall_s is not None
            pty.unplug()
            (lost,) = await take(items, 1)
            assert isinstance(lost, LinkEvent) and lost.kind is LinkEventKind.LOST
            assert not link.health().connected
            await asyncio.sleep(0.1)
            pty.open()
            (resumed,) = await take(items, 1)
            assert isinstance(resumed, LinkEvent) and resumed.kind is LinkEventKind.RESUMED
            await asyncio.sleep(0.05)  # opening a port flushes its input: a replugged sensor starts afresh
            os.write(pty.master, emulator.hello() + b"".join(c.data for c in chunks[half:]))  # type: ignore[union-attr]
            second = await samples_until(items, n_second)
            health = link.health()
            assert health.connected and health.reconnects == 1 and health.wire_format == "frame"
            assert health.samples == n_first + n_second == 200
            assert health.crc_errors == health.bad == 0
            times = np.concatenate([b.t_s for b in first + second])
            assert np.all(np.diff(times) > 0)
            assert lost.t_s < second[0].t_s[0]

    try:
        asyncio.run(scenario())
    finally:
        pty.close()


def test_a_port_that_is_not_there_is_one_clear_link_error(tmp_path):
    link = SerialLink(str(tmp_path / "ttyNOPE"))

    async def first() -> None:
        await anext(link.blocks())

    with pytest.raises(LinkError, match=r"cannot open .*ttyNOPE: No such file or directory"):
        asyncio.run(first())


def test_text_options_reach_the_csv_decoder():
    """--columns and the units given to `live` decide how CSV lines are read, instead of auto-detection."""
    from repsense.firmware_bridge.streams import StreamDecoder, TextOptions, WireFormat

    decoder = StreamDecoder(WireFormat.CSV, text=TextOptions("ax,ay,az,t", "m/s2", None, "ms"))
    lines = b"".join(f"0.0,0.0,9.80665,{i * 10}\n".encode() for i in range(20))
    blocks = decoder.feed(lines)
    assert blocks
    acc = np.concatenate([b.acc_g for b in blocks])
    t = np.concatenate([b.t_s for b in blocks])
    assert np.allclose(acc[:, 2], 1.0)
    assert np.allclose(np.diff(t), 0.01)
