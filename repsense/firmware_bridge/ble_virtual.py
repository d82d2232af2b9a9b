"""A Bluetooth LE radio in this process: Google's bumble on a virtual link, with bleak backends that use it.

No Bluetooth hardware is needed. ``VirtualRadio`` owns a bumble ``LocalLink``; every device on it (our emulated
sensors in ``ble_emulator``, and one central per bleak scanner or client) has its own bumble controller and host,
and they talk real HCI, link-layer, ATT and GATT to each other. ``radio.client_backend()`` and
``radio.scanner_backend()`` return classes for bleak's ``backend=`` argument, so the application's own code
(``ble.BleLink``, ``ble.scan``) runs unchanged against a real ATT/GATT exchange, in the manner of bleak's own
bumble integration tests.

Caveats of the virtual link, handled here:

- bumble's virtual controller never cancels a pending connection, so connecting to a device that is not on the
  link would hang: ``connect`` fails at once with bleak's ``BleakDeviceNotFoundError`` when no advertising
  device on the link has the address.
- Advertising intervals are 20 ms, so a scan finds devices within a fraction of a second.

bumble is at 0.0.x and changes its API between releases; the project pins it exactly (``pyproject.toml``). Import
this module only where bumble is installed (the ``test`` extra).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from typing import Any

from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient, NotifyCallback
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.scanner import AdvertisementData, BaseBleakScanner
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakDeviceNotFoundError, BleakError
from bumble import gatt
from bumble.controller import Controller
from bumble.core import UUID, AdvertisingData
from bumble.device import Advertisement, Connection, Device, ObjectLookupError, Peer
from bumble.hci import HCI_REMOTE_USER_TERMINATED_CONNECTION_ERROR, Address
from bumble.host import Host
from bumble.link import LocalLink
from bumble.transport.common import AsyncPipeSink

# bumble warns about notifications that race an unsubscription; on a live view that is noise, not news.
logging.getLogger("bumble").setLevel(logging.ERROR)

#: The ATT MTU a central asks for: 244 bytes of payload per notification, as on current phones and adapters.
CENTRAL_MTU = 247

_SERVICE_UUID_TYPES = (
    AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
    AdvertisingData.INCOMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
    AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
    AdvertisingData.INCOMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
)

_PROPERTY_NAMES = {
    gatt.Characteristic.Properties.BROADCAST: "broadcast",
    gatt.Characteristic.Properties.READ: "read",
    gatt.Characteristic.Properties.WRITE_WITHOUT_RESPONSE: "write-without-response",
    gatt.Characteristic.Properties.WRITE: "write",
    gatt.Characteristic.Properties.NOTIFY: "notify",
    gatt.Characteristic.Properties.INDICATE: "indicate",
}


def uuid_str(uuid: UUID) -> str:
    """bumble's UUID as bleak spells UUIDs: 128-bit, lower case."""
    return str(uuid.to_hex_str("-")).lower() if len(uuid.uuid_bytes) == 16 else _expand16(uuid)


def _expand16(uuid: UUID) -> str:
    return f"0000{uuid.to_hex_str().lower()[-4:]}-0000-1000-8000-00805f9b34fb"


def _filter_link_races(loop: asyncio.AbstractEventLoop) -> None:
    """Drop the one error the virtual link raises on its own: a packet still in flight when its connection has just
    closed reaches a host that no longer knows the connection (a real controller would drop it silently)."""
    if getattr(loop, "_repsense_race_filter", False):
        return
    previous = loop.get_exception_handler()

    def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        if isinstance(exc, ObjectLookupError) and "no connection" in str(exc):
            return
        if previous is not None:
            previous(loop, context)
        else:
            loop.default_exception_handler(context)

    loop.set_exception_handler(handler)
    loop._repsense_race_filter = True  # type: ignore[attr-defined]


