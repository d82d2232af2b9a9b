"""Emulated BLE sensors: a recording streamed as a WitMotion, a Polar, a MetaMotion or a NUS device would send it.

A ``SensorPeripheral`` is a bumble GATT server on a ``ble_virtual.VirtualRadio``. It advertises the family's name
and service, answers its commands (WitMotion unlock and rate, Polar PMD settings/start/stop by indication,
MetaMotion's accelerometer writes), and once the central has started it, streams the recording's samples as
notifications paced by their own times (``speed`` times faster if asked). Its clock runs from the first start:
while nobody listens (a dropped link), samples are lost, as with a real sensor.

Each family packs its notifications as the real device does; ``notify_bytes`` caps a notification's size
(the payload of the ATT MTU) and, for the stream-like families (WitMotion, NUS), cuts packets and lines across
notifications when it is not a multiple of them, which is what the tests want to see.

Faults: ``disconnect_at_s`` drops the link from the peripheral's side at that recording time and stays away (not
advertising) for ``disconnect_for_s`` of recording time, then advertises again and carries on where its clock is.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from bumble import gatt

from repsense.errors import ConfigError
from repsense.firmware_bridge import ble_profiles
from repsense.firmware_bridge.ble_virtual import VirtualRadio
from repsense.firmware_bridge.emulator import SensorEmulator
from repsense.firmware_bridge.profiles import metamotion, polar_pmd, witmotion
from repsense.firmware_bridge.streams import WireFormat
from repsense.samples import SampleBlock

#: Device names the emulated sensors advertise (as the real ones do, with a serial-number suffix).
DEFAULT_NAMES = {
    "witmotion": "WT901BLE68",
    "polar": "Polar H10 A1B2C3D4",
    "metamotion": "MetaWear",
    "nus": "repsense-ESP32",
}
#: Polar PMD timestamps count ns from 2000-01-01; the emulated sensor starts on 2026-11-24.
POLAR_EPOCH_OFFSET_NS = 848_361_600 * 10**9
#: A notification's payload at the MTU a modern central negotiates (247 - 3).
MAX_NOTIFY_BYTES = 244
#: How much recording time each pacing step sends, at most.
STEP_S = 0.01


@dataclass(slots=True)
class PeripheralStats:
    notifications: int = 0
    bytes_sent: int = 0
    samples_sent: int = 0
    samples_lost: int = 0  # taken while no central listened
    connections: int = 0
    disconnects: int = 0  # by the fault, from the peripheral's side
    commands: list[bytes] = field(default_factory=list)
    #: (wall time from ``time.monotonic``, index of the last sample in it) for every notification carrying samples.
    sent: list[tuple[float, int]] = field(default_factory=list)


#: Families whose packets carry no time: the receiver spaces samples evenly at the rate it measures.
_UNSTAMPED = ("witmotion", "metamotion")


def _uniform(samples: SampleBlock) -> SampleBlock:
    """The recording on an even grid at its median rate, as a sensor without timestamps samples.

    Such a sensor never skips a sample, and its receiver cannot see a hole: played with the recording's own
    holes (dropped samples, bursts), the receiver would close them up and squeeze the motion around them.
    """
    t = samples.t_s
    period = float(np.median(np.diff(t)))
    grid = t[0] + period * np.arange(int((t[-1] - t[0]) / period) + 1)

    def interp(x: np.ndarray) -> np.ndarray:
        return np.column_stack([np.interp(grid, t, x[:, k]) for k in range(3)])

    gyro = None if samples.gyro_dps is None else interp(samples.gyro_dps)
    return SampleBlock(grid, interp(samples.acc_g), gyro)


def _address(n: int) -> str:
    return f"C0:FF:EE:00:00:{n:02X}"


class SensorPeripheral:
    """One emulated sensor on a virtual radio. ``await start()``, then it runs until ``close()``."""

    def __init__(
        self,
        radio: VirtualRadio,
        profile: str,
        samples: SampleBlock,
        *,
        name: str | None = None,
        address: str | None = None,
        speed: float = 1.0,
        notify_bytes: int | None = None,
        nus_format: WireFormat = WireFormat.FRAME,
        disconnect_at_s: float | None = None,
        disconnect_for_s: float = 2.0,
        advertise: bool = True,
        max_batch: int | None = None,
        wall: Callable[[], float] = time.monotonic,
    ) -> None:
        if profile not in ble_profiles.PROFILES:
            raise ConfigError(f"unknown BLE profile {profile!r} (choose from {', '.join(ble_profiles.PROFILES)})")
        if len(samples) < 2:
            raise ConfigError("the recording needs at least two samples to play")
        if not speed > 0:
            raise ConfigError("--speed must be positive")
        self.radio = radio
        self.profile = profile
        self.name = name or DEFAULT_NAMES[profile]
        self.address = address or _address(len(radio.link.controllers) + 1)
        self.speed = speed
        self.notify_bytes = min(notify_bytes or MAX_NOTIFY_BYTES, MAX_NOTIFY_BYTES)
        self.disconnect_at_s = disconnect_at_s
        self.disconnect_for_s = disconnect_for_s
        self.advertise_on_start = advertise
        #: Samples sent per pacing step at most: a few when behind (as a sensor's FIFO would), more for benchmarks.
        self.max_batch = max_batch or max(1, int(STEP_S * 4 / float(np.median(np.diff(samples.t_s)))))
        if profile in _UNSTAMPED:
            samples = _uniform(samples)
        self.samples = samples
        self.stats = PeripheralStats()
        self.finished = asyncio.Event()
        self._wall = wall
        self._rel_s = samples.t_s - float(samples.t_s[0])
        self.rate_hz = float(1.0 / np.median(np.diff(samples.t_s)))
        self.device = radio.new_device(self.name, self.address)
        self._streaming = False  # the central has started the stream on the current connection
        self._task: asyncio.Task[None] | None = None
        self._start_wall: float | None = None
        self._next = 0  # index of the next sample to send
        self._in_fault = False  # the link is down on purpose (``disconnect_at_s``)
        self._hci = asyncio.Lock()  # one HCI command sequence at a time: bumble's host keeps one pending
        self._side_tasks: set[asyncio.Task[None]] = set()
        self._encoder = _encoders[profile](self, nus_format)

    # --- life cycle ---------------------------------------------------------------------------------------------

    async def start(self) -> None:
        self.device.add_service(self._encoder.service())
        self.device.on("connection", self._on_connection)
        await self.device.power_on()
        if self.advertise_on_start:
            await self.start_advertising()

    async def start_advertising(self) -> None:
        from bumble.core import UUID, AdvertisingData

        # bumble's virtual controller sends no scan responses, so everything goes in the 31-byte advertisement:
        # the name and the services, and the flags when they fit. Polar advertises its 16-bit heart-rate and
        # Polar services, not PMD, and is recognised by name, as the real one is.
        if self.profile == "polar":
            services = (AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS, bytes.fromhex("0d18eefe"))
        else:
            uuid = UUID(ble_profiles.PROFILES[self.profile].service_uuid)
            services = (AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS, bytes(uuid))
        fields = [(AdvertisingData.COMPLETE_LOCAL_NAME, self.name.encode()), services]
        if sum(2 + len(value) for _, value in fields) + 3 <= 31:
            fields.insert(0, (AdvertisingData.FLAGS, bytes([0x06])))
        async with self._hci:
            await self.device.start_advertising(
                advertising_data=bytes(AdvertisingData(fields)),
                advertising_interval_min=20,
                advertising_interval_max=20,
            )

    async def close(self) -> None:
        tasks = [t for t in (self._task, *self._side_tasks) if t is not None and not t.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        async with self._hci:
            with contextlib.suppress(Exception):  # closing a device whose loop is shutting down
                await self.device.power_off()

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` beside the stream; ``close`` waits for it, so no HCI command is left in flight."""
        task = asyncio.get_running_loop().create_task(work)
        self._side_tasks.add(task)
        task.add_done_callback(self._side_tasks.discard)

    def _on_connection(self, connection: object) -> None:
        self.stats.connections += 1
        self._streaming = False
        connection.on("disconnection", self._on_disconnection)  # type: ignore[attr-defined]

    def _on_disconnection(self, reason: int) -> None:
        self._streaming = False
        self._encoder.on_disconnection()
        if self._task is not None and not self._task.done() and not self._in_fault:
            # A central that left on its own: advertise again, so it (or another) can come back.
            self.spawn(self.start_advertising())

    def begin_streaming(self) -> None:
        """The central has started the stream (subscribed, or written the start command)."""
        self._streaming = True
        if self._start_wall is None:
            self._start_wall = self._wall()
            self._task = asyncio.get_running_loop().create_task(self._run())

    def stop_streaming(self) -> None:
        """The central has stopped the stream (unsubscribed, or written the stop command); the clock runs on."""
        self._streaming = False

    # --- streaming ----------------------------------------------------------------------------------------------

    def _now_rel_s(self) -> float:
        assert self._start_wall is not None
        return (self._wall() - self._start_wall) * self.speed

    async def _run(self) -> None:
        rel = self._rel_s
        n = len(rel)
        fault_at = self.disconnect_at_s
        while self._next < n:
            now = self._now_rel_s()
            if fault_at is not None and now >= fault_at:
                fault_at = None
                await self._drop_link()
                continue
            hi = int(np.searchsorted(rel, now, side="right"))
            hi = min(hi, n, self._next + self.max_batch)
            if hi > self._next:
                lo, self._next = self._next, hi
                if self._streaming:
                    await self._send(lo, hi)
                else:
                    self.stats.samples_lost += hi - lo
            if self._next < n:
                wait = rel[self._next] - self._now_rel_s()
                await asyncio.sleep(max(0.0, min(wait / self.speed, STEP_S)))
        self.finished.set()

    async def _send(self, lo: int, hi: int) -> None:
        for payload, last in self._encoder.payloads(lo, hi):
            await self._encoder.notify(payload)
            self.stats.notifications += 1
            self.stats.bytes_sent += len(payload)
            if last >= 0:
                self.stats.sent.append((self._wall(), last))
        self.stats.samples_sent += hi - lo

    async def _drop_link(self) -> None:
        self._in_fault = True
        self._streaming = False
        self.stats.disconnects += 1
        async with self._hci:
            with contextlib.suppress(Exception):
                await self.device.stop_advertising()
        for connection in list(self.device.connections.values()):
            with contextlib.suppress(Exception):
                await connection.disconnect()
        await asyncio.sleep(self.disconnect_for_s / self.speed)
        self._in_fault = False
        await self.start_advertising()

    def split(self, data: bytes, last: int) -> list[tuple[bytes, int]]:
        """A byte stream cut into notifications of at most ``notify_bytes``; the sample index goes with the last."""
        size = self.notify_bytes
        parts = [data[i : i + size] for i in range(0, len(data), size)]
        return [(part, last if i == len(parts) - 1 else -1) for i, part in enumerate(parts)]


