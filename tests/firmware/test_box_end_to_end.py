"""The box against the real server: QueueService (SQLite in tmp) + its MQTT bridge,
over a real Mosquitto. One press (or a double press within the cooldown) must call
exactly one resident; holding NEXT for 2 s finishes the current one and calls nobody."""
from __future__ import annotations

import time

import pytest

from broker.bus import BusClient
from broker.protocol import CounterCommand, decode, encode
from server.devtools.mosquitto import wait_for

from boxkit import PINS, levels, LEDS, run_until, tap

pytestmark = [pytest.mark.timeout(40)]

GREEN, YELLOW, RED, BUZZER = (LEDS[k] for k in ("green", "yellow", "red", "buzzer"))


def clear(factory):
    """Forget every LED's recorded changes (each keeps its current level)."""
    for n in LEDS.values():
        factory.pin(n).clear_states()


def test_one_press_calls_exactly_one_resident(stack, calls, make_box, mock_factory, clock):
    """GIVEN the real server with one waiting ticket and a connected box at counter 1
    WHEN NEXT is pressed once (with contact bounce)
    THEN exactly one call event for A-001 at counter 1 appears and the box gets its
    acknowledgement: the yellow LED goes from off to on (pending) and, after the
    real ack, stays on for the resident being served (no more blinking), green
    stays on, red stays off and the buzzer beeps once."""
    svc, _ = stack
    seen, watch = calls
    box = make_box()
    # A live state (not an old retained one) teaches the box the server's clock.
    svc.issue("A", request_id="k-1", device="kiosk-1")
    assert run_until(box, lambda: box.server_time.offset_ms is not None and box.state.waiting == 1)
    assert box.state.ticket is None
    clear(mock_factory)
    p = mock_factory.pin(PINS["next"])
    for level in (0, 1, 0, 1):
        p.drive_low() if level == 0 else p.drive_high()
    assert run_until(box, lambda: box.results, others=[watch])
    assert box.results[-1][1] == "ok"
    assert box.state.ticket is not None and box.state.ticket.status == "called"
    for _ in range(4):  # 0.6 s of box time: a pending blink would have toggled by now
        clock.advance(0.15)
        box.step(0)
    run_until(box, lambda: False, 0.5, others=[watch])
    assert [(c.ticket, c.counter, c.kind) for c in seen] == [("A-001", 1, "call")]
    assert box.state.ticket.number == "A-001"
    assert levels(mock_factory, YELLOW) == [False, True]
    assert levels(mock_factory, GREEN) == [True]
    assert levels(mock_factory, RED) == [False]
    assert levels(mock_factory, BUZZER) == [False, True, False]
    assert len(box.results) == 1


def test_double_press_within_cooldown_calls_exactly_one_resident(stack, calls, make_box,
                                                                 mock_factory, clock):
    """GIVEN the real server with two waiting tickets and a box (cooldown 1 s)
    WHEN NEXT is pressed twice 0.3 s apart, and once more 0.8 s after the first
    press (after the server's ack, so only the cooldown stands in the way)
    THEN the call topic carries exactly one call (A-001), A-002 is still waiting;
    a press 1.1 s after the first one calls A-002 (the subscriber does see a
    second call when one is made)."""
    svc, bridge = stack
    seen, watch = calls
    box = make_box()
    tickets = [svc.issue("A", request_id=f"k-{n}", device="kiosk-1")["ticket"] for n in (1, 2)]
    assert run_until(box, lambda: box.server_time.offset_ms is not None and box.state.waiting == 2)
    first = clock.now
    tap(mock_factory, PINS["next"])
    clock.advance(0.3)
    tap(mock_factory, PINS["next"])
    assert run_until(box, lambda: box.results, others=[watch])
    assert box.results[-1][1] == "ok" and box.pending is None
    clock.advance(0.5)
    tap(mock_factory, PINS["next"])
    run_until(box, lambda: False, 1.0, others=[watch])

    assert [(c.ticket, c.counter, c.kind) for c in seen] == [("A-001", 1, "call")]
    assert [svc.ticket_by_token(t["token"])["status"] for t in tickets] == ["called", "waiting"]
    assert svc.counter_state(1)["waiting"] == 1
    assert bridge.stats["applied"] == 1 and len(box.results) == 1

    clock.now = first + 1.1
    tap(mock_factory, PINS["next"])
    assert run_until(box, lambda: len(seen) == 2, others=[watch])
    assert [c.ticket for c in seen] == ["A-001", "A-002"]
    assert [svc.ticket_by_token(t["token"])["status"] for t in tickets] == ["done", "called"]


