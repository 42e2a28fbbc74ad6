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


def test_day_counter_and_verifier_figures(scripted):
    """GIVEN the scripted day WHEN its stats are read THEN each counter and verifier has its
    waits, service times and share within target (hand-computed)."""
    s = scripted.day_stats("2026-11-23")
    one = s["counters"]["1"]
    assert one["wait"] == {"n": 2, "mean_s": 300.0, "median_s": 300.0, "p90_s": 480.0}
    assert one["service"] == {"n": 1, "mean_s": 300.0, "median_s": 300.0, "p90_s": 300.0}
    assert one["within_target"] == 0.5 and one["cancelled"] == 0  # B-001 was never called
    assert s["counters"]["13"]["within_target"] == 0.0
    v = s["verifiers"]["7"]
    assert (v["called"], v["wait"]["n"], v["within_target"]) == (2, 2, 0.5)


@pytest.fixture
def two_days(scripted, driver, clock):
    """The scripted Monday, then Tuesday 09:30: A-001 at +0, counter 1 (verifier 7) calls it at
    +60 (opens the counter), starts at +120, finishes at +240, closes at +600."""
    clock.advance(24 * 3600)
    d = driver(scripted)
    d.issue("A")
    clock.advance(60), d.act(1, "next", user_id=7)      # wait 60
    clock.advance(60), d.act(1, "start", user_id=7)
    clock.advance(120), d.act(1, "finish", user_id=7)   # service 120
    clock.advance(360), d.act(1, "close")               # open 540
    return scripted


def test_range_per_counter(two_days):
    """GIVEN two scripted days WHEN the range stats are read THEN each counter's counts and
    durations cover both days and its times are the sums of the days' times."""
    r = two_days.range_stats(date(2026, 11, 23), date(2026, 11, 24))["totals"]["counters"]
    one = r["1"]
    assert (one["called"], one["served"], one["no_show"], one["cancelled"]) == (3, 2, 1, 0)
    assert one["wait"] == {"n": 3, "mean_s": 220.0, "median_s": 120.0, "p90_s": 480.0}
    assert one["service"] == {"n": 2, "mean_s": 210.0, "median_s": 210.0, "p90_s": 300.0}
    assert one["within_target"] == pytest.approx(0.6667)      # 60 and 120 s of 60, 120, 480
    # open 1680 + 540, paused 300 + 0, serving 300 + 120
    assert (one["open_s"], one["paused_s"], one["serving_s"], one["idle_s"]) == (2220, 300, 420, 1500)
    assert one["utilisation"] == pytest.approx(420 / 1920, abs=1e-4)
    thirteen = r["13"]   # Monday only
    assert (thirteen["called"], thirteen["served"], thirteen["wait"]["mean_s"]) == (1, 1, 480.0)
    assert (thirteen["open_s"], thirteen["serving_s"], thirteen["idle_s"]) == (1200, 360, 840)
    assert thirteen["utilisation"] == 0.3 and thirteen["within_target"] == 0.0
    assert r["2"]["called"] == 0 and r["2"]["open_s"] == 0 and r["2"]["utilisation"] is None
    assert list(r) == [str(c.number) for c in two_days.site.counters]


def test_range_per_verifier_and_service(two_days):
    """GIVEN two scripted days WHEN the range stats are read THEN verifier 7's figures cover the
    tickets it called on both days, and each service has its share within target."""
    totals = two_days.range_stats(date(2026, 11, 23), date(2026, 11, 24))["totals"]
    assert list(totals["verifiers"]) == ["7"]
    v = totals["verifiers"]["7"]
    assert (v["called"], v["served"], v["no_show"], v["cancelled"]) == (3, 2, 1, 0)
    assert v["wait"] == {"n": 3, "mean_s": 220.0, "median_s": 120.0, "p90_s": 480.0}
    assert v["service"]["mean_s"] == 210.0 and v["within_target"] == pytest.approx(0.6667)
    a = totals["services"]["A"]
    assert (a["issued"], a["served"], a["no_show"]) == (3, 2, 1)
    assert a["within_target"] == pytest.approx(0.6667)        # A: 120, 480 (Mon), 60 (Tue)
    assert totals["services"]["B"]["within_target"] is None   # B-001 was never called


def test_range_equals_the_day_when_it_is_one_day(two_days):
    """GIVEN a one-day range THEN its per-counter and per-verifier figures equal the day's."""
    day = two_days.day_stats("2026-11-23")
    totals = two_days.range_stats(date(2026, 11, 23), date(2026, 11, 23))["totals"]
    assert totals["counters"] == day["counters"] and totals["verifiers"] == day["verifiers"]


