"""The ``live`` and ``emulate`` commands: wiring from parsed arguments to the live session and the emulator."""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
from collections.abc import Callable

from rich.console import Console

from repsense.core.cli_ble import make_ble_link, virtual_sensor
from repsense.core.cli_history import default_recording_path, save_result
from repsense.core.cli_plan import SetChoice, plan_json, print_advice, print_plan, set_advice, warn_json
from repsense.core.live import LiveDisplay, LiveOutcome, LiveSession
from repsense.core.liveview import PlainLiveView, QuietLiveView, RichLiveView
from repsense.core.session import SetSession, lift_from_metadata
from repsense.core.view import make_console, warn_not_a_bar
from repsense.errors import ConfigError
from repsense.events import Exercise
from repsense.firmware_bridge.links import Link, SerialLink, WireFormat
from repsense.firmware_bridge.plausible import DoubtKind
from repsense.firmware_bridge.recording import next_free_path
from repsense.firmware_bridge.streams import TextOptions


def run_live(
    args: argparse.Namespace, set_choice: Callable[[argparse.Namespace, Exercise], SetChoice], out: Console
) -> int:
    """Run one live set. ``set_choice`` turns the set options into the set to run (``cli._set_choice``)."""
    exercise, placement = lift_from_metadata({}, args.exercise, args.placement)
    choice = set_choice(args, exercise)
    config = choice.config
    if not args.give_up > 0:
        raise ConfigError("--give-up must be positive")
    if not args.speed > 0:
        raise ConfigError("--speed must be positive")
    if args.baud <= 0:
        raise ConfigError("--baud must be positive")
    if (args.port is None) == (args.ble is None):
        raise ConfigError("give the sensor as --port PATH (serial) or --ble NAME|ADDRESS (Bluetooth LE)")
    if args.virtual_sensor is not None and args.ble is None:
        raise ConfigError("--virtual-sensor goes with --ble")
    if args.record is not None and not args.record.parent.is_dir():
        raise ConfigError(f"--record {args.record}: no such folder {args.record.parent}")
    if args.record is not None and (args.record.exists() or args.record.is_symlink()):
        # Never overwrite: an earlier set's history row may point at that file.
        free = next_free_path(args.record)
        make_console(stderr=True).print(
            f"--record {args.record} exists already: recording to {free}", markup=False, soft_wrap=True
        )
        args.record = free
    if args.record is None and not args.no_record:
        # Every live set is recorded unless asked not to: it can be replayed, re-analysed, or saved again later.
        args.record = default_recording_path(str(exercise))
        try:
            args.record.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"cannot create {args.record.parent} for the recording ({exc.strerror})") from None
    text = TextOptions(args.columns, args.acc_unit, args.gyro_unit, args.time_unit)
    where = args.port if args.ble is None else f"BLE {args.ble}"
    session = SetSession(exercise, placement, config, source=where)
    metadata: dict[str, str | float | int] = {
        "exercise": str(exercise),
        "placement": str(placement),
        "sensor": f"live on {where}",
        "started": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }
    if choice.load is not None:  # so that a replay of the recording (replay FILE --save later) has the load too
        metadata["load_kg"] = round(choice.load.kg, 3)
    if args.speed != 1.0:
        metadata["time_scale"] = args.speed
    display: LiveDisplay
    if args.json:
        warn_json(choice, make_console(stderr=True))
    else:
        print_plan(choice, out)
    if args.json:
        display = QuietLiveView(make_console(stderr=True))
    elif out.is_terminal:
        display = RichLiveView(out, where, exercise, placement, config)
    else:
        display = PlainLiveView(out, where, exercise, placement, config)

    async def run() -> LiveOutcome:
        async with virtual_sensor(args, args.speed) as virtual:
            link: Link
            if args.ble is None:
                link = SerialLink(args.port, args.baud, WireFormat(args.format), time_scale=args.speed, text=text)
            else:
                link = make_ble_link(args, virtual, text)
            live = LiveSession(
                link,
                session,
                display,
                record=args.record,
                metadata=metadata,
                give_up_s=args.give_up,
                time_scale=args.speed,
                remedies=live_remedies(args),
                undecodable_hint=undecodable_hint(args),
            )
            return await live.run()

    try:
        outcome = asyncio.run(run())
    finally:
        if isinstance(display, RichLiveView):
            display.close()
    warn_not_a_bar(outcome.result, make_console(stderr=True))
    advice = set_advice(choice, outcome.result)
    if args.json:
        print(json.dumps({**outcome.result.to_json(), **plan_json(choice, advice)}, indent=2), flush=True)
    else:
        print_advice(advice, choice, out)
        if outcome.recording is not None:
            out.print(f"recording: {outcome.recording}")
    save_result(
        args,
        outcome.result,
        out,
        metadata=metadata,
        recording_path=outcome.recording,
        plan=choice.plan,
        spec=choice.spec,
        advice=advice,
        load=choice.load,
    )
    return 0


def undecodable_hint(args: argparse.Namespace) -> str:
    """What to try when bytes come but no sample decodes from them."""
    if args.ble is not None:
        return "check --profile"
    if args.format == "frame":
        return "try --format auto (or csv)"
    columns = f" or check --columns {args.columns}" if args.columns else ""
    if args.format == "csv":
        return f"try --format auto{columns}"
    if args.columns:
        return f"check --columns {args.columns}"
    return "try --format frame or --format csv"


def live_remedies(args: argparse.Namespace) -> dict[DoubtKind, str]:
    """What to tell the user for each doubt about the first seconds of data, naming the options they gave."""

    def instead(option: str, given: str | None, right: str) -> str:
        if given is None:
            return f"pass {option} {right}"
        return f"pass {option} {right}, not {given}"

    def clock(faster: bool) -> str:
        # Read in too large a unit, the clock runs fast; the next unit down (or up) is the likely one.
        right = {"s": "ms", "ms": "us"} if faster else {"us": "ms", "ms": "s"}
        if args.time_unit in right:
            return f"pass --time-unit {right[args.time_unit]}, not {args.time_unit}"
        return "check --time-unit, and that --speed is the emulator's"

    columns = f"check --columns {args.columns}" if args.columns else "name the columns with --columns"
    return {
        DoubtKind.ACC_IN_M_S2: f"the sensor sends m/s^2: {instead('--acc-unit', args.acc_unit, 'm/s2')}",
        DoubtKind.ACC_IN_G: f"the sensor sends g: {instead('--acc-unit', args.acc_unit, 'g')}",
        DoubtKind.ACC_NOT_G: f"a sensor reads about 1 g at rest: {columns} and --acc-unit",
        DoubtKind.COLUMNS_SWAPPED: f"the gyroscope columns read 1 g: {columns} (ax,ay,az are the accelerometer)",
        DoubtKind.GYRO_NOT_DPS: f"the sensor sends deg/s: {instead('--gyro-unit', args.gyro_unit, 'dps')}",
        DoubtKind.CLOCK_FAST: f"the sample clock runs far faster than real time: {clock(faster=True)}",
        DoubtKind.CLOCK_SLOW: f"the sample clock runs far slower than real time: {clock(faster=False)}",
    }


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
