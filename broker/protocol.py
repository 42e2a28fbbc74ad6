"""The one written contract of the LALOPA bus: every topic and every payload.

Every topic lives under ``lalopa/v1/<site>/``. Payloads are compact JSON objects
that carry ``"v": 1``. Decoding validates size, JSON shape, version and every
field; anything wrong raises :class:`ProtocolError` with a reason that the
receiver logs and counts, and the message is dropped.

``TOPICS`` is the registry that ``docs/PROTOCOL.md`` documents; a test checks
that the two agree.

Example::

    >>> t = Topics("dinkes-claim")
    >>> t.command(5)
    'lalopa/v1/dinkes-claim/counter/5/command'
    >>> cmd = CounterCommand(id="box-5:42", counter=5, action="next",
    ...                      device="box-5", sent_at_ms=1_700_000_000_000)
    >>> decode(CounterCommand, encode(cmd)) == cmd
    True
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, TypeVar

from . import texts
from .texts import TextRule
from .vocab import (BUS_ROLES, CALL_KINDS, COUNTER_STATES, CUTOFF_STATES, IKM_SCALE, PRIORITIES,
                    TICKET_STATES)

VERSION = 1
ROOT = f"lalopa/v{VERSION}"

SITE_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,47}$")
#: Counters are numbered 1..MAX_COUNTER_NUMBER (the topic and every payload say so).
MAX_COUNTER_NUMBER = 999
ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")
TICKET_RE = re.compile(r"^[A-Z]-\d{3,4}$")

ROLES = BUS_ROLES
PRESENCE_STATES = ("online", "offline")
COMMAND_ACTIONS = ("next", "recall", "no_show", "start", "finish", "pause", "resume", "open", "close")
PRINTER_STATES = ("ok", "paper_low", "paper_out", "offline", "unknown")
# A call is announced within this many seconds of being made, or never: the
# bus drops an undelivered CallEvent after it (MQTT message expiry), and a
# board that learns of a call late (a resync) speaks it only while this young.
CALL_FRESH_S = 60
#: Deepest JSON nesting any payload may have (the board's counters[].ticket is 3).
#: Checked before parsing: Python's json raises RecursionError on deep input
#: that is still well under the size limit.
MAX_DEPTH = 8


class ProtocolError(ValueError):
    """A payload that breaks the contract; ``reason`` says how, for the log."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


# --------------------------------------------------------------------------
# Topics


class Topics:
    """Topic builders for one site. Devices and server share these strings."""

    def __init__(self, site: str):
        if not SITE_RE.match(site or ""):
            raise ValueError(f"site id must match {SITE_RE.pattern}, got {site!r}")
        self.site = site
        self.base = f"{ROOT}/{site}"

    def command(self, counter: int) -> str:
        return f"{self.base}/counter/{int(counter)}/command"

    def counter_state(self, counter: int) -> str:
        return f"{self.base}/counter/{int(counter)}/state"

    @property
    def call(self) -> str:
        return f"{self.base}/call"

    @property
    def board(self) -> str:
        return f"{self.base}/board"

    @property
    def summary(self) -> str:
        return f"{self.base}/summary"

    def presence(self, role: str, device: str) -> str:
        return f"{self.base}/presence/{role}/{device}"

    def printer(self, kiosk: str) -> str:
        return f"{self.base}/kiosk/{kiosk}/printer"

    def smiley(self, counter: int) -> str:
        """A counter's smiley pad (see SmileyVote)."""
        return f"{self.base}/counter/{int(counter)}/smiley"

    # Wildcard filters for subscribers.
    @property
    def all_commands(self) -> str:
        return f"{self.base}/counter/+/command"

    @property
    def all_counter_states(self) -> str:
        return f"{self.base}/counter/+/state"

    @property
    def all_presence(self) -> str:
        return f"{self.base}/presence/+/+"

    @property
    def all_printers(self) -> str:
        return f"{self.base}/kiosk/+/printer"

    @property
    def all_smileys(self) -> str:
        return f"{self.base}/counter/+/smiley"

    def counter_of(self, topic: str) -> int | None:
        """The counter number in a ``counter/<n>/...`` topic, else None."""
        parts = topic.split("/")
        if len(parts) >= 5 and parts[3] == "counter" and parts[4].isdigit():
            return int(parts[4])
        return None

    def presence_of(self, topic: str) -> tuple[str, str] | None:
        """``(role, device)`` of a presence topic, else None."""
        parts = topic.split("/")
        if len(parts) == 6 and parts[3] == "presence":
            return parts[4], parts[5]
        return None

    def kiosk_of(self, topic: str) -> str | None:
        parts = topic.split("/")
        if len(parts) == 6 and parts[3] == "kiosk" and parts[5] == "printer":
            return parts[4]
        return None


# --------------------------------------------------------------------------
# Field checks (small, explicit, no schema library on a 512 MB button box)


def _req(data: dict, key: str, kind: type | tuple, where: str) -> Any:
    if key not in data:
        raise ProtocolError(f"{where}: missing field '{key}'")
    return _typed(data[key], key, kind, where)


