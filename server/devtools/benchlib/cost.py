"""Server CPU per call and per issue, at a quiet and at a very busy day's volume.

The real QueueService and Bridge in this process, publishing to a private
Mosquitto; today's history is written first (``history.load_history`` with the
whole volume on today), so the day already holds ``tickets`` tickets when the
measured calls and issues are made. CPU = ``time.process_time()`` (every
thread of the process: the request, the bridge's worker and paho's network
thread) over the measured operations, each waited for until the bridge has
published what it changed, divided by their number.
"""
from __future__ import annotations

import time
from datetime import date
from pathlib import Path

from server.devtools.benchlib.history import load_history
from server.devtools.benchlib.site import always_open_site

# The history gives C 15 % of the day: at 15,000 tickets its numbers stay below C-9999
# (a ticket number has at most four digits), where A's would not.
SERVICE = "C"


def _until(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("the bridge did not publish in time")
        time.sleep(0.0005)


def measure_cost(workdir: Path, port: int, tickets: int, calls: int = 200, issues: int = 200,
                 site_id: str = "bench-cost") -> dict:
    """CPU ms per call (a counter's ``next`` through the bridge) and per issue, at ``tickets`` today."""
    from server.bridge import Bridge
    from server.queue import QueueService
    site = always_open_site(site_id)
    path = workdir / f"cost-{tickets}.db"
    load_history(path, site, tickets, per_day=tickets, last_day=date.today())
    svc = QueueService(str(path), site)
    bridge = Bridge(svc, site, {"host": "127.0.0.1", "port": port}, state_refresh_s=3600).start()
    try:
        _until(lambda: bridge.stats["full_republish"] >= 1)
        for c in site.counters:
            svc.counter_action(c.number, "open", command_id=f"open-{c.number}", device="bench")
        for i in range(calls + 20):
            svc.issue(SERVICE, request_id=f"w{i}", device="bench-kiosk")
        _settle(bridge)
        counters = [c.number for c in site.counters if SERVICE in c.services]

        def call(i: int) -> None:
            before = bridge.stats["calls_published"]
            svc.counter_action(counters[i % len(counters)], "next", command_id=f"n{i}", device="bench")
            _until(lambda: bridge.stats["calls_published"] > before)
            _settle(bridge)

        def issue(i: int) -> None:
            svc.issue(SERVICE, request_id=f"i{i}", device="bench-kiosk")
            _settle(bridge)

        for i in range(10):  # warm-up
            call(10_000 + i)
        t0 = time.process_time()
        for i in range(calls):
            call(i)
        per_call = (time.process_time() - t0) * 1000 / calls
        t0 = time.process_time()
        for i in range(issues):
            issue(i)
        per_issue = (time.process_time() - t0) * 1000 / issues
    finally:
        bridge.stop()
        svc.close()
    return {"tickets": tickets, "call_ms": per_call, "issue_ms": per_issue}


def _settle(bridge) -> None:
    """Until the bridge's worker has taken every change and published (its queue empty, idle)."""
    _until(lambda: not bridge._changes)
    # the worker takes the list, then publishes: wait until its step ended
    seen = bridge.stats["counter_states_published"], bridge.stats["calls_published"]
    time.sleep(0.002)
    while (bridge.stats["counter_states_published"], bridge.stats["calls_published"]) != seen:
        seen = bridge.stats["counter_states_published"], bridge.stats["calls_published"]
        time.sleep(0.002)


def measure_live(workdir: Path, tickets: int, repeat: int = 10) -> dict:
    """One live-view snapshot build right after a change, at ``tickets`` today: median ms,
    with the queue summary's and today's full statistics' own costs beside it."""
    import statistics

    from server.queue import QueueService
    from server.web.live import dashboard_snapshot
    site = always_open_site("bench-live")
    path = workdir / f"live-{tickets}.db"
    load_history(path, site, tickets, per_day=tickets, last_day=date.today())
    svc = QueueService(str(path), site)
    try:
        for i in range(50):
            svc.issue(SERVICE, request_id=f"w{i}", device="bench-kiosk")
        dashboard_snapshot(svc, None, "id")

        def timed(fn) -> float:
            runs = []
            for i in range(repeat):
                svc.issue(SERVICE, request_id=f"x{fn.__name__}{i}", device="bench-kiosk")  # a change
                t0 = time.perf_counter()
                fn()
                runs.append((time.perf_counter() - t0) * 1000)
            return statistics.median(runs)

        def snapshot():
            dashboard_snapshot(svc, None, "id")

        def summary():
            svc.summary()

        def day():
            svc.day_stats()
        return {"tickets": tickets, "snapshot_ms": timed(snapshot), "summary_ms": timed(summary),
                "day_ms": timed(day)}
    finally:
        svc.close()
