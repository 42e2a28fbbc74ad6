"""Repeating a request id returns the first result and changes nothing."""
import pytest

from server import errors


def test_issue_repeat_returns_same_ticket(svc):
    first = svc.issue("A", request_id="k-1", device="kiosk-1")
    again = svc.issue("A", request_id="k-1", device="kiosk-1")
    assert first["duplicate"] is False and again["duplicate"] is True
    assert again["ticket"] == first["ticket"]
    assert svc.summary()["services"]["A"]["issued"] == 1


def test_keys_are_scoped_by_device(svc):
    a = svc.issue("A", request_id="same", device="kiosk-1")["ticket"]["number"]
    b = svc.issue("A", request_id="same", device="kiosk-2")["ticket"]["number"]
    assert (a, b) == ("A-001", "A-002")


def test_counter_command_repeat_applies_once(svc):
    for i in range(3):
        svc.issue("A", request_id=f"k{i}", device="kiosk-1")
    first = svc.counter_action(1, "next", command_id="btn-7", device="button-1")
    again = svc.counter_action(1, "next", command_id="btn-7", device="button-1")
    assert again["duplicate"] and again["call"] == first["call"]
    assert svc.board()["seq"] == 1 and svc.summary()["services"]["A"]["waiting"] == 2


def test_same_id_for_different_request_conflicts(svc):
    svc.issue("A", request_id="k", device="kiosk-1")
    with pytest.raises(errors.IdempotencyConflict):
        svc.issue("B", request_id="k", device="kiosk-1")


def test_failed_request_is_not_stored(svc):
    with pytest.raises(errors.NothingWaiting):
        svc.counter_action(1, "next", command_id="c1", device="p")
    svc.issue("A", request_id="k", device="kiosk-1")
    assert svc.counter_action(1, "next", command_id="c1", device="p")["ticket"]["number"] == "A-001"
