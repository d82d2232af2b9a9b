"""How many frames per second FrameDecoder decodes (and TextLineDecoder lines), on this machine.

    python bench/bench_decoder.py [--frames 20000]      (package installed, as in ``make bench``)
    python3 -m bench.bench_decoder [--frames 20000]     (from the repository root, without installing)

The stream is the reference firmware's: 200 Hz, 10 samples of acc + gyro per frame (134 bytes), a CONFIG every
40 frames, fed in 4 KiB chunks with arrival times (so clock mapping runs too). A live sensor needs 20 frames/s.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from repsense.firmware_bridge.framing import FrameDecoder, FrameEncoder
from repsense.firmware_bridge.textlines import TextLineDecoder


def frame_stream(n_frames: int, seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    encoder = FrameEncoder(5000, 1 / 4096, 1 / 32.8, 10, "bench")
    parts = [b"\x00", encoder.config_frame(0)]
    for k in range(n_frames):
        counts = rng.integers(-8000, 8000, size=(10, 6))
        t_us = 1000 + 50_000 * k
        parts += encoder.data_frames(t_us, counts[:, :3], counts[:, 3:])
        if k % 40 == 39:
            parts.append(encoder.config_frame(t_us + 45_000))
    return b"".join(parts)


def bench_frames(n_frames: int, chunk: int = 4096) -> float:
    data = frame_stream(n_frames)
    decoder = FrameDecoder()
    start = time.perf_counter()
    n_blocks = 0
    for i in range(0, len(data), chunk):
        n_blocks += len(decoder.feed(data[i : i + chunk], arrival_s=i * 1e-6))
    elapsed = time.perf_counter() - start
    assert n_blocks == n_frames, (n_blocks, decoder.stats)
    return n_frames / elapsed


def bench_lines(n_lines: int, chunk: int = 4096) -> float:
    data = "".join(f"{10 * i},0.01,-0.02,0.98,1.5,-0.5,2.0\n" for i in range(n_lines)).encode()
    decoder = TextLineDecoder()
    start = time.perf_counter()
    for i in range(0, len(data), chunk):
        decoder.feed(data[i : i + chunk], arrival_s=i * 1e-5)
    elapsed = time.perf_counter() - start
    assert decoder.stats.lines_ok == n_lines, decoder.stats
    return n_lines / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    frames = max(bench_frames(args.frames) for _ in range(args.repeat))
    lines = max(bench_lines(args.frames) for _ in range(args.repeat))
    print(f"FrameDecoder:    {frames:10,.0f} frames/s  ({frames * 10:,.0f} samples/s, {frames * 134 / 1e6:.1f} MB/s)")
    print(f"TextLineDecoder: {lines:10,.0f} lines/s")


if __name__ == "__main__":
    main()
