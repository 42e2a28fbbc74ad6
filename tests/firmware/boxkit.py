"""Helpers for the button-box tests (imported by conftest.py and the tests):
a fake box clock, a test "server" on the bus, and MockPin shortcuts."""
from __future__ import annotations

import time

from gpiozero.pins.mock import MockFactory

from broker.bus import BusClient
from broker.protocol import CommandResult, CounterCommand, CounterState, TicketRef, decode, encode
from server.devtools.mosquitto import wait_for
from firmware.box import ButtonBox

PINS = {"next": 17, "recall": 27, "skip": 22, "pause": 23}
LEDS = {"green": 5, "yellow": 6, "red": 13, "buzzer": 19}


class FakeClock:
    """The box's monotonic clock, moved only by the test."""

    def __init__(self, start: float = 1000.0):
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def box_config(site_id: str, port: int, **tables) -> dict:
    data = {"device_id": "box-01", "counter": 1,
            "bus": {"host": "127.0.0.1", "port": port, "site": site_id},
            "pins": dict(PINS), "leds": {k: LEDS[k] for k in ("green", "yellow", "red")},
            "buzzer": {"pin": LEDS["buzzer"]}}
    for name, values in tables.items():
        data.setdefault(name, {}).update(values)
    return data


class Server:
    """Plays the server's part on the bus: records commands, publishes counter states."""

    def __init__(self, site_id: str, port: int, counter: int = 1):
        self.counter = counter
        self.commands: list[CounterCommand] = []
        self.expiry: list[int | None] = []
        self.bus = BusClient(site=site_id, role="server", device="test-server", port=port)
        self.bus.subscribe(self.bus.topics.command(counter), self._on_command)
        # Subscribed after the command topic: once a probe comes back, both are active.
        probe, probes = f"{self.bus.topics.base}/test/probe", []
        self.bus.subscribe(probe, lambda m: probes.append(m.payload))
        self.bus.start()
        assert self.bus.connected.wait(5), "test server could not connect"
        self.bus.publish(probe, b"probe", qos=1)
        assert wait_for(lambda: probes, 5, bus=self.bus), "test server's subscriptions not active"

    def _on_command(self, msg) -> None:
        self.commands.append(decode(CounterCommand, msg.payload))

    def state(self, *, last: CommandResult | None = None, ticket: str | None = None,
              status: str = "open", waiting: int = 3) -> None:
        ref = TicketRef(number=ticket, service=ticket[0], status="called") if ticket else None
        st = CounterState(counter=self.counter, name=f"Loket {self.counter}", status=status,
                          waiting=waiting, server_time_ms=int(time.time() * 1000), ticket=ref,
                          last_command=last)
        self.bus.publish(self.bus.topics.counter_state(self.counter), encode(st), retain=True)

    def pump(self, seconds: float = 0.3) -> None:
        wait_for(lambda: False, seconds, bus=self.bus)


def run_until(box: ButtonBox, predicate, timeout: float = 5.0, others=()) -> bool:
    """Turn the box's loop (and other buses) until ``predicate()`` or ``timeout`` real seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        box.step(0.02)
        for bus in others:
            bus.dispatch(timeout=0)
        if predicate():
            return True
    return False


def levels(factory: MockFactory, number: int) -> list[bool]:
    """The recorded level changes of an output pin (MockPin.states)."""
    return [bool(s.state) for s in factory.pin(number).states]


def tap(factory: MockFactory, number: int) -> None:
    """A clean press and release (pull-up wiring: pressed = low)."""
    p = factory.pin(number)
    p.drive_low()
    p.drive_high()
