"""The unit checks replay runs on a file and live on its first seconds: each wrong reading is named, no real set is."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from repsense.firmware_bridge.plausible import DoubtKind, acceleration_doubt, clock_doubt, gyro_doubt
from repsense.firmware_bridge.vendor_files import load_any
from repsense.samples import STANDARD_GRAVITY_M_S2

SAMPLES = Path(__file__).resolve().parents[2] / "sample_recordings"


@pytest.mark.parametrize("path", sorted(SAMPLES.glob("*.csv")), ids=lambda p: p.name)
def test_the_project_recordings_raise_no_doubt(path):
    samples = load_any(path).samples
    first = samples.slice(0, int(np.searchsorted(samples.t_s, samples.t_s[0] + 3.0)))
    for block in (samples, first):
        assert acceleration_doubt(block.acc_g, block.gyro_dps) is None
        assert gyro_doubt(block.gyro_dps) is None


@pytest.fixture(scope="module")
def squat():
    return load_any(SAMPLES / "squat_amrap_walkout_100hz.csv").samples


def test_each_wrong_reading_is_named(squat):
    acc, gyro = squat.acc_g, squat.gyro_dps
    assert gyro is not None
    kind = lambda doubt: None if doubt is None else doubt.kind  # noqa: E731
    assert kind(acceleration_doubt(acc * STANDARD_GRAVITY_M_S2)) is DoubtKind.ACC_IN_M_S2
    assert kind(acceleration_doubt(acc / STANDARD_GRAVITY_M_S2)) is DoubtKind.ACC_IN_G
    assert kind(acceleration_doubt(acc * 2048)) is DoubtKind.ACC_NOT_G
    assert kind(acceleration_doubt(gyro, acc)) is DoubtKind.COLUMNS_SWAPPED
    assert kind(gyro_doubt(np.degrees(gyro))) is DoubtKind.GYRO_NOT_DPS
    assert kind(clock_doubt(2000.0, 2.0)) is DoubtKind.CLOCK_FAST
    assert kind(clock_doubt(0.002, 2.0)) is DoubtKind.CLOCK_SLOW
    # A backlog read at once, or an emulator a little off its --speed, is no error.
    assert clock_doubt(4.0, 2.0) is None and clock_doubt(0.8, 2.0) is None
