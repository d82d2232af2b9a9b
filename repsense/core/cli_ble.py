"""Bluetooth LE on the command line: ``repsense scan``, and the BLE half of ``repsense live``.

``--virtual-sensor FILE`` (with ``--profile``) runs an emulated sensor in this process, on bumble's virtual radio,
playing FILE; scan and live then reach it through the same bleak calls as a real sensor. It is how to see the BLE
path work on a machine without Bluetooth, and it needs bumble (``pip install -e .[test]``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from repsense.errors import ConfigError
from repsense.firmware_bridge.ble import BleLink, scan
from repsense.firmware_bridge.ble_profiles import PROFILES
from repsense.firmware_bridge.streams import TextOptions


def add_ble_options(p: argparse.ArgumentParser, *, connecting: bool = True) -> None:
    """Options of ``live --ble`` (``connecting``), and those ``scan`` shares with it."""
    p.add_argument("--profile", choices=list(PROFILES), help="the sensor's protocol (default: from its advertisement)")
    if connecting:
        p.add_argument("--scan-timeout", type=float, default=10.0, metavar="S", help="look for the sensor for S s (10)")
    p.add_argument(
        "--virtual-sensor",
        type=Path,
        metavar="FILE",
        help="demo without hardware: an emulated BLE sensor in this process plays FILE (needs --profile)",
    )


def add_scan_command(sub: Any) -> None:
    p = sub.add_parser("scan", help="list nearby BLE sensors and the protocol each speaks")
    p.add_argument("--timeout", type=float, default=5.0, metavar="S", help="listen for S seconds (5)")
    p.add_argument("--all", action="store_true", help="also list devices that are not sensors repsense knows")
    add_ble_options(p, connecting=False)


@dataclass
class _Virtual:
    """The emulated sensor and the bleak backends that reach it."""

    client_backend: Any = None
    scanner_backend: Any = None
    name: str | None = None


@contextlib.asynccontextmanager
async def virtual_sensor(args: argparse.Namespace, speed: float = 1.0) -> AsyncIterator[_Virtual]:
    """With ``--virtual-sensor``, an emulated sensor advertising for the duration; otherwise nothing."""
    if args.virtual_sensor is None:
        yield _Virtual()
        return
    if args.profile is None:
        raise ConfigError("--virtual-sensor needs --profile (which sensor to emulate)")
    try:
        from repsense.firmware_bridge.ble_emulator import SensorPeripheral
        from repsense.firmware_bridge.ble_virtual import VirtualRadio
    except ImportError as exc:  # bumble is a test dependency
        raise ConfigError(f"--virtual-sensor needs bumble: pip install -e '.[test]' ({exc})") from None
    from repsense.firmware_bridge.vendor_files import load_any

    recording = load_any(args.virtual_sensor)
    radio = VirtualRadio()
    peripheral = SensorPeripheral(radio, args.profile, recording.samples, speed=speed)
    await peripheral.start()
    try:
        yield _Virtual(radio.client_backend(), radio.scanner_backend(), peripheral.name)
    finally:
        await peripheral.close()


def make_ble_link(args: argparse.Namespace, virtual: _Virtual, text: TextOptions) -> BleLink:
    if not args.scan_timeout > 0:
        raise ConfigError("--scan-timeout must be positive")
    return BleLink(
        args.ble,
        args.profile,
        time_scale=args.speed,
        scan_timeout_s=args.scan_timeout,
        text=text,
        client_backend=virtual.client_backend,
        scanner_backend=virtual.scanner_backend,
    )


def cmd_scan(args: argparse.Namespace, out: Console) -> int:
    if not args.timeout > 0:
        raise ConfigError("--timeout must be positive")

    async def main() -> list[Any]:
        async with virtual_sensor(args) as virtual:
            return await scan(args.timeout, backend=virtual.scanner_backend)

    sightings = asyncio.run(main())
    shown = [s for s in sightings if args.all or s.profile is not None]
    if not shown:
        hidden = len(sightings) - len(shown)
        extra = f" ({hidden} other device{'s' if hidden != 1 else ''}: --all lists them)" if hidden else ""
        out.print(f"no sensors heard in {args.timeout:g} s{extra}")
        return 0
    table = Table(title=f"BLE devices heard in {args.timeout:g} s")
    table.add_column("name")
    table.add_column("address")
    table.add_column("RSSI", justify="right")
    table.add_column("speaks")
    for s in shown:
        rssi = "" if s.rssi is None else f"{s.rssi} dBm"
        table.add_row(s.name or "(no name)", s.address, rssi, s.profile.label if s.profile else "-")
    out.print(table)
    out.print("connect with: repsense live --ble NAME_OR_ADDRESS --exercise LIFT")
    return 0
