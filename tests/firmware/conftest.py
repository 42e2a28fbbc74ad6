"""Fixtures for the button box: gpiozero's MockFactory, a fake box clock, a real
Mosquitto, and a "server side" client that watches commands and answers with
retained CounterStates the way the server's bridge does (helpers in boxkit.py)."""
from __future__ import annotations

import pytest
from gpiozero import Device
from gpiozero.pins.mock import MockFactory

from boxkit import FakeClock, Server, box_config, run_until
from firmware.box import ButtonBox
from firmware.config import parse_config


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