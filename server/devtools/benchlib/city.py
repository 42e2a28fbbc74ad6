"""The city benchmark: 80 sites against one centre (issue 18).

Three sites are real (their own Mosquitto bridged over TLS through a loopback
link, ``lalopa server``, ``lalopa central uplink``); the other 77 replay
recorded event streams: a site database holding a recorded day, sent by the
real :class:`~server.central.uplink.Uplink` logged in to the central broker
with that site's own credential (its bridge's part is Mosquitto forwarding,
left out). The centre is ``lalopa central serve`` on a PostgreSQL database
made for the run and dropped after it.
"""
from __future__ import annotations

import os
import random
import secrets
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg

from broker.bus import BusClient, free_port
from broker.protocol import CITY_LINK_ONLINE, city_topic
from server.central import provision, views
from server.central.store import Store, refresh_daily
from server.central.uplink import Uplink
from server.devtools.citylab import REPO, CentralBroker, CitySite, make_ca

ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
TZ = ZoneInfo("Asia/Jakarta")
#: A puskesmas day: about 274 tickets (80 sites x 365 days = 8 million a year).
PER_DAY = 274
COUNTERS = 6
TICKET_COLS = ("id, service_day, prefix, seq, number, service, issue_order, queue_order, status, token,"
               " issued_ms, first_called_ms, last_called_ms, started_ms, finished_ms, counter, recall_count")
EVENT_COLS = "service_day, kind, ticket_id, service, counter, at_ms, at_utc, detail"


def local_ms(day: date, hour: float) -> int:
    start = datetime(day.year, day.month, day.day, tzinfo=TZ)
    return int((start + timedelta(hours=hour)).timestamp() * 1000)


def recorded_day(path: Path, day: date, seed: int, hours: tuple[float, float] = (7.5, 14.0),
                 shift_ms: int = 0) -> int:
    """A site database holding one recorded day (events whose time falls in ``hours``); returns events.

    Half the residents come in the first two hours; 8 % do not come forward when called
    (recalled once, then no-show); the rest are started and finished at one of 6 counters."""
    from server.db import Database
    Database(path).close()  # the server's own migrations make the schema
    rng = random.Random(seed)
    d = day.isoformat()
    tickets, events = [], []
    free = [local_ms(day, 7.5)] * COUNTERS
    for c in range(1, COUNTERS + 1):
        events.append((local_ms(day, 7.5) + c, "opened", None, None, c, None))
    seqs = {"A": 0, "B": 0}
    for i in range(PER_DAY):
        issued = local_ms(day, 7.5 + (rng.uniform(0, 2) if i % 2 else rng.uniform(0, 5.5)))
        tickets.append([i + 1, issued])
    tickets.sort(key=lambda t: t[1])
    rows = []
    for order, (tid, issued) in enumerate(tickets, 1):
        prefix = "A" if rng.random() < 0.7 else "B"
        seqs[prefix] += 1
        k = min(range(COUNTERS), key=lambda c: free[c])
        called = max(issued + 30_000, free[k]) + rng.randrange(5_000, 30_000)
        events.append((issued, "issued", tid, prefix, None, None))
        events.append((called, "called", tid, prefix, k + 1, None))
        if rng.random() < 0.08:
            events.append((called + 60_000, "recalled", tid, prefix, k + 1, None))
            end = called + 120_000
            events.append((end, "no_show", tid, prefix, k + 1, None))
            status, started, finished = "no_show", None, None
        else:
            started = called + rng.randrange(20_000, 60_000)
            end = finished = started + rng.randrange(120_000, 480_000)
            events.append((started, "started", tid, prefix, k + 1, None))
            events.append((finished, "finished", tid, prefix, k + 1, None))
            status = "done"
        free[k] = end
        rows.append((tid, d, prefix, seqs[prefix], f"{prefix}-{seqs[prefix]:03d}", prefix, order, order,
                     status, secrets.token_hex(8), issued, called, called, started, finished, k + 1,
                     1 if status == "no_show" else 0))
    lo, hi = local_ms(day, hours[0]), local_ms(day, hours[1])
    events = sorted(e for e in events if lo <= e[0] < hi)
    if shift_ms:  # the same morning, played as if it were happening now
        events = [(at + shift_ms, *rest) for at, *rest in events]
        rows = [r[:10] + tuple(v + shift_ms if v is not None else None for v in r[10:15]) + r[15:]
                for r in rows]
    conn = sqlite3.connect(str(path), isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(f"INSERT INTO tickets ({TICKET_COLS}) VALUES ({','.join('?' * 17)})", rows)
    conn.executemany(f"INSERT INTO events ({EVENT_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                     [(d, kind, tid, svc, counter, at, datetime.fromtimestamp(at / 1000, timezone.utc)
                       .isoformat(), detail) for at, kind, tid, svc, counter, detail in events])
    conn.execute("COMMIT")
    conn.close()
    return len(events)


