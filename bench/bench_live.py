"""Live session cost at 1 kHz: CPU use, and the latency from a frame's arrival to the events it completes.

Builds a 1 kHz recording of simulated squat sets (about ``--seconds`` long), plays it in real time with
``repsense emulate --pty`` (a separate process, as a sensor would be) and runs the live session in this process on
the other end of the pty, recording to a temp file. Reports:

- CPU of the live process (reader thread, decoding, recording, pipeline, set control) as % of one core, from
  ``resource.getrusage``, and the emulator's CPU for comparison;
- latency from the arrival of a block's bytes (stamped by the reader thread) to the end of its processing:
  for every block, and for the blocks that completed a rep (the rep event's latency), p50/p95/p99/max.

The set controller is set so the set never ends by itself. Figures only, no assertions.
Run by hand: ``python bench/bench_live.py [--seconds 30] [--format frame|csv] [--rate 1000]``.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from repsense.core.live import EndReason, LiveSession, LiveStatus
from repsense.core.session import SessionEvent, SessionResult, SetSession
from repsense.core.setcontrol import SetConfig
from repsense.events import Exercise, Placement
from repsense.firmware_bridge.links import LinkEvent, SerialLink, WireFormat
from repsense.firmware_bridge.recording import RecordingWriter
from repsense.firmware_bridge.simulator import random_config, simulate_set
from repsense.samples import SampleBlock

REPO_ROOT = Path(__file__).resolve().parents[1]


def build_recording(path: Path, seconds: float, rate_hz: float) -> int:
    """Clean simulated squat sets back to back, cut at ``seconds``; returns the sample count."""
    rng = np.random.default_rng(1)
    offset = 0.0
    n = 0
    with RecordingWriter(path, {"exercise": "squat", "sensor": "bench"}, has_gyro=True) as writer:
        seed = 0
        while offset < seconds:
            cfg = random_config(rng, Exercise.SQUAT, rate_hz=rate_hz, has_gyro=True, hard=False)
            block = simulate_set(cfg, seed).samples
            seed += 1
            t = block.t_s - block.t_s[0] + offset
            keep = int(np.searchsorted(t, seconds))
            writer.write(
                SampleBlock(t[:keep], block.acc_g[:keep], None if block.gyro_dps is None else block.gyro_dps[:keep])
            )
            n += keep
            offset = float(t[-1]) + 1.0 / rate_hz
    return n


class Quiet:
    """A display that shows nothing, so the figures are the session's own."""

    def events(self, events: list[SessionEvent]) -> None:
        return None

    def link(self, event: LinkEvent) -> None:
        return None

    def tick(self, status: LiveStatus) -> None:
        return None

    def finish(self, result: SessionResult, ended_by: EndReason, status: LiveStatus) -> None:
        return None


def percentiles_ms(values: list[float]) -> str:
    if not values:
        return "no data"
    p50, p95, p99 = np.percentile(np.array(values) * 1e3, [50, 95, 99])
    return f"p50 {p50:.2f} ms, p95 {p95:.2f} ms, p99 {p99:.2f} ms, max {max(values) * 1e3:.2f} ms (n={len(values)})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--rate", type=float, default=1000.0)
    ap.add_argument("--format", choices=["frame", "csv"], default="frame")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "squat_1khz.csv"
        n = build_recording(source, args.seconds, args.rate)
        emulator = subprocess.Popen(
            [sys.executable, "-m", "repsense", "emulate", str(source), "--pty", "--format", args.format],
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert emulator.stdout is not None
        port = emulator.stdout.readline().split()[1]
        config = SetConfig.for_lift(
            Exercise.SQUAT,
            velocity_loss=0.95,
            min_velocity_m_s=None,
            stop_on_short_rom=False,
            stop_on_grinding=False,
            inactivity_s=1e6,
        )
        session = SetSession(Exercise.SQUAT, Placement.BAR, config, source=port)
        link = SerialLink(port, wire_format=WireFormat(args.format))
        live = LiveSession(link, session, Quiet(), record=Path(tmp) / "live.csv", give_up_s=1.0)
        before = resource.getrusage(resource.RUSAGE_SELF)
        wall = time.monotonic()
        outcome = asyncio.run(live.run())
        wall = time.monotonic() - wall
        after = resource.getrusage(resource.RUSAGE_SELF)
        emulator.communicate(timeout=30)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)

    # The session ran until the link had been silent for give_up_s after the emulator finished.
    busy = wall - live.give_up_s
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    health = link.health()
    print(f"live session at {args.rate:g} Hz, {args.format}, {n} samples ({n / args.rate:.1f} s) over a pty")
    print(
        f"  received      {outcome.result.samples} samples, {health.units_ok} frames/lines, "
        f"dropped {health.dropped}, bad CRC {health.crc_errors}, reps {len(outcome.result.reps)}"
    )
    print(f"  live CPU      {cpu:.2f} s in {busy:.1f} s streaming: {100 * cpu / busy:.1f} % of one core")
    print(f"  emulator CPU  {children.ru_utime + children.ru_stime:.2f} s (separate process)")
    print(f"  arrival -> block processed  {percentiles_ms(outcome.block_latency_s)}")
    print(f"  arrival -> rep event        {percentiles_ms(outcome.rep_latency_s)}")


if __name__ == "__main__":
    main()
