"""The supervisor's pages in real headless Chromium against a real server with a played morning."""
import csv
import io
import json
import math

from openpyxl import load_workbook

from broker.protocol import Presence, PrinterStatus
from server.presence import DeviceBook
from server.devtools.devserver import ThreadedServer
from server.devtools.screenshots import build_demo


def _duration(s):
    """The page's duration text (static/live.js fmtDuration): m:ss, or h:mm:ss; "–" for null."""
    if s is None:
        return "–"
    s = max(0, math.floor(s + 0.5))  # JavaScript's Math.round
    h, m, r = s // 3600, s % 3600 // 60, s % 60
    return f"{h}:{m:02d}:{r:02d}" if h else f"{m}:{r:02d}"


def _percent(x):
    """The page's share text: the server's one percent formatter (the report uses it too)."""
    from server.stats import whole_percent
    return whole_percent(x)


def _api(page, url, path):
    resp = page.request.get(url + path)
    assert resp.status == 200, resp.text()
    return resp.json()


def test_live_view_shows_the_days_figures_and_updates_on_a_call(demo, context, login):
    """GIVEN a supervisor logged in WHEN the live view loads THEN its figures equal the statistics
    API; WHEN a verifier calls a ticket THEN the counter card shows it without a reload."""
    page = context.new_page()
    login(page, demo.url, "supervisor")
    assert page.url.endswith("/dashboard")
    page.wait_for_selector("#conn.online")
    stats = _api(page, demo.url, "/api/v1/stats/day")
    assert stats["issued"] > 50
    for key in ("issued", "served", "no_show", "waiting"):
        assert page.text_content(f"[data-fig={key}]") == str(stats[key]), key
    assert stats["wait"]["n"] > 10 and stats["service"]["n"] > 10 and stats["within_target"]
    shown = {key: page.text_content(f"[data-fig={key}]")
             for key in ("mean_wait", "p90_wait", "mean_service", "within_target")}
    assert shown == {"mean_wait": _duration(stats["wait"]["mean_s"]),
                     "p90_wait": _duration(stats["wait"]["p90_s"]),
                     "mean_service": _duration(stats["service"]["mean_s"]),
                     "within_target": _percent(stats["within_target"])}
    for s in _api(page, demo.url, "/api/v1/queue")["services"]:
        cells = page.locator(f"tr[data-service={s['prefix']}] td").all_text_contents()
        assert cells[1] == str(s["waiting"]) and cells[4] == str(s["issued"])
    assert "Sholat" in page.text_content("[data-counter='4']")
    assert page.is_visible("#no-bridge")  # no MQTT bridge in this server

    page.evaluate("window.__marker = 1")  # survives only if the page is not reloaded
    demo.svc.counter_action(4, "resume", command_id="t-live-resume", device="test",
                            user_id=demo.ids["verif4"])
    result = demo.svc.counter_action(4, "next", command_id="t-live-next", device="test",
                                     user_id=demo.ids["verif4"])
    number = result["ticket"]["number"]
    page.wait_for_function(
        "n => document.querySelector(\"[data-counter='4'] .tk\").textContent === n", arg=number)
    assert page.evaluate("window.__marker") == 1


def test_report_matches_the_statistics_and_exports_csv_and_xlsx(demo, context, login):
    """GIVEN today's report WHEN shown THEN the totals equal /api/v1/stats/range; WHEN exported
    THEN the CSV and XLSX files hold the same totals."""
    page = context.new_page()
    login(page, demo.url, "supervisor")
    day = demo.svc.now()["service_day"]
    page.goto(f"{demo.url}/reports?from={day}&to={day}")
    totals = _api(page, demo.url, f"/api/v1/stats/range?from={day}&to={day}")["totals"]
    row = page.locator("#t-totals tbody tr").first
    assert row.locator("[data-col=issued]").text_content() == str(totals["issued"])
    assert row.locator("[data-col=served]").text_content() == str(totals["served"])
    assert float(row.locator("[data-col=wait_mean_s]").get_attribute("data-value")) == \
        totals["wait"]["mean_s"]
    assert page.locator("svg.chart").count() == 3
    for table, section in (("#t-counters", "counters"), ("#t-verifiers", "verifiers")):
        keys = page.locator(f"{table} tbody tr").evaluate_all("rs => rs.map(r => r.dataset.key)")
        assert keys and set(keys) <= set(totals[section]), section
        for key in keys:
            cells, figures = page.locator(f"{table} tr[data-key='{key}']"), totals[section][key]
            assert cells.locator("[data-col=served]").text_content() == str(figures["served"])
            assert cells.locator("[data-col=no_show]").text_content() == str(figures["no_show"])
            mean = cells.locator("[data-col=service_mean_s]").get_attribute("data-value")
            assert mean == ("" if figures["service"]["mean_s"] is None
                            else str(figures["service"]["mean_s"]))
    assert sorted((k for k, c in totals["counters"].items() if c["called"]), key=int) == \
        page.locator("#t-counters tbody tr").evaluate_all("rs => rs.map(r => r.dataset.key)")

    with page.expect_download() as info:
        page.click("#export-csv")
    rows = list(csv.DictReader(io.StringIO(open(info.value.path(), encoding="utf-8").read())))
    total = next(r for r in rows if r["section"] == "total")
    assert int(total["issued"]) == totals["issued"] and int(total["served"]) == totals["served"]
    assert float(total["wait_p90_s"]) == totals["wait"]["p90_s"]
    hours = {r["key"]: int(r["issued"]) for r in rows if r["section"] == "hour"}
    assert sum(hours.values()) == totals["issued"]

    with page.expect_download() as info:
        page.click("#export-xlsx")
    assert info.value.suggested_filename == f"lalopa-{day}_{day}.xlsx"
    with open(info.value.path(), "rb") as f:
        wb = load_workbook(io.BytesIO(f.read()))
    sheet = wb["Total"]
    header = [c.value for c in sheet[1]]
    values = dict(zip(header, [c.value for c in sheet[2]]))
    assert values["issued"] == totals["issued"] and values["no_show"] == totals["no_show"]
    verifiers = [r[0].value for r in wb["Verifikator"].iter_rows(min_row=2)]
    assert str(demo.ids["verif1"]) in verifiers


