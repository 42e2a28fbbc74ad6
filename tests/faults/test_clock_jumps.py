"""The Pi has no RTC: the server clock jumps back an hour and forward a day mid-service."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from server.clock import FakeClock
from server.config import EXAMPLE_SITE, load_site
from server.queue import QueueService

WIB = ZoneInfo("Asia/Jakarta")
HOUR, DAY = 3600, 86400


@pytest.fixture
def clock():
    return FakeClock(datetime(2026, 11, 23, 9, 30, tzinfo=WIB))  # Monday, open


@pytest.fixture
def svc(tmp_path, clock):
    s = QueueService(str(tmp_path / "clock.db"), load_site(EXAMPLE_SITE), clock)
    yield s
    s.close()


def _issue(svc, rid):
    return svc.issue("A", request_id=rid, device="kiosk-1")["ticket"]


def _numbers(svc):
    return [tuple(r) for r in svc.db.read().execute(
        "SELECT service_day, number FROM tickets ORDER BY id")]


def test_clock_back_an_hour_reuses_no_number_and_keeps_call_order(svc, clock):
    """GIVEN three tickets issued and one called at 09:30 WIB
    WHEN the wall clock jumps back an hour (NTP correction) and service goes on
    THEN numbers continue (A-004, A-005), the day stays the same, call seq keeps rising,
    and the jump is recorded as a clock_jump event."""
    for i in range(3):
        _issue(svc, f"r{i}")
    first = svc.counter_action(1, "next", command_id="c1", device="box-1")["call"]
    clock.jump(-HOUR)
    after = [_issue(svc, f"r{i}")["number"] for i in range(3, 5)]
    second = svc.counter_action(2, "next", command_id="c2", device="box-2")["call"]
    assert after == ["A-004", "A-005"]
    assert {d for d, _ in _numbers(svc)} == {"2026-11-23"}
    assert second["seq"] > first["seq"] and second["ticket"] == "A-002"
    kinds = [r[0] for r in svc.db.read().execute("SELECT kind FROM events ORDER BY id")]
    assert "clock_jump" in kinds


def test_clock_forward_a_day_then_back_never_reopens_the_old_day(svc, clock):
    """GIVEN Monday's tickets A-001..A-002
    WHEN the clock jumps forward a day THEN Tuesday starts at A-001;
    WHEN it then jumps back to Monday (a bad RTC value) THEN issuing stays on Tuesday
    (A-002, A-003) and Monday gets no new ticket; no (day, number) pair repeats."""
    _issue(svc, "m1")
    _issue(svc, "m2")
    clock.jump(DAY)
    assert _issue(svc, "t1")["number"] == "A-001"
    clock.jump(-DAY)
    again = [_issue(svc, f"t{i}") for i in (2, 3)]
    assert [t["number"] for t in again] == ["A-002", "A-003"]
    assert {t["service_day"] for t in again} == {"2026-11-24"}
    rows = _numbers(svc)
    assert rows.count(("2026-11-23", "A-001")) == 1 and len(rows) == len(set(rows)) == 5
    assert [r for r in rows if r[0] == "2026-11-23"] == [("2026-11-23", "A-001"), ("2026-11-23", "A-002")]
    assert svc.board()["service_day"] == "2026-11-24"


def test_retry_across_a_jump_returns_the_same_ticket(svc, clock):
    """GIVEN a kiosk's request issued before a jump WHEN the kiosk retries the same request id
    after the clock jumped forward a day THEN it gets its original ticket back, not a new one."""
    first = _issue(svc, "retry-1")
    clock.jump(DAY)
    again = svc.issue("A", request_id="retry-1", device="kiosk-1")
    assert again["duplicate"] and again["ticket"]["number"] == first["number"]
    assert len(_numbers(svc)) == 1
