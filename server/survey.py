"""Survey responses and smiley-pad votes: checked, stored once, read back for the report.

A response answers the nine IKM elements (``server.ikm``) for one served
ticket, from the ticket's status page (``phone``) or from the tablet by the
exit with the day's ticket number (``exit``). Each carries a submission id:

* the same id with the same answers again (a double tap, a retried POST)
  returns the stored answer and changes nothing;
* the same id with other answers is an idempotency conflict;
* a second response for the same ticket is refused (``survey_answered``);
* a ticket not served (yet) or served more than :data:`SURVEY_WINDOW_DAYS`
  days ago is refused; so is any malformed answer.

Every refusal is a :class:`SurveyError` with an Indonesian and an English
message, and nothing is written. Writes go through the queue's single writer
(``Database.write``); nothing here names a person.
"""
from __future__ import annotations

import hashlib
import json
import re
from datetime import date, timedelta

from broker import texts
from broker.protocol import ID_RE, TICKET_RE
from server import errors, ikm
from server.clock import local_date

#: A ticket may be rated up to this many days after its service day.
SURVEY_WINDOW_DAYS = 7
CHANNELS = ("phone", "exit")
SUBMISSION_RE = ID_RE


class SurveyError(errors.QueueError):
    code = "survey_error"
    status = 400


def _err(name: str, code: str, status: int, msg_id: str, msg_en: str) -> type[SurveyError]:
    return errors.define(name, code, status, msg_id, msg_en, base=SurveyError)


BadSurvey = _err("BadSurvey", "survey_invalid", 400,
                 "Jawaban survei tidak lengkap atau tidak valid.",
                 "The survey answers are incomplete or not valid.")
NotServed = _err("NotServed", "survey_not_served", 409,
                 "Survei dapat diisi setelah Anda selesai dilayani.",
                 "The survey opens once you have been served.")
SurveyExpired = _err("SurveyExpired", "survey_expired", 409,
                     f"Survei hanya dapat diisi sampai {SURVEY_WINDOW_DAYS} hari setelah pelayanan.",
                     f"The survey can only be answered up to {SURVEY_WINDOW_DAYS} days after service.")
AlreadyAnswered = _err("AlreadyAnswered", "survey_answered", 409,
                       "Survei untuk nomor antrean ini sudah diisi. Terima kasih.",
                       "The survey for this ticket has already been answered. Thank you.")
NoSuchTicket = _err("NoSuchTicket", "unknown_ticket", 404,
                    "Nomor antrean tidak ditemukan untuk hari ini.",
                    "No ticket with that number today.")


def parse_answers(raw: dict) -> dict[str, int]:
    """``{"u1": 1..4, ...}`` from a form or JSON body, or BadSurvey naming the element."""
    answers = {}
    for e in ikm.ELEMENTS:
        value = raw.get(e.code)
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value.strip())
        if isinstance(value, bool) or not isinstance(value, int) or value not in ikm.SCALE:
            raise BadSurvey(f"Answer {e.name_en} with one of 1-4.",
                            f"Jawab unsur {e.name_id} dengan salah satu nilai 1-4.", element=e.code)
        answers[e.code] = value
    return answers


def parse_comment(value) -> str:
    try:
        return texts.clean(texts.SURVEY_COMMENT, value)
    except texts.TextError as exc:
        raise BadSurvey(exc.message_en, exc.message_id) from None


def check_submission_id(value) -> str:
    if not isinstance(value, str) or not SUBMISSION_RE.match(value):
        raise BadSurvey("The form has no valid submission id; open the survey again.",
                        "Formulir tidak memiliki ID pengiriman yang valid; buka survei sekali lagi.")
    return value


def ticket_by_token(conn, token) -> dict | None:
    if not isinstance(token, str) or not token or len(token) > 64:
        return None
    row = conn.execute("SELECT * FROM tickets WHERE token = ?", (token,)).fetchone()
    return dict(row) if row else None


_TYPED_NUMBER = re.compile(r"^([A-Z])\s*-?\s*(\d{1,4})$")


def normalise_number(typed) -> str | None:
    """A ticket number as a resident types it ("a23", "A 023", "A-023") in the printed
    form ("A-023"), or None when it cannot be one."""
    m = _TYPED_NUMBER.match(typed.strip().upper()) if isinstance(typed, str) else None
    number = f"{m.group(1)}-{int(m.group(2)):03d}" if m else None
    return number if number and TICKET_RE.match(number) else None


def ticket_by_number(conn, number, day: str) -> dict | None:
    """Today's ticket with this number (numbers restart every day)."""
    number = normalise_number(number)
    if number is None:
        return None
    row = conn.execute("SELECT * FROM tickets WHERE service_day = ? AND number = ?",
                       (day, number)).fetchone()
    return dict(row) if row else None


