"""Bluetooth LE sensors through bleak: finding them (``scan``) and streaming from them (``BleLink``).

``BleLink`` is a ``links.Link`` like ``SerialLink``: the live session, the recording and the view do not know which
transport runs. It finds the sensor by name or address, recognises its profile from the advertisement (or takes
the one given), connects, subscribes, starts the stream (``ble_profiles``) and yields sample blocks.

Theory of operation. Notifications arrive as bleak callbacks on the event loop. Each is decoded at once by the
connection's ``ProfileStream`` (so a Polar control-point answer reaches the stream while ``start`` awaits it) and the
blocks go through a queue to the generator, which merges what has piled up into one block per wake-up. When the
sensor drops the link, bleak's disconnect callback puts ``_GONE`` on the queue: the link reports ``lost``, then
scans for the sensor and reconnects with exponential backoff (``retry_s`` doubling up to ``retry_max_s``),
subscribes and starts it again, and reports ``resumed``. Each connection gets a fresh decoder; its times are on the
link clock (host seconds since the link opened), so the live session, which never feeds a sample at or before the
last one it fed, can never see a sample twice. The caller gives up by closing the generator (the live session does
so after ``--give-up`` seconds without samples); everything already recorded stays recorded.

Errors: bleak's, and the bare ``FileNotFoundError`` its BlueZ backend raises when there is no system D-Bus, become
``LinkError`` here with one line that says what to do. The first connection failing raises; later ones are retried.

``backend`` arguments take bleak backend classes (``ble_virtual.VirtualRadio`` makes them for the tests and the
``--virtual-sensor`` demo); None means the platform's own Bluetooth stack.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from typing import Any

from bleak import BleakClient, BleakScanner
from bleak.backends.client import BaseBleakClient
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, BaseBleakScanner
from bleak.exc import BleakDeviceNotFoundError, BleakError

from repsense.errors import LinkError
from repsense.firmware_bridge.ble_profiles import BleProfile, ProfileStream, StreamSettings, profile_named, recognise
from repsense.firmware_bridge.framing import ClockMapper
from repsense.firmware_bridge.links import LinkEvent, LinkEventKind, LinkHealth
from repsense.firmware_bridge.streams import DecoderCounts, TextOptions, merge_blocks
from repsense.samples import SampleBlock

#: A Bluetooth address (Linux, Windows) or a CoreBluetooth device UUID (macOS).
_ADDRESS = re.compile(r"^([0-9a-f]{2}:){5}[0-9a-f]{2}$|^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$", re.IGNORECASE)

NO_STACK = (
    "no Bluetooth stack: bleak reaches BlueZ through the system D-Bus, and there is none on this machine "
    "(install and start bluez/bluetoothd, or use --port for a sensor on a serial port)"
)


def _explain(exc: BaseException, doing: str) -> LinkError:
    """bleak's errors, and the OS errors under them, as one line."""
    if isinstance(exc, LinkError):
        return exc
    if isinstance(exc, FileNotFoundError):
        return LinkError(NO_STACK)
    if isinstance(exc, BleakDeviceNotFoundError):
        return LinkError(f"{doing}: the device is not there (switched off, out of range, or taken by another app?)")
    if isinstance(exc, TimeoutError):
        return LinkError(f"{doing}: no answer in time")
    if isinstance(exc, OSError):
        return LinkError(f"{doing}: {exc.strerror or exc}")
    text = str(exc).strip() or type(exc).__name__
    return LinkError(f"{doing}: {text}")


_BLEAK_ERRORS = (BleakError, OSError, TimeoutError, EOFError)

#: How fast the BLE clock mapping may move earlier at the start: 2 % of elapsed time, as after the start.
BLE_MAX_CATCHUP = 0.02


def _backend(backend: type[BaseBleakScanner] | None) -> dict[str, Any]:
    """bleak's ``backend=`` keyword, given only when there is one (bleak picks the platform's otherwise)."""
    return {} if backend is None else {"backend": backend}


@dataclass(frozen=True, slots=True)
class Sighting:
    """One device a scan heard: its address, advertised name, signal strength (dBm) and our profile, if any."""

    address: str
    name: str | None
    rssi: int | None
    service_uuids: tuple[str, ...]
    profile: BleProfile | None


