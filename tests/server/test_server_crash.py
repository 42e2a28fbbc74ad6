"""SIGKILL the real server mid-stream: acknowledged work survives, nothing is applied twice."""
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time

import pytest
import requests

from server import devices
from server.db import Database

SITE = """
site_id = "crash-test"
facility = "Test"
timezone = "Asia/Jakarta"
[[services]]
prefix = "A"
name_id = "Verifikasi"
name_en = "Verification"
[[counters]]
number = 1
services = ["A"]
[[counters]]
number = 2
services = ["A"]
"""
RUN = "import sys; from server.cli import server_main; sys.exit(server_main(sys.argv[1:]))"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(db, site, port):
    proc = subprocess.Popen([sys.executable, "-c", RUN, "--site", str(site), "--db", str(db),
                             "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "LALOPA_KIOSK_RATE_PER_MIN": "0"})
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=0.5).ok:
                return proc
        except requests.ConnectionError:
            time.sleep(0.05)
    proc.kill()
    pytest.fail("server did not start")


class Client(threading.Thread):
    """Streams issue and call requests; records acknowledged results and the one in flight."""

    def __init__(self, base, headers):
        super().__init__(daemon=True)
        self.base, self.headers = base, headers
        self.acked: list[tuple[str, dict, dict]] = []  # (url, body, response json)
        self.in_flight = None

    def send(self, url, body):
        r = requests.post(self.base + url, json=body, headers=self.headers[url], timeout=5)
        return r.status_code, r.json()

    def run(self):
        for i in range(100_000):
            url, body = ("/api/v1/tickets", {"service": "A", "request_id": f"r{i}"})
            if i % 3 == 2:
                url = "/api/v1/counters/1/actions" if i % 2 else "/api/v1/counters/2/actions"
                body = {"action": "next", "command_id": f"c{i}"}
            self.in_flight = (url, body)
            try:
                status, data = self.send(url, body)
            except requests.RequestException:
                return
            if status < 300:
                self.acked.append((url, body, data))
            self.in_flight = None


@pytest.mark.slow
def test_sigkill_mid_stream(tmp_path):
    site, db = tmp_path / "site.toml", tmp_path / "crash.db"
    site.write_text(SITE)
    database = Database(db)
    kiosk = database.write(lambda c: devices.add(c, "kiosk-1", "kiosk", 0))
    panel = database.write(lambda c: devices.add(c, "panel-1", "panel", 0))
    database.close()
    headers = {"/api/v1/tickets": {"Authorization": f"Bearer {kiosk}"}}
    for n in (1, 2):
        headers[f"/api/v1/counters/{n}/actions"] = {"Authorization": f"Bearer {panel}"}
    port = free_port()
    proc = start(db, site, port)
    client = Client(f"http://127.0.0.1:{port}", headers)
    client.start()
    while len(client.acked) < 60:
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    client.join(10)
    assert len(client.acked) >= 60

    proc = start(db, site, port)
    try:
        retry = Client(f"http://127.0.0.1:{port}", headers)
        if client.in_flight:  # the unacknowledged request, re-sent with the same id
            status, _ = retry.send(*client.in_flight)
            assert status < 300 or status == 409
        for url, body, first in client.acked:  # acknowledged ones are all duplicates now
            status, again = retry.send(url, body)
            assert status == 200 and again["duplicate"] is True, again
            assert again.get("ticket") == first.get("ticket") and again.get("call") == first.get("call")
        for url, _, data in client.acked:
            if url == "/api/v1/tickets":
                token = data["ticket"]["token"]
                r = requests.get(f"http://127.0.0.1:{port}/api/v1/tickets/{token}", timeout=5)
                assert r.json()["number"] == data["ticket"]["number"]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)

    conn = sqlite3.connect(db)
    numbers = [r[0] for r in conn.execute("SELECT seq FROM tickets ORDER BY seq")]
    assert numbers == list(range(1, len(numbers) + 1))  # no number reused or skipped
    calls = conn.execute("SELECT ticket_id, COUNT(*) FROM calls GROUP BY ticket_id HAVING COUNT(*) > 1")
    assert calls.fetchall() == []  # no ticket called twice
    acked_calls = {d["call"]["seq"] for u, _, d in client.acked if d.get("call")}
    stored = {r[0] for r in conn.execute("SELECT seq FROM calls")}
    assert acked_calls <= stored and len(stored) - len(acked_calls) <= 1
    command_ids = conn.execute("SELECT COUNT(*) FROM idempotency WHERE kind = 'counter'").fetchone()[0]
    assert command_ids >= len(stored)
    conn.close()
