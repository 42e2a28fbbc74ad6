"""Per-kiosk rate limit on ticket issuing, visible to the supervisor.

A kiosk prints one ticket in about two seconds, so a burst of requests from
one kiosk token is a stuck touch screen, a child hammering the button or a
leaked token, never residents. Each kiosk gets a token bucket (``burst``
tickets at once, refilled at ``per_minute``); a request beyond it is refused
with 429 ``rate_limited`` (Indonesian and English message) and changes
nothing. Counts per kiosk are kept for the dashboard::

    from server import ratelimit
    ratelimit.limiter(app).stats()
    # {"kiosk-1": {"allowed": 41, "limited": 3, "last_limited": "2026-11-23T08:41:07Z"}, ...}

Settings (``app.config`` first, then the environment, then the default):
``LALOPA_KIOSK_RATE_PER_MIN`` (30; 0 turns the limit off) and
``LALOPA_KIOSK_BURST`` (10). Time is ``time.monotonic`` on purpose: a wall
clock jump must neither block nor release a kiosk.
"""
from __future__ import annotations

import threading
import time
from datetime import datetime, timezone
from typing import Callable

from broker import settings
from server.errors import QueueError

EXTENSION_KEY = "lalopa.ratelimit"
DEFAULT_PER_MIN = float(settings.BY_NAME["LALOPA_KIOSK_RATE_PER_MIN"].default)
DEFAULT_BURST = float(settings.BY_NAME["LALOPA_KIOSK_BURST"].default)


class RateLimited(QueueError):
    """Too many tickets from one kiosk in a short time (HTTP 429)."""

    code = "rate_limited"
    status = 429
    message_id = ("Terlalu banyak permintaan dari kiosk ini. Tunggu sebentar, lalu coba lagi. "
                  "Jika berulang, hubungi petugas.")
    message_en = ("Too many requests from this kiosk. Wait a moment and try again. "
                  "If it keeps happening, call a staff member.")


class KioskRateLimiter:
    """Token buckets per device id; thread-safe (waitress serves from several threads)."""

    def __init__(self, per_minute: float = DEFAULT_PER_MIN, burst: float = DEFAULT_BURST,
                 now: Callable[[], float] = time.monotonic):
        self.per_second = max(0.0, float(per_minute)) / 60.0
        self.burst = max(1.0, float(burst))
        self._now = now
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}  # device -> (tokens, at)
        self._counts: dict[str, dict] = {}

    @property
    def enabled(self) -> bool:
        return self.per_second > 0

    def check(self, device: str, is_retry: Callable[[], bool] = lambda: False) -> None:
        """Take one token for ``device`` or raise :class:`RateLimited` (nothing else changes).

        ``is_retry()`` is asked only when the bucket is empty: a retry of a request the
        server already answered changes nothing and gets its stored ticket back, so it
        is never refused (a kiosk recovering from a network cut must get its number)."""
        if not self.enabled:
            return
        with self._lock:
            now = self._now()
            tokens, at = self._buckets.get(device, (self.burst, now))
            tokens = min(self.burst, tokens + (now - at) * self.per_second)
            counts = self._counts.setdefault(device, {"allowed": 0, "limited": 0, "last_limited": None})
            if tokens < 1.0 and is_retry():
                self._buckets[device] = (tokens, now)
                return
            if tokens < 1.0:
                self._buckets[device] = (tokens, now)
                counts["limited"] += 1
                counts["last_limited"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
                retry = round((1.0 - tokens) / self.per_second, 1)
                raise RateLimited(retry_after_s=retry)
            self._buckets[device] = (tokens - 1.0, now)
            counts["allowed"] += 1

    def stats(self) -> dict[str, dict]:
        """Per kiosk: tickets allowed, requests refused, when the last refusal was (UTC)."""
        with self._lock:
            return {device: dict(c) for device, c in sorted(self._counts.items())}


def _setting(app, key: str) -> float:
    """The app's config (tests) or the declared environment setting; a bad value is an error."""
    value = app.config.get(key)
    return float(settings.get(key) if value is None else value)


def limiter(app) -> KioskRateLimiter:
    """The app's limiter, created from its settings on first use."""
    existing = app.extensions.get(EXTENSION_KEY)
    if existing is None:
        existing = app.extensions.setdefault(EXTENSION_KEY, KioskRateLimiter(
            _setting(app, "LALOPA_KIOSK_RATE_PER_MIN"), _setting(app, "LALOPA_KIOSK_BURST")))
    return existing


def check_issue(app, caller: dict, request_id: str | None = None) -> None:
    """The hook in POST /api/v1/tickets: only kiosk tokens are limited (admins are people)."""
    if caller.get("role") != "kiosk":
        return
    device = str(caller.get("id"))

    def is_retry() -> bool:
        svc = app.extensions.get("lalopa.queue")
        if svc is None or not request_id:
            return False
        row = svc.db.read().execute("SELECT 1 FROM idempotency WHERE device = ? AND request_key = ?",
                                    (device, request_id)).fetchone()
        return row is not None

    limiter(app).check(device, is_retry)
