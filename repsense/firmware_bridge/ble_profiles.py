"""What each BLE sensor family needs on a connection: which characteristics to subscribe, what to write, and
which decoder reads the notifications. The link (``ble.BleLink``) does the I/O; a profile says what to do.

Theory of operation. A ``BleProfile`` is a value (name, service UUID, how to recognise an advertisement). For each
connection it makes a fresh ``ProfileStream``, which holds that connection's decoder state. The link then:

1. subscribes to every UUID in ``stream.subscribe_uuids`` (all of them *before* any write: a Polar sensor answers
   its control point by indication, and a MetaMotion streams as soon as it is started);
2. awaits ``stream.start(gatt)``, which writes the start commands (and, for Polar, reads the answers);
3. hands every notification to ``stream.feed(uuid, data, arrival_s)`` and yields the blocks it returns;
4. on a clean end, awaits ``stream.stop(gatt)``.

The decoders themselves are the pure ones in ``profiles/`` (vendor frames) and ``streams.StreamDecoder`` (our own
frames or CSV lines over the Nordic UART Service). A notification may carry several packets, or half of one: the
decoders treat their input as a stream.

Facts and sources: ``/work/shared/PROTOCOLS.md`` and the docstrings of the profile modules.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from repsense.errors import ConfigError, LinkError
from repsense.firmware_bridge.framing import ClockMapper
from repsense.firmware_bridge.profiles import ArrivalClock, metamotion, polar_pmd, witmotion
from repsense.firmware_bridge.streams import DecoderCounts, StreamDecoder, TextOptions, WireFormat
from repsense.samples import SampleBlock

#: Nordic UART Service: the central writes to RX and subscribes to TX (named from the peripheral's side).
NUS_SERVICE_UUID = "6e400001-b5a3-f393-e0a9-e50e24dcca9e"
NUS_RX_UUID = "6e400002-b5a3-f393-e0a9-e50e24dcca9e"
NUS_TX_UUID = "6e400003-b5a3-f393-e0a9-e50e24dcca9e"

#: How long a Polar sensor may take to answer a control-point request.
CONTROL_TIMEOUT_S = 5.0


class GattPort(Protocol):
    """The one GATT operation a profile needs from the link."""

    async def write(self, uuid: str, data: bytes, *, response: bool = True) -> None: ...


class ProfileStream(Protocol):
    """One connection's decoding state. ``feed`` never raises on bad bytes; it counts them."""

    subscribe_uuids: tuple[str, ...]

    async def start(self, gatt: GattPort) -> None: ...

    async def stop(self, gatt: GattPort) -> None: ...

    def feed(self, uuid: str, data: bytes, arrival_s: float) -> list[SampleBlock]: ...

    def counts(self) -> DecoderCounts: ...

    def describe(self) -> str: ...


@dataclass(frozen=True, slots=True)
class StreamSettings:
    """What a connection's stream is made with: the clock mapper factory, CSV options, and ``time_scale`` (how
    many times faster than the host the sensor's clock runs: an emulator playing faster)."""

    clock: Callable[[], ClockMapper]
    text: TextOptions
    time_scale: float = 1.0

    def arrival_clock(self, rate_hz: float) -> ArrivalClock:
        """An arrival clock whose spans are in sensor seconds: host jitter, magnified by the time scale, must not
        pass for a change of rate."""
        k = self.time_scale
        clock = ArrivalClock(rate_hz, window_s=10.0 * k, min_span_s=1.0 * k, retune_span_s=5.0 * k)
        clock.mapper = self.clock()
        return clock


@dataclass(frozen=True, slots=True)
class BleProfile:
    """A sensor family: how to recognise it in an advertisement and how to stream from it."""

    name: str
    label: str
    service_uuid: str
    name_prefixes: tuple[str, ...]
    make_stream: Callable[[StreamSettings], ProfileStream]

    def recognises(self, local_name: str | None, service_uuids: list[str]) -> bool:
        """True when the advertisement lists our service, or the name is one this family uses."""
        if self.service_uuid in (u.lower() for u in service_uuids):
            return True
        name = (local_name or "").strip().lower()
        return any(name.startswith(prefix) for prefix in self.name_prefixes)


# --- WitMotion -------------------------------------------------------------------------------------------------------

#: The output rate asked of a WitMotion; the decoder reports the rate it actually gets.
WITMOTION_RATE_HZ = 100


