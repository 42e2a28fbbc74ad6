"""The resident's satisfaction survey (IKM): on the phone from the ticket's QR, or at the exit.

* ``/t/<token>/survei``: the ticket's status page turns into this once the
  ticket is served (``server.api`` redirects there). The status token on the
  ticket is the only key: no log-in, nothing about the person.
* ``/survei``: the tablet (or a kiosk's browser) by the exit. The resident
  types today's ticket number; after the thanks page it returns to the empty
  form for the next person.
* ``POST /api/v1/survey``: the same for a device, as JSON.

Every form carries a fresh submission id, so a double tap or a resent POST
stores one response (see ``server.survey``). A refusal shows its reason in
Indonesian and English and keeps the answers on the form.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets

from flask import Blueprint, current_app, jsonify, render_template, request

from broker import texts
from server import errors, ikm, survey
from server.clock import local_date

bp = Blueprint("lalopa_survey", __name__)
#: The exit tablet's thanks page returns to the empty form after this long.
EXIT_RESET_S = 10


def _svc():
    return current_app.extensions["lalopa.queue"]


def _today() -> str:
    svc = _svc()
    return local_date(svc.clock.epoch_ms(), svc.site.tz).isoformat()


def _signature(submission_id: str) -> str:
    """The form's proof that this server handed it out.

    The survey forms are public (no session, so no session CSRF token): a page
    elsewhere could post answers for today's numbers blind. It cannot read a
    form of ours across origins, so a submission id signed with the server's
    key shows the answers came through a form this server served."""
    key = current_app.config["SECRET_KEY"]
    key = key.encode() if isinstance(key, str) else key
    return hmac.new(key, submission_id.encode(), hashlib.sha256).hexdigest()[:32]


def _signed(form) -> bool:
    sub, sig = form.get("submission_id") or "", form.get("form_sig") or ""
    # bytes: compare_digest refuses str with non-ASCII characters (a hostile form has them)
    return bool(sub) and hmac.compare_digest(_signature(sub).encode(), sig.encode("utf-8", "replace"))


def _render(status: int = 200, **ctx):
    svc = _svc()
    ctx.setdefault("answers", {})
    ctx.setdefault("comment", "")
    ctx.setdefault("error", None)
    if not ctx.get("submission_id"):
        ctx["submission_id"] = "f-" + secrets.token_hex(12)
    ctx["form_sig"] = _signature(ctx["submission_id"] or "")
    return render_template("survey.html", elements=ikm.ELEMENTS, scale=ikm.SCALE,
                           facility=svc.site.facility, comment_max=texts.SURVEY_COMMENT.max_len,
                           exit_reset_s=EXIT_RESET_S, **ctx), status


def _service_name(prefix: str) -> str:
    s = _svc().site.service(prefix)
    return f"{s.name_id} / {s.name_en}" if s else prefix


def _submit_form(ticket: dict, channel: str, **ctx):
    """Store the posted form for ``ticket``; the thanks page, or the form with the reason."""
    form = request.form
    answers = {c: form.get(c) for c in ikm.CODES}
    try:
        if not _signed(form):
            raise survey.BadSurvey("The form did not come from this server; open the survey again.",
                                   "Formulir tidak berasal dari server ini; buka survei sekali lagi.")
        survey.submit(_svc(), ticket_id=ticket["id"], submission_id=form.get("submission_id"),
                      answers=answers, comment=form.get("comment"), channel=channel)
    except errors.QueueError as exc:
        if isinstance(exc, survey.AlreadyAnswered):
            return _render(exc.status, stage="thanks", channel=channel, **ctx)
        return _render(exc.status, stage="form", ticket=ticket, channel=channel,
                       service=_service_name(ticket["service"]), answers=answers,
                       comment=form.get("comment") or "", error=exc,
                       submission_id=form.get("submission_id") if _signed(form) else None, **ctx)
    return _render(200, stage="thanks", channel=channel, **ctx)


def _form_or_reason(ticket: dict | None, channel: str, **ctx):
    """The empty form for a ticket that may be rated, else a page that says why not."""
    if ticket is None:
        return _render(404, stage="reason", error=survey.NoSuchTicket(), channel=channel, **ctx)
    conn = _svc().db.read()
    if ticket["status"] != "done":
        return _render(409, stage="reason", error=survey.NotServed(), channel=channel, **ctx)
    if survey.answered(conn, ticket["id"]):
        return _render(200, stage="thanks", channel=channel, **ctx)
    return _render(200, stage="form", ticket=ticket, channel=channel,
                   service=_service_name(ticket["service"]), **ctx)


# -- on the phone: the ticket's status page after service ------------------------

@bp.get("/t/<token>/survei")
def ticket_form(token: str):
    ticket = survey.ticket_by_token(_svc().db.read(), token)
    return _form_or_reason(ticket, "phone", token=token)


@bp.post("/t/<token>/survei")
def ticket_submit(token: str):
    ticket = survey.ticket_by_token(_svc().db.read(), token)
    if ticket is None:
        return _render(404, stage="reason", error=survey.NoSuchTicket(), channel="phone", token=token)
    return _submit_form(ticket, "phone", token=token)


# -- by the exit: today's ticket number ----------------------------------------

@bp.get("/survei")
def exit_form():
    number = (request.args.get("nomor") or "").strip().upper()
    if not number:
        return _render(200, stage="number", channel="exit")
    ticket = survey.ticket_by_number(_svc().db.read(), number, _today())
    return _form_or_reason(ticket, "exit", number=number)


@bp.post("/survei")
def exit_submit():
    number = (request.form.get("nomor") or "").strip().upper()
    ticket = survey.ticket_by_number(_svc().db.read(), number, _today())
    if ticket is None:
        return _render(404, stage="reason", error=survey.NoSuchTicket(), channel="exit", number=number)
    return _submit_form(ticket, "exit", number=number)


# -- for a device ---------------------------------------------------------------

@bp.post("/api/v1/survey")
def api_submit():
    """``{"submission_id", "token" | "number", "answers": {"u1": 1..4, ...}, "comment"?}``.

    201 stored, 200 a repeat of a stored submission, 4xx ``{"error": ...}`` and nothing stored."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("answers"), dict):
        raise survey.BadSurvey()
    conn = _svc().db.read()
    if body.get("token") is not None:
        ticket, channel = survey.ticket_by_token(conn, body["token"]), "phone"
    else:
        ticket, channel = survey.ticket_by_number(conn, body.get("number"), _today()), "exit"
    if ticket is None:
        raise survey.NoSuchTicket()
    result = survey.submit(_svc(), ticket_id=ticket["id"], submission_id=body.get("submission_id"),
                           answers=body["answers"], comment=body.get("comment"), channel=channel)
    return jsonify(result), 200 if result["duplicate"] else 201
