"""BLE over a real ATT/GATT exchange: bleak, through our backend, talking to bumble peripherals in this process.

Each test builds a ``VirtualRadio`` (bumble's virtual link), puts emulated sensors on it and runs the application's
own code (``scan``, ``BleLink``, ``LiveSession``) against them. Sensors play the bundled recordings faster than real
time (``SPEED``); the link is told so, as with the serial emulator.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from repsense.core.cli import main
from repsense.core.live import EndReason, LiveSession
from repsense.core.liveview import QuietLiveView
from repsense.core.session import SetSession, replay
from repsense.core.setcontrol import SetConfig
from repsense.errors import LinkError
from repsense.events import Exercise, Placement
from repsense.firmware_bridge import ble
from repsense.firmware_bridge.ble import BleLink, find, scan
from repsense.firmware_bridge.ble_emulator import SensorPeripheral
from repsense.firmware_bridge.ble_virtual import VirtualRadio
from repsense.firmware_bridge.links import LinkEvent, LinkEventKind
from repsense.firmware_bridge.profiles import metamotion, polar_pmd, witmotion
from repsense.firmware_bridge.recording import read_recording
from repsense.firmware_bridge.streams import WireFormat
from repsense.samples import SampleBlock

pytestmark = [pytest.mark.integration, pytest.mark.ble]

ROOT = Path(__file__).resolve().parents[2]
SQUAT = ROOT / "sample_recordings" / "squat_amrap_walkout_100hz.csv"
SPEED = 8.0
PROFILES = ["witmotion", "polar", "metamotion", "nus"]
#: Sensors without timestamps are timed by arrival; played 8x fast, the event loop's jitter is magnified 8x.
MCV_TOLERANCE = {"witmotion": 0.05, "metamotion": 0.05, "polar": 0.01, "nus": 0.01}
#: Arrival-timed sensors play at 4x, not 8x: the event loop's jitter, magnified by the speed, moved MCVs by up
#: to 0.03 m/s at 8x, enough to move a velocity-loss stop that sits near 20 % by a rep. A MetaMotion also sends
#: one sample per notification, 800 a second at 8x through bumble's Python stack on the pipeline's event loop.
SET_SPEED = {"metamotion": 4.0, "witmotion": 4.0}
#: The profiles whose samples carry no timestamps.
ARRIVAL_TIMED = {"metamotion", "witmotion"}


@pytest.fixture(scope="module")
def squat() -> SampleBlock:
    return read_recording(SQUAT).samples


def squat_session(source: str = "") -> SetSession:
    return SetSession(Exercise.SQUAT, Placement.BAR, SetConfig.for_lift(Exercise.SQUAT), source=source)


def link_for(radio: VirtualRadio, target: str, **kwargs: object) -> BleLink:
    return BleLink(
        target,
        time_scale=kwargs.pop("time_scale", SPEED),  # type: ignore[arg-type]
        client_backend=radio.client_backend(),
        scanner_backend=radio.scanner_backend(),
        scan_timeout_s=kwargs.pop("scan_timeout_s", 3.0),  # type: ignore[arg-type]
        **kwargs,  # type: ignore[arg-type]
    )


async def live_set(link: BleLink, record: Path | None, give_up_s: float = 3.0) -> LiveSession:
    live = LiveSession(
        link,
        squat_session("ble"),
        QuietLiveView(Console(stderr=True, quiet=True)),
        record=record,
        give_up_s=give_up_s,
        handle_signals=False,
    )
    await asyncio.wait_for(live.run(), 60)
    return live


def test_scan_lists_and_recognises_each_profile(squat: SampleBlock) -> None:
    async def run() -> list[ble.Sighting]:
        radio = VirtualRadio()
        sensors = [SensorPeripheral(radio, name, squat) for name in PROFILES]
        stranger = radio.new_device("Kitchen scale", "C0:FF:EE:00:00:99")
        for sensor in sensors:
            await sensor.start()
        await stranger.power_on()
        await stranger.start_advertising(advertising_interval_min=20, advertising_interval_max=20)
        try:
            return await scan(0.5, backend=radio.scanner_backend())
        finally:
            for sensor in sensors:
                await sensor.close()

    sightings = asyncio.run(run())
    by_name = {s.name: s for s in sightings}
    assert by_name["WT901BLE68"].profile is not None and by_name["WT901BLE68"].profile.name == "witmotion"
    assert by_name["Polar H10 A1B2C3D4"].profile.name == "polar"  # type: ignore[union-attr]
    assert by_name["MetaWear"].profile.name == "metamotion"  # type: ignore[union-attr]
    assert by_name["repsense-ESP32"].profile.name == "nus"  # type: ignore[union-attr]
    assert len(sightings) == 5
    assert sightings[-1].profile is None  # the device that is not a sensor comes last
    assert all(s.rssi is not None for s in sightings)


@pytest.mark.slow
@pytest.mark.parametrize("profile", PROFILES)
def test_a_whole_set_over_ble_gives_the_reps_of_a_replay(profile: str, squat: SampleBlock, tmp_path: Path) -> None:
    record = tmp_path / f"{profile}.csv"

    async def run() -> tuple[LiveSession, SensorPeripheral]:
        radio = VirtualRadio()
        speed = SET_SPEED.get(profile, SPEED)
        sensor = SensorPeripheral(radio, profile, squat, speed=speed)
        await sensor.start()
        try:
            return await live_set(link_for(radio, sensor.name, time_scale=speed), record), sensor
        finally:
            await sensor.close()

    live, sensor = asyncio.run(run())
    result = live.outcome.result
    assert live.outcome.ended_by is EndReason.SET_ENDED
    # The live path and a replay of what it recorded are one code path: identical to the bit.
    again = replay(read_recording(record).samples, squat_session("ble"))
    assert again.to_json()["reps"] == result.to_json()["reps"]
    assert again.stop == result.stop
    # And the set itself is the set in the file: same reps up to the stop, same stop, velocities close.
    reference = replay(squat, squat_session())
    assert reference.stop is not None and result.stop is not None
    assert reference.stop.rep == 6
    assert result.stop.rep == len(result.reps)
    assert result.stop.reason == reference.stop.reason
    if profile in ARRIVAL_TIMED:
        # Rep 6 sits at 20 % velocity loss: on a busy host the jitter can move the stop by a rep, never more.
        assert abs(result.stop.rep - reference.stop.rep) <= 1
    else:
        assert result.stop.rep == reference.stop.rep
    mcv = np.array([r.mean_velocity_m_s for r in result.reps])
    ref = np.array([r.mean_velocity_m_s for r in reference.reps[: len(mcv)]])
    assert np.max(np.abs(mcv - ref)) < MCV_TOLERANCE[profile]
    assert sensor.stats.connections == 1
    assert live.link.health().reconnects == 0  # type: ignore[attr-defined]
    # WitMotion and MetaMotion carry the recording's gyroscope; Polar has none; NUS frames carry it.
    assert (read_recording(record).samples.gyro_dps is not None) == (profile != "polar")


@pytest.mark.slow
@pytest.mark.parametrize("profile", ["nus", "witmotion"])
def test_a_dropped_link_reconnects_and_the_set_goes_on(profile: str, squat: SampleBlock, tmp_path: Path) -> None:
    record = tmp_path / "dropped.csv"
    events: list[LinkEvent] = []

    async def run() -> tuple[LiveSession, SensorPeripheral]:
        radio = VirtualRadio()
        # WitMotion is timed by arrival: at 4x, not 8x, so a loaded CI machine's jitter stays small.
        speed = SPEED if profile == "nus" else 4.0
        sensor = SensorPeripheral(radio, profile, squat, speed=speed, disconnect_at_s=15.0, disconnect_for_s=2.0)
        await sensor.start()
        link = link_for(radio, sensor.name, time_scale=speed)
        live = LiveSession(
            link,
            squat_session("ble"),
            QuietLiveView(Console(stderr=True, quiet=True)),
            record=record,
            give_up_s=3.0,
            handle_signals=False,
        )
        original = live.display.link
        live.display.link = lambda event: (events.append(event), original(event))  # type: ignore[method-assign]
        try:
            await asyncio.wait_for(live.run(), 60)
        finally:
            await sensor.close()
        return live, sensor

    live, sensor = asyncio.run(run())
    kinds = [e.kind for e in events]
    assert kinds == [LinkEventKind.CONNECTED, LinkEventKind.LOST, LinkEventKind.RESUMED]
    lost, resumed = events[1].t_s, events[2].t_s
    assert 14.5 < lost < 16.5 and resumed - lost >= 2.0 - 0.3
    assert sensor.stats.connections == 2 and sensor.stats.disconnects == 1
    recording = read_recording(record)
    t = recording.samples.t_s
    assert np.all(np.diff(t) > 0)  # never a duplicated sample
    assert any(note.startswith("gap: link lost") for _, note in recording.annotations)
    assert any(note.startswith("link resumed") for _, note in recording.annotations)
    # Samples stop at the drop and start again after it; the set carried on past the outage.
    hole = np.diff(t).max()
    assert hole > 1.5
    result = live.outcome.result
    assert live.outcome.ended_by is EndReason.SET_ENDED
    assert any(r.t_start_s > resumed for r in result.reps), (
        resumed,
        result.to_json()["reps"],
        result.stop,
        result.failed,
    )
    assert len(result.reps) >= 4


@pytest.mark.slow
def test_a_sensor_gone_for_good_ends_the_set_and_keeps_the_recording(squat: SampleBlock, tmp_path: Path) -> None:
    record = tmp_path / "gone.csv"

    async def run() -> LiveSession:
        radio = VirtualRadio()
        sensor = SensorPeripheral(radio, "polar", squat, speed=SPEED, disconnect_at_s=14.0, disconnect_for_s=600.0)
        await sensor.start()
        try:
            return await live_set(link_for(radio, sensor.name), record, give_up_s=1.5)
        finally:
            await sensor.close()

    live = asyncio.run(run())
    assert live.outcome.ended_by is EndReason.GAVE_UP
    recording = read_recording(record)
    # Everything up to the drop at 14 s, less what was still in flight (on a busy host, up to a second or two).
    received = len(recording.samples)
    assert 11.0 < recording.samples.t_s[-1] - recording.samples.t_s[0] < 15.0
    assert np.allclose(recording.samples.acc_g, squat.slice(0, received).acc_g, atol=1e-3)  # Polar sends mg
    assert any(note.startswith("gap: link lost") for _, note in recording.annotations)
    again = replay(recording.samples, squat_session("ble"))
    assert again.to_json()["reps"] == live.outcome.result.to_json()["reps"]
    # The reps of the file up to where the link dropped: 1 or 2 (the second rep is known at 13.4 s).
    assert len(again.reps) == len(replay(squat.slice(0, received), squat_session()).reps) >= 1


@pytest.mark.parametrize(
    ("profile", "notify_bytes", "wire"),
    [("witmotion", 50, WireFormat.FRAME), ("nus", 20, WireFormat.CSV), ("nus", 20, WireFormat.FRAME)],
)
def test_packets_spanning_notifications_are_reassembled(
    profile: str, notify_bytes: int, wire: WireFormat, squat: SampleBlock
) -> None:
    """WitMotion packets of 20 bytes in notifications of 50, CSV lines and frames cut at 20 bytes (MTU 23)."""
    first = squat.slice(0, 600)
    received: list[SampleBlock] = []
    stats: dict[str, int] = {}

    async def run() -> None:
        radio = VirtualRadio()
        sensor = SensorPeripheral(radio, profile, first, speed=SPEED, notify_bytes=notify_bytes, nus_format=wire)
        await sensor.start()
        link = link_for(radio, sensor.name)
        gen = link.blocks()
        total = 0
        try:
            async for item in gen:
                if isinstance(item, SampleBlock):
                    received.append(item)
                    total += len(item)
                if total >= len(first) - 1 or (sensor.finished.is_set() and total >= len(first) - 20):
                    break
        finally:
            await gen.aclose()
            stats["notifications"] = sensor.stats.notifications
            stats["bytes"] = sensor.stats.bytes_sent
            stats["bad"] = link.health().bad
            await sensor.close()

    asyncio.run(asyncio.wait_for(run(), 30))
    got = SampleBlock.concat(received)
    assert stats["bad"] == 0
    assert stats["bytes"] / stats["notifications"] <= notify_bytes
    sent = sensor_samples(profile, first)
    n = len(got)
    assert n >= len(first) - 20
    resolution = 16 / 32768 if profile == "witmotion" else 1e-4
    assert np.max(np.abs(got.acc_g - sent.acc_g[:n])) <= resolution
    assert np.all(np.diff(got.t_s) > 0)


def sensor_samples(profile: str, samples: SampleBlock) -> SampleBlock:
    from repsense.firmware_bridge.ble_emulator import _UNSTAMPED, _uniform

    return _uniform(samples) if profile in _UNSTAMPED else samples


@pytest.mark.parametrize("profile", ["witmotion", "polar", "metamotion"])
def test_each_profile_is_started_with_its_own_commands(profile: str, squat: SampleBlock) -> None:
    async def run() -> list[bytes]:
        radio = VirtualRadio()
        sensor = SensorPeripheral(radio, profile, squat.slice(0, 300), speed=SPEED)
        await sensor.start()
        gen = link_for(radio, sensor.name).blocks()
        try:
            async for item in gen:
                if isinstance(item, SampleBlock):
                    break
        finally:
            await gen.aclose()
            await sensor.close()
        return sensor.stats.commands

    commands = asyncio.run(asyncio.wait_for(run(), 30))
    if profile == "witmotion":
        assert commands[:2] == [witmotion.unlock_command(), witmotion.rate_command(100)]  # unlock first
    elif profile == "polar":
        assert commands[0] == polar_pmd.get_settings_command()
        assert commands[1] == polar_pmd.start_acc_command(100, 16, 8)  # 100 Hz offered and chosen
        assert commands[-1] == polar_pmd.stop_command()  # stopped when the link closed
    else:
        assert commands[:4] == metamotion.start_gyro_commands(2000, 100)  # gyroscope first, then accelerometer
        assert commands[4:8] == metamotion.start_acc_commands(8, 100)
        assert commands[-6:] == metamotion.stop_acc_commands() + metamotion.stop_gyro_commands()


def test_an_absent_sensor_fails_fast_with_a_clear_message(squat: SampleBlock) -> None:
    async def run() -> tuple[str, float]:
        radio = VirtualRadio()
        sensor = SensorPeripheral(radio, "witmotion", squat)
        await sensor.start()
        start = time.monotonic()
        try:
            await find("WT901-not-here", 0.5, backend=radio.scanner_backend())
        except LinkError as exc:
            return str(exc), time.monotonic() - start
        finally:
            await sensor.close()
        raise AssertionError("found a sensor that is not there")

    message, took = asyncio.run(run())
    assert "no BLE sensor named 'WT901-not-here'" in message and "repsense scan" in message
    assert took < 3.0


def test_connecting_to_an_address_nobody_advertises_fails_at_once() -> None:
    async def run() -> str:
        radio = VirtualRadio()
        link = link_for(radio, "C0:FF:EE:00:00:42", scan_timeout_s=0.3)
        link.profile = ble.profile_named("witmotion")
        from bleak.backends.device import BLEDevice

        try:
            await asyncio.wait_for(link._open(BLEDevice("C0:FF:EE:00:00:42", None, None)), 5)
        except LinkError as exc:
            return str(exc)
        raise AssertionError("connected to nobody")

    assert "not there" in asyncio.run(run())


def test_no_bluetooth_stack_is_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """bleak's BlueZ backend raises a bare FileNotFoundError without a system D-Bus (as on this machine)."""

    async def no_dbus(*args: object, **kwargs: object) -> object:
        raise FileNotFoundError(2, "No such file or directory")

    monkeypatch.setattr(ble.BleakScanner, "discover", no_dbus)
    assert main(["scan", "--timeout", "0.1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no Bluetooth stack" in err[0] and "D-Bus" in err[0]


@pytest.mark.slow
def test_cli_live_over_ble_with_a_virtual_sensor(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    record = tmp_path / "live.csv"
    argv = ["live", "--ble", "Polar H10 A1B2C3D4", "--virtual-sensor", str(SQUAT), "--profile", "polar"]
    argv += ["--exercise", "squat", "--speed", "8", "--give-up", "3", "--json", "--record", str(record)]
    assert main(argv) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["summary"]["reps_at_stop"] == 6
    assert read_recording(record).metadata["sensor"] == "live on BLE Polar H10 A1B2C3D4"


def test_cli_scan_with_a_virtual_sensor(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", "--timeout", "0.5", "--virtual-sensor", str(SQUAT), "--profile", "metamotion"]) == 0
    out = capsys.readouterr().out
    assert "MetaWear" in out and "MbientLab MetaMotion" in out


def test_cli_live_names_a_missing_sensor(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["live", "--ble", "nobody", "--virtual-sensor", str(SQUAT), "--profile", "nus", "--scan-timeout", "0.3"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no BLE sensor named 'nobody'" in err[0]


def test_cli_live_needs_exactly_one_sensor(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["live", "--exercise", "squat"]) == 2
    assert "--port PATH (serial) or --ble NAME|ADDRESS" in capsys.readouterr().err


def test_a_metamotion_without_a_gyroscope_streams_its_accelerometer() -> None:
    nogyro = read_recording(ROOT / "sample_recordings" / "bench_touch_and_go_50hz_nogyro.csv").samples.slice(0, 400)

    async def run() -> tuple[list[SampleBlock], str]:
        radio = VirtualRadio()
        sensor = SensorPeripheral(radio, "metamotion", nogyro, speed=SPEED)
        await sensor.start()
        link = link_for(radio, sensor.name)
        blocks: list[SampleBlock] = []
        gen = link.blocks()
        try:
            async for item in gen:
                if isinstance(item, SampleBlock):
                    blocks.append(item)
                    if sum(len(b) for b in blocks) >= 200:
                        break
            return blocks, link.health().wire_format
        finally:
            await gen.aclose()
            await sensor.close()

    blocks, described = asyncio.run(asyncio.wait_for(run(), 30))
    got = SampleBlock.concat(blocks)
    assert got.gyro_dps is None and "no gyroscope" in described
    sent = sensor_samples("metamotion", nogyro)
    np.testing.assert_allclose(got.acc_g, sent.acc_g[: len(got)], atol=1 / 4096)


@pytest.mark.slow
def test_live_keeps_a_recording_of_every_set_unless_told_not_to(capsys: pytest.CaptureFixture[str]) -> None:
    from repsense.core.history import History

    folder = Path(os.environ["XDG_DATA_HOME"]) / "repsense" / "recordings"
    argv = ["live", "--ble", "MetaWear", "--virtual-sensor", str(SQUAT), "--profile", "metamotion"]
    argv += ["--exercise", "squat", "--speed", "4", "--give-up", "2", "--json"]
    assert main(argv) == 0
    (recording,) = folder.glob("*_squat.csv")
    assert len(read_recording(recording).samples) > 2000
    with History(Path(os.environ["REPSENSE_DB"])) as history:
        assert history.sets()[0].recording_path == str(recording.resolve())
    assert main([*argv, "--no-record", "--no-save"]) == 0
    assert len(list(folder.glob("*.csv"))) == 1
    capsys.readouterr()