class VirtualRadio:
    """One virtual radio neighbourhood: the link, and addresses for the devices that join it."""

    def __init__(self) -> None:
        self.link = LocalLink()  # type: ignore[no-untyped-call]
        self._central_numbers = itertools.count(1)

    def new_device(self, name: str, address: str) -> Device:
        with contextlib.suppress(RuntimeError):  # no running loop yet: the filter goes in with the next device
            _filter_link_races(asyncio.get_running_loop())
        controller = Controller(name, link=self.link, public_address=address)
        return Device(name=name, address=Address(address), host=Host(controller, AsyncPipeSink(controller)))

    def new_central(self) -> Device:
        n = next(self._central_numbers)
        return self.new_device(f"central-{n}", f"F0:00:00:00:{n // 256:02X}:{n % 256:02X}")

    def advertising(self, address: str) -> bool:
        """Whether a device with this address is on the link and advertising (so a connection can succeed)."""
        wanted = address.upper()
        for controller in self.link.controllers:
            addresses = {str(controller.random_address).upper(), str(controller.public_address).upper()}
            if any(a.split("/")[0] == wanted for a in addresses) and controller.is_advertising:
                return True
        return False

    def client_backend(self) -> type[BaseBleakClient]:
        """A bleak client backend class bound to this radio (bleak's ``backend=`` takes a class)."""
        return type("VirtualBleakClient", (VirtualBleakClient,), {"radio": self})

    def scanner_backend(self) -> type[BaseBleakScanner]:
        """A bleak scanner backend class bound to this radio."""
        return type("VirtualBleakScanner", (VirtualBleakScanner,), {"radio": self})


class VirtualBleakScanner(BaseBleakScanner):
    """bleak's scanner on a bumble central of a ``VirtualRadio``."""

    radio: VirtualRadio

    def __init__(
        self,
        detection_callback: Any,
        service_uuids: list[str] | None,
        scanning_mode: str = "active",
        **kwargs: Any,
    ) -> None:
        super().__init__(detection_callback, service_uuids)
        self._active = scanning_mode == "active"
        self._device: Device | None = None
        self._names: dict[str, str] = {}
        self._uuids: dict[str, list[str]] = {}

    def _on_advertisement(self, advertisement: Advertisement) -> None:
        data = advertisement.data
        name = data.get(AdvertisingData.COMPLETE_LOCAL_NAME) or data.get(AdvertisingData.SHORTENED_LOCAL_NAME)
        local_name = name if isinstance(name, str) else None
        uuids: list[str] = []
        for kind in _SERVICE_UUID_TYPES:
            listed = data.get(kind)
            if isinstance(listed, list):
                uuids.extend(uuid_str(u) for u in listed if isinstance(u, UUID))
        # The name usually comes in the scan response and the services in the advertisement: as an operating
        # system does, remember what each address has said so far.
        address = str(advertisement.address).split("/")[0]
        local_name = local_name or self._names.get(address)
        uuids = uuids or self._uuids.get(address, [])
        if local_name:
            self._names[address] = local_name
        if uuids:
            self._uuids[address] = uuids
        if not self.is_allowed_uuid(uuids):
            return
        adv = AdvertisementData(
            local_name=local_name,
            manufacturer_data={},
            service_data={},
            service_uuids=uuids,
            tx_power=None,
            rssi=advertisement.rssi,
            platform_data=(),
        )
        device = self.create_or_update_device(address, address, local_name, None, adv)
        self.call_detection_callbacks(device, adv)

    async def start(self) -> None:
        self.seen_devices = {}
        self._device = self.radio.new_central()
        self._device.on("advertisement", self._on_advertisement)
        await self._device.power_on()
        await self._device.start_scanning(active=self._active, filter_duplicates=False)

    async def stop(self) -> None:
        device, self._device = self._device, None
        if device is not None:
            with contextlib.suppress(Exception):  # stopping a scan that the test's loop is tearing down
                await device.stop_scanning()
            await device.power_off()