class _WitMotionStream:
    subscribe_uuids: tuple[str, ...] = (witmotion.NOTIFY_UUID,)

    def __init__(self, settings: StreamSettings) -> None:
        self.decoder = witmotion.WitMotionDecoder(WITMOTION_RATE_HZ)
        self.decoder.clock = settings.arrival_clock(WITMOTION_RATE_HZ)

    async def start(self, gatt: GattPort) -> None:
        # Unlock first (it holds for about 10 s), then the rate, then save it.
        for command in witmotion.rate_commands(WITMOTION_RATE_HZ):
            await gatt.write(witmotion.WRITE_UUID, command)

    async def stop(self, gatt: GattPort) -> None:
        return None  # a WitMotion streams whenever it is connected; there is nothing to stop

    def feed(self, uuid: str, data: bytes, arrival_s: float) -> list[SampleBlock]:
        return self.decoder.feed(data, arrival_s)

    def counts(self) -> DecoderCounts:
        s = self.decoder.stats
        return DecoderCounts(s.frames_ok, 0, 0, s.resyncs, s.bytes_in)

    def describe(self) -> str:
        rate = self.decoder.measured_rate_hz
        measured = "not yet measured" if rate is None else f"{rate:.1f} Hz measured"
        return f"WitMotion, {WITMOTION_RATE_HZ} Hz asked, {measured}"


# --- Polar PMD -------------------------------------------------------------------------------------------------------

#: Polar ACC settings we prefer, in order: the rate nearest 100 Hz wins among those the sensor offers.
POLAR_PREFERRED_RATE_HZ = 100


class _PolarStream:
    subscribe_uuids: tuple[str, ...] = (polar_pmd.CONTROL_POINT_UUID, polar_pmd.DATA_UUID)

    def __init__(self, settings: StreamSettings) -> None:
        self.decoder = polar_pmd.PmdDecoder(clock=settings.clock())
        self._responses: asyncio.Queue[polar_pmd.ControlResponse] = asyncio.Queue()
        self.settings: dict[int, tuple[float, ...]] = {}
        self.control_errors = 0

    async def _request(self, gatt: GattPort, command: bytes) -> polar_pmd.ControlResponse:
        await gatt.write(polar_pmd.CONTROL_POINT_UUID, command)
        try:
            while True:
                response = await asyncio.wait_for(self._responses.get(), CONTROL_TIMEOUT_S)
                if response.op_code == command[0]:
                    return response
        except TimeoutError:
            raise LinkError(f"the Polar sensor did not answer request {command.hex(' ')} within 5 s") from None

    async def start(self, gatt: GattPort) -> None:
        offered = await self._request(gatt, polar_pmd.get_settings_command())
        if not offered.ok:
            raise LinkError(f"the Polar sensor refused to list its accelerometer settings (status {offered.status})")
        rates = [int(r) for r in offered.settings.get(polar_pmd.SettingType.SAMPLE_RATE, ())] or [200]
        rate = min(rates, key=lambda r: (abs(r - POLAR_PREFERRED_RATE_HZ), -r))
        resolution = int(max(offered.settings.get(polar_pmd.SettingType.RESOLUTION, (16,))))
        range_g = int(max(offered.settings.get(polar_pmd.SettingType.RANGE, (8,))))
        started = await self._request(gatt, polar_pmd.start_acc_command(rate, resolution, range_g))
        if not started.ok:
            raise LinkError(f"the Polar sensor refused to start its accelerometer (status {started.status})")
        self.decoder.sample_rate_hz = float(rate)
        self.settings = {
            polar_pmd.SettingType.SAMPLE_RATE: (rate,),
            polar_pmd.SettingType.RESOLUTION: (resolution,),
            polar_pmd.SettingType.RANGE: (range_g,),
        }

    async def stop(self, gatt: GattPort) -> None:
        await gatt.write(polar_pmd.CONTROL_POINT_UUID, polar_pmd.stop_command())

    def feed(self, uuid: str, data: bytes, arrival_s: float) -> list[SampleBlock]:
        if uuid == polar_pmd.CONTROL_POINT_UUID:
            response = self.decoder.feed_control(data)
            if response is None:
                self.control_errors += 1
            else:
                self._responses.put_nowait(response)
            return []
        return self.decoder.feed(data, arrival_s)

    def counts(self) -> DecoderCounts:
        s = self.decoder.stats
        return DecoderCounts(s.frames_ok, 0, 0, s.malformed + s.out_of_order + s.other, s.bytes_in)

    def describe(self) -> str:
        return f"Polar PMD accelerometer, {self.decoder.sample_rate_hz:g} Hz"


# --- MetaMotion ------------------------------------------------------------------------------------------------------

