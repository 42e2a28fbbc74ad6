"""Web sessions: log-in state, idle and absolute expiry, CSRF tokens, role checks.

The session is Flask's signed cookie; the key comes from ``secret_key`` in the
state directory (server.auth.load_secret_key). Every request re-reads the user
row, so disabling an account or changing its role takes effect at once.
"""
from __future__ import annotations

import functools
import hmac
import secrets
import time

from flask import abort, current_app, g, jsonify, redirect, request, session, url_for

from server.web.i18n import both

IDLE_S = 30 * 60              # log out after 30 minutes without a request
ABSOLUTE_S = 12 * 60 * 60     # and at the latest 12 hours after log-in
CSRF_HEADER = "X-CSRF-Token"


def users():
    return current_app.extensions["lalopa.users"]


def start_session(user: dict, counter: int | None) -> None:
    """Begin a fresh session (a new CSRF token; old contents dropped: no fixation)."""
    lang = session.get("lang", "id")
    session.clear()
    now = int(time.time())
    session.update(uid=user["id"], counter=counter, login_at=now, seen_at=now,
                   csrf=secrets.token_urlsafe(32), lang=lang)
    session.permanent = True


def end_session() -> None:
    lang = session.get("lang", "id")
    session.clear()
    session["lang"] = lang


def load_user() -> None:
    """before_request: set ``g.user`` (or None) and enforce the timeouts."""
    g.user = None
    uid = session.get("uid")
    if uid is None:
        return
    now = int(time.time())
    idle = current_app.config.get("LALOPA_IDLE_S", IDLE_S)
    absolute = current_app.config.get("LALOPA_ABSOLUTE_S", ABSOLUTE_S)
    if now - session.get("seen_at", 0) > idle or now - session.get("login_at", 0) > absolute:
        end_session()
        g.session_expired = True
        return
    user = users().get(uid)
    if user is None or user["disabled"]:
        end_session()
        return
    session["seen_at"] = now
    g.user = dict(user, counter=session.get("counter"))


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
SESSION_READ_ROLES = ("admin", "supervisor")
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
    if user["role"] == "verifier" and counter is not None and session.get("counter") == counter:
        return caller
    return None


def _api_session_user() -> dict | None:
    """The enabled user of a live session (the timeouts as in load_user), or None."""
    if session.get("uid") is None or not session.get("csrf"):
        return None
    now = int(time.time())
    if now - session.get("seen_at", 0) > current_app.config.get("LALOPA_IDLE_S", IDLE_S):
        return None
    if now - session.get("login_at", 0) > current_app.config.get("LALOPA_ABSOLUTE_S", ABSOLUTE_S):
        return None
    user = users().get(session["uid"])
    if not user or user["disabled"]:
        return None
    return user
