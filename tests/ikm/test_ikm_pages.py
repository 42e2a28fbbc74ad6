"""The supervisor's IKM report, its XLSX and printable page, and the staffing views, in Chromium."""
from __future__ import annotations

import io
from datetime import date

import pytest
from openpyxl import load_workbook

from server import staffing
from server.devtools.devserver import ThreadedServer
from server.devtools.history import DEMO_PATTERN, press_smileys, rate_served, write_history
from server.devtools.screenshots import PASSWORD, build_demo
from server.web import ikm_report


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    app, svc, clock, ids = build_demo(str(tmp_path_factory.mktemp("ikm")))
    write_history(svc, weeks=8, pattern=DEMO_PATTERN, patience_min=45, counters=10, rated=0.15)
    rate_served(svc, share=0.5)
    press_smileys(svc)
    app.config["LALOPA_SSE_TICK_S"] = 0.5
    with ThreadedServer(app) as url:
        yield url, svc, clock
    svc.close()


@pytest.fixture(scope="module")
def page(site, browser):
    url = site[0]
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    ctx.set_default_timeout(15000)
    p = ctx.new_page()
    p.goto(f"{url}/login")
    p.fill("input[name=username]", "supervisor")
    p.fill("input[name=password]", PASSWORD)
    p.click("#login-submit")
    p.wait_for_load_state("domcontentloaded")
    yield p
    ctx.close()


def test_ikm_report_page_xlsx_and_print_agree_with_the_computation(site, page):
    """GIVEN eight weeks of answers WHEN the supervisor opens the IKM report for the year THEN the
    index, grade, weakest element and sample are the computed ones, the 0.111 figure is shown
    beside it, and the XLSX and the printable page carry the same index."""
    url, svc, clock = site
    report = ikm_report.build(svc, date(2026, 1, 1), date(2026, 11, 23))
    o = report["overall"]
    assert o["responses"] > 100 and report["smiley"]["total"]["count"] == 48
    page.goto(f"{url}/ikm?from=2026-01-01&to=2026-11-23")
    assert page.inner_text("#ikm-value") == f"{o['ikm']:.2f}"
    assert page.inner_text("#ikm-grade") == o["grade"]["letter"]
    assert f"{o['ikm_rounded_weight']:.2f}" in page.inner_text("#ikm-weight")
    assert o["weakest"]["code"].upper() in page.inner_text("#ikm-weakest")
    assert str(o["minimum_sample"]) in page.inner_text("#ikm-sample")
    assert page.locator("#t-months tbody tr").count() == len(report["months"]) >= 2
    assert page.locator("#t-smiley tbody tr").count() == len(report["smiley"]["counters"]) + 1
    with page.expect_download() as dl:
        page.click("#ikm-xlsx")
    wb = load_workbook(io.BytesIO(open(dl.value.path(), "rb").read()))
    values = {row[0]: row[1] for row in wb["Ringkasan"].iter_rows(values_only=True) if row and row[0]}
    assert values["IKM (bobot 1/9)"] == round(o["ikm"], 2)
    assert values["IKM (bobot 0,111)"] == round(o["ikm_rounded_weight"], 2)
    assert {"Per bulan", "Per layanan", "Per loket", "Smiley", "Saran"} <= set(wb.sheetnames)
    page.goto(f"{url}/ikm/print?from=2026-01-01&to=2026-11-23")
    assert page.inner_text("#ikm-value") == f"{o['ikm']:.2f}"


def test_staffing_views_show_the_plan_and_the_open_counters(site, page):
    """GIVEN the history WHEN the staffing page, its printable plan and the dashboard are opened
    THEN the weekly plan has a number for every opening hour of Monday to Friday, today's table
    sets the advice beside the counters open, and the dashboard shows this hour's advice."""
    url, svc, clock = site
    page.goto(f"{url}/staffing")
    assert page.locator("#t-plan tbody tr").count() == 7
    cells = page.locator("#t-plan tbody td.num").all_inner_texts()
    assert any(c.strip().isdigit() for c in cells)
    assert page.locator("#t-today tbody tr").count() == 7
    page.goto(f"{url}/staffing/print")
    assert page.locator("#t-plan").count() == 1
    page.goto(f"{url}/dashboard")
    page.wait_for_selector("#conn.online")
    assert page.inner_text("#staffing-now-hour") == "09:00"
    assert page.inner_text("#staffing-now-advised").strip().isdigit()
    before = page.inner_text("#staffing-now-open")
    expected = staffing.open_counters(svc.db.read(), svc.site, "2026-11-23", svc.clock.epoch_ms())[9]
    assert before == f"{expected:.1f}"
    # Ten minutes later two more counters have been open for them: the live view follows.
    svc.counter_action(9, "open", command_id="ikm-open-9", device="test")
    svc.counter_action(10, "open", command_id="ikm-open-10", device="test")
    clock.advance(600)
    svc.counter_action(11, "open", command_id="ikm-open-11", device="test")
    after = staffing.open_counters(svc.db.read(), svc.site, "2026-11-23", svc.clock.epoch_ms())[9]
    assert after != expected
    page.wait_for_function(f"document.getElementById('staffing-now-open').textContent === '{after:.1f}'")


def test_ikm_report_needs_a_staff_log_in(site):
    """GIVEN no session WHEN /ikm, its export or /staffing is asked for THEN no report is served."""
    import requests
    url = site[0]
    for path in ("/ikm", "/ikm/export.xlsx", "/ikm/print", "/staffing", "/staffing/print"):
        r = requests.get(url + path, allow_redirects=False, timeout=5)
        assert r.status_code in (302, 401, 403), path


def test_staffing_page_says_when_history_is_too_thin(tmp_path):
    """GIVEN a site with only this morning's tickets WHEN the supervisor opens the staffing page
    THEN it gives no number and says that history is too thin, and why."""
    import re
    app, svc, clock, ids = build_demo(str(tmp_path))
    try:
        client = app.test_client()
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True))
        client.post("/login", data={"username": "supervisor", "password": PASSWORD,
                                    "csrf_token": token.group(1)})
        page = client.get("/staffing").get_data(as_text=True)
        assert 'id="staffing-thin"' in page and "Riwayat terlalu sedikit" in page
        assert "<b>" not in page.split('id="t-plan"')[1].split("</table>")[0]   # no advised number
    finally:
        svc.close()
