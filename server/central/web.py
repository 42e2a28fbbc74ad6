"""The city dashboard: live state of every site, alerts, reports across sites, exports.

Plain Flask, served by waitress from ``lalopa central serve`` (loopback by
default: put the same nginx front as a site's dashboard before it to open it
to the health office's network). The live page reads ``/api/city/live``
every second; reports read the daily aggregates only.

Every page but the log-in needs a viewer (``lalopa central add-viewer``): a
log-in form sets a signed session cookie; scripts may send HTTP Basic
credentials instead. Failed log-ins are limited as on a site's dashboard.
"""
from __future__ import annotations

import csv
import io
import secrets
import threading
from datetime import date, timedelta

from flask import Flask, Response, jsonify, redirect, render_template, request, session

from server.central import views
from server.central.store import Store, utc_ms
from server.central.viewers import ViewerError, authenticate
from server.web.reports import inert

OPEN_PATHS = ("/login", "/healthz")

MAX_REPORT_DAYS = 3660  # ten years of daily rows is still a few hundred thousand


def create_app(dsn: str) -> Flask:
    app = Flask(__name__, template_folder="templates")
    # A key per process: a restart of the centre logs everyone out, nothing to keep secret on disk.
    app.config.update(SECRET_KEY=secrets.token_hex(32), SESSION_COOKIE_HTTPONLY=True,
                      SESSION_COOKIE_SAMESITE="Strict", MAX_CONTENT_LENGTH=4096)
    local = threading.local()

    def store() -> Store:
        s = getattr(local, "store", None)
        if s is None or s.conn.closed:
            s = local.store = Store(dsn)
        return s

    def period() -> tuple[date, date, str]:
        try:
            end = date.fromisoformat(request.args.get("to") or date.today().isoformat())
            start = date.fromisoformat(request.args.get("from") or (end - timedelta(days=29)).isoformat())
        except ValueError:
            raise BadPeriod() from None
        by = request.args.get("by", "site")
        if end < start or (end - start).days > MAX_REPORT_DAYS or by not in views.BY:
            raise BadPeriod()
        return start, end, by

    @app.before_request
    def require_viewer():
        if request.path in OPEN_PATHS or session.get("viewer"):
            return None
        auth = request.authorization
        if auth is not None and auth.type == "basic":
            try:
                authenticate(store(), auth.username or "", auth.password or "", request.remote_addr or "")
                return None
            except ViewerError as exc:
                return _refused(exc)
        if request.path.startswith("/api/") or request.path.startswith("/reports/export"):
            return _refused(ViewerError("Perlu masuk. / Log-in needed."))
        return redirect("/login")

    @app.route("/login", methods=["GET", "POST"])
    def login():
        error, status = None, 200
        if request.method == "POST":
            try:
                session["viewer"] = authenticate(store(), request.form.get("name", ""),
                                                 request.form.get("password", ""), request.remote_addr or "")
                return redirect("/")
            except ViewerError as exc:
                error, status = str(exc), 429 if exc.limited else 401
        return render_template("city_login.html", error=error), status

    @app.post("/logout")
    def logout():
        session.clear()
        return redirect("/login")

    @app.errorhandler(BadPeriod)
    def bad_period(_exc):
        return jsonify({"error": {"message_id": "Periode atau pengelompokan tidak valid: pakai from/to "
                                                "YYYY-MM-DD dan by=site|cluster|service.",
                                  "message_en": "Invalid period or grouping: use from/to YYYY-MM-DD "
                                                "and by=site|cluster|service."}}), 400

    @app.get("/")
    def dashboard():
        return render_template("city_dashboard.html")

    @app.get("/api/city/live")
    def live_json():
        return jsonify(views.live(store(), utc_ms()))

    @app.get("/api/city/report")
    def report_json():
        start, end, by = period()
        return jsonify(views.report(store(), start, end, by))

    @app.get("/reports")
    def report_page():
        start, end, by = period()
        return render_template("city_report.html", rep=views.report(store(), start, end, by))

    @app.get("/reports/export.<fmt>")
    def export(fmt: str):
        start, end, by = period()
        rows = inert(views.report_rows(views.report(store(), start, end, by)))
        name = f"lalopa-kota-{by}-{start}-{end}"
        if fmt == "csv":
            buf = io.StringIO()
            w = csv.DictWriter(buf, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
            return Response(buf.getvalue(), mimetype="text/csv",
                            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
        if fmt == "xlsx":
            from openpyxl import Workbook
            wb = Workbook()
            ws = wb.active
            ws.title = "kota"
            ws.append(list(rows[0]))
            for r in rows:
                ws.append(list(r.values()))
            out = io.BytesIO()
            wb.save(out)
            return Response(out.getvalue(), headers={
                "Content-Disposition": f'attachment; filename="{name}.xlsx"'},
                mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        return Response("format: csv | xlsx", status=404, mimetype="text/plain")

    @app.get("/healthz")
    def healthz():
        return jsonify({"ok": True})

    return app


def _refused(exc: ViewerError):
    status = 429 if exc.limited else 401
    text_id, _, text_en = str(exc).partition(" / ")
    headers = {} if exc.limited else {"WWW-Authenticate": 'Basic realm="LALOPA kota"'}
    return jsonify({"error": {"message_id": text_id, "message_en": text_en or text_id}}), status, headers


class BadPeriod(ValueError):
    """A report period or grouping that cannot be read."""
