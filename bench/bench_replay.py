"""Replay throughput: how many times faster than real time the pipeline runs, against just parsing the file.

Builds an hour-long 100 Hz recording from simulated sets with rests between them (written once to a temp
folder), then times: parsing the file; the pipeline alone on the parsed samples; the whole replay as the CLI
runs it (parse + pipeline + set control); and the pipeline on the same samples read as from a wrist, with the
vertical counter (barbell lifts) and with the periodic one (curls and other lifts).
Run by hand: ``python bench/bench_replay.py [--minutes 60] [--no-gyro]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from repsense.core.session import SetSession, replay
from repsense.core.setcontrol import SetConfig
from repsense.events import Exercise, Placement
from repsense.firmware_bridge.recording import RecordingWriter, read_recording
from repsense.firmware_bridge.simulator import random_config, simulate_set
from repsense.samples import SampleBlock
from repsense.signal.pipeline import PipelineConfig, RepPipeline


def build_recording(path: Path, minutes: float, has_gyro: bool, rate_hz: float = 100.0) -> int:
    rng = np.random.default_rng(2024)
    t_offset = 0.0
    n = 0
    with RecordingWriter(path, {"exercise": "squat", "sensor": "bench"}, has_gyro=has_gyro) as writer:
        seed = 0
        while t_offset < minutes * 60.0:
            cfg = random_config(rng, Exercise.SQUAT, rate_hz=rate_hz, has_gyro=has_gyro)
            block = simulate_set(cfg, seed).samples
            seed += 1
            t = block.t_s - block.t_s[0] + t_offset
            writer.write(SampleBlock(t, block.acc_g, block.gyro_dps))
            n += len(block)
            # Two minutes of rest between sets, still on the rack.
            rest_t = t[-1] + np.arange(1, int(120 * rate_hz)) / rate_hz
            still = np.tile(block.acc_g[-1], (len(rest_t), 1))
            gyro = None if block.gyro_dps is None else np.zeros((len(rest_t), 3))
            writer.write(SampleBlock(rest_t, still, gyro))
            n += len(rest_t)
            t_offset = float(rest_t[-1]) + 1.0 / rate_hz
    return n


def best_of(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--no-gyro", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "hour.csv"
        n = build_recording(path, args.minutes, has_gyro=not args.no_gyro)
        recording = read_recording(path)
        duration = float(recording.samples.t_s[-1] - recording.samples.t_s[0])
        size_mb = path.stat().st_size / 1e6

        t_parse = best_of(lambda: read_recording(path))
        t_pipeline = best_of(lambda: RepPipeline(PipelineConfig.for_lift(Exercise.SQUAT)).run(recording.samples))
        # The same samples read as from a wrist: the vertical counter (barbell lifts) and the periodic one (curls).
        t_vertical = best_of(
            lambda: RepPipeline(PipelineConfig.for_lift(Exercise.SQUAT, Placement.WRIST)).run(recording.samples)
        )
        t_periodic = best_of(
            lambda: RepPipeline(PipelineConfig.for_lift(Exercise.CURL, Placement.WRIST)).run(recording.samples)
        )

        def full() -> None:
            rec = read_recording(path)
            session = SetSession(Exercise.SQUAT, Placement.BAR, SetConfig.for_lift(Exercise.SQUAT))
            replay(rec.samples, session)

        t_full = best_of(full)
        gyro = "without" if args.no_gyro else "with"
        print(f"recording: {duration / 60:.1f} min at 100 Hz {gyro} gyro, {n} samples, {size_mb:.1f} MB")
        print(f"parse only        {t_parse:6.2f} s  {duration / t_parse:8.0f}x real time")
        print(f"pipeline only     {t_pipeline:6.2f} s  {duration / t_pipeline:8.0f}x real time")
        print(f"replay (CLI path) {t_full:6.2f} s  {duration / t_full:8.0f}x real time")
        print(f"wrist, vertical   {t_vertical:6.2f} s  {duration / t_vertical:8.0f}x real time  (pipeline only)")
        print(f"wrist, periodic   {t_periodic:6.2f} s  {duration / t_periodic:8.0f}x real time  (pipeline only)")


if __name__ == "__main__":
    main()