def test_held_next_finishes_without_calling(stack, calls, make_box, mock_factory, clock):
    """GIVEN the real server with A-001 called at counter 1 and A-002 waiting, and a
    box with the documented hold_s of 2 s
    WHEN NEXT is held down (nothing is sent before 2 s), past 2 s, then released
    THEN at the hold the server gets 'finish': A-001 becomes done while the button
    is still down, no new call event appears, A-002 is still waiting, the yellow
    LED goes off (nobody served) and the release sends nothing."""
    svc, bridge = stack
    seen, watch = calls
    box = make_box()
    assert box.cfg.timing["hold_s"] == 2.0
    tickets = [svc.issue("A", request_id=f"k-{n}", device="kiosk-1")["ticket"] for n in (1, 2)]
    svc.counter_action(1, "next", command_id="panel-1-1", device="panel-1")
    assert run_until(box, lambda: box.server_time.offset_ms is not None and box.state.ticket
                     and box.state.ticket.number == "A-001", others=[watch])
    assert run_until(box, lambda: seen, others=[watch])
    assert levels(mock_factory, YELLOW)[-1] is True
    clear(mock_factory)

    p = mock_factory.pin(PINS["next"])
    p.drive_low()
    down = time.monotonic()  # gpiozero times the hold in real seconds
    run_until(box, lambda: time.monotonic() - down >= 1.2, 2.0, others=[watch])
    # Held for 1.2 s, well short of 2 s: nothing sent yet.
    assert box.pending is None and not box.results
    assert svc.ticket_by_token(tickets[0]["token"])["status"] == "called"
    # Still held: the finish must come from the hold itself, not from the release.
    assert run_until(box, lambda: box.results, 3.0, others=[watch]), "hold never reached"
    assert box.results[-1][1] == "ok"
    assert [svc.ticket_by_token(t["token"])["status"] for t in tickets] == ["done", "waiting"]

    clock.advance(2.2)
    p.drive_high()
    run_until(box, lambda: False, 1.0, others=[watch])
    assert [(c.ticket, c.kind) for c in seen] == [("A-001", "call")]
    assert [svc.ticket_by_token(t["token"])["status"] for t in tickets] == ["done", "waiting"]
    assert bridge.stats["applied"] == 1 and len(box.results) == 1
    assert box.state.ticket is None and box.state.waiting == 1
    assert levels(mock_factory, YELLOW) == [True, False]
    assert levels(mock_factory, GREEN) == [True]


def test_republished_command_never_calls_twice(stack, calls, make_box, mock_factory, clock, site_id,
                                               mosquitto):
    """GIVEN a press that the server applied (one call)
    WHEN the very same command is published again (a QoS 1 redelivery)
    THEN no second call event appears and the next resident is still waiting."""
    svc, bridge = stack
    seen, watch = calls
    box = make_box()
    for n in (1, 2):
        svc.issue("A", request_id=f"k-{n}", device="kiosk-1")
    assert run_until(box, lambda: box.server_time.offset_ms is not None and box.state.waiting == 2)
    raw: list[bytes] = []
    probes: list[bytes] = []
    spy = BusClient(site=site_id, role="server", device="spy", port=mosquitto.port)
    spy.subscribe(spy.topics.command(1), lambda m: raw.append(m.payload))
    # Subscribed after the command topic: once a probe comes back, both are active.
    spy.subscribe(f"{spy.topics.base}/test/probe", lambda m: probes.append(m.payload))
    spy.start()
    try:
        assert spy.connected.wait(5)
        spy.publish(f"{spy.topics.base}/test/probe", b"probe", qos=1)
        assert wait_for(lambda: probes, 5, bus=spy)
        tap(mock_factory, PINS["next"])
        assert run_until(box, lambda: box.results and raw, others=[watch, spy]), (box.results, raw)
        cmd = decode(CounterCommand, raw[0])
        spy.publish(spy.topics.command(1), encode(cmd), qos=1)
        run_until(box, lambda: False, 1.0, others=[watch, spy])
    finally:
        spy.stop()
    assert [c.ticket for c in seen] == ["A-001"]
    assert bridge.stats["duplicate"] >= 1
    assert box.state.waiting == 1


def test_nothing_waiting_is_refused_with_red_blinks(stack, make_box, mock_factory, clock):
    """GIVEN the real server with an empty queue
    WHEN NEXT is pressed
    THEN the server refuses with nothing_waiting and the box blinks red twice."""
    svc, _ = stack
    box = make_box()
    svc.issue("A", request_id="k-1", device="kiosk-1")
    svc.counter_action(2, "next", command_id="panel-2-1", device="panel-2")  # empties the queue
    assert run_until(box, lambda: box.server_time.offset_ms is not None and box.state.waiting == 0)
    mock_factory.pin(LEDS["red"]).clear_states()
    tap(mock_factory, PINS["next"])
    assert run_until(box, lambda: box.results)
    assert box.results[-1][1] == "refused:nothing_waiting"
    for _ in range(8):
        clock.advance(0.2)
        box.step(0)
    assert levels(mock_factory, LEDS["red"]) == [False, True, False, True, False]
