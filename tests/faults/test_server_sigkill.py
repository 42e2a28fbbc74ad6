"""SIGKILL the real server (``lalopa server`` with its MQTT bridge) during a stream of ticket
issues over HTTP and counter presses over MQTT, restart it on the same database, and check:
no acknowledged ticket lost, no number reused, no press applied twice."""
from __future__ import annotations

import os
import signal
import sqlite3
import threading
import time
import uuid

import requests

from server.devtools.benchlib import procs
from server.devtools.benchlib.http import kiosk_token, start_server
from tests.faults.busparts import Box, Display, stop_all


def _issue_stream(url, token, acked, stop):
    """Issue tickets until ``stop``; keep each acknowledged (201/200) ticket. Retries reuse
    the request id, as the kiosk does."""
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {token}"
    run = uuid.uuid4().hex[:6]
    k = 0
    while not stop.is_set():
        k += 1
        rid = f"{run}-{k}"
        try:
            r = s.post(f"{url[0]}/api/v1/tickets", json={"service": "A", "request_id": rid}, timeout=2)
        except requests.RequestException:
            time.sleep(0.05)  # server down: try the next one later (the kiosk would retry rid)
            continue
        if r.status_code in (200, 201):
            acked.append((rid, r.json()["ticket"]["number"], r.json()["ticket"]["token"]))
        time.sleep(0.01)


def test_sigkill_during_issues_and_bus_presses(tmp_path, mosquitto, site_id):
    """GIVEN the real server with its bridge, a kiosk issuing over HTTP and two button boxes
    pressing NEXT over MQTT, a display recording calls
    WHEN the server is SIGKILLed mid-stream, restarted on the same DB, every press sent so
    far is re-sent (as a QoS 1 redelivery would) and the stream goes on
    THEN every acknowledged ticket is in the DB with its number, numbers are unique and
    gap-free, each command id produced at most one call, and no ticket was called twice."""
    server, port, site_path, db_path = start_server(tmp_path, site_id, mqtt_port=mosquitto.port)
    url = [f"http://127.0.0.1:{port}"]
    token = kiosk_token(db_path, "kiosk-1")
    display = Display(site_id, mosquitto.port)
    boxes = [Box(site_id, mosquitto.port, n) for n in (1, 2)]
    acked, sent, stop = [], [], threading.Event()
    issuer = threading.Thread(target=_issue_stream, args=(url, token, acked, stop), daemon=True)
    try:
        assert display.wait(lambda: display.board is not None, timeout=10)
        issuer.start()

        def press_for(seconds):
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                for box in boxes:
                    sent.append(box.press())
                display.wait(lambda: False, timeout=0.1)

        press_for(1.5)
        os.kill(server.pid, signal.SIGKILL)
        server.wait(5)
        acked_before_kill = list(acked)
        server = procs.lalopa("server", "--site", str(site_path), "--db", str(db_path), "--host",
                              "127.0.0.1", "--port", str(port), "--mqtt-host", "127.0.0.1",
                              "--mqtt-port", str(mosquitto.port), log=tmp_path / "server2.log")
        procs.wait_port(port, server)
        for box in boxes:  # redelivery of everything already sent: must change nothing
            for cmd in [c for c in sent if c.counter == box.counter]:
                box.press(cmd=box.command(cmd.action, command_id=cmd.id))
        press_for(1.0)
        stop.set()
        issuer.join(5)
        display.wait(lambda: False, timeout=1.0)  # let the last calls arrive
    finally:
        stop.set()
        stop_all(display, *boxes)
        procs.stop(server)

    db = sqlite3.connect(str(db_path))
    rows = {tok: num for num, tok in db.execute("SELECT number, token FROM tickets")}
    assert acked_before_kill and len(acked) > len(acked_before_kill)
    for rid, number, tok in acked:
        assert rows.get(tok) == number, f"acknowledged ticket {number} ({rid}) lost"
    seqs = sorted(s for (s,) in db.execute("SELECT seq FROM tickets WHERE prefix = 'A'"))
    assert seqs == list(range(1, len(seqs) + 1)), "numbers must be unique and gap-free"
    calls = db.execute("SELECT c.ticket_id, c.kind FROM calls c").fetchall()
    firsts = [t for t, kind in calls if kind == "call"]
    assert firsts and len(firsts) == len(set(firsts)), "a ticket was called twice"
    applied = db.execute("SELECT COUNT(*) FROM idempotency WHERE kind = 'counter'").fetchone()[0]
    assert len(firsts) <= applied <= len({c.id for c in sent})
    # QoS 1 and the restart's republish may deliver a call twice; the contract is that a seq
    # always means the same call (displays drop repeats), and every applied call got a seq.
    by_seq = {}
    for c in display.calls:
        assert by_seq.setdefault(c.seq, (c.ticket, c.counter, c.kind)) == (c.ticket, c.counter, c.kind)
    db_seqs = {s for (s,) in db.execute("SELECT seq FROM calls")}
    assert set(by_seq) <= db_seqs and len(db_seqs) == len(calls)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
