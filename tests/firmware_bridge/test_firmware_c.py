"""The firmware's C encoder, compiled on the host: byte for byte the same frames as the Python FrameEncoder."""

from __future__ import annotations

import ctypes
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import repsense.firmware_bridge.framing as framing
from repsense.firmware_bridge.cobs import cobs_encode
from repsense.firmware_bridge.framing import FrameDecoder, FrameEncoder
from repsense.samples import SampleBlock

pytestmark = pytest.mark.integration

FIRMWARE = Path(framing.__file__).parent / "firmware"
CFLAGS = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-O2"]
COMPILER = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")


class RsConfig(ctypes.Structure):
    _fields_ = [
        ("period_us", ctypes.c_uint32),
        ("acc_scale_g", ctypes.c_float),
        ("gyro_scale_dps", ctypes.c_float),
        ("samples_per_frame", ctypes.c_uint8),
        ("sensor_id", ctypes.c_char_p),
    ]


def _compile(out: Path, *extra: str) -> None:
    assert COMPILER is not None
    result = subprocess.run(
        [COMPILER, *CFLAGS, *extra, "-I", str(FIRMWARE), "-o", str(out), str(FIRMWARE / "repsense_frame.c")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def lib(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ctypes.CDLL]:
    if COMPILER is None:
        pytest.skip("no C compiler (cc, gcc or clang) on PATH")
    path = tmp_path_factory.mktemp("firmware") / "librepsense_frame.so"
    _compile(path, "-shared", "-fPIC")
    library = ctypes.CDLL(str(path))
    library.rs_crc16.restype = ctypes.c_uint16
    library.rs_crc16.argtypes = [ctypes.c_uint16, ctypes.c_char_p, ctypes.c_size_t]
    library.rs_cobs_encode.restype = ctypes.c_size_t
    library.rs_cobs_encode.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t]
    library.rs_encode_config.restype = ctypes.c_size_t
    library.rs_encode_config.argtypes = [
        ctypes.c_void_p,
        ctypes.c_size_t,
        ctypes.c_uint16,
        ctypes.c_uint32,
        ctypes.POINTER(RsConfig),
    ]
    library.rs_encode_data.restype = ctypes.c_size_t
    library.rs_encode_data.argtypes = [
        ctypes.c_void_p,
        ctypes.c_size_t,
        ctypes.c_uint16,
        ctypes.c_uint32,
        ctypes.c_void_p,
        ctypes.c_uint8,
        ctypes.c_uint8,
    ]
    yield library


_GUARD = 64


def _call(fn: Any, cap: int, *args: object) -> bytes:
    """Calls an encoder with a buffer of ``cap`` bytes and checks it wrote nothing past them."""
    buf = ctypes.create_string_buffer(b"\xa5" * (cap + _GUARD), cap + _GUARD)
    n = fn(buf, cap, *args)
    assert buf.raw[cap:] == b"\xa5" * _GUARD, "wrote past the end of the buffer"
    return bytes(buf.raw[:n])


def c_config(lib: ctypes.CDLL, seq: int, t_us: int, encoder: FrameEncoder, cap: int = 512) -> bytes:
    cfg = encoder.config
    config = RsConfig(
        cfg.period_us,
        cfg.acc_scale_g,
        cfg.gyro_scale_dps or 0.0,
        cfg.samples_per_frame,
        cfg.sensor_id.encode(),
    )
    return _call(lib.rs_encode_config, cap, seq, t_us, ctypes.byref(config))


def c_data(lib: ctypes.CDLL, seq: int, t_us: int, samples: np.ndarray, cap: int = 4096) -> bytes:
    samples = np.ascontiguousarray(samples, dtype=np.int16)
    return _call(lib.rs_encode_data, cap, seq, t_us, samples.ctypes.data, samples.shape[0], samples.shape[1])


def test_crc_check_value(lib: ctypes.CDLL) -> None:
    assert lib.rs_crc16(0xFFFF, b"123456789", 9) == 0x29B1


@pytest.mark.parametrize(
    "raw",
    [b"", b"\x00", b"\x00\x00", b"\x11\x22\x00\x33", bytes(range(1, 255)), bytes(range(1, 256)), bytes(range(256))],
)
def test_cobs_matches_python(lib: ctypes.CDLL, raw: bytes) -> None:
    assert _call(lib.rs_cobs_encode, 600, raw, len(raw)) == cobs_encode(raw)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=800))
