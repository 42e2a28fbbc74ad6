"""What the wait estimate reads of today's finished tickets (no-show count and recall time,
walk-up time) is kept with every change (migration 070_day_finished) and always equals the
same figures counted from scratch over the tickets table, whatever happened: calls,
recalls, no-shows, starts, transfers, cancels, restarts, a replay of the day from its
event log, a new service day, a repair by hand. Hypothesis draws the days."""
import sqlite3

from hypothesis import HealthCheck, given, settings, strategies as st

from server import eta
from server import queue as queue_mod
from server.clock import FakeClock
from tests.server.random_days import MONDAY_9_WIB, OPEN, fresh_queue, run_day

ACTIONS = ("next", "next", "next", "start", "start", "finish", "finish", "recall", "no_show",
           "no_show", "transfer", "cancel", "pause", "resume", "close", "open")
issue = st.tuples(st.just("issue"), st.sampled_from("ABC"))
step = st.one_of(
    issue, issue,
    # each counter action a few seconds to minutes after the last change (times differ)
    st.tuples(st.sampled_from(ACTIONS), st.sampled_from(OPEN), st.sampled_from("ABC"), st.integers(1, 900)),
    st.tuples(st.sampled_from(ACTIONS), st.sampled_from(OPEN), st.sampled_from("ABC"), st.integers(1, 900)),
    st.tuples(st.just("clock"), st.sampled_from([7, 45, 600, 86_400])),
    st.tuples(st.just("restart")),
    st.tuples(st.just("replay")),
)


def days(conn) -> list[str]:
    return [r[0] for r in conn.execute("SELECT DISTINCT service_day FROM tickets"
                                       " UNION SELECT service_day FROM day_finished")]


def assert_kept_equals_scan(path: str) -> None:
    conn = sqlite3.connect(path)
    try:
        for day in days(conn):
            assert eta.finished_figures(conn, day) == eta.finished_figures_scan(conn, day), day
    finally:
        conn.close()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(step, min_size=10, max_size=90))
def test_kept_finished_figures_equal_a_scan_after_any_day(tmp_path_factory, steps):
    # GIVEN a queue on a fresh database, its counters open
    path = str(tmp_path_factory.mktemp("finished") / "queue.db")
    svc, clock, site = fresh_queue(path, "finished")
    try:
        for n in OPEN:
            svc.counter_action(n, "open", command_id=f"open-{n}", device="panel")
        # WHEN a random day happens
        svc = run_day(svc, clock, path, site, steps)
        # THEN the kept figures equal a count from scratch, for every day
        assert_kept_equals_scan(path)
    finally:
        svc.close()


def _busy_day(tmp_path):
    path = str(tmp_path / "queue.db")
    svc, clock, site = fresh_queue(path, "finished")
    steps = [("open", 1, "A"), ("open", 15, "A")]
    for k in range(12):
        steps += [("issue", "AB"[k % 2]), ("issue", "C"), ("clock", 45), ("next", 1, "A"),
                  ("clock", 7), ("start" if k % 3 else "no_show", 1, "A"), ("clock", 600),
                  ("finish", 1, "A"), ("next", 15, "A"), ("clock", 45), ("no_show", 15, "A")]
    return run_day(svc, clock, path, site, steps), path, site


def test_a_scripted_day_has_no_shows_and_walk_ups_and_a_repair_by_hand_keeps_them(tmp_path):
    # GIVEN a day with services, no-shows and walk-ups
    svc, path, _ = _busy_day(tmp_path)
    svc.close()
    conn = sqlite3.connect(path)
    try:
        day = conn.execute("SELECT MAX(service_day) FROM tickets").fetchone()[0]
        done, ns, ns_ms, walk_ms, walk_n = eta.finished_figures(conn, day)
        assert done > 0 and ns > 0 and ns_ms and walk_ms and walk_n > 0
        # WHEN a technician repairs tickets by hand (a status, a time, a day, a delete)
        conn.execute("UPDATE tickets SET status = 'done' WHERE id = (SELECT MIN(id) FROM tickets"
                     " WHERE status = 'no_show')")
        conn.execute("UPDATE tickets SET last_called_ms = NULL WHERE id = (SELECT MAX(id) FROM tickets"
                     " WHERE status = 'no_show')")
        conn.execute("UPDATE tickets SET started_ms = started_ms + 1000 WHERE status = 'done'")
        conn.execute("UPDATE tickets SET service_day = '2026-11-22' WHERE id = (SELECT MIN(id) FROM tickets"
                     " WHERE status = 'done')")
        conn.execute("DELETE FROM tickets WHERE id = (SELECT MAX(id) FROM tickets WHERE status = 'done')")
        conn.commit()
    finally:
        conn.close()
    # THEN the kept figures still equal a count from scratch
    assert_kept_equals_scan(path)


def test_figures_of_an_existing_database_are_filled_by_the_migration(tmp_path):
    # GIVEN a database with finished tickets written before the kept figures existed
    svc, path, site = _busy_day(tmp_path)
    svc.close()
    conn = sqlite3.connect(path)
    for name in ("day_finished_insert", "day_finished_update", "day_finished_delete"):
        conn.execute(f"DROP TRIGGER {name}")
    conn.execute("DROP TABLE day_finished")
    for name in ("tickets_finished", "tickets_day_issued", "tickets_day_status"):
        conn.execute(f"DROP INDEX {name}")
    conn.execute("DELETE FROM schema_version WHERE name = '070_day_finished.sql'")
    conn.commit()
    conn.close()
    # WHEN the server starts again (the migration runs)
    queue_mod.QueueService(path, site, clock=FakeClock(MONDAY_9_WIB)).close()
    # THEN the figures hold every finished ticket already there
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("SELECT SUM(done + no_show) FROM day_finished").fetchone()[0] > 0
    finally:
        conn.close()
    assert_kept_equals_scan(path)
