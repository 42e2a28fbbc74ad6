"""The queue core: the single owner of queue state and time.

    >>> svc = QueueService("/tmp/lalopa.db", load_site(EXAMPLE_SITE))   # doctest: +SKIP
    >>> svc.issue("A", request_id="k1-0001", device="kiosk-1")["ticket"]["number"]  # doctest: +SKIP
    'A-001'

Every change runs in one ``BEGIN IMMEDIATE`` transaction through the single
writer (:class:`server.db.Database`), appends events, and only after COMMIT
tells the listeners (the MQTT bridge, the live dashboard), still holding the
commit lock: listeners hear the changes in commit order. Requests carry ids; a repeated id
returns the stored first result and changes nothing.
"""
from __future__ import annotations

import json
import logging
import secrets
import threading
from datetime import date
from typing import Callable

from broker import texts
from broker.protocol import QueueSummary
from broker.vocab import PRIORITIES
from server import actions, devices, errors, eta, stats
from server.actions import Command
from server.clock import ServerClock, iso_local
from server.config import Site
from server.db import Database
from server.ledger import (ACTIVE, Tx, effective_day, get_state, people_ahead, public_ticket,
                           set_state, ticket_dict)

log = logging.getLogger(__name__)
MAX_ID_LEN = 128


def _require_id(value, name: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_ID_LEN:
        raise errors.BadRequest(f"{name} must be a non-empty string of at most {MAX_ID_LEN} characters.",
                                f"{name} wajib diisi (paling banyak {MAX_ID_LEN} karakter).")
    return value


def _person_text(rule, value) -> str:
    """``value`` cleaned by the text contract (broker.texts), or BadRequest in both languages."""
    try:
        return texts.clean(rule, value)
    except texts.TextError as exc:
        raise errors.BadRequest(exc.message_en, exc.message_id) from None


def check_running_text(text) -> str:
    """The display's running text, normalised, or BadRequest (callers validate whole forms first)."""
    return _person_text(texts.RUNNING_TEXT, text)


class QueueService:
    """Issues tickets, applies counter actions, answers the board; see docs/API.md."""

    def __init__(self, db_path: str, site: Site, clock: ServerClock | None = None):
        self.site = site
        self.clock = clock or ServerClock()
        self.db = Database(db_path)
        self._listeners: list[Callable[[dict], None]] = []
        # Held from BEGIN to the last listener: two writers' changes never reach a
        # listener out of commit order (call seq 11 told before seq 10).
        self._commit_lock = threading.RLock()

    # ------------------------------------------------------------ plumbing

    def add_listener(self, fn: Callable[[dict], None]) -> None:
        """Call ``fn(change)`` after every committed change (never for duplicates),
        in commit order. ``fn`` runs under the commit lock: it must only hand over."""
        self._listeners.append(fn)

    def _write(self, fn: Callable[[Tx], object]):
        with self._commit_lock:
            return self._write_locked(fn)

    def _write_locked(self, fn: Callable[[Tx], object]):
        holder: dict = {}

        def run(conn):
            tx = Tx.begin(conn, self.site, self.clock.read())
            holder["tx"] = tx
            return fn(tx)

        try:
            result = self.db.write(run)
        except Exception:
            tx = holder.get("tx")
            if tx is not None and tx.jump is not None:  # keep the jump even if the request failed
                self.db.write(lambda conn: Tx(conn, self.site, tx.now_ms, tx.day).event(
                    "clock_jump", detail=tx.jump))
            raise
        for change in holder["tx"].changes:
            for listener in list(self._listeners):
                try:
                    listener(change)
                except Exception:  # a broken listener must not break the queue
                    log.exception("queue listener failed on %s", change.get("type"))
        return result

    def _idempotent(self, device: str, key: str, kind: str, fingerprint: str,
                    fn: Callable[[Tx], dict]) -> dict:
        """Run ``fn`` once per (device, key); repeats return the stored first result."""
        def run(tx: Tx) -> dict:
            row = tx.conn.execute("SELECT fingerprint, response FROM idempotency"
                                  " WHERE device = ? AND request_key = ?", (device, key)).fetchone()
            if row is not None:
                if row["fingerprint"] != fingerprint:
                    raise errors.IdempotencyConflict()
                tx.changes.clear()
                return {**json.loads(row["response"]), "duplicate": True}
            result = fn(tx)
            tx.conn.execute("INSERT INTO idempotency (device, request_key, kind, fingerprint, response,"
                            " created_ms) VALUES (?, ?, ?, ?, ?, ?)",
                            (device, key, kind, fingerprint, json.dumps(result), tx.now_ms))
            return result
        return self._write(run)

    # ------------------------------------------------------------ issuing

    def issue(self, service: str, *, request_id: str, device: str,
              priority: str | None = None) -> dict:
        """Issue a new ticket for ``service`` (idempotent per device and request id)."""
        _require_id(request_id, "request_id")
        _require_id(device, "device")
        if not isinstance(service, str) or self.site.service(service) is None:
            raise errors.UnknownService(f"Unknown service {service!r}.",
                                        f"Layanan {service!r} tidak dikenal.")
        if priority is not None and priority not in PRIORITIES:
            raise errors.BadRequest(f"priority must be null or one of {', '.join(PRIORITIES)}.",
                                    f"Prioritas harus kosong atau salah satu dari {', '.join(PRIORITIES)}.")
        return self._idempotent(device, request_id, "issue", f"issue:{service}:{priority}",
                                lambda tx: self._issue(tx, service, priority, device))

    def _issue(self, tx: Tx, service: str, priority: str | None, device: str) -> dict:
        cfg = self.site.service(service)
        if self.site.hours and not self.site.is_open_at(tx.moment):
            raise errors.ServiceClosed()
        c = tx.conn
        # MAX(seq) from the (service_day, prefix, seq) key; the count from day_counts.
        last_seq = c.execute("SELECT MAX(seq) FROM tickets WHERE service_day = ? AND prefix = ?",
                             (tx.day, service)).fetchone()[0]
        issued = stats.day_counts(c, tx.day).get((service, "issued"), 0)
        if cfg.daily_cap is not None and issued >= cfg.daily_cap:
            raise errors.DailyCapReached()
        if cfg.cutoff == "stop":  # the predictive cut-off: refuse a number that would not be called
            new = eta.estimate(self.site, eta.read_desk(c, self.site, tx.day, tx.now_ms), service,
                               priority is not None)
            if new is not None and eta.past_closing(self.site, tx.now_ms, new.mid_s):
                raise errors.PastClosing()
        seq = cfg.start_number if last_seq is None else last_seq + 1
        # Two MAX() reads, each answered from its own index (a combined one scans the day).
        orders = (c.execute("SELECT MAX(issue_order) FROM tickets WHERE service_day = ?", (tx.day,)).fetchone()[0],
                  c.execute("SELECT MAX(queue_order) FROM tickets WHERE service_day = ?", (tx.day,)).fetchone()[0])
        cur = c.execute(
            "INSERT INTO tickets (service_day, prefix, seq, number, service, issue_order, queue_order,"
            " priority, status, token, device, issued_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'waiting', ?, ?, ?)",
            (tx.day, service, seq, f"{service}-{seq:03d}", service, (orders[0] or 0) + 1,
             (orders[1] or 0) + 1, priority, secrets.token_urlsafe(16), device, tx.now_ms))
        row = tx.ticket(cur.lastrowid)
        tx.event("issued", ticket=row, device=device, detail={"priority": priority} if priority else None)
        ticket = self._ticket(c, row, tx.now_ms)
        tx.changes.append({"type": "ticket", "event": "issued", "ticket": ticket})
        return {"ticket": ticket, "duplicate": False}

    def _ticket(self, conn, row, now_ms: int) -> dict:
        ahead = people_ahead(conn, row)
        est = eta.for_ticket(conn, self.site, row, now_ms) if row["status"] == "waiting" else None
        return ticket_dict(row, self.site, ahead, est.as_fields() if est else None)

    # ------------------------------------------------------------ counters

    def counter_action(self, counter: int, action: str, *, command_id: str, device: str,
                       user_id: int | None = None, ticket: str | None = None,
                       reason: str | None = None, service: str | None = None) -> dict:
        """Apply one counter action (idempotent per device and command id)."""
        _require_id(command_id, "command_id")
        _require_id(device, "device")
        cfg = self.site.counter(counter) if isinstance(counter, int) else None
        if cfg is None:
            raise errors.UnknownCounter(f"Unknown counter {counter!r}.", f"Loket {counter!r} tidak dikenal.")
        handler = actions.HANDLERS.get(action)
        if handler is None:
            raise errors.BadRequest(f"Unknown action {action!r}.", f"Tindakan {action!r} tidak dikenal.")
        for name, value in (("ticket", ticket), ("reason", reason), ("service", service)):
            if value is not None and (not isinstance(value, str) or len(value) > 500):
                raise errors.BadRequest(f"{name} must be a string.", f"{name} harus berupa teks.")
        if user_id is not None and (not isinstance(user_id, int) or isinstance(user_id, bool)):
            raise errors.BadRequest("user_id must be an integer.", "user_id harus berupa angka.")
        reason = _person_text(texts.REASON, reason) or None
        cmd = Command(cfg, device, user_id, ticket, reason, service)
        fingerprint = f"counter:{counter}:{action}:{ticket}:{service}"
        return self._idempotent(device, command_id, "counter", fingerprint,
                                lambda tx: self._apply(tx, cmd, action, handler))

    def _apply(self, tx: Tx, cmd: Command, action: str, handler) -> dict:
        row, call = handler(tx, cmd)
        ticket = self._ticket(tx.conn, row, tx.now_ms) if row is not None else None
        n = cmd.counter.number
        if ticket is not None:
            tx.changes.append({"type": "ticket", "event": action, "ticket": ticket})
        tx.changes.append({"type": "counter", "counter": n, "action": action})
        return {"ok": True, "action": action, "counter": n, "ticket": ticket, "call": call,
                "duplicate": False}

    # ------------------------------------------------------------ reads

    def _now_day(self, conn) -> tuple[int, str]:
        now = self.clock.epoch_ms()
        return now, effective_day(conn, self.site, now)

    def _counter_view(self, conn, day: str, number: int) -> dict:
        cfg = self.site.counter(number)
        st = conn.execute("SELECT * FROM counter_state WHERE counter = ?", (number,)).fetchone()
        live = st is not None and st["service_day"] == day
        row = conn.execute("SELECT * FROM tickets WHERE service_day = ? AND counter = ? AND status IN"
                           " (?, ?) ORDER BY last_called_ms DESC LIMIT 1", (day, number, *ACTIVE)).fetchone()
        return {"counter": number, "name": cfg.name, "status": st["status"] if live else "closed",
                "pause_reason": st["pause_reason"] if live else None,
                "ticket": ticket_dict(row, self.site) if row else None,
                "since": iso_local(st["since_ms"], self.site.tz) if live else None}

    def waiting_counts(self, conn, day: str) -> dict[str, int]:
        counts = {s.prefix: 0 for s in self.site.services}
        for (service, kind), n in stats.day_counts(conn, day).items():
            if kind == "waiting" and n:
                counts[service] = n
        return counts

    def board(self) -> dict:
        """Everything a display board shows, in one consistent read."""
        with self.db.snapshot() as conn:
            now, day = self._now_day(conn)
            recent = [json.loads(r["payload"]) for r in conn.execute(
                "SELECT payload FROM calls WHERE service_day = ? ORDER BY seq DESC LIMIT 10", (day,))]
            return {"site": self.site.site_id, "facility": self.site.facility, "service_day": day,
                    "server_time": iso_local(now, self.site.tz),
                    "seq": int(get_state(conn, "call_seq", "0")),
                    "counters": [self._counter_view(conn, day, c.number) for c in self.site.counters],
                    "recent": recent,
                    "waiting": self.waiting_counts(conn, day),
                    # Stored before the text contract, it may hold what no board can draw.
                    "running_text": texts.displayable(get_state(conn, "running_text", self.site.running_text),
                                                      texts.RUNNING_TEXT.max_len)}

    def last_call_seq(self) -> int:
        """The seq of the newest committed call (0 before the first)."""
        return int(get_state(self.db.read(), "call_seq", "0"))

    def calls_after(self, seq: int, limit: int = 500) -> list[dict]:
        """The outbox of call events: committed calls with a seq above ``seq``, in seq order."""
        rows = self.db.read().execute("SELECT payload FROM calls WHERE seq > ? ORDER BY seq LIMIT ?",
                                      (int(seq), int(limit)))
        return [json.loads(r["payload"]) for r in rows]

    def counter_state(self, counter: int) -> dict:
        """What a counter's panel or button box shows."""
        if self.site.counter(counter) is None:
            raise errors.UnknownCounter()
        with self.db.snapshot() as conn:
            now, day = self._now_day(conn)
            view = self._counter_view(conn, day, counter)
            waiting = self.waiting_counts(conn, day)
            view.pop("since")
            view["waiting"] = sum(waiting[s] for s in self.site.counter(counter).services)
            view["server_time"] = iso_local(now, self.site.tz)
            return view

    def summary(self) -> dict:
        """Per service: waiting, issued, served, no_show, est_wait_s, longest_wait_s, open."""
        with self.db.snapshot() as conn:
            now, day = self._now_day(conn)
            return {"service_day": day, "server_time": iso_local(now, self.site.tz),
                    "services": stats.service_summary(conn, self.site, day, now,
                                                      self.clock.now())}

    def queue_summary(self) -> dict:
        """The queue summary in its one public shape (``broker.protocol.QueueSummary``): what
        ``GET /api/v1/queue`` answers and the bridge retains on the bus."""
        with self.db.snapshot() as conn:
            now, day = self._now_day(conn)
            figures = stats.service_summary(conn, self.site, day, now, self.clock.now())
        return QueueSummary.build(day, now, figures).to_dict()

    def day_stats(self, day: str | None = None) -> dict:
        """Statistics of one service day (today by default); see docs/STATISTICS.md."""
        with self.db.snapshot() as conn:
            now, today = self._now_day(conn)
            return stats.day_stats(conn, self.site, day or today, now)

    def range_stats(self, start: date, end: date) -> dict:
        """Totals over a date range (inclusive) plus each day's figures."""
        return self.range_report(start, end)[0]

    def range_report(self, start: date, end: date) -> tuple[dict, list[float]]:
        """``range_stats`` and every wait of the range in seconds, sorted (the report's histogram)."""
        stats.check_range(start, end)
        now = self.clock.epoch_ms()
        with self.db.snapshot() as conn:
            today = effective_day(conn, self.site, now)
            days = stats.range_days(conn, start, end)
            stored = stats.stored_days(conn, self.site, start, end)
        # Closed days not stored yet are summarised once, each in its own short write
        # (consistent with the day's rows; the writer waits at most one day's summary).
        for day in days:
            if day < today and day not in stored:
                self.db.write(lambda conn, day=day: stats.store_summary(conn, self.site, day))
        with self.db.snapshot() as conn:
            return stats.range_pooled(conn, self.site, start, end, now,
                                      stored=stats.stored_summaries(conn, self.site, start, end))

    def rebuild_aggregates(self, day: str | None = None) -> int:
        """Rebuild the tickets table's derived columns of ``day`` (default today) from events."""
        from server.replay import rebuild_day
        return self._write(lambda tx: rebuild_day(tx.conn, day or tx.day))

    def ticket_by_token(self, token: str) -> dict | None:
        """The public status of a ticket, or None."""
        if not isinstance(token, str) or not token or len(token) > 64:
            return None
        conn = self.db.read()
        row = conn.execute("SELECT * FROM tickets WHERE token = ?", (token,)).fetchone()
        return public_ticket(self._ticket(conn, row, self.clock.epoch_ms())) if row else None

    def now(self) -> dict:
        """Server time for devices (they never use their own clocks for business data)."""
        conn = self.db.read()
        now, day = self._now_day(conn)
        return {"server_time": iso_local(now, self.site.tz), "epoch_ms": now,
                "timezone": self.site.timezone, "service_day": day}

    # ------------------------------------------------------------ settings and devices

    def set_running_text(self, text: str) -> None:
        text = check_running_text(text)

        def run(tx: Tx):
            set_state(tx.conn, "running_text", text)
            tx.changes.append({"type": "settings", "running_text": text})
        self._write(run)

    def create_device_token(self, device_id: str, role: str, counter: int | None = None) -> str:
        """A new token for ``device_id``; ``counter`` binds a panel/button token to one counter."""
        if counter is not None:
            devices.check_binding(role, counter)
            if self.site.counter(counter) is None:
                raise errors.UnknownCounter()
        return self._write(lambda tx: devices.add(tx.conn, device_id, role, tx.now_ms, counter))

    def revoke_device(self, device_id: str) -> bool:
        return self._write(lambda tx: devices.revoke(tx.conn, device_id, tx.now_ms))

    def list_devices(self) -> list[dict]:
        return devices.listing(self.db.read())

    def check_token(self, token: str | None) -> dict | None:
        return devices.check(self.db.read(), token)

    def close(self) -> None:
        self.db.close()

