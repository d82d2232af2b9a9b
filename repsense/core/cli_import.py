"""``repsense import FILE... [--out DIR]``: MetaMotion, Polar Sensor Logger and WitMotion exports to v1 recordings.

Each file that can be read is written, even when others fail; each failure prints one line on stderr, and the
command then exits with status 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from rich.console import Console

from repsense.firmware_bridge.vendor_files import iter_import

DEFAULT_OUT = Path("imported")


def add_import_command(subparsers: Any) -> None:
    """Add the ``import`` subcommand to the parser's subparsers (``argparse._SubParsersAction``)."""
    p = subparsers.add_parser(
        "import",
        help="convert MetaMotion, Polar Sensor Logger or WitMotion exports to repsense recordings",
        description=(
            "Convert vendor exports to repsense v1 recordings. MetaMotion/MetaBase CSV (give the Accelerometer or "
            "the Gyroscope file; its partner is found in the same folder), Polar Sensor Logger ACC/GYRO files, "
            "WitMotion app exports. Existing recordings of the same name in the output folder are replaced; two "
            "sets of one run that would share a name keep their app version (..._1.4.4.csv, ..._1.4.41.csv)."
        ),
    )
    p.add_argument("files", nargs="+", type=Path, metavar="FILE", help="vendor export(s) to convert")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, metavar="DIR", help=f"output folder ({DEFAULT_OUT})")


def cmd_import(args: argparse.Namespace, console: Console) -> int:
    failed = 0
    for result in iter_import(args.files, args.out):
        if result.error is not None:
            failed += 1
            print(f"repsense: error: {result.error}", file=sys.stderr)
            continue
        if result.duplicate_of is not None:
            console.print(
                f"{result.source}: same set as {result.duplicate_of}, already written", markup=False, soft_wrap=True
            )
            continue
        assert result.out is not None and result.recording is not None
        samples, meta = result.recording.samples, result.recording.metadata
        duration_s = float(samples.t_s[-1] - samples.t_s[0]) if len(samples) else 0.0
        details = [f"{len(samples)} samples", f"{duration_s:.1f} s", "acc+gyro" if samples.has_gyro else "acc only"]
        if meta.get("sample_rate_hz"):
            details.append(f"{meta['sample_rate_hz']} Hz")
        for key in ("exercise", "placement"):
            if meta.get(key):
                details.append(f"{key} {meta[key]}")
        console.print(f"{result.source} -> {result.out}  ({', '.join(details)})", markup=False, soft_wrap=True)
        if meta.get("import_notes"):
            console.print(f"  note: {meta['import_notes']}", markup=False, style="yellow", soft_wrap=True)
    return 2 if failed else 0
