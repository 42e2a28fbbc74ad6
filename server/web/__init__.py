"""The web side of the server: log-in, live view, reports, administration, verifier panel.

``init_web(app)`` is called once by ``server.app.create_app`` after the API
blueprint is registered. It needs ``app.extensions["lalopa.queue"]``.
"""
from __future__ import annotations

from pathlib import Path

from flask import Flask, g

from broker import settings
from server.auth import UserStore, load_secret_key
from server.httplimits import LIVE_STREAMS_TOTAL
from server.web import admin, auth_views, dashboard, panel, reports
from server.web import ikm_views, staffing_views
from server.web.i18n import lang, t
from server.web.live import Hub
from server.web import security
from server.web.security import api_session_hook, check_csrf, csrf_token, load_user
from server.web.siteedit import SiteEditor

BLUEPRINTS = (auth_views.bp, dashboard.bp, panel.bp, reports.bp, admin.bp, ikm_views.bp,
              staffing_views.bp)
for _bp in BLUEPRINTS:  # once per process: a blueprint cannot change after registration
    _bp.before_request(load_user)
    _bp.before_request(check_csrf)


def _state_dir(app: Flask, svc) -> Path:
    """Where the secret key lives: next to the database (the server's state directory)."""
    db_path = getattr(svc.db, "path", "")
    if db_path and db_path != ":memory:":
        return Path(db_path).resolve().parent
    return Path(app.instance_path)


def init_web(app: Flask) -> None:
    """Register the web blueprints, sessions, CSRF and the live-update hub on ``app``."""
    svc = app.extensions["lalopa.queue"]
    # create_app's default key is random per process (every restart would log
    # everyone out): use the persistent per-installation key unless one was given.
    if not (settings.get("LALOPA_SECRET_KEY") or app.config.get("LALOPA_SECRET_KEY_GIVEN")):
        app.config["SECRET_KEY"] = load_secret_key(_state_dir(app, svc))
    security.configure(app)  # server-side sessions, cookie flags and lifetime

    app.extensions["lalopa.users"] = UserStore(svc.db)
    hub = app.extensions["lalopa.hub"] = Hub(int(app.config.get(
        "LALOPA_SSE_MAX_STREAMS", settings.get("LALOPA_SSE_MAX_STREAMS") or LIVE_STREAMS_TOTAL)))
    svc.add_listener(hub.notify)
    editor = app.extensions["lalopa.site_editor"] = SiteEditor(
        svc, svc.site, on_change=lambda site: _site_changed(app, site))
    editor.apply_stored()

    app.extensions.setdefault("lalopa.auth_hooks", []).append(api_session_hook)
    for bp in BLUEPRINTS:
        app.register_blueprint(bp)

    @app.context_processor
    def _helpers():
        return {"t": t, "lang": lang(), "csrf_token": csrf_token, "user": g.get("user"),
                "site_name": app.extensions["lalopa.queue"].site.facility}


init_app = init_web  # the name server.app looks for


def _site_changed(app: Flask, site) -> None:
    """An admin change was applied to svc.site (the one owner): tell the bridge and the live pages."""
    bridge = app.extensions.get("lalopa.bridge")
    if bridge is not None:
        bridge.site_changed()  # it reads svc.site itself; devices get the new retained state
    app.extensions["lalopa.hub"].notify()
