"""The verifier panel: one counter's current ticket, queue and buttons, in a browser.

Every click carries a ``command_id`` made in the browser, so a retried request
(double click, flaky Wi-Fi) is answered from the idempotency record and never
calls twice. The device id is per user, so two verifiers never share ids.
"""
from __future__ import annotations

from flask import (Blueprint, current_app, g, jsonify, redirect, render_template, request, session,
                   url_for)

from broker.vocab import USER_ROLES
from server.errors import QueueError
from server.web.dashboard import sse_response
from server.web.i18n import ACTION_KEYS, js_strings
from server.web.live import panel_snapshot, sse_stream
from server.web.security import require

bp = Blueprint("lalopa_panel", __name__)
ROLES = USER_ROLES
ACTIONS = ("next", "recall", "start", "finish", "no_show", "transfer", "pause", "resume",
           "call_specific", "open", "close")
JS_KEYS = ("none", "serving", "called", "paused", "closed", "open", "waiting", "done_ok",
           "connected", "reconnecting", "reason", "ticket_number", "to_service", "minutes",
           *ACTION_KEYS)


def _counter() -> int | None:
    return g.user.get("counter")


def _no_counter():
    from server.web.i18n import STRINGS
    ind, eng = STRINGS["no_counter"]
    return jsonify({"error": {"code": "no_counter", "message_id": ind, "message_en": eng}}), 409


@bp.get("/panel")
@require(*ROLES)
def panel():
    svc = current_app.extensions["lalopa.queue"]
    counter = _counter()
    snap = panel_snapshot(svc, counter) if counter else None
    return render_template("panel.html", snapshot=snap, strings=js_strings(JS_KEYS),
                           services=svc.site.services, counters=svc.site.counters)


@bp.post("/panel/counter")
@require(*ROLES)
def choose_counter():
    """Pick the counter this session works at (a verifier's own counter is set at log-in)."""
    svc = current_app.extensions["lalopa.queue"]
    raw = request.form.get("counter", "")
    if g.user["role"] != "verifier" or not g.user.get("counter"):
        if raw.isdigit() and svc.site.counter(int(raw)):
            session["counter"] = int(raw)
    return redirect(url_for("lalopa_panel.panel"))


@bp.get("/panel/state.json")
@require(*ROLES)
def state():
    if not _counter():
        return _no_counter()
    return jsonify(panel_snapshot(current_app.extensions["lalopa.queue"], _counter()))


@bp.get("/panel/events")
@require(*ROLES)
def events():
    if not _counter():
        return _no_counter()
    app = current_app._get_current_object()
    counter = _counter()
    tick = app.config.get("LALOPA_SSE_TICK_S", 5.0)
    return sse_response(sse_stream(lambda: panel_snapshot(app.extensions["lalopa.queue"], counter),
                                   app.extensions["lalopa.hub"], tick_s=tick, key=("panel", counter)))


@bp.post("/panel/action")
@require(*ROLES)
def action():
    """Apply one action to the session's counter; JSON in, the queue's result out."""
    if not _counter():
        return _no_counter()
    body = request.get_json(silent=True) or {}
    name = body.get("action")
    if name not in ACTIONS:
        err = QueueError(f"Unknown action {name!r}.", f"Tindakan {name!r} tidak dikenal.")
        return jsonify({"error": err.to_dict()}), 400
    svc = current_app.extensions["lalopa.queue"]
    try:
        result = svc.counter_action(
            _counter(), name, command_id=body.get("command_id"), device=f"web-{g.user['username']}",
            user_id=g.user["id"], ticket=_opt(body, "ticket"), reason=_opt(body, "reason"),
            service=_opt(body, "service"))
    except QueueError as exc:
        return jsonify({"error": exc.to_dict()}), exc.status
    return jsonify(result)


def _opt(body: dict, key: str):
    value = body.get(key)
    if isinstance(value, str):
        value = value.strip()
        if key == "ticket":
            value = value.upper()
    return value or None
