"""The site's uplink: send the site's event log to the centre, after commit, resumable.

It runs beside the site's server (``lalopa central uplink``), never inside its
call path: it opens the SQLite database read-only (WAL: a reader never blocks
the writer) and polls for rows past the last one it sent. What it has sent
is confirmed by the centre's retained :class:`CityAck`, which crosses the
bridge back; it resumes after that seq on every start, so nothing depends on
the uplink's own memory.

Flow control: it never sends more than :data:`WINDOW` events past the last
ack. While the link is down the site's broker queues those batches for the
bridge (persistent session) and forwards them when the link returns; the
window keeps that queue bounded. If the acks stop while the link is up (the
broker lost its queue in a power cut, a batch was dropped), it sends again
from the ack after :data:`RESEND_AFTER_S`; the centre stores each seq once,
so sending twice is harmless. The centre's :class:`CityResend` asks for a
range at once.

The site's survey answers (IKM) cross as figures, not rows: per day and
service, the count and each element's sum (:class:`CityIkm`), the whole day
each time, sent after a new answer and again every minute.
"""
from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from datetime import date, timedelta
from pathlib import Path

from broker.bus import BusClient, Incoming
from broker.protocol import (CITY_BATCH_MAX, CITY_IKM_DAYS, CITY_LINK_ONLINE, IKM_ELEMENTS, CityAck,
                             CityBatch, CityEvent, CityIkm, CityResend, IkmSums, ProtocolError,
                             city_topic, decode)

log = logging.getLogger(__name__)
#: Events sent past the last ack, at most. Below the bridge's queue (1000
#: messages) even when every batch carries one event.
WINDOW = 600
#: Acks that have not moved for this long while the link is up: send again from the ack.
RESEND_AFTER_S = 8.0
#: How often the log is read for new rows: the city view's delay is about this plus the bridge.
POLL_S = 0.1
#: Survey figures of the last days are sent again this often (a lost message is made good).
IKM_EVERY_S = 60.0
IKM_SUMS = ", ".join(f"SUM(u{i})" for i in range(1, IKM_ELEMENTS + 1))
IKM_SQL = (f"SELECT service_day, service, COUNT(*), {IKM_SUMS} FROM ikm_responses"
           " WHERE service_day >= ? GROUP BY service_day, service ORDER BY service_day, service")
EVENT_SQL = ("SELECT e.id, e.service_day, e.kind, e.at_ms, e.ticket_id, e.service, e.counter,"
             " e.user_id, e.detail, t.number, t.prefix FROM events e"
             " LEFT JOIN tickets t ON t.id = e.ticket_id WHERE e.id >= ? AND e.id <= ? ORDER BY e.id")


def open_log(db_path: str | Path) -> sqlite3.Connection:
    """A read-only connection to the site's database (it must exist: the server creates it)."""
    path = Path(db_path).resolve()
    if not path.exists():
        raise FileNotFoundError(f"basis data situs tidak ada / the site database {path} does not exist")
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10.0, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    return conn


def to_event(row: sqlite3.Row) -> CityEvent:
    detail = json.loads(row["detail"]) if row["detail"] else None
    return CityEvent(seq=row["id"], day=row["service_day"], kind=row["kind"], at_ms=row["at_ms"],
                     ticket=row["ticket_id"], number=row["number"], prefix=row["prefix"],
                     service=row["service"], counter=row["counter"], user=row["user_id"],
                     detail=detail if isinstance(detail, dict) else None)