# --- the families ----------------------------------------------------------------------------------------------------


class _Encoder:
    """What a family sends and how it answers. Subclasses build the GATT service and the notifications."""

    def __init__(self, peripheral: SensorPeripheral, nus_format: WireFormat) -> None:
        self.p = peripheral
        self.data_char: gatt.Characteristic[bytes] | None = None

    def service(self) -> gatt.Service:
        raise NotImplementedError

    def payloads(self, lo: int, hi: int) -> list[tuple[bytes, int]]:
        raise NotImplementedError

    async def notify(self, payload: bytes) -> None:
        assert self.data_char is not None, "service() makes the data characteristic"
        await self.p.device.notify_subscribers(self.data_char, payload)

    def on_disconnection(self) -> None:
        return None

    def _subscribed(self, connection: object, notify: bool, indicate: bool) -> None:
        if notify or indicate:
            self.p.begin_streaming()
        else:
            self.p.stop_streaming()


class _WitMotionEncoder(_Encoder):
    """Streams ``55 61`` packets once notifications are on; takes the unlock and rate commands."""

    def service(self) -> gatt.Service:
        props = gatt.Characteristic.Properties
        self.data_char = gatt.Characteristic(witmotion.NOTIFY_UUID, props.NOTIFY, gatt.Characteristic.READABLE, b"")
        self.data_char.on("subscription", self._subscribed)
        write = gatt.Characteristic(
            witmotion.WRITE_UUID,
            props.WRITE | props.WRITE_WITHOUT_RESPONSE,
            gatt.Characteristic.WRITEABLE,
            gatt.CharacteristicValue(write=lambda _c, value: self.p.stats.commands.append(bytes(value))),
        )
        return gatt.Service(witmotion.SERVICE_UUID, [self.data_char, write])

    def payloads(self, lo: int, hi: int) -> list[tuple[bytes, int]]:
        s = self.p.samples
        gyro = s.gyro_dps[lo:hi] if s.gyro_dps is not None else np.zeros((hi - lo, 3))
        values = np.zeros((hi - lo, 9), dtype="<i2")
        values[:, 0:3] = np.clip(np.rint(s.acc_g[lo:hi] / witmotion.ACC_G_PER_LSB), -32768, 32767)
        values[:, 3:6] = np.clip(np.rint(gyro / witmotion.GYRO_DPS_PER_LSB), -32768, 32767)
        packets = np.empty((hi - lo, witmotion.PACKET_LEN), dtype=np.uint8)
        packets[:, 0], packets[:, 1] = witmotion.HEADER, witmotion.DATA_TYPE
        packets[:, 2:] = values.view(np.uint8).reshape(hi - lo, 18)
        return self.p.split(packets.tobytes(), hi - 1)


