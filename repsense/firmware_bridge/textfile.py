"""Reading a text file from disk: its bytes, and its text when a copy or an app was interrupted mid-write.

Shared by the v1 recording reader (``recording.py``) and the vendor-file readers (``vendor_common.py``), so that
every file a user gives repsense gets the same answer to the same problem.
"""

from __future__ import annotations

import os

from repsense.errors import RecordingError

#: What ``bytes.decode`` says when the data ends inside a multi-byte character (UTF-8, then GB18030).
_CUT_REASONS = ("unexpected end of data", "incomplete multibyte sequence")


def read_file_bytes(path: str | os.PathLike[str], limit: int | None = None, what: str = "file") -> bytes:
    """A file's bytes (the first ``limit`` of them), or a ``RecordingError`` saying in one line why not."""
    source = os.fspath(path)
    try:
        with open(path, "rb") as f:
            return f.read() if limit is None else f.read(limit)
    except FileNotFoundError as exc:
        raise RecordingError(f"{source}: no such file") from exc
    except IsADirectoryError as exc:
        raise RecordingError(f"{source}: is a directory, not a {what}") from exc
    except PermissionError as exc:
        raise RecordingError(f"{source}: permission denied") from exc
    except OSError as exc:
        raise RecordingError(f"{source}: cannot read the file ({exc.strerror or exc})") from exc


def decode_text(data: bytes, source: str, *, what: str = "text file", fallback: str | None = None) -> tuple[str, bool]:
    """``data`` as text, and whether an unterminated last line cut inside a character was dropped.

    UTF-8, or ``fallback`` when the bytes are not UTF-8. A write cut short can end inside a multi-byte character;
    that last line is incomplete anyway, so it is dropped and the flag is True. UTF-16 (by its byte order mark or
    its NUL bytes), binary data and any other undecodable byte raise ``RecordingError`` naming the file and what
    to do. ``what`` names the kind of file in messages.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or _looks_utf16(data):
        raise RecordingError(f"{source}: saved as UTF-16; save it as UTF-8")
    if b"\x00" in data:
        raise RecordingError(f"{source}: binary data (NUL bytes), not a {what}")
    first: UnicodeDecodeError | None = None
    for encoding in ("utf-8", fallback):
        if encoding is None:
            continue
        try:
            return data.decode(encoding), False
        except UnicodeDecodeError as exc:
            last_newline = data.rfind(b"\n")
            if exc.reason in _CUT_REASONS and exc.start > last_newline:
                # Everything before the error decoded, and it ends at a line end.
                return data[: last_newline + 1].decode(encoding), True
            first = first or exc
    assert first is not None
    line = data.count(b"\n", 0, first.start) + 1
    raise RecordingError(
        f"{source}: not UTF-8 (byte 0x{data[first.start]:02x} at line {line}); save it as UTF-8"
    ) from first


def _looks_utf16(data: bytes) -> bool:
    """True for UTF-16 without a byte order mark: text whose every other byte is NUL (ASCII in UTF-16)."""
    head = data[:512]
    head = head[: len(head) // 2 * 2]
    if len(head) < 8:
        return False
    even, odd = head[0::2], head[1::2]
    return (odd.count(0) * 2 >= len(odd) and 0 not in even) or (even.count(0) * 2 >= len(even) and 0 not in odd)
