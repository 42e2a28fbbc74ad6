"""Today's per-service counts are kept with every change (migration 050_day_counts) and
always equal a count from scratch over the tickets table, whatever happened: issues,
calls, recalls, no-shows, transfers, cancels, pauses, a new service day, a restart, a
replay of the day from its event log. Hypothesis draws the days."""
import sqlite3

from hypothesis import HealthCheck, given, settings, strategies as st

from server import queue as queue_mod
from server.clock import FakeClock
from tests.server.random_days import MONDAY_9_WIB, OPEN, fresh_queue, run_day

ACTIONS = ("next", "next", "next", "recall", "no_show", "transfer", "transfer", "finish", "cancel", "pause",
           "resume", "start", "close", "open")
issue = st.tuples(st.just("issue"), st.sampled_from("ABC"))
step = st.one_of(
    issue, issue, issue,
    st.tuples(st.sampled_from(ACTIONS), st.sampled_from(OPEN), st.sampled_from("ABC")),
    st.tuples(st.just("clock"), st.sampled_from([60, 3600, 86_400])),
    st.tuples(st.just("restart")),
    st.tuples(st.just("replay")),
)


def from_scratch(conn) -> dict:
    counts = {}
    for day, service, status, n in conn.execute(
            "SELECT service_day, service, status, COUNT(*) FROM tickets GROUP BY 1, 2, 3"):
        counts[(day, service, status)] = n
    for day, prefix, n in conn.execute("SELECT service_day, prefix, COUNT(*) FROM tickets GROUP BY 1, 2"):
        counts[(day, prefix, "issued")] = n
    return counts


def kept(conn) -> dict:
    return {(d, s, k): n for d, s, k, n in conn.execute("SELECT service_day, service, kind, n FROM day_counts")
            if n}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(step, min_size=10, max_size=80))
def test_kept_counts_equal_a_rebuild_after_any_day(tmp_path_factory, steps):
    # GIVEN a queue on a fresh database, its counters open
    path = str(tmp_path_factory.mktemp("counts") / "queue.db")
    svc, clock, site = fresh_queue(path, "counts")
    try:
        for n in OPEN:
            svc.counter_action(n, "open", command_id=f"open-{n}", device="panel")
        # WHEN a random day happens (refused actions change nothing and are skipped)
        svc = run_day(svc, clock, path, site, steps)
        # THEN the kept counts equal a count from scratch, and the reads built on them agree
        conn = sqlite3.connect(path)
        try:
            assert kept(conn) == from_scratch(conn)
            day = svc.now()["service_day"]
            waiting = dict(conn.execute("SELECT service, COUNT(*) FROM tickets WHERE service_day = ?"
                                        " AND status = 'waiting' GROUP BY service", (day,)).fetchall())
        finally:
            conn.close()
        assert svc.board()["waiting"] == {p: waiting.get(p, 0) for p in "ABC"}
        summary = svc.summary()["services"]
        assert {p: summary[p]["waiting"] for p in "ABC"} == {p: waiting.get(p, 0) for p in "ABC"}
    finally:
        svc.close()


def test_counts_of_an_existing_database_are_filled_by_the_migration(tmp_path):
    # GIVEN a database with tickets written before the counts existed (the table emptied)
    path = str(tmp_path / "queue.db")
    svc, _, site = fresh_queue(path, "counts")
    for i in range(5):
        svc.issue("AB"[i % 2], request_id=f"r{i}", device="kiosk-1")
    svc.close()
    conn = sqlite3.connect(path)
    conn.execute("DELETE FROM day_counts")
    conn.execute("DELETE FROM schema_version WHERE name = '050_day_counts.sql'")
    for name in ("day_counts_insert", "day_counts_update", "day_counts_delete"):
        conn.execute(f"DROP TRIGGER {name}")
    conn.execute("DROP TABLE day_counts")
    conn.execute("DROP INDEX tickets_day_queue_order")
    conn.commit()
    conn.close()
    # WHEN the server starts again (the migration runs)
    svc = queue_mod.QueueService(path, site, clock=FakeClock(MONDAY_9_WIB))
    svc.close()
    # THEN the counts hold every ticket already there
    conn = sqlite3.connect(path)
    try:
        assert kept(conn) == from_scratch(conn) and sum(v for (_, _, k), v in kept(conn).items()
                                                         if k == "issued") == 5
    finally:
        conn.close()


def test_a_scripted_day_with_every_kind_of_change_keeps_counts_equal(tmp_path):
    # GIVEN a queue with counters 1 and 15 open
    path = str(tmp_path / "queue.db")
    svc, clock, site = fresh_queue(path, "counts")
    n = iter(range(1000))

    def act(counter, action, **kw):
        return svc.counter_action(counter, action, command_id=f"c{next(n)}", device="panel", **kw)

    try:
        act(1, "open")
        act(15, "open")
        for i, s in enumerate("AABBCA"):
            svc.issue(s, request_id=f"r{i}", device="kiosk-1")
        # WHEN calls, a recall, a no-show, transfers both ways, a cancel, a restart,
        # a replay of the log and the next service day happen
        act(1, "next")
        act(1, "recall")
        act(1, "transfer", service="B")
        act(15, "next")
        act(15, "no_show")
        act(15, "next")
        act(15, "transfer", service="C")
        act(1, "next")
        act(1, "start")
        act(1, "finish")
        svc.close()
        svc = queue_mod.QueueService(path, site, clock=clock)
        svc.rebuild_aggregates()
        clock.advance(86_400)
        svc.issue("A", request_id="tomorrow", device="kiosk-1")
        # THEN the kept counts equal a count from scratch on both days
        conn = sqlite3.connect(path)
        try:
            counts = kept(conn)
            assert counts == from_scratch(conn)
            assert len({d for d, _, _ in counts}) == 2
            assert any(k == "no_show" for _, _, k in counts) and any(k == "done" for _, _, k in counts)
        finally:
            conn.close()
    finally:
        svc.close()
