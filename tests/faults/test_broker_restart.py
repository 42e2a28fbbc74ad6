"""Mosquitto restarts during operation: every component reconnects and the board is right again."""
from __future__ import annotations

import time

import pytest

from server.devtools.benchlib.site import always_open_site
from server.bridge import Bridge
from server.queue import QueueService
from tests.faults.busparts import Box, Display, stop_all


@pytest.fixture
def system(tmp_path, fresh_mosquitto, site_id):
    site = always_open_site(site_id)
    svc = QueueService(str(tmp_path / "q.db"), site)
    bridge = Bridge(svc, site, {"host": "127.0.0.1", "port": fresh_mosquitto.port}).start()
    display = Display(site_id, fresh_mosquitto.port)
    boxes = {n: Box(site_id, fresh_mosquitto.port, n) for n in (1, 2)}
    yield svc, bridge, display, boxes
    stop_all(display, *boxes.values())
    bridge.stop(timeout=2)
    svc.close()


def test_broker_restart_everyone_reconnects_and_board_is_right(system, fresh_mosquitto):
    """GIVEN server bridge, a display and two button boxes on a real Mosquitto, counter 1 serving A-001
    WHEN Mosquitto restarts (retained state lost: no persistence in the test broker)
    THEN within seconds every client is connected again, the bridge republishes the board
    (counter 1 still shows A-001), and a press on counter 2 calls A-002 on the display, once."""
    svc, bridge, display, boxes = system
    for i in range(4):
        svc.issue("A", request_id=f"r{i}", device="kiosk-1")
    assert display.wait(lambda: display.board is not None and boxes[1].bus.connected.is_set())
    boxes[1].press()
    assert display.wait(lambda: display.showing(1) == "A-001")
    seen_calls = len(display.calls)
    republished = bridge.stats["full_republish"]

    fresh_mosquitto.restart(down_s=0.5)
    display.board = None
    t0 = time.monotonic()
    clients = [bridge.bus, display.bus, boxes[1].bus, boxes[2].bus]
    assert display.wait(lambda: all(c.connected.is_set() for c in clients)
                        and display.board is not None and display.showing(1) == "A-001", timeout=15)
    resync_s = time.monotonic() - t0
    assert bridge.stats["full_republish"] > republished  # the board came from a fresh republish
    assert boxes[2].wait(lambda: boxes[2].state is not None, timeout=5)

    cmd = boxes[2].press()
    assert display.wait(lambda: display.showing(2) == "A-002", timeout=5)
    new_calls = [c for c in display.calls[seen_calls:] if c.kind == "call"]
    assert [c.ticket for c in new_calls] == ["A-002"]
    assert all(b.seq > a.seq for a, b in zip(display.calls, display.calls[1:]))
    assert boxes[2].wait(lambda: boxes[2].state.last_command and boxes[2].state.last_command.id == cmd.id)
    assert resync_s < 12, f"resync took {resync_s:.1f} s"
