"""Counter actions: the state machine of tickets and counter sessions.

Ticket: waiting → called → serving → done; called → no_show; waiting/called/
serving → cancelled; called/serving → transferred (waiting again, in another
service). Counter: closed ⇄ open ⇄ paused.

Documented conveniences for a one-button box:
* ``next`` on a closed counter opens it, and on a paused counter resumes it.
* ``next`` / ``call_specific`` first finish the counter's current ticket (done).
* ``next`` with nothing waiting raises ``nothing_waiting`` only when there was
  no current ticket to finish; otherwise it returns with no new ticket.
"""
from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from server import errors
from server.config import Counter
from server.ledger import ACTIVE, Tx, get_state, set_state
from server.policy import choose, next_streak


@dataclass(frozen=True)
class Command:
    counter: Counter
    device: str
    user_id: int | None = None
    ticket: str | None = None
    reason: str | None = None
    service: str | None = None


# ----------------------------------------------------------------- counter sessions

def counter_status(tx: Tx, number: int) -> sqlite3.Row | None:
    """The counter's state row for today (a row left from an earlier day counts as closed)."""
    row = tx.conn.execute("SELECT * FROM counter_state WHERE counter = ?", (number,)).fetchone()
    return row if row and row["service_day"] == tx.day else None


def _set_counter(tx: Tx, number: int, status: str, reason: str | None = None) -> None:
    tx.conn.execute("DELETE FROM counter_state WHERE counter = ?", (number,))
    tx.conn.execute("INSERT INTO counter_state (counter, status, pause_reason, since_ms, service_day)"
                    " VALUES (?, ?, ?, ?, ?)", (number, status, reason, tx.now_ms, tx.day))


def _status(tx: Tx, number: int) -> str:
    row = counter_status(tx, number)
    return row["status"] if row else "closed"


def do_open(tx: Tx, cmd: Command):
    n = cmd.counter.number
    if _status(tx, n) == "closed":
        _set_counter(tx, n, "open")
        tx.conn.execute("INSERT INTO counter_sessions (service_day, counter, opened_ms, user_id)"
                        " VALUES (?, ?, ?, ?)", (tx.day, n, tx.now_ms, cmd.user_id))
        tx.event("opened", counter=n, device=cmd.device, user_id=cmd.user_id)
    return None, None


def do_close(tx: Tx, cmd: Command):
    n = cmd.counter.number
    if current_ticket(tx, n) is not None:
        raise errors.InvalidTransition("Finish or transfer the current ticket before closing.",
                                       "Selesaikan atau alihkan nomor antrean sekarang sebelum menutup loket.")
    if _status(tx, n) != "closed":
        _set_counter(tx, n, "closed")
        tx.conn.execute("UPDATE counter_sessions SET closed_ms = ? WHERE service_day = ? AND counter = ?"
                        " AND closed_ms IS NULL", (tx.now_ms, tx.day, n))
        tx.event("closed", counter=n, device=cmd.device, user_id=cmd.user_id)
    return None, None


def do_pause(tx: Tx, cmd: Command):
    n = cmd.counter.number
    status = _status(tx, n)
    if status == "closed":
        raise errors.InvalidTransition("A closed counter cannot pause; open it first.",
                                       "Loket yang tutup tidak dapat istirahat; buka loket dulu.")
    if current_ticket(tx, n) is not None:
        raise errors.InvalidTransition("Finish the current ticket before pausing.",
                                       "Selesaikan nomor antrean sekarang sebelum istirahat.")
    if status == "open":
        _set_counter(tx, n, "paused", (cmd.reason or "").strip()[:200] or None)
        tx.event("paused", counter=n, device=cmd.device, user_id=cmd.user_id,
                 detail={"reason": cmd.reason} if cmd.reason else None)
    return None, None


def do_resume(tx: Tx, cmd: Command):
    n = cmd.counter.number
    status = _status(tx, n)
    if status == "closed":
        raise errors.InvalidTransition("The counter is closed; open it instead.",
                                       "Loket sedang tutup; bukalah loket.")
    if status == "paused":
        _set_counter(tx, n, "open")
        tx.event("resumed", counter=n, device=cmd.device, user_id=cmd.user_id)
    return None, None


def _ensure_open(tx: Tx, cmd: Command) -> None:
    status = _status(tx, cmd.counter.number)
    if status == "closed":
        do_open(tx, cmd)
    elif status == "paused":
        do_resume(tx, cmd)


# ----------------------------------------------------------------- tickets

