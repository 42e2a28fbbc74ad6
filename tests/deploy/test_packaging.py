"""Packaging metadata: the SPDX licence form that setuptools keeps supporting."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_license_is_an_spdx_string_with_files():
    """GIVEN pyproject.toml WHEN read THEN `license` is an SPDX string (the table form is
    deprecated, removed after 2027-02-18), every `license-files` entry exists, and the
    build requires a setuptools that understands both (77 or later)."""
    data = tomllib.loads((REPO / "pyproject.toml").read_text())
    project = data["project"]
    assert project["license"] == "MIT"
    assert project["license-files"]
    for name in project["license-files"]:
        assert (REPO / name).is_file(), name
    assert "MIT License" in (REPO / project["license-files"][0]).read_text()
    wanted = [r for r in data["build-system"]["requires"] if r.startswith("setuptools")]
    assert wanted
    floor = re.search(r">=\s*(\d+)", wanted[0])
    assert floor and int(floor.group(1)) >= 77, wanted
