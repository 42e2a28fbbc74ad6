"""Rebuild tickets' derived columns from the append-only events log.

The tickets table is the fast, indexed view that statistics read; the events
log is the record. ``rebuild_day`` replays one day's events in order and
rewrites each ticket's status, service, counter and timestamps, so a damaged
or hand-edited tickets table can always be repaired, and a test can prove the
two agree.
"""
from __future__ import annotations

import json
import sqlite3

COLUMNS = ("status", "service", "counter", "user_id", "first_called_ms", "last_called_ms",
           "started_ms", "finished_ms", "recall_count")
ENDS = {"finished": "done", "no_show": "no_show", "cancelled": "cancelled"}


def _apply(t: dict, e: sqlite3.Row) -> None:
    kind, at = e["kind"], e["at_ms"]
    if kind == "issued":
        t.update(status="waiting", service=e["service"])
    elif kind == "called":
        t.update(status="called", counter=e["counter"], user_id=e["user_id"], last_called_ms=at,
                 first_called_ms=t["first_called_ms"] or at)
    elif kind == "recalled":
        t.update(recall_count=t["recall_count"] + 1, last_called_ms=at)
    elif kind == "started":
        t.update(status="serving", started_ms=at)
    elif kind in ENDS:
        t.update(status=ENDS[kind], finished_ms=at)
    elif kind == "transferred":
        target = json.loads(e["detail"] or "{}").get("to") or e["service"]
        t.update(status="waiting", service=target, counter=None, started_ms=None, recall_count=0)


#: The one set of rules for what an event does to a ticket: the site's rebuild
#: and the city's central store (server/central/store.py) both apply it.
apply_event = _apply


def replay_day(conn: sqlite3.Connection, day: str) -> dict[int, dict]:
    """Ticket id → derived columns, from the events of ``day`` alone."""
    tickets: dict[int, dict] = {}
    for e in conn.execute("SELECT * FROM events WHERE service_day = ? AND ticket_id IS NOT NULL"
                          " ORDER BY id", (day,)):
        t = tickets.setdefault(e["ticket_id"], {c: None for c in COLUMNS} | {"recall_count": 0})
        _apply(t, e)
    return tickets


def rebuild_day(conn: sqlite3.Connection, day: str) -> int:
    """Rewrite the derived columns of ``day``'s tickets from events; return how many changed."""
    changed = 0
    for ticket_id, cols in replay_day(conn, day).items():
        row = conn.execute("SELECT * FROM tickets WHERE id = ?", (ticket_id,)).fetchone()
        if row is None or all(row[c] == cols[c] for c in COLUMNS):
            continue
        sets = ", ".join(f"{c} = ?" for c in COLUMNS)
        conn.execute(f"UPDATE tickets SET {sets} WHERE id = ?", (*(cols[c] for c in COLUMNS), ticket_id))
        changed += 1
    return changed