def busiest_minute(paths: list[Path]) -> int:
    """Events in the busiest minute of one recorded site (the same model for every site)."""
    conn = sqlite3.connect(str(paths[0]))
    n = conn.execute("SELECT MAX(c) FROM (SELECT COUNT(*) AS c FROM events GROUP BY at_ms / 60000)").fetchone()[0]
    conn.close()
    return n


class Replayer:
    """Recorded sites sending their logs with the real Uplink, one thread each."""

    def __init__(self, central: CentralBroker, sites: dict[str, tuple[Path, str]]):
        self.stop = threading.Event()
        self.threads, self.uplinks = [], []
        for site, (db, password) in sites.items():
            bus = BusClient(site=site, role="server", device="uplink", port=central.tls_port,
                            username=site, password=password, tls_ca=str(central.certs.ca), max_queued=2000)
            self.uplinks.append((bus, Uplink(db, bus)))

    def start(self) -> None:
        for bus, uplink in self.uplinks:
            bus.on_connected(lambda _present, bus=bus: bus.publish(
                city_topic(bus.topics.site, "link"), CITY_LINK_ONLINE, retain=True))  # as its bridge does
            bus.start()
            t = threading.Thread(target=uplink.run, args=(self.stop,), daemon=True)
            t.start()
            self.threads.append(t)

    def close(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(5)
        for bus, uplink in self.uplinks:
            bus.stop()
            uplink.close()


def _wait_stored(dsn: str, heads: dict[str, int], timeout: float) -> float:
    """Seconds until the centre holds every site's log up to its head (or raise)."""
    t0 = time.monotonic()
    with psycopg.connect(dsn, autocommit=True) as conn:
        while time.monotonic() - t0 < timeout:
            stored = dict(conn.execute("SELECT site, stored_seq FROM sites WHERE site = ANY(%s)",
                                       (list(heads),)).fetchall())
            if all(stored.get(s, 0) >= h for s, h in heads.items()):
                return time.monotonic() - t0
            time.sleep(0.05)
    raise TimeoutError(f"the centre did not catch up within {timeout:.0f} s")


def _calls(sites: list[CitySite], n: int, gap_s: float) -> int:
    """``n`` calls per real site through its HTTP API (issue, then next); the time they began (ms)."""
    for s in sites:
        api = s.api()
        for i in range(n):
            api.issue("A", None, f"bench-{secrets.token_hex(6)}")
    t0_ms = int(time.time() * 1000)
    for i in range(n):
        for s in sites:
            s.api().act(1 + i % 4, "next", f"bench-{secrets.token_hex(6)}")
        time.sleep(gap_s)
    return t0_ms


def _delays(dsn: str, sites: list[str], since_ms: int) -> list[float]:
    with psycopg.connect(dsn) as conn:
        return [r[0] for r in conn.execute(
            "SELECT (received_ms - at_ms)::float8 / 1000 FROM events WHERE site = ANY(%s) AND kind = 'called'"
            " AND at_ms >= %s", (sites, since_ms))]


def year_of_tickets(dsn: str, sites: list[str], last_day: date, days: int) -> tuple[int, float]:
    """Fill the centre with a year of tickets for every site (SQL, server side), then the daily
    aggregates through :func:`refresh_daily`. Returns (tickets, seconds to aggregate)."""
    first = last_day - timedelta(days=days - 1)
    with psycopg.connect(dsn) as conn:
        conn.execute("SET synchronous_commit = off")
        for k, site in enumerate(sites):
            conn.execute("""
                INSERT INTO tickets (site, ticket, day, number, prefix, service, status, issued_ms,
                                     first_called_ms, last_called_ms, served_from_ms, started_ms,
                                     finished_ms, counter, recall_count)
                SELECT %(site)s, 1000000000 + d * 1000 + n, %(first)s::date + d, 'A-' || lpad(n::text, 3, '0'),
                       p, p, st, iss, iss + w, iss + w, iss + w,
                       CASE WHEN st = 'done' THEN iss + w + 30000 END,
                       CASE WHEN st = 'done' THEN iss + w + 330000 END, 1 + n %% 6, 0
                FROM (SELECT d, n, CASE WHEN n %% 10 < 7 THEN 'A' ELSE 'B' END AS p,
                             CASE WHEN (n * 7 + d + %(k)s) %% 12 = 0 THEN 'no_show' ELSE 'done' END AS st,
                             (extract(epoch FROM (%(first)s::date + d)::timestamp AT TIME ZONE 'Asia/Jakarta')
                              * 1000)::bigint + 27000000 + n * 80000 AS iss,
                             ((n * 7919 + d * 104729 + %(k)s * 31) %% 3600) * 1000 AS w
                      FROM generate_series(0, %(days)s - 1) AS d, generate_series(1, %(per)s) AS n) g
            """, {"site": site, "first": first, "days": days, "per": PER_DAY, "k": k})
        conn.commit()
        t0 = time.monotonic()
        all_days = [first + timedelta(days=i) for i in range(days)]
        for site in sites:
            refresh_daily(conn, site, all_days)
        conn.commit()
        conn.execute("ANALYZE daily")
        n = conn.execute("SELECT COUNT(*) FROM tickets WHERE day BETWEEN %s AND %s", (first, last_day)).fetchone()[0]
    return n, time.monotonic() - t0


def measure_city(work: Path, *, recorded: int = 77, outage: int = 10, real: int = 3,
                 year_days: int = 365) -> dict:
    """Run the whole city benchmark; returns the figures (see server/devtools/bench.py)."""
    name = f"lalopa_bench_{os.getpid()}_{secrets.token_hex(3)}"
    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    dsn = f"postgresql://postgres@127.0.0.1:5432/{name}"
    central = CentralBroker(work / "central", make_ca(work / "ca"))
    real_sites: list[CitySite] = []
    centre = replay = catchup = None
    try:
        real_sites = [CitySite(work / f"pkm-nyata-{i}", f"pkm-nyata-{i}", central, dsn,
                               env={"LALOPA_KIOSK_RATE_PER_MIN": "0"}) for i in range(1, real + 1)]
        today = datetime.now(TZ).date()
        store = Store(dsn)
        streams: dict[str, tuple[Path, str]] = {}
        hour: dict[str, tuple[Path, str]] = {}
        for i in range(1, recorded + 1):
            site = f"pkm-rekam-{i:02d}"
            password = secrets.token_urlsafe(12)
            provision.add_site(site, central.passwd, central.acl, password)
            store.add_site(site, f"Puskesmas Rekam {i:02d}", clusters={"A": "dewasa-lansia", "B": "ibu-anak"},
                           now_ms=int(time.time() * 1000))
            db = work / f"{site}.db"
            if i <= recorded - outage:
                recorded_day(db, today, seed=i)
                streams[site] = (db, password)
            else:  # the busiest hour of the day, made while the link was down
                recorded_day(db, today, seed=i, hours=(7.5, 8.5))
                hour[site] = (db, password)
        store.close()
        central.start()
        (work / "central.password").write_text(central.central_password)
        http = free_port()
        log = open(work / "central.log", "ab")
        centre = subprocess.Popen([sys.executable, "-m", "broker.cli", "central", "serve", "--dsn", dsn,
                                   "--mqtt-port", str(central.port), "--mqtt-password-file",
                                   str(work / "central.password"), "--port", str(http)],
                                  cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        for s in real_sites:
            s.start()
        for s in real_sites:
            s.wait_http()
        time.sleep(2)
        out = {"sites": real + recorded, "peak_per_min_site": busiest_minute([p for p, _ in streams.values()])}

        # 1. Quiet: call -> centre delay on the real sites.
        since = _calls(real_sites, 20, 0.25)
        _wait_stored(dsn, {s.site: s.head() for s in real_sites}, 30)
        out["delay_quiet"] = _delays(dsn, [s.site for s in real_sites], since)

        # 2. Ingest capacity: the recorded sites send a whole day each, all at once.
        heads = {site: _head(db) for site, (db, _) in streams.items()}
        replay = Replayer(central, streams)
        t0 = time.monotonic()
        replay.start()
        elapsed = _wait_stored(dsn, heads, 600)
        out["ingest"] = {"events": sum(heads.values()), "seconds": elapsed,
                         "per_s": sum(heads.values()) / elapsed, "sites": len(heads),
                         "setup_s": time.monotonic() - t0 - elapsed}

        # 3. Catch-up: 10 sites return after an hour offline, while the real sites keep calling.
        heads = {site: _head(db) for site, (db, _) in hour.items()}
        catchup = Replayer(central, hour)
        calls = threading.Thread(target=lambda: out.setdefault("since_busy", _calls(real_sites, 10, 0.2)))
        catchup.start()
        calls.start()
        out["catchup"] = {"events": sum(heads.values()), "seconds": _wait_stored(dsn, heads, 600),
                          "sites": len(heads)}
        calls.join(60)
        _wait_stored(dsn, {s.site: s.head() for s in real_sites}, 30)
        out["delay_busy"] = _delays(dsn, [s.site for s in real_sites], out["since_busy"])

        # 4. The year report across every site, from daily aggregates only.
        all_sites = [s.site for s in real_sites] + list(streams) + list(hour)
        last = today - timedelta(days=1)
        t0 = time.monotonic()
        tickets, agg_s = year_of_tickets(dsn, all_sites, last, year_days)
        out["year"] = {"tickets": tickets, "load_s": time.monotonic() - t0, "aggregate_s": agg_s,
                       "sites": len(all_sites)}
        store = Store(dsn)
        first = last - timedelta(days=year_days - 1)
        for by in ("site", "cluster"):
            times, rep = [], None
            for _ in range(5):
                t = time.perf_counter()
                rep = views.report(store, first, last, by)
                times.append((time.perf_counter() - t) * 1000)
            out["year"][f"{by}_ms"] = statistics.median(times)
            out["year"]["issued"] = rep["total"]["issued"]
        t = time.perf_counter()
        views.live(store, int(time.time() * 1000))
        out["live_ms"] = (time.perf_counter() - t) * 1000
        store.close()
        return out
    finally:
        for r in (replay, catchup):
            if r is not None:
                r.close()
        if centre is not None:
            centre.terminate()
            try:
                centre.wait(10)
            except subprocess.TimeoutExpired:
                centre.kill()
        for s in real_sites:
            s.stop()
        central.cleanup()
        with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _head(db: Path) -> int:
    conn = sqlite3.connect(str(db))
    try:
        return conn.execute("SELECT COALESCE(MAX(id), 0) FROM events").fetchone()[0]
    finally:
        conn.close()
