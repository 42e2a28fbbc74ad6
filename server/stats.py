"""Statistics, derived from the tickets table and the append-only events log.

docs/STATISTICS.md defines every figure. All queries filter on ``service_day``
first (indexed), so a day view costs the same however much history exists.
"""
from __future__ import annotations

import math
import sqlite3
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal

from server.config import Site



# ----------------------------------------------------------------- figures

def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile: the value at rank ceil(p/100 * n) of the sorted values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def median(values: list[float]) -> float | None:
    """The middle value; the mean of the two middle values when n is even."""
    if not values:
        return None
    s, n = sorted(values), len(values)
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2


def describe(values: list[float]) -> dict:
    """mean, median and p90 in seconds (rounded to 0.1 s), with the count."""
    def r(x):
        return None if x is None else round(x, 1)
    mean = sum(values) / len(values) if values else None
    return {"n": len(values), "mean_s": r(mean), "median_s": r(median(values)),
            "p90_s": r(percentile(values, 90))}


def whole_percent(share: float | None) -> str:
    """A share (0..1) shown as a whole percent, rounded half up: 0.895 -> "90%"; None -> "–".

    The one formatter of every percent a person reads (report and live view), so the
    same day never shows 89 % on one page and 90 % on another. Decimal, because
    0.895 * 100 is 89.49999… in binary floating point.
    """
    if share is None:
        return "–"
    whole = (Decimal(str(share)) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return f"{whole}%"


def wait_s(t) -> float | None:
    """Issued → first call, in seconds (never negative, even after a clock jump)."""
    return None if t["first_called_ms"] is None else max(0, t["first_called_ms"] - t["issued_ms"]) / 1000


def service_s(t) -> float | None:
    """Finish − the start of service at the counter that served it, for tickets served (done).

    That start is the ``start`` action (a transfer clears it), or, when the ticket was
    never started there, the first call after its last transfer (``served_from_ms``,
    see :func:`with_segments`); without a transfer that is its first call.
    """
    if t["status"] != "done" or t["finished_ms"] is None:
        return None
    keys = t.keys()
    called = t["served_from_ms"] if "served_from_ms" in keys else t["first_called_ms"]
    begin = t["started_ms"] or called
    return None if begin is None else max(0, t["finished_ms"] - begin) / 1000


def transfer_waits(t) -> list[float]:
    """Seconds from each transfer of the ticket to its next call (its wait for the new service)."""
    return list(t["transfer_waits"]) if "transfer_waits" in t.keys() else []


FEW_TICKETS = 50  # up to this many tickets, their events are read by ticket id


def with_segments(conn: sqlite3.Connection, day: str, rows) -> list[dict]:
    """Ticket rows of ``day`` as dicts, each with ``served_from_ms`` (its first call after
    its last transfer; its first call when never transferred) and ``transfer_waits``.

    Read from the day's ``called`` and ``transferred`` events (the events_day index):
    a ticket is only ever called on its own service day.
    """
    tickets = [dict(r) for r in rows]
    by_id = {t["id"]: t for t in tickets}
    for t in tickets:
        t["served_from_ms"], t["transfer_waits"] = t["first_called_ms"], []
    pending: dict[int, int] = {}  # ticket id -> time of a transfer not yet followed by a call
    if len(by_id) <= FEW_TICKETS:  # e.g. an estimate's last 20 tickets: their own events only
        marks = ",".join("?" * len(by_id))
        # "+service_day": still filtered by day, but the ticket index is the one to use
        events = conn.execute("SELECT ticket_id, kind, at_ms FROM events WHERE +service_day = ?"
                              f" AND ticket_id IN ({marks}) AND kind IN ('called', 'transferred')"
                              " ORDER BY id", (day, *by_id)) if by_id else ()
    else:
        events = conn.execute("SELECT ticket_id, kind, at_ms FROM events WHERE service_day = ?"
                              " AND kind IN ('called', 'transferred') ORDER BY id", (day,))
    for e in events:
        t = by_id.get(e["ticket_id"])
        if t is None:
            continue
        if e["kind"] == "transferred":
            pending[t["id"]] = e["at_ms"]
            t["served_from_ms"] = None
        elif t["id"] in pending:
            t["transfer_waits"].append(max(0, e["at_ms"] - pending.pop(t["id"])) / 1000)
            t["served_from_ms"] = e["at_ms"]
    return tickets


def day_counts(conn: sqlite3.Connection, day: str) -> dict[tuple[str, str], int]:
    """The day's counts kept by the tickets table's triggers (migration 050_day_counts):
    ``(service, status)`` -> tickets in that queue and status now, and ``(prefix, "issued")``
    -> numbers issued for that service. A few rows, however busy the day."""
    return {(r[0], r[1]): r[2] for r in conn.execute(
        "SELECT service, kind, n FROM day_counts WHERE service_day = ?", (day,))}


def service_summary(conn: sqlite3.Connection, site: Site, day: str, now_ms: int,
                    now: datetime) -> dict:
    """Per service today: waiting, issued, served, no_show, longest_wait_s, open, and what a
    resident taking a number now is told (server.eta: est_wait_s/est_low_s/est_high_s,
    served_by, cutoff)."""
    from server import eta  # eta reads this module's service times
    out = {}
    open_hours = not site.hours or site.is_open_at(now)
    told = eta.for_new(conn, site, day, now_ms)
    counts = day_counts(conn, day)
    for svc in site.services:
        # The oldest waiting ticket: the index's waiting range of the service, not the day.
        oldest = conn.execute("SELECT MIN(issued_ms) FROM tickets WHERE service_day = ? AND service = ?"
                              " AND status = 'waiting'", (day, svc.prefix)).fetchone()[0]
        issued = counts.get((svc.prefix, "issued"), 0)
        out[svc.prefix] = {
            "name_id": svc.name_id, "name_en": svc.name_en, "waiting": counts.get((svc.prefix, "waiting"), 0),
            "issued": issued, "served": counts.get((svc.prefix, "done"), 0),
            "no_show": counts.get((svc.prefix, "no_show"), 0),
            **eta.summary_fields(site, svc, told[svc.prefix], now_ms),
            "longest_wait_s": max(0, (now_ms - oldest) // 1000) if oldest is not None else 0,
            "open": open_hours and (svc.daily_cap is None or issued < svc.daily_cap)}
    return out


# ----------------------------------------------------------------- day and range

def _counts(tickets) -> dict:
    by = defaultdict(int)
    for t in tickets:
        by[t["status"]] += 1
    waits = [w for w in map(wait_s, tickets) if w is not None]
    return {"issued": len(tickets), "served": by["done"], "no_show": by["no_show"],
            "cancelled": by["cancelled"], "waiting": by["waiting"],
            "wait": describe(waits), "transfer_wait": describe([w for t in tickets for w in transfer_waits(t)]),
            "service": describe([s for s in map(service_s, tickets) if s is not None])}


def _within_target(tickets, target_s: int) -> float | None:
    waits = [w for w in map(wait_s, tickets) if w is not None]
    return round(sum(1 for w in waits if w <= target_s) / len(waits), 4) if waits else None


def _hourly(ms_values, tz) -> dict[str, int]:
    hours: dict[str, int] = defaultdict(int)
    for ms in ms_values:
        hours[datetime.fromtimestamp(ms / 1000, tz=timezone.utc).astimezone(tz).strftime("%H")] += 1
    return dict(sorted(hours.items()))


def _counter_raw(conn, day: str, counter: int, tickets, end_ms: int | None) -> dict:
    """Unrounded open, paused and serving seconds of one counter on one day."""
    events = conn.execute("SELECT kind, at_ms FROM events WHERE service_day = ? AND counter = ?"
                          " ORDER BY id", (day, counter)).fetchall()
    last = events[-1]["at_ms"] if events else end_ms
    stop = max(end_ms, last) if end_ms is not None else last
    open_ms = paused_ms = 0
    opened_at = paused_at = None
    for e in events:
        kind, at = e["kind"], e["at_ms"]
        if kind == "opened" and opened_at is None:
            opened_at = at
        elif kind == "paused" and paused_at is None:
            paused_at = at
        elif kind in ("resumed", "closed") and paused_at is not None:
            paused_ms += max(0, at - paused_at)
            paused_at = None
        if kind == "closed" and opened_at is not None:
            open_ms += max(0, at - opened_at)
            opened_at = None
    if opened_at is not None:
        open_ms += max(0, stop - opened_at)
    if paused_at is not None:
        paused_ms += max(0, stop - paused_at)
    return {"open": open_ms / 1000, "paused": paused_ms / 1000,
            "serving": sum(s for s in map(service_s, tickets) if s is not None)}


def _time_figures(raw: dict) -> dict:
    """open_s, paused_s, serving_s, idle_s and utilisation from (summed) raw seconds."""
    serving = raw["serving"]
    available = max(0.0, raw["open"] - raw["paused"])
    return {"open_s": round(raw["open"], 1), "paused_s": round(raw["paused"], 1),
            "serving_s": round(serving, 1), "idle_s": round(max(0.0, available - serving), 1),
            "utilisation": round(min(1.0, serving / available), 4) if available else None}


def _staff_figures(tickets, target_s: int) -> dict:
    """Per counter or verifier: called, served, no_show, cancelled, wait, service, within_target."""
    entry = {k: v for k, v in _counts(tickets).items() if k not in ("issued", "waiting")}
    entry["called"] = sum(1 for t in tickets if t["first_called_ms"] is not None)
    entry["within_target"] = _within_target(tickets, target_s)
    return entry


def _day_tickets(conn, day: str) -> list[dict]:
    return with_segments(conn, day, conn.execute("SELECT * FROM tickets WHERE service_day = ?", (day,)))


def _day(conn, site: Site, day: str, now_ms: int | None, tickets) -> tuple[dict, dict]:
    """The figures of one day, and each counter's unrounded times (for range sums)."""
    tz, target = site.tz, site.target_wait_min * 60
    is_today = now_ms is not None and _local_day(now_ms, tz) == day
    result = _counts(tickets)
    result.update({
        "service_day": day, "target_wait_s": target,
        "within_target": _within_target(tickets, target),
        "arrivals_per_hour": _hourly([t["issued_ms"] for t in tickets], tz),
        "completions_per_hour": _hourly([t["finished_ms"] for t in tickets if t["status"] == "done"], tz),
        "services": _services(site, tickets, target), "counters": {}, "verifiers": {}})
    raw_times = {}
    for c in site.counters:
        mine = [t for t in tickets if t["counter"] == c.number]
        raw_times[c.number] = _counter_raw(conn, day, c.number, mine, now_ms if is_today else None)
        result["counters"][str(c.number)] = _staff_figures(mine, target) | _time_figures(raw_times[c.number])
    result["verifiers"] = _verifiers(tickets, target)
    return result, raw_times


def _services(site: Site, tickets, target_s: int) -> dict:
    out = {}
    for svc in site.services:
        entry = _counts([t for t in tickets if t["service"] == svc.prefix])
        entry["issued"] = sum(1 for t in tickets if t["prefix"] == svc.prefix)
        entry["within_target"] = _within_target([t for t in tickets if t["service"] == svc.prefix],
                                                target_s)
        out[svc.prefix] = entry
    return out


def _verifiers(tickets, target_s: int) -> dict:
    """Keyed by user id as text, in ascending numeric order of the id."""
    return {str(uid): _staff_figures([t for t in tickets if t["user_id"] == uid], target_s)
            for uid in sorted({t["user_id"] for t in tickets if t["user_id"] is not None})}


def day_stats(conn: sqlite3.Connection, site: Site, day: str, now_ms: int | None = None) -> dict:
    """Every figure of one service day (see docs/STATISTICS.md)."""
    return _day(conn, site, day, now_ms, _day_tickets(conn, day))[0]


def range_stats(conn: sqlite3.Connection, site: Site, start: date, end: date,
                now_ms: int | None = None) -> dict:
    """Totals over ``start``..``end`` inclusive plus the figures of each day that had tickets.

    Each day is read with the ``service_day = ?`` index, once; the totals (per
    service, counter and verifier too) are computed from those same rows, and
    counter times are the sums of the days' times."""
    target = site.target_wait_min * 60
    days = [r[0] for r in conn.execute(
        "SELECT DISTINCT service_day FROM tickets WHERE service_day >= ? AND service_day <= ?"
        " ORDER BY service_day", (start.isoformat(), end.isoformat()))]
    tickets, figures = [], []
    raw = {c.number: {"open": 0.0, "paused": 0.0, "serving": 0.0} for c in site.counters}
    for d in days:
        rows = _day_tickets(conn, d)
        tickets.extend(rows)
        day, times = _day(conn, site, d, now_ms, rows)
        figures.append(day)
        for n, t in times.items():
            raw[n] = {k: raw[n][k] + t[k] for k in raw[n]}
    totals = _counts(tickets)
    totals["within_target"] = _within_target(tickets, target)
    totals["services"] = _services(site, tickets, target)
    totals["counters"] = {str(c.number): _staff_figures([t for t in tickets if t["counter"] == c.number],
                                                        target) | _time_figures(raw[c.number])
                          for c in site.counters}
    totals["verifiers"] = _verifiers(tickets, target)
    return {"from": start.isoformat(), "to": end.isoformat(), "totals": totals, "days": figures}


def _local_day(ms: int, tz) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).astimezone(tz).date().isoformat()


MAX_RANGE_DAYS = 366


def check_range(start: date, end: date) -> None:
    from server.errors import BadRequest
    if end < start or end - start > timedelta(days=MAX_RANGE_DAYS):
        raise BadRequest(f"'to' must be on or after 'from' and within {MAX_RANGE_DAYS} days.",
                         f"Tanggal 'to' harus sama atau setelah 'from', paling lama {MAX_RANGE_DAYS} hari.")