class _PolarEncoder(_Encoder):
    """PMD: answers GET_SETTINGS / START / STOP by indication; streams delta-compressed ACC frames (mG)."""

    def service(self) -> gatt.Service:
        props = gatt.Characteristic.Properties
        self.control: gatt.Characteristic[bytes] = gatt.Characteristic(
            polar_pmd.CONTROL_POINT_UUID,
            props.READ | props.WRITE | props.INDICATE,
            gatt.Characteristic.READABLE | gatt.Characteristic.WRITEABLE,
            gatt.CharacteristicValue(read=lambda _c: b"\x0f\x05", write=self._on_control),
        )
        self.data_char = gatt.Characteristic(polar_pmd.DATA_UUID, props.NOTIFY, gatt.Characteristic.READABLE, b"")
        return gatt.Service(polar_pmd.SERVICE_UUID, [self.control, self.data_char])

    def _rates(self) -> list[int]:
        return sorted({25, 50, 100, 200} | {round(self.p.rate_hz)})

    def _on_control(self, connection: Any, value: bytes) -> None:
        value = bytes(value)
        self.p.stats.commands.append(value)
        self.p.spawn(self._answer(value))

    async def _answer(self, command: bytes) -> None:
        op, kind = command[0], command[1] if len(command) > 1 else 0
        if kind != polar_pmd.MeasurementType.ACC:
            response = bytes((polar_pmd.RESPONSE_CODE, op, kind, 0x03))  # not supported
        elif op == polar_pmd.OpCode.GET_SETTINGS:
            rates = self._rates()
            params = bytes((polar_pmd.SettingType.SAMPLE_RATE, len(rates))) + b"".join(
                r.to_bytes(2, "little") for r in rates
            )
            params += bytes((polar_pmd.SettingType.RESOLUTION, 1, 16, 0, polar_pmd.SettingType.RANGE, 3))
            params += b"".join(g.to_bytes(2, "little") for g in (2, 4, 8))
            response = bytes((polar_pmd.RESPONSE_CODE, op, kind, 0, 0)) + params
        elif op == polar_pmd.OpCode.START:
            response = bytes((polar_pmd.RESPONSE_CODE, op, kind, 0, 0))
            response += bytes((polar_pmd.SettingType.FACTOR, 1)) + np.float32(1.0).tobytes()
        elif op == polar_pmd.OpCode.STOP:
            response = bytes((polar_pmd.RESPONSE_CODE, op, kind, 0))
        else:
            response = bytes((polar_pmd.RESPONSE_CODE, op, kind, 0x01))  # invalid op code
        await self.p.device.indicate_subscribers(self.control, response)
        if op == polar_pmd.OpCode.START and kind == polar_pmd.MeasurementType.ACC:
            self.p.begin_streaming()
        elif op == polar_pmd.OpCode.STOP:
            self.p.stop_streaming()

    def payloads(self, lo: int, hi: int) -> list[tuple[bytes, int]]:
        s = self.p.samples
        mg = np.clip(np.rint(s.acc_g[lo:hi] * 1000.0), -32768, 32767).astype(np.int64)
        out: list[tuple[bytes, int]] = []
        # About 70 samples fit 244 bytes at the deltas of a lift; 30 keep every frame safely inside.
        for a in range(0, hi - lo, 30):
            b = min(a + 30, hi - lo)
            t_ns = POLAR_EPOCH_OFFSET_NS + round(float(self.p._rel_s[lo + b - 1]) * 1e9)
            out.append((polar_pmd.encode_delta_frame(mg[a:b], t_ns), lo + b - 1))
        return out


