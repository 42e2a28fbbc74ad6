"""Fixtures for the queue core: a site, a fake clock, a QueueService on a temp DB."""
from __future__ import annotations

import dataclasses
import itertools
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from server.clock import FakeClock
from server.config import EXAMPLE_SITE, load_site
from server.queue import QueueService

WIB = ZoneInfo("Asia/Jakarta")
MONDAY_9 = datetime(2026, 11, 23, 9, 0, tzinfo=WIB)  # a Monday, within opening hours


@pytest.fixture
def site():
    return load_site(EXAMPLE_SITE)


@pytest.fixture
def clock():
    return FakeClock(MONDAY_9)


@pytest.fixture
def make_service(tmp_path, site, clock):
    """Build QueueServices on one temp DB; keyword args replace Site fields."""
    made = []

    def make(db_name="queue.db", clock_=None, **site_changes):
        svc = QueueService(str(tmp_path / db_name), dataclasses.replace(site, **site_changes),
                           clock_ or clock)
        made.append(svc)
        return svc
    yield make
    for svc in made:
        svc.close()


@pytest.fixture
def svc(make_service):
    return make_service()


class Driver:
    """Tiny helpers so tests read as a script of the day."""

    def __init__(self, svc):
        self.svc = svc
        self.ids = itertools.count(1)
        self.run = uuid.uuid4().hex[:8]  # ids unique per Driver, like a real kiosk's

    def issue(self, service="A", priority=None, device="kiosk-1"):
        return self.svc.issue(service, request_id=f"{self.run}-r{next(self.ids)}", device=device,
                              priority=priority)["ticket"]

    def act(self, counter, action, device="panel", **kw):
        return self.svc.counter_action(counter, action, command_id=f"{self.run}-c{next(self.ids)}",
                                       device=device, **kw)


@pytest.fixture
def drive(svc):
    return Driver(svc)


@pytest.fixture
def driver():
    """The Driver class, for tests that build their own QueueService."""
    return Driver


@pytest.fixture
def app(tmp_path, clock):
    from server.app import create_app
    app = create_app({"TESTING": True, "LALOPA_DB": str(tmp_path / "api.db"), "LALOPA_CLOCK": clock,
                      "LALOPA_WEB": False})  # the API alone; the dashboard has its own tests
    yield app
    app.extensions["lalopa.queue"].close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def tokens(app):
    """Bearer headers for one device of each role."""
    svc = app.extensions["lalopa.queue"]
    return {role: {"Authorization": f"Bearer {svc.create_device_token(f'{role}-1', role)}"}
            for role in ("kiosk", "panel", "button", "admin", "display")}
