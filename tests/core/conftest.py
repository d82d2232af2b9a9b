"""Helpers shared by the live-session tests."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest


def same_session(live: dict[str, Any], replayed: dict[str, Any], recording: Path) -> None:
    """Assert that a live session and a replay of its ``recording`` produced the same result (``to_json()`` dicts):
    the same reps with the same figures and detection times, the same failed attempts, gaps and stop. Only the
    ``source`` may differ (a port against a file)."""
    a, b = copy.deepcopy(live), copy.deepcopy(replayed)
    a.pop("source", None)
    b.pop("source", None)
    assert a == b, f"live and replay of {recording.name} differ"


@pytest.fixture
def assert_same_session():
    return same_session
