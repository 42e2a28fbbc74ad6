"""The city store in PostgreSQL: sites' event logs (once each), tickets, daily aggregates, live state.

:meth:`Store.ingest` takes the batches that arrived and, in one transaction,
stores each ``(site, seq)`` once (``ON CONFLICT DO NOTHING``: a replayed or
duplicated batch changes nothing), advances each site's ``stored_seq`` over
the consecutive seqs it now holds, applies exactly those events, in seq
order, to the ticket projection (with the site's own replay rules,
server/replay.py) and recomputes the daily aggregates of the days they
touched. Events past a hole are kept but not applied until the hole is
filled, so the figures never depend on arrival order.

Reports across months read only ``daily`` (one row per site, day and
service), never tickets.
"""
from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
from psycopg.rows import dict_row

from broker.protocol import CityBatch, CityEvent, CityIkm
from server.replay import apply_event

SCHEMA = Path(__file__).with_name("schema.sql")

#: The puskesmas service clusters (Integrasi Layanan Primer) a site's services
#: are grouped into for city reports: id -> (Indonesian, English).
CLUSTERS: dict[str, tuple[str, str]] = {
    "manajemen": ("Klaster 1 — Manajemen", "Cluster 1 — Management"),
    "ibu-anak": ("Klaster 2 — Ibu dan Anak", "Cluster 2 — Mother and child"),
    "dewasa-lansia": ("Klaster 3 — Usia Dewasa dan Lansia", "Cluster 3 — Adults and elderly"),
    "penyakit-menular": ("Klaster 4 — Penyakit Menular", "Cluster 4 — Infectious disease"),
    "lintas-klaster": ("Lintas Klaster (lab, farmasi)", "Cross-cluster (lab, pharmacy)"),
    "lainnya": ("Lainnya", "Other"),
}
DEFAULT_CLUSTER = "lainnya"
COUNTER_EVENTS = {"opened": "open", "closed": "closed", "paused": "paused", "resumed": "open"}
TICKET_COLUMNS = ("day", "number", "prefix", "service", "priority", "status", "issued_ms",
                  "first_called_ms", "last_called_ms", "served_from_ms", "started_ms", "finished_ms",
                  "counter", "user_id", "recall_count")


@dataclass
class SiteProgress:
    """What one ingest did for a site: the seq now stored and a hole, if any."""

    site: str
    stored_seq: int
    head_seq: int
    inserted: int = 0
    duplicates: int = 0
    gap: tuple[int, int] | None = None  # (from_seq, to_seq) still missing


class CentralError(RuntimeError):
    """The city store cannot do what was asked; the message says what to do."""


def connect(dsn: str) -> psycopg.Connection:
    try:
        return psycopg.connect(dsn, row_factory=dict_row)
    except psycopg.OperationalError as exc:
        raise CentralError(f"PostgreSQL tidak dapat dihubungi / cannot reach PostgreSQL ({dsn}): "
                           f"{str(exc).strip().splitlines()[0]}") from exc