def _opt(data: dict, key: str, kind: type | tuple, where: str, default=None) -> Any:
    if data.get(key) is None:
        return default
    return _typed(data[key], key, kind, where)


def _typed(value: Any, key: str, kind: type | tuple, where: str) -> Any:
    # bool is an int in Python; never accept it where a number is meant.
    if isinstance(value, bool) and kind is not bool:
        raise ProtocolError(f"{where}: field '{key}' must be {_kind_name(kind)}, got bool")
    if not isinstance(value, kind):
        raise ProtocolError(
            f"{where}: field '{key}' must be {_kind_name(kind)}, got {type(value).__name__}")
    return value


def _kind_name(kind) -> str:
    if isinstance(kind, tuple):
        return " or ".join(k.__name__ for k in kind)
    return kind.__name__


def _one_of(value: Any, allowed: tuple, key: str, where: str) -> Any:
    if value not in allowed:
        raise ProtocolError(f"{where}: field '{key}' must be one of {list(allowed)}, got {value!r}")
    return value


def _match(value: str, pattern: re.Pattern, key: str, where: str) -> str:
    if not pattern.match(value):
        raise ProtocolError(f"{where}: field '{key}' is not valid: {value[:40]!r}")
    return value


def _bounded(value: int, lo: int, hi: int, key: str, where: str) -> int:
    if not lo <= value <= hi:
        raise ProtocolError(f"{where}: field '{key}' must be in {lo}..{hi}, got {value}")
    return value


def _text(value: str | None, limit: int | TextRule, key: str, where: str) -> str | None:
    """A string within ``limit`` characters; a person's text (a TextRule) also holds
    only the characters broker.texts allows, so a renderer is never handed a NUL."""
    if value is None:
        return None
    rule = limit if isinstance(limit, TextRule) else None
    limit = rule.max_len if rule else limit
    if len(value) > limit:
        raise ProtocolError(f"{where}: field '{key}' is longer than {limit} characters")
    bad = next((ch for ch in value if texts.refused(ch)), None)
    if bad is not None:
        raise ProtocolError(f"{where}: field '{key}' holds the character U+{ord(bad):04X}")
    return value


# --------------------------------------------------------------------------
# Payloads


@dataclass(frozen=True)
class Message:
    """Base of every payload: knows its size limit and how to check a dict."""

    MAX_BYTES: ClassVar[int] = 2048

    @classmethod
    def from_dict(cls, data: dict):  # pragma: no cover - every subclass overrides
        raise NotImplementedError

    def to_dict(self) -> dict:
        out = {"v": VERSION}
        for f in fields(self):
            out[f.name] = _plain(getattr(self, f.name))
        return out


def _plain(value):
    if isinstance(value, Message):
        d = value.to_dict()
        d.pop("v", None)
        return d
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


@dataclass(frozen=True)
class CounterCommand(Message):
    """A verifier's button press or panel action: box/panel -> server.

    ``id`` is unique per press (the server applies each id once);
    ``sent_at_ms`` is the sender's estimate of *server* time (learned from
    ``server_time_ms`` in retained state), so the server can refuse a press
    older than its configured age.
    """

    # 2 KiB: a reason of 200 four-byte characters (what broker.texts allows) still fits.
    MAX_BYTES: ClassVar[int] = 2048
    id: str
    counter: int
    action: str
    device: str
    sent_at_ms: int
    reason: str | None = None

    @classmethod
    def from_dict(cls, d: dict) -> "CounterCommand":
        w = "command"
        return cls(
            id=_match(_req(d, "id", str, w), ID_RE, "id", w),
            counter=_bounded(_req(d, "counter", int, w), 1, MAX_COUNTER_NUMBER, "counter", w),
            action=_one_of(_req(d, "action", str, w), COMMAND_ACTIONS, "action", w),
            device=_match(_req(d, "device", str, w), ID_RE, "device", w),
            sent_at_ms=_bounded(_req(d, "sent_at_ms", int, w), 0, 2**53, "sent_at_ms", w),
            reason=_text(_opt(d, "reason", str, w), texts.REASON, "reason", w),
        )


@dataclass(frozen=True)
class TicketRef(Message):
    """A ticket as devices see it."""

    number: str
    service: str
    status: str
    priority: str | None = None
    since: str | None = None  # ISO 8601 with the site's UTC offset

    @classmethod
    def from_dict(cls, d: dict) -> "TicketRef":
        w = "ticket"
        return cls(
            number=_match(_req(d, "number", str, w), TICKET_RE, "number", w),
            service=_req(d, "service", str, w),
            status=_one_of(_req(d, "status", str, w), TICKET_STATES, "status", w),
            priority=_opt_priority(d, w),
            since=_text(_opt(d, "since", str, w), 40, "since", w),
        )


def _opt_priority(d: dict, where: str) -> str | None:
    value = _opt(d, "priority", str, where)
    return None if value is None else _one_of(value, PRIORITIES, "priority", where)


