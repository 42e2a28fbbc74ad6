"""The HTTP JSON API at /api/v1, the public ticket status page /t/<token>, and /healthz.

Every error is ``{"error": {"code", "message_id", "message_en"}}`` with a 4xx
status, and nothing changes when a request fails. See docs/API.md.
"""
from __future__ import annotations

import html
from datetime import date

from flask import Blueprint, Response, current_app, jsonify, redirect, request, url_for

from broker import texts
from broker.vocab import ACTIVE_STATES, TOKEN_ROLES
from server import errors, ratelimit
from server.queue import QueueService

bp = Blueprint("api", __name__, url_prefix="/api/v1")
pages = Blueprint("ticket_page", __name__)

ISSUE_ROLES = ("kiosk", "admin")
COUNTER_ROLES = ("panel", "button", "admin")
STATS_ROLES = ("admin",)
# Other modules (the dashboard's log-in) append callables here: hook(roles) -> caller dict or None.
AUTH_HOOKS_KEY = "lalopa.auth_hooks"


def queue() -> QueueService:
    return current_app.extensions["lalopa.queue"]


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def authorize(*roles: str) -> dict:
    """The caller if allowed: a device with one of ``roles``, or whoever an auth hook accepts.

    Raise Unauthorized (no valid credentials) or Forbidden (valid, wrong role).
    The dashboard engineer registers a session check in
    ``app.extensions["lalopa.auth_hooks"]``: ``hook(roles) -> {"id", "role", "user_id"?}``.
    """
    token = bearer_token()
    device = queue().check_token(token) if token else None
    if device is not None:
        if device["role"] in roles:
            return device
        raise errors.Forbidden()
    for hook in current_app.extensions.get(AUTH_HOOKS_KEY, []):
        caller = hook(roles)
        if caller:
            return caller
    raise errors.Unauthorized()


def json_body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise errors.BadRequest("The body must be a JSON object.",
                                "Isi permintaan harus berupa objek JSON.")
    return body


def field(body: dict, name: str, kind=str, required: bool = False):
    value = body.get(name)
    if value is None:
        if required:
            raise errors.BadRequest(f"'{name}' is required.", f"'{name}' wajib diisi.")
        return None
    if not isinstance(value, kind) or isinstance(value, bool):
        raise errors.BadRequest(f"'{name}' has the wrong type.", f"Jenis data '{name}' salah.")
    return value


# ----------------------------------------------------------------- tickets

@bp.post("/tickets")
def issue_ticket():
    device = authorize(*ISSUE_ROLES)
    body = json_body()
    request_id = field(body, "request_id") or request.headers.get("Idempotency-Key")
    if not request_id:
        raise errors.BadRequest("Send a request_id (or an Idempotency-Key header).",
                                "Kirim request_id (atau header Idempotency-Key).")
    ratelimit.check_issue(current_app._get_current_object(), device, request_id)  # 429 rate_limited
    result = queue().issue(field(body, "service", required=True), request_id=request_id,
                           device=device["id"], priority=field(body, "priority"))
    base = queue().site.status_base_url   # the office's public address, when it has one
    token = result["ticket"]["token"]
    result["status_url"] = (f"{base}{url_for('ticket_page.ticket_page', token=token)}" if base else
                            url_for("ticket_page.ticket_page", token=token, _external=True))
    return jsonify(result), 200 if result["duplicate"] else 201


@bp.get("/tickets/<token>")
def ticket_status(token: str):
    ticket = queue().ticket_by_token(token)
    if ticket is None:
        raise errors.UnknownTicket()
    return jsonify(ticket)


# ----------------------------------------------------------------- counters

@bp.post("/counters/<int:counter>/actions")
def counter_action(counter: int):
    caller = authorize(*COUNTER_ROLES)
    check_counter_binding(caller, counter)
    body = json_body()
    result = queue().counter_action(
        counter, field(body, "action", required=True), command_id=field(body, "command_id", required=True),
        device=caller["id"], user_id=caller.get("user_id"), ticket=field(body, "ticket"),
        reason=field(body, "reason"), service=field(body, "service"))
    return jsonify(result)


def check_counter_binding(caller: dict, counter: int) -> None:
    """A token bound to a counter acts only on that counter (403 ``forbidden``).

    Unbound panel and admin tokens (a supervisor's tablet) may act on any counter.
    Checked before the body is read, so a wrong device learns nothing else.
    """
    bound = caller.get("counter")
    if bound is not None and bound != counter:
        raise errors.CounterNotAllowed(
            f"This device is bound to counter {bound}; it may not act on counter {counter}.",
            f"Perangkat ini terikat ke loket {bound}; tidak boleh bertindak untuk loket {counter}.",
            bound_counter=bound)


@bp.get("/counters/<int:counter>")
def counter_state(counter: int):
    return jsonify(without_tokens(queue().counter_state(counter)))


# ----------------------------------------------------------------- views

@bp.get("/site")
def site():
    return jsonify(queue().site.public())


@bp.get("/queue")
def summary():
    """The same QueueSummary the bus retains (one shape, one builder)."""
    return jsonify(queue().queue_summary())