class Store:
    """One PostgreSQL connection, used by one thread at a time (the ingest loop or a request)."""

    def __init__(self, dsn: str):
        self.dsn = dsn
        self.conn = connect(dsn)
        with self.conn.transaction():
            # Two centres starting at once must not both create the tables.
            self.conn.execute("SELECT pg_advisory_xact_lock(18018)")
            self.conn.execute(SCHEMA.read_text())

    def close(self) -> None:
        self.conn.close()

    # -- sites ------------------------------------------------------------

    def add_site(self, site: str, name: str, *, tz: str = "Asia/Jakarta", target_wait_min: int = 30,
                 clusters: dict[str, str] | None = None, now_ms: int) -> None:
        """Register (or update) a site: its name, timezone, wait target and service clusters."""
        ZoneInfo(tz)  # an unknown zone fails here, with the zone's name
        for prefix, cluster in (clusters or {}).items():
            if cluster not in CLUSTERS:
                raise CentralError(f"klaster tidak dikenal / unknown cluster {cluster!r} for {prefix}: "
                                   f"use one of {', '.join(CLUSTERS)}")
        with self.conn.transaction():
            self.conn.execute(
                "INSERT INTO sites (site, name, tz, target_wait_s, added_ms) VALUES (%s, %s, %s, %s, %s)"
                " ON CONFLICT (site) DO UPDATE SET name = EXCLUDED.name, tz = EXCLUDED.tz,"
                " target_wait_s = EXCLUDED.target_wait_s", (site, name, tz, target_wait_min * 60, now_ms))
            for prefix, cluster in (clusters or {}).items():
                self.conn.execute(
                    "INSERT INTO site_services (site, prefix, cluster) VALUES (%s, %s, %s)"
                    " ON CONFLICT (site, prefix) DO UPDATE SET cluster = EXCLUDED.cluster",
                    (site, prefix, cluster))

    def _ensure_site(self, site: str, now_ms: int) -> dict:
        row = self.conn.execute("SELECT * FROM sites WHERE site = %s FOR UPDATE", (site,)).fetchone()
        if row is None:
            # The broker let it in, so it was provisioned there; never drop its events.
            self.conn.execute("INSERT INTO sites (site, name, added_ms) VALUES (%s, %s, %s)",
                              (site, site, now_ms))
            row = self.conn.execute("SELECT * FROM sites WHERE site = %s FOR UPDATE", (site,)).fetchone()
        return row

    def site_progress(self) -> dict[str, dict]:
        rows = self.conn.execute("SELECT site, stored_seq, head_seq, link, gap_since_ms, gap_requests,"
                                 " last_batch_ms FROM sites").fetchall()
        self.conn.commit()
        return {r["site"]: r for r in rows}

    def set_link(self, site: str, online: bool, now_ms: int) -> None:
        with self.conn.transaction():
            self._ensure_site(site, now_ms)
            self.conn.execute("UPDATE sites SET link = %s, link_ms = %s WHERE site = %s",
                              ("online" if online else "offline", now_ms, site))

    def note_gap_request(self, site: str) -> None:
        with self.conn.transaction():
            self.conn.execute("UPDATE sites SET gap_requests = gap_requests + 1 WHERE site = %s", (site,))

    def set_live(self, items: list[tuple[str, str, dict | None]], now_ms: int) -> None:
        """Store retained live state: ``(site, topic, payload)``; None clears the topic."""
        with self.conn.transaction():
            for site, topic, payload in items:
                if payload is None:
                    self.conn.execute("DELETE FROM live WHERE site = %s AND topic = %s", (site, topic))
                else:
                    self.conn.execute(
                        "INSERT INTO live (site, topic, payload, at_ms) VALUES (%s, %s, %s, %s)"
                        " ON CONFLICT (site, topic) DO UPDATE SET payload = EXCLUDED.payload,"
                        " at_ms = EXCLUDED.at_ms", (site, topic, json.dumps(payload), now_ms))

    def set_ikm(self, reports: list[CityIkm], now_ms: int) -> None:
        """Replace each reported (site, day) of survey figures with the site's own."""
        with self.conn.transaction():
            for r in reports:
                self._ensure_site(r.site, now_ms)
                self.conn.execute("DELETE FROM ikm_daily WHERE site = %s AND day = %s", (r.site, r.day))
                for x in r.services:
                    self.conn.execute("INSERT INTO ikm_daily (site, day, service, n, sums)"
                                      " VALUES (%s, %s, %s, %s, %s)", (r.site, r.day, x.service, x.n,
                                                                       list(x.sums)))

    # -- ingest -------------------------------------------------------------

    def ingest(self, batches: list[CityBatch], now_ms: int) -> dict[str, SiteProgress]:
        """Store and apply a set of batches (any sites, any order, duplicates allowed)."""
        by_site: dict[str, list[CityBatch]] = defaultdict(list)
        for b in batches:
            by_site[b.site].append(b)
        out = {}
        with self.conn.transaction():
            for site in sorted(by_site):  # one lock order: two centres never deadlock
                out[site] = self._ingest_site(site, by_site[site], now_ms)
        return out

    def _ingest_site(self, site: str, batches: list[CityBatch], now_ms: int) -> SiteProgress:
        row = self._ensure_site(site, now_ms)
        stored = row["stored_seq"]
        head = max([row["head_seq"]] + [b.head for b in batches])
        fresh: dict[int, CityEvent] = {}
        seen = 0
        for b in batches:
            for e in b.events:
                seen += 1
                if e.seq > stored:
                    fresh.setdefault(e.seq, e)
        inserted = 0
        if fresh:
            with self.conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO events (site, seq, day, kind, at_ms, ticket, number, prefix, service,"
                    " counter, user_id, detail, received_ms) VALUES"
                    " (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                    [(site, e.seq, e.day, e.kind, e.at_ms, e.ticket, e.number, e.prefix, e.service,
                      e.counter, e.user, json.dumps(e.detail) if e.detail is not None else None, now_ms)
                     for e in fresh.values()])
                inserted = max(0, cur.rowcount)
        progress = SiteProgress(site, stored, head, inserted, seen - inserted)
        held = [r["seq"] for r in self.conn.execute(
            "SELECT seq FROM events WHERE site = %s AND seq > %s ORDER BY seq", (site, stored))]
        new_stored = stored
        for seq in held:
            if seq != new_stored + 1:
                break
            new_stored = seq
        if new_stored > stored:
            self._apply(site, stored, new_stored)
        remaining = [s for s in held if s > new_stored]
        if remaining:
            progress.gap = (new_stored + 1, remaining[0] - 1)
        elif head > new_stored:
            progress.gap = (new_stored + 1, head)  # a missing tail: the site said it has more
        progress.stored_seq = new_stored
        gap_since = (row["gap_since_ms"] or now_ms) if progress.gap else None
        self.conn.execute(
            "UPDATE sites SET stored_seq = %s, head_seq = %s, last_batch_ms = %s, gap_since_ms = %s,"
            " gap_requests = CASE WHEN %s THEN gap_requests ELSE 0 END,"
            " duplicates = duplicates + %s WHERE site = %s",
            (new_stored, head, now_ms, gap_since, progress.gap is not None, progress.duplicates, site))
        return progress

    def _apply(self, site: str, after: int, upto: int) -> None:
        """Apply events ``after < seq <= upto`` in order to tickets, counters and daily."""
        events = self.conn.execute("SELECT * FROM events WHERE site = %s AND seq > %s AND seq <= %s"
                                   " ORDER BY seq", (site, after, upto)).fetchall()
        ids = sorted({e["ticket"] for e in events if e["ticket"] is not None})
        tickets = {r["ticket"]: dict(r) for r in self.conn.execute(
            "SELECT * FROM tickets WHERE site = %s AND ticket = ANY(%s)", (site, ids))}
        counters: dict[int, tuple[str, int]] = {}
        days: set[date] = set()
        for e in events:
            if e["kind"] in COUNTER_EVENTS and e["counter"] is not None:
                counters[e["counter"]] = (COUNTER_EVENTS[e["kind"]], e["at_ms"])
            if e["ticket"] is None:
                continue
            t = tickets.get(e["ticket"])
            if t is None:
                detail = e["detail"] or {}
                t = tickets[e["ticket"]] = {
                    "site": site, "ticket": e["ticket"], "day": e["day"], "number": e["number"],
                    "prefix": e["prefix"] or e["service"], "service": e["service"],
                    "priority": detail.get("priority"), "status": "waiting", "issued_ms": e["at_ms"],
                    "first_called_ms": None, "last_called_ms": None, "served_from_ms": None,
                    "started_ms": None, "finished_ms": None, "counter": None, "user_id": None,
                    "recall_count": 0}
            _apply_to_ticket(t, e)
            days.add(t["day"])
        if tickets:
            cols = ("site", "ticket") + TICKET_COLUMNS
            sets = ", ".join(f"{c} = EXCLUDED.{c}" for c in TICKET_COLUMNS)
            with self.conn.cursor() as cur:
                cur.executemany(
                    f"INSERT INTO tickets ({', '.join(cols)}) VALUES ({', '.join(['%s'] * len(cols))})"
                    f" ON CONFLICT (site, ticket) DO UPDATE SET {sets}",
                    [tuple(t[c] for c in cols) for t in tickets.values()])
        for n, (status, at) in counters.items():
            self.conn.execute("INSERT INTO counters (site, counter, status, since_ms) VALUES (%s, %s, %s, %s)"
                              " ON CONFLICT (site, counter) DO UPDATE SET status = EXCLUDED.status,"
                              " since_ms = EXCLUDED.since_ms", (site, n, status, at))
        if days:
            refresh_daily(self.conn, site, sorted(days))