def _opt_ticket(d: dict, key: str, where: str) -> TicketRef | None:
    value = _opt(d, key, dict, where)
    return None if value is None else TicketRef.from_dict(value)


@dataclass(frozen=True)
class CommandResult(Message):
    """The outcome of the last command a counter sent (the box's acknowledgement)."""

    id: str
    ok: bool
    code: str | None = None  # error code when not ok, e.g. "nothing_waiting"

    @classmethod
    def from_dict(cls, d: dict) -> "CommandResult":
        w = "last_command"
        return cls(id=_req(d, "id", str, w), ok=_req(d, "ok", bool, w),
                   code=_text(_opt(d, "code", str, w), 64, "code", w))


@dataclass(frozen=True)
class CounterState(Message):
    """Retained state of one counter: server -> its box, panels, counter displays."""

    MAX_BYTES: ClassVar[int] = 4096
    counter: int
    name: str
    status: str
    waiting: int
    server_time_ms: int
    ticket: TicketRef | None = None
    pause_reason: str | None = None
    last_command: CommandResult | None = None

    @classmethod
    def from_dict(cls, d: dict) -> "CounterState":
        w = "counter_state"
        last = _opt(d, "last_command", dict, w)
        return cls(
            counter=_bounded(_req(d, "counter", int, w), 1, MAX_COUNTER_NUMBER, "counter", w),
            name=_text(_req(d, "name", str, w), texts.COUNTER_NAME, "name", w),
            status=_one_of(_req(d, "status", str, w), COUNTER_STATES, "status", w),
            waiting=_bounded(_req(d, "waiting", int, w), 0, 10**6, "waiting", w),
            server_time_ms=_req(d, "server_time_ms", int, w),
            ticket=_opt_ticket(d, "ticket", w),
            pause_reason=_text(_opt(d, "pause_reason", str, w), texts.REASON, "pause_reason", w),
            last_command=None if last is None else CommandResult.from_dict(last),
        )


@dataclass(frozen=True)
class CallEvent(Message):
    """One call or recall, server -> displays. Not retained.

    ``seq`` rises by one for every call the server makes, across restarts; a
    display drops a seq it has seen and resyncs from the board on a gap.
    """

    seq: int
    kind: str
    ticket: str
    service: str
    counter: int
    counter_name: str
    at: str
    priority: str | None = None
    recall_count: int = 0

    @classmethod
    def from_dict(cls, d: dict) -> "CallEvent":
        w = "call"
        return cls(
            seq=_bounded(_req(d, "seq", int, w), 1, 2**53, "seq", w),
            kind=_one_of(_req(d, "kind", str, w), CALL_KINDS, "kind", w),
            ticket=_match(_req(d, "ticket", str, w), TICKET_RE, "ticket", w),
            service=_text(_req(d, "service", str, w), 8, "service", w),
            counter=_bounded(_req(d, "counter", int, w), 1, MAX_COUNTER_NUMBER, "counter", w),
            counter_name=_text(_req(d, "counter_name", str, w), texts.COUNTER_NAME, "counter_name", w),
            at=_text(_req(d, "at", str, w), 40, "at", w),
            priority=_opt_priority(d, w),
            recall_count=_bounded(_opt(d, "recall_count", int, w, 0), 0, 999, "recall_count", w),
        )


@dataclass(frozen=True)
class CounterSlot(Message):
    """One counter on the board."""

    counter: int
    name: str
    status: str
    ticket: TicketRef | None = None

    @classmethod
    def from_dict(cls, d: dict) -> "CounterSlot":
        w = "board.counters[]"
        return cls(
            counter=_bounded(_req(d, "counter", int, w), 1, MAX_COUNTER_NUMBER, "counter", w),
            name=_text(_req(d, "name", str, w), texts.COUNTER_NAME, "name", w),
            status=_one_of(_req(d, "status", str, w), COUNTER_STATES, "status", w),
            ticket=_opt_ticket(d, "ticket", w),
        )


@dataclass(frozen=True)
class ServiceInfo(Message):
    """A service's prefix and names, and how many wait for it."""

    prefix: str
    name_id: str
    name_en: str
    waiting: int = 0

    @classmethod
    def from_dict(cls, d: dict) -> "ServiceInfo":
        w = "board.services[]"
        return cls(
            prefix=_text(_req(d, "prefix", str, w), 8, "prefix", w),
            name_id=_text(_req(d, "name_id", str, w), texts.SERVICE_NAME_ID, "name_id", w),
            name_en=_text(_req(d, "name_en", str, w), texts.SERVICE_NAME_EN, "name_en", w),
            waiting=_bounded(_opt(d, "waiting", int, w, 0), 0, 10**6, "waiting", w),
        )


