"""Staffing advice on the web: the weekly plan, its printable page, and "this hour" on the dashboard.

The advice (``server.staffing.advise``) simulates every weekday; it depends only
on the history before today, so it is computed once per service day and kept.
"""
from __future__ import annotations

import threading
from datetime import date, datetime, timezone

from flask import Blueprint, current_app, render_template

from broker.vocab import STAFF_ROLES
from server import staffing
from server.config import WEEKDAYS
from server.web.security import require

bp = Blueprint("lalopa_staffing", __name__)
WEEKDAY_NAMES = {"mon": ("Senin", "Monday"), "tue": ("Selasa", "Tuesday"), "wed": ("Rabu", "Wednesday"),
                 "thu": ("Kamis", "Thursday"), "fri": ("Jumat", "Friday"), "sat": ("Sabtu", "Saturday"),
                 "sun": ("Minggu", "Sunday")}
_lock = threading.Lock()


def plan_for(app, today: date) -> dict:
    """The advice from the history before ``today``, computed once per day per app."""
    with _lock:
        cached = app.extensions.get("lalopa.staffing")
        if cached is None or cached[0] != today:
            svc = app.extensions["lalopa.queue"]
            cached = (today, staffing.advise(svc.db.read(), svc.site, today))
            app.extensions["lalopa.staffing"] = cached
        return cached[1]


def context_for(app) -> dict:
    """What the staffing pages show (no request needed: the live stream calls it too)."""
    svc = app.extensions["lalopa.queue"]
    now = svc.now()
    today = date.fromisoformat(now["service_day"])
    plan = plan_for(app, today)
    wd = WEEKDAYS[today.weekday()]
    opened = staffing.open_counters(svc.db.read(), svc.site, today.isoformat(), now["epoch_ms"])
    hours = sorted({c.hour for row in plan["weekdays"].values() for c in row})
    grid = {w: {c.hour: c for c in row} for w, row in plan["weekdays"].items()}
    return {"plan": plan, "grid": grid, "hours": hours, "today_wd": wd, "today_row": plan["weekdays"][wd],
            "opened": opened, "names": WEEKDAY_NAMES, "weekdays": [w for w in WEEKDAYS if grid[w]],
            "now_hour": datetime.fromtimestamp(now["epoch_ms"] / 1000, tz=timezone.utc)
            .astimezone(svc.site.tz).hour, "share_pct": round(plan["share"] * 100)}


def now_for(app) -> dict | None:
    """This hour's advice beside the counters open now (None outside opening hours)."""
    ctx = context_for(app)
    cell = next((c for c in ctx["today_row"] if c.hour == ctx["now_hour"]), None)
    if cell is None:
        return None
    return {"hour": cell.hour, "advised": cell.advised, "thin": cell.thin,
            "open": ctx["opened"].get(cell.hour, 0)}


def _context() -> dict:
    return context_for(current_app._get_current_object())


@bp.get("/staffing")
@require(*STAFF_ROLES)
def page():
    return render_template("staffing.html", **_context())


@bp.get("/staffing/print")
@require(*STAFF_ROLES)
def printable():
    return render_template("staffing_print.html", **_context())


@bp.app_template_global()
def staffing_now() -> dict | None:
    """For the live dashboard's first paint (the live stream carries it as ``staffing``)."""
    return now_for(current_app._get_current_object())
