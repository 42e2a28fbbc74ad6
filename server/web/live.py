"""Live data for the dashboard and the panel: a change hub, snapshots, alerts, SSE.

The QueueService calls :meth:`Hub.notify` after each commit (``svc.add_listener``).
Each server-sent-event stream waits on the hub (or a periodic tick, so
"waiting for 31 minutes" keeps counting) and sends a full snapshot: a browser
that reconnects needs nothing but the next message to be right again.
"""
from __future__ import annotations

import json
import threading
import time
import weakref
from datetime import datetime, timezone
from typing import Callable, Iterator

from server import stats
from server.httplimits import (LIVE_STREAMS_PER_SESSION, LIVE_STREAMS_PER_SOURCE,
                               LIVE_STREAMS_TOTAL)
from server.web.i18n import STRINGS, label

TICK_S = 5.0          # resend at least this often
STREAM_MAX_S = 300.0  # end a stream now and then; EventSource reconnects (frees a thread)
LIMIT_ALERT_S = 600   # a kiosk refused by the rate limit this recently raises an alert
# Today's distribution figures (mean/median/p90 of waits and service, share within the
# target) read every ticket of the day: rebuilt after a change only once the time since
# the last build is at least DAY_FIGURES_SPACING times what that build cost, so they take
# at most a tenth of a core however busy the day (5 ms builds: fresh at once; 300 ms builds
# at 15,000 tickets: at most every 3 s), and at least every DAY_FIGURES_MAX_AGE_S.
# Today's counts (issued, served, no-show, waiting) are always exact: day_counts.
DAY_FIGURES_SPACING = 10
DAY_FIGURES_MAX_AGE_S = 30.0
TODAY_KEYS = ("issued", "served", "no_show", "waiting", "wait", "service", "within_target", "target_wait_s")


class Hub:
    """A version counter with a condition: ``notify`` bumps it, ``wait`` sleeps until it moves.

    It caps the open event streams: each one holds a server worker thread, so past
    ``max_streams`` in all, ``per_session`` for one log-in or ``per_source`` for one
    address, a page falls back to polling instead of starving kiosks and panels of
    threads. And it builds each snapshot once per change for every stream that shows
    it (:meth:`shared`): twenty open dashboards cost one build, not twenty."""

    def __init__(self, max_streams: int = LIVE_STREAMS_TOTAL,
                 per_session: int = LIVE_STREAMS_PER_SESSION, per_source: int = LIVE_STREAMS_PER_SOURCE):
        self._cond = threading.Condition()
        self.version = 0
        self.slots = threading.BoundedSemaphore(max_streams)
        self.caps = {"session": per_session, "source": per_source}
        self._open: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()
        self._cache: dict[object, tuple[int, float, str]] = {}
        self._building: dict[object, threading.Lock] = {}
        self.builds = 0  # snapshots actually built (a figure for the tests)

    def notify(self, change: dict | None = None) -> None:
        with self._cond:
            self.version += 1
            self._cond.notify_all()

    def wait(self, seen: int, timeout: float) -> int:
        with self._cond:
            self._cond.wait_for(lambda: self.version != seen, timeout=timeout)
            return self.version

    def claim(self, owners: dict[str, str]) -> bool:
        """Take one stream slot for ``owners`` ({"session": id, "source": address}), or False."""
        keys = [(kind, who) for kind, who in owners.items() if who]
        with self._lock:
            if any(self._open.get(k, 0) >= self.caps[k[0]] for k in keys):
                return False
            if not self.slots.acquire(blocking=False):
                return False
            for k in keys:
                self._open[k] = self._open.get(k, 0) + 1
        return True

    def release(self, owners: dict[str, str]) -> None:
        with self._lock:
            for k in [(kind, who) for kind, who in owners.items() if who]:
                left = self._open.get(k, 0) - 1
                if left > 0:
                    self._open[k] = left
                else:
                    self._open.pop(k, None)
            self.slots.release()

    def shared(self, key, build: Callable[[], dict], max_age_s: float) -> str:
        """The JSON of ``build()`` for this version, built by one stream and reused by all."""
        with self._lock:
            lock = self._building.setdefault(key, threading.Lock())
        with lock:  # streams of the same view wait for the one build instead of repeating it
            version, now = self.version, time.monotonic()
            cached = self._cache.get(key)
            if cached and cached[0] == version and now - cached[1] < max_age_s:
                return cached[2]
            text = json.dumps(build(), separators=(",", ":"))
            self.builds += 1
            with self._lock:
                self._cache[key] = (version, now, text)
            return text


