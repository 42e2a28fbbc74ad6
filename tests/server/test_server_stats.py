"""Every statistic against hand-computed values on a scripted day (docs/STATISTICS.md)."""
from datetime import date

import pytest

from server.stats import describe, median, percentile


def test_percentile_and_median_definitions():
    assert percentile([], 90) is None
    assert percentile([5], 90) == 5
    assert percentile(list(range(1, 11)), 90) == 9   # rank ceil(0.9*10) = 9
    assert percentile(list(range(1, 12)), 90) == 10  # rank ceil(9.9) = 10
    assert median([3, 1, 2]) == 2 and median([1, 2, 3, 4]) == 2.5
    assert describe([120, 480, 480]) == {"n": 3, "mean_s": 360.0, "median_s": 480, "p90_s": 480}


@pytest.fixture
def scripted(make_service, driver, clock):
    """Monday 09:00 WIB; times below are seconds after 09:00."""
    svc = make_service(target_wait_min=5)
    d = driver(svc)
    at = {"t": 0}

    def to(t):
        clock.advance(t - at["t"])
        at["t"] = t

    d.issue("A")                                   # 0     A-001
    to(60), d.issue("A")                           # 60    A-002
    to(120), d.issue("C")                          # 120   C-001
    d.act(1, "next", user_id=7)                    # 120   counter 1 opens, calls A-001 (wait 120)
    to(180), d.act(1, "start", user_id=7)
    to(480), d.act(1, "finish", user_id=7)         # service 300
    to(540), d.act(1, "next", user_id=7)           # A-002 (wait 480)
    to(600), d.act(1, "no_show", user_id=7)
    d.act(13, "next")                              # 600   counter 13 opens, calls C-001 (wait 480)
    to(960), d.act(13, "finish")                   # never started: service 360
    d.act(1, "pause", reason="sholat")
    to(1260), d.act(1, "resume")                   # paused 300
    d.issue("B")                                   # 1260  B-001
    to(1320), d.act(1, "cancel", ticket="B-001")
    to(1800), d.act(1, "close"), d.act(13, "close")
    return svc


def test_day_totals(scripted):
    s = scripted.day_stats("2026-11-23")
    assert (s["issued"], s["served"], s["no_show"], s["cancelled"], s["waiting"]) == (4, 2, 1, 1, 0)
    assert s["wait"] == {"n": 3, "mean_s": 360.0, "median_s": 480.0, "p90_s": 480.0}
    assert s["service"] == {"n": 2, "mean_s": 330.0, "median_s": 330.0, "p90_s": 360.0}
    assert s["within_target"] == pytest.approx(0.3333)  # only A-001 waited <= 300 s
    assert s["arrivals_per_hour"] == {"09": 4} and s["completions_per_hour"] == {"09": 2}


def test_per_service(scripted):
    a = scripted.day_stats("2026-11-23")["services"]["A"]
    assert (a["issued"], a["served"], a["no_show"]) == (2, 1, 1)
    assert a["wait"] == {"n": 2, "mean_s": 300.0, "median_s": 300.0, "p90_s": 480.0}
    b = scripted.day_stats("2026-11-23")["services"]["B"]
    assert (b["issued"], b["cancelled"], b["wait"]["n"]) == (1, 1, 0)


def test_per_counter_time(scripted):
    c = scripted.day_stats("2026-11-23")["counters"]
    one, thirteen = c["1"], c["13"]
    assert (one["open_s"], one["paused_s"], one["serving_s"], one["idle_s"]) == (1680, 300, 300, 1080)
    assert one["utilisation"] == pytest.approx(300 / 1380, abs=1e-4)
    assert (one["served"], one["no_show"], one["called"]) == (1, 1, 2)
    assert (thirteen["open_s"], thirteen["serving_s"], thirteen["idle_s"]) == (1200, 360, 840)
    assert thirteen["utilisation"] == 0.3
    assert c["2"]["open_s"] == 0 and c["2"]["utilisation"] is None


def test_per_verifier(scripted):
    v = scripted.day_stats("2026-11-23")["verifiers"]
    assert list(v) == ["7"] and (v["7"]["served"], v["7"]["no_show"]) == (1, 1)


def test_range(scripted, driver, clock):
    clock.advance(24 * 3600)
    driver(scripted).issue("A")
    r = scripted.range_stats(date(2026, 11, 23), date(2026, 11, 24))
    assert r["totals"]["issued"] == 5 and [d["service_day"] for d in r["days"]] == ["2026-11-23", "2026-11-24"]
    assert r["totals"]["services"]["A"]["issued"] == 3


def test_estimated_wait_uses_recent_service_times(scripted, driver, clock):
    # next day: counters 1 and 2 open, A's recent mean service time today is 200 s
    clock.advance(24 * 3600)
    d = driver(scripted)
    d.act(1, "open"), d.act(2, "open")
    d.issue("A")
    d.act(1, "next"), clock.advance(200), d.act(1, "finish")
    for _ in range(4):
        d.issue("A")
    t = d.issue("A")  # 4 ahead, 2 open counters, 200 s each -> 400 s
    assert t["people_ahead"] == 4 and t["est_wait_s"] == 400
    summary = scripted.summary()["services"]["A"]
    assert summary["waiting"] == 5 and summary["est_wait_s"] == 500 and summary["open"] is True


def test_day_view_uses_the_day_index(svc):
    plan = " ".join(r[3] for r in svc.db.read().execute(
        "EXPLAIN QUERY PLAN SELECT * FROM tickets WHERE service_day = ?", ("2026-11-23",)))
    assert "USING INDEX" in plan or "USING COVERING INDEX" in plan


def test_stats_rebuild_from_events(scripted):
    """GIVEN a scripted day WHEN the tickets' derived columns are wiped THEN events rebuild them."""
    before = scripted.day_stats("2026-11-23")
    scripted.db.write(lambda c: c.execute(
        "UPDATE tickets SET status = 'waiting', first_called_ms = NULL, finished_ms = NULL,"
        " started_ms = NULL, counter = NULL"))
    assert scripted.day_stats("2026-11-23")["served"] == 0
    assert scripted.rebuild_aggregates("2026-11-23") == 4
    assert scripted.day_stats("2026-11-23") == before
    assert scripted.rebuild_aggregates("2026-11-23") == 0
