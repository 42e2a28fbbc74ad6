"""`lalopa demo --headless --duration 25`: a ticket the kiosk app took travels to the board."""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(90)]


def _lalopa() -> str:
    return str(Path(sys.executable).with_name("lalopa"))


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """Run the demo once for every test in this file (it is the expensive part)."""
    out = tmp_path_factory.mktemp("demo")
    started = time.monotonic()
    proc = subprocess.run([_lalopa(), "demo", "--headless", "--duration", "25", "--out", str(out),
                           "--speed", "120", "--seed", "3"],
                          capture_output=True, text=True, timeout=80)
    return out, proc, time.monotonic() - started


def _json(path: Path):
    return json.loads(path.read_text())


def test_demo_runs_bounded_and_stops_cleanly(demo_run):
    """GIVEN the demo with --duration 25 WHEN it ends THEN exit 0 within 60 s, the URL and
    log-in were printed, and every component was stopped (an exit code recorded for each)."""
    out, proc, elapsed = demo_run
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert elapsed <= 60
    assert "dashboard http://127.0.0.1:" in proc.stdout
    summary = _json(out / "summary.json")
    assert "server" in summary["components"]
    assert all(code is not None for code in summary["components"].values())


def test_kiosk_ticket_was_called_and_reached_the_board(demo_run):
    """GIVEN the demo's kiosk app taking a number through its own touch handling (scripted
    taps) WHEN the simulated counters call it THEN the kiosk printed that number, the server
    called it, the call went over the bus, and the BOARD process recorded showing exactly that
    number (its --call-log line, with the call-<seq>.png it saved)."""
    out, proc, _ = demo_run
    kiosk_log = (out / "logs/kiosk.log").read_text()
    taken = [json.loads(line)["demo_ticket"] for line in kiosk_log.splitlines()
             if line.startswith('{"demo_ticket"')]
    assert taken, f"the kiosk took no number by its taps; kiosk log:\n{kiosk_log[-3000:]}"
    # It went through the kiosk's real screens, and its printer got the ticket.
    assert "screen info -> issuing" in kiosk_log and "screen issuing -> confirm" in kiosk_log
    number = taken[0]["number"]
    assert number.encode() in (out / "tickets.bin").read_bytes()

    board = [json.loads(line) for line in (out / "board-calls.jsonl").read_text().splitlines()]
    shown = [c for c in board if c["ticket"] == number]
    assert shown, f"{number} never shown; the board showed {[c['ticket'] for c in board]}"
    shot = out / "screenshots/board" / shown[0]["screenshot"]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    bus = [json.loads(line) for line in (out / "calls.jsonl").read_text().splitlines()]
    assert {(c["seq"], c["ticket"]) for c in bus} >= {(c["seq"], c["ticket"]) for c in shown}
    followed = next(t for t in _json(out / "kiosk-tickets.json") if t["number"] == number)
    assert followed["server"]["status"] != "waiting" and followed["server"]["counter"] >= 1
    assert followed["server"]["counter"] == shown[0]["counter"]
    assert number in _json(out / "summary.json")["kiosk_tickets_on_board"]
    tally = [line for line in (out / "logs/simulate.log").read_text().splitlines()
             if line.startswith('{"simulated"')]
    assert tally and json.loads(tally[-1])["simulated"]["called"] > 0


def test_stats_show_issued_and_called(demo_run):
    """GIVEN the demo day WHEN the server's day stats are saved THEN issued and called > 0."""
    out, _, _ = demo_run
    stats = _json(out / "stats.json")
    assert "error" not in stats, stats
    called = sum(c["called"] for c in stats["counters"].values())
    assert stats["issued"] > 0 and called > 0
    summary = _json(out / "summary.json")
    assert (summary["issued"], summary["called"]) == (stats["issued"], called)


def test_screens_left_screenshots(demo_run):
    """GIVEN headless mode WHEN the demo ran THEN the board and the kiosk left PNG screenshots."""
    out, proc, _ = demo_run
    for role in ("board", "kiosk"):
        shots = list((out / "screenshots" / role).glob("*.png"))
        assert shots, f"no {role} screenshots; log: {(out / 'logs').iterdir()}"
        assert shots[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"



def test_ctrl_c_stops_every_component(tmp_path):
    """GIVEN a running demo WHEN the printed admin log-in is used on the dashboard
    THEN it logs in; WHEN the demo gets SIGINT (Ctrl-C) THEN it exits 0 within seconds and no
    process of the demo is left (server, screens, simulator: each had its own process group)."""
    import os
    import signal
    out = tmp_path / "demo"
    proc = subprocess.Popen([_lalopa(), "demo", "--headless", "--duration", "120", "--out", str(out)],
                            stdout=subprocess.PIPE, text=True, env=dict(os.environ, PYTHONUNBUFFERED="1"))
    try:
        deadline = time.monotonic() + 40
        printed = []
        for line in proc.stdout:
            printed.append(line)
            if line.startswith("berhenti / stop") or time.monotonic() > deadline:
                break
        url = next(l.split()[1] for l in printed if l.startswith("dashboard "))
        user, password = next(l.split()[1:4:2] for l in printed if l.startswith("log-in "))
        page = _log_in(url, user, password)
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0
    assert page.status_code == 200 and "/login" not in page.url
    summary = _json(out / "summary.json")
    assert summary["components"]["server"] is not None
    assert all(code is not None for code in summary["components"].values())
    leftovers = [p for p in Path("/proc").iterdir() if p.name.isdigit() and _cmdline_has(p, str(out))]
    assert leftovers == []


def _log_in(url: str, user: str, password: str):
    """Log in to the dashboard like a browser form post (CSRF token from the page)."""
    import re

    import requests
    with requests.Session() as web:
        form = web.get(url + "login", timeout=10).text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
        return web.post(url + "login", data={"username": user, "password": password,
                                             "csrf_token": csrf}, timeout=10)


def _cmdline_has(proc_dir: Path, text: str) -> bool:
    try:
        return text in (proc_dir / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return False
