"""Administration changes to the site, applied at runtime without a restart.

The site file stays the base. Changes made in the admin pages are stored in
``site_overrides`` (one JSON value per table: services, counters, settings),
merged over the file's data and validated by :func:`server.config.parse_site`
(the same checks and messages as the file). The result replaces ``svc.site``,
which the QueueService reads on every call; a stored override is applied again
at start-up by :func:`apply_stored`.
"""
from __future__ import annotations

import json
import logging
import time

from server.config import Site, parse_site
from server.errors import ConfigError

log = logging.getLogger(__name__)

KEYS = ("services", "counters", "settings")
SETTINGS = ("facility", "whatsapp", "target_wait_min")


def site_data(site: Site) -> dict:
    """A Site back in the shape of its TOML file."""
    def texts(items):
        return [{"id": t.id, "en": t.en} for t in items]
    data = {
        "site_id": site.site_id, "facility": site.facility, "timezone": site.timezone,
        "whatsapp": site.whatsapp, "target_wait_min": site.target_wait_min,
        "transfer_policy": site.transfer_policy, "max_command_age_s": site.max_command_age_s,
        "priority": {"policy": site.priority_policy, "ratio": site.priority_ratio},
        "hours": {d: [o.strftime("%H:%M"), c.strftime("%H:%M")] for d, (o, c) in site.hours.items()},
        "display": {"running_text": site.running_text},
        "services": [], "counters": []}
    for s in site.services:
        entry = {"prefix": s.prefix, "name_id": s.name_id, "name_en": s.name_en,
                 "requirements": texts(s.requirements), "flow": texts(s.flow),
                 "start_number": s.start_number}
        if s.daily_cap is not None:
            entry["daily_cap"] = s.daily_cap
        data["services"].append(entry)
    for c in site.counters:
        data["counters"].append({"number": c.number, "name": c.name, "services": list(c.services)})
    return data


def merged(base: Site, overrides: dict) -> Site:
    """Validate the base site with ``overrides`` applied; raises ConfigError."""
    data = site_data(base)
    for key in ("services", "counters"):
        if key in overrides:
            data[key] = overrides[key]
    data.update({k: v for k, v in overrides.get("settings", {}).items() if k in SETTINGS})
    return parse_site(data, "admin")


def stored(db) -> dict:
    rows = db.read().execute("SELECT key, value FROM site_overrides").fetchall()
    return {r["key"]: json.loads(r["value"]) for r in rows if r["key"] in KEYS}


class SiteEditor:
    """Reads, validates, stores and applies site changes for one QueueService."""

    def __init__(self, svc, base: Site, on_change=None):
        self.svc, self.base, self.on_change = svc, base, on_change

    def current(self) -> Site:
        return self.svc.site

    def apply_stored(self) -> None:
        """Apply the stored changes at start-up.

        A stored table that today's checks refuse (written before a limit
        existed, e.g. a 70-character counter name) is left out and logged with
        its reason: the server starts with the site file's version of that
        table instead of refusing to start, and the admin can fix it."""
        overrides = stored(self.svc.db)
        for key in list(overrides):
            try:
                merged(self.base, {key: overrides[key]})
            except ConfigError as exc:
                log.error("stored admin change to %r refused, the site file's is used: %s", key, exc)
                del overrides[key]
        if not overrides:
            return
        try:
            self.svc.site = merged(self.base, overrides)
        except ConfigError as exc:  # each table is valid alone, not together
            log.error("stored admin changes refused together, the site file is used: %s", exc)

    def validate(self, key: str, value) -> Site:
        """The site ``value`` for table ``key`` would make; raises ConfigError. Stores nothing."""
        if key not in KEYS:
            raise ValueError(key)
        overrides = stored(self.svc.db)
        overrides[key] = value
        return merged(self.base, overrides)

    def update(self, key: str, value, user_id: int | None = None) -> Site:
        """Validate then store and apply one table; nothing changes if it is invalid."""
        site = self.validate(key, value)  # raises ConfigError before anything is stored
        now = int(time.time() * 1000)
        self.svc.db.write(lambda c: c.execute(
            "INSERT INTO site_overrides (key, value, updated_ms, user_id) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value,"
            " updated_ms = excluded.updated_ms, user_id = excluded.user_id",
            (key, json.dumps(value, ensure_ascii=False), now, user_id)))
        self.svc.site = site
        if self.on_change:
            self.on_change(site)
        return site
