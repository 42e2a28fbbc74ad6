"""Bench mode: the real `lalopa button run` on gpiozero's mock pins, pressed from outside
the process through its press socket, against a real Mosquitto and the real server
bridge (QueueService on a temp DB). This is how the site rehearsal's button boxes,
which have no GPIO, are pressed."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from broker.protocol import Presence, decode
from firmware.presses import press
from server.devtools.mosquitto import wait_for

from test_button_cli import write_config

pytestmark = pytest.mark.timeout(60)
REPO = Path(__file__).resolve().parents[2]


def _env() -> dict:
    """The box's environment without GPIOZERO_PIN_FACTORY: only --mock-pins may choose mock."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    env.pop("GPIOZERO_PIN_FACTORY", None)
    return env


def _lalopa(*args, **kw):
    return subprocess.Popen([sys.executable, "-m", "broker.cli", "button", *args], cwd=REPO,
                            env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, **kw)


def test_presses_from_outside_call_hold_and_repeat_by_id(tmp_path, site_id, mosquitto, stack,
                                                         calls):
    """GIVEN the real server with A-001 and A-002 waiting, and `lalopa button run --mock-pins
    --press-socket` for counter 1 (online on the bus)
    WHEN a harness sends 'p-1 NEXT', the same line again, 'p-2 HOLD' (through
    `lalopa button press`) and 'p-3 JUMP'
    THEN NEXT calls exactly A-001 and answers with the server's ok; the repeated id gets
    the same answer and calls nobody; HOLD finishes A-001 without a call (A-002 still
    waits); JUMP is refused and changes nothing; on SIGTERM the box ends and removes its
    socket."""
    svc, _bridge = stack
    seen, watch = calls
    online: list[str] = []
    watch.subscribe(watch.topics.presence("button", "box-01"),
                    lambda m: m.payload and online.append(decode(Presence, m.payload).status))
    sock = tmp_path / "run" / "press.sock"
    proc = _lalopa("run", "--config", str(write_config(tmp_path, site_id, mosquitto.port)),
                   "--mock-pins", "--press-socket", str(sock))
    try:
        assert wait_for(lambda: "online" in online and sock.exists(), 15, bus=watch), online
        # Issued now, each ticket sends the box a live counter state: it learns the server's
        # (test) clock from it, as a box does from the first live state after it connects.
        tickets = []
        for n in (1, 2):
            wait_for(lambda: False, 0.7, bus=watch)
            tickets.append(svc.issue("A", request_id=f"k-{n}", device="kiosk-1")["ticket"])
        wait_for(lambda: False, 0.5, bus=watch)

        first = press(sock, "NEXT", "p-1")
        assert first.startswith("p-1 pressed ok box-01:"), first
        assert wait_for(lambda: seen, 5, bus=watch)
        assert press(sock, "NEXT", "p-1") == first
        wait_for(lambda: False, 1.5, bus=watch)
        assert [(c.ticket, c.counter) for c in seen] == [("A-001", 1)]

        hold = subprocess.run([sys.executable, "-m", "broker.cli", "button", "press", "--socket",
                               str(sock), "--id", "p-2", "hold"], cwd=REPO, env=_env(),
                              capture_output=True, text=True, timeout=20)
        assert hold.returncode == 0 and hold.stdout.startswith("p-2 pressed ok "), hold
        bad = press(sock, "JUMP", "p-3")
        assert bad.startswith("p-3 error tombol tidak dikenal") and "unknown button" in bad
        wait_for(lambda: False, 0.5, bus=watch)
        assert [(c.ticket, c.counter) for c in seen] == [("A-001", 1)]
        assert [svc.ticket_by_token(t["token"])["status"] for t in tickets] == ["done", "waiting"]
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=15)
    assert proc.returncode == 0, out
    assert "BENCH MODE" in out and not sock.exists()


def test_press_socket_is_refused_on_real_pins(tmp_path, site_id, mosquitto):
    """GIVEN no --mock-pins and no GPIOZERO_PIN_FACTORY=mock (real pins)
    WHEN `lalopa button run --press-socket` starts THEN it refuses before touching GPIO:
    exit 2, a bilingual message, and no socket."""
    sock = tmp_path / "press.sock"
    proc = _lalopa("run", "--config", str(write_config(tmp_path, site_id, mosquitto.port)),
                   "--press-socket", str(sock))
    out, _ = proc.communicate(timeout=20)
    assert proc.returncode == 2, out
    assert "hanya dengan pin tiruan" in out and "needs mock pins" in out
    assert not sock.exists()


def test_lines_without_an_id_are_refused(tmp_path):
    """GIVEN a press server on a box of mock pins WHEN a line has no id or too many words
    THEN it answers with an error and presses nothing."""
    from gpiozero.pins.mock import MockFactory

    from firmware.box import ButtonBox
    from firmware.config import parse_config
    from firmware.presses import PressServer
    from boxkit import box_config

    factory = MockFactory()
    box = ButtonBox(parse_config(box_config("s1", 1)), pin_factory=factory)
    try:
        server = PressServer(box, tmp_path / "p.sock", sleep=lambda s: None)
        before = list(factory.pin(17).states)
        for line in ("NEXT", "a b c", "bad/id NEXT", ""):
            assert server.handle(line).startswith("- error"), line
        assert factory.pin(17).states == before and box.events.empty()
    finally:
        box.close()
