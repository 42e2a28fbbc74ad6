"""Ticket lifecycle, counter sessions, numbering and the listener contract."""
import pytest

from server import errors


def test_issue_numbers_and_shape(drive):
    """GIVEN an empty day WHEN three A tickets and one C ticket are issued THEN numbers count per service."""
    a1, a2 = drive.issue("A"), drive.issue("A")
    c1 = drive.issue("C")
    assert [a1["number"], a2["number"], c1["number"]] == ["A-001", "A-002", "C-001"]
    assert a1["status"] == "waiting" and a1["service_day"] == "2026-11-23"
    assert a1["issued_at"].endswith("+07:00")
    assert a2["people_ahead"] == 1 and c1["people_ahead"] == 0
    assert len(a1["token"]) >= 20 and a1["token"] != a2["token"]
    assert a2["est_wait_s"] is None  # no counter is open yet: nobody serves A (server.eta)


def test_full_lifecycle_and_call_seq(drive, svc, clock):
    t = drive.issue("A")
    r = drive.act(1, "next")
    assert r["ticket"]["number"] == t["number"] and r["ticket"]["status"] == "called"
    assert r["call"]["seq"] == 1 and r["call"]["kind"] == "call" and r["call"]["counter_name"] == "Loket 1"
    clock.advance(10)
    r = drive.act(1, "recall")
    assert r["call"]["seq"] == 2 and r["call"]["recall_count"] == 1
    assert drive.act(1, "start")["ticket"]["status"] == "serving"
    assert drive.act(1, "finish")["ticket"]["status"] == "done"
    with pytest.raises(errors.NoCurrentTicket):
        drive.act(1, "finish")
    board = svc.board()
    assert board["seq"] == 2 and board["recent"][0]["kind"] == "recall"
    assert board["counters"][0]["status"] == "open"


def test_next_opens_closed_counter_and_finishes_current(drive, svc):
    drive.issue("A"), drive.issue("A")
    assert svc.counter_state(3)["status"] == "closed"
    first = drive.act(3, "next")["ticket"]
    second = drive.act(3, "next")["ticket"]
    assert svc.counter_state(3)["status"] == "open"
    assert svc.ticket_by_token(first["token"])["status"] == "done"
    assert second["number"] == "A-002"
    # nothing waiting: the current ticket is finished and no error
    assert drive.act(3, "next")["ticket"] is None
    with pytest.raises(errors.NothingWaiting):
        drive.act(3, "next")


def test_counter_prefers_its_services_in_order(drive):
    drive.issue("A"), drive.issue("C"), drive.issue("B")
    assert drive.act(13, "next")["ticket"]["number"] == "C-001"  # 13 serves C then A
    assert drive.act(15, "next")["ticket"]["number"] == "B-001"  # 15 serves B then A
    assert drive.act(14, "next")["ticket"]["number"] == "A-001"  # no C left: falls back to A


def test_no_show_cancel_and_bad_transitions(drive, svc):
    drive.issue("A"), drive.issue("A"), drive.issue("A")
    drive.act(1, "next")
    drive.act(1, "start")
    with pytest.raises(errors.InvalidTransition):
        drive.act(1, "no_show")
    drive.act(1, "finish")
    drive.act(1, "next")
    assert drive.act(1, "no_show")["ticket"]["status"] == "no_show"
    assert drive.act(2, "cancel", ticket="A-003")["ticket"]["status"] == "cancelled"
    with pytest.raises(errors.InvalidTransition):
        drive.act(2, "cancel", ticket="A-003")
    with pytest.raises(errors.UnknownTicket):
        drive.act(2, "cancel", ticket="A-999")


def test_call_specific_needs_reason_and_service(drive):
    drive.issue("A"), drive.issue("A"), drive.issue("B")
    with pytest.raises(errors.BadRequest):
        drive.act(1, "call_specific", ticket="A-002")
    with pytest.raises(errors.CounterDoesNotServe):
        drive.act(1, "call_specific", ticket="B-001", reason="x")
    r = drive.act(1, "call_specific", ticket="A-002", reason="lansia datang kembali")
    assert r["ticket"]["number"] == "A-002" and r["call"]["kind"] == "call"
    assert drive.act(2, "next")["ticket"]["number"] == "A-001"


@pytest.mark.parametrize("policy,expected", [("keep_place", ["A-001", "C-002", "C-003"]),
                                             ("go_last", ["C-002", "C-003", "A-001"])])
