"""Open any recording a user may have: a repsense v1 recording, or a vendor app's export, as one ``Recording``.

``load_any`` is what ``repsense replay`` and ``repsense import`` call. It recognises a file by its first lines, not
by its name or extension:

- repsense v1 recordings (``recording.py``);
- MbientLab MetaMotion / MetaBase CSV, accelerometer and gyroscope in two files (``vendor_metamotion.py``);
- Polar Sensor Logger ACC / GYRO files (``vendor_polar.py``);
- WitMotion app and PC-software exports (``vendor_witmotion.py``).

A vendor file's times become seconds from its first accelerometer sample; its wall-clock start goes into the
``start_time`` metadata. What the reader had to do to the data (duplicate rows dropped, no gyroscope partner found,
...) is kept as one line of text in the ``import_notes`` metadata. ``docs/vendor-files.md`` describes all of it
for users.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from repsense.errors import RecordingError, RepsenseError
from repsense.firmware_bridge import vendor_metamotion, vendor_polar, vendor_witmotion
from repsense.firmware_bridge.plausible import FILE_REMEDY, acceleration_doubt
from repsense.firmware_bridge.recording import (
    FORMAT_KEY,
    REQUIRED_COLUMNS,
    Recording,
    RecordingWriter,
    read_recording,
)
from repsense.firmware_bridge.textfile import read_file_bytes
from repsense.firmware_bridge.vendor_common import decode_text

REPSENSE = "repsense"
METAMOTION = vendor_metamotion.FORMAT
POLAR = vendor_polar.FORMAT
WITMOTION = vendor_witmotion.FORMAT

#: Bytes read to recognise a file.
_HEAD_BYTES = 64 * 1024

#: A line that starts with a number: data, not a header.
_NUMBER_CELL = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*(?:[,;\t ]|$)")

#: The file name ends that name one sensor of a pair; an imported recording is named without them.
_SENSOR_SUFFIX = re.compile(r"_(?:Accelerometer|ACC)(?:_.*)?$")
#: Only the sensor and its rate, leaving the app version: the name when two sets would share the shorter one.
_SENSOR_WORDS = re.compile(r"_(?:Accelerometer|ACC)(?:_[\d.]+Hz)?(?=_|$)")


def check_acceleration_unit(acc_g: np.ndarray, source: str, gyro_dps: np.ndarray | None = None) -> None:
    """Refuse acceleration that is evidently not in g, most often m/s^2 (9.81 at rest), which would otherwise be
    counted as a bar moving at 14 m/s through 20 m. The file formats allow any value up to 64 g; a lift does not.
    The checks are ``plausible``'s, which live runs on its first seconds."""
    doubt = acceleration_doubt(acc_g, gyro_dps)
    if doubt is not None:
        raise RecordingError(f"{source}: {doubt.text}; {FILE_REMEDY[doubt.kind]}")


