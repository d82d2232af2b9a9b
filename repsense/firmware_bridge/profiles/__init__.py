"""Vendor BLE profiles: GATT UUIDs, command bytes and pure decoders, one module per sensor family.

No I/O here: a link (bleak, bumble, a replay file) writes the command bytes and hands every notification to a
decoder's ``feed(data, arrival_s)``, which returns ``SampleBlock`` values and counts, never raises, what it cannot use.

- ``witmotion``   WT901BLE / BWT901BLE5.0: a byte stream of 20-byte packets without timestamps.
- ``polar_pmd``   Polar H10 / Verity Sense PMD: one frame per notification, stamped by the sensor (ns since 2000).
- ``metamotion``  MbientLab MetaMotion (MetaWear API): one message per notification, no timestamps.

This package module holds what the profiles share: ``ArrivalClock``, which gives sample times to streams that
carry none. Import the profiles themselves as ``from repsense.firmware_bridge.profiles import witmotion``.
"""

from __future__ import annotations

from collections import deque

import numpy as np
import numpy.typing as npt

from repsense.errors import ConfigError
from repsense.firmware_bridge.framing import ClockMapper

__all__ = ["ArrivalClock"]


class ArrivalClock:
    """Sample times for a stream without timestamps: even spacing at the measured rate, anchored to arrivals.

    The sensor is assumed to sample at a constant rate. Each sample gets a *device time*, the previous one plus the
    period in use; ``ClockMapper`` then puts device times onto the host clock from the arrival times of the
    notifications (the last sample of a notification was taken shortly before it arrived), smoothly and always
    increasing. Without arrival times, the result is the device time: ``k / nominal_rate_hz``.

    The period in use is the nominal one until ``min_span_s`` of arrivals have been seen; then it is the rate
    measured over the last ``window_s`` (samples counted / seconds elapsed). Sensors often do not run at the rate
    they were asked for (WitMotion's 200 Hz code differs between sources), so the measured rate wins. When it is
    more than ``jump_ratio`` from the one in use, the period changes and the mapper is allowed to jump once,
    instead of slewing for many seconds toward a time line built on the wrong period. A smaller difference, beyond
    ``retune_ratio``, changes the period only once ``retune_span_s`` of arrivals back it up (BLE arrivals jitter by
    a connection interval, so a short span misjudges the rate), and the mapper slews: a jump in the middle of a rep
    would bend its velocity.
    """

    def __init__(
        self,
        nominal_rate_hz: float,
        window_s: float = 10.0,
        min_span_s: float = 1.0,
        retune_ratio: float = 0.02,
        jump_ratio: float = 0.10,
        retune_span_s: float = 5.0,
    ) -> None:
        if not (nominal_rate_hz > 0 and window_s > 0 and 0 < min_span_s <= window_s and retune_ratio > 0):
            raise ConfigError("arrival clock: the rate, window and span must be positive, span <= window")
        self.nominal_rate_hz = float(nominal_rate_hz)
        self.window_s = window_s
        self.min_span_s = min_span_s
        self.retune_ratio = retune_ratio
        self.jump_ratio = max(jump_ratio, retune_ratio)
        self.retune_span_s = retune_span_s
        self.reset()

    def reset(self) -> None:
        # Catch up no faster than it slews: arrivals come in bursts one connection interval apart, and squeezing
        # the first seconds by up to a quarter (the serial default) would bend the velocities of the first reps.
        self.mapper = ClockMapper(max_catchup=0.02)
        self.samples = 0
        self.rate_in_use_hz = self.nominal_rate_hz
        #: Rate measured from arrivals, or None until ``min_span_s`` of them have been seen.
        self.measured_rate_hz: float | None = None
        self._dev_s = 0.0  # device time of the last sample handed out
        # Device time is base_dev + (index - base_index) / rate: computed from the index, not summed, so it does
        # not depend on how the samples were grouped.
        self._base_index = 0
        self._base_dev_s = 0.0
        #: (samples received so far, arrival time) per notification that carried samples.
        self._arrivals: deque[tuple[int, float]] = deque()

    def times(self, n: int, arrival_s: float | None = None) -> npt.NDArray[np.float64]:
        """Times (s) of the next ``n`` samples, which arrived together at host time ``arrival_s``."""
        if arrival_s is not None:
            self._measure(self.samples + n, arrival_s)
        index = np.arange(self.samples, self.samples + n, dtype=np.float64)
        dev_s = self._base_dev_s + (index - self._base_index) / self.rate_in_use_hz
        self._dev_s = float(dev_s[-1])
        self.samples += n
        if arrival_s is not None:
            self.mapper.observe(self._dev_s, arrival_s)
        return self.mapper.map(dev_s)

    def _measure(self, count: int, arrival_s: float) -> None:
        arrivals = self._arrivals
        if arrivals and arrival_s <= arrivals[-1][1]:
            # Notifications come in order; an arrival time that does not move on says nothing about the rate.
            return
        arrivals.append((count, arrival_s))
        while len(arrivals) > 2 and arrivals[1][1] <= arrival_s - self.window_s:
            arrivals.popleft()
        first_count, first_s = arrivals[0]
        span_s = arrival_s - first_s
        if span_s < self.min_span_s or count <= first_count:
            return
        rate = (count - first_count) / span_s
        self.measured_rate_hz = rate
        off = abs(rate - self.rate_in_use_hz) / self.rate_in_use_hz
        if off > self.jump_ratio or (off > self.retune_ratio and span_s >= self.retune_span_s):
            if self.samples:
                self._base_index = self.samples - 1
                self._base_dev_s = self._dev_s
            self.rate_in_use_hz = rate
            if off > self.jump_ratio:
                # Far off (a rate code the sensor does not honour): jump to the new time line at once. A small
                # correction is left to the mapper's slew, so the sample spacing never breaks inside a rep.
                self.mapper.restart()