class _MetaMotionEncoder(_Encoder):
    """MetaWear: takes the config writes (ranges), streams ``03 04 x y z`` after ``03 01 01`` and, when the
    recording has a gyroscope and it was started (``13 01 01``), ``13 05 x y z`` after each."""

    def __init__(self, peripheral: SensorPeripheral, nus_format: WireFormat) -> None:
        super().__init__(peripheral, nus_format)
        self.lsb_per_g = metamotion.LSB_PER_G[metamotion.RANGE_CODES[2]]
        self.lsb_per_dps = metamotion.GYRO_LSB_PER_DPS[0]
        self.gyro_on = False

    def service(self) -> gatt.Service:
        props = gatt.Characteristic.Properties
        command: gatt.Characteristic[bytes] = gatt.Characteristic(
            metamotion.COMMAND_UUID,
            props.WRITE | props.WRITE_WITHOUT_RESPONSE,
            gatt.Characteristic.WRITEABLE,
            gatt.CharacteristicValue(write=self._on_command),
        )
        self.data_char = gatt.Characteristic(metamotion.NOTIFY_UUID, props.NOTIFY, gatt.Characteristic.READABLE, b"")
        return gatt.Service(metamotion.SERVICE_UUID, [command, self.data_char])

    def _on_command(self, connection: Any, value: bytes) -> None:
        value = bytes(value)
        self.p.stats.commands.append(value)
        acc, gyro = metamotion.MODULE_ACC, metamotion.MODULE_GYRO
        if value[:2] == bytes((acc, metamotion.REG_DATA_CONFIG)) and len(value) == 4:
            self.lsb_per_g = metamotion.LSB_PER_G.get(value[3], self.lsb_per_g)
        elif value[:2] == bytes((gyro, metamotion.GYRO_REG_CONFIG)) and len(value) == 4:
            self.lsb_per_dps = metamotion.GYRO_LSB_PER_DPS.get(value[3], self.lsb_per_dps)
        elif value == bytes((gyro, metamotion.GYRO_REG_POWER_MODE, 1)):
            self.gyro_on = self.p.samples.gyro_dps is not None  # a board without a gyroscope ignores it
        elif value == bytes((gyro, metamotion.GYRO_REG_POWER_MODE, 0)):
            self.gyro_on = False
        elif value == bytes((acc, metamotion.REG_POWER_MODE, 1)):
            self.p.begin_streaming()
        elif value == bytes((acc, metamotion.REG_POWER_MODE, 0)):
            self.p.stop_streaming()

    def on_disconnection(self) -> None:
        self.gyro_on = False

    def payloads(self, lo: int, hi: int) -> list[tuple[bytes, int]]:
        s = self.p.samples
        acc = np.clip(np.rint(s.acc_g[lo:hi] * self.lsb_per_g), -32768, 32767).astype(int).tolist()
        out: list[tuple[bytes, int]] = []
        if self.gyro_on and s.gyro_dps is not None:
            gyro = np.clip(np.rint(s.gyro_dps[lo:hi] * self.lsb_per_dps), -32768, 32767).astype(int).tolist()
            for i, (a, g) in enumerate(zip(acc, gyro, strict=True)):
                out.append((metamotion.encode_sample(tuple(a)), -1))
                out.append((metamotion.encode_gyro_sample(tuple(g)), lo + i))
            return out
        return [(metamotion.encode_sample(tuple(a)), lo + i) for i, a in enumerate(acc)]