def test_cobs_matches_python_on_any_input(lib: ctypes.CDLL, raw: bytes) -> None:
    assert _call(lib.rs_cobs_encode, 1000, raw, len(raw)) == cobs_encode(raw)


@pytest.mark.parametrize(
    ("period_us", "acc", "gyro", "per_frame", "sensor_id"),
    [
        (5000, 1 / 4096, 1 / 32.8, 10, "esp32-mpu6050"),
        (1000, 1 / 16384, None, 255, ""),
        (2500, 1 / 2048, 1 / 16.4, 19, "x" * 32),
        (100, 0.001, 0.061, 1, "bar\u00e9"),
    ],
)
@pytest.mark.parametrize(("seq", "t_us"), [(0, 0), (65535, 0xFFFFFFFF), (0x1234, 0x00FF00FF)])
def test_config_frame_matches_python(
    lib: ctypes.CDLL,
    period_us: int,
    acc: float,
    gyro: float | None,
    per_frame: int,
    sensor_id: str,
    seq: int,
    t_us: int,
) -> None:
    encoder = FrameEncoder(period_us, acc, gyro, per_frame, sensor_id, seq=seq)
    assert c_config(lib, seq, t_us, encoder) == encoder.config_frame(t_us)


@settings(max_examples=150, deadline=None)
@given(
    n=st.integers(1, 255),
    gyro=st.booleans(),
    seq=st.integers(0, 65535),
    t_us=st.integers(0, 0xFFFFFFFF),
    seed=st.integers(0, 2**32 - 1),
    zeros=st.booleans(),
)
def test_data_frame_matches_python(
    lib: ctypes.CDLL, n: int, gyro: bool, seq: int, t_us: int, seed: int, zeros: bool
) -> None:
    rng = np.random.default_rng(seed)
    channels = 6 if gyro else 3
    samples = rng.integers(-32768, 32768, size=(n, channels))
    if zeros:  # long zero runs and long non-zero runs both stress COBS
        samples[rng.random((n, channels)) < 0.5] = 0
    encoder = FrameEncoder(5000, 1 / 4096, 1 / 32.8 if gyro else None, 255, seq=seq)
    (expected,) = encoder.data_frames(t_us, samples[:, :3], samples[:, 3:] if gyro else None)
    assert c_data(lib, seq, t_us, samples) == expected


def test_c_frames_decode_to_the_right_values(lib: ctypes.CDLL) -> None:
    rng = np.random.default_rng(7)
    encoder = FrameEncoder(5000, 1 / 4096, 1 / 32.8, 10, "esp32-mpu6050")
    samples = rng.integers(-32768, 32768, size=(50, 6))
    t0 = 0xFFFFFFFF - 100_000  # the device clock wraps during the stream
    wire = b"\x00" + c_config(lib, 0, t0, encoder)
    for k in range(5):
        wire += c_data(lib, k + 1, (t0 + 1000 + k * 50_000) & 0xFFFFFFFF, samples[10 * k : 10 * k + 10])
    decoder = FrameDecoder()
    block = SampleBlock.concat(decoder.feed(wire))
    assert decoder.stats.frames_ok == 6
    assert decoder.config is not None and decoder.config.sensor_id == "esp32-mpu6050"
    np.testing.assert_array_equal(block.acc_g, samples[:, :3] * np.float32(1 / 4096))
    assert block.gyro_dps is not None
    np.testing.assert_array_equal(block.gyro_dps, samples[:, 3:] * np.float32(1 / 32.8))
    np.testing.assert_allclose(block.t_s, 0.001 + 0.005 * np.arange(50), atol=1e-9)


def test_too_small_buffers_and_bad_arguments_give_zero(lib: ctypes.CDLL) -> None:
    samples = np.full((19, 6), -1, dtype=np.int16)  # no zero bytes: the longest encoding
    full = c_data(lib, 1, 2, samples)
    for cap in range(len(full)):
        assert c_data(lib, 1, 2, samples, cap=cap) == b""
    assert c_data(lib, 1, 2, samples, cap=len(full)) == full
    assert c_data(lib, 1, 2, np.zeros((1, 4))) == b""  # 4 channels
    assert lib.rs_encode_data(ctypes.create_string_buffer(64), 64, 0, 0, samples.ctypes.data, 0, 6) == 0
    too_long = RsConfig(5000, 1 / 4096, 0.0, 10, b"x" * 33)
    assert _call(lib.rs_encode_config, 512, 0, 0, ctypes.byref(too_long)) == b""
    ok = FrameEncoder(5000, 1 / 4096, None, 10, "abc")
    needed = len(c_config(lib, 0, 0, ok))
    assert c_config(lib, 0, 0, ok, cap=needed - 1) == b""


