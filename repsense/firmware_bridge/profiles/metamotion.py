"""MbientLab MetaMotion (MetaWear API) over BLE: UUIDs, accelerometer commands and a sans-I/O decoder.

Theory of operation
-------------------
Every message, both ways, is ``[module, register (| 0x80 for a read), payload...]``; the accelerometer is module
0x03. The registers of the Bosch accelerometers (BMI160 / BMA255), from the SDK's
``mbientlab/MetaWear-SDK-Cpp: src/metawear/sensor/cpp/accelerometer_bosch_register.h``::

    POWER_MODE = 1, DATA_INTERRUPT_ENABLE = 2, DATA_CONFIG = 3, DATA_INTERRUPT = 4, ..., PACKED_ACC_DATA = 0x1C

Streaming starts with four writes (``start_acc_commands``): the data config (ODR byte, range code), subscribe to
the data register, enable the data interrupt, power on. ``DATA_CONFIG``'s first byte is the BMI160 ``ACC_CONF``:
bandwidth "normal" (0x20) | ODR code (8 = 100 Hz); its second the range code, whose scale comes from the same
SDK (``accelerometer_bosch.cpp``, ``BMI160_FSR_SCALE``): 03/05/08/0C = +-2/4/8/16 g = 16384/8192/4096/2048 LSB/g.

Notifications (``NOTIFY_UUID``) are whole messages: ``03 04 x y z`` (int16 LE) is one sample, ``03 1C`` + three
samples the packed form. Other modules' messages are counted in ``other`` and skipped; a data message of the wrong
length is ``malformed``. Messages carry no timestamps, so times come from the arrivals (``ArrivalClock``).

The gyroscope (BMI160, module 0x13; the SDK's ``GyroBmi160``: ``POWER_MODE = 1, DATA_INTERRUPT_ENABLE = 2,
CONFIG = 3, DATA = 5, PACKED_DATA = 7``, scales 16.4/32.8/65.6/131.2/262.4 LSB per deg/s for +-2000 ... 125
deg/s) streams ``13 05 x y z`` as separate messages at the same rate, again without timestamps. With
``gyro=True`` the decoder pairs the n-th gyro sample with the n-th accelerometer sample: within a connection BLE
delivers notifications reliably and in order, so the counts stay in step. Should one stream run more than
``PAIR_SLACK`` samples ahead (a sensor FIFO overrun), its oldest samples are dropped (``unpaired``). A board
without a gyroscope simply never sends one: after ``GYRO_WAIT`` accelerometer samples with no gyro message the
decoder settles on the accelerometer alone, for the whole connection (a stream never changes shape).

Not covered: the BMI270 of the MetaMotion S, whose range codes are 0..3 and ODR codes differ.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from repsense.errors import ConfigError
from repsense.firmware_bridge.profiles import ArrivalClock
from repsense.samples import SampleBlock

SERVICE_UUID = "326a9000-85cb-9195-d9dd-464cfbbae75a"
COMMAND_UUID = "326a9001-85cb-9195-d9dd-464cfbbae75a"
NOTIFY_UUID = "326a9006-85cb-9195-d9dd-464cfbbae75a"

MODULE_ACC = 0x03
REG_POWER_MODE = 0x01
REG_DATA_INTERRUPT_ENABLE = 0x02
REG_DATA_CONFIG = 0x03
REG_DATA_INTERRUPT = 0x04
REG_PACKED_ACC_DATA = 0x1C
PACKED_SAMPLES = 3

#: Full-scale range (g) -> BMI160 range code, and code -> LSB per g.
RANGE_CODES = {2: 0x03, 4: 0x05, 8: 0x08, 16: 0x0C}
LSB_PER_G = {0x03: 16384.0, 0x05: 8192.0, 0x08: 4096.0, 0x0C: 2048.0}
#: Output data rate (Hz) -> BMI160 ODR code (ACC_CONF bits 0-3).
ODR_CODES = {12.5: 0x05, 25: 0x06, 50: 0x07, 100: 0x08, 200: 0x09, 400: 0x0A, 800: 0x0B, 1600: 0x0C}
_BANDWIDTH_NORMAL = 0x20

MODULE_GYRO = 0x13
GYRO_REG_POWER_MODE = 0x01
GYRO_REG_DATA_INTERRUPT_ENABLE = 0x02
GYRO_REG_CONFIG = 0x03
GYRO_REG_DATA = 0x05
GYRO_REG_PACKED_DATA = 0x07
#: Full-scale range (deg/s) -> BMI160 gyro range code, and code -> LSB per deg/s.
GYRO_RANGE_CODES = {2000: 0, 1000: 1, 500: 2, 250: 3, 125: 4}
GYRO_LSB_PER_DPS = {0: 16.4, 1: 32.8, 2: 65.6, 3: 131.2, 4: 262.4}
#: Output data rate (Hz) -> BMI160 gyro ODR code (GYR_CONF bits 0-3; the SDK's ``ordinal() + 6``).
GYRO_ODR_CODES = {25: 6, 50: 7, 100: 8, 200: 9, 400: 10, 800: 11, 1600: 12, 3200: 13}

#: Samples one stream may run ahead of the other before its oldest are dropped.
PAIR_SLACK = 16
#: Accelerometer samples without any gyro message before the decoder settles on the accelerometer alone.
GYRO_WAIT = 50


def _range_code(range_g: int) -> int:
    if range_g not in RANGE_CODES:
        raise ConfigError(f"MetaMotion accelerometer range +-{range_g} g: choose one of {sorted(RANGE_CODES)}")
    return RANGE_CODES[range_g]


def start_acc_commands(range_g: int = 2, rate_hz: float = 100) -> list[bytes]:
    """The writes, in order, that start accelerometer streaming (``03 03 28 03``, ``03 04 01``, ...)."""
    if rate_hz not in ODR_CODES:
        raise ConfigError(f"MetaMotion accelerometer rate {rate_hz} Hz: choose one of {sorted(ODR_CODES)}")
    config = bytes((MODULE_ACC, REG_DATA_CONFIG, _BANDWIDTH_NORMAL | ODR_CODES[rate_hz], _range_code(range_g)))
    return [
        config,
        bytes((MODULE_ACC, REG_DATA_INTERRUPT, 0x01)),  # subscribe to the data notifications
        bytes((MODULE_ACC, REG_DATA_INTERRUPT_ENABLE, 0x01, 0x00)),  # enable the data interrupt
        bytes((MODULE_ACC, REG_POWER_MODE, 0x01)),  # start sampling
    ]


def stop_acc_commands() -> list[bytes]:
    """The writes that stop streaming: power off, disable the interrupt, unsubscribe."""
    return [
        bytes((MODULE_ACC, REG_POWER_MODE, 0x00)),
        bytes((MODULE_ACC, REG_DATA_INTERRUPT_ENABLE, 0x00, 0x01)),
        bytes((MODULE_ACC, REG_DATA_INTERRUPT, 0x00)),
    ]


def start_gyro_commands(range_dps: int = 2000, rate_hz: float = 100) -> list[bytes]:
    """The writes, in order, that start gyroscope streaming (``13 03 28 00``, ``13 05 01``, ...)."""
    if rate_hz not in GYRO_ODR_CODES or range_dps not in GYRO_RANGE_CODES:
        raise ConfigError(
            f"MetaMotion gyroscope {rate_hz} Hz, +-{range_dps} deg/s: rates {sorted(GYRO_ODR_CODES)}, "
            f"ranges {sorted(GYRO_RANGE_CODES)}"
        )
    config = bytes(
        (MODULE_GYRO, GYRO_REG_CONFIG, _BANDWIDTH_NORMAL | GYRO_ODR_CODES[int(rate_hz)], GYRO_RANGE_CODES[range_dps])
    )
    return [
        config,
        bytes((MODULE_GYRO, GYRO_REG_DATA, 0x01)),
        bytes((MODULE_GYRO, GYRO_REG_DATA_INTERRUPT_ENABLE, 0x01, 0x00)),
        bytes((MODULE_GYRO, GYRO_REG_POWER_MODE, 0x01)),
    ]


def stop_gyro_commands() -> list[bytes]:
    return [
        bytes((MODULE_GYRO, GYRO_REG_POWER_MODE, 0x00)),
        bytes((MODULE_GYRO, GYRO_REG_DATA_INTERRUPT_ENABLE, 0x00, 0x01)),
        bytes((MODULE_GYRO, GYRO_REG_DATA, 0x00)),
    ]


def encode_sample(counts: tuple[int, int, int]) -> bytes:
    """One ``03 04 x y z`` data notification from int16 counts (for tests and the emulator)."""
    return bytes((MODULE_ACC, REG_DATA_INTERRUPT)) + np.array(counts, dtype="<i2").tobytes()


def encode_gyro_sample(counts: tuple[int, int, int]) -> bytes:
    """One ``13 05 x y z`` gyro notification from int16 counts."""
    return bytes((MODULE_GYRO, GYRO_REG_DATA)) + np.array(counts, dtype="<i2").tobytes()


@dataclass(slots=True)
class MetaMotionStats:
    """Counters of a ``MetaMotionDecoder``. Each notification lands in exactly one of the first three."""

    frames_ok: int = 0
    malformed: int = 0  # a data message of the wrong length
    other: int = 0  # messages of other modules or registers, or too short to have a header
    bytes_in: int = 0
    unpaired: int = 0  # samples dropped because the other stream had fallen too far behind


class MetaMotionDecoder:
    """Accelerometer (and gyro) notifications in, ``SampleBlock`` out. No I/O; never raises on input.

    ``range_g`` (and ``gyro_range_dps``) must match what was written with ``start_acc_commands`` (and
    ``start_gyro_commands``); they set the scales. ``gyro``: pair gyro messages with the accelerometer's.
    """

    def __init__(
        self, range_g: int = 2, rate_hz: float = 100, *, gyro: bool = False, gyro_range_dps: int = 2000
    ) -> None:
        self.range_g = range_g
        self.acc_g_per_lsb = 1.0 / LSB_PER_G[_range_code(range_g)]
        if gyro_range_dps not in GYRO_RANGE_CODES:
            raise ConfigError(f"MetaMotion gyroscope range +-{gyro_range_dps} deg/s: one of {sorted(GYRO_RANGE_CODES)}")
        self.gyro_dps_per_lsb = 1.0 / GYRO_LSB_PER_DPS[GYRO_RANGE_CODES[gyro_range_dps]]
        self.gyro = gyro
        self.clock = ArrivalClock(rate_hz)
        self.reset()

    def reset(self) -> None:
        self.stats = MetaMotionStats()
        self.clock.reset()
        #: None while waiting to learn whether a gyroscope streams; then True (pairs) or False (acc alone).
        self.has_gyro: bool | None = None if self.gyro else False
        self._acc: list[np.ndarray] = []  # samples waiting for their partner, oldest first
        self._gyr: list[np.ndarray] = []

    @property
    def measured_rate_hz(self) -> float | None:
        return self.clock.measured_rate_hz

    def feed(self, data: bytes, arrival_s: float | None = None) -> list[SampleBlock]:
        """One notification (one message) in; a block with its sample(s) out, or nothing."""
        self.stats.bytes_in += len(data)
        kind = _KINDS.get(bytes(data[:2]))
        if kind is None or (kind[0] == "gyro" and not self.gyro):
            self.stats.other += 1
            return []
        stream, n = kind
        if len(data) != 2 + 6 * n:
            self.stats.malformed += 1
            return []
        self.stats.frames_ok += 1
        values = np.frombuffer(bytes(data), dtype="<i2", offset=2).reshape(n, 3).astype(np.float64)
        if stream == "acc":
            acc = values * self.acc_g_per_lsb
            if self.has_gyro is False:
                return [SampleBlock(self.clock.times(n, arrival_s), acc)]
            self._acc.extend(acc)
        else:
            self._gyr.extend(values * self.gyro_dps_per_lsb)
            self.has_gyro = True
        return self._pairs(arrival_s)

    def _pairs(self, arrival_s: float | None) -> list[SampleBlock]:
        if self.has_gyro is None:
            if len(self._acc) < GYRO_WAIT:
                return []
            self.has_gyro = False  # a board without a gyroscope: the accelerometer alone, from now on
            acc = np.array(self._acc)
            self._acc = []
            return [SampleBlock(self.clock.times(len(acc), arrival_s), acc)]
        for lead, lag in ((self._acc, self._gyr), (self._gyr, self._acc)):
            excess = len(lead) - len(lag) - PAIR_SLACK
            if excess > 0:
                del lead[:excess]
                self.stats.unpaired += excess
        n = min(len(self._acc), len(self._gyr))
        if n == 0:
            return []
        acc, gyr = np.array(self._acc[:n]), np.array(self._gyr[:n])
        del self._acc[:n], self._gyr[:n]
        return [SampleBlock(self.clock.times(n, arrival_s), acc, gyr)]


#: Message header -> (stream, samples in the message).
_KINDS = {
    bytes((MODULE_ACC, REG_DATA_INTERRUPT)): ("acc", 1),
    bytes((MODULE_ACC, REG_PACKED_ACC_DATA)): ("acc", PACKED_SAMPLES),
    bytes((MODULE_GYRO, GYRO_REG_DATA)): ("gyro", 1),
    bytes((MODULE_GYRO, GYRO_REG_PACKED_DATA)): ("gyro", PACKED_SAMPLES),
}
