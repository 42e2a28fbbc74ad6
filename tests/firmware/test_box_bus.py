"""The button box on gpiozero's MockFactory against a real Mosquitto.

The test plays the server: it records CounterCommands and answers with
retained CounterStates carrying ``last_command`` (the box's acknowledgement).
The box's clock is fake, so the LED pin sequences are exact.
"""
from __future__ import annotations

import time

import pytest

from broker.protocol import CommandResult
from server.devtools.mosquitto import Mosquitto, wait_for

from boxkit import LEDS, PINS, levels, run_until, tap

pytestmark = pytest.mark.timeout(30)
GREEN, YELLOW, RED, BUZZER = (LEDS[k] for k in ("green", "yellow", "red", "buzzer"))


def clear(factory):
    for n in LEDS.values():
        factory.pin(n).clear_states()


def test_one_press_publishes_one_command_and_ack_drives_leds(make_box, server, mock_factory, clock):
    """GIVEN a connected box that knows its counter is open
    WHEN NEXT is pressed once and the server acknowledges with a called ticket
    THEN exactly one 'next' command is published (QoS 1 with expiry), the yellow
    LED blinks while pending then stays on for the resident being served, and
    the buzzer beeps once."""
    server.state(waiting=2)
    box = make_box()
    assert run_until(box, lambda: box.state is not None)
    clear(mock_factory)

    tap(mock_factory, PINS["next"])
    box.step(0)
    server.pump(0.5)
    assert len(server.commands) == 1
    cmd = server.commands[0]
    assert (cmd.action, cmd.counter, cmd.device) == ("next", 1, "box-01")
    assert cmd.id == f"box-01:{box.nonce}:1:1"
    assert levels(mock_factory, YELLOW) == [False, True]      # pending blink, first half
    clock.advance(0.1)
    box.step(0)
    assert levels(mock_factory, YELLOW) == [False, True, False]  # still blinking: not acked

    server.state(last=CommandResult(id=cmd.id, ok=True), ticket="A-001", waiting=1)
    assert run_until(box, lambda: box.results and box.results[-1] == (cmd.id, "ok"))
    for _ in range(4):  # the blink is over: yellow stays on while serving
        clock.advance(0.15)
        box.step(0)
    assert levels(mock_factory, YELLOW) == [False, True, False, True]
    assert levels(mock_factory, GREEN) == [True]
    assert levels(mock_factory, RED) == [False]
    assert levels(mock_factory, BUZZER) == [False, True, False]
    server.pump(0.3)
    assert len(server.commands) == 1


def test_refused_command_blinks_red_twice(make_box, server, mock_factory, clock):
    """GIVEN a box whose counter has nobody waiting
    WHEN NEXT is pressed and the server answers ok=false, code nothing_waiting
    THEN the red LED blinks twice (0.4 s on, 0.3 s off) and the yellow goes dark."""
    server.state(waiting=0)
    box = make_box()
    assert run_until(box, lambda: box.state is not None)
    clear(mock_factory)
    tap(mock_factory, PINS["next"])
    box.step(0)
    assert wait_for(lambda: server.commands, 3, bus=server.bus)
    cmd_id = server.commands[0].id
    server.state(last=CommandResult(id=cmd_id, ok=False, code="nothing_waiting"), waiting=0)
    assert run_until(box, lambda: box.results and box.results[-1] == (cmd_id, "refused:nothing_waiting"))
    for _ in range(8):
        clock.advance(0.2)
        box.step(0)
    assert levels(mock_factory, RED) == [False, True, False, True, False]
    assert levels(mock_factory, YELLOW) == [False, True, False]
    assert levels(mock_factory, GREEN) == [True]


def test_no_ack_within_timeout_shows_error(make_box, server, mock_factory, clock):
    """GIVEN a box and a server that never answers
    WHEN NEXT is pressed and 3 s pass
    THEN the red LED is on for 2 s (no answer) and the result says no_ack."""
    box = make_box()
    clear(mock_factory)
    tap(mock_factory, PINS["next"])
    box.step(0)
    assert wait_for(lambda: server.commands, 3, bus=server.bus)
    clock.advance(2.9)
    box.step(0)
    assert levels(mock_factory, RED) == [False]
    clock.advance(0.2)
    box.step(0)
    assert box.results[-1] == (server.commands[0].id, "no_ack")
    assert levels(mock_factory, RED) == [False, True]
    clock.advance(2.1)
    box.step(0)
    assert levels(mock_factory, RED) == [False, True, False]
    assert box.pending is None


def test_bounce_and_double_press_within_cooldown_send_one_command(make_box, server, mock_factory, clock):
    """GIVEN a connected box (cooldown 1 s)
    WHEN the NEXT contact bounces (low/high/low/high) and, after the ack, is pressed
    again 0.5 s later
    THEN only one command is published; a press after the cooldown sends the second."""
    server.state(waiting=5)
    box = make_box()
    p = mock_factory.pin(PINS["next"])
    for level in (0, 1, 0, 1, 0, 1):  # gpiozero's mock pins do not simulate bounce_time
        p.drive_low() if level == 0 else p.drive_high()
    box.step(0)
    assert wait_for(lambda: server.commands, 3, bus=server.bus)
    first = server.commands[0].id
    server.state(last=CommandResult(id=first, ok=True), ticket="A-001")
    assert run_until(box, lambda: box.pending is None)
    clock.advance(0.5)
    tap(mock_factory, PINS["next"])
    box.step(0)
    server.pump(0.5)
    assert [c.id for c in server.commands] == [first]

    clock.advance(0.6)
    tap(mock_factory, PINS["recall"])
    box.step(0)
    assert wait_for(lambda: len(server.commands) == 2, 3, bus=server.bus)
    assert server.commands[1].action == "recall"
    server.pump(0.3)
    assert len(server.commands) == 2


