"""Issue 13 rows 5, 10 and 14: one credential cannot act as another client or device.

Row 5, before: logging in with the kiosk's password and the server's client id
every 0.3 s kicked the server off the broker (0 of 4 presses called). Now the
broker uses each user name as its client id, so the kiosk only ever replaces
its own session.

Row 10, before: a retained ``next`` on a counter's own command topic was
applied (the subscription cleared the retain flag). Now the server subscribes
retain-as-published, never applies it, and clears it from the broker.

Row 14, before: a box's payload could name any device and the audit log wrote
that name (``web-kepala`` from a box's credential). Now the audit identity is
the counter's bus credential, bound to the topic by the ACL.
"""
from __future__ import annotations

import time

import pytest

from broker.protocol import CounterCommand, encode
from server.intake import bus_device

from bus_parts import Office, login, publish_packet

SITE = "hostile-takeover"


@pytest.fixture
def office(tmp_path, broker):
    o = Office(tmp_path, broker, SITE, tickets=20, boxes=(2, 3)).start()
    yield o
    o.stop()


def test_kiosk_credential_with_the_servers_client_id_cannot_kick_the_server(office, broker):
    """GIVEN the server connected WHEN the kiosk's credential logs in with the server's client id
    every 0.3 s for 3 s while boxes 2 and 3 press THEN the server never loses its session and
    every press is called and acknowledged."""
    server_id = office.bridge.bus.client_id
    disconnects = []
    office.bridge.bus.on_disconnected(lambda: disconnects.append(time.monotonic()))
    user, password = broker.credentials["kiosk-1"]
    logins, socks = 0, []
    end = time.monotonic() + 3
    next_login = 0.0
    i = 0
    while time.monotonic() < end:
        if time.monotonic() >= next_login:
            socks.append(login(broker.port, user, password, client_id=server_id))
            logins += 1
            next_login = time.monotonic() + 0.3
        if i % 6 == 0:
            office.boxes[2 + (i // 6) % 2].press(office.now_ms())
        i += 1
        time.sleep(0.05)
    for s in socks:
        s.close()
    assert office.wait_acked([2, 3]), office.missing()
    presses = len(office.boxes[2].sent) + len(office.boxes[3].sent)
    called = len(office.calls_of(2)) + len(office.calls_of(3))
    print(f"\nrow 5: {logins} log-ins as the kiosk with client id {server_id!r}; "
          f"server disconnects {len(disconnects)}; presses {presses}, called {called}")
    assert disconnects == [] and office.bridge.bus.connected.is_set()
    assert called == presses >= 4


def test_retained_command_is_never_applied_and_is_cleared(office, broker):
    """GIVEN 20 waiting tickets WHEN box-01's credential publishes a retained, fresh, well-formed 'next'
    on counter 1's command topic THEN no call is made, the ticket count is unchanged, the refusal is
    counted, and a new subscriber to that topic receives no retained command."""
    topic = office.bridge.topics.command(1)
    waiting = office.svc.board()["waiting"]["A"]
    sock = login(broker.port, *broker.credentials["box-01"], client_id="x")
    cmd = CounterCommand(id="box-01:retained:1", counter=1, action="next", device="box-01",
                         sent_at_ms=office.now_ms())
    sock.sendall(publish_packet(topic, encode(cmd), retain=True))
    deadline = time.monotonic() + 5
    while office.bridge.stats["retained_command"] < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    sock.close()
    # a late subscriber (as the server itself after a restart) must not get it either
    late = []
    probe = login(broker.port, *broker.credentials["probe-1"], client_id="probe")
    body = b"\x00\x07" + b"\x00" + bytes([0, len(topic)]) + topic.encode() + b"\x01"
    probe.sendall(b"\x82" + bytes([len(body)]) + body)
    probe.settimeout(1.0)
    try:
        while True:
            chunk = probe.recv(4096)
            if not chunk:
                break
            late.append(chunk)
    except OSError:
        pass
    probe.close()
    retained_publish = b"retained:1" in b"".join(late)
    print(f"\nrow 10: retained commands refused {office.bridge.stats['retained_command']}, "
          f"calls {len(office.calls_of(1))}, waiting {waiting} -> {office.svc.board()['waiting']['A']}, "
          f"retained copy left on the broker: {retained_publish}")
    assert office.bridge.stats["retained_command"] >= 1
    assert office.calls_of(1) == [] and office.svc.counter_state(1)["ticket"] is None
    assert office.svc.board()["waiting"]["A"] == waiting
    assert not retained_publish


def test_audit_identity_comes_from_the_credential_not_the_payload(office, broker):
    """GIVEN box-01's credential WHEN it sends 'next' for counter 1 naming device 'web-kepala'
    THEN the call is made and the audit log records counter 1's bus credential, never 'web-kepala'."""
    topic = office.bridge.topics.command(1)
    sock = login(broker.port, *broker.credentials["box-01"], client_id="x")
    cmd = CounterCommand(id="spoof:1", counter=1, action="next", device="web-kepala",
                         sent_at_ms=office.now_ms())
    sock.sendall(publish_packet(topic, encode(cmd)))
    deadline = time.monotonic() + 5
    while not office.calls_of(1) and time.monotonic() < deadline:
        time.sleep(0.05)
    sock.close()
    rows = office.svc.db.read().execute(
        "SELECT kind, device FROM events WHERE counter = 1 AND kind = 'called'").fetchall()
    devices_logged = sorted({r["device"] for r in rows})
    print(f"\nrow 14: payload named 'web-kepala'; audit log says {devices_logged}")
    assert len(office.calls_of(1)) == 1
    assert devices_logged == [bus_device(1)]
    assert not office.svc.db.read().execute(
        "SELECT 1 FROM events WHERE device = 'web-kepala'").fetchall()
