"""The benchmark harness's own parts: a schema drift in the server must break the history
loader here, in seconds, not in the middle of `lalopa bench`."""
from __future__ import annotations

from datetime import date, timedelta

from server.devtools.bench import BROKER_CONFIG
from server.devtools.benchlib.history import load_history
from server.devtools.benchlib.latency import percentiles
from server.devtools.benchlib.machine import machine_facts
from server.devtools.benchlib.report import Row, Section, render
from server.devtools.benchlib.site import always_open_site
from server.queue import QueueService


def test_history_loader_matches_server_schema(tmp_path):
    """GIVEN 2,000 tickets of history loaded at 400 a day WHEN the real QueueService reads it
    THEN the last day shows 400 tickets with waits, the 5-day range 2,000, integrity ok."""
    site = always_open_site("bench-test")
    last = date(2026, 11, 20)
    info = load_history(tmp_path / "h.db", site, 2000, per_day=400, last_day=last)
    assert info["days"] == 5 and info["first_day"] == last - timedelta(days=4)
    svc = QueueService(str(tmp_path / "h.db"), site)
    try:
        day = svc.day_stats(last.isoformat())
        assert day["issued"] == 400 and day["served"] + day["no_show"] == 400
        assert day["wait"] and day["counters"]["1"]["open_s"] == 7 * 3600
        assert svc.range_stats(info["first_day"], last)["totals"]["issued"] == 2000
        assert svc.db.read().execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        svc.close()


def test_percentiles_nearest_rank():
    """GIVEN 1..100 ms WHEN summarised THEN p50 = 50, p99 = 99, max = 100."""
    assert percentiles([float(x) for x in range(100, 0, -1)]) == {"n": 100, "p50": 50.0, "p99": 99.0,
                                                                   "max": 100.0}


def test_report_names_every_miss_with_reason():
    """GIVEN one passing and one missed figure and a part that could not run WHEN rendered
    THEN the summary lists the miss with its reason and the unmeasured part with its error,
    and the machine table holds the facts."""
    facts = machine_facts()
    ok = Section("A", "method a", rows=[Row("fast", "1 ms", "< 2 ms", True)])
    bad = Section("B", "method b", rows=[Row("slow", "9 ms", "< 2 ms", False, "because of X")])
    gone = Section("C", "", error="ImportError: no module")
    text = render(facts, [ok, bad, gone], "quick", 12.0)
    assert "**B: slow** = 9 ms (target < 2 ms). because of X" in text
    assert "Not measured: C (ImportError: no module)" in text
    assert f"| SQLite | {facts['SQLite']} |" in text and "| fast | 1 ms | < 2 ms | PASS |" in text
    assert "set_tcp_nodelay" in BROKER_CONFIG
