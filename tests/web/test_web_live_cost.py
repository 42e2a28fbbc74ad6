"""The live view on a busy day: one snapshot build does not read every ticket of the day
after every change (today's distribution figures are rebuilt within a CPU budget), while
today's counts are exact at once."""
from __future__ import annotations

from datetime import date

from server.devtools.benchlib.history import load_history
from server.devtools.benchlib.site import always_open_site
from server.queue import QueueService
from server.web import live


def test_busy_day_snapshot_keeps_counts_exact_without_rereading_the_day(tmp_path):
    # GIVEN a day that already holds 3,000 tickets, and a live view built once
    site = always_open_site("live-cost")
    path = tmp_path / "q.db"
    load_history(path, site, 3000, per_day=3000, last_day=date.today())
    svc = QueueService(str(path), site)
    reads = []
    full_day = svc.day_stats
    svc.day_stats = lambda *a, **kw: reads.append(1) or full_day(*a, **kw)  # counts, then reads
    try:
        first = live.dashboard_snapshot(svc, None, "id")["today"]
        assert reads == [1] and first["issued"] == 3000
        # WHEN a resident takes a number and the live view is built again right away
        svc.issue("C", request_id="r-1", device="kiosk-1")
        again = live.dashboard_snapshot(svc, None, "id")["today"]
        # THEN the day's tickets were not read again (the last read is too recent for its
        # cost), yet the counts already include the new ticket
        assert reads == [1]
        assert (again["issued"], again["waiting"]) == (3001, first["waiting"] + 1)
        assert again["wait"] == first["wait"]
    finally:
        svc.close()