def test_transfer_policies(make_service, driver, policy, expected):
    d = driver(make_service(transfer_policy=policy))
    d.issue("A"), d.issue("C"), d.issue("C"), d.issue("C")
    d.act(13, "next")  # C-001 at counter 13
    d.act(1, "next")   # A-001 at counter 1
    moved = d.act(1, "transfer", service="C")["ticket"]
    assert moved["status"] == "waiting" and moved["service"] == "C" and moved["number"] == "A-001"
    called = [d.act(13, "next")["ticket"]["number"] for _ in range(3)]
    assert called == expected


def test_pause_resume_close(drive, svc):
    drive.act(5, "open")
    drive.act(5, "pause", reason="istirahat")
    st = svc.counter_state(5)
    assert st["status"] == "paused" and st["pause_reason"] == "istirahat"
    drive.issue("A")
    assert drive.act(5, "next")["ticket"]["number"] == "A-001"  # next resumes implicitly
    with pytest.raises(errors.InvalidTransition):
        drive.act(5, "close")
    drive.act(5, "finish")
    drive.act(5, "close")
    assert svc.counter_state(5)["status"] == "closed"


def test_bad_input_changes_nothing(drive, svc):
    with pytest.raises(errors.UnknownService):
        drive.issue("Z")
    with pytest.raises(errors.BadRequest):
        drive.issue("A", priority="vip")
    with pytest.raises(errors.UnknownCounter):
        drive.act(99, "next")
    with pytest.raises(errors.BadRequest):
        drive.act(1, "explode")
    with pytest.raises(errors.NothingWaiting):
        drive.act(1, "next")
    assert svc.counter_state(1)["status"] == "closed"  # the implicit open was rolled back
    assert svc.summary()["services"]["A"]["issued"] == 0


def test_errors_have_codes_and_both_languages():
    for cls in errors.QueueError.__subclasses__():
        if cls.__module__ != errors.__name__:
            continue
        e = cls()
        assert e.code and e.message_id and e.message_en and 400 <= e.status < 500


def test_closed_hours_and_daily_cap(make_service, driver, clock):
    import dataclasses
    svc = make_service()
    d = driver(svc)
    cfg = dataclasses.replace(svc.site.service("B"), daily_cap=2)
    svc.site = dataclasses.replace(svc.site, services=(svc.site.services[0], cfg, svc.site.services[2]))
    d.issue("B"), d.issue("B")
    with pytest.raises(errors.DailyCapReached):
        d.issue("B")
    assert svc.summary()["services"]["B"]["open"] is False
    clock.advance(7 * 3600)  # 16:00, after closing
    with pytest.raises(errors.ServiceClosed):
        d.issue("A")


def test_listeners_after_commit_not_for_duplicates(svc):
    seen = []
    svc.add_listener(seen.append)
    svc.issue("A", request_id="x", device="k")
    svc.issue("A", request_id="x", device="k")
    svc.counter_action(1, "next", command_id="c", device="p")
    assert [c["type"] for c in seen] == ["ticket", "call", "ticket", "counter"]
    assert seen[1]["call"]["ticket"] == "A-001" and seen[3]["counter"] == 1


def test_device_tokens(svc):
    token = svc.create_device_token("kiosk-1", "kiosk")
    assert svc.check_token(token) == {"id": "kiosk-1", "role": "kiosk", "counter": None}
    assert svc.check_token("nope") is None
    assert svc.revoke_device("kiosk-1")
    assert svc.check_token(token) is None
    with pytest.raises(errors.BadRequest):
        svc.create_device_token("kiosk-1", "god")


def test_concurrent_issues_get_unique_numbers(svc):
    """GIVEN 8 kiosk threads issuing at once THEN every number is unique and none is skipped."""
    import threading
    numbers, lock = [], threading.Lock()

    def kiosk(k):
        for i in range(25):
            n = svc.issue("A", request_id=f"{k}-{i}", device=f"kiosk-{k}")["ticket"]["number"]
            with lock:
                numbers.append(n)
    threads = [threading.Thread(target=kiosk, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(numbers) == [f"A-{i:03d}" for i in range(1, 201)]


def test_events_record_who_and_when(drive, svc):
    drive.issue("A")
    drive.act(2, "next", device="panel-2", user_id=9)
    ev = svc.db.read().execute("SELECT * FROM events WHERE kind = 'called'").fetchone()
    assert (ev["counter"], ev["device"], ev["user_id"]) == (2, "panel-2", 9)
    assert ev["at_utc"] == "2026-11-23T02:00:00.000Z" and ev["at_ms"] == 1795399200000