METAMOTION_RATE_HZ = 100
METAMOTION_RANGE_G = 8  # a barbell at lockout can pass 4 g; 8 g keeps it unclipped at 4096 LSB/g
METAMOTION_GYRO_RANGE_DPS = 2000  # a dropped or rolled bar turns fast; 2000 deg/s still resolves 0.06 deg/s


class _MetaMotionStream:
    subscribe_uuids: tuple[str, ...] = (metamotion.NOTIFY_UUID,)

    def __init__(self, settings: StreamSettings) -> None:
        self.decoder = metamotion.MetaMotionDecoder(
            METAMOTION_RANGE_G, METAMOTION_RATE_HZ, gyro=True, gyro_range_dps=METAMOTION_GYRO_RANGE_DPS
        )
        self.decoder.clock = settings.arrival_clock(METAMOTION_RATE_HZ)

    async def start(self, gatt: GattPort) -> None:
        # The gyroscope first, so its samples are flowing when the accelerometer's start; a board without one
        # ignores these writes and the decoder settles on the accelerometer alone.
        commands = metamotion.start_gyro_commands(METAMOTION_GYRO_RANGE_DPS, METAMOTION_RATE_HZ)
        commands += metamotion.start_acc_commands(METAMOTION_RANGE_G, METAMOTION_RATE_HZ)
        for command in commands:
            await gatt.write(metamotion.COMMAND_UUID, command)

    async def stop(self, gatt: GattPort) -> None:
        for command in metamotion.stop_acc_commands() + metamotion.stop_gyro_commands():
            await gatt.write(metamotion.COMMAND_UUID, command)

    def feed(self, uuid: str, data: bytes, arrival_s: float) -> list[SampleBlock]:
        return self.decoder.feed(data, arrival_s)

    def counts(self) -> DecoderCounts:
        s = self.decoder.stats
        return DecoderCounts(s.frames_ok, s.unpaired, 0, s.malformed, s.bytes_in)

    def describe(self) -> str:
        parts = {None: "gyroscope not seen yet", True: "gyroscope", False: "no gyroscope"}
        return f"MetaMotion, {METAMOTION_RATE_HZ} Hz, +-{METAMOTION_RANGE_G} g, {parts[self.decoder.has_gyro]}"


# --- Nordic UART Service ---------------------------------------------------------------------------------------------


class _NusStream:
    """Our firmware's frames or a DIY firmware's CSV lines; the same decoders as a serial port."""

    subscribe_uuids: tuple[str, ...] = (NUS_TX_UUID,)

    def __init__(self, settings: StreamSettings) -> None:
        self.decoder = StreamDecoder(WireFormat.AUTO, settings.clock, settings.text)

    async def start(self, gatt: GattPort) -> None:
        return None  # NUS firmware streams once subscribed

    async def stop(self, gatt: GattPort) -> None:
        return None

    def feed(self, uuid: str, data: bytes, arrival_s: float) -> list[SampleBlock]:
        return self.decoder.feed(data, arrival_s)

    def counts(self) -> DecoderCounts:
        return self.decoder.counts()

    def describe(self) -> str:
        return f"Nordic UART, {self.decoder.wire_format} format"


PROFILES: dict[str, BleProfile] = {
    "witmotion": BleProfile(
        "witmotion", "WitMotion WT901BLE", witmotion.SERVICE_UUID, ("wt901", "bwt901", "wt9011"), _WitMotionStream
    ),
    "polar": BleProfile("polar", "Polar PMD (H10, Verity Sense)", polar_pmd.SERVICE_UUID, ("polar ",), _PolarStream),
    "metamotion": BleProfile(
        "metamotion", "MbientLab MetaMotion", metamotion.SERVICE_UUID, ("metawear", "metamotion"), _MetaMotionStream
    ),
    "nus": BleProfile("nus", "Nordic UART (repsense or DIY firmware)", NUS_SERVICE_UUID, (), _NusStream),
}


def recognise(local_name: str | None, service_uuids: list[str]) -> BleProfile | None:
    """The profile an advertisement speaks, by service UUID first, then by name; None when it is none of ours."""
    uuids = [u.lower() for u in service_uuids]
    for profile in PROFILES.values():
        if profile.service_uuid in uuids:
            return profile
    for profile in PROFILES.values():
        if profile.recognises(local_name, []):
            return profile
    return None


def profile_named(name: str) -> BleProfile:
    try:
        return PROFILES[name.strip().lower()]
    except KeyError:
        raise ConfigError(f"unknown BLE profile {name!r} (choose from {', '.join(PROFILES)})") from None
