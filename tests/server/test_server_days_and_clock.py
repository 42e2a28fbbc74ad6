"""Numbering across service days and wall-clock jumps (the Pi has no RTC)."""
import json

DAY = 24 * 3600


def _events(svc, kind):
    return svc.db.read().execute("SELECT * FROM events WHERE kind = ?", (kind,)).fetchall()


def test_numbers_restart_next_service_day(drive, clock):
    assert drive.issue("A")["number"] == "A-001"
    assert drive.issue("A")["number"] == "A-002"
    clock.advance(DAY)  # Tuesday 09:00
    t = drive.issue("A")
    assert t["number"] == "A-001" and t["service_day"] == "2026-11-24"


def test_backward_jump_never_reopens_a_day(drive, svc, clock):
    drive.issue("A")
    clock.advance(DAY)
    drive.issue("A")  # Tuesday A-001
    clock.jump(-DAY)  # the clock falls back to Monday (e.g. fake-hwclock after a power cut)
    t = drive.issue("A")
    assert t["service_day"] == "2026-11-24" and t["number"] == "A-002"
    assert len(_events(svc, "clock_jump")) == 1
    assert json.loads(_events(svc, "clock_jump")[0]["detail"])["jump_s"] == -DAY
    assert svc.board()["service_day"] == "2026-11-24"


def test_order_follows_issue_sequence_not_wall_time(drive, clock):
    drive.issue("A")
    clock.jump(-3600)  # wall clock goes back an hour within the day
    drive.issue("A")
    assert drive.act(1, "next")["ticket"]["number"] == "A-001"
    assert drive.act(1, "next")["ticket"]["number"] == "A-002"


def test_forward_jump_is_logged_and_opens_new_day(drive, svc, clock):
    drive.issue("A")
    clock.jump(DAY)  # NTP syncs after a boot with a stale clock
    assert drive.issue("A")["number"] == "A-001"
    assert len(_events(svc, "clock_jump")) == 1


def test_call_seq_persists_across_restart(make_service, driver):
    d = driver(make_service())
    d.issue("A"), d.issue("A")
    first = d.act(1, "next")["call"]["seq"]
    d2 = driver(make_service())  # a new service on the same file = a restart
    d2.ids = iter(range(1000, 2000))
    assert d2.act(1, "next")["call"]["seq"] == first + 1
    assert d2.issue("A")["number"] == "A-003"


def test_four_digit_numbers(make_service, driver, site):
    import dataclasses
    svc_a = dataclasses.replace(site.services[0], start_number=999)
    d = driver(make_service(services=(svc_a, *site.services[1:])))
    assert d.issue("A")["number"] == "A-999"
    assert d.issue("A")["number"] == "A-1000"


def test_jump_is_logged_even_when_the_request_fails(drive, svc, clock):
    import pytest
    from server import errors
    drive.act(1, "open")  # a first reading, so the next one can be compared
    clock.jump(-600)
    with pytest.raises(errors.NothingWaiting):
        drive.act(1, "next")
    assert len(_events(svc, "clock_jump")) == 1
