"""Reports by date range: tables, charts, CSV and XLSX downloads."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, current_app, render_template, request

from broker.vocab import STAFF_ROLES
from server.errors import QueueError
from server.web import report_data
from server.web.charts import bar_chart
from server.web.i18n import both, t
from server.web.security import require, users

bp = Blueprint("lalopa_reports", __name__)
STAFF = STAFF_ROLES


def _range() -> tuple[date, date]:
    """``from``/``to`` query parameters (default: today); ValueError when malformed."""
    today = date.fromisoformat(current_app.extensions["lalopa.queue"].now()["service_day"])
    start = date.fromisoformat(request.args.get("from") or today.isoformat())
    end = date.fromisoformat(request.args.get("to") or start.isoformat())
    return start, end


def _report():
    svc = current_app.extensions["lalopa.queue"]
    try:
        start, end = _range()
        return report_data.build(svc, users(), start, end), None
    except ValueError:
        return None, both("bad_date")
    except QueueError as exc:
        return None, f"{exc.message_id} / {exc.message_en}"


@bp.get("/reports")
@require(*STAFF)
def page():
    report, error = _report()
    if error:
        return render_template("reports.html", report=None, error=error, charts={}), 400
    return render_template("reports.html", report=report, error=None, charts=_charts(report))


def _charts(report: dict) -> dict:
    hours = report["hours"]
    return {
        "hours": bar_chart([h["key"] for h in hours],
                           [(t("arrivals"), [h["arrivals"] for h in hours], "s1"),
                            (t("completions"), [h["completions"] for h in hours], "s2")],
                           t("per_hour")),
        "waits": bar_chart([w["key"] for w in report["waits"]],
                           [(t("tickets"), [w["count"] for w in report["waits"]], "s3")],
                           t("wait_hist")),
        "service": bar_chart([c["key"] for c in report["counters"]],
                             [(t("mean_service"), [round((c["service_mean_s"] or 0) / 60, 1)
                                                   for c in report["counters"]], "s2")],
                             t("service_per_counter")),
    }


# A cell starting with one of these is a formula to a spreadsheet (=HYPERLINK(...), +, -, @,
# and tab / carriage return that some programs strip before parsing): an admin-typed
# service or counter name must reach the file as text, never run.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def inert(value):
    """``value`` as spreadsheet-safe text: a leading apostrophe turns a formula into text."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    if isinstance(value, dict):
        return {k: inert(v) for k, v in value.items()}
    if isinstance(value, list):
        return [inert(v) for v in value]
    return value


@bp.get("/reports/export.<fmt>")
@require(*STAFF)
def export(fmt: str):
    report, error = _report()
    if error:
        return Response(error, status=400, mimetype="text/plain")
    report = inert(report)  # every cell of both formats comes from this dict
    name = f"lalopa-{report['from']}_{report['to']}"
    if fmt == "csv":
        return Response(report_data.to_csv(report), mimetype="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
    if fmt == "xlsx":
        return Response(report_data.to_xlsx(report),
                        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'})
    return Response("format: csv | xlsx", status=404, mimetype="text/plain")
