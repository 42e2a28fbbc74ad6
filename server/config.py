"""Site configuration: one TOML file per site, validated into frozen dataclasses.

Every error names the file, the key path and what is wrong, e.g.
``example.toml: services[1].prefix: must be one capital letter, got 'ab'``.

    >>> site = load_site(EXAMPLE_SITE)
    >>> site.service("A").name_en
    'Claim verification'
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from broker import texts
from broker.vocab import CUTOFF_MODES
from broker.protocol import MAX_COUNTER_NUMBER, SITE_RE
from broker.texts import TextError, TextRule
from server.errors import ConfigError

EXAMPLE_SITE = Path(__file__).parent / "sites" / "example.toml"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PRIORITY_POLICIES = ("strict", "interleave")
TRANSFER_POLICIES = ("keep_place", "go_last")


@dataclass(frozen=True)
class Text:
    """A text in Indonesian and English."""

    id: str
    en: str


@dataclass(frozen=True)
class Service:
    prefix: str
    name_id: str
    name_en: str
    requirements: tuple[Text, ...] = ()
    flow: tuple[Text, ...] = ()
    start_number: int = 1
    daily_cap: int | None = None
    cutoff: str = "off"         # broker.vocab.CUTOFF_MODES


@dataclass(frozen=True)
class Counter:
    number: int
    name: str
    services: tuple[str, ...]  # in preference order


@dataclass(frozen=True)
class Site:
    """A validated site file."""

    site_id: str
    facility: str
    timezone: str
    services: tuple[Service, ...]
    counters: tuple[Counter, ...]
    hours: dict = field(default_factory=dict)  # weekday -> (open time, close time)
    whatsapp: str = ""
    target_wait_min: int = 30
    transfer_policy: str = "keep_place"
    max_command_age_s: int = 10
    priority_policy: str = "strict"
    priority_ratio: int = 3
    running_text: str = ""
    # Where the ticket's QR code points ("https://antrean.example.go.id"): the office may
    # publish the status pages on a public address; empty: the address the kiosk used.
    status_base_url: str = ""
    source: str = ""

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def service(self, prefix: str) -> Service | None:
        return next((s for s in self.services if s.prefix == prefix), None)

    def counter(self, number: int) -> Counter | None:
        return next((c for c in self.counters if c.number == number), None)

    def is_open_at(self, moment: datetime) -> bool:
        """True when ``moment`` (aware) falls within the opening hours of its local weekday."""
        local = moment.astimezone(self.tz)
        span = self.hours.get(WEEKDAYS[local.weekday()])
        return bool(span) and span[0] <= local.time() < span[1]

    def public(self) -> dict:
        """The site as kiosks and displays see it (no secrets in a site file anyway)."""
        return {
            "site_id": self.site_id, "facility": self.facility, "timezone": self.timezone,
            "whatsapp": self.whatsapp, "target_wait_min": self.target_wait_min,
            "hours": {d: [o.strftime("%H:%M"), c.strftime("%H:%M")] for d, (o, c) in self.hours.items()},
            "services": [{
                "prefix": s.prefix, "name_id": s.name_id, "name_en": s.name_en,
                "requirements": [{"id": t.id, "en": t.en} for t in s.requirements],
                "flow": [{"id": t.id, "en": t.en} for t in s.flow],
                "daily_cap": s.daily_cap, "cutoff": s.cutoff} for s in self.services],
            "counters": [{"number": c.number, "name": c.name, "services": list(c.services)}
                         for c in self.counters],
            "running_text": self.running_text,
        }


class _Checker:
    """Walks the parsed TOML, raising ConfigError with the key path on the first problem."""

    def __init__(self, filename: str):
        self.file = filename

    def fail(self, path: str, problem: str):
        raise ConfigError(self.file, path, problem)

    def table(self, data: Any, path: str, allowed: set[str], required: set[str] = frozenset()):
        if not isinstance(data, dict):
            self.fail(path, f"must be a table, got {data!r}")
        for key in data:
            if key not in allowed:
                self.fail(_join(path, key), "unknown key")
        for key in sorted(required - set(data)):
            self.fail(_join(path, key), "is required")
        return data

    def typed(self, data: dict, key: str, path: str, kind, default=None):
        if key not in data:
            return default
        value = data[key]
        ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
        if not ok:
            self.fail(_join(path, key), f"must be {_kind_name(kind)}, got {value!r}")
        return value

    def text(self, data: dict, key: str, path: str, default=None, required=False) -> str:
        value = self.typed(data, key, path, str, default)
        if required and not (value or "").strip():
            self.fail(_join(path, key), "must not be empty")
        return value

    def person_text(self, data: dict, key: str, path: str, rule: TextRule, default: str = "") -> str:
        """A text a person wrote, checked and normalised by the one text contract."""
        value = self.typed(data, key, path, str, default)
        try:
            return texts.clean(rule, value)
        except TextError as exc:
            self.fail(_join(path, key), f"{exc.message_id} / {exc.message_en}")

    def count(self, items: list, path: str, limit: int) -> list:
        if len(items) > limit:
            self.fail(path, f"paling banyak {limit} / at most {limit} entries, got {len(items)}")
        return items

    def positive(self, data: dict, key: str, path: str, default=None, minimum=1):
        value = self.typed(data, key, path, int, default)
        if value is not None and value < minimum:
            self.fail(_join(path, key), f"must be at least {minimum}, got {value}")
        return value

    def choice(self, data: dict, key: str, path: str, choices, default):
        value = self.text(data, key, path, default)
        if value not in choices:
            self.fail(_join(path, key), f"must be one of {', '.join(choices)}, got {value!r}")
        return value

    def texts(self, data: dict, key: str, path: str, rule_id: TextRule,
              rule_en: TextRule) -> tuple[Text, ...]:
        items = self.count(self.typed(data, key, path, list, []), _join(path, key), texts.MAX_ITEMS)
        out = []
        for i, item in enumerate(items):
            p = f"{_join(path, key)}[{i}]"
            self.table(item, p, {"id", "en"}, {"id", "en"})
            out.append(Text(self.person_text(item, "id", p, rule_id),
                            self.person_text(item, "en", p, rule_en)))
        return tuple(out)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _kind_name(kind) -> str:
    return {str: "a string", int: "an integer", list: "a list", dict: "a table"}.get(kind, str(kind))


STATUS_URL_RE = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~/-]*)?")
MAX_BASE_URL = 80   # the status link is printed as a QR code: a short base keeps it small


def _base_url(c: "_Checker", data: dict, key: str) -> str:
    """An http(s) base address without query or fragment, trailing "/" removed ("" when unset)."""
    url = c.text(data, key, "", "").strip()
    if url and (len(url) > MAX_BASE_URL or not STATUS_URL_RE.fullmatch(url)):
        c.fail(key, f"must be an http:// or https:// address such as https://antrean.example.go.id"
                    f" (no query, at most {MAX_BASE_URL} characters), got {url!r}")
    return url.rstrip("/")


def _parse_hours(c: _Checker, data: dict) -> dict:
    hours = {}
    c.table(data, "hours", set(WEEKDAYS))
    for day, span in data.items():
        p = f"hours.{day}"
        if not (isinstance(span, list) and len(span) == 2 and all(isinstance(s, str) for s in span)):
            c.fail(p, f'must be ["HH:MM", "HH:MM"], got {span!r}')
        try:
            opens, closes = (time.fromisoformat(s) for s in span)
        except ValueError:
            c.fail(p, f"times must be HH:MM, got {span!r}")
        if closes <= opens:
            c.fail(p, f"closing time must be after opening time, got {span!r}")
        hours[day] = (opens, closes)
    return hours


def _parse_service(c: _Checker, data: Any, i: int) -> Service:
    p = f"services[{i}]"
    c.table(data, p, {"prefix", "name_id", "name_en", "requirements", "flow", "start_number",
                      "daily_cap", "cutoff"}, {"prefix", "name_id", "name_en"})
    prefix = c.text(data, "prefix", p)
    if not re.fullmatch(r"[A-Z]", prefix):
        c.fail(f"{p}.prefix", f"must be one capital letter, got {prefix!r}")
    return Service(prefix, c.person_text(data, "name_id", p, texts.SERVICE_NAME_ID),
                   c.person_text(data, "name_en", p, texts.SERVICE_NAME_EN),
                   c.texts(data, "requirements", p, texts.REQUIREMENT_ID, texts.REQUIREMENT_EN),
                   c.texts(data, "flow", p, texts.FLOW_STEP, texts.FLOW_STEP),
                   c.positive(data, "start_number", p, 1),
                   c.positive(data, "daily_cap", p, None),
                   c.choice(data, "cutoff", p, CUTOFF_MODES, "off"))


def _parse_counter(c: _Checker, data: Any, i: int, prefixes: set[str]) -> Counter:
    p = f"counters[{i}]"
    c.table(data, p, {"number", "name", "services"}, {"number", "services"})
    number = c.positive(data, "number", p)
    if number > MAX_COUNTER_NUMBER:
        c.fail(f"{p}.number", f"must be at most {MAX_COUNTER_NUMBER}, got {number}")
    services = c.typed(data, "services", p, list)
    if not services:
        c.fail(f"{p}.services", "must list at least one service prefix")
    for j, prefix in enumerate(services):
        if prefix not in prefixes:
            c.fail(f"{p}.services[{j}]", f"unknown service {prefix!r}")
    if len(set(services)) != len(services):
        c.fail(f"{p}.services", "lists a service twice")
    return Counter(number, c.person_text(data, "name", p, texts.COUNTER_NAME, f"Loket {number}"),
                   tuple(services))


TOP_KEYS = {"site_id", "facility", "timezone", "whatsapp", "target_wait_min", "transfer_policy",
            "status_base_url",
            "max_command_age_s", "priority", "hours", "services", "counters", "display", "kiosk"}


def parse_site(data: dict, filename: str = "<site>") -> Site:
    """Validate parsed TOML into a :class:`Site`; raise ConfigError on the first problem."""
    c = _Checker(filename)
    c.table(data, "", TOP_KEYS, {"site_id", "facility", "timezone", "services", "counters"})
    site_id = c.text(data, "site_id", "")
    if not SITE_RE.fullmatch(site_id):
        c.fail("site_id", f"must be a lowercase slug (a-z, 0-9, -), got {site_id!r}")
    tz = c.text(data, "timezone", "")
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        c.fail("timezone", f"unknown IANA timezone {tz!r} (e.g. Asia/Jakarta)")
    services = tuple(_parse_service(c, s, i) for i, s in enumerate(
        c.count(c.typed(data, "services", "", list), "services", texts.MAX_SERVICES)))
    if not services:
        c.fail("services", "must define at least one service")
    prefixes = [s.prefix for s in services]
    if len(set(prefixes)) != len(prefixes):
        c.fail("services", "two services share a prefix")
    counters = tuple(_parse_counter(c, x, i, set(prefixes)) for i, x in enumerate(
        c.count(c.typed(data, "counters", "", list), "counters", texts.MAX_COUNTERS)))
    if len({x.number for x in counters}) != len(counters):
        c.fail("counters", "two counters share a number")
    prio = c.table(c.typed(data, "priority", "", dict, {}), "priority", {"policy", "ratio"})
    display = c.table(c.typed(data, "display", "", dict, {}), "display", {"running_text"})
    c.table(c.typed(data, "kiosk", "", dict, {}), "kiosk", set())
    return Site(
        site_id=site_id, facility=c.person_text(data, "facility", "", texts.FACILITY), timezone=tz,
        services=services, counters=counters,
        hours=_parse_hours(c, c.typed(data, "hours", "", dict, {})),
        whatsapp=c.person_text(data, "whatsapp", "", texts.WHATSAPP),
        target_wait_min=c.positive(data, "target_wait_min", "", 30),
        transfer_policy=c.choice(data, "transfer_policy", "", TRANSFER_POLICIES, "keep_place"),
        max_command_age_s=c.positive(data, "max_command_age_s", "", 10),
        priority_policy=c.choice(prio, "policy", "priority", PRIORITY_POLICIES, "strict"),
        priority_ratio=c.positive(prio, "ratio", "priority", 3),
        running_text=c.person_text(display, "running_text", "display", texts.RUNNING_TEXT),
        status_base_url=_base_url(c, data, "status_base_url"),
        source=filename)


def load_site(path: str | Path) -> Site:
    """Read and validate a site file."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except OSError as exc:
        raise ConfigError(path.name, "", f"cannot read file ({exc.strerror})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path.name, "", f"not valid TOML ({exc})") from exc
    return parse_site(data, path.name)