def test_admin_changes_a_service_and_it_applies_at_once(demo, context, login):
    """GIVEN an admin WHEN a service's name and requirements are changed THEN the kiosk's
    /api/v1/site shows them at once; WHEN an invalid cap is entered THEN a clear error shows
    and nothing changes."""
    page = context.new_page()
    login(page, demo.url, "admin")
    page.goto(f"{demo.url}/admin")
    form = page.locator("#service-B")
    page.click("#services details:nth-of-type(2) summary")
    form.locator("input[name=name_id]").fill("Informasi & Pengaduan")
    form.locator("textarea[name=requirements]").fill("Bawa KTP | Bring your ID card")
    form.locator("button[type=submit]").click()
    page.wait_for_selector(".flash.ok")
    site = _api(page, demo.url, "/api/v1/site")
    b = next(s for s in site["services"] if s["prefix"] == "B")
    assert b["name_id"] == "Informasi & Pengaduan"
    assert b["requirements"] == [{"id": "Bawa KTP", "en": "Bring your ID card"}]
    assert demo.svc.site.service("B").name_id == "Informasi & Pengaduan"

    page.click("#services details:nth-of-type(1) summary") if not page.is_visible("#service-A") else None
    page.locator("#service-A input[name=daily_cap]").fill("0")
    page.locator("#service-A button[type=submit]").click()
    error = page.wait_for_selector(".flash.error").text_content()
    assert "daily_cap" in error and "Perubahan tidak valid" in error
    assert demo.svc.site.service("A").daily_cap == 400


def test_wrong_role_is_refused_in_the_browser(demo, context, login):
    """GIVEN a verifier WHEN opening the dashboard or the admin page THEN 403 with a bilingual
    message; GIVEN nobody THEN the report redirects to the log-in form."""
    page = context.new_page()
    resp = page.goto(f"{demo.url}/reports")
    assert "/login" in page.url and resp.status == 200
    login(page, demo.url, "verif1")
    for path in ("/dashboard", "/admin"):
        resp = page.goto(demo.url + path)
        assert resp.status == 403
        assert "tidak berhak" in page.content() and "may not open" in page.content()
    resp = page.request.get(f"{demo.url}/dashboard/state.json")
    assert resp.status == 403 and json.loads(resp.text())["error"]["code"] == "forbidden"


def test_live_view_falls_back_to_polling_when_no_stream_slot_is_free(tmp_path, context, login):
    """GIVEN a server with no event-stream slot free and a kiosk out of paper WHEN the live view
    is open THEN it shows the device and the alert; WHEN a ticket is called THEN the page shows
    "reconnecting" yet still updates by polling, without a reload."""
    app, svc, clock, ids = build_demo(str(tmp_path), config={"LALOPA_SSE_MAX_STREAMS": 0})
    # the MQTT bridge's device table, fed as the bridge feeds it (here without a broker)
    book = DeviceBook(now=lambda: "2026-11-23T09:40:00+07:00")
    book.presence(Presence(role="kiosk", device="kiosk-1", status="online"))
    book.printer(PrinterStatus(kiosk="kiosk-1", status="paper_out"))
    app.extensions["lalopa.bridge"] = book
    with ThreadedServer(app) as url:
        page = context.new_page()
        login(page, url, "supervisor")
        page.wait_for_selector("#conn.offline")
        assert page.is_hidden("#no-bridge")
        assert "Kertas habis" in page.text_content("tr[data-device='kiosk-1']")
        assert "kehabisan kertas" in page.text_content("#alerts li.paper")
        svc.counter_action(6, "open", command_id="poll-open", device="test")
        svc.issue("A", request_id="poll-issue", device="kiosk-test")
        number = svc.counter_action(6, "next", command_id="poll-next", device="test")["ticket"]["number"]
        page.wait_for_function(
            "n => document.querySelector(\"[data-counter='6'] .tk\").textContent === n", arg=number)
    svc.close()


def test_screenshot_device_table_feeds_device_health_and_alerts(demo):
    """GIVEN the device table the docs screenshots use WHEN the live snapshot is built THEN it
    lists every device with box-09 offline and kiosk-1's printer paper low, and alerts on box-09."""
    from server.web.live import dashboard_snapshot
    from server.devtools.screenshots import demo_devices
    book = demo_devices(demo.svc)
    with demo.app.test_request_context():
        snap = dashboard_snapshot(demo.svc, book, "id")
    devices = {d["device"]: d for d in snap["devices"]}
    assert len(devices) == 19 and snap["bridge"] is True
    assert devices["box-09"]["status"] == "offline"
    assert all(d["status"] == "online" for name, d in devices.items() if name != "box-09")
    assert devices["kiosk-1"]["printer"]["status"] == "paper_low"
    offline = [a["text"] for a in snap["alerts"] if a["kind"] == "offline"]
    assert len(offline) == 1 and "box-09" in offline[0]