class VirtualBleakClient(BaseBleakClient):
    """bleak's client on a bumble central of a ``VirtualRadio``: connect, discover, read, write, notify."""

    radio: VirtualRadio

    def __init__(self, address_or_ble_device: Any, **kwargs: Any) -> None:
        super().__init__(
            address_or_ble_device,
            disconnected_callback=kwargs.pop("disconnected_callback", None),
            timeout=kwargs.pop("timeout", 10.0),
        )
        self._device: Device | None = None
        self._connection: Connection | None = None
        self._peer: Peer | None = None
        self._closing = False

    @property
    def name(self) -> str:
        return self.address

    @property
    def mtu_size(self) -> int:
        if self._connection is None:
            raise BleakError("not connected")
        return int(self._connection.att_mtu)

    @property
    def is_connected(self) -> bool:
        return self._connection is not None

    async def connect(self, pair: bool = False, **kwargs: Any) -> None:
        if not self.radio.advertising(self.address):
            raise BleakDeviceNotFoundError(self.address, f"Device with address {self.address} was not found.")
        self._closing = False
        self._device = self.radio.new_central()
        await self._device.power_on()
        try:
            connection = await asyncio.wait_for(self._device.connect(self.address), self._timeout)
        except TimeoutError:
            await self._device.power_off()
            raise
        self._connection = connection
        connection.on("disconnection", self._on_disconnection)
        self._peer = Peer(connection)
        await self._peer.request_mtu(CENTRAL_MTU)
        self.services = await self._discover(self._peer)

    async def _discover(self, peer: Peer) -> BleakGATTServiceCollection:
        collection = BleakGATTServiceCollection()
        await peer.discover_services()
        for service in peer.services:
            await service.discover_characteristics()
            bleak_service = BleakGATTService(service, service.handle, uuid_str(service.uuid))
            collection.add_service(bleak_service)
            for char in service.characteristics:
                await char.discover_descriptors()
                names: list[Any] = [name for flag, name in _PROPERTY_NAMES.items() if char.properties & flag]
                bleak_char = BleakGATTCharacteristic(
                    char, char.handle, uuid_str(char.uuid), names, lambda: self.mtu_size - 3, bleak_service
                )
                collection.add_characteristic(bleak_char)
                for descriptor in char.descriptors:
                    collection.add_descriptor(
                        BleakGATTDescriptor(descriptor, descriptor.handle, uuid_str(descriptor.type), bleak_char)
                    )
        return collection

    def _on_disconnection(self, reason: int) -> None:
        self._connection = None
        self._peer = None
        if not self._closing and self._disconnected_callback is not None:
            self._disconnected_callback()
        # The central stays powered until ``disconnect``, which bleak's users call after a drop as well: powering
        # off from this callback would leave an HCI command in flight when the loop ends.

    async def disconnect(self) -> None:
        self._closing = True
        connection = self._connection
        if connection is not None:
            with contextlib.suppress(Exception):  # the peer may have gone at the same moment
                await connection.disconnect(HCI_REMOTE_USER_TERMINATED_CONNECTION_ERROR)
        self._connection = None
        device, self._device = self._device, None
        if device is not None:
            await device.power_off()

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError("the virtual radio does not pair")

    async def unpair(self) -> None:
        raise NotImplementedError("the virtual radio does not pair")

    async def read_gatt_char(self, characteristic: BleakGATTCharacteristic, **kwargs: Any) -> bytearray:
        return bytearray(await characteristic.obj.read_value())

    async def read_gatt_descriptor(self, descriptor: BleakGATTDescriptor, **kwargs: Any) -> bytearray:
        return bytearray(await descriptor.obj.read_value())

    async def write_gatt_char(self, characteristic: BleakGATTCharacteristic, data: Any, response: bool) -> None:
        await characteristic.obj.write_value(bytes(data), with_response=response)

    async def write_gatt_descriptor(self, descriptor: BleakGATTDescriptor, data: Any) -> None:
        await descriptor.obj.write_value(bytes(data))

    async def start_notify(
        self, characteristic: BleakGATTCharacteristic, callback: NotifyCallback, **kwargs: Any
    ) -> None:
        prefer_notify = "notify" in characteristic.properties
        await characteristic.obj.subscribe(lambda value: callback(bytearray(value)), prefer_notify=prefer_notify)

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        if self._connection is not None:
            await characteristic.obj.unsubscribe()