def test_header_size_macros_cover_the_worst_case(tmp_path: Path) -> None:
    if COMPILER is None:
        pytest.skip("no C compiler (cc, gcc or clang) on PATH")
    program = tmp_path / "sizes.c"
    program.write_text(
        '#include <stdio.h>\n#include "repsense_frame.h"\n'
        'int main(void) { printf("%u %u %u\\n", (unsigned)RS_DATA_FRAME_MAX(10u, 6u),'
        " (unsigned)RS_DATA_FRAME_MAX(255u, 6u), (unsigned)(RS_CONFIG_FRAME_MAX)); return 0; }\n"
    )
    exe = tmp_path / "sizes"
    result = subprocess.run(
        [COMPILER, *CFLAGS, "-I", str(FIRMWARE), "-o", str(exe), str(program), str(FIRMWARE / "repsense_frame.c")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    ten, most, config = (
        int(v) for v in subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout.split()
    )
    worst = np.full((255, 3), -1)
    assert ten == 134
    assert most >= len(FrameEncoder(5000, 1 / 4096, 1 / 32.8, 255).data_frames(0, worst, worst)[0])
    assert config >= len(FrameEncoder(5000, 1 / 4096, 1 / 32.8, 255, "\xff" * 16).config_frame(0xFFFFFFFF))


_SANITIZER_DRIVER = r"""
#include <stdio.h>
#include <stdlib.h>
#include "repsense_frame.h"
/* Every buffer is malloc'ed at exactly cap bytes, so AddressSanitizer sees any write past it. */
int main(void) {
    int16_t s[255 * 6];
    uint8_t in[600];
    rs_config_t cfg = {5000, 1.0f / 4096.0f, 1.0f / 32.8f, 10, "abcdefghijabcdefghijabcdefghijab"};
    size_t cap;
    int i, n, ch;
    for (i = 0; i < 255 * 6; i++) s[i] = (int16_t)(i % 3 == 0 ? 0 : -1 - i);
    for (i = 0; i < 600; i++) in[i] = (uint8_t)i;
    for (n = 1; n <= 255; n += 17)
        for (ch = 3; ch <= 6; ch += 3)
            for (cap = 0; cap < 3200; cap += (cap < 300 ? 1 : 37)) {
                uint8_t *buf = malloc(cap ? cap : 1);
                if (rs_encode_data(buf, cap, 1, 2, s, (uint8_t)n, (uint8_t)ch) > cap) return 1;
                free(buf);
            }
    for (cap = 0; cap < 80; cap++) {
        uint8_t *buf = malloc(cap ? cap : 1);
        if (rs_encode_config(buf, cap, 0, 0, &cfg) > cap) return 1;
        free(buf);
    }
    for (cap = 0; cap < 620; cap++) {
        uint8_t *buf = malloc(cap ? cap : 1);
        if (rs_cobs_encode(buf, cap, in, 600) > cap) return 1;
        free(buf);
    }
    puts("ok");
    return 0;
}
"""


def test_no_write_past_any_buffer_under_sanitizers(tmp_path: Path) -> None:
    if COMPILER is None:
        pytest.skip("no C compiler (cc, gcc or clang) on PATH")
    driver = tmp_path / "driver.c"
    driver.write_text(_SANITIZER_DRIVER)
    exe = tmp_path / "driver"
    sanitize = ["-g", "-fsanitize=address,undefined", "-fno-sanitize-recover=all"]
    built = subprocess.run(
        [
            COMPILER,
            *CFLAGS,
            *sanitize,
            "-I",
            str(FIRMWARE),
            "-o",
            str(exe),
            str(driver),
            str(FIRMWARE / "repsense_frame.c"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if built.returncode != 0:
        pytest.skip(f"this compiler cannot build with sanitizers: {built.stderr.strip()[:200]}")
    run = subprocess.run([str(exe)], capture_output=True, text=True, check=False, timeout=120)
    assert (run.returncode, run.stdout.strip()) == (0, "ok"), run.stderr
