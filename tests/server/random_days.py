"""Random service days played through the real QueueService, shared by the tests that
check state kept by triggers (day counts, finished-ticket figures) against a count
from scratch.

A step is ``("issue", prefix)``, ``("clock", seconds)``, ``("restart",)``,
``("replay",)`` or ``(action, counter, service[, seconds before it])``.
"""
from __future__ import annotations

import dataclasses
from datetime import datetime, timezone

from server import queue as queue_mod
from server.clock import FakeClock
from server.config import EXAMPLE_SITE, load_site

MONDAY_9_WIB = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)
OPEN = (1, 15)  # counter 1 serves A and C, 15 serves B and A


def fresh_queue(path: str, site_id: str):
    """(service, clock, site): the example site on a fresh database, Monday 09:00 WIB."""
    site = dataclasses.replace(load_site(EXAMPLE_SITE), site_id=site_id)
    clock = FakeClock(MONDAY_9_WIB)
    return queue_mod.QueueService(path, site, clock=clock), clock, site


def run_day(svc, clock, path, site, steps):
    """Play ``steps``; an action the queue rules refuse must be a QueueError and is skipped.
    Returns the service (a restart replaces it)."""
    for i, s in enumerate(steps):
        try:
            if s[0] == "issue":
                svc.issue(s[1], request_id=f"r{i}", device="kiosk-1")
            elif s[0] == "clock":
                clock.advance(s[1])
            elif s[0] == "restart":
                svc.close()
                svc = queue_mod.QueueService(path, site, clock=clock)
            elif s[0] == "replay":
                svc.rebuild_aggregates()
            else:
                action, counter, service, *later = s
                clock.advance(later[0] if later else 0)
                svc.counter_action(counter, action, command_id=f"c{i}", device="panel",
                                   service=service if action == "transfer" else None,
                                   reason="istirahat" if action == "pause" else None)
        except Exception as exc:  # refused by the queue rules: must be a QueueError
            assert getattr(exc, "code", None), repr(exc)
    return svc
