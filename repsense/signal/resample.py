"""Irregular samples -> a uniform grid, causally and exactly the same for any block size.

Real streams arrive at 12.5 Hz to 1 kHz with jitter and dropped samples. Everything downstream is simpler and
cheaper on one fixed grid, so the resampler maps the input onto ``t0 + k / rate_hz``.

Theory of operation: the input is taken as piecewise linear between samples. Its running integral ``I(t)`` is
carried across blocks (a running sum, so it is bit-identical however the stream is cut). Each output value is
``(I(t_k) - I(t_{k-1})) * rate_hz``, the mean of the input over the preceding grid interval. That is a box
anti-alias filter when the input is faster than the grid and plain linear interpolation (smoothed by one grid
step) when it is slower. A grid point is produced as soon as an input sample at or after it has arrived, and the
time of that sample is reported with it (``enabled_at_s``): it is when a live system could have known the value.

Two samples further apart than ``gap_s`` are not bridged: the resampler reports a gap and starts a new grid at
the first sample after it.

Shorter losses are bridged, and each grid value says whether it was (``hole``): interpolated across an input
interval longer than ``hole_intervals`` of the input's usual interval (``input_interval_s``, the median of its
last ``usual_of``) and longer than ``hole_s``. Judged against the input's own rate, because what is lost at
100 Hz is the normal spacing of a sensor at 10-12.5 Hz (WitMotion's and MetaMotion's defaults): at those rates
two samples in a row must be lost, as at 50 Hz; at 100 Hz and above, ``hole_s`` (0.05 s) decides.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class ResamplerConfig:
    """``rate_hz``: the output grid rate. ``gap_s``: longer silences are gaps, not interpolated. ``hole_s``,
    ``hole_intervals`` and ``usual_of``: what a hole is (see the module docstring)."""

    rate_hz: float = 100.0
    gap_s: float = 1.0
    hole_s: float = 0.05
    hole_intervals: float = 2.5
    usual_of: int = 16


@dataclass(frozen=True, slots=True)
class UniformChunk:
    """Resampled output: grid times, channel means, when each grid value became known, whether it was
    interpolated across a hole in the input, and the input's usual sample interval there (0 before it has one)."""

    t_s: np.ndarray  # float64 [m]
    x: np.ndarray  # float64 [m, channels]
    enabled_at_s: np.ndarray  # float64 [m]
    hole: np.ndarray  # bool [m]
    input_interval_s: np.ndarray  # float64 [m]


@dataclass(frozen=True, slots=True)
class Gap:
    """No input between ``t_s`` and ``t_s + duration_s``; the next chunk starts a new grid. The gap was known at
    ``known_at_s``, when the sample after it was (later than that sample's time if a filter held it back)."""

    t_s: float
    duration_s: float
    known_at_s: float


