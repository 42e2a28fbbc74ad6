"""Talking to the queue server over HTTP, always from a worker thread.

:class:`ServerClient` does single requests with short timeouts and safe
retries: issuing carries a ``request_id`` chosen once per deliberate tap and
reused on every retry, so the server's idempotency turns a retried POST into
the same ticket. :class:`NetWorker` runs requests off the UI thread and hands
results back through a queue the app drains each frame.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import requests

log = logging.getLogger(__name__)

TZ_LABELS = {"Asia/Jakarta": "WIB", "Asia/Pontianak": "WIB", "Asia/Makassar": "WITA",
             "Asia/Jayapura": "WIT"}
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class ServerUnreachable(ConnectionError):
    """No answer from the server after every attempt: nothing was issued."""


class ServerRefused(Exception):
    """The server answered with an error (``code``, ``message_id``, ``message_en``)."""

    def __init__(self, status: int, code: str, message_id: str, message_en: str):
        super().__init__(f"{status} {code}: {message_en}")
        self.status, self.code = status, code
        self.message_id, self.message_en = message_id, message_en


def _pair(value, lang: str) -> str:
    """Requirements/flow items are {"id","en"} dicts or plain strings."""
    if isinstance(value, dict):
        return str(value.get(lang) or value.get("id") or "")
    return str(value)


@dataclass(frozen=True)
class ServiceView:
    """One service as the kiosk shows it."""

    prefix: str
    name_id: str
    name_en: str
    requirements_id: tuple[str, ...] = ()
    requirements_en: tuple[str, ...] = ()
    flow_id: tuple[str, ...] = ()
    flow_en: tuple[str, ...] = ()
    daily_cap: int | None = None

    def name(self, lang: str) -> str:
        return self.name_en if lang == "en" else self.name_id

    def requirements(self, lang: str) -> tuple[str, ...]:
        return self.requirements_en if lang == "en" else self.requirements_id

    def flow(self, lang: str) -> tuple[str, ...]:
        return self.flow_en if lang == "en" else self.flow_id


@dataclass(frozen=True)
class SiteInfo:
    """The public site configuration from ``GET /api/v1/site``."""

    site_id: str
    facility: str
    tz: str
    whatsapp: str
    services: tuple[ServiceView, ...]
    hours: dict = field(default_factory=dict)   # "mon" -> ("08:00", "15:00")

    @property
    def tz_label(self) -> str:
        return TZ_LABELS.get(self.tz, "")

    def service(self, prefix: str) -> ServiceView | None:
        return next((s for s in self.services if s.prefix == prefix), None)

    def hours_today(self, now: datetime) -> tuple[str, str] | None:
        return self.hours.get(DAYS[now.weekday()])

    def is_open(self, now: datetime) -> bool:
        """Open at server-local time ``now``? (A missing day is closed.)"""
        if not self.hours:
            return True   # the server did not say: let it decide when issuing
        span = self.hours_today(now)
        if not span:
            return False
        return span[0] <= f"{now:%H:%M}" < span[1]

    @classmethod
    def from_json(cls, d: dict) -> "SiteInfo":
        services = []
        for s in d.get("services", []):
            reqs, flow = s.get("requirements") or [], s.get("flow") or []
            services.append(ServiceView(
                prefix=s["prefix"], name_id=s.get("name_id") or s.get("name") or s["prefix"],
                name_en=s.get("name_en") or s.get("name_id") or s["prefix"],
                requirements_id=tuple(_pair(r, "id") for r in reqs),
                requirements_en=tuple(_pair(r, "en") for r in reqs),
                flow_id=tuple(_pair(f, "id") for f in flow),
                flow_en=tuple(_pair(f, "en") for f in flow),
                daily_cap=s.get("daily_cap", s.get("cap"))))
        return cls(site_id=d.get("site_id", d.get("site", "")), facility=d.get("facility", ""),
                   tz=d.get("timezone", d.get("tz", "Asia/Jakarta")),
                   whatsapp=d.get("whatsapp", "") or "", services=tuple(services),
                   hours=_hours(d.get("hours") or {}))


def _hours(raw) -> dict:
    out = {}
    if isinstance(raw, dict):
        for day, span in raw.items():
            if isinstance(span, (list, tuple)) and len(span) == 2:
                out[day[:3].lower()] = (str(span[0]), str(span[1]))
            elif isinstance(span, dict) and "open" in span:
                out[day[:3].lower()] = (str(span["open"]), str(span["close"]))
    return out


class ServerClient:
    """Blocking HTTP calls with short timeouts; use from worker threads only."""

    def __init__(self, base_url: str, token: str, *, connect_timeout_s: float = 2.0,
                 read_timeout_s: float = 4.0, attempts: int = 3, backoff_s: float = 0.3):
        self._args = (base_url, token, connect_timeout_s, read_timeout_s, attempts, backoff_s)
        self.base = base_url.rstrip("/")
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"
        self.timeout = (connect_timeout_s, read_timeout_s)
        self.attempts = max(1, attempts)
        self.backoff_s = backoff_s

    def clone(self) -> "ServerClient":
        """Same server and settings, own session: one client per worker thread."""
        url, token, ct, rt, attempts, backoff = self._args
        return ServerClient(url, token, connect_timeout_s=ct, read_timeout_s=rt,
                            attempts=attempts, backoff_s=backoff)

    def _request(self, method: str, path: str, **kw) -> tuple[int, dict]:
        last = None
        for attempt in range(self.attempts):
            try:
                resp = self.session.request(method, self.base + path, timeout=self.timeout, **kw)
            except requests.RequestException as exc:
                last = exc   # connect refused, timeout, reset: safe to retry (idempotent)
            else:
                if resp.status_code < 500:
                    return resp.status_code, _json(resp)
                last = RuntimeError(f"HTTP {resp.status_code}")
            if attempt + 1 < self.attempts:
                time.sleep(self.backoff_s * (2 ** attempt))
        raise ServerUnreachable(f"{method} {path}: {last}")

    def _ok(self, status: int, body: dict) -> dict:
        if status >= 400:
            err = body.get("error") or {}
            raise ServerRefused(status, err.get("code", "error"), err.get("message_id", ""),
                                err.get("message_en", ""))
        return body

    def site(self) -> SiteInfo:
        return SiteInfo.from_json(self._ok(*self._request("GET", "/api/v1/site")))

    def queue(self) -> dict:
        return self._ok(*self._request("GET", "/api/v1/queue"))

    def server_time(self) -> datetime:
        body = self._ok(*self._request("GET", "/api/v1/time"))
        return parse_server_time(body)

    def issue(self, service: str, priority: str | None, request_id: str) -> dict:
        """POST /api/v1/tickets; the same ``request_id`` on every retry."""
        payload = {"service": service, "priority": priority, "request_id": request_id}
        return self._ok(*self._request("POST", "/api/v1/tickets", json=payload))


def _json(resp) -> dict:
    try:
        body = resp.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def parse_server_time(body: dict) -> datetime:
    """Server-local aware datetime from /api/v1/time (ISO string or epoch ms)."""
    for key in ("server_time", "now", "time"):
        if isinstance(body.get(key), str):
            return datetime.fromisoformat(body[key])
    ms = body.get("server_time_ms", body.get("epoch_ms"))
    if isinstance(ms, int):
        offset = body.get("utc_offset_s", 7 * 3600)
        return datetime.fromtimestamp(ms / 1000, timezone(timedelta(seconds=offset)))
    raise ValueError("no time in /api/v1/time answer")


@dataclass
class NetResult:
    """What a network job produced: ``kind`` names the job, ``error`` is set on failure."""

    kind: str
    value: object = None
    error: Exception | None = None
    key: str = ""


class NetWorker(threading.Thread):
    """Runs ServerClient calls off the UI thread, one at a time, in order."""

    def __init__(self, client: ServerClient, wake=None):
        super().__init__(name="kiosk-net", daemon=True)
        self.client = client
        self.wake = wake
        self.jobs: queue.Queue = queue.Queue()
        self.results: queue.Queue = queue.Queue()

    def submit(self, kind: str, key: str = "", *args) -> None:
        self.jobs.put((kind, key, args))

    def stop(self) -> None:
        self.jobs.put(None)

    def run(self) -> None:
        while True:
            job = self.jobs.get()
            if job is None:
                return
            kind, key, args = job
            try:
                value = getattr(self.client, kind)(*args)
                result = NetResult(kind, value=value, key=key)
            except Exception as exc:  # every failure goes back to the UI, none kills the thread
                result = NetResult(kind, error=exc, key=key)
            self.results.put(result)
            if self.wake:
                self.wake()
