"""Administration: services, counters, site settings, running text, users.

Every change is validated by server.config (through SiteEditor) before it is
stored, and applies at once: the QueueService reads ``svc.site`` on every call.
"""
from __future__ import annotations

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for

from broker import texts
from broker.vocab import USER_ROLES
from server.auth import AuthError
from server.errors import ConfigError, QueueError
from server.queue import check_running_text
from server.web.i18n import t
from server.web.security import require, users
from server.web.siteedit import site_data

bp = Blueprint("lalopa_admin", __name__)


def _editor():
    return current_app.extensions["lalopa.site_editor"]


def _svc():
    return current_app.extensions["lalopa.queue"]


@bp.get("/admin")
@require("admin")
def page():
    svc = _svc()
    running = svc.board()["running_text"]
    return render_template("admin.html", site=svc.site, running_text=running,
                           users=users().listing(), roles=tuple(reversed(USER_ROLES)), limits=texts)


def _texts(raw: str) -> list[dict]:
    """Textarea lines ``Indonesian | English`` → [{"id", "en"}] (English defaults to Indonesian)."""
    out = []
    for line in (raw or "").splitlines():
        if line.strip():
            ind, _, eng = line.partition("|")
            out.append({"id": ind.strip(), "en": (eng or ind).strip()})
    return out


def _service_from_form(form, prefix: str, current: dict | None) -> dict:
    entry = {"prefix": prefix, "name_id": form.get("name_id", "").strip(),
             "name_en": form.get("name_en", "").strip(),
             "requirements": _texts(form.get("requirements", "")),
             "flow": _texts(form.get("flow", "")),
             "start_number": (current or {}).get("start_number", 1)}
    cap = form.get("daily_cap", "").strip()
    if cap:
        entry["daily_cap"] = int(cap) if cap.lstrip("-").isdigit() else cap
    return entry


def _apply(key: str, value):
    try:
        _editor().update(key, value, user_id=g.user["id"])
        flash(t("saved"), "ok")
    except ConfigError as exc:
        _flash_invalid(exc)
    return redirect(url_for("lalopa_admin.page") + f"#{key}")


def _flash_invalid(exc: ConfigError) -> None:
    where = f"{exc.path}: " if exc.path else ""
    flash(f"Perubahan tidak valid / Invalid change — {where}{exc.problem}", "error")


@bp.post("/admin/services/<prefix>")
@require("admin")
def save_service(prefix: str):
    data = site_data(_svc().site)
    services = data["services"]
    if prefix == "new":
        new_prefix = request.form.get("prefix", "").strip().upper()
        services.append(_service_from_form(request.form, new_prefix, None))
    else:
        idx = next((i for i, s in enumerate(services) if s["prefix"] == prefix), None)
        if idx is None:
            flash("Layanan tidak dikenal / Unknown service", "error")
            return redirect(url_for("lalopa_admin.page"))
        services[idx] = _service_from_form(request.form, prefix, services[idx])
    return _apply("services", services)


@bp.post("/admin/counters")
@require("admin")
def save_counters():
    counters = []
    for c in _svc().site.counters:
        raw = request.form.get(f"services_{c.number}", "")
        counters.append({"number": c.number,
                         "name": request.form.get(f"name_{c.number}", c.name).strip(),
                         "services": [p.strip().upper() for p in raw.split(",") if p.strip()]})
    new = request.form.get("new_number", "").strip()
    if new:  # the blank row adds a counter; the site's checks refuse a bad or taken number
        raw = request.form.get("new_services", "")
        counters.append({"number": int(new) if new.isdigit() else new,
                         "name": request.form.get("new_name", "").strip() or f"Loket {new}",
                         "services": [p.strip().upper() for p in raw.split(",") if p.strip()]})
    return _apply("counters", counters)


@bp.post("/admin/settings")
@require("admin")
def save_settings():
    """Settings and running text: the whole form is validated before anything is stored, so a
    rejected form changes nothing (the running text included)."""
    form = request.form
    target = form.get("target_wait_min", "").strip()
    settings = {"facility": form.get("facility", "").strip(),
                "whatsapp": form.get("whatsapp", "").strip(),
                "target_wait_min": int(target) if target.isdigit() else target}
    back = redirect(url_for("lalopa_admin.page") + "#settings")
    try:
        running = check_running_text(form.get("running_text", "").strip())
        _editor().validate("settings", settings)
    except QueueError as exc:
        flash(f"{exc.message_id} / {exc.message_en}", "error")
        return back
    except ConfigError as exc:
        _flash_invalid(exc)
        return back
    try:
        _editor().update("settings", settings, user_id=g.user["id"])
    except ConfigError as exc:  # another admin changed the site between the two checks
        _flash_invalid(exc)
        return back
    _svc().set_running_text(running)
    flash(t("saved"), "ok")
    return back


@bp.post("/admin/users")
@require("admin")
def add_user():
    form = request.form
    counter = form.get("counter", "").strip()
    try:
        users().create(form.get("username", "").strip().lower(), form.get("role", ""),
                       form.get("password", ""), int(counter) if counter.isdigit() else None)
        flash(t("saved"), "ok")
    except AuthError as exc:
        flash(f"{exc.message_id} / {exc.message_en}", "error")
    return redirect(url_for("lalopa_admin.page") + "#users")


@bp.post("/admin/users/<int:user_id>")
@require("admin")
def edit_user(user_id: int):
    form = request.form
    store = users()
    try:
        if form.get("op") == "toggle":
            user = store.get(user_id)
            if user and user_id != g.user["id"]:  # an admin cannot lock themself out
                store.set_disabled(user_id, not user["disabled"])
        elif form.get("op") == "password":
            store.set_password(user_id, form.get("password", ""))
        elif form.get("op") == "counter":
            raw = form.get("counter", "").strip()
            store.set_counter(user_id, int(raw) if raw.isdigit() else None)
        flash(t("saved"), "ok")
    except AuthError as exc:
        flash(f"{exc.message_id} / {exc.message_en}", "error")
    return redirect(url_for("lalopa_admin.page") + "#users")