class Uplink:
    """One site's sender. ``bus`` is a started-or-not BusClient on the site's own broker."""

    def __init__(self, db_path: str | Path, bus: BusClient, *, window: int = WINDOW,
                 resend_after_s: float = RESEND_AFTER_S, poll_s: float = POLL_S):
        self.conn = open_log(db_path)
        self.bus = bus
        self.site = bus.topics.site
        self.window, self.resend_after_s, self.poll_s = window, resend_after_s, poll_s
        self.acked: int | None = None   # None until the centre's ack is known
        self.sent = 0                   # highest seq handed to the broker
        self.link_up = False
        self._ack_moved = time.monotonic()
        self._answered: set[str] = set()
        self._resend: list[tuple[int, int]] = []
        self.stats = {"batches": 0, "events": 0, "resent": 0, "ikm": 0}
        self._ikm_seen: int | None = None
        self._ikm_sent_at = float("-inf")
        bus.subscribe(city_topic(self.site, "control/ack"), self._on_ack)
        bus.subscribe(city_topic(self.site, "control/resend"), self._on_resend)
        bus.subscribe(city_topic(self.site, "link"), self._on_link)

    # -- what the centre says (run in the owner thread by bus.dispatch) ----

    def _on_ack(self, msg: Incoming) -> None:
        try:
            ack = decode(CityAck, msg.payload)
        except ProtocolError as exc:
            log.warning("ignored an ack: %s", exc.reason)
            return
        if ack.site != self.site:
            return
        if self.acked is None or ack.seq != self.acked:
            self._ack_moved = time.monotonic()
        if self.acked is None or ack.seq < self.acked or ack.seq > self.sent:
            # First ack, or the centre holds less (restored from a backup) or
            # more (this uplink restarted) than we thought: resume after it.
            self.sent = ack.seq
        self.acked = ack.seq

    def _on_resend(self, msg: Incoming) -> None:
        try:
            req = decode(CityResend, msg.payload)
        except ProtocolError as exc:
            log.warning("ignored a resend request: %s", exc.reason)
            return
        if req.site == self.site and req.id not in self._answered:
            self._answered.add(req.id)
            self._resend.append((req.from_seq, min(req.to_seq, req.from_seq + self.window - 1)))

    def _on_link(self, msg: Incoming) -> None:
        up = msg.payload == CITY_LINK_ONLINE
        if up and not self.link_up:
            self._ack_moved = time.monotonic()  # give the bridge's queue time to drain first
        self.link_up = up

    # -- sending ------------------------------------------------------------

    def head(self) -> int:
        row = self.conn.execute("SELECT MAX(id) FROM events").fetchone()
        self.conn.commit()  # end the read transaction: the next read sees new commits
        return row[0] or 0

    def _send(self, lo: int, hi: int, head: int) -> int:
        """Send seqs lo..hi in batches; returns the last seq sent."""
        rows = self.conn.execute(EVENT_SQL, (lo, hi)).fetchall()
        self.conn.commit()
        last = lo - 1
        for i in range(0, len(rows), CITY_BATCH_MAX):
            events = tuple(to_event(r) for r in rows[i:i + CITY_BATCH_MAX])
            batch = CityBatch(site=self.site, first=events[0].seq, head=max(head, events[-1].seq),
                              sent_ms=int(time.time() * 1000), events=events)
            self.bus.publish_message(city_topic(self.site, "batch"), batch, qos=1)
            self.stats["batches"] += 1
            self.stats["events"] += len(events)
            last = events[-1].seq
        return last

    def send_ikm(self, force: bool = False) -> int:
        """Send the survey figures of the last days after a new answer, or when due; returns days sent."""
        newest, last_day = self.conn.execute("SELECT MAX(id), MAX(service_day) FROM ikm_responses").fetchone()
        due = force or time.monotonic() - self._ikm_sent_at >= IKM_EVERY_S
        if newest is None or (newest == self._ikm_seen and not due):
            self.conn.commit()
            return 0
        since = (date.fromisoformat(last_day) - timedelta(days=CITY_IKM_DAYS - 1)).isoformat()
        days: dict[str, list[IkmSums]] = {}
        for day, service, n, *sums in self.conn.execute(IKM_SQL, (since,)):
            days.setdefault(day, []).append(IkmSums(service=service, n=n, sums=tuple(sums)))
        self.conn.commit()
        for day, services in days.items():
            self.bus.publish_message(city_topic(self.site, "ikm"),
                                     CityIkm(site=self.site, day=day, services=tuple(services)), qos=1)
        self._ikm_seen, self._ikm_sent_at = newest, time.monotonic()
        self.stats["ikm"] += len(days)
        return len(days)

    def step(self) -> int:
        """Send what the window allows; returns how many events were handed to the broker."""
        if not self.bus.connected.is_set():
            return 0
        self.send_ikm()
        if self.acked is None:
            return 0
        head = self.head()
        before = self.stats["events"]
        while self._resend:
            lo, hi = self._resend.pop(0)
            self._send(lo, min(hi, head), head)
            self.stats["resent"] += max(0, min(hi, head) - lo + 1)
        stalled = time.monotonic() - self._ack_moved > self.resend_after_s
        if self.sent > self.acked and self.link_up and stalled:
            log.info("no ack past %d for %.0f s: sending again from there", self.acked, self.resend_after_s)
            self.stats["resent"] += self.sent - self.acked
            self.sent = self.acked
            self._ack_moved = time.monotonic()
        limit = min(head, self.acked + self.window)
        if limit > self.sent:
            self.sent = max(self.sent, self._send(self.sent + 1, limit, head))
        return self.stats["events"] - before

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            self.bus.dispatch(timeout=self.poll_s)
            self.step()

    def close(self) -> None:
        self.conn.close()