@dataclass(frozen=True)
class BoardSnapshot(Message):
    """Everything a display board shows, retained: a rebooted board paints at once."""

    MAX_BYTES: ClassVar[int] = 64 * 1024
    site: str
    facility: str
    service_day: str
    server_time_ms: int
    tz: str
    seq: int
    counters: tuple[CounterSlot, ...] = ()
    recent: tuple[CallEvent, ...] = ()
    services: tuple[ServiceInfo, ...] = ()
    running_text: str = ""

    @classmethod
    def from_dict(cls, d: dict) -> "BoardSnapshot":
        w = "board"
        return cls(
            site=_req(d, "site", str, w),
            facility=_text(_req(d, "facility", str, w), texts.FACILITY, "facility", w),
            service_day=_text(_req(d, "service_day", str, w), 10, "service_day", w),
            server_time_ms=_req(d, "server_time_ms", int, w),
            tz=_text(_req(d, "tz", str, w), 64, "tz", w),
            seq=_bounded(_req(d, "seq", int, w), 0, 2**53, "seq", w),
            counters=tuple(CounterSlot.from_dict(_typed(c, "counters[]", dict, w))
                           for c in _list(d, "counters", 200, w)),
            recent=tuple(CallEvent.from_dict(_typed(c, "recent[]", dict, w))
                         for c in _list(d, "recent", 50, w)),
            services=tuple(ServiceInfo.from_dict(_typed(s, "services[]", dict, w))
                           for s in _list(d, "services", 26, w)),
            running_text=_text(_opt(d, "running_text", str, w, ""), texts.RUNNING_TEXT, "running_text", w),
        )


def _list(d: dict, key: str, limit: int, where: str) -> list:
    value = _opt(d, key, list, where, [])
    if len(value) > limit:
        raise ProtocolError(f"{where}: field '{key}' has more than {limit} items")
    return value


@dataclass(frozen=True)
class ServiceSummary(Message):
    """Today's figures for one service."""

    prefix: str
    waiting: int
    issued: int
    served: int
    no_show: int
    open: bool
    est_wait_s: int | None = None
    longest_wait_s: int | None = None
    est_low_s: int | None = None         # the printed range (server.eta); None: nobody serves it
    est_high_s: int | None = None
    prio_low_s: int | None = None        # the same for a priority resident
    prio_high_s: int | None = None
    served_by: int | None = None         # open or paused counters that serve the service
    cutoff: str = "ok"                   # broker.vocab.CUTOFF_STATES

    @classmethod
    def from_dict(cls, d: dict) -> "ServiceSummary":
        w = "summary.services[]"
        return cls(
            prefix=_text(_req(d, "prefix", str, w), 8, "prefix", w),
            waiting=_req(d, "waiting", int, w), issued=_req(d, "issued", int, w),
            served=_req(d, "served", int, w), no_show=_req(d, "no_show", int, w),
            open=_req(d, "open", bool, w),
            est_wait_s=_opt(d, "est_wait_s", int, w),
            longest_wait_s=_opt(d, "longest_wait_s", int, w),
            est_low_s=_opt(d, "est_low_s", int, w), est_high_s=_opt(d, "est_high_s", int, w),
            prio_low_s=_opt(d, "prio_low_s", int, w), prio_high_s=_opt(d, "prio_high_s", int, w),
            served_by=_opt(d, "served_by", int, w),
            cutoff=_one_of(_opt(d, "cutoff", str, w, "ok"), CUTOFF_STATES, "cutoff", w),
        )


@dataclass(frozen=True)
class QueueSummary(Message):
    """Today's queue per service: kiosks show waiting counts and estimates from it.

    One shape for both ways a device can ask: the retained bus topic and
    ``GET /api/v1/queue`` answer the same payload, made by :meth:`build`.
    """

    MAX_BYTES: ClassVar[int] = 16 * 1024
    service_day: str
    server_time_ms: int
    services: tuple[ServiceSummary, ...] = ()

    @classmethod
    def build(cls, service_day: str, server_time_ms: int, figures: dict[str, dict]) -> "QueueSummary":
        """The one builder, from the server's figures keyed by service prefix (validated)."""
        return cls.from_dict({"service_day": service_day, "server_time_ms": server_time_ms,
                              "services": [{"prefix": prefix, **f} for prefix, f in figures.items()]})

    @classmethod
    def from_dict(cls, d: dict) -> "QueueSummary":
        w = "summary"
        return cls(
            service_day=_text(_req(d, "service_day", str, w), 10, "service_day", w),
            server_time_ms=_req(d, "server_time_ms", int, w),
            services=tuple(ServiceSummary.from_dict(_typed(s, "services[]", dict, w))
                           for s in _list(d, "services", 26, w)),
        )


@dataclass(frozen=True)
class Presence(Message):
    """A device's presence, retained; ``offline`` is also its last will."""

    MAX_BYTES: ClassVar[int] = 512
    role: str
    device: str
    status: str

    @classmethod
    def from_dict(cls, d: dict) -> "Presence":
        w = "presence"
        return cls(
            role=_one_of(_req(d, "role", str, w), ROLES, "role", w),
            device=_match(_req(d, "device", str, w), ID_RE, "device", w),
            status=_one_of(_req(d, "status", str, w), PRESENCE_STATES, "status", w),
        )


