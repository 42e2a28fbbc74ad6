"""Synthetic history loader: fills the server's real schema fast, for statistics at scale.

The schema comes from the server's own migrations (``server.db.Database``
runs them), and rows are written with ``executemany`` in one transaction, so
a million tickets take seconds, not hours. Every day looks like a day at the
claim counter: ``per_day`` tickets from 08:00, three services, 16 counters
opened at 08:00 and closed at 15:00, 95 % served and 5 % no-shows.

Not a simulator of the queue rules (``lalopa simulate`` is): it writes the
rows those rules would leave behind, so it must change when the schema does.
"""
from __future__ import annotations

import json
import random
import sqlite3
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

from server.config import Site

SERVICE_MIX = (("A", 0.7), ("B", 0.15), ("C", 0.15))
OPEN_AT, CLOSE_AT = time(8, 0), time(15, 0)

TICKET_COLS = ("id, service_day, prefix, seq, number, service, issue_order, queue_order, priority,"
               " status, token, device, issued_ms, first_called_ms, last_called_ms, started_ms,"
               " finished_ms, counter, user_id, recall_count")
EVENT_COLS = "service_day, kind, ticket_id, service, counter, device, user_id, at_ms, at_utc, detail"


def _ms(day: date, at: time, tz) -> int:
    return int(datetime.combine(day, at, tz).timestamp() * 1000)


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).isoformat(timespec="milliseconds")


def _day_rows(day: date, per_day: int, first_id: int, site: Site, rng: random.Random):
    """Tickets and events of one service day."""
    tz, d = site.tz, day.isoformat()
    start, end = _ms(day, OPEN_AT, tz), _ms(day, CLOSE_AT, tz)
    counters = [c.number for c in site.counters] or [1]
    seqs = {p: 0 for p, _ in SERVICE_MIX}
    prefixes = [p for p, _ in SERVICE_MIX]
    weights = [w for _, w in SERVICE_MIX]
    tickets, events = [], []
    step = (end - start - 3_600_000) // max(1, per_day)
    for i in range(per_day):
        tid = first_id + i
        prefix = rng.choices(prefixes, weights)[0]
        seqs[prefix] += 1
        issued = start + i * step + rng.randrange(max(1, step))
        called = issued + rng.randrange(60_000, 2_400_000)
        counter = counters[i % len(counters)]
        no_show = rng.random() < 0.05
        started = None if no_show else called + rng.randrange(20_000, 90_000)
        finished = None if no_show else started + rng.randrange(180_000, 600_000)
        priority = "lansia" if rng.random() < 0.08 else None
        tickets.append((tid, d, prefix, seqs[prefix], f"{prefix}-{seqs[prefix]:03d}", prefix, i + 1, i + 1,
                        priority, "no_show" if no_show else "done", f"h{tid:x}", "kiosk-1", issued,
                        called, called, started, finished, counter, None, 2 if no_show else 0))
        events.append((d, "issued", tid, prefix, None, "kiosk-1", None, issued, _iso(issued), None))
        last = called + 120_000 if no_show else finished
        events.append((d, "no_show" if no_show else "finished", tid, prefix, counter, f"box-{counter}",
                       None, last, _iso(last), None))
    for c in counters:
        events.append((d, "opened", None, None, c, f"box-{c}", None, start, _iso(start), None))
        events.append((d, "closed", None, None, c, f"box-{c}", None, end, _iso(end), None))
    return tickets, events


def load_history(db_path: str | Path, site: Site, tickets: int, per_day: int = 400,
                 last_day: date | None = None, seed: int = 7) -> dict:
    """Create ``db_path`` with the server's schema and ``tickets`` tickets of history.

    The history ends on ``last_day`` (yesterday by default) and goes back as
    many days as needed at ``per_day`` tickets a day. Returns the day range.
    """
    from server.db import Database  # the server's migrations define the schema
    Database(db_path).close()
    rng = random.Random(seed)
    days = max(1, -(-tickets // per_day))
    last_day = last_day or (date.today() - timedelta(days=1))
    first_day = last_day - timedelta(days=days - 1)
    conn = sqlite3.connect(str(db_path), isolation_level=None)
    conn.execute("PRAGMA synchronous=OFF")  # bulk load only; the server reopens with FULL
    conn.execute("BEGIN IMMEDIATE")
    next_id, left = 1, tickets
    for k in range(days):
        n = min(per_day, left)
        t_rows, e_rows = _day_rows(first_day + timedelta(days=k), n, next_id, site, rng)
        conn.executemany(f"INSERT INTO tickets ({TICKET_COLS}) VALUES ({','.join('?' * 20)})", t_rows)
        conn.executemany(f"INSERT INTO events ({EVENT_COLS}) VALUES ({','.join('?' * 10)})", e_rows)
        next_id += n
        left -= n
    conn.execute("INSERT OR REPLACE INTO state (key, value) VALUES ('history_loader', ?)",
                 (json.dumps({"tickets": tickets, "per_day": per_day}),))
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.close()
    return {"first_day": first_day, "last_day": last_day, "days": days, "tickets": tickets}
