"""Fixtures for the button box: gpiozero's MockFactory, a fake box clock, a real
Mosquitto, and a "server side" client that watches commands and answers with
retained CounterStates the way the server's bridge does (helpers in boxkit.py)."""
from __future__ import annotations

import dataclasses
from datetime import datetime, timezone

import pytest
from gpiozero import Device
from gpiozero.pins.mock import MockFactory

from boxkit import FakeClock, Server, box_config, run_until
from firmware.box import ButtonBox
from firmware.config import parse_config
from broker.bus import BusClient
from broker.protocol import CallEvent, decode
from server.devtools.mosquitto import wait_for


@pytest.fixture
def mock_factory():
    """A fresh MockFactory as gpiozero's default; every pin released afterwards."""
    saved = Device.pin_factory
    factory = Device.pin_factory = MockFactory()
    yield factory
    factory.reset()
    Device.pin_factory = saved



@pytest.fixture
def clock():
    return FakeClock()

@pytest.fixture
def server(mosquitto, site_id):
    s = Server(site_id, mosquitto.port)
    yield s
    s.bus.stop()

@pytest.fixture
def make_box(mosquitto, site_id, clock, mock_factory):
    """``make_box(**tables)`` -> a started, connected box on the session broker."""
    boxes = []

    def make(port: int | None = None, **tables) -> ButtonBox:
        cfg = parse_config(box_config(site_id, port or mosquitto.port, **tables))
        box = ButtonBox(cfg, clock=clock, pin_factory=mock_factory).start()
        boxes.append(box)
        assert run_until(box, box.bus.connected.is_set), "box never connected"
        box.step(0)
        return box
    yield make
    for box in boxes:
        box.close()


@pytest.fixture
def stack(tmp_path, site_id, mosquitto):
    """A QueueService on a temp DB with a fake server clock (Monday 09:00 WIB), and its
    bridge on the broker: the server side of a box's or a smiley pad's presses."""
    from server.bridge import Bridge
    from server.clock import FakeClock as ServerClock
    from server.config import EXAMPLE_SITE, load_site
    from server.queue import QueueService

    site = dataclasses.replace(load_site(EXAMPLE_SITE), site_id=site_id)
    svc = QueueService(str(tmp_path / "queue.db"), site,
                       clock=ServerClock(datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)))
    bridge = Bridge(svc, site, {"host": "127.0.0.1", "port": mosquitto.port}).start()
    assert wait_for(lambda: bridge.stats["full_republish"] >= 1), "bridge never connected"
    yield svc, bridge
    bridge.stop()
    svc.close()


@pytest.fixture
def calls(site_id, mosquitto):
    """Every CallEvent on the call topic, as a display sees them."""
    seen: list[CallEvent] = []
    bus = BusClient(site=site_id, role="display", device="watch-calls", port=mosquitto.port)
    bus.subscribe(bus.topics.call, lambda m: seen.append(decode(CallEvent, m.payload)))
    # paho sends SUBSCRIBE after `connected` is set: once a probe comes back, the
    # call subscription (made first) is active too and no call can be missed.
    probes: list[bytes] = []
    bus.subscribe(f"{bus.topics.base}/test/probe", lambda m: probes.append(m.payload))
    bus.start()
    assert bus.connected.wait(5)
    bus.publish(f"{bus.topics.base}/test/probe", b"probe", qos=1)
    assert wait_for(lambda: probes, 5, bus=bus), "call watcher's subscriptions not active"
    yield seen, bus
    bus.stop()