def _apply_to_ticket(t: dict, e: dict) -> None:
    """The site's own replay rules, plus the start of service after a transfer.

    ``served_from_ms`` is the first call after the ticket's last transfer (its
    first call when never transferred), as the site's statistics define it."""
    view = {"kind": e["kind"], "at_ms": e["at_ms"], "service": e["service"], "counter": e["counter"],
            "user_id": e["user_id"], "detail": json.dumps(e["detail"]) if e["detail"] else None}
    if e["kind"] == "issued":
        return
    apply_event(t, view)
    if e["kind"] == "called" and t["served_from_ms"] is None:
        t["served_from_ms"] = e["at_ms"]
    elif e["kind"] == "transferred":
        t["served_from_ms"] = None


# Every figure of a day as the site's statistics define it (docs/STATISTICS.md):
# waits are first call - issue, never negative; within target is wait <= target;
# service time is finish - (start, else the first call after the last transfer).
DAILY_SQL = """
WITH t AS (
  SELECT t.site, t.day, t.service, t.prefix, t.status, s.target_wait_s,
         CASE WHEN first_called_ms IS NULL THEN NULL
              ELSE GREATEST(0, first_called_ms - issued_ms) END AS w,
         CASE WHEN status = 'done' AND finished_ms IS NOT NULL
                   AND COALESCE(started_ms, served_from_ms) IS NOT NULL
              THEN GREATEST(0, finished_ms - COALESCE(started_ms, served_from_ms)) END AS sv
  FROM tickets t JOIN sites s ON s.site = t.site
  WHERE t.site = %(site)s AND t.day = ANY(%(days)s)
)
INSERT INTO daily
SELECT COALESCE(f.site, i.site), COALESCE(f.day, i.day), COALESCE(f.service, i.service),
       COALESCE(i.issued, 0), COALESCE(f.served, 0), COALESCE(f.no_show, 0),
       COALESCE(f.cancelled, 0), COALESCE(f.waiting, 0), COALESCE(f.wait_n, 0),
       COALESCE(f.wait_sum_ms, 0), COALESCE(f.within_target, 0), COALESCE(f.wait_15, 0),
       COALESCE(f.wait_30, 0), COALESCE(f.wait_60, 0), COALESCE(f.wait_more, 0),
       COALESCE(f.service_n, 0), COALESCE(f.service_sum_ms, 0)
FROM (
  SELECT site, day, service,
         COUNT(*) FILTER (WHERE status = 'done') AS served,
         COUNT(*) FILTER (WHERE status = 'no_show') AS no_show,
         COUNT(*) FILTER (WHERE status = 'cancelled') AS cancelled,
         COUNT(*) FILTER (WHERE status = 'waiting') AS waiting,
         COUNT(w) AS wait_n, COALESCE(SUM(w), 0) AS wait_sum_ms,
         COUNT(*) FILTER (WHERE w <= target_wait_s * 1000) AS within_target,
         COUNT(*) FILTER (WHERE w <= 900000) AS wait_15,
         COUNT(*) FILTER (WHERE w > 900000 AND w <= 1800000) AS wait_30,
         COUNT(*) FILTER (WHERE w > 1800000 AND w <= 3600000) AS wait_60,
         COUNT(*) FILTER (WHERE w > 3600000) AS wait_more,
         COUNT(sv) AS service_n, COALESCE(SUM(sv), 0) AS service_sum_ms
  FROM t GROUP BY site, day, service
) f
FULL OUTER JOIN (
  SELECT site, day, prefix AS service, COUNT(*) AS issued FROM t GROUP BY site, day, prefix
) i ON i.site = f.site AND i.day = f.day AND i.service = f.service
"""


def refresh_daily(conn: psycopg.Connection, site: str, days: list[date]) -> None:
    """Recompute the daily rows of ``site`` on ``days`` from its tickets."""
    conn.execute("DELETE FROM daily WHERE site = %s AND day = ANY(%s)", (site, days))
    conn.execute(DAILY_SQL, {"site": site, "days": days})


def utc_ms() -> int:
    return int(datetime.now(timezone.utc).timestamp() * 1000)


