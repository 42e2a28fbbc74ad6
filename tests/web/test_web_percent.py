"""A share shown as a whole percent reads the same in the report and in the live view."""
from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import render_template

from server.app import create_app
from server.clock import FakeClock
from server.web import report_data
from server.web.live import dashboard_snapshot
from server.web.security import users


def test_report_and_live_view_show_the_same_whole_percent(tmp_path):
    """GIVEN a day where 2 of 3 called tickets were called within the target (66.67 %)
    WHEN the report table and the live view's figures are built
    THEN both show "67%" (the report used to truncate it to 66 %, the live view rounded)."""
    clock = FakeClock(datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Jakarta")))
    app = create_app({"TESTING": True, "LALOPA_DB": str(tmp_path / "q.db"), "LALOPA_CLOCK": clock})
    svc = app.extensions["lalopa.queue"]
    try:
        for i in range(3):
            svc.issue("A", request_id=f"r{i}", device="kiosk-1")
        target_s = svc.site.target_wait_min * 60
        for i, wait in enumerate((60, 0, target_s)):  # the third one waits past the target
            clock.advance(wait)
            svc.counter_action(1, "next", command_id=f"c{i}", device="panel-1")
        day = svc.day_stats()
        assert round(day["within_target"], 4) == 0.6667
        with app.test_request_context("/reports"):
            report = report_data.build(svc, users(), date(2026, 11, 23), date(2026, 11, 23))
            html = render_template("_figtable.html", rows=report["totals"], table_id="t", first="")
        cell = re.search(r'data-col="within_target">([^<]*)<', html).group(1)
        live = dashboard_snapshot(svc, None, "id")["today"]["within_target_text"]
        assert cell == live == "67%"
    finally:
        svc.close()