class _NusEncoder(_Encoder):
    """Nordic UART: our frames or CSV lines, the serial emulator's bytes cut into notifications."""

    def __init__(self, peripheral: SensorPeripheral, nus_format: WireFormat) -> None:
        super().__init__(peripheral, nus_format)
        self.emulator = SensorEmulator(peripheral.samples, nus_format, chunk_s=STEP_S)
        self._hello_due = True  # a CONFIG frame (or the CSV header) opens every connection

    def service(self) -> gatt.Service:
        props = gatt.Characteristic.Properties
        self.data_char = gatt.Characteristic(ble_profiles.NUS_TX_UUID, props.NOTIFY, gatt.Characteristic.READABLE, b"")
        self.data_char.on("subscription", self._subscribed)
        rx = gatt.Characteristic(
            ble_profiles.NUS_RX_UUID,
            props.WRITE | props.WRITE_WITHOUT_RESPONSE,
            gatt.Characteristic.WRITEABLE,
            gatt.CharacteristicValue(write=lambda _c, value: self.p.stats.commands.append(bytes(value))),
        )
        return gatt.Service(ble_profiles.NUS_SERVICE_UUID, [self.data_char, rx])

    def on_disconnection(self) -> None:
        self._hello_due = True

    def payloads(self, lo: int, hi: int) -> list[tuple[bytes, int]]:
        hello = b""
        if self._hello_due:
            hello, self._hello_due = self.emulator.hello(), False
        return self.p.split(hello + self.emulator.encode_span(lo, hi), hi - 1)


_encoders: dict[str, Callable[[SensorPeripheral, WireFormat], _Encoder]] = {
    "witmotion": _WitMotionEncoder,
    "polar": _PolarEncoder,
    "metamotion": _MetaMotionEncoder,
    "nus": _NusEncoder,
}

__all__ = ["PeripheralStats", "SensorPeripheral"]