@dataclass(frozen=True)
class PrinterStatus(Message):
    """A kiosk's printer, retained: the supervisor sees paper-out at once."""

    MAX_BYTES: ClassVar[int] = 1024
    kiosk: str
    status: str
    detail: str = ""

    @classmethod
    def from_dict(cls, d: dict) -> "PrinterStatus":
        w = "printer"
        return cls(
            kiosk=_match(_req(d, "kiosk", str, w), ID_RE, "kiosk", w),
            status=_one_of(_req(d, "status", str, w), PRINTER_STATES, "status", w),
            detail=_text(_opt(d, "detail", str, w, ""), 200, "detail", w),
        )


# --------------------------------------------------------------------------
# Encoding and decoding

M = TypeVar("M", bound=Message)


def encode(msg: Message) -> bytes:
    """Compact UTF-8 JSON with ``"v"``; refuses to produce an oversized payload."""
    raw = json.dumps(msg.to_dict(), ensure_ascii=False, separators=(",", ":")).encode()
    if len(raw) > msg.MAX_BYTES:
        raise ProtocolError(f"{type(msg).__name__}: {len(raw)} bytes exceeds {msg.MAX_BYTES}")
    return raw


def decode(kind: type[M], payload: bytes) -> M:
    """Parse and validate one payload of the given kind, or raise ProtocolError."""
    if len(payload) > kind.MAX_BYTES:
        raise ProtocolError(f"{kind.__name__}: {len(payload)} bytes exceeds {kind.MAX_BYTES}")
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise ProtocolError(f"{kind.__name__}: not UTF-8 JSON (UnicodeDecodeError)") from None
    if nesting(text) > MAX_DEPTH:
        raise ProtocolError(f"{kind.__name__}: JSON nested deeper than {MAX_DEPTH} levels")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ProtocolError(f"{kind.__name__}: not UTF-8 JSON ({exc.__class__.__name__})") from None
    if not isinstance(data, dict):
        raise ProtocolError(f"{kind.__name__}: payload must be a JSON object")
    version = data.get("v")
    # Exactly the integer: 1.0 == 1 and True == 1 in Python, and neither is a version.
    if type(version) is not int or version != VERSION:
        raise ProtocolError(f"{kind.__name__}: unsupported version {version!r} (expected {VERSION})")
    return kind.from_dict(data)


_STRUCTURE = re.compile(r'[\[\]{}"\\]')


def nesting(text: str) -> int:
    """How deep the JSON in ``text`` nests, counting only brackets outside strings.

    Stops counting once past MAX_DEPTH, so hostile input costs one pass over its
    structural characters and nothing else.
    """
    depth = deepest = 0
    in_string, skip = False, -1
    for m in _STRUCTURE.finditer(text):
        pos, ch = m.start(), m.group()
        if pos == skip:          # the character after a backslash inside a string
            continue
        if in_string:
            if ch == "\\":
                skip = pos + 1
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_DEPTH:
                    break
        else:
            depth -= 1
    return deepest


# --------------------------------------------------------------------------
# The registry that docs/PROTOCOL.md documents


@dataclass(frozen=True)
class TopicSpec:
    name: str
    pattern: str          # relative to lalopa/v1/<site>/
    payload: type[Message]
    publishers: str
    subscribers: str
    qos: int
    retained: bool
    notes: str = field(default="")


TOPICS: tuple[TopicSpec, ...] = (
    TopicSpec("counter command", "counter/<n>/command", CounterCommand,
              "button box of counter n, verifier panel", "server", 1, False,
              "MQTT 5 message expiry = max command age; server also checks sent_at_ms"),
    TopicSpec("counter state", "counter/<n>/state", CounterState,
              "server", "button box of counter n, panels, displays", 1, True,
              "republished after every change, on every server (re)connect and every 30 s"),
    TopicSpec("call event", "call", CallEvent,
              "server", "display boards", 1, False,
              "seq strictly increasing, none skipped; duplicates dropped, gaps resynced from board; "
              f"MQTT 5 message expiry {CALL_FRESH_S} s"),
    TopicSpec("board snapshot", "board", BoardSnapshot,
              "server", "display boards", 1, True, ""),
    TopicSpec("queue summary", "summary", QueueSummary,
              "server", "kiosks, dashboard", 1, True, ""),
    TopicSpec("presence", "presence/<role>/<device>", Presence,
              "every client (its own topic)", "server", 1, True,
              "offline is the client's last will"),
    TopicSpec("printer status", "kiosk/<kiosk>/printer", PrinterStatus,
              "kiosk (its own topic)", "server", 1, True, ""),
)


