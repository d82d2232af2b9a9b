"""BLE figures over a real ATT/GATT exchange (bleak -> our backend -> bumble's virtual radio, in this process).

1. Throughput: an emulated sensor streams a recording as fast as the stack carries it; reported as notifications,
   samples and payload bytes per second received by ``BleLink``, per profile, at the notification size each
   family uses (WitMotion and NUS fill the MTU payload of 244 bytes; Polar sends frames of 30 samples; MetaMotion
   one sample per notification).
2. Latency at real speed: a live set (``LiveSession`` on ``BleLink``) from the bundled squat recording; for each rep
   event, the time from the sensor's latest notification to the event reaching the display, p50/p95/max.

Both sides share one Python event loop and one core, so these are figures for the stack as we run it, not for a
radio: a real link adds its connection interval (7.5-50 ms) to the latency and caps throughput far lower.
Run by hand: ``python bench/bench_ble.py [--profiles nus,polar] [--latency-profiles polar,nus]``.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path

import numpy as np
from rich.console import Console

from repsense.core.live import LiveSession
from repsense.core.liveview import QuietLiveView
from repsense.core.session import SessionEvent, SetSession
from repsense.core.setcontrol import SetConfig
from repsense.events import Exercise, Placement, RepEvent
from repsense.firmware_bridge.ble import BleLink
from repsense.firmware_bridge.ble_emulator import SensorPeripheral
from repsense.firmware_bridge.ble_virtual import VirtualRadio
from repsense.firmware_bridge.recording import read_recording
from repsense.samples import SampleBlock

ROOT = Path(__file__).resolve().parents[1]
SQUAT = ROOT / "sample_recordings" / "squat_amrap_walkout_100hz.csv"
FAST = 1000.0  # played this many times faster than recorded: the stack, not the pacing, sets the pace


async def throughput(profile: str, samples: SampleBlock) -> dict[str, float]:
    radio = VirtualRadio()
    sensor = SensorPeripheral(radio, profile, samples, speed=FAST, max_batch=60)
    await sensor.start()
    link = BleLink(
        sensor.name,
        time_scale=FAST,
        client_backend=radio.client_backend(),
        scanner_backend=radio.scanner_backend(),
    )
    received = 0
    gen = link.blocks()
    start: float | None = None
    try:
        async for item in gen:
            if not isinstance(item, SampleBlock):
                continue
            start = time.perf_counter() if start is None else start
            received += len(item)
            if sensor.finished.is_set() and received >= sensor.stats.samples_sent - 50:
                break
    finally:
        elapsed = time.perf_counter() - (start or time.perf_counter())
        await gen.aclose()
        await sensor.close()
    stats = sensor.stats
    return {
        "notifications_s": stats.notifications / elapsed,
        "samples_s": received / elapsed,
        "kbytes_s": stats.bytes_sent / elapsed / 1000,
        "bytes_per_notification": stats.bytes_sent / max(stats.notifications, 1),
    }


class _Latency(QuietLiveView):
    def __init__(self, sensor: SensorPeripheral) -> None:
        super().__init__(Console(stderr=True, quiet=True))
        self.sensor = sensor
        self.latency_s: list[float] = []

    def events(self, events: list[SessionEvent]) -> None:
        if any(isinstance(e, RepEvent) for e in events) and self.sensor.stats.sent:
            self.latency_s.append(time.monotonic() - self.sensor.stats.sent[-1][0])
        super().events(events)


async def latency(profile: str, samples: SampleBlock) -> tuple[list[float], int]:
    radio = VirtualRadio()
    sensor = SensorPeripheral(radio, profile, samples, speed=1.0)
    await sensor.start()
    link = BleLink(sensor.name, client_backend=radio.client_backend(), scanner_backend=radio.scanner_backend())
    view = _Latency(sensor)
    session = SetSession(
        Exercise.SQUAT, Placement.BAR, SetConfig.for_lift(Exercise.SQUAT, velocity_loss=0.95, inactivity_s=60)
    )
    live = LiveSession(link, session, view, give_up_s=2.0, handle_signals=False)
    try:
        await live.run()
    finally:
        await sensor.close()
    return view.latency_s, len(live.outcome.result.reps)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profiles", default="witmotion,polar,metamotion,nus")
    parser.add_argument("--latency-profiles", default="polar,nus")
    args = parser.parse_args()
    samples = read_recording(SQUAT).samples
    print(f"throughput ({len(samples)} samples of {SQUAT.name}, played {FAST:g}x):")
    for profile in args.profiles.split(","):
        r = asyncio.run(throughput(profile, samples))
        print(
            f"  {profile:<10} {r['notifications_s']:8.0f} notifications/s  {r['samples_s']:8.0f} samples/s  "
            f"{r['kbytes_s']:7.1f} kB/s  ({r['bytes_per_notification']:.0f} B per notification)"
        )
    print("latency, sensor notification -> rep event on the display, real speed:")
    for profile in [p for p in args.latency_profiles.split(",") if p]:
        lat, reps = asyncio.run(latency(profile, samples))
        ms = np.array(lat) * 1000
        print(
            f"  {profile:<10} {reps} reps  p50 {np.percentile(ms, 50):.2f} ms  p95 {np.percentile(ms, 95):.2f} ms  "
            f"max {ms.max():.2f} ms"
        )


if __name__ == "__main__":
    main()
