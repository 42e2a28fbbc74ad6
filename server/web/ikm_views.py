"""The supervisor's IKM report: page, printable page and XLSX (``server.web.ikm_report``)."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, current_app, render_template, request

from broker.vocab import STAFF_ROLES
from server import ikm
from server.errors import QueueError
from server.web import ikm_report
from server.web.charts import bar_chart
from server.web.i18n import both, t
from server.web.security import require

bp = Blueprint("lalopa_ikm", __name__)


def _range() -> tuple[date, date]:
    """``from``/``to`` (default: 1 January of this year up to today); ValueError when malformed."""
    today = date.fromisoformat(current_app.extensions["lalopa.queue"].now()["service_day"])
    start = date.fromisoformat(request.args.get("from") or today.replace(month=1, day=1).isoformat())
    end = date.fromisoformat(request.args.get("to") or today.isoformat())
    return start, end


def _report():
    try:
        start, end = _range()
        return ikm_report.build(current_app.extensions["lalopa.queue"], start, end), None
    except ValueError:
        return None, both("bad_date")
    except QueueError as exc:
        return None, f"{exc.message_id} / {exc.message_en}"


def _page(template: str):
    report, error = _report()
    chart = None
    if report and report["months"]:
        chart = bar_chart([m["key"] for m in report["months"]],
                          [("IKM", [round(m["ikm"], 2) if m["ikm"] is not None else 0
                                    for m in report["months"]], "s1")], t("ikm_by_month"))
    return render_template(template, report=report, error=error, chart=chart, elements=ikm.ELEMENTS,
                           grades=ikm.GRADES), 400 if error else 200


@bp.get("/ikm")
@require(*STAFF_ROLES)
def page():
    return _page("ikm.html")


@bp.get("/ikm/print")
@require(*STAFF_ROLES)
def printable():
    return _page("ikm_print.html")


@bp.get("/ikm/export.xlsx")
@require(*STAFF_ROLES)
def export():
    report, error = _report()
    if error:
        return Response(error, status=400, mimetype="text/plain")
    svc = current_app.extensions["lalopa.queue"]
    name = f"ikm-{report['from']}_{report['to']}.xlsx"
    return Response(ikm_report.to_xlsx(report, svc.site.facility),
                    mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
