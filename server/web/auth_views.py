"""Log-in, log-out and the language toggle."""
from __future__ import annotations

from pathlib import Path

from flask import (Blueprint, current_app, g, make_response, redirect, render_template, request,
                   session, url_for)

from server.auth import DEVICE_COOKIE, DEVICE_COOKIE_DAYS, AuthError
from server.web.i18n import LANGS, both
from server.web.security import client_address, end_session, start_session, users

PACKAGE = Path(__file__).resolve().parent.parent
# Templates and assets live in server/templates and server/static; served from
# /web-static so they never clash with anything the API app serves.
bp = Blueprint("lalopa_auth", __name__, template_folder=str(PACKAGE / "templates"),
               static_folder=str(PACKAGE / "static"), static_url_path="/web-static")


def home_for(user: dict | None) -> str:
    if user is None:
        return url_for("lalopa_auth.login")
    if user["role"] == "verifier":
        return url_for("lalopa_panel.panel")
    return url_for("lalopa_dashboard.live")


def _safe_next(target: str | None) -> str | None:
    # only local paths: never redirect a log-in to another site
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return None


@bp.get("/")
def index():
    return redirect(home_for(g.user))


@bp.route("/login", methods=["GET", "POST"])
def login():
    svc = current_app.extensions["lalopa.queue"]
    counters = svc.site.counters
    error = both("expired") if g.get("session_expired") else None
    if request.method == "POST":
        device = request.cookies.get(DEVICE_COOKIE)
        try:
            user = users().authenticate(request.form.get("username", ""),
                                        request.form.get("password", ""),
                                        ip=client_address(), device=device)
        except AuthError as exc:
            resp = make_response(render_template("login.html", counters=counters,
                                                 error=f"{exc.message_id} / {exc.message_en}"),
                                 exc.status)
            if getattr(exc, "retry_after", None):
                resp.headers["Retry-After"] = str(exc.retry_after)
            return resp
        counter, error = _chosen_counter(user, request.form.get("counter"), svc)
        if error:
            return render_template("login.html", counters=counters, error=error), 400
        start_session(user, counter)
        resp = redirect(_safe_next(request.args.get("next")) or home_for(dict(user, counter=counter)))
        resp.set_cookie(DEVICE_COOKIE, users().remember_device(user["username"], device),
                        max_age=DEVICE_COOKIE_DAYS * 86400, httponly=True, samesite="Lax",
                        secure=request.is_secure)
        return resp
    return render_template("login.html", counters=counters, error=error)


def _chosen_counter(user: dict, raw: str | None, svc) -> tuple[int | None, str | None]:
    """(counter, error): a verifier bound to a counter gets exactly that one; others choose
    at log-in (a verifier must have one), falling back to their usual counter."""
    try:
        chosen = int(raw) if raw else None
    except ValueError:
        chosen = -1
    if user["role"] == "verifier" and user["counter"] is not None:
        if chosen is not None and chosen != user["counter"]:
            return None, both("counter_bound", counter=user["counter"])
        chosen = user["counter"]
    elif chosen is None:
        chosen = user["counter"]
    counter = chosen if chosen is not None and svc.site.counter(chosen) else None
    if user["role"] == "verifier" and counter is None:
        return None, both("no_counter")
    return counter, None


@bp.post("/logout")
def logout():
    end_session()
    return redirect(url_for("lalopa_auth.login"))


@bp.get("/lang/<code>")
def set_lang(code: str):
    if code in LANGS:
        session["lang"] = code
    return redirect(_safe_next(request.args.get("next")) or home_for(g.user))
