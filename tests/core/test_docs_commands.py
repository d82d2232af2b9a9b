"""What the docs say about files and commands holds: every metadata key the code reads is documented."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from repsense.core.cli import main
from repsense.core.history_rows import STARTED_KEYS

ROOT = Path(__file__).resolve().parents[2]
RECORDING_FORMAT = ROOT / "docs" / "recording-format.md"
PLANS = ROOT / "docs" / "plans.md"


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


@pytest.mark.parametrize("command", ["replay", "report"])
def test_the_plan_error_in_plans_md_is_what_a_bad_plan_prints(command, tmp_path, monkeypatch, capsys):
    """The audit: plans.md shows `repsense replay squat.csv --plan "4x5@100kb"` printing the plan's error, but with
    no squat.csv at hand it said "squat.csv: no such file". The plan is read before the file."""
    text = PLANS.read_text(encoding="utf-8")
    shown = re.search(r"^\$ repsense (replay squat\.csv --plan .*)\n(repsense: error: .*)$", text, re.MULTILINE)
    assert shown is not None
    argv = shlex.split(shown[1])
    monkeypatch.chdir(tmp_path)  # no squat.csv here
    if command == "report":
        argv = ["report", *argv[1:], "--out", "r.html"]
    assert main(argv) == 2
    assert capsys.readouterr().err.strip() == shown[2]
