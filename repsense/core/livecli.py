"""The ``live`` and ``emulate`` commands: wiring from parsed arguments to the live session and the emulator."""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
from collections.abc import Callable

from rich.console import Console

from repsense.core.live import LiveDisplay, LiveSession
from repsense.core.liveview import PlainLiveView, QuietLiveView, RichLiveView
from repsense.core.session import SetSession, lift_from_metadata
from repsense.core.setcontrol import SetConfig
from repsense.errors import ConfigError
from repsense.events import Exercise
from repsense.firmware_bridge.links import SerialLink, WireFormat
from repsense.firmware_bridge.streams import TextOptions


def run_live(
    args: argparse.Namespace, set_config: Callable[[argparse.Namespace, Exercise], SetConfig], out: Console
) -> int:
    exercise, placement = lift_from_metadata({}, args.exercise, args.placement)
    config = set_config(args, exercise)
    if not args.give_up > 0:
        raise ConfigError("--give-up must be positive")
    if not args.speed > 0:
        raise ConfigError("--speed must be positive")
    if args.baud <= 0:
        raise ConfigError("--baud must be positive")
    if args.record is not None and not args.record.parent.is_dir():
        raise ConfigError(f"--record {args.record}: no such folder {args.record.parent}")
    text = TextOptions(args.columns, args.acc_unit, args.gyro_unit, args.time_unit)
    link = SerialLink(args.port, args.baud, WireFormat(args.format), time_scale=args.speed, text=text)
    session = SetSession(exercise, placement, config, source=args.port)
    metadata: dict[str, str | float | int] = {
        "exercise": str(exercise),
        "placement": str(placement),
        "sensor": f"live on {args.port}",
        "started": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }
    if args.speed != 1.0:
        metadata["time_scale"] = args.speed
    display: LiveDisplay
    if args.json:
        display = QuietLiveView(Console(stderr=True, highlight=False))
    elif out.is_terminal:
        display = RichLiveView(out, args.port, exercise, placement, config)
    else:
        display = PlainLiveView(out, args.port, exercise, placement, config)
    live = LiveSession(link, session, display, record=args.record, metadata=metadata, give_up_s=args.give_up)
    try:
        outcome = asyncio.run(live.run())
    finally:
        if isinstance(display, RichLiveView):
            display.close()
    if args.json:
        print(json.dumps(outcome.result.to_json(), indent=2), flush=True)
    elif args.record is not None:
        out.print(f"recording: {args.record}")
    return 0


def run_emulate(args: argparse.Namespace) -> int:
    from repsense.firmware_bridge.emulator import Faults, SensorEmulator
    from repsense.firmware_bridge.emulator_io import Device, PtyDevice, SerialDevice, play
    from repsense.firmware_bridge.vendor_files import load_any

    if args.link is not None and not args.pty:
        raise ConfigError("--link goes with --pty")
    if not args.speed > 0:
        raise ConfigError("--speed must be positive")
    recording = load_any(args.file)  # a v1 recording or a vendor export
    faults = Faults(
        corrupt_rate=args.corrupt,
        drop_rate=args.drop,
        noise_at_s=args.noise_at,
        noise_bytes=args.noise_bytes,
        disconnect_at_s=args.disconnect_at,
        disconnect_for_s=args.disconnect_for,
        seed=args.seed,
    )
    # About 10 ms of recording per write, but no more than one write per 5 ms of wall time when played fast.
    chunk_s = max(0.01, 0.005 * args.speed)
    emulator = SensorEmulator(recording.samples, WireFormat(args.format), faults, chunk_s=chunk_s)
    device: Device = PtyDevice(args.link) if args.pty else SerialDevice(args.port, args.baud)
    play(
        emulator,
        device,
        speed=args.speed,
        wait_for_reader=args.pty and not args.no_wait,
        log=lambda line: print(line, flush=True),
    )
    return 0
