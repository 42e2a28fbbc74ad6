"""One write transaction of the queue: its clock reading, service day, events and changes.

:class:`Tx` is handed to every state change. It stamps the time once, picks
the service day (never reopening an earlier day when the clock goes back),
appends events and collects the changes that listeners get after commit.
"""
from __future__ import annotations

import json
import logging
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timezone

from broker.vocab import ACTIVE_STATES

from server.clock import Reading, iso_local, iso_utc, local_date
from server.config import Site

log = logging.getLogger(__name__)
ACTIVE = ACTIVE_STATES
IDEMPOTENCY_KEEP_MS = 7 * 24 * 3600 * 1000
_warned: dict[str, str] = {}  # a counter's current ticket has one of these


def get_state(conn: sqlite3.Connection, key: str, default: str | None = None) -> str | None:
    row = conn.execute("SELECT value FROM state WHERE key = ?", (key,)).fetchone()
    return row["value"] if row else default


def set_state(conn: sqlite3.Connection, key: str, value) -> None:
    if conn.execute("UPDATE state SET value = ? WHERE key = ?", (str(value), key)).rowcount == 0:
        conn.execute("INSERT INTO state (key, value) VALUES (?, ?)", (key, str(value)))


def effective_day(conn: sqlite3.Connection, site: Site, now_ms: int) -> str:
    """The service day at ``now_ms``: the clock's local date, but never before the latest day opened."""
    clock_day = local_date(now_ms, site.tz).isoformat()
    current = get_state(conn, "current_day")
    return clock_day if current is None or clock_day > current else current


@dataclass
class Tx:
    """The context of one write: connection, time, day and collected changes."""

    conn: sqlite3.Connection
    site: Site
    now_ms: int
    day: str
    changes: list = field(default_factory=list)
    jump: dict | None = None  # set when this transaction's clock reading saw a jump

    @classmethod
    def begin(cls, conn: sqlite3.Connection, site: Site, reading: Reading) -> "Tx":
        now = reading.epoch_ms
        tx = cls(conn, site, now, "")
        clock_day = local_date(now, site.tz).isoformat()
        current = get_state(conn, "current_day")
        if current is None or clock_day > current:
            conn.execute("INSERT INTO days (service_day, opened_ms) VALUES (?, ?)", (clock_day, now))
            set_state(conn, "current_day", clock_day)
            # Retries come within seconds; a week of request ids is plenty.
            conn.execute("DELETE FROM idempotency WHERE created_ms < ?", (now - IDEMPOTENCY_KEEP_MS,))
            tx.day = clock_day
        else:
            tx.day = current
            if clock_day < current and _warned.get(current) != clock_day:
                # The Pi has no RTC: a clock that went back must not reopen a day.
                _warned[current] = clock_day  # once per (day, wrong date), not every write
                log.warning("clock says %s but day %s is already open; staying on %s",
                            clock_day, current, current)
        if reading.jump_s is not None:
            tx.jump = {"jump_s": round(reading.jump_s, 3), "clock_day": clock_day}
            tx.event("clock_jump", detail=tx.jump)
            log.warning("wall clock jumped by %.1f s", reading.jump_s)
        return tx

    def event(self, kind: str, *, ticket: sqlite3.Row | None = None, counter: int | None = None,
              device: str | None = None, user_id: int | None = None, detail: dict | None = None,
              service: str | None = None) -> None:
        """Append one event (the log is append-only: never updated or deleted)."""
        self.conn.execute(
            "INSERT INTO events (service_day, kind, ticket_id, service, counter, device, user_id,"
            " at_ms, at_utc, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (self.day, kind, ticket["id"] if ticket else None,
             service or (ticket["service"] if ticket else None), counter, device, user_id,
             self.now_ms, iso_utc(self.now_ms), json.dumps(detail) if detail else None))

    def ticket(self, ticket_id: int) -> sqlite3.Row:
        return self.conn.execute("SELECT * FROM tickets WHERE id = ?", (ticket_id,)).fetchone()

    @property
    def moment(self) -> datetime:
        """The transaction's time as an aware UTC datetime."""
        return datetime.fromtimestamp(self.now_ms / 1000, tz=timezone.utc)

    def iso(self, ms: int | None = None) -> str:
        return iso_local(self.now_ms if ms is None else ms, self.site.tz)


def people_ahead(conn: sqlite3.Connection, row: sqlite3.Row) -> int:
    """Waiting tickets that would be called before ``row`` under strict priority.

    For a priority ticket: earlier priority tickets of its service. For a
    normal ticket: every waiting priority ticket plus earlier normal ones (an
    upper bound under the interleave policy).
    """
    if row["status"] != "waiting":
        return 0
    if row["priority"]:
        sql = "AND priority IS NOT NULL AND queue_order < ?"
    else:
        sql = "AND (priority IS NOT NULL OR queue_order < ?)"
    return conn.execute(
        "SELECT COUNT(*) FROM tickets WHERE service_day = ? AND service = ? AND status = 'waiting' "
        + sql, (row["service_day"], row["service"], row["queue_order"])).fetchone()[0]


def ticket_dict(row: sqlite3.Row, site: Site, ahead: int | None = None,
                estimate: dict | None = None) -> dict:
    """A ticket as the API shows it to staff devices (includes the status token).

    ``estimate``: est_wait_s, est_low_s, est_high_s of a waiting ticket (server.eta)."""
    est = estimate or {}
    counter = site.counter(row["counter"]) if row["counter"] is not None else None
    return {
        "id": row["id"], "number": row["number"], "service": row["service"],
        "prefix": row["prefix"], "priority": row["priority"], "status": row["status"],
        "token": row["token"], "issued_at": iso_local(row["issued_ms"], site.tz),
        "service_day": row["service_day"], "people_ahead": ahead if ahead is not None else 0,
        "est_wait_s": est.get("est_wait_s"), "est_low_s": est.get("est_low_s"),
        "est_high_s": est.get("est_high_s"), "counter": row["counter"],
        "counter_name": counter.name if counter else None,
        "recall_count": row["recall_count"],
        "called_at": iso_local(row["last_called_ms"], site.tz) if row["last_called_ms"] else None,
    }


def public_ticket(full: dict) -> dict:
    """A ticket as anyone holding its status link may see it (no ids, no token)."""
    keys = ("number", "service", "priority", "status", "issued_at", "service_day",
            "people_ahead", "est_wait_s", "est_low_s", "est_high_s", "counter", "counter_name", "called_at", "recall_count")
    return {k: full[k] for k in keys}