def sse_stream(build: Callable[[], dict], hub: Hub, tick_s: float = TICK_S,
               max_s: float = STREAM_MAX_S, key=None) -> Iterator[str]:
    """Yield ``state`` events: one now, then one after every change or tick.

    With ``key`` (the view: dashboard language, panel counter) the snapshot is shared
    by every stream of that view; a tick refreshes it at most twice per ``tick_s``."""
    yield "retry: 3000\n\n"
    deadline = time.monotonic() + max_s
    while time.monotonic() < deadline:
        seen = hub.version
        data = (hub.shared(key, build, tick_s / 2) if key is not None
                else json.dumps(build(), separators=(",", ":")))
        yield f"event: state\ndata: {data}\n\n"
        hub.wait(seen, tick_s)


def limited(stream: Iterator[str], hub: Hub, owners: dict[str, str] | None = None) -> Iterator[str] | None:
    """``stream`` holding one of the hub's slots until it ends or the client goes; None when full."""
    owners = owners or {}
    if not hub.claim(owners):
        return None

    def run():
        try:
            yield from stream
        finally:  # runs when the server closes the response (client gone) too
            hub.release(owners)
    return run()


def _txt(lang: str, key: str, **fmt) -> str:
    pair = STRINGS[key]
    return (pair[1] if lang == "en" else pair[0]).format(**fmt)


def _age_s(iso: str | None, now: datetime) -> int | None:
    if not iso:
        return None
    return max(0, int((now - datetime.fromisoformat(iso)).total_seconds()))


def kiosk_limits(limiter, tz, lang: str, now: datetime | None = None) -> dict:
    """The per-kiosk rate limit (server/ratelimit.py) as the supervisor sees it.

    ``last_limited`` is stamped by the limiter with the real UTC wall clock (not the
    queue's clock), so "recent" is measured against that same clock; ``now`` is for tests."""
    now = now or datetime.now(timezone.utc)
    rows = []
    for device, c in (limiter.stats() if limiter is not None else {}).items():
        last = datetime.fromisoformat(c["last_limited"]) if c.get("last_limited") else None
        rows.append({"device": device, "allowed": c["allowed"], "limited": c["limited"],
                     "last_limited": last.astimezone(tz).isoformat() if last else None,
                     "recent": last is not None and (now - last).total_seconds() <= LIMIT_ALERT_S})
    enabled = limiter is not None and limiter.enabled
    rule = _txt(lang, "limit_rule", per_minute=f"{limiter.per_second * 60:g}",
                burst=f"{limiter.burst:g}") if enabled else _txt(lang, "limit_off")
    return {"enabled": enabled, "rule": rule, "kiosks": rows}


class _DayFigures:
    """Today's figures for the live view, rebuilt within a CPU budget (see DAY_FIGURES_SPACING)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.key: tuple | None = None
        self.day: str | None = None
        self.figures: dict | None = None
        self.built_at = 0.0
        self.cost_s = 0.0

    def get(self, svc, day: str) -> dict:
        with svc.db.snapshot() as conn:
            counts = stats.day_counts(conn, day)
        key = (day, tuple(sorted(counts.items())))
        with self.lock:
            age = time.monotonic() - self.built_at
            stale = (self.figures is None or self.day != day or age >= DAY_FIGURES_MAX_AGE_S
                     or (key != self.key and age >= DAY_FIGURES_SPACING * self.cost_s))
            if stale:
                t0 = time.monotonic()
                full = svc.day_stats(day)
                self.cost_s = time.monotonic() - t0
                self.figures = {k: full[k] for k in TODAY_KEYS}
                self.key, self.day, self.built_at = key, day, time.monotonic()
            figures = dict(self.figures)
        # The counts are exact now, whatever the age of the distribution figures.
        figures.update(issued=sum(n for (_, k), n in counts.items() if k == "issued"),
                       served=sum(n for (_, k), n in counts.items() if k == "done"),
                       no_show=sum(n for (_, k), n in counts.items() if k == "no_show"),
                       waiting=sum(n for (_, k), n in counts.items() if k == "waiting"))
        return figures


_day_figures: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_day_figures_lock = threading.Lock()


def today_figures(svc, day: str) -> dict:
    """Today's live-view figures for ``svc`` (one cache per queue)."""
    with _day_figures_lock:
        cache = _day_figures.get(svc)
        if cache is None:
            cache = _day_figures[svc] = _DayFigures()
    return cache.get(svc, day)


