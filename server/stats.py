"""Statistics, derived from the tickets table and the append-only events log.

docs/STATISTICS.md defines every figure. All queries filter on ``service_day``
first (indexed), so a day view costs the same however much history exists.
"""
from __future__ import annotations

import array
import hashlib
import json
import math
import sqlite3
import sys
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
    # fsum: the correctly rounded sum, whatever the order (a range pools stored days' values)
    mean = math.fsum(values) / len(values) if values else None
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
        oldest = conn.execute("SELECT MIN(issued_ms) FROM tickets INDEXED BY tickets_queue"
                              " WHERE service_day = ? AND service = ?"
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


def range_days(conn: sqlite3.Connection, start: date, end: date) -> list[str]:
    """The service days within ``start``..``end`` that had tickets, in order."""
    return [r[0] for r in conn.execute(
        "SELECT DISTINCT service_day FROM tickets WHERE service_day >= ? AND service_day <= ?"
        " ORDER BY service_day", (start.isoformat(), end.isoformat()))]


def range_stats(conn: sqlite3.Connection, site: Site, start: date, end: date,
                now_ms: int | None = None, stored: dict[str, dict] | None = None) -> dict:
    """Totals over ``start``..``end`` inclusive plus the figures of each day (see range_pooled)."""
    return range_pooled(conn, site, start, end, now_ms, stored)[0]


def range_pooled(conn: sqlite3.Connection, site: Site, start: date, end: date,
                 now_ms: int | None = None, stored: dict[str, dict] | None = None) -> tuple[dict, list[float]]:
    """Totals over ``start``..``end`` inclusive plus the figures of each day that had tickets,
    and every wait of the range, sorted.

    Each day is summarised once (:func:`day_summary`: its figures, its counters' unrounded
    times and, per group, the counts and the sorted waits and service times), either read
    from ``stored`` (closed days kept in ``day_figures``, see :func:`stored_summaries`) or
    computed from its tickets through the ``service_day`` index. The totals pool the days'
    sorted values, so a median or p90 is over every ticket of the range, never an average
    of daily figures, and equals a computation over all the range's tickets at once.
    Counter times are the sums of the days' times."""
    target = site.target_wait_min * 60
    figures, summaries = [], []
    raw = {c.number: {"open": 0.0, "paused": 0.0, "serving": 0.0} for c in site.counters}
    for d in range_days(conn, start, end):
        summary = (stored or {}).get(d) or day_summary(conn, site, d, now_ms)
        summaries.append(summary)
        figures.append(summary["figures"])
        for n, t in summary["raw"].items():
            if int(n) in raw:
                raw[int(n)] = {k: raw[int(n)][k] + t[k] for k in raw[int(n)]}
    groups = _pool([s["groups"] for s in summaries])
    empty = _group([])
    totals = _group_counts(groups.get("all", empty))
    totals["within_target"] = _group_within(groups.get("all", empty), target)
    totals["services"] = {}
    for svc in site.services:
        g = groups.get(f"s:{svc.prefix}", empty)
        entry = _group_counts(g)
        entry["issued"] = groups.get(f"p:{svc.prefix}", empty)["n"]
        entry["within_target"] = _group_within(g, target)
        totals["services"][svc.prefix] = entry
    totals["counters"] = {str(c.number): _group_staff(groups.get(f"c:{c.number}", empty), target)
                          | _time_figures(raw[c.number]) for c in site.counters}
    users = sorted(int(k[2:]) for k in groups if k.startswith("u:"))
    totals["verifiers"] = {str(u): _group_staff(groups[f"u:{u}"], target) for u in users}
    result = {"from": start.isoformat(), "to": end.isoformat(), "totals": totals, "days": figures}
    return result, groups.get("all", empty)["wait"]


# ----------------------------------------------------------------- day summaries (range reports)
# A closed day's summary is stored once in day_figures (migration 060_day_figures); triggers
# on tickets and events delete it when anything of that day changes, and a change of the
# site's counters, services, target or time zone changes SUMMARY_KEY, so a stored summary is
# never out of date. A year report then reads one row per day instead of every ticket.

SUMMARY_VERSION = 1


def summary_key(site: Site) -> str:
    """What a stored day summary depends on besides the day's own rows."""
    basis = json.dumps([SUMMARY_VERSION, sys.byteorder, site.timezone, site.target_wait_min,
                        [(c.number, list(c.services)) for c in site.counters],
                        [s.prefix for s in site.services]])
    return hashlib.sha256(basis.encode()).hexdigest()[:16]


def _group(tickets) -> dict:
    """Counts and sorted values of a group of tickets (mergeable across days)."""
    status: dict[str, int] = defaultdict(int)
    for t in tickets:
        status[t["status"]] += 1
    return {"n": len(tickets), "status": dict(status),
            "called": sum(1 for t in tickets if t["first_called_ms"] is not None),
            "wait": sorted(w for w in map(wait_s, tickets) if w is not None),
            "transfer_wait": sorted(w for t in tickets for w in transfer_waits(t)),
            "service": sorted(x for x in map(service_s, tickets) if x is not None)}


def _pool(days: list[dict]) -> dict:
    """Merge the groups of several days: counts add, sorted values merge."""
    out: dict[str, dict] = {}
    for groups in days:
        for key, g in groups.items():
            acc = out.get(key)
            if acc is None:
                out[key] = {"n": g["n"], "status": dict(g["status"]), "called": g["called"],
                            "wait": list(g["wait"]), "transfer_wait": list(g["transfer_wait"]),
                            "service": list(g["service"])}
                continue
            acc["n"] += g["n"]
            acc["called"] += g["called"]
            for k, v in g["status"].items():
                acc["status"][k] = acc["status"].get(k, 0) + v
            for k in ("wait", "transfer_wait", "service"):
                acc[k].extend(g[k])
    for g in out.values():
        for k in ("wait", "transfer_wait", "service"):
            g[k].sort()  # runs of sorted days: timsort merges them in about n log(days)
    return out


def _group_counts(g: dict) -> dict:
    st = g["status"]
    return {"issued": g["n"], "served": st.get("done", 0), "no_show": st.get("no_show", 0),
            "cancelled": st.get("cancelled", 0), "waiting": st.get("waiting", 0),
            "wait": describe(g["wait"]), "transfer_wait": describe(g["transfer_wait"]),
            "service": describe(g["service"])}


def _group_within(g: dict, target_s: int) -> float | None:
    waits = g["wait"]
    if not waits:
        return None
    import bisect
    return round(bisect.bisect_right(waits, target_s) / len(waits), 4)


def _group_staff(g: dict, target_s: int) -> dict:
    entry = {k: v for k, v in _group_counts(g).items() if k not in ("issued", "waiting")}
    entry["called"] = g["called"]
    entry["within_target"] = _group_within(g, target_s)
    return entry


def day_summary(conn: sqlite3.Connection, site: Site, day: str, now_ms: int | None) -> dict:
    """One day's figures, its counters' unrounded times and its groups' counts and values."""
    tickets = _day_tickets(conn, day)
    figures, raw_times = _day(conn, site, day, now_ms, tickets)
    groups = {"all": _group(tickets)}
    for svc in site.services:
        groups[f"s:{svc.prefix}"] = _group([t for t in tickets if t["service"] == svc.prefix])
        groups[f"p:{svc.prefix}"] = {**_group([]), "n": sum(1 for t in tickets if t["prefix"] == svc.prefix)}
    for c in site.counters:
        groups[f"c:{c.number}"] = _group([t for t in tickets if t["counter"] == c.number])
    for uid in {t["user_id"] for t in tickets if t["user_id"] is not None}:
        groups[f"u:{uid}"] = _group([t for t in tickets if t["user_id"] == uid])
    return {"figures": figures, "raw": {str(n): t for n, t in raw_times.items()}, "groups": groups}


VALUE_KEYS = ("wait", "transfer_wait", "service")


def stored_summaries(conn: sqlite3.Connection, site: Site, start: date, end: date) -> dict[str, dict]:
    """The stored summaries of the closed days in ``start``..``end`` (for this site's key)."""
    out = {}
    for day, body, values in conn.execute(
            "SELECT service_day, body, value_bytes FROM day_figures WHERE service_day >= ?"
            " AND service_day <= ? AND site_key = ?", (start.isoformat(), end.isoformat(), summary_key(site))):
        summary = json.loads(body)
        flat = array.array("d")
        flat.frombytes(values)
        for g in summary["groups"].values():
            for k in VALUE_KEYS:
                at, n = g[k]
                g[k] = flat[at:at + n].tolist()
        out[day] = summary
    return out


def stored_days(conn: sqlite3.Connection, site: Site, start: date, end: date) -> set[str]:
    """The closed days in ``start``..``end`` whose summary is stored (for this site's key)."""
    return {r[0] for r in conn.execute(
        "SELECT service_day FROM day_figures WHERE service_day >= ? AND service_day <= ?"
        " AND site_key = ?", (start.isoformat(), end.isoformat(), summary_key(site)))}


def store_summary(conn: sqlite3.Connection, site: Site, day: str) -> None:
    """Compute and store ``day``'s summary. Run inside the writer's transaction, so no change
    of the day can slip between the read and the store (the triggers delete it after)."""
    summary = day_summary(conn, site, day, None)
    # The sorted values go in one array of doubles (read back at C speed: a year of them
    # parsed as JSON numbers would cost most of the report); the groups keep (offset, count).
    flat = array.array("d")
    for g in summary["groups"].values():
        for k in VALUE_KEYS:
            g[k], _ = (len(flat), len(g[k])), flat.extend(g[k])
    conn.execute("INSERT OR REPLACE INTO day_figures (service_day, site_key, body, value_bytes)"
                 " VALUES (?, ?, ?, ?)", (day, summary_key(site), json.dumps(summary, separators=(",", ":")),
                                          flat.tobytes()))


def _local_day(ms: int, tz) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).astimezone(tz).date().isoformat()


MAX_RANGE_DAYS = 366


def check_range(start: date, end: date) -> None:
    from server.errors import BadRequest
    if end < start or end - start > timedelta(days=MAX_RANGE_DAYS):
        raise BadRequest(f"'to' must be on or after 'from' and within {MAX_RANGE_DAYS} days.",
                         f"Tanggal 'to' harus sama atau setelah 'from', paling lama {MAX_RANGE_DAYS} hari.")
