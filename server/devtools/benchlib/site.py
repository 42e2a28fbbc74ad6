"""A benchmark/test copy of the example site that is open around the clock.

The example site keeps office hours (Mon–Fri, WIB); a benchmark at night or a
fault test on a Sunday must still issue tickets, so this drops ``hours`` and
the daily caps and lets the caller choose the topic root.
"""
from __future__ import annotations

import tomllib
from pathlib import Path

from server.config import EXAMPLE_SITE, Site, parse_site


def always_open_site(site_id: str = "bench", path: Path = EXAMPLE_SITE) -> Site:
    """The example site with ``site_id`` replaced, no opening hours and no daily caps."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    data["site_id"] = site_id
    data.pop("hours", None)
    for service in data.get("services", []):
        service.pop("daily_cap", None)
    return parse_site(data, f"{path.name} (always open, {site_id})")


def site_toml(site_id: str = "bench", path: Path = EXAMPLE_SITE) -> str:
    """The same always-open site as TOML text, for starting the real server CLI."""
    lines, skip = [], False
    for line in path.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if stripped.startswith("["):
            skip = stripped.startswith("[hours]")
        if skip or stripped.startswith("daily_cap"):
            continue
        if stripped.startswith("site_id"):
            line = f'site_id = "{site_id}"'
        lines.append(line)
    return "\n".join(lines) + "\n"