def current_ticket(tx: Tx, number: int) -> sqlite3.Row | None:
    return tx.conn.execute(
        "SELECT * FROM tickets WHERE service_day = ? AND counter = ? AND status IN (?, ?)"
        " ORDER BY last_called_ms DESC LIMIT 1", (tx.day, number, *ACTIVE)).fetchone()


def _require_current(tx: Tx, cmd: Command, allowed: tuple[str, ...]) -> sqlite3.Row:
    row = current_ticket(tx, cmd.counter.number)
    if row is None:
        raise errors.NoCurrentTicket()
    if row["status"] not in allowed:
        raise errors.InvalidTransition(
            f"Ticket {row['number']} is {row['status']}; this action needs {' or '.join(allowed)}.",
            f"Nomor {row['number']} berstatus {row['status']}; tindakan ini tidak dapat dilakukan.")
    return row


def _find_by_number(tx: Tx, number: str | None) -> sqlite3.Row:
    row = tx.conn.execute("SELECT * FROM tickets WHERE service_day = ? AND number = ?",
                          (tx.day, (number or "").strip().upper())).fetchone()
    if row is None:
        raise errors.UnknownTicket(f"Ticket {number!r} was not issued today.",
                                   f"Nomor antrean {number!r} tidak ada hari ini.")
    return row


def _update(tx: Tx, row: sqlite3.Row, **values) -> sqlite3.Row:
    cols = ", ".join(f"{k} = ?" for k in values)
    tx.conn.execute(f"UPDATE tickets SET {cols} WHERE id = ?", (*values.values(), row["id"]))
    return tx.ticket(row["id"])


def _finish(tx: Tx, cmd: Command, row: sqlite3.Row) -> sqlite3.Row:
    row = _update(tx, row, status="done", finished_ms=tx.now_ms)
    tx.event("finished", ticket=row, counter=cmd.counter.number, device=cmd.device,
             user_id=cmd.user_id)
    return row


