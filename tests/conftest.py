"""Fixtures for every test."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _history_in_tmp(tmp_path_factory, monkeypatch):
    """No test writes to the real history: ``REPSENSE_DB`` and ``XDG_DATA_HOME`` point into a temporary folder, for
    this process and for any subprocess it starts."""
    home = tmp_path_factory.mktemp("history")
    monkeypatch.setenv("REPSENSE_DB", str(home / "history.sqlite3"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "xdg"))
