"""Timestamped IMU samples: the unit of data that flows from the bridge into the pipeline."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from repsense.errors import RecordingError

#: Standard gravity, m/s^2 per g.
STANDARD_GRAVITY_M_S2 = 9.80665

#: Readings beyond these are not physical for a body-worn or bar-mounted IMU (the largest common ranges
#: are +-16 g / +-32 g and +-2000 / +-4000 deg/s); they mean a unit mix-up or a corrupted file.
MAX_ABS_ACC_G = 64.0
MAX_ABS_GYRO_DPS = 10_000.0


@dataclass(frozen=True, slots=True)
class SampleBlock:
    """A run of consecutive samples from one sensor.

    ``t_s`` is float64 [n], seconds on any origin, strictly increasing.
    ``acc_g`` is float64 [n, 3], specific force in g in the sensor frame (gravity included).
    ``gyro_dps`` is float64 [n, 3] angular rate in deg/s in the sensor frame, or None when the sensor has none.

    A block is validated once, where it is made; everything downstream may trust it.
    """

    t_s: np.ndarray
    acc_g: np.ndarray
    gyro_dps: np.ndarray | None = None

    def __post_init__(self) -> None:
        t = np.asarray(self.t_s, dtype=np.float64)
        acc = np.asarray(self.acc_g, dtype=np.float64)
        gyro = None if self.gyro_dps is None else np.asarray(self.gyro_dps, dtype=np.float64)
        n = t.shape[0] if t.ndim == 1 else -1
        if t.ndim != 1:
            raise RecordingError(f"sample times must be one-dimensional, got shape {t.shape}")
        if acc.shape != (n, 3):
            raise RecordingError(f"acceleration must have shape ({n}, 3), got {acc.shape}")
        if gyro is not None and gyro.shape != (n, 3):
            raise RecordingError(f"gyroscope must have shape ({n}, 3), got {gyro.shape}")
        if not np.all(np.isfinite(t)) or not np.all(np.isfinite(acc)):
            raise RecordingError("samples contain NaN or infinite values")
        if gyro is not None and not np.all(np.isfinite(gyro)):
            raise RecordingError("gyroscope samples contain NaN or infinite values")
        if n > 1 and not np.all(np.diff(t) > 0):
            raise RecordingError("sample times must be strictly increasing")
        if n and np.max(np.abs(acc)) > MAX_ABS_ACC_G:
            raise RecordingError(f"acceleration beyond +-{MAX_ABS_ACC_G:g} g: not a plausible IMU reading")
        if gyro is not None and n and np.max(np.abs(gyro)) > MAX_ABS_GYRO_DPS:
            raise RecordingError(f"angular rate beyond +-{MAX_ABS_GYRO_DPS:g} deg/s: not a plausible IMU reading")
        # Blocks are values: freeze the arrays so no consumer can change what another one sees.
        for arr in (t, acc, gyro):
            if arr is not None:
                arr.flags.writeable = False
        object.__setattr__(self, "t_s", t)
        object.__setattr__(self, "acc_g", acc)
        object.__setattr__(self, "gyro_dps", gyro)

    def __len__(self) -> int:
        return int(self.t_s.shape[0])

    @property
    def has_gyro(self) -> bool:
        return self.gyro_dps is not None

    def slice(self, start: int, stop: int) -> SampleBlock:
        """Samples ``start:stop`` as a new block (views, no copies)."""
        return SampleBlock(
            self.t_s[start:stop],
            self.acc_g[start:stop],
            None if self.gyro_dps is None else self.gyro_dps[start:stop],
        )

    def split(self, cuts: list[int]) -> list[SampleBlock]:
        """Cut the block into consecutive pieces of the given sizes; the remainder forms the last piece."""
        pieces: list[SampleBlock] = []
        start = 0
        for size in cuts:
            if start >= len(self):
                break
            pieces.append(self.slice(start, start + max(1, size)))
            start += max(1, size)
        if start < len(self):
            pieces.append(self.slice(start, len(self)))
        return pieces

    @staticmethod
    def concat(blocks: list[SampleBlock]) -> SampleBlock:
        """Join blocks end to end. All must agree on having a gyroscope."""
        if not blocks:
            return SampleBlock(np.empty(0), np.empty((0, 3)), None)
        with_gyro = {b.has_gyro for b in blocks}
        if len(with_gyro) > 1:
            raise RecordingError("cannot join blocks with and without gyroscope")
        return SampleBlock(
            np.concatenate([b.t_s for b in blocks]),
            np.concatenate([b.acc_g for b in blocks]),
            np.concatenate([b.gyro_dps for b in blocks if b.gyro_dps is not None]) if with_gyro == {True} else None,
        )
