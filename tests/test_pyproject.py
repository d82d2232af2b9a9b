"""The package's metadata as the build backend reads it."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def test_the_licence_is_an_spdx_expression_with_a_backend_that_reads_it():
    """The audit: `pip install` printed setuptools' "`project.license` as a TOML table is deprecated". The licence
    (still MIT) is the SPDX string, which setuptools reads from version 77 on and refuses before it."""
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))
    assert project["project"]["license"] == "MIT"
    setuptools = next(r for r in project["build-system"]["requires"] if r.startswith("setuptools"))
    minimum = re.fullmatch(r"setuptools>=(\d+)(?:\.\d+)*", setuptools)
    assert minimum is not None and int(minimum[1]) >= 77