async def scan(timeout_s: float = 5.0, *, backend: type[BaseBleakScanner] | None = None) -> list[Sighting]:
    """Listen for ``timeout_s`` and return every device heard, ours first, then by signal strength."""
    try:
        found = await BleakScanner.discover(timeout=timeout_s, return_adv=True, **_backend(backend))
    except _BLEAK_ERRORS as exc:
        raise _explain(exc, "scanning") from exc
    sightings = [
        Sighting(
            device.address,
            adv.local_name or device.name,
            adv.rssi,
            tuple(adv.service_uuids),
            recognise(adv.local_name or device.name, list(adv.service_uuids)),
        )
        for device, adv in found.values()
    ]
    return sorted(sightings, key=lambda s: (s.profile is None, -(s.rssi if s.rssi is not None else -999)))


async def find(
    target: str, timeout_s: float, *, backend: type[BaseBleakScanner] | None = None
) -> tuple[BLEDevice, AdvertisementData]:
    """The device whose address, or advertised name (case ignored), is ``target``; LinkError if not heard."""
    by_address = bool(_ADDRESS.match(target))
    wanted = target.strip().lower()
    heard: dict[str, AdvertisementData] = {}

    def matches(device: BLEDevice, adv: AdvertisementData) -> bool:
        key = device.address if by_address else (adv.local_name or device.name or "")
        if key.lower() == wanted:
            heard[device.address] = adv
            return True
        return False

    try:
        device = await BleakScanner.find_device_by_filter(matches, timeout=timeout_s, **_backend(backend))
    except _BLEAK_ERRORS as exc:
        raise _explain(exc, "scanning") from exc
    if device is None:
        what = "at address" if by_address else "named"
        raise LinkError(
            f"no BLE sensor {what} {target!r} answered within {timeout_s:g} s: is it on, in range and not "
            "connected to another app? ('repsense scan' lists what is around)"
        )
    return device, heard[device.address]


class _Gatt:
    """The profile's view of a connected client: writes by characteristic UUID."""

    def __init__(self, client: BleakClient) -> None:
        self._client = client

    async def write(self, uuid: str, data: bytes, *, response: bool = True) -> None:
        await self._client.write_gatt_char(uuid, data, response=response)


class _Gone:
    """Put on the queue by the disconnect callback."""


_GONE = _Gone()


