"""Specific force along the vertical, in g, for a sensor mounted in any orientation.

With a gyroscope, a complementary filter tracks the direction of "up" in the sensor frame: the gyro rotates the
estimate every step, and a slow pull towards the measured specific force keeps gyro bias from accumulating. The
vertical specific force is then the projection ``f . up``. When the bar moves vertically its linear acceleration is
parallel to gravity, so the pull towards ``f`` is unbiased during the lift itself.

Without a gyroscope, "up" is the low-passed direction of ``f`` instead. (The magnitude ``|f|`` would ignore roll
altogether, but it cannot go negative, and a bar braked harder than free fall at lockout reads negative.)

The specific force goes out twice: as is, for integration (integration is a low-pass already, and a filter would
delay every lockout), and low-passed (a Butterworth section designed in ``__init__``, state carried between blocks)
for deciding when the bar is quiet. The "up" vector, also low-passed, lets the segmenter correct accelerometer
bias, whose share in the vertical reading changes as the bar rolls.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.signal


@dataclass(frozen=True, slots=True)
class VerticalConfig:
    """``lowpass_hz``: output bandwidth. ``up_time_constant_s``: how fast the gyro estimate is pulled to ``f``."""

    rate_hz: float = 100.0
    lowpass_hz: float = 10.0
    lowpass_order: int = 2
    up_time_constant_s: float = 1.0
    up_lowpass_hz: float = 2.0  # no-gyro path: bandwidth of the "up" estimate


class VerticalSpecificForce:
    """Stateful: feed uniform acc [g] and optional gyro [deg/s]; get vertical specific force [g] and "up" [n, 3]."""

    def __init__(self, config: VerticalConfig) -> None:
        self.config = config
        self.sos = scipy.signal.butter(
            config.lowpass_order, config.lowpass_hz, btype="low", fs=config.rate_hz, output="sos"
        )
        self.sos_up = scipy.signal.butter(1, config.up_lowpass_hz, btype="low", fs=config.rate_hz, output="sos")
        self._zi_unit = scipy.signal.sosfilt_zi(self.sos)
        self._zi_up_unit = scipy.signal.sosfilt_zi(self.sos_up)
        self.reset()

    def reset(self) -> None:
        self.up: tuple[float, float, float] | None = None  # unit "up" in the sensor frame (gyro path)
        self.zi: np.ndarray | None = None  # filter state, [sections, 2, 4]: s and up x, y, z
        self.zi_up: np.ndarray | None = None  # no-gyro path: state of the slow filter on f

    def feed(self, acc_g: np.ndarray, gyro_dps: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return ``(s_g [n], s_smooth_g [n], up [n, 3])`` for ``n`` uniform samples.

        ``s_g`` is unfiltered, for integration (integration is itself a low-pass, and a filter here would delay the
        end of every rep); ``s_smooth_g`` is low-passed, for deciding when the bar is quiet or braking.
        """
        if len(acc_g) == 0:
            return np.empty(0), np.empty(0), np.empty((0, 3))
        if gyro_dps is None:
            if self.zi_up is None:
                self.zi_up = self._zi_up_unit[:, :, None] * _first_reading(acc_g)[None, None, :]
            f_slow, self.zi_up = scipy.signal.sosfilt(self.sos_up, acc_g, axis=0, zi=self.zi_up)
            norms = np.linalg.norm(f_slow, axis=1, keepdims=True)
            up = np.divide(f_slow, norms, out=np.zeros_like(f_slow), where=norms > 0.0)
            # |f| does not care how the sensor turns; the slow "up" only supplies the sign, for a bar braked
            # harder than free fall (specific force pointing down).
            s = np.sqrt(np.einsum("ij,ij->i", acc_g, acc_g))
            s = np.where(np.einsum("ij,ij->i", acc_g, up) < 0.0, -s, s)
        else:
            s, up = self._project(acc_g, gyro_dps)
        raw = np.column_stack([s, up])
        if self.zi is None:
            # Start the filter as if it had always seen the first value: no start-up transient.
            self.zi = self._zi_unit[:, :, None] * raw[0][None, None, :]
        out, self.zi = scipy.signal.sosfilt(self.sos, raw, axis=0, zi=self.zi)
        return s, np.asarray(out[:, 0]), np.asarray(out[:, 1:4])

    def _project(self, acc_g: np.ndarray, gyro_dps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        dt = 1.0 / self.config.rate_hz
        gain = min(1.0, dt / self.config.up_time_constant_s)
        keep = 1.0 - gain
        norms = np.sqrt(np.einsum("ij,ij->i", acc_g, acc_g))
        # The pull towards f, per sample (zero where f vanishes, as in free fall).
        pull = np.divide(acc_g, norms[:, None], out=np.zeros_like(acc_g), where=norms[:, None] > 0.0) * gain
        turn = gyro_dps * (math.radians(1.0) * dt)
        if self.up is None:
            first = _first_reading(acc_g)
            n0 = float(np.linalg.norm(first)) or 1.0
            self.up = (float(first[0]) / n0, float(first[1]) / n0, float(first[2]) / n0)
        ux, uy, uz = self.up
        up = [(0.0, 0.0, 0.0)] * len(acc_g)
        sqrt = math.sqrt
        # A plain-float loop: each step depends on the last, and numpy per-element calls would cost 10x more.
        for i, ((wx, wy, wz), (px, py, pz)) in enumerate(zip(turn.tolist(), pull.tolist(), strict=True)):
            # A world-fixed vector seen from a frame rotating at w changes as du = -w x u dt; then the pull.
            ux, uy, uz = (
                keep * (ux - (wy * uz - wz * uy)) + px,
                keep * (uy - (wz * ux - wx * uz)) + py,
                keep * (uz - (wx * uy - wy * ux)) + pz,
            )
            un = sqrt(ux * ux + uy * uy + uz * uz)
            if un > 0.0:  # zero only while nothing but (0, 0, 0) has been read
                ux, uy, uz = ux / un, uy / un, uz / un
            up[i] = (ux, uy, uz)
        self.up = (ux, uy, uz)
        up_arr = np.asarray(up)
        return np.einsum("ij,ij->i", acc_g, up_arr), up_arr


def _first_reading(acc_g: np.ndarray) -> np.ndarray:
    """The block's first sample that reads anything: some sensors send (0, 0, 0) until they are awake, and "up"
    cannot start from that. All zeros if the whole block does."""
    awake = np.flatnonzero(np.any(acc_g != 0.0, axis=1))
    return np.asarray(acc_g[awake[0]] if len(awake) else acc_g[0], dtype=float)