def sample_payloads() -> dict[str, Message]:
    """One valid example per topic; PROTOCOL.md shows these and tests decode them."""
    ticket = TicketRef(number="A-023", service="A", status="called", since="2026-11-23T08:41:07+07:00")
    call = CallEvent(seq=118, kind="call", ticket="A-023", service="A", counter=5,
                     counter_name="Loket 5", at="2026-11-23T08:41:07+07:00")
    return {
        "counter command": CounterCommand(id="box-05:1700000000:17", counter=5, action="next",
                                          device="box-05", sent_at_ms=1795402867000),
        "counter state": CounterState(counter=5, name="Loket 5", status="open", waiting=14,
                                      server_time_ms=1795402867120, ticket=ticket,
                                      last_command=CommandResult(id="box-05:1700000000:17", ok=True)),
        "call event": call,
        "board snapshot": BoardSnapshot(
            site="dinkes-claim", facility="Dinas Kesehatan Kota", service_day="2026-11-23",
            server_time_ms=1795402867120, tz="Asia/Jakarta", seq=118,
            counters=(CounterSlot(counter=5, name="Loket 5", status="open", ticket=ticket),),
            recent=(call,),
            services=(ServiceInfo(prefix="A", name_id="Verifikasi Klaim",
                                  name_en="Claim verification", waiting=14),),
            running_text="Siapkan KK dan E-KTP asli beserta fotokopinya."),
        "queue summary": QueueSummary(
            service_day="2026-11-23", server_time_ms=1795402867120,
            services=(ServiceSummary(prefix="A", waiting=14, issued=63, served=45, no_show=4,
                                     open=True, est_wait_s=1260, longest_wait_s=2110,
                                     est_low_s=600, est_high_s=1920, prio_low_s=0,
                                     prio_high_s=540, served_by=3, cutoff="ok"),)),
        "presence": Presence(role="display", device="board-1", status="online"),
        "printer status": PrinterStatus(kiosk="kiosk-1", status="paper_low",
                                        detail="paper near end"),
    } | city_samples() | smiley_samples()


# --------------------------------------------------------------------------
# The city link (issue 18): what crosses from a site's broker to the centre's.
#
# A site's Mosquitto bridges to the central Mosquitto. Out go the site's
# append-only event log, as CityBatch messages of consecutive events, and the
# retained live state the site already publishes (summary, counter states,
# presence, printers); in comes the centre's acknowledgement and its requests
# to send a gap again. Site ids are unique in a city, so topics keep the same
# names on both brokers. ``seq`` is the site's events.id: SQLite assigns it
# under the single writer and the log is never deleted, so it rises by one per
# event, with no holes, in commit order.

#: A site event kind: the words the site's queue writes in its log (issued,
#: called, ...). The centre stores every kind and counts the ones it knows, so
#: a site that learns a new kind never stalls its city link.
EVENT_KIND_RE = re.compile(r"^[a-z][a-z_]{0,31}$")
#: Events per CityBatch: a day's log of a busy site (about 2,000 events)
#: crosses in 10 messages; one batch stays well under its size limit.
CITY_BATCH_MAX = 200
#: The bridge's own online/offline word, published by Mosquitto (not by us:
#: the payload is Mosquitto's plain "1" or "0") retained on this topic, with
#: "0" as the bridge's last will on the central broker.
CITY_LINK_ONLINE, CITY_LINK_OFFLINE = b"1", b"0"
#: The live-state topics the bridge carries out unchanged (patterns under the site base).
CITY_LIVE_PATTERNS = ("summary", "counter/+/state", "presence/+/+", "kiosk/+/printer")


def city_topic(site: str, name: str) -> str:
    """``lalopa/v1/<site>/city/<name>`` for name in batch, link, control/ack, control/resend."""
    return f"{Topics(site).base}/city/{name}"


def city_filter(name: str) -> str:
    """The centre's filter over every site: ``lalopa/v1/+/city/<name>``."""
    return f"{ROOT}/+/city/{name}"


def site_of(topic: str) -> str | None:
    """The site id in any ``lalopa/v1/<site>/...`` topic, else None."""
    parts = topic.split("/")
    if len(parts) >= 3 and f"{parts[0]}/{parts[1]}" == ROOT and SITE_RE.match(parts[2]):
        return parts[2]
    return None


DAY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _opt_int(d: dict, key: str, where: str) -> int | None:
    value = _opt(d, key, int, where)
    return None if value is None else _bounded(value, 0, 2**53, key, where)


