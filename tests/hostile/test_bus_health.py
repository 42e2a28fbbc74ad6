"""Issue 13 row 1 (b): the server's health says when the bus is not moving.

Before: /healthz answered 200 through a wedged bus, the systemd watchdog kept
being pinged and the dashboard showed nothing. Now /healthz answers 503 with
``bus`` = ``stalled`` or ``disconnected``, the dashboard's device table shows
the server itself offline (which raises its offline alert), and the main loop
stops pinging systemd's watchdog while the bridge says the bus is dead.
"""
from __future__ import annotations

import socket
import threading
import time

import pytest
import waitress

from server.devtools.mosquitto import Mosquitto
from server.systemd import serve

from bus_parts import Office, devices

SITE = "hostile-health"


def test_healthz_and_dashboard_say_when_the_broker_is_gone(tmp_path):
    """GIVEN a running office WHEN its broker is killed THEN /healthz answers 503 with bus
    'disconnected' and the dashboard's server row is offline; WHEN the broker is back THEN 200."""
    broker = Mosquitto.production(tmp_path / "mosq", devices=devices(SITE)).start()
    office = None
    try:
        office = Office(tmp_path, broker, SITE, tickets=1, boxes=()).start()
        ok = office.http.get("/healthz")
        assert ok.status_code == 200 and ok.get_json()["bus"] == "ok"
        broker.kill()
        deadline = time.monotonic() + 5
        while office.healthz() == 200 and time.monotonic() < deadline:
            time.sleep(0.05)
        down = office.http.get("/healthz")
        row = next(d for d in office.bridge.devices() if d["role"] == "server")
        print(f"\nrow 1 health: broker killed -> /healthz {down.status_code} {down.get_json()['bus']}, "
              f"dashboard server row {row['status']}")
        assert down.status_code == 503 and down.get_json()["bus"] == "disconnected"
        assert row["status"] == "offline" and row["bus"]["state"] == "disconnected"
        broker.start()
        deadline = time.monotonic() + 15
        while office.healthz() != 200 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert office.healthz() == 200
    finally:
        if office is not None:
            office.stop()
        broker.cleanup()


@pytest.fixture
def notify_socket(tmp_path, monkeypatch):
    path = str(tmp_path / "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(0.05)
    monkeypatch.setenv("NOTIFY_SOCKET", path)
    monkeypatch.setenv("WATCHDOG_USEC", "200000")  # a ping every 0.1 s
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    yield sock
    sock.close()


def _pings(sock, seconds: float) -> int:
    n, end = 0, time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            n += sock.recv(64) == b"WATCHDOG=1"
        except socket.timeout:
            pass
    return n


def test_watchdog_pings_stop_while_the_bus_is_dead(notify_socket):
    """GIVEN the server's main loop under systemd's watchdog (WatchdogSec 0.2 s) WHEN the bridge
    says the bus is alive THEN it pings; WHEN it says dead THEN no ping goes out; alive again: pings."""
    from flask import Flask
    alive = {"value": True}
    server = waitress.create_server(Flask(__name__), host="127.0.0.1", port=0, threads=1)
    loop = threading.Thread(target=serve, args=(server,), kwargs={"alive": lambda: alive["value"]},
                            daemon=True)
    loop.start()
    try:
        before = _pings(notify_socket, 0.6)
        alive["value"] = False
        _pings(notify_socket, 0.15)  # one ping may have been on its way
        dead = _pings(notify_socket, 0.6)
        alive["value"] = True
        after = _pings(notify_socket, 0.6)
        print(f"\nrow 1 watchdog: pings in 0.6 s alive {before}, dead {dead}, alive again {after}")
        assert before >= 2 and dead == 0 and after >= 2
    finally:
        server.close()
        loop.join(5)
