"""The disk fills up: simulated with SQLite's per-connection ``PRAGMA max_page_count``
(no tmpfs or loop device without root). The server must answer ``storage_full`` in
Indonesian and English, the kiosk must show it, and nothing may corrupt."""
from __future__ import annotations

import pytest

from kiosk_helpers import at_home, finger, pump
from server import errors


def _fill(svc) -> None:
    """Cap the database at its current size, then issue until it is really full."""
    w = svc.db._writer
    w.execute(f"PRAGMA max_page_count = {w.execute('PRAGMA page_count').fetchone()[0]}")
    with pytest.raises(errors.StorageFull):
        for i in range(2000):
            svc.issue("B", request_id=f"fill-{i}", device="filler")


def _free(svc) -> None:
    svc.db._writer.execute("PRAGMA max_page_count = 1073741823")


def _rows(svc):
    return [tuple(r) for r in svc.db.read().execute(
        "SELECT id, service_day, number, status, token FROM tickets ORDER BY id")]


def test_full_database_refuses_cleanly_and_recovers(real_server):
    """GIVEN tickets issued and a called ticket, then a full database
    WHEN a kiosk posts a ticket and a counter calls over HTTP
    THEN both get 409 storage_full with ID+EN text, no row changes, integrity_check is ok;
    WHEN space is freed THEN the same request id issues the next number (none reused)."""
    import requests
    svc = real_server.queue
    for i in range(3):
        svc.issue("A", request_id=f"pre-{i}", device="kiosk-1")
    svc.counter_action(1, "next", command_id="pre-call", device="box-1")
    _fill(svc)
    before = _rows(svc)
    headers = {"Authorization": f"Bearer {real_server.token}"}
    r = requests.post(f"{real_server.url}/api/v1/tickets", json={"service": "A", "request_id": "full-1"},
                      headers=headers, timeout=5)
    err = r.json()["error"]
    assert (r.status_code, err["code"]) == (409, "storage_full")
    assert "penuh" in err["message_id"] and "full" in err["message_en"]
    with pytest.raises(errors.StorageFull):
        svc.counter_action(2, "next", command_id="full-call", device="box-2")
    assert _rows(svc) == before
    assert svc.db.read().execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    _free(svc)
    r = requests.post(f"{real_server.url}/api/v1/tickets", json={"service": "A", "request_id": "full-1"},
                      headers=headers, timeout=5)
    assert r.status_code == 201 and r.json()["ticket"]["number"] == "A-004"
    assert _rows(svc)[: len(before)] == before


def test_kiosk_shows_storage_full_then_retry_works(real_server, make_kiosk):
    """GIVEN the real kiosk app on the real server and a full database
    WHEN a resident takes a ticket THEN the kiosk shows the server's storage_full message
    (Indonesian first, English second) and no ticket exists;
    WHEN space is freed and the resident taps retry THEN exactly one ticket is issued."""
    app = make_kiosk(real_server.url, real_server.token)
    pump(app, lambda: at_home(app))
    svc = real_server.queue
    svc.issue("A", request_id="early", device="kiosk-0")
    _fill(svc)
    before = _rows(svc)
    finger(app, "service", "A")
    finger(app, "take", "A")
    pump(app, lambda: app.screen == "error")
    assert app.error_text == (errors.StorageFull.message_id, errors.StorageFull.message_en)
    assert _rows(svc) == before
    _free(svc)
    finger(app, "retry")
    pump(app, lambda: app.screen == "confirm")
    assert app.ticket["ticket"]["number"] == "A-002"
    assert len(_rows(svc)) == len(before) + 1
    assert svc.db.read().execute("PRAGMA integrity_check").fetchone()[0] == "ok"
