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


def encode_sample(counts: tuple[int, int, int]) -> bytes:
    """One ``03 04 x y z`` data notification from int16 counts (for tests and the emulator)."""
    return bytes((MODULE_ACC, REG_DATA_INTERRUPT)) + np.array(counts, dtype="<i2").tobytes()


@dataclass(slots=True)
class MetaMotionStats:
    """Counters of a ``MetaMotionDecoder``. Each notification lands in exactly one of the first three."""

    frames_ok: int = 0
    malformed: int = 0  # an accelerometer data message of the wrong length
    other: int = 0  # messages of other modules or registers, or too short to have a header
    bytes_in: int = 0


class MetaMotionDecoder:
    """Accelerometer notifications in, ``SampleBlock`` (acc only) out. No I/O; never raises on input.

    ``range_g`` must match the range written with ``start_acc_commands``; it sets the scale.
    """

    def __init__(self, range_g: int = 2, rate_hz: float = 100) -> None:
        self.range_g = range_g
        self.acc_g_per_lsb = 1.0 / LSB_PER_G[_range_code(range_g)]
        self.clock = ArrivalClock(rate_hz)
        self.reset()

    def reset(self) -> None:
        self.stats = MetaMotionStats()
        self.clock.reset()

    @property
    def measured_rate_hz(self) -> float | None:
        return self.clock.measured_rate_hz

    def feed(self, data: bytes, arrival_s: float | None = None) -> list[SampleBlock]:
        """One notification (one message) in; a block with its sample(s) out, or nothing."""
        self.stats.bytes_in += len(data)
        if len(data) < 2 or data[0] != MODULE_ACC or data[1] not in (REG_DATA_INTERRUPT, REG_PACKED_ACC_DATA):
            self.stats.other += 1
            return []
        n = 1 if data[1] == REG_DATA_INTERRUPT else PACKED_SAMPLES
        if len(data) != 2 + 6 * n:
            self.stats.malformed += 1
            return []
        self.stats.frames_ok += 1
        counts = np.frombuffer(bytes(data), dtype="<i2", offset=2).reshape(n, 3)
        return [SampleBlock(self.clock.times(n, arrival_s), counts.astype(np.float64) * self.acc_g_per_lsb)]
