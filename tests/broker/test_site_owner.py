"""One owner of the current site: an admin's edit reaches the bus side, and survives a restart.

The real ``lalopa server`` process with its bridge on a real Mosquitto, its real
admin page over HTTP (log-in, CSRF, the counters form), a real button-box bus
client. The site file's [hours] are left out so the day is open whenever the
test runs (the server's clock is the machine's).
"""
from __future__ import annotations

import http.cookiejar
import json
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from broker.bus import BusClient, free_port
from broker.protocol import BoardSnapshot, CallEvent, CounterCommand, CounterState, decode
from server.config import load_site
from server.devtools.mosquitto import wait_for

pytestmark = [pytest.mark.timeout(120), pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "server" / "sites" / "example.toml"
PASSWORD = "kata-sandi-admin-17"


def lalopa(*args: str) -> str:
    proc = subprocess.run([sys.executable, "-m", "broker.cli", *args], capture_output=True, text=True,
                          timeout=30, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


class Server:
    """``lalopa server`` as a process, started and stopped like systemd does."""

    def __init__(self, site: Path, db: Path, broker_port: int):
        self.site, self.db, self.broker_port = site, db, broker_port
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = None

    def start(self) -> "Server":
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "broker.cli", "server", "--site", str(self.site), "--db", str(self.db),
             "--port", str(self.port), "--mqtt-host", "127.0.0.1", "--mqtt-port", str(self.broker_port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=ROOT)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.proc.stderr.read()
            try:
                urllib.request.urlopen(self.url + "/healthz", timeout=2).close()
                return self
            except urllib.error.HTTPError:
                return self  # answering (unhealthy until the bus is up is still up)
            except OSError:
                time.sleep(0.2)
        raise AssertionError("lalopa server did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def add_counter_through_admin_page(url: str, site_file: Path) -> str:
    """Log in as the admin and submit the counters form with a new counter 17 serving A."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def post(path, fields):
        data = urllib.parse.urlencode(fields).encode()
        with opener.open(urllib.request.Request(url + path, data=data, method="POST"), timeout=10) as r:
            return r.read().decode()

    login_page = opener.open(url + "/login", timeout=10).read().decode()
    post("/login", {"username": "admin", "password": PASSWORD, "csrf_token": _csrf(login_page)})
    admin_page = opener.open(url + "/admin", timeout=10).read().decode()
    assert 'name="new_number"' in admin_page
    form = {"csrf_token": _csrf(admin_page), "new_number": "17", "new_name": "Loket 17",
            "new_services": "A"}
    for c in load_site(site_file).counters:
        form[f"name_{c.number}"] = c.name
        form[f"services_{c.number}"] = ", ".join(c.services)
    return post("/admin/counters", form)


def test_counter_added_in_admin_survives_restart_and_its_box_is_called(tmp_path, mosquitto, site_id):
    """GIVEN a running server whose site file has counters 1-16
    WHEN the admin adds counter 17 on the admin page, the server restarts, and box 17 presses
    THEN the press is applied (box 17 is called, not refused as unauthorised), the board
    snapshot lists counter 17, and the call event names it."""
    text = EXAMPLE.read_text().replace('site_id = "dinkes-claim"', f'site_id = "{site_id}"')
    text = re.sub(r"\[hours\].*?\n\n", "", text, count=1, flags=re.S)  # always open, whatever the hour
    site_file = tmp_path / "site.toml"
    site_file.write_text(text)
    assert 17 not in [c.number for c in load_site(site_file).counters]
    db = tmp_path / "queue.db"
    (tmp_path / "pw").write_text(PASSWORD)
    lalopa("user", "create-admin", "--db", str(db), "--password-file", str(tmp_path / "pw"))
    kiosk_token = lalopa("token", "add", "--device", "kiosk-1", "--role", "kiosk", "--db", str(db)).strip()

    states, boards, calls = {}, [], []
    box = BusClient(site=site_id, role="button", device="box-17", port=mosquitto.port)
    box.subscribe(box.topics.counter_state(17),
                  lambda m: m.payload and states.__setitem__(17, decode(CounterState, m.payload)))
    box.subscribe(box.topics.board, lambda m: m.payload and boards.append(decode(BoardSnapshot, m.payload)))
    box.subscribe(box.topics.call, lambda m: calls.append(decode(CallEvent, m.payload)))
    box.start()

    def board_has_17():
        return bool(boards) and 17 in [c.counter for c in boards[-1].counters]

    server = Server(site_file, db, mosquitto.port).start()
    try:
        assert wait_for(lambda: bool(boards), timeout=20, bus=box) and not board_has_17()
        page = add_counter_through_admin_page(server.url, site_file)
        assert "Loket 17" in page and "Invalid change" not in page
        # at once, not at the next periodic refresh: every device's view follows the edit
        assert wait_for(board_has_17, timeout=5, bus=box), "the edit did not reach the bus"
    finally:
        server.stop()
    wait_for(lambda: False, 0.3, bus=box)  # drain what the first run sent, then forget it
    states.clear(), boards.clear()

    server = Server(site_file, db, mosquitto.port).start()
    try:
        assert box.connected.wait(5)
        assert wait_for(lambda: 17 in states and board_has_17(), timeout=20, bus=box), \
            "the restarted server does not publish counter 17"
        req = urllib.request.Request(server.url + "/api/v1/tickets", method="POST",
                                     data=json.dumps({"service": "A", "request_id": "r-17"}).encode(),
                                     headers={"Authorization": f"Bearer {kiosk_token}",
                                              "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            number = json.load(resp)["ticket"]["number"]
        server_ms = int(time.time() * 1000)  # the server's clock is this machine's
        assert box.publish_command(CounterCommand(id="box17-press-1", counter=17, action="next",
                                                  device="box-17", sent_at_ms=server_ms)) is not None
        assert wait_for(lambda: states[17].last_command is not None
                        and states[17].last_command.id == "box17-press-1", timeout=15, bus=box)
        last = states[17].last_command
        assert (last.ok, last.code) == (True, None), f"box 17's press was refused: {last.code}"
        assert wait_for(lambda: any(c.counter == 17 for c in calls), timeout=10, bus=box)
        call = next(c for c in calls if c.counter == 17)
        assert (call.ticket, call.counter_name) == (number, "Loket 17")
    finally:
        server.stop()
        for topic in (box.topics.board, *(box.topics.counter_state(n) for n in range(1, 18)),
                      box.topics.summary):
            box.clear_retained(topic)
        box.stop()
