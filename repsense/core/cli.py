"""The ``repsense`` command line.

Every error a user can cause ends as one line on stderr and exit status 2; see ``repsense.errors``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from repsense import __version__
from repsense.core.advice import Advice
from repsense.core.cli_ble import add_ble_options, add_scan_command, cmd_scan
from repsense.core.cli_history import (
    HISTORY_COMMANDS,
    add_history_commands,
    add_save_options,
    default_set_number,
    endurance_numbers,
    save_result,
)
from repsense.core.cli_import import add_import_command, cmd_import
from repsense.core.cli_plan import (
    SetChoice,
    add_plan_options,
    check_plan_options,
    choose_set,
    plan_json,
    print_advice,
    print_plan,
    recording_load,
    set_advice,
    warn_json,
)
from repsense.core.cli_report import add_report_command, cmd_report
from repsense.core.history_rows import recording_started
from repsense.core.plan import Load
from repsense.core.session import SessionResult, SetSession, lift_from_metadata, replay
from repsense.core.setcontrol import SetMode
from repsense.core.view import SetView, make_console, warn_not_a_bar
from repsense.errors import ConfigError, RepsenseError
from repsense.events import Exercise

if TYPE_CHECKING:
    from repsense.firmware_bridge.recording import Recording

EXIT_USER_ERROR = 2


class _Parser(argparse.ArgumentParser):
    """argparse, but its usage errors become ConfigError so they print like every other user error."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise ConfigError(message)


