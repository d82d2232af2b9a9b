"""History (SQLite on disk) speed: saving sets, listing them, the load-velocity profile, export.

Fills a fresh database with ``--sets`` squat sets of 8 reps (a few years of training), one transaction per set
as ``live`` saves them, then times the queries the CLI runs. Figures only, no assertions.
Run by hand: ``python bench/bench_history.py [--sets 2000]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

from repsense.core.history import History, RepRow, SetRecord
from repsense.core.history_export import to_csv, to_json


def record(k: int) -> SetRecord:
    load = 60.0 + 2.5 * (k % 24)
    reps = tuple(
        RepRow(
            idx=i + 1,
            t_start_s=3.0 * i,
            t_end_s=3.0 * i + 0.8,
            mean_velocity_m_s=0.9 - 0.004 * load - 0.02 * i,
            peak_velocity_m_s=1.3 - 0.004 * load,
            rom_m=0.55,
            velocity_loss=0.02 * i,
            flags=(),
            counted=True,
        )
        for i in range(8)
    )
    started = dt.datetime(2024, 1, 1, tzinfo=dt.UTC) + dt.timedelta(days=k // 3)
    return SetRecord(
        "squat", "amrap", reps, load_kg=load, load_unit="kg", stop_reason="velocity_loss", started_at=started
    )


def timed(label: str, work: object) -> None:
    start = time.perf_counter()
    result = work() if callable(work) else None
    ms = (time.perf_counter() - start) * 1000
    size = ""
    if isinstance(result, list):
        size = f" ({len(result)} rows)"
    elif isinstance(result, str):
        size = f" ({len(result) / 1e6:.1f} MB)"
    print(f"  {label:<34} {ms:8.1f} ms{size}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "history.sqlite3"
        with History(path) as history:
            start = time.perf_counter()
            for k in range(args.sets):
                history.save_set(record(k))
            elapsed = time.perf_counter() - start
            print(f"{args.sets} sets of 8 reps saved, one transaction each: {elapsed / args.sets * 1000:.2f} ms/set")
            timed("history (newest 20)", lambda: history.sets(limit=20))
            timed("history --exercise squat (all)", lambda: history.sets(exercise="squat"))
            timed("get_set (one set with reps)", lambda: [history.get_set(args.sets // 2)])
            timed("profile points (squat)", lambda: history.profile_points("squat"))
            timed(
                "export --format json (all)",
                lambda: to_json(history.sets(), history.schema_version, dt.datetime.now(dt.UTC)),
            )
            timed("export --format csv (all, per rep)", lambda: to_csv(history.sets()))
        print(f"  file size: {path.stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