def test_range_reads_each_day_through_the_index(two_days):
    """GIVEN two days WHEN a range is read THEN every tickets/events query filters on
    service_day and uses an index (no scan of all history)."""
    conn = two_days.db.read()
    seen = []
    conn.set_trace_callback(seen.append)
    try:
        from server import stats
        stats.range_stats(conn, two_days.site, date(2026, 11, 23), date(2026, 11, 24))
    finally:
        conn.set_trace_callback(None)
    queries = [q for q in seen if " FROM tickets" in q or " FROM events" in q]
    assert queries and all("service_day" in q for q in queries)
    for q in set(queries):
        plan = " ".join(r[3] for r in conn.execute("EXPLAIN QUERY PLAN " + q))
        assert "USING INDEX" in plan or "USING COVERING INDEX" in plan, (q, plan)


def test_estimated_wait_uses_recent_service_times(scripted, driver, clock):
    # next day: counters 1 and 2 open, A's recent mean service time today is 200 s
    clock.advance(24 * 3600)
    d = driver(scripted)
    d.act(1, "open"), d.act(2, "open")
    d.issue("A")
    d.act(1, "next"), clock.advance(200), d.act(1, "finish")
    for _ in range(4):
        d.issue("A")
    t = d.issue("A")  # 4 ahead, 2 free counters: called at the third slot of a counter
    # one slot: (1 - no-show share 1/15) x (walk-up 30 s + 200 s) + 1/15 x recall wait 120 s
    slot = 14 / 15 * 230 + 120 / 15
    assert t["people_ahead"] == 4 and t["est_low_s"] < 2 * slot < t["est_high_s"]
    summary = scripted.summary()["services"]["A"]
    assert summary["waiting"] == 5 and summary["open"] is True and summary["served_by"] == 2
    assert summary["est_low_s"] < 2 * slot < summary["est_high_s"]


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


def test_transferred_ticket_is_timed_at_the_counter_that_served_it(make_service, driver, clock):
    """GIVEN B-003 called at counter 15 at +100 s, transferred to A at +300 s, called by counter 3
    at +2,200 s (1,900 s waiting again) and finished there at +2,293 s, never started
    WHEN the day's figures are read
    THEN its service time is 93 s at counter 3 (not 2,193 s from the first call at counter 15),
    the 1,900 s it waited for the new service is its transfer wait, counter 3's serving time
    is 93 s, and its wait is still issue -> first call (100 s)."""
    svc = make_service()
    d = driver(svc)
    at = {"t": 0}

    def to(t):
        clock.advance(t - at["t"])
        at["t"] = t

    d.issue("B"), d.issue("B")
    d.act(15, "next"), d.act(15, "no_show")  # B-001 and B-002: out of the way
    d.act(15, "next"), d.act(15, "no_show")
    assert d.issue("B")["number"] == "B-003"
    to(100), d.act(15, "next")
    to(300), d.act(15, "transfer", service="A")
    to(2200)
    assert d.act(3, "next")["ticket"]["number"] == "B-003"
    to(2293), d.act(3, "finish")

    day = svc.day_stats()
    assert day["service"] == {"n": 1, "mean_s": 93.0, "median_s": 93.0, "p90_s": 93.0}
    assert day["transfer_wait"] == {"n": 1, "mean_s": 1900.0, "median_s": 1900.0, "p90_s": 1900.0}
    assert day["wait"]["n"] == 3 and day["wait"]["p90_s"] == 100.0
    assert day["counters"]["3"]["serving_s"] == 93.0
    assert day["counters"]["3"]["service"]["mean_s"] == 93.0
    assert day["counters"]["3"]["transfer_wait"]["n"] == 1
    assert day["services"]["A"]["transfer_wait"]["mean_s"] == 1900.0
    rng = svc.range_stats(date(2026, 11, 23), date(2026, 11, 23))
    assert rng["totals"]["service"]["mean_s"] == 93.0 and rng["totals"]["transfer_wait"]["n"] == 1


def test_transferred_ticket_started_at_the_new_counter_is_timed_from_that_start(make_service, driver,
                                                                                 clock):
    """GIVEN a ticket started at counter 1, transferred, called and started at counter 11
    WHEN it is finished THEN its service time runs from the start at counter 11."""
    svc = make_service()
    d = driver(svc)
    d.issue("A")
    d.act(1, "next"), d.act(1, "start")
    clock.advance(120), d.act(1, "transfer", service="C")
    clock.advance(600), d.act(11, "next")
    clock.advance(30), d.act(11, "start")
    clock.advance(45), d.act(11, "finish")
    day = svc.day_stats()
    assert day["service"]["mean_s"] == 45.0 and day["transfer_wait"]["mean_s"] == 600.0


def test_whole_percent_rounds_half_up_once_for_every_page():
    from server.stats import whole_percent
    assert whole_percent(None) == "–"
    assert whole_percent(0.895) == "90%"     # 0.895 * 100 is 89.4999… as a float
    assert whole_percent(0.8949) == "89%"
    assert whole_percent(0.6667) == "67%"
    assert whole_percent(1.0) == "100%" and whole_percent(0.0) == "0%"
