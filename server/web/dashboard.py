"""The supervisor's live view: page, JSON snapshot and server-sent events."""
from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, render_template, session

from broker.vocab import STAFF_ROLES
from server import ratelimit
from server.web.i18n import PRINTER_KEYS, ROLE_KEYS, js_strings, lang
from server.web.live import dashboard_snapshot, limited, sse_stream
from server.web import staffing_views
from server.web.security import client_address, require

bp = Blueprint("lalopa_dashboard", __name__)
STAFF = STAFF_ROLES
JS_KEYS = ("serving", "called", "idle", "paused", "closed", "open", "since", "online", "offline",
           "no_bridge", "no_alerts", "connected", "reconnecting", "updated", "minutes",
           "last_seen", "none", "no_kiosk_requests", *PRINTER_KEYS, *ROLE_KEYS)


def _build(lang_code: str):
    app = current_app._get_current_object()

    def build():
        snap = dashboard_snapshot(app.extensions["lalopa.queue"],
                                  app.extensions.get("lalopa.bridge"), lang_code,
                                  limiter=ratelimit.limiter(app))
        snap["staffing"] = staffing_views.now_for(app)   # this hour's advice, open counters
        return snap
    return build


@bp.get("/dashboard")
@require(*STAFF)
def live():
    svc = current_app.extensions["lalopa.queue"]
    return render_template("dashboard.html", snapshot=_build(lang())(), site=svc.site,
                           strings=js_strings(JS_KEYS))


@bp.get("/dashboard/state.json")
@require(*STAFF)
def state():
    return jsonify(_build(lang())())


@bp.get("/dashboard/events")
@require(*STAFF)
def events():
    hub = current_app.extensions["lalopa.hub"]
    tick = current_app.config.get("LALOPA_SSE_TICK_S", 5.0)
    return sse_response(sse_stream(_build(lang()), hub, tick_s=tick, key=("dashboard", lang())))


def sse_response(stream) -> Response:
    """An event-stream response, or 503 when all stream slots, this session's or this
    address's share of them are taken (the page then polls)."""
    stream = limited(stream, current_app.extensions["lalopa.hub"],
                     {"session": session.get("sid"), "source": client_address()})
    if stream is None:
        resp = jsonify({"error": {"code": "busy", "message_id": "Server sibuk; halaman memperbarui"
                                  " secara berkala.", "message_en": "Server busy; the page polls instead."}})
        resp.status_code = 503
        return resp
    resp = Response(stream, mimetype="text/event-stream")
    resp.headers["Cache-Control"] = "no-cache"
    resp.headers["X-Accel-Buffering"] = "no"  # a reverse proxy must not buffer the stream
    return resp
