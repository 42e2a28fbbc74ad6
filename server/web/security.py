"""Web sessions: log-in state, idle and absolute expiry, CSRF tokens, role checks.

A session lives on the server (``web_sessions``, server.auth.SessionStore). The
signed cookie carries only its random id, the chosen counter, the CSRF token and
the language, so log-out and a password change end it for every copy of the
cookie. The cookie is HttpOnly, SameSite=Lax, Secure when the page came over TLS,
and lasts IDLE_S from the last request; the server also ends every session
ABSOLUTE_S after log-in. Every request re-reads the user row, so disabling an
account or changing its role or counter takes effect at once.
"""
from __future__ import annotations

import functools
import hmac
import secrets
from datetime import timedelta

from flask import abort, current_app, g, jsonify, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface

from broker.vocab import STAFF_ROLES
from server.auth import SessionStore
from server.web.i18n import both

IDLE_S = 30 * 60              # log out after 30 minutes without a request
ABSOLUTE_S = 12 * 60 * 60     # and at the latest 12 hours after log-in
CSRF_HEADER = "X-CSRF-Token"
COOKIE = "lalopa_session"


class SessionCookies(SecureCookieSessionInterface):
    """Flask's signed cookie, marked Secure whenever the request itself came over TLS."""

    def get_cookie_secure(self, app) -> bool:
        return bool(app.config.get("SESSION_COOKIE_SECURE")) or (
            bool(request) and request.is_secure)


def configure(app) -> None:
    """The cookie rules above (set outright: Flask's own defaults are 31 days, no SameSite)."""
    app.config.update(PERMANENT_SESSION_LIFETIME=timedelta(seconds=idle_s(app)),
                      SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                      SESSION_COOKIE_NAME=COOKIE, SESSION_REFRESH_EACH_REQUEST=True)
    app.session_interface = SessionCookies()
    app.extensions["lalopa.sessions"] = SessionStore(app.extensions["lalopa.queue"].db)


def idle_s(app=None) -> int:
    return int((app or current_app).config.get("LALOPA_IDLE_S", IDLE_S))


def absolute_s(app=None) -> int:
    return int((app or current_app).config.get("LALOPA_ABSOLUTE_S", ABSOLUTE_S))


def users():
    return current_app.extensions["lalopa.users"]


def sessions() -> SessionStore:
    return current_app.extensions["lalopa.sessions"]


def client_address() -> str:
    """The client's address (behind the front, waitress has already put the real one here)."""
    return request.remote_addr or "?"


def start_session(user: dict, counter: int | None) -> None:
    """Begin a fresh session (a new id and CSRF token; old contents dropped: no fixation)."""
    lang = session.get("lang", "id")
    sessions().revoke(session.get("sid"))
    session.clear()
    sid = sessions().create(user["id"], client_address(), absolute_s())
    session.update(sid=sid, counter=counter, csrf=secrets.token_urlsafe(32), lang=lang)
    session.permanent = True


def end_session() -> None:
    lang = session.get("lang", "id")
    sessions().revoke(session.get("sid"))
    session.clear()
    session["lang"] = lang


def _live_user() -> dict | None:
    """The enabled user of this request's live session, or None (and the session is dropped)."""
    sid = session.get("sid")
    if sid is None:
        return None
    uid = sessions().check(sid, idle_s(), absolute_s())
    if uid is None:
        end_session()
        g.session_expired = True
        return None
    user = users().get(uid)
    if user is None or user["disabled"]:
        end_session()
        return None
    # A verifier bound to a counter works at that counter, whatever the session says.
    counter = user["counter"] if user["role"] == "verifier" and user["counter"] else session.get("counter")
    return dict(user, counter=counter)


def load_user() -> None:
    """before_request: set ``g.user`` (or None) and enforce the timeouts."""
    g.user = _live_user()


def csrf_token() -> str:
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


def check_csrf() -> None:
    """before_request for unsafe methods: the form field or header must match the session."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    sent = request.headers.get(CSRF_HEADER) or request.form.get("csrf_token", "")
    expected = session.get("csrf", "")
    if not expected or not hmac.compare_digest(sent, expected):
        if request.is_json or request.headers.get(CSRF_HEADER) is not None:
            return _json_error(403, "csrf", "csrf")
        abort(403, both("csrf"))


def _json_error(status: int, code: str, key: str):
    from server.web.i18n import STRINGS
    resp = jsonify({"error": {"code": code, "message_id": STRINGS[key][0],
                              "message_en": STRINGS[key][1]}})
    resp.status_code = status
    abort(resp)


def wants_json() -> bool:
    return request.path.endswith((".json", "/events", "/action")) or request.is_json


def require(*roles: str):
    """Decorator: the view needs a logged-in user with one of ``roles``.

    Pages redirect to the log-in form; JSON and event endpoints answer 401/403."""
    def wrap(view):
        @functools.wraps(view)
        def inner(*args, **kwargs):
            if g.get("user") is None:
                if wants_json():
                    _json_error(401, "login_required", "login_required")
                return redirect(url_for("lalopa_auth.login", next=request.path))
            if g.user["role"] not in roles:
                if wants_json():
                    _json_error(403, "forbidden", "forbidden")
                abort(403, both("forbidden"))
            return view(*args, **kwargs)
        return inner
    return wrap


# What a browser session may do through the JSON API (server.api), and nothing more.
# Reads (GET/HEAD) of the admin-only API — the statistics — for these roles:
SESSION_READ_ROLES = STAFF_ROLES
# Counter actions, with the CSRF header: an admin on any counter, a verifier only on the
# counter of their session. Issuing tickets and everything else stays with device tokens.
SESSION_ACTION_ENDPOINT = "api.counter_action"


def api_session_hook(roles: tuple[str, ...]) -> dict | None:
    """server.api auth hook: the caller for a logged-in session the rule above allows, else None.

    A supervisor's session only reads; changes need the CSRF header too, so a cookie
    alone never changes anything. None makes the API answer 401 as for a missing token.
    """
    user = _api_session_user()
    if user is None:
        return None
    caller = {"id": f"user-{user['username']}", "role": user["role"], "user_id": user["id"]}
    if request.method in ("GET", "HEAD"):
        return caller if "admin" in roles and user["role"] in SESSION_READ_ROLES else None
    if not hmac.compare_digest(request.headers.get(CSRF_HEADER, ""), session.get("csrf", "")):
        return None
    if request.endpoint != SESSION_ACTION_ENDPOINT:
        return None
    counter = (request.view_args or {}).get("counter")
    if user["role"] == "admin":
        return caller
    if user["role"] == "verifier" and counter is not None and user["counter"] == counter:
        return caller
    return None


def _api_session_user() -> dict | None:
    """The enabled user of a live session (as in load_user), or None."""
    if not session.get("csrf"):
        return None
    if "user" in g:
        return g.user
    return _live_user()