def answered(conn, ticket_id: int) -> bool:
    return conn.execute("SELECT 1 FROM ikm_responses WHERE ticket_id = ?",
                        (ticket_id,)).fetchone() is not None


def submit(svc, *, ticket_id: int, submission_id, answers: dict, comment=None,
           channel: str = "phone") -> dict:
    """Store one response for a served ticket; see the module docstring for the rules."""
    if channel not in CHANNELS:
        raise ValueError(f"channel must be one of {CHANNELS}")
    submission_id = check_submission_id(submission_id)
    parsed = parse_answers(answers)
    note = parse_comment(comment) or None
    fingerprint = hashlib.sha256(json.dumps([ticket_id, parsed, note], sort_keys=True)
                                 .encode()).hexdigest()
    now_ms = svc.clock.epoch_ms()
    today = local_date(now_ms, svc.site.tz)

    def run(conn) -> dict:
        prior = conn.execute("SELECT * FROM ikm_responses WHERE submission_id = ?",
                             (submission_id,)).fetchone()
        if prior is not None:
            if prior["fingerprint"] != fingerprint:
                raise errors.IdempotencyConflict()
            return {"ok": True, "duplicate": True, "response_id": prior["id"]}
        t = conn.execute("SELECT * FROM tickets WHERE id = ?", (ticket_id,)).fetchone()
        if t is None:
            raise NoSuchTicket()
        if t["status"] != "done":
            raise NotServed()
        if date.fromisoformat(t["service_day"]) < today - timedelta(days=SURVEY_WINDOW_DAYS):
            raise SurveyExpired()
        if answered(conn, ticket_id):
            raise AlreadyAnswered()
        cur = conn.execute(
            "INSERT INTO ikm_responses (submission_id, fingerprint, ticket_id, service_day, service,"
            " counter, channel, " + ", ".join(ikm.CODES) + ", comment, received_ms)"
            " VALUES (" + ", ".join("?" * (9 + len(ikm.CODES))) + ")",
            (submission_id, fingerprint, ticket_id, t["service_day"], t["service"], t["counter"],
             channel, *(parsed[c] for c in ikm.CODES), note, now_ms))
        return {"ok": True, "duplicate": False, "response_id": cur.lastrowid}
    return svc.db.write(run)


# -- smiley pads ----------------------------------------------------------------

def record_vote(svc, *, vote_id: str, counter: int, score: int, device: str) -> dict:
    """Store one press of a counter's smiley pad, once per ``vote_id``.

    Linked to the service of the ticket that counter served or is serving last
    today (the resident who just stood there), never to the ticket itself: the
    pad is anonymous and counted apart from the nine-element survey.
    """
    if score not in ikm.SCALE:
        raise BadSurvey("A smiley vote is 1-4.", "Nilai smiley adalah 1-4.")
    now_ms = svc.clock.epoch_ms()
    day = local_date(now_ms, svc.site.tz).isoformat()

    def run(conn) -> dict:
        if conn.execute("SELECT 1 FROM smiley_votes WHERE vote_id = ?", (vote_id,)).fetchone():
            return {"ok": True, "duplicate": True}
        last = conn.execute(
            "SELECT service FROM tickets WHERE service_day = ? AND counter = ?"
            " AND first_called_ms IS NOT NULL ORDER BY last_called_ms DESC LIMIT 1",
            (day, counter)).fetchone()
        conn.execute("INSERT INTO smiley_votes (vote_id, service_day, counter, service, score,"
                     " device, at_ms) VALUES (?, ?, ?, ?, ?, ?, ?)",
                     (vote_id, day, counter, last["service"] if last else None, score, device, now_ms))
        return {"ok": True, "duplicate": False}
    return svc.db.write(run)


# -- reading back ---------------------------------------------------------------

def responses(conn, start: date, end: date) -> list[dict]:
    rows = conn.execute("SELECT * FROM ikm_responses WHERE service_day BETWEEN ? AND ?"
                        " ORDER BY service_day, id", (start.isoformat(), end.isoformat()))
    return [dict(r) for r in rows]


def served(conn, start: date, end: date) -> list[dict]:
    """Tickets served in the range (the survey's population), with service, counter and day."""
    rows = conn.execute("SELECT service_day, service, counter FROM tickets WHERE status = 'done'"
                        " AND service_day BETWEEN ? AND ?", (start.isoformat(), end.isoformat()))
    return [dict(r) for r in rows]


def votes(conn, start: date, end: date) -> list[dict]:
    rows = conn.execute("SELECT * FROM smiley_votes WHERE service_day BETWEEN ? AND ?"
                        " ORDER BY at_ms", (start.isoformat(), end.isoformat()))
    return [dict(r) for r in rows]


_MONTH = re.compile(r"^(\d{4}-\d{2})")


def month_of(day: str) -> str:
    return _MONTH.match(day).group(1)