def dashboard_snapshot(svc, bridge, lang: str, limiter=None,
                       wall_now: datetime | None = None) -> dict:
    """Everything the live view shows, as plain JSON (``limiter``: the kiosk rate limiter)."""
    board, summary = svc.board(), svc.summary()
    day = today_figures(svc, board["service_day"])
    limits = kiosk_limits(limiter, svc.site.tz, lang, wall_now)
    now = datetime.fromisoformat(board["server_time"])
    devices = bridge.devices() if bridge is not None else None
    counters = []
    for c in board["counters"]:
        ticket = c["ticket"]
        counters.append({
            "counter": c["counter"], "name": c["name"], "status": c["status"],
            "pause_reason": c["pause_reason"], "since": c["since"],
            "ticket": ticket and {"number": ticket["number"], "status": ticket["status"],
                                  "called_at": ticket["called_at"]},
            "busy_s": _age_s(ticket["called_at"], now) if ticket else _age_s(c["since"], now)})
    return {
        "server_time": board["server_time"], "service_day": board["service_day"],
        "counters": counters, "services": summary["services"],
        "today": {**day,
                  # the report's formatter: both pages show the same whole percent
                  "within_target_text": stats.whole_percent(day["within_target"])},
        "devices": devices, "bridge": bridge is not None, "kiosk_limits": limits,
        "alerts": alerts(svc.site, counters, summary["services"], devices, lang, limits["kiosks"])}


def alerts(site, counters: list[dict], services: dict, devices: list[dict] | None,
           lang: str, limits: list[dict] = ()) -> list[dict]:
    """What needs the supervisor's attention now, most urgent first."""
    out = []
    target_s = site.target_wait_min * 60
    for prefix, s in services.items():
        if s["waiting"] and s["longest_wait_s"] > target_s:
            out.append({"kind": "wait", "text": _txt(
                lang, "alert_wait", service=f"{prefix} {s['name_id'] if lang == 'id' else s['name_en']}",
                minutes=s["longest_wait_s"] // 60, target=site.target_wait_min)})
    for c in counters:
        cfg = site.counter(c["counter"])
        waiting = sum(services.get(p, {}).get("waiting", 0) for p in (cfg.services if cfg else ()))
        if c["status"] == "open" and c["ticket"] is None and waiting:
            out.append({"kind": "idle", "text": _txt(lang, "alert_idle", counter=c["name"], n=waiting)})
    for d in devices or ():
        if d["status"] == "offline":
            out.append({"kind": "offline", "text": _txt(lang, "alert_offline", device=d["device"],
                                                        role=label("role", d["role"], lang))})
        printer = d.get("printer") or {}
        status = printer.get("status")
        if status == "paper_out":
            out.append({"kind": "paper", "text": _txt(lang, "alert_paper", device=d["device"])})
        elif status == "offline":
            out.append({"kind": "printer", "text": _txt(lang, "alert_printer", device=d["device"],
                                                        status=label("printer", status, lang))})
    for k in limits:
        if k["recent"]:  # a stuck touch screen or a leaked kiosk token: someone should look
            out.append({"kind": "rate_limited", "text": _txt(
                lang, "alert_rate_limited", device=k["device"], n=k["limited"],
                time=k["last_limited"][11:19])})
    return out


def waiting_list(svc, prefixes: tuple[str, ...], limit: int = 30) -> list[dict]:
    """The next waiting tickets of some services, in queue order (priority first)."""
    if not prefixes:
        return []
    day = svc.now()["service_day"]
    marks = ",".join("?" * len(prefixes))
    # the counter's services in its preference order, then priority, then arrival: close to
    # (not exactly, with interleaving) the order the queue policy will call them
    pref = " ".join(f"WHEN ? THEN {i}" for i in range(len(prefixes)))
    rows = svc.db.read().execute(
        f"SELECT number, service, priority, issued_ms FROM tickets WHERE service_day = ? AND"
        f" status = 'waiting' AND service IN ({marks})"
        f" ORDER BY CASE service {pref} END, (priority IS NULL), queue_order LIMIT ?",
        (day, *prefixes, *prefixes, limit)).fetchall()
    now_ms = svc.now()["epoch_ms"]
    return [{"number": r["number"], "service": r["service"], "priority": r["priority"],
             "wait_s": max(0, (now_ms - r["issued_ms"]) // 1000)} for r in rows]


def panel_snapshot(svc, counter: int) -> dict:
    """What the verifier panel of one counter shows."""
    state = svc.counter_state(counter)
    cfg = svc.site.counter(counter)
    ticket = state["ticket"]
    since = None
    if ticket:
        row = svc.db.read().execute("SELECT started_ms, last_called_ms FROM tickets WHERE id = ?",
                                    (ticket["id"],)).fetchone()
        since = row["started_ms"] or row["last_called_ms"]
    return {
        "server_time": state["server_time"], "server_ms": svc.now()["epoch_ms"],
        "counter": counter, "name": state["name"], "status": state["status"],
        "pause_reason": state["pause_reason"], "waiting": state["waiting"],
        "ticket": ticket and {"number": ticket["number"], "status": ticket["status"],
                              "service": ticket["service"], "priority": ticket["priority"],
                              "recall_count": ticket["recall_count"], "since_ms": since},
        "queue": waiting_list(svc, cfg.services),
        "services": [{"prefix": s.prefix, "name_id": s.name_id, "name_en": s.name_en}
                     for s in svc.site.services]}
