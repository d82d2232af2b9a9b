"""Are samples in the units they claim? Checks shared by replay (a whole file) and live (its first seconds).

A file or a stream may hold any value up to 64 g and 10 000 deg/s, and its times may advance at any rate; a lift
does not. Read in the wrong unit or from the wrong columns, a set is counted as nothing (or as a bar moving at
14 m/s), with no error. Each check here returns a ``Doubt`` saying what looks wrong and what it most likely is, or
None; the caller words the remedy (replay names the file, live names its options).

Bounds, from the project's recordings and 93 real sets (``shared/realdata``): over the first 3 s, the median of
|acceleration| lay between 0.92 and 1.10 g, and the median of |angular rate| between 2.9 and 50 deg/s.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from repsense.samples import STANDARD_GRAVITY_M_S2

#: The median of |acceleration| is about 1 g: a sensor at rest reads gravity, and a lift moves the median by a few
#: tenths at most. Outside these bounds the values are not in g.
PLAUSIBLE_MEDIAN_G = (0.3, 3.0)
#: m/s^2 read as g (9.81 at rest), and g read as m/s^2 (0.10 at rest).
_M_S2_AS_G = (6.5, 13.0)
_G_AS_M_S2 = (0.065, 0.13)
#: Where a median of |a| is unmistakably 1 g (for telling the columns were swapped).
_ONE_G = (0.8, 1.25)
#: No lifter's sensor turns at a median of this many deg/s (the most seen is 50); a bar at rest read in rad/s as
#: if deg/s reads 57 times its true rate.
MAX_MEDIAN_DPS = 150.0
#: Sample time may run this many times faster or slower than the host clock before it is an error: a backlog read
#: at once or a burst is a factor of 2 or 3, a wrong time unit a factor of 1000.
MAX_CLOCK_RATIO = 5.0


class DoubtKind(StrEnum):
    """What is most likely wrong."""

    ACC_IN_M_S2 = "acc_in_m_s2"  # acceleration in m/s^2 read as g
    ACC_IN_G = "acc_in_g"  # acceleration in g read as m/s^2
    ACC_NOT_G = "acc_not_g"  # acceleration in no unit we can name (raw counts, another quantity)
    COLUMNS_SWAPPED = "columns_swapped"  # the gyro columns read 1 g, the acceleration ones do not
    GYRO_NOT_DPS = "gyro_not_dps"  # angular rate far too high for deg/s (deg/s read as rad/s)
    CLOCK_FAST = "clock_fast"  # sample time runs far faster than real time (ms read as s)
    CLOCK_SLOW = "clock_slow"  # sample time runs far slower than real time (ms read as us)


@dataclass(frozen=True, slots=True)
class Doubt:
    """``text`` states the finding (no remedy): for example ``acceleration is 9.81 at the median``."""

    kind: DoubtKind
    text: str


def _median_norm(values: np.ndarray) -> float:
    return float(np.median(np.sqrt(np.einsum("ij,ij->i", values, values))))


def acceleration_doubt(acc_g: np.ndarray, gyro_dps: np.ndarray | None = None) -> Doubt | None:
    """Why ``acc_g`` [n, 3] is evidently not acceleration in g, or None. With ``gyro_dps``, a gyro reading a steady
    1 g where the accelerometer does not shows the columns were swapped."""
    if len(acc_g) == 0:
        return None
    median = _median_norm(acc_g)
    text = f"acceleration is {median:.3g} at the median"
    if gyro_dps is not None and len(gyro_dps) and not _ONE_G[0] <= median <= _ONE_G[1]:
        gyro_median = _median_norm(gyro_dps)
        if _ONE_G[0] <= gyro_median <= _ONE_G[1]:
            return Doubt(DoubtKind.COLUMNS_SWAPPED, f"{text} and the gyroscope {gyro_median:.3g}")
    if PLAUSIBLE_MEDIAN_G[0] <= median <= PLAUSIBLE_MEDIAN_G[1]:
        return None
    if _M_S2_AS_G[0] <= median <= _M_S2_AS_G[1]:
        return Doubt(DoubtKind.ACC_IN_M_S2, text)
    if _G_AS_M_S2[0] <= median <= _G_AS_M_S2[1]:
        return Doubt(DoubtKind.ACC_IN_G, text)
    return Doubt(DoubtKind.ACC_NOT_G, text)


def gyro_doubt(gyro_dps: np.ndarray | None) -> Doubt | None:
    """Why ``gyro_dps`` [n, 3] is evidently not angular rate in deg/s, or None."""
    if gyro_dps is None or len(gyro_dps) == 0:
        return None
    median = _median_norm(gyro_dps)
    if median <= MAX_MEDIAN_DPS:
        return None
    return Doubt(DoubtKind.GYRO_NOT_DPS, f"the gyroscope turns at {median:.0f} deg/s at the median")


def clock_doubt(sample_span_s: float, host_span_s: float) -> Doubt | None:
    """Why samples whose times span ``sample_span_s`` cannot have come in ``host_span_s`` of real time, or None."""
    if sample_span_s > MAX_CLOCK_RATIO * host_span_s:
        return Doubt(DoubtKind.CLOCK_FAST, f"{sample_span_s:.4g} s of samples came in {host_span_s:.3g} s")
    if sample_span_s < host_span_s / MAX_CLOCK_RATIO:
        return Doubt(DoubtKind.CLOCK_SLOW, f"{host_span_s:.3g} s brought only {sample_span_s:.4g} s of samples")
    return None


#: Replay's remedy for each doubt about the acceleration of a file.
FILE_REMEDY = {
    DoubtKind.ACC_IN_M_S2: (
        f"that is m/s^2 (9.81 at rest), and repsense reads g: divide the acceleration by {STANDARD_GRAVITY_M_S2:g}"
    ),
    DoubtKind.ACC_IN_G: "a sensor reads about 1 g at rest: is the acceleration in g?",
    DoubtKind.ACC_NOT_G: "a sensor reads about 1 g at rest: is the acceleration in g?",
    DoubtKind.COLUMNS_SWAPPED: "a sensor reads about 1 g at rest: are the gyroscope and acceleration columns swapped?",
}