def detect_format(path: str | os.PathLike[str]) -> str | None:
    """``"repsense"``, ``"metamotion"``, ``"polar"``, ``"witmotion"``, or None for a file none of them wrote.

    Raises ``RecordingError`` when the file cannot be read at all (missing, a folder, binary).
    """
    lines = _head_lines(Path(path))
    first = next((line.strip() for line in lines if line.strip()), "")
    if first.lower().replace(" ", "").startswith(f"#{FORMAT_KEY}:"):
        return REPSENSE
    header = next((line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")), "")
    cells = {cell.strip().lower() for cell in header.split(",")}
    if {"t", "ax"} <= cells:
        return REPSENSE
    if vendor_metamotion.looks_like(first):
        return METAMOTION
    if vendor_polar.looks_like(first):
        return POLAR
    if vendor_witmotion.header_index(lines) is not None:
        return WITMOTION
    if cells & set(REQUIRED_COLUMNS):
        # A header naming some of v1's columns ('time,ax,ay,az') is a v1 recording with a column missing or
        # misnamed: the v1 reader says which.
        return REPSENSE
    return None


def load_any(path: str | os.PathLike[str]) -> Recording:
    """Read a repsense recording or a vendor export. Every problem raises ``RecordingError`` naming the file, and
    so does acceleration that is evidently not in g."""
    p = Path(path)
    readers = {
        REPSENSE: read_recording,
        METAMOTION: vendor_metamotion.load,
        POLAR: vendor_polar.load,
        WITMOTION: vendor_witmotion.load,
    }
    fmt = detect_format(p)
    if fmt in readers:
        recording = readers[fmt](p)
        check_acceleration_unit(recording.samples.acc_g, str(p), recording.samples.gyro_dps)
        return recording
    first = next((line.strip() for line in _head_lines(p) if line.strip()), "")
    shown = repr(first if len(first) <= 60 else first[:60] + "...") if first else "the file is empty"
    if _NUMBER_CELL.match(first):
        # Numbers with no column names above them (as some apps and datasets write): nothing says which column
        # is time or acceleration, in which units.
        shown = f"no header, the first line is data: {shown}"
    raise RecordingError(
        f"{p}: unrecognised file format ({shown}); repsense reads its own v1 recordings (a header 't,ax,ay,az', "
        f"t in seconds), MetaMotion/MetaBase CSV, Polar Sensor Logger and WitMotion exports"
    )


def _head_lines(path: Path) -> list[str]:
    source = str(path)
    data = read_file_bytes(path, _HEAD_BYTES)
    if len(data) == _HEAD_BYTES and b"\n" in data:
        data = data[: data.rfind(b"\n") + 1]  # never cut a character in two
    try:
        return decode_text(data, source)[0].split("\n")
    except RecordingError as not_utf8:
        # Only a WitMotion export may be GBK; any other file that is not UTF-8 keeps the UTF-8 error.
        lines = decode_text(data, source, fallback=vendor_witmotion.GBK)[0].split("\n")
        if vendor_witmotion.header_index(lines) is None:
            raise not_utf8 from None
        return lines


# --- import --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportResult:
    """What became of one input file: written to ``out``, skipped (already imported with its pair), or failed."""

    source: Path
    out: Path | None = None
    recording: Recording | None = None
    error: RepsenseError | None = None
    duplicate_of: Path | None = None


def import_files(paths: Iterable[str | os.PathLike[str]], out_dir: str | os.PathLike[str]) -> list[Path]:
    """Convert each file to a v1 recording in ``out_dir``; return the files written. Stops at the first error.

    The two files of a MetaMotion or Polar pair make one recording, written once however many of them are given.
    Names are as ``iter_import`` gives them; a recording of the same name already in ``out_dir`` is replaced.
    """
    written = []
    for result in iter_import(paths, out_dir):
        if result.error is not None:
            raise result.error
        if result.out is not None:
            written.append(result.out)
    return written


def iter_import(paths: Iterable[str | os.PathLike[str]], out_dir: str | os.PathLike[str]) -> Iterator[ImportResult]:
    """``import_files`` one file at a time, reporting errors instead of raising them (for the CLI).

    Every file is read before any is written, so that each set's name depends on which sets are imported
    together, never on their order: a set is named after its input without the sensor part
    (``<name>_MetaWear_<start>_<MAC>.csv``); when two sets of one run would share that name, each keeps the rest of
    its input's name, such as the app version (``..._1.4.4.csv`` and ``..._1.4.41.csv``); sets whose names still
    collide are all refused with an error naming the other input.
    """
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RecordingError(f"{out}: cannot create the output folder ({exc.strerror or exc})") from exc
    sources = [Path(raw) for raw in paths]
    loaded: list[Recording | RepsenseError] = []
    for source in sources:
        try:
            loaded.append(load_any(source))
        except RepsenseError as exc:
            loaded.append(exc)
    first_of: dict[tuple[str, ...], int] = {}
    sets: dict[tuple[str, ...], tuple[Path, Recording]] = {}
    keys: list[tuple[str, ...] | None] = []
    for i, (source, recording) in enumerate(zip(sources, loaded, strict=True)):
        key = pair_key(source, recording) if isinstance(recording, Recording) else None
        keys.append(key)
        if key is not None and isinstance(recording, Recording) and key not in first_of:
            first_of[key] = i
            sets[key] = (source, recording)
    names = _output_names(sets)
    outcome: dict[tuple[str, ...], Path | RepsenseError] = {}
    for i, (source, recording, key) in enumerate(zip(sources, loaded, keys, strict=True)):
        if isinstance(recording, RepsenseError):
            yield ImportResult(source, error=recording)
            continue
        assert key is not None
        if first_of[key] != i:
            done = outcome[key]
            if isinstance(done, Path):
                yield ImportResult(source, recording=recording, duplicate_of=done)
            else:
                yield ImportResult(source, error=done)
            continue
        name = names[key]
        try:
            if isinstance(name, RepsenseError):
                raise name
            target = out / name
            _write(recording, target)
        except RepsenseError as exc:
            outcome[key] = exc
            yield ImportResult(source, error=exc)
            continue
        outcome[key] = target
        yield ImportResult(source, out=target, recording=recording)


def pair_key(source: Path, recording: Recording) -> tuple[str, ...]:
    """What makes a set one set: the files it was read from (both files of a MetaMotion or Polar pair)."""
    folder = str(source.resolve().parent)
    files = recording.metadata.get("source_files")
    return (folder, *sorted(files.split("; "))) if files else (str(source.resolve()),)


def _output_names(
    sets: dict[tuple[str, ...], tuple[Path, Recording]],
) -> dict[tuple[str, ...], str | RecordingError]:
    """Each set's file name in the output folder, or the error that refuses it (see ``iter_import``)."""
    stems = {key: _output_stem(recording, _SENSOR_SUFFIX) for key, (_, recording) in sets.items()}
    shared = Counter(stem.lower() for stem in stems.values())
    for key, (_, recording) in sets.items():
        if shared[stems[key].lower()] > 1:
            stems[key] = _output_stem(recording, _SENSOR_WORDS)
    shared = Counter(stem.lower() for stem in stems.values())
    names: dict[tuple[str, ...], str | RecordingError] = {}
    for key, stem in stems.items():
        if shared[stem.lower()] == 1:
            names[key] = f"{stem}.csv"
            continue
        other = next(sets[k][0] for k, s in stems.items() if k != key and s.lower() == stem.lower())
        names[key] = RecordingError(
            f"{sets[key][0]}: would be written as {stem}.csv, as would {other}; import them into separate --out "
            f"folders or rename one"
        )
    return names


def _output_stem(recording: Recording, sensor_part: re.Pattern[str]) -> str:
    stem = sensor_part.sub("", Path(recording.source).stem)
    return re.sub(r"[^\w.+-]+", "_", stem).strip("._") or "recording"


def _write(recording: Recording, target: Path) -> None:
    """Write through a temporary name, so a failure never leaves half a recording under the final name."""
    metadata = {k: v for k, v in recording.metadata.items() if k != FORMAT_KEY}
    samples = recording.samples
    partial = target.with_name(target.name + ".part")
    try:
        with RecordingWriter(partial, metadata, has_gyro=samples.has_gyro) as writer:
            start = 0
            for t_s, text in recording.annotations:
                stop = int(np.searchsorted(samples.t_s, t_s, side="right"))
                if stop > start:
                    writer.write(samples.slice(start, stop))
                    start = stop
                writer.annotate(text)
            if start < len(samples):
                writer.write(samples.slice(start, len(samples)))
        os.replace(partial, target)
    except OSError as exc:
        raise RecordingError(f"{target}: cannot write the recording ({exc.strerror or exc})") from exc
    finally:
        if partial.exists():
            partial.unlink()