@dataclass(frozen=True)
class CityEvent(Message):
    """One row of a site's event log, as the centre receives it.

    ``ticket`` is the site's own ticket id (unique within the site);
    ``number`` and ``prefix`` are the ticket's number and the service it was
    issued for; ``detail`` is the row's detail object (a transfer's ``to``, an
    issue's ``priority``)."""

    seq: int
    day: str
    kind: str
    at_ms: int
    ticket: int | None = None
    number: str | None = None
    prefix: str | None = None
    service: str | None = None
    counter: int | None = None
    user: int | None = None
    detail: dict | None = None

    @classmethod
    def from_dict(cls, d: dict) -> "CityEvent":
        w = "city_event"
        detail = _opt(d, "detail", dict, w)
        number = _opt(d, "number", str, w)
        counter = _opt(d, "counter", int, w)
        return cls(
            seq=_bounded(_req(d, "seq", int, w), 1, 2**53, "seq", w),
            day=_match(_req(d, "day", str, w), DAY_RE, "day", w),
            kind=_match(_req(d, "kind", str, w), EVENT_KIND_RE, "kind", w),
            at_ms=_bounded(_req(d, "at_ms", int, w), 0, 2**53, "at_ms", w),
            ticket=_opt_int(d, "ticket", w),
            number=None if number is None else _match(number, TICKET_RE, "number", w),
            prefix=_text(_opt(d, "prefix", str, w), 8, "prefix", w),
            service=_text(_opt(d, "service", str, w), 8, "service", w),
            counter=None if counter is None else _bounded(counter, 1, MAX_COUNTER_NUMBER, "counter", w),
            user=_opt_int(d, "user", w),
            detail=detail,
        )


@dataclass(frozen=True)
class CityBatch(Message):
    """Consecutive events of one site's log, site -> centre (QoS 1, not retained).

    ``events`` hold seqs ``first``, ``first + 1``, ... in order; ``head`` is the
    site's newest seq when the batch left, so the centre sees a missing tail
    even when nothing follows it."""

    MAX_BYTES: ClassVar[int] = 256 * 1024
    site: str
    first: int
    head: int
    sent_ms: int
    events: tuple[CityEvent, ...] = ()

    @classmethod
    def from_dict(cls, d: dict) -> "CityBatch":
        w = "city_batch"
        events = tuple(CityEvent.from_dict(_typed(e, "events[]", dict, w))
                       for e in _list(d, "events", CITY_BATCH_MAX, w))
        first = _bounded(_req(d, "first", int, w), 1, 2**53, "first", w)
        if any(e.seq != first + i for i, e in enumerate(events)):
            raise ProtocolError(f"{w}: events must be consecutive from 'first' ({first})")
        head = _bounded(_req(d, "head", int, w), 0, 2**53, "head", w)
        if events and head < events[-1].seq:
            raise ProtocolError(f"{w}: 'head' {head} is older than the last event")
        return cls(site=_match(_req(d, "site", str, w), SITE_RE, "site", w), first=first, head=head,
                   sent_ms=_bounded(_req(d, "sent_ms", int, w), 0, 2**53, "sent_ms", w),
                   events=events)


@dataclass(frozen=True)
class CityAck(Message):
    """The centre's receipt, centre -> site (retained): every seq up to ``seq`` is stored.

    The site's uplink sends from ``seq + 1`` and never runs further ahead of
    it than its window, so a dead link queues a bounded number of batches."""

    MAX_BYTES: ClassVar[int] = 512
    site: str
    seq: int
    at_ms: int

    @classmethod
    def from_dict(cls, d: dict) -> "CityAck":
        w = "city_ack"
        return cls(site=_match(_req(d, "site", str, w), SITE_RE, "site", w),
                   seq=_bounded(_req(d, "seq", int, w), 0, 2**53, "seq", w),
                   at_ms=_bounded(_req(d, "at_ms", int, w), 0, 2**53, "at_ms", w))


@dataclass(frozen=True)
class CityResend(Message):
    """The centre asks a site to send ``from_seq``..``to_seq`` again (a gap it saw).

    ``id`` names the request; the uplink answers each id once."""

    MAX_BYTES: ClassVar[int] = 512
    id: str
    site: str
    from_seq: int
    to_seq: int

    @classmethod
    def from_dict(cls, d: dict) -> "CityResend":
        w = "city_resend"
        lo = _bounded(_req(d, "from_seq", int, w), 1, 2**53, "from_seq", w)
        hi = _bounded(_req(d, "to_seq", int, w), lo, 2**53, "to_seq", w)
        return cls(id=_match(_req(d, "id", str, w), ID_RE, "id", w),
                   site=_match(_req(d, "site", str, w), SITE_RE, "site", w), from_seq=lo, to_seq=hi)


#: The survey's elements (unsur U1..U9 of PermenPANRB 14/2017; server/ikm.py ELEMENTS).
IKM_ELEMENTS = 9
#: Days of survey figures the uplink keeps sending (a late answer still counts for its day).
CITY_IKM_DAYS = 7


@dataclass(frozen=True)
class IkmSums(Message):
    """One service's survey answers on one day: how many, and each element's sum."""

    service: str
    n: int
    sums: tuple[int, ...]

    @classmethod
    def from_dict(cls, d: dict) -> "IkmSums":
        w = "city_ikm.services[]"
        n = _bounded(_req(d, "n", int, w), 1, 10**6, "n", w)
        sums = tuple(_bounded(_typed(v, "sums[]", int, w), n, 4 * n, "sums[]", w)
                     for v in _list(d, "sums", IKM_ELEMENTS, w))
        if len(sums) != IKM_ELEMENTS:
            raise ProtocolError(f"{w}: field 'sums' must hold {IKM_ELEMENTS} element sums")
        return cls(service=_text(_req(d, "service", str, w), 8, "service", w), n=n, sums=sums)


