"""What the docs say about files and commands holds: every metadata key the code reads is documented."""

from __future__ import annotations

import re
from pathlib import Path

from repsense.core.history_rows import STARTED_KEYS

ROOT = Path(__file__).resolve().parents[2]
RECORDING_FORMAT = ROOT / "docs" / "recording-format.md"


def metadata_keys_read() -> set[str]:
    """The metadata keys the code looks up by name (``metadata["k"]``, ``metadata.get("k")``), and the keys that
    say when a recording began."""
    keys = set(STARTED_KEYS)
    for path in (ROOT / "repsense").rglob("*.py"):
        keys |= set(re.findall(r'metadata(?:\.get\(|\[)"([a-z_]+)"', path.read_text(encoding="utf-8")))
    return keys


def test_every_metadata_key_the_code_reads_is_in_the_recording_format():
    """The audit: plans.md and history.md rely on `started`, which recording-format.md did not list."""
    documented = set(re.findall(r"^\| `([a-z_-]+)` \|", RECORDING_FORMAT.read_text(encoding="utf-8"), re.MULTILINE))
    assert {"started", "load_kg", "import_notes"} <= metadata_keys_read()
    assert metadata_keys_read() - documented == set()