def test_next_acts_on_release_and_hold_means_finish(make_box, server, mock_factory, clock):
    """GIVEN a box with hold_s = 0.3 s
    WHEN NEXT is pressed and held past 0.3 s, then released
    THEN one 'finish' command is published at the hold and no 'next' on release;
    a short press sends 'next' only when released."""
    box = make_box(timing={"hold_s": 0.3})
    p = mock_factory.pin(PINS["next"])
    p.drive_low()
    assert run_until(box, lambda: server.commands, 3, others=[server.bus])
    assert [c.action for c in server.commands] == ["finish"]
    p.drive_high()
    server.state(last=CommandResult(id=server.commands[0].id, ok=True))
    assert run_until(box, lambda: box.pending is None, others=[server.bus])
    server.pump(0.3)
    assert [c.action for c in server.commands] == ["finish"]

    clock.advance(1.5)
    p.drive_low()
    run_until(box, lambda: False, 0.1, others=[server.bus])
    assert len(server.commands) == 1  # nothing yet: NEXT waits for the release
    p.drive_high()
    assert run_until(box, lambda: len(server.commands) == 2, others=[server.bus])
    assert server.commands[1].action == "next"


def test_pause_button_toggles_by_counter_state(make_box, server, mock_factory, clock):
    """GIVEN an open counter
    WHEN PAUSE is pressed, the server reports paused, and PAUSE is pressed again
    THEN the box sends 'pause' with the configured reason, then 'resume'; the
    yellow LED blinks slowly while paused."""
    server.state()
    box = make_box(pause={"reason": "Sholat / Prayer"})
    assert run_until(box, lambda: box.state is not None)
    tap(mock_factory, PINS["pause"])
    box.step(0)
    assert wait_for(lambda: server.commands, 3, bus=server.bus)
    assert (server.commands[0].action, server.commands[0].reason) == ("pause", "Sholat / Prayer")
    server.state(last=CommandResult(id=server.commands[0].id, ok=True), status="paused")
    assert run_until(box, lambda: box.pending is None and box.state.status == "paused")
    mock_factory.pin(YELLOW).clear_states()
    for _ in range(3):
        clock.advance(1.0)
        box.step(0)
    assert levels(mock_factory, YELLOW)[-3:] == [False, True, False]
    tap(mock_factory, PINS["pause"])
    box.step(0)
    assert wait_for(lambda: len(server.commands) == 2, 3, bus=server.bus)
    assert server.commands[1].action == "resume" and server.commands[1].reason is None


def test_press_while_broker_down_is_never_sent(site_id, clock, mock_factory):
    """GIVEN a connected box and a broker that then dies
    WHEN NEXT is pressed while the bus is down and the broker comes back
    THEN the red LED (steady while offline) flickers, nothing is published then
    or after the broker returns (broker log and a subscriber agree), and a new
    press after reconnecting is sent."""
    from boxkit import Server, box_config
    from firmware.box import ButtonBox
    from firmware.config import parse_config

    broker = Mosquitto(extra_config="log_type all").start()
    box = server = None
    try:
        box = ButtonBox(parse_config(box_config(site_id, broker.port)), clock=clock,
                        pin_factory=mock_factory).start()
        assert run_until(box, box.bus.connected.is_set)
        broker.kill()
        assert run_until(box, lambda: not box.bus.connected.is_set())
        clear(mock_factory)
        tap(mock_factory, PINS["next"])
        box.step(0)
        assert box.results[-1][1] == "offline"
        for _ in range(3):
            clock.advance(0.08)
            box.step(0)
        assert levels(mock_factory, RED) == [True, False, True, False]
        assert levels(mock_factory, GREEN) == [False]

        broker.start()
        server = Server(site_id, broker.port)
        assert run_until(box, box.bus.connected.is_set, 10)
        run_until(box, lambda: False, 1.0, others=[server.bus])
        assert server.commands == []
        assert "counter/1/command" not in broker.log_path.read_text()

        clock.advance(2.0)
        tap(mock_factory, PINS["recall"])
        assert run_until(box, lambda: server.commands, 3, others=[server.bus])
        assert [c.action for c in server.commands] == ["recall"]
    finally:
        if server is not None:
            server.bus.stop()
        if box is not None:
            box.close()
        broker.cleanup()


def test_server_time_estimate_prefers_live_state(make_box, server, clock):
    """GIVEN a box that saw only an old retained state
    WHEN a live state arrives
    THEN sent_at_ms follows the live server time (offset on the box clock)."""
    box = make_box()
    box.server_time.learn(1_000, retained=True)
    assert box.server_time.now_ms() >= int(time.time() * 1000) - 1000  # wall wins over old
    box.server_time.learn(5_000_000, retained=False)
    clock.advance(2.0)
    assert box.server_time.now_ms() == 5_002_000