@dataclass(frozen=True)
class CityIkm(Message):
    """A site's survey figures of one day, site -> centre: the whole day each time.

    Figures, not rows: each message replaces the centre's copy of that day, so
    sending it again changes nothing. The uplink sends every day of the last
    CITY_IKM_DAYS that has answers once a minute and at once after a new answer."""

    MAX_BYTES: ClassVar[int] = 8 * 1024
    site: str
    day: str
    services: tuple[IkmSums, ...] = ()

    @classmethod
    def from_dict(cls, d: dict) -> "CityIkm":
        w = "city_ikm"
        return cls(site=_match(_req(d, "site", str, w), SITE_RE, "site", w),
                   day=_match(_req(d, "day", str, w), DAY_RE, "day", w),
                   services=tuple(IkmSums.from_dict(_typed(x, "services[]", dict, w))
                                  for x in _list(d, "services", 26, w)))


CITY_TOPICS: tuple[TopicSpec, ...] = (
    TopicSpec("city batch", "city/batch", CityBatch,
              "the site's uplink (lalopa central uplink)", "the centre (lalopa central serve)", 1, False,
              f"crosses the site's bridge; consecutive seqs, at most {CITY_BATCH_MAX} events; "
              "the centre stores each (site, seq) once"),
    TopicSpec("city ack", "city/control/ack", CityAck,
              "the centre", "the site's uplink", 1, True,
              "every seq up to seq is stored at the centre; the uplink resumes after it"),
    TopicSpec("city resend", "city/control/resend", CityResend,
              "the centre", "the site's uplink", 1, False,
              "a gap the centre saw; the uplink sends that range again"),
    TopicSpec("city ikm", "city/ikm", CityIkm,
              "the site's uplink (lalopa central uplink)", "the centre (lalopa central serve)", 1, False,
              f"a day's whole survey figures, replacing the centre's copy; the last {CITY_IKM_DAYS} "
              "days are sent again every minute"),
)
TOPICS = TOPICS + CITY_TOPICS


def city_samples() -> dict[str, Message]:
    """One valid example per city topic (PROTOCOL.md shows them)."""
    issued = CityEvent(seq=4120, day="2026-11-23", kind="issued", at_ms=1795402800000, ticket=981,
                       number="A-023", prefix="A", service="A", detail={"priority": "lansia"})
    called = CityEvent(seq=4121, day="2026-11-23", kind="called", at_ms=1795402867120, ticket=981,
                       number="A-023", prefix="A", service="A", counter=5, user=3)
    return {
        "city batch": CityBatch(site="pkm-sukajadi", first=4120, head=4121, sent_ms=1795402867300,
                                events=(issued, called)),
        "city ack": CityAck(site="pkm-sukajadi", seq=4121, at_ms=1795402867450),
        "city resend": CityResend(id="gap-pkm-sukajadi-4100", site="pkm-sukajadi",
                                  from_seq=4100, to_seq=4119),
        "city ikm": CityIkm(site="pkm-sukajadi", day="2026-11-23", services=(
            IkmSums(service="A", n=12, sums=(41, 39, 44, 40, 45, 43, 38, 46, 42)),)),
    }


# --------------------------------------------------------------------------
# The smiley pad: one question, four faces, beside a counter's button box


@dataclass(frozen=True)
class SmileyVote(Message):
    """One press on a counter's four-button smiley pad: "how satisfied were you?".

    ``score`` is 1 (very unhappy) .. 4 (very happy), the satisfaction survey's
    scale. ``id`` is unique per press: the server stores each id once. The
    votes are anonymous and counted apart from the nine-element survey.
    """

    MAX_BYTES: ClassVar[int] = 512
    id: str
    counter: int
    score: int
    device: str
    sent_at_ms: int

    @classmethod
    def from_dict(cls, d: dict) -> "SmileyVote":
        w = "smiley"
        return cls(
            id=_match(_req(d, "id", str, w), ID_RE, "id", w),
            counter=_bounded(_req(d, "counter", int, w), 1, MAX_COUNTER_NUMBER, "counter", w),
            score=_one_of(_req(d, "score", int, w), IKM_SCALE, "score", w),
            device=_match(_req(d, "device", str, w), ID_RE, "device", w),
            sent_at_ms=_bounded(_req(d, "sent_at_ms", int, w), 0, 2**53, "sent_at_ms", w),
        )


SMILEY_TOPICS: tuple[TopicSpec, ...] = (
    TopicSpec("smiley vote", "counter/<n>/smiley", SmileyVote,
              "button box of counter n (its smiley pad)", "server", 1, False,
              "each id stored once; the payload's counter must be the topic's"),
)
TOPICS = TOPICS + SMILEY_TOPICS


def smiley_samples() -> dict[str, Message]:
    return {"smiley vote": SmileyVote(id="box-05:9f3a11c2:s4", counter=5, score=4, device="box-05",
                                      sent_at_ms=1795402990000)}