def _percent(text: str) -> float:
    """``--velocity-loss``: a percentage from 1 to below 100, as a fraction. Below 1 is refused: it is most likely a
    fraction (0.2 meant as 20 %), and a stop at under 1 % of velocity loss would end every set at its second rep."""
    try:
        value = float(text.rstrip("%"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a percentage") from None
    # ConfigError, not ArgumentTypeError: argparse would put "argument --velocity-loss:" before the flag's own name.
    if value < 1.0:
        raise ConfigError(f"--velocity-loss is a percentage: 20 means 20 % (got {text})")
    if not value < 100.0:
        raise ConfigError(f"--velocity-loss must be from 1 to below 100 (a percentage), got {text}")
    return value / 100.0


def _add_set_options(p: argparse.ArgumentParser, set_default: str = "the next one on the day of the set, or 1") -> None:
    lifts = ", ".join(e.value for e in Exercise)
    p.add_argument(
        "--exercise", metavar="LIFT", help=f"the lift ({lifts}); default: the recording's metadata, else other"
    )
    p.add_argument("--placement", choices=["bar", "wrist"], help="where the sensor sits; default: metadata, else bar")
    # No default, so that a --mode given with --plan can be told from none given; None: amrap, or fixed with --reps.
    p.add_argument("--mode", choices=[m.value for m in SetMode], help="amrap (default; fixed with --reps) or fixed")
    p.add_argument("--reps", type=int, metavar="N", help="a fixed set of N reps (implies --mode fixed)")
    p.add_argument(
        "--velocity-loss",
        type=_percent,
        default=0.20,
        metavar="PCT",
        help="AMRAP: stop at this velocity loss, in percent from 1 to below 100 (20)",
    )
    p.add_argument(
        "--confirm", type=int, metavar="N", help="reps in a row at the threshold to stop (1; 2 on the wrist)"
    )
    p.add_argument("--inactivity", type=float, default=10.0, metavar="S", help="stop after S s without a rep (10)")
    add_plan_options(p, set_default)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="repsense", description="Sensor-driven rep counter and form monitor for strength training.")
    parser.add_argument("--version", action="version", version=f"repsense {__version__}")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    p = sub.add_parser("replay", help="run a recording through the live pipeline")
    p.add_argument("file", type=Path, metavar="FILE", help="a v1 recording, or a MetaMotion/Polar/WitMotion export")
    _add_set_options(p)
    p.add_argument("--json", action="store_true", help="print one JSON object instead of the live view")
    p.add_argument("--realtime", action="store_true", help="pace the replay like the live sensor")
    p.add_argument("--speed", type=float, metavar="X", help="with --realtime: play X times faster (1)")
    add_save_options(p, default_save=False)

    p = sub.add_parser("simulate", help="write synthetic recordings with truth files")
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder")
    p.add_argument("--sets", type=int, default=10, metavar="N", help="how many sets (10)")
    p.add_argument("--seed", type=int, default=0, metavar="N", help="random seed (0)")
    p.add_argument("--exercise", metavar="LIFT", help="only this lift (default: all lifts but alt_curl)")
    p.add_argument("--rate", type=float, metavar="HZ", help="nominal sample rate in Hz (default: 50-200 at random)")
    gyro = p.add_mutually_exclusive_group()
    gyro.add_argument("--gyro", dest="gyro", action="store_const", const=True, help="always with gyroscope")
    gyro.add_argument("--no-gyro", dest="gyro", action="store_const", const=False, help="never with gyroscope")
    p.add_argument("--clean", action="store_true", help="a clean set without nuisances")
    p.add_argument("--samples", action="store_true", help="write the bundled demo recordings instead")

    p = sub.add_parser("live", help="count reps live from a sensor on a serial port or Bluetooth LE")
    p.add_argument("--port", help="serial port, e.g. /dev/ttyUSB0 or an emulator's /dev/pts/N")
    p.add_argument("--ble", metavar="NAME|ADDRESS", help="a Bluetooth LE sensor, by advertised name or address")
    add_ble_options(p)
    p.add_argument(
        "--baud", type=int, default=921_600, metavar="N", help="baud rate (921600; ignored by USB CDC and ptys)"
    )
    p.add_argument("--format", choices=["frame", "csv", "auto"], default="auto", help="wire format (auto)")
    p.add_argument(
        "--columns", metavar="MAP", help="CSV lines: the column map, e.g. ms,ax,ay,az,gx,gy,gz (default: detect)"
    )
    p.add_argument("--acc-unit", choices=["g", "m/s2"], help="CSV lines: acceleration unit (default: detect)")
    p.add_argument("--gyro-unit", choices=["dps", "rad/s"], help="CSV lines: angular rate unit (default: detect)")
    p.add_argument("--time-unit", choices=["s", "ms", "us"], help="CSV lines: time unit (default: detect)")
    _add_set_options(p)
    record = p.add_mutually_exclusive_group()
    record.add_argument(
        "--record",
        type=Path,
        metavar="FILE",
        help="write the session to this v1 recording, or to FILE-2... if FILE exists (default: a new file in "
        "~/.local/share/repsense/recordings)",
    )
    record.add_argument("--no-record", action="store_true", help="keep no recording of the session")
    p.add_argument("--json", action="store_true", help="print only the JSON result (as replay --json) at the end")
    p.add_argument(
        "--give-up", type=float, default=30.0, metavar="S", help="end when the sensor is gone for S seconds (30)"
    )
    p.add_argument(
        "--speed", type=float, default=1.0, metavar="X", help="the sensor is an emulator playing X times faster (1)"
    )
    add_save_options(p, default_save=True)

    p = sub.add_parser("emulate", help="play a recording as a sensor would, on a pseudo-terminal or a port")
    p.add_argument("file", type=Path, metavar="FILE", help="a v1 recording, or a MetaMotion/Polar/WitMotion export")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--pty", action="store_true", help="create a pseudo-terminal; prints 'device: PATH' first")
    where.add_argument("--port", help="write to this serial port instead")
    p.add_argument("--link", type=Path, metavar="PATH", help="with --pty: keep a symlink PATH to the current device")
    p.add_argument("--baud", type=int, default=921_600, metavar="N", help="with --port: baud rate (921600)")
    p.add_argument("--format", choices=["frame", "csv"], default="frame", help="wire format (frame)")
    p.add_argument("--speed", type=float, default=1.0, metavar="X", help="play X times faster than real time (1)")
    p.add_argument("--corrupt", type=_rate, default=0.0, metavar="PCT", help="corrupt this %% of bytes (0)")
    p.add_argument("--drop", type=_rate, default=0.0, metavar="PCT", help="drop this %% of frames or lines (0)")
    p.add_argument("--noise-at", type=float, metavar="S", help="a burst of random bytes at S s into the recording")
    p.add_argument("--noise-bytes", type=int, default=256, metavar="N", help="bytes in the noise burst (256)")
    p.add_argument("--disconnect-at", type=float, metavar="S", help="unplug the sensor at S s into the recording")
    p.add_argument("--disconnect-for", type=float, default=2.0, metavar="S", help="... for S s of recording (2)")
    p.add_argument("--seed", type=int, default=0, metavar="N", help="random seed for the faults (0)")
    p.add_argument("--no-wait", action="store_true", help="start at once instead of waiting for a reader")
    add_import_command(sub)
    add_scan_command(sub)
    add_report_command(sub)
    add_history_commands(sub)
    return parser


def _rate(text: str) -> float:
    """A percentage from 0 (inclusive) to 100, as a fraction."""
    try:
        value = float(text.rstrip("%"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a percentage") from None
    if not 0.0 <= value < 100.0:
        raise argparse.ArgumentTypeError(f"{text!r} must be from 0 to below 100")
    return value / 100.0


def _set_choice(
    args: argparse.Namespace,
    exercise: Exercise,
    started: dt.datetime | None = None,
    recorded_load: Load | None = None,
) -> SetChoice:
    """The set to run from the set options: its SetConfig and, with ``--plan``, the plan, set and load. ``started``:
    when the set was done (a replayed recording's start), None for now; ``recorded_load``: a replayed recording's
    load, when neither ``--load`` nor the plan gives one."""
    return choose_set(args, exercise, default_set_number, endurance_numbers, started, recorded_load)


def _save(
    args: argparse.Namespace,
    result: SessionResult,
    out: Console,
    metadata: Mapping[str, Any],
    choice: SetChoice,
    advice: Advice | None,
) -> None:
    """Store a replayed set in the history when ``--save`` asks for it, with its plan, load and advice."""
    save_result(
        args,
        result,
        out,
        metadata=metadata,
        recording_path=args.file,
        plan=choice.plan,
        spec=choice.spec,
        advice=advice,
        load=choice.load,
    )


def _print_notes(recording: Recording, err: Console) -> None:
    """What reading the file noticed (an incomplete last line, a vendor import's notes), on stderr: with ``--json``
    too, where stdout holds only the JSON."""
    if recording.truncated_last_line:
        err.print("repsense: note: the last line of the file was incomplete and was skipped", markup=False)
    if recording.metadata.get("import_notes"):
        err.print(f"repsense: note: {recording.metadata['import_notes']}", style="yellow", markup=False)


def cmd_replay(args: argparse.Namespace, out: Console) -> int:
    from repsense.firmware_bridge.vendor_files import load_any

    if args.speed is not None and not args.realtime:
        raise ConfigError("--speed goes with --realtime (without it, a replay runs as fast as it can)")
    speed = 1.0 if args.speed is None else args.speed
    if not speed > 0:
        raise ConfigError("--speed must be positive")
    check_plan_options(args)
    recording = load_any(args.file)
    exercise, placement = lift_from_metadata(recording.metadata, args.exercise, args.placement)
    choice = _set_choice(args, exercise, recording_started(recording.metadata), recording_load(recording.metadata))
    config = choice.config
    session = SetSession(exercise, placement, config, source=str(args.file))
    err = make_console(stderr=True)
    if args.json:
        warn_json(choice, err)
        _print_notes(recording, err)
        result = replay(recording.samples, session, realtime=args.realtime, speed=speed)
        advice = set_advice(choice, result)
        print(json.dumps({**result.to_json(), **plan_json(choice, advice)}, indent=2))
        warn_not_a_bar(result, err)
        _save(args, result, out, recording.metadata, choice, advice)
        return 0
    view = SetView(out)
    t0 = float(recording.samples.t_s[0]) if len(recording.samples) else 0.0
    view.header(str(args.file), exercise, placement, config, t0)
    print_plan(choice, out)
    _print_notes(recording, err)
    result = replay(
        recording.samples,
        session,
        realtime=args.realtime,
        speed=speed,
        on_event=lambda event: view.show(event, config),
    )
    view.summary(result)
    warn_not_a_bar(result, err)
    advice = set_advice(choice, result)
    print_advice(advice, choice, out)
    _save(args, result, out, recording.metadata, choice, advice)
    return 0


def cmd_simulate(args: argparse.Namespace, out: Console) -> int:
    from repsense.core.session import parse_exercise
    from repsense.firmware_bridge import sample_recordings, simulator

    if args.samples:
        paths = sample_recordings.make_sample_recordings(args.out)
        for path in paths:
            out.print(str(path))
        return 0
    if args.sets < 1:
        raise ConfigError("--sets must be at least 1")
    kwargs: dict[str, object] = {"hard": not args.clean}
    if args.exercise:
        kwargs["exercise"] = parse_exercise(args.exercise, "--exercise")
    if args.rate is not None:
        if not 1.0 <= args.rate <= 5000.0:
            raise ConfigError("--rate must be between 1 and 5000 Hz")
        kwargs["rate_hz"] = args.rate
    if args.gyro is not None:
        kwargs["has_gyro"] = args.gyro
    for rec, truth in simulator.simulate_corpus(args.out, args.sets, args.seed, **kwargs):
        out.print(f"{rec}  (truth: {truth.name})")
    return 0


def cmd_live(args: argparse.Namespace, out: Console) -> int:
    from repsense.core.livecli import run_live

    return run_live(args, _set_choice, out)


def cmd_emulate(args: argparse.Namespace, out: Console) -> int:
    from repsense.core.livecli import run_emulate

    return run_emulate(args)


COMMANDS = {
    "replay": cmd_replay,
    "simulate": cmd_simulate,
    "live": cmd_live,
    "scan": cmd_scan,
    "emulate": cmd_emulate,
    "import": cmd_import,
    "report": cmd_report,
    **HISTORY_COMMANDS,
}


def main(argv: Sequence[str] | None = None) -> int:
    out = make_console()
    err = make_console(stderr=True)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            # Bare "repsense": what it can do, rather than one line that a command is required.
            sys.stderr.write(parser.format_help())
            return EXIT_USER_ERROR
        return COMMANDS[args.command](args, out)
    except RepsenseError as exc:
        err.print(f"repsense: error: {exc}", markup=False, soft_wrap=True)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        err.print("repsense: interrupted", markup=False)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
