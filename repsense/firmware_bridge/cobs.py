"""Consistent Overhead Byte Stuffing (COBS) and the CRC used by our serial frames.

COBS (Cheshire and Baker, 1999) rewrites a byte string so that it contains no 0x00, at a cost of one byte per
254 bytes plus one. A 0x00 can then mark the end of each frame on the wire, and a receiver that joins mid-stream
or loses bytes finds the next frame boundary by waiting for the next 0x00.

Encoding is the canonical one from the Wikipedia article's reference code: a run of 254 non-zero bytes at the very
end is not followed by an extra ``01`` code. ``repsense_frame.c`` produces the same bytes, and the tests check it.
"""

from __future__ import annotations

import binascii

#: Largest block a single COBS code byte can describe.
_MAX_RUN = 254

#: The frame delimiter on the wire.
DELIMITER = b"\x00"


class CobsDecodeError(ValueError):
    """A segment is not valid COBS (a zero byte inside it, or a code byte pointing past its end)."""


def cobs_encode(data: bytes) -> bytes:
    """COBS-encode ``data``. The result holds no 0x00 and has no delimiter appended."""
    out = bytearray()
    pieces = bytes(data).split(b"\x00")
    last = len(pieces) - 1
    for index, piece in enumerate(pieces):
        length = len(piece)
        start = 0
        # Full blocks of 254 bytes carry code 0xFF, which means "no zero follows".
        while length - start >= _MAX_RUN:
            out.append(0xFF)
            out += piece[start : start + _MAX_RUN]
            start += _MAX_RUN
        rest = length - start
        # The last piece ends the data: a trailing full block needs no empty block after it.
        if index == last and length > 0 and rest == 0:
            break
        out.append(rest + 1)
        out += piece[start:]
    return bytes(out)


def cobs_decode(data: bytes) -> bytes:
    """Decode one COBS segment (without its delimiter). Raises ``CobsDecodeError`` when it is not valid COBS."""
    out = bytearray()
    n = len(data)
    i = 0
    while i < n:
        code = data[i]
        if code == 0:
            raise CobsDecodeError(f"zero byte at offset {i} inside a COBS segment")
        end = i + code
        if end > n:
            raise CobsDecodeError(f"code byte at offset {i} runs {end - n} bytes past the segment")
        out += data[i + 1 : end]
        i = end
        if code != 0xFF and i < n:
            out.append(0)
    return bytes(out)


def cobs_max_encoded_len(n: int) -> int:
    """The most bytes ``cobs_encode`` can produce from ``n`` bytes (delimiter not included)."""
    return n + n // _MAX_RUN + 1


def crc16_ccitt_false(data: bytes, crc: int = 0xFFFF) -> int:
    """CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, no reflection, no final xor. ``b"123456789"`` gives 0x29B1."""
    return binascii.crc_hqx(data, crc)
