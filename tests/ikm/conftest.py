"""Fixtures for the survey and staffing tests: a QueueService on a temp DB with a fake clock,
and a helper that serves tickets so they can be rated."""
from __future__ import annotations

import itertools
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from server.clock import FakeClock
from server.config import EXAMPLE_SITE, load_site
from server.queue import QueueService

WIB = ZoneInfo("Asia/Jakarta")
MONDAY_9 = datetime(2026, 11, 23, 9, 0, tzinfo=WIB)


@pytest.fixture
def clock():
    return FakeClock(MONDAY_9)


@pytest.fixture
def svc(tmp_path, clock):
    service = QueueService(str(tmp_path / "ikm.db"), load_site(EXAMPLE_SITE), clock)
    yield service
    service.close()


class Serve:
    """``serve(counter, service)`` issues a ticket and serves it to the end; returns the ticket."""

    def __init__(self, svc, clock):
        self.svc, self.clock = svc, clock
        self.ids = itertools.count(1)
        self.run = uuid.uuid4().hex[:8]

    def issue(self, service="A"):
        return self.svc.issue(service, request_id=f"{self.run}-r{next(self.ids)}",
                              device="kiosk-1")["ticket"]

    def act(self, counter, action):
        return self.svc.counter_action(counter, action, command_id=f"{self.run}-c{next(self.ids)}",
                                       device="panel")

    def __call__(self, counter=1, service="A", minutes=4.0):
        ticket = self.issue(service)
        self.act(counter, "next")
        self.clock.advance(minutes * 60)
        self.act(counter, "finish")
        return ticket


@pytest.fixture
def serve(svc, clock):
    return Serve(svc, clock)