class BleLink:
    """A BLE sensor as a ``Link``. See the module docstring.

    ``target`` is a name or an address; ``profile`` one of ``ble_profiles.PROFILES`` or None to recognise it.
    ``time_scale``, as for ``SerialLink``: how many times faster than the host clock the sensor's clock runs (an
    emulated sensor playing a recording faster).
    """

    def __init__(
        self,
        target: str,
        profile: str | None = None,
        *,
        time_scale: float = 1.0,
        scan_timeout_s: float = 10.0,
        connect_timeout_s: float = 15.0,
        retry_s: float = 0.25,
        retry_max_s: float = 4.0,
        text: TextOptions | None = None,
        client_backend: type[BaseBleakClient] | None = None,
        scanner_backend: type[BaseBleakScanner] | None = None,
        wall: Callable[[], float] = time.monotonic,
    ) -> None:
        if not time_scale > 0:
            raise LinkError(f"time scale must be positive, got {time_scale}")
        self.target = target
        self.profile: BleProfile | None = None if profile is None else profile_named(profile)
        self.time_scale = time_scale
        self.scan_timeout_s = scan_timeout_s
        self.connect_timeout_s = connect_timeout_s
        self.retry_s = retry_s
        self.retry_max_s = retry_max_s
        self.text = text or TextOptions()
        self.client_backend = client_backend
        self.scanner_backend = scanner_backend
        self._wall = wall
        self.origin_wall_s: float | None = None
        self.last_arrival_wall_s: float | None = None
        self.address: str | None = None
        self.name: str | None = None
        self.stream: ProfileStream | None = None
        self._totals = DecoderCounts()
        self._samples = 0
        self._reconnects = 0
        self._connected = False

    # --- clocks and counters ------------------------------------------------------------------------------------

    def link_time(self, wall_s: float) -> float:
        origin = self.origin_wall_s if self.origin_wall_s is not None else wall_s
        return (wall_s - origin) * self.time_scale

    def _mapper(self) -> ClockMapper:
        if self.time_scale != 1.0:
            return ClockMapper(max_slew=1e-9, max_catchup=1e-9)
        # BLE delivers in bursts, one per connection interval (7.5-50 ms), so the lowest-latency arrival keeps
        # improving for a while after the start. Catching up fast (the serial default) would squeeze sample
        # spacing by up to a quarter during the first reps and bend their velocities; follow at the slew rate.
        return ClockMapper(max_catchup=BLE_MAX_CATCHUP)

    def health(self) -> LinkHealth:
        counts = DecoderCounts()
        counts.add(self._totals)
        if self.stream is not None:
            counts.add(self.stream.counts())
        label = self.stream.describe() if self.stream is not None else (self.profile.name if self.profile else "")
        return LinkHealth(
            self._connected,
            label,
            self._samples,
            counts.units_ok,
            counts.dropped,
            counts.crc_errors,
            counts.bad,
            counts.bytes_in,
            self._reconnects,
        )

    # --- connections --------------------------------------------------------------------------------------------

    async def _find(self, timeout_s: float) -> BLEDevice:
        device, adv = await find(self.target, timeout_s, backend=self.scanner_backend)
        self.address, self.name = device.address, adv.local_name or device.name
        if self.profile is None:
            self.profile = recognise(self.name, list(adv.service_uuids))
            if self.profile is None:
                raise LinkError(
                    f"{self.target!r} does not advertise a sensor service repsense knows; "
                    "name its protocol with --profile witmotion|polar|metamotion|nus"
                )
        return device

    async def _open(
        self, device: BLEDevice
    ) -> tuple[BleakClient, ProfileStream, asyncio.Queue[list[SampleBlock] | _Gone]]:
        assert self.profile is not None
        queue: asyncio.Queue[list[SampleBlock] | _Gone] = asyncio.Queue()
        stream = self.profile.make_stream(StreamSettings(self._mapper, self.text, self.time_scale))
        client = BleakClient(
            device,
            disconnected_callback=lambda _client: queue.put_nowait(_GONE),
            timeout=self.connect_timeout_s,
            backend=self.client_backend,
        )

        def on_notify(uuid: str) -> Callable[[Any, bytearray], None]:
            def deliver(_char: Any, data: bytearray) -> None:
                wall = self._wall()
                blocks = stream.feed(uuid, bytes(data), self.link_time(wall))
                if blocks:
                    self.last_arrival_wall_s = wall
                    queue.put_nowait(blocks)

            return deliver

        doing = f"connecting to {self.name or self.target}"
        try:
            await asyncio.wait_for(client.connect(), self.connect_timeout_s)
            for uuid in stream.subscribe_uuids:  # all subscriptions before the first write
                await client.start_notify(uuid, on_notify(uuid))
            await stream.start(_Gatt(client))
        except (*_BLEAK_ERRORS, LinkError) as exc:
            with contextlib.suppress(*_BLEAK_ERRORS):
                await asyncio.wait_for(client.disconnect(), 2.0)
            raise _explain(exc, doing) from exc
        return client, stream, queue

    async def _close(self, client: BleakClient, stream: ProfileStream, still_connected: bool) -> None:
        if still_connected and client.is_connected:
            with contextlib.suppress(*_BLEAK_ERRORS, LinkError):
                await asyncio.wait_for(stream.stop(_Gatt(client)), 2.0)
            for uuid in stream.subscribe_uuids:
                with contextlib.suppress(*_BLEAK_ERRORS):
                    await asyncio.wait_for(client.stop_notify(uuid), 2.0)
        with contextlib.suppress(*_BLEAK_ERRORS):
            await asyncio.wait_for(client.disconnect(), 2.0)

    async def _reconnect(self) -> tuple[BleakClient, ProfileStream, asyncio.Queue[list[SampleBlock] | _Gone]]:
        delay = self.retry_s
        while True:
            await asyncio.sleep(delay)
            try:
                device = await self._find(min(self.scan_timeout_s, 2.0))
                return await self._open(device)
            except LinkError:
                delay = min(2.0 * delay, self.retry_max_s)

    async def blocks(self) -> AsyncGenerator[SampleBlock | LinkEvent, None]:
        device = await self._find(self.scan_timeout_s)
        if self.origin_wall_s is None:
            self.origin_wall_s = self._wall()
        client, stream, queue = await self._open(device)
        kind = LinkEventKind.CONNECTED
        while True:
            self.stream = stream
            self._connected = True
            gone = False
            try:
                yield LinkEvent(
                    kind, self.link_time(self._wall()), f"{self.name} ({self.address}): {stream.describe()}"
                )
                while not gone:
                    batch = [await queue.get()]
                    while not queue.empty():
                        batch.append(queue.get_nowait())
                    decoded: list[SampleBlock] = []
                    for item in batch:
                        if isinstance(item, _Gone):
                            gone = True
                            break
                        decoded.extend(item)
                    for block in merge_blocks(decoded):
                        self._samples += len(block)
                        yield block
            finally:
                self._connected = False
                await self._close(client, stream, still_connected=not gone)
                self._totals.add(stream.counts())
                self.stream = None
            yield LinkEvent(LinkEventKind.LOST, self.link_time(self._wall()), "the sensor disconnected")
            client, stream, queue = await self._reconnect()
            self._reconnects += 1
            kind = LinkEventKind.RESUMED
