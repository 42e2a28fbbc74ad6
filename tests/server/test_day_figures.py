"""Range reports read each closed day's stored summary (migration 060_day_figures) and
give exactly what a computation over every ticket of the range gives; a stored day is
dropped the moment anything of that day changes."""
import dataclasses
import random
import sqlite3
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from server import queue as queue_mod, stats
from server.clock import FakeClock
from server.config import load_site

EXAMPLE = Path(__file__).resolve().parents[2] / "server" / "sites" / "example.toml"
MONDAY_8_WIB = datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc)


def busy_days(tmp_path, seed, days=4):
    """A queue that lived ``days`` days of random work (calls, recalls, no-shows, transfers,
    pauses, finishes), by two verifiers; returns it on the morning after."""
    site = dataclasses.replace(load_site(EXAMPLE), site_id="figures")
    clock = FakeClock(MONDAY_8_WIB)
    svc = queue_mod.QueueService(str(tmp_path / "q.db"), site, clock=clock)
    rng, k = random.Random(seed), 0
    for d in range(days):
        for n in (1, 2, 15):
            svc.counter_action(n, "open", command_id=f"o{d}-{n}", device="panel", user_id=n % 2 + 1)
        for _ in range(40):
            k += 1
            clock.advance(rng.randrange(10, 400))
            try:
                if rng.random() < 0.45:
                    svc.issue(rng.choice("AABC"), request_id=f"r{k}", device="kiosk-1")
                else:
                    n = rng.choice((1, 2, 15))
                    action = rng.choice(["next", "next", "finish", "no_show", "recall", "transfer", "start"])
                    svc.counter_action(n, action, command_id=f"c{k}", device="panel", user_id=n % 2 + 1,
                                       service=rng.choice("ABC") if action == "transfer" else None)
            except Exception as exc:
                assert getattr(exc, "code", None), repr(exc)
        clock.advance(86_400 - 40 * 200)
    return svc


def from_scratch(svc, start, end):
    """The range's totals computed over every ticket of the range at once (no summaries)."""
    site, target = svc.site, svc.site.target_wait_min * 60
    conn = svc.db.read()
    tickets = [t for d in stats.range_days(conn, start, end) for t in stats._day_tickets(conn, d)]
    totals = stats._counts(tickets)
    totals["within_target"] = stats._within_target(tickets, target)
    totals["services"] = stats._services(site, tickets, target)
    totals["verifiers"] = stats._verifiers(tickets, target)
    totals["counters"] = {str(c.number): stats._staff_figures([t for t in tickets if t["counter"] == c.number],
                                                              target) for c in site.counters}
    return totals


@pytest.mark.parametrize("seed", [3, 4])
def test_stored_days_give_the_same_report_as_every_ticket(tmp_path, seed):
    # GIVEN four busy days, the report over them not asked for yet
    svc = busy_days(tmp_path, seed)
    try:
        start, end = date(2026, 11, 23), date(2026, 11, 27)
        fresh = stats.range_stats(svc.db.read(), svc.site, start, end, svc.clock.epoch_ms())
        # WHEN the report is asked for twice (the first stores the closed days, the second reads them)
        first = svc.range_stats(start, end)
        stored = svc.db.read().execute("SELECT COUNT(*) FROM day_figures").fetchone()[0]
        second = svc.range_stats(start, end)
        # THEN the closed days were stored, and both answers equal the report computed from
        # every ticket, totals (pooled medians and p90s) and days alike
        assert stored == 4
        assert first == second == fresh
        scratch = from_scratch(svc, start, end)
        for key in ("issued", "served", "no_show", "cancelled", "waiting", "wait", "transfer_wait",
                    "service", "within_target", "services", "verifiers"):
            assert second["totals"][key] == scratch[key], key
        for n, figures in scratch["counters"].items():
            assert {k: second["totals"]["counters"][n][k] for k in figures} == figures
        assert second["totals"]["wait"]["n"] > 5
    finally:
        svc.close()


def test_a_change_to_a_stored_day_drops_its_summary(tmp_path):
    # GIVEN a report that stored its closed days
    svc = busy_days(tmp_path, 5, days=2)
    try:
        start, end = date(2026, 11, 23), date(2026, 11, 24)
        svc.range_stats(start, end)
        conn = svc.db.read()
        assert conn.execute("SELECT COUNT(*) FROM day_figures").fetchone()[0] == 2
        # WHEN a ticket of the first day is changed (a repair by hand) and the report asked again
        db = sqlite3.connect(svc.db.path if hasattr(svc.db, "path") else str(tmp_path / "q.db"))
        db.execute("UPDATE tickets SET status = 'cancelled' WHERE id = (SELECT MIN(id) FROM tickets"
                   " WHERE service_day = '2026-11-23' AND status = 'waiting')")
        db.execute("UPDATE tickets SET status = 'cancelled' WHERE service_day = '2026-11-23'"
                   " AND status = 'done' AND id = (SELECT MIN(id) FROM tickets WHERE service_day = '2026-11-23'"
                   " AND status = 'done')")
        db.commit()
        left = [r[0] for r in db.execute("SELECT service_day FROM day_figures")]
        db.close()
        after = svc.range_stats(start, end)
        # THEN only that day's summary was dropped, and the report shows the change
        assert left == ["2026-11-24"]
        assert after == stats.range_stats(svc.db.read(), svc.site, start, end, svc.clock.epoch_ms())
        assert after["days"][0]["cancelled"] >= 1
    finally:
        svc.close()


def test_report_histogram_counts_every_wait_of_the_range(tmp_path):
    # GIVEN busy days whose summaries are stored
    from server.web import report_data
    svc = busy_days(tmp_path, 6, days=3)
    try:
        start, end = date(2026, 11, 23), date(2026, 11, 25)
        svc.range_stats(start, end)
        # WHEN the report's wait histogram is built from the stored summaries
        rng, waits = svc.range_report(start, end)
        bins = report_data._histogram(waits)
        # THEN each bin counts the range's waits in [lo, next lo) minutes, read from the tickets
        rows = svc.db.read().execute("SELECT issued_ms, first_called_ms FROM tickets WHERE service_day >= ?"
                                     " AND service_day <= ? AND first_called_ms IS NOT NULL",
                                     ("2026-11-23", "2026-11-25")).fetchall()
        every = [max(0, r[1] - r[0]) / 1000 for r in rows]
        edges = [lo * 60 for lo in report_data.WAIT_BINS_MIN] + [float("inf")]
        assert [b["count"] for b in bins] == [sum(1 for w in every if lo <= w < hi)
                                              for lo, hi in zip(edges, edges[1:])]
        assert sum(b["count"] for b in bins) == len(every) == rng["totals"]["wait"]["n"]
    finally:
        svc.close()