class UniformResampler:
    """Causal box-mean resampler onto a uniform grid. Feed ``(t, x)`` blocks; get chunks and gaps in order."""

    def __init__(self, config: ResamplerConfig, channels: int) -> None:
        self.config = config
        self.channels = channels
        self.reset()

    def reset(self) -> None:
        self.t_last: float | None = None  # last input sample
        self.x_last = np.zeros(self.channels)
        self.known_last = 0.0  # when the last input sample became known
        self.integral_last = np.zeros(self.channels)  # I(t_last) since the grid origin
        self.origin_s = 0.0  # grid origin (first sample after start or a gap)
        self.next_k = 0  # index of the next grid point to produce
        self.integral_prev_grid = np.zeros(self.channels)  # I at grid point next_k - 1
        self.recent_dt = np.zeros(0)  # the last usual_of - 1 input intervals, across gaps too

    def feed(self, t_s: np.ndarray, x: np.ndarray, known_at_s: np.ndarray | None = None) -> list[UniformChunk | Gap]:
        """Consume input samples (strictly increasing times) and return what became known. ``known_at_s``: when
        each sample became known, if later than its time."""
        out: list[UniformChunk | Gap] = []
        if len(t_s) == 0:
            return out
        known = t_s if known_at_s is None else known_at_s
        start = 0
        if self.t_last is None:
            self._start_grid(float(t_s[0]), x[0], float(known[0]))
            out.append(self._first_point(float(t_s[0]), x[0], float(known[0])))
            start = 1
        # Split the block at gaps; within each piece the grid continues.
        prev = np.r_[self.t_last, t_s[start:-1]] if start < len(t_s) else np.empty(0)
        gap_idx = np.flatnonzero(t_s[start:] - prev > self.config.gap_s) + start
        for stop in [*gap_idx.tolist(), len(t_s)]:
            if stop > start:
                chunk = self._advance(t_s[start:stop], x[start:stop], known[start:stop])
                if chunk is not None:
                    out.append(chunk)
            if stop < len(t_s):
                assert self.t_last is not None
                gap_t = self.t_last
                out.append(Gap(gap_t, float(t_s[stop]) - gap_t, float(known[stop])))
                self._start_grid(float(t_s[stop]), x[stop], float(known[stop]))
                out.append(self._first_point(float(t_s[stop]), x[stop], float(known[stop])))
                start = stop + 1
        return out

    def _start_grid(self, t0: float, x0: np.ndarray, known0: float) -> None:
        self.t_last = t0
        self.x_last = np.array(x0, dtype=np.float64)
        self.known_last = known0
        self.integral_last = np.zeros(self.channels)
        self.origin_s = t0
        self.next_k = 1
        self.integral_prev_grid = np.zeros(self.channels)

    def _first_point(self, t0: float, x0: np.ndarray, known0: float) -> UniformChunk:
        x = np.array(x0, dtype=np.float64).reshape(1, -1)
        usual = float(np.median(self.recent_dt)) if len(self.recent_dt) else 0.0
        return UniformChunk(np.array([t0]), x, np.array([known0]), np.zeros(1, dtype=bool), np.array([usual]))

    def _advance(self, t_s: np.ndarray, x: np.ndarray, known: np.ndarray) -> UniformChunk | None:
        assert self.t_last is not None
        tt = np.r_[self.t_last, t_s]
        kk = np.r_[self.known_last, known]
        xx = np.vstack([self.x_last, x])
        dt = np.diff(tt)
        hole, usual = self._intervals(dt)
        increments = 0.5 * (xx[:-1] + xx[1:]) * dt[:, None]
        integral = np.cumsum(np.vstack([self.integral_last, increments]), axis=0)

        step = 1.0 / self.config.rate_hz
        # The last grid point at or before the newest sample, decided by the same comparison (origin + k * step
        # <= t) whatever the block: a point that sits exactly on a sample must not depend on how the stream
        # was cut.
        k_last = int(np.floor((tt[-1] - self.origin_s) / step))
        while self.origin_s + (k_last + 1) * step <= tt[-1]:
            k_last += 1
        while k_last >= 0 and self.origin_s + k_last * step > tt[-1]:
            k_last -= 1
        chunk = None
        if k_last >= self.next_k:
            k = np.arange(self.next_k, k_last + 1)
            grid_t = self.origin_s + k * step
            # Interval j holds grid time g when tt[j] < g <= tt[j+1].
            j = np.clip(np.searchsorted(tt, grid_t, side="left") - 1, 0, len(tt) - 2)
            tau = (grid_t - tt[j])[:, None]
            slope = (xx[j + 1] - xx[j]) / dt[j][:, None]
            integral_at_grid = integral[j] + xx[j] * tau + 0.5 * slope * tau * tau
            prev = np.vstack([self.integral_prev_grid, integral_at_grid[:-1]])
            values = (integral_at_grid - prev) / step
            chunk = UniformChunk(grid_t, values, kk[j + 1], hole[j], usual[j])
            self.integral_prev_grid = integral_at_grid[-1].copy()
            self.next_k = k_last + 1
        self.t_last = float(tt[-1])
        self.known_last = float(kk[-1])
        self.x_last = xx[-1].copy()
        self.integral_last = integral[-1].copy()
        return chunk

    def _intervals(self, dt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each input interval in ``dt``: is it a hole, and the usual interval up to and including it."""
        n = self.config.usual_of
        history = np.concatenate([self.recent_dt, dt])
        self.recent_dt = history[max(0, len(history) - (n - 1)) :] if n > 1 else np.zeros(0)
        # A window of the last n intervals for each new one; before n have been seen, fewer (padded with NaN).
        warm_up = n - 1 - (len(history) - len(dt))
        padded = np.concatenate([np.full(max(0, warm_up), np.nan), history])
        windows = np.lib.stride_tricks.sliding_window_view(padded, n)[-len(dt) :]
        usual = np.nanmedian(windows, axis=1) if warm_up > 0 else np.median(windows, axis=1)
        hole = dt > np.maximum(self.config.hole_s, self.config.hole_intervals * usual)
        return np.asarray(hole, dtype=bool), np.asarray(usual, dtype=np.float64)