def _call(tx: Tx, cmd: Command, row: sqlite3.Row, kind: str, detail: dict | None = None) -> dict:
    """Mark ``row`` called at this counter and append a call with the next persistent seq."""
    n = cmd.counter.number
    if kind == "call":
        row = _update(tx, row, status="called", counter=n, user_id=cmd.user_id,
                      first_called_ms=row["first_called_ms"] or tx.now_ms, last_called_ms=tx.now_ms)
        tx.event("called", ticket=row, counter=n, device=cmd.device, user_id=cmd.user_id, detail=detail)
    else:
        row = _update(tx, row, recall_count=row["recall_count"] + 1, last_called_ms=tx.now_ms)
        tx.event("recalled", ticket=row, counter=n, device=cmd.device, user_id=cmd.user_id)
    seq = int(get_state(tx.conn, "call_seq", "0")) + 1
    set_state(tx.conn, "call_seq", seq)
    call = {"seq": seq, "kind": kind, "ticket": row["number"], "service": row["service"],
            "priority": row["priority"], "counter": n, "counter_name": cmd.counter.name,
            "recall_count": row["recall_count"], "at": tx.iso()}
    tx.conn.execute("INSERT INTO calls (seq, service_day, kind, ticket_id, counter, at_ms, payload)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (seq, tx.day, kind, row["id"], n, tx.now_ms, json.dumps(call)))
    tx.changes.append({"type": "call", "call": call})
    return call


def _pick(tx: Tx, service: str) -> sqlite3.Row | None:
    """The next ticket of one service under the site's priority policy."""
    def head(cond: str):
        return tx.conn.execute(
            "SELECT id FROM tickets WHERE service_day = ? AND service = ? AND status = 'waiting' AND "
            + cond + " ORDER BY queue_order LIMIT 1", (tx.day, service)).fetchone()
    normal, prio = head("priority IS NULL"), head("priority IS NOT NULL")
    key = f"streak:{tx.day}:{service}"
    # A new day starts "priority due": the first priority ticket is called first.
    streak = int(get_state(tx.conn, key, str(tx.site.priority_ratio)))
    choice = choose(tx.site.priority_policy, tx.site.priority_ratio, streak,
                    normal["id"] if normal else None, prio["id"] if prio else None)
    if choice is None:
        return None
    set_state(tx.conn, key, next_streak(streak, choice))
    return tx.ticket(choice.ticket_id)


def do_next(tx: Tx, cmd: Command):
    if cmd.service is not None and cmd.service not in cmd.counter.services:
        raise errors.CounterDoesNotServe()
    _ensure_open(tx, cmd)
    current = current_ticket(tx, cmd.counter.number)
    if current is not None:
        _finish(tx, cmd, current)
    for service in ([cmd.service] if cmd.service else cmd.counter.services):
        row = _pick(tx, service)
        if row is not None:
            call = _call(tx, cmd, row, "call")
            return tx.ticket(row["id"]), call
    if current is None:
        raise errors.NothingWaiting()
    return None, None


def do_call_specific(tx: Tx, cmd: Command):
    if not (cmd.reason or "").strip():
        raise errors.BadRequest("Calling out of order needs a reason.",
                                "Memanggil di luar urutan memerlukan alasan.")
    row = _find_by_number(tx, cmd.ticket)
    if row["service"] not in cmd.counter.services:
        raise errors.CounterDoesNotServe()
    if row["status"] != "waiting":
        raise errors.InvalidTransition(f"Ticket {row['number']} is {row['status']}, not waiting.",
                                       f"Nomor {row['number']} tidak sedang menunggu.")
    _ensure_open(tx, cmd)
    current = current_ticket(tx, cmd.counter.number)
    if current is not None:
        _finish(tx, cmd, current)
    call = _call(tx, cmd, row, "call", detail={"out_of_order": True, "reason": cmd.reason.strip()})
    return tx.ticket(row["id"]), call


def do_recall(tx: Tx, cmd: Command):
    row = _require_current(tx, cmd, ("called",))
    call = _call(tx, cmd, row, "recall")
    return tx.ticket(row["id"]), call


def do_start(tx: Tx, cmd: Command):
    row = _require_current(tx, cmd, ("called",))
    row = _update(tx, row, status="serving", started_ms=tx.now_ms)
    tx.event("started", ticket=row, counter=cmd.counter.number, device=cmd.device, user_id=cmd.user_id)
    return row, None


def do_finish(tx: Tx, cmd: Command):
    row = _require_current(tx, cmd, ACTIVE)
    return _finish(tx, cmd, row), None


def do_no_show(tx: Tx, cmd: Command):
    row = _require_current(tx, cmd, ("called",))
    row = _update(tx, row, status="no_show", finished_ms=tx.now_ms)
    tx.event("no_show", ticket=row, counter=cmd.counter.number, device=cmd.device, user_id=cmd.user_id)
    return row, None


def do_transfer(tx: Tx, cmd: Command):
    row = _require_current(tx, cmd, ACTIVE)
    target = cmd.service
    if tx.site.service(target or "") is None:
        raise errors.UnknownService(f"Transfer needs a known target service, got {target!r}.",
                                    f"Layanan tujuan tidak dikenal: {target!r}.")
    if target == row["service"]:
        raise errors.InvalidTransition("The ticket is already in that service.",
                                       "Nomor antrean sudah berada di layanan tersebut.")
    order = row["queue_order"]
    if tx.site.transfer_policy == "go_last":
        order = _next_queue_order(tx)
    source = row["service"]
    row = _update(tx, row, status="waiting", service=target, counter=None, started_ms=None,
                  recall_count=0, queue_order=order)
    tx.event("transferred", ticket=row, counter=cmd.counter.number, device=cmd.device,
             user_id=cmd.user_id, detail={"from": source, "to": target,
                                          "policy": tx.site.transfer_policy})
    return row, None


def do_cancel(tx: Tx, cmd: Command):
    row = _find_by_number(tx, cmd.ticket) if cmd.ticket else _require_current(tx, cmd, ACTIVE)
    if row["status"] not in ("waiting", *ACTIVE):
        raise errors.InvalidTransition(f"Ticket {row['number']} is already {row['status']}.",
                                       f"Nomor {row['number']} sudah selesai diproses.")
    row = _update(tx, row, status="cancelled", finished_ms=tx.now_ms)
    tx.event("cancelled", ticket=row, counter=cmd.counter.number, device=cmd.device,
             user_id=cmd.user_id, detail={"reason": cmd.reason} if cmd.reason else None)
    return row, None


def _next_queue_order(tx: Tx) -> int:
    row = tx.conn.execute("SELECT MAX(queue_order) FROM tickets WHERE service_day = ?",
                          (tx.day,)).fetchone()
    return (row[0] or 0) + 1


HANDLERS = {
    "next": do_next, "recall": do_recall, "start": do_start, "finish": do_finish,
    "no_show": do_no_show, "transfer": do_transfer, "pause": do_pause, "resume": do_resume,
    "call_specific": do_call_specific, "open": do_open, "close": do_close, "cancel": do_cancel,
}
