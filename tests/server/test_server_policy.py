"""Priority policies, property-based: FIFO within class, the ratio holds, nobody waits forever."""
import dataclasses
import itertools
import tempfile
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings, strategies as st

from server import errors
from server.clock import FakeClock
from broker.vocab import PRIORITIES
from server.queue import QueueService

MONDAY_9 = datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Jakarta"))
OPS = st.lists(st.one_of(
    st.tuples(st.just("issue"), st.one_of(st.none(), st.none(), st.sampled_from(PRIORITIES))),
    st.tuples(st.just("call"), st.integers(1, 3))), max_size=40)


def run_day(site, ops):
    """Play ``ops`` then drain the queue; return (issued [(number, is_prio, ahead_same_class)], calls)."""
    with tempfile.TemporaryDirectory() as tmp:
        svc = QueueService(str(Path(tmp) / "q.db"), site, FakeClock(MONDAY_9))
        ids = itertools.count()
        issued, calls = [], []
        waiting = {True: 0, False: 0}

        def call(counter):
            try:
                r = svc.counter_action(counter, "next", command_id=f"c{next(ids)}", device="p")
            except errors.NothingWaiting:
                return False
            t = r["ticket"]
            if t is None:
                return False
            snapshot = dict(waiting)
            waiting[t["priority"] is not None] -= 1
            calls.append((t["number"], t["priority"] is not None, snapshot))
            return True

        for op, arg in ops + [("drain", None)]:
            if op == "issue":
                t = svc.issue("A", request_id=f"r{next(ids)}", device="k", priority=arg)["ticket"]
                is_prio = arg is not None
                issued.append((t["number"], is_prio, waiting[is_prio], len(calls)))
                waiting[is_prio] += 1
            elif op == "call":
                call(arg)
            else:
                while call(1):
                    pass
        svc.close()
        return issued, calls


def check(site, issued, calls):
    ratio = site.priority_ratio
    # everyone is called exactly once (nobody waits forever once counters keep calling)
    assert sorted(n for n, *_ in calls) == sorted(n for n, *_ in issued)
    # FIFO within each class
    for cls in (True, False):
        assert [n for n, p, _ in calls if p == cls] == [n for n, p, *_ in issued if p == cls]
    if site.priority_policy == "strict":
        for _, is_prio, snap in calls:
            assert is_prio or snap[True] == 0  # normal only when no priority waits
        return
    normal_run, prio_run = 0, 0
    for _, is_prio, snap in calls:
        # normal calls made while a priority ticket waited: at most `ratio` in a row
        normal_run = normal_run + 1 if (not is_prio and snap[True]) else 0
        assert normal_run <= ratio
        # priority calls made while a normal ticket waited: never two in a row
        prio_run = prio_run + 1 if (is_prio and snap[False]) else 0
        assert prio_run <= 1
    # bounded wait in calls: priority within (k+1)(N+1), normal within 2(k+1)
    position = {n: i for i, (n, *_) in enumerate(calls)}
    for number, is_prio, ahead, calls_before in issued:
        waited = position[number] - calls_before + 1
        bound = (ahead + 1) * (ratio + 1) if is_prio else 2 * (ahead + 1)
        assert waited <= bound, (number, waited, bound)


@settings(max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS, ratio=st.integers(1, 4))
def test_interleave_policy(site, ops, ratio):
    s = dataclasses.replace(site, priority_policy="interleave", priority_ratio=ratio, hours={})
    check(s, *run_day(s, ops))


@settings(max_examples=25, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS)
def test_strict_policy(site, ops):
    s = dataclasses.replace(site, priority_policy="strict", hours={})
    check(s, *run_day(s, ops))


def test_interleave_pattern_exact(make_service, driver):
    """GIVEN 8 normal and 3 priority waiting, ratio 3 THEN calls go P N N N P N N N P N N."""
    d = driver(make_service(priority_policy="interleave", priority_ratio=3))
    for _ in range(8):
        d.issue("A")
    for _ in range(3):
        d.issue("A", priority="lansia")
    pattern = "".join("P" if d.act(1, "next")["ticket"]["priority"] else "N" for _ in range(11))
    assert pattern == "PNNNPNNNPNN"