@bp.get("/board")
def board():
    return jsonify(without_tokens(queue().board()))


def without_tokens(value):
    """A public view without any ticket's status token.

    The token opens a ticket's status page (and is its only secret): only the issuing
    kiosk's answer and the QR code printed on the ticket carry it. Anybody on the LAN
    may read the board, the queue and a counter's state."""
    if isinstance(value, dict):
        return {k: without_tokens(v) for k, v in value.items() if k != "token"}
    if isinstance(value, list):
        return [without_tokens(v) for v in value]
    return value


@bp.get("/time")
def server_time():
    return jsonify(queue().now())


@bp.get("/whoami")
def whoami():
    """Who this token belongs to: a read-only check for ``lalopa doctor`` (changes nothing)."""
    caller = authorize(*TOKEN_ROLES)
    return jsonify({"id": caller.get("id"), "role": caller.get("role"),
                    "counter": caller.get("counter")})


def _date_arg(name: str, required: bool) -> date | None:
    raw = request.args.get(name)
    if raw is None and not required:
        return None
    try:
        return date.fromisoformat(raw or "")
    except ValueError:
        raise errors.BadRequest(f"'{name}' must be a date YYYY-MM-DD.",
                                f"'{name}' harus berupa tanggal YYYY-MM-DD.") from None


@bp.get("/stats/day")
def stats_day():
    authorize(*STATS_ROLES)
    day = _date_arg("date", False)
    return jsonify(queue().day_stats(day.isoformat() if day else None))


@bp.get("/stats/range")
def stats_range():
    authorize(*STATS_ROLES)
    return jsonify(queue().range_stats(_date_arg("from", True), _date_arg("to", True)))


# ----------------------------------------------------------------- public pages

@pages.get("/healthz")
def healthz():
    """200 when the database answers and (with a bridge) the bus is moving;
    503 while the bus is stalled or lost. Says only ``ok``/``stalled``/
    ``disconnected`` about the bus: the page is public."""
    svc = queue()
    svc.db.read().execute("SELECT 1").fetchone()
    body = {"ok": True, **svc.now()}
    bridge = current_app.extensions.get("lalopa.bridge")
    if bridge is not None:
        health = bridge.health()
        body.update(ok=health["ok"], bus=health["bus"]["state"])
        if not health["ok"]:
            return jsonify(body), 503
    return jsonify(body)


STATUS_TEXT = {
    "waiting": ("Menunggu", "Waiting"), "called": ("Dipanggil — silakan menuju loket", "Called — please go to the counter"),
    "serving": ("Sedang dilayani", "Being served"), "done": ("Selesai", "Done"),
    "no_show": ("Tidak hadir saat dipanggil", "Missed the call"), "cancelled": ("Dibatalkan", "Cancelled"),
}


@pages.get("/t/<token>")
def ticket_page(token: str):
    """A small self-refreshing status page for the QR code on the ticket (no external assets)."""
    ticket = queue().ticket_by_token(token)
    if ticket is None:
        body = "<h1>Nomor antrean tidak ditemukan</h1><p>Ticket not found.</p>"
        return Response(_page(body, refresh=False), 404, mimetype="text/html")
    if ticket["status"] == "done":  # served: the status page becomes the satisfaction survey
        return redirect(url_for("lalopa_survey.ticket_form", token=token))
    e = html.escape
    state_id, state_en = STATUS_TEXT.get(ticket["status"], (ticket["status"], ticket["status"]))
    rows = [f"<p class=big>{e(ticket['number'])}</p>", f"<p><b>{e(state_id)}</b><br><i>{e(state_en)}</i></p>"]
    if ticket["status"] == "waiting":
        span = texts.wait_minutes(ticket["est_low_s"], ticket["est_high_s"])
        rows.append(f"<p>Di depan Anda / ahead of you: <b>{ticket['people_ahead']}</b></p>")
        if span is not None:   # the range follows the queue: this page refreshes itself
            rows.append(f"<p>Perkiraan tunggu / estimated wait: <b>{span[0]}\u2013{span[1]} menit/min</b></p>")
        else:
            rows.append("<p><b>Belum ada loket yang melayani</b><br><i>No counter is serving this yet</i></p>")
    if ticket["counter_name"] and ticket["status"] in ACTIVE_STATES:
        rows.append(f"<p class=big>{e(ticket['counter_name'])}</p>")
    return Response(_page("".join(rows), refresh=ticket["status"] in ("waiting", "called", "serving")),
                    mimetype="text/html")


def _page(body: str, refresh: bool) -> str:
    meta = '<meta http-equiv="refresh" content="15">' if refresh else ""
    facility = html.escape(queue().site.facility)
    return ("<!doctype html><html lang=id><head><meta charset=utf-8>"
            '<meta name=viewport content="width=device-width,initial-scale=1">' + meta +
            "<title>Nomor antrean</title><style>body{font-family:sans-serif;text-align:center;"
            "margin:1.5em;color:#222}.big{font-size:3em;font-weight:bold;margin:.3em 0}"
            "small{color:#666}</style></head><body>"
            f"<small>{facility}</small>{body}<small>Halaman ini diperbarui otomatis. "
            "This page refreshes itself.</small></body></html>")
