"""Helpers shared by the core tests."""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from repsense.events import Exercise
from repsense.firmware_bridge.simulator import SimulatedSet, random_config, simulate_set, write_simulated


def same_session(live: dict[str, Any], replayed: dict[str, Any], recording: Path) -> None:
    """Assert that a live session and a replay of its ``recording`` produced the same result (``to_json()`` dicts):
    the same reps with the same figures and detection times, the same failed attempts, gaps and stop. Only the
    ``source`` may differ (a port against a file)."""
    a, b = copy.deepcopy(live), copy.deepcopy(replayed)
    a.pop("source", None)
    b.pop("source", None)
    assert a == b, f"live and replay of {recording.name} differ"


@pytest.fixture
def assert_same_session():
    return same_session


@pytest.fixture
def gap_recording(tmp_path) -> tuple[Path, SimulatedSet]:
    """A clean simulated bench set, accelerometer only, whose link dropped for 2.5 s during the reps: one rep is
    not in the file, and the rhythm around the gap is clear enough to say so. The recording's path and the set."""
    rng = np.random.default_rng([1, 3])
    config = dataclasses.replace(random_config(rng, Exercise.BENCH, has_gyro=False, hard=False), long_gap_s=2.5)
    sim = simulate_set(config, seed=1)
    path, _ = write_simulated(sim, tmp_path / "bench_gap.csv")
    return path, sim
