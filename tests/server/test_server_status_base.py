"""The QR's base address is a site setting (the office may publish the status page on a
public address), validated, used in every issue answer, and checked by the doctor."""
from __future__ import annotations

import dataclasses
import http.server
import socket
import threading

import pytest

from broker import texts
from server.appliance import doctor
from server.config import parse_site
from server.errors import ConfigError

SITE = {"site_id": "x", "facility": "F", "timezone": "Asia/Jakarta",
        "services": [{"prefix": "A", "name_id": "Layanan", "name_en": "Service"}],
        "counters": [{"number": 1, "services": ["A"]}]}


@pytest.mark.parametrize("bad", ["ftp://antrean.example", "antrean.example.go.id",
                                 "https://x.example/?a=1", "https://x.example/#t", "https://" + "a" * 90])
def test_a_bad_base_address_is_refused_naming_the_key(bad):
    with pytest.raises(ConfigError) as exc:
        parse_site({**SITE, "status_base_url": bad}, "site.toml")
    assert "status_base_url" in str(exc.value)


def test_the_issue_answer_points_the_qr_at_the_public_address(app, client, tokens):
    svc = app.extensions["lalopa.queue"]
    r = client.post("/api/v1/tickets", json={"service": "A", "request_id": "r1"}, headers=tokens["kiosk"])
    assert r.get_json()["status_url"].startswith("http://localhost/t/")
    svc.site = dataclasses.replace(svc.site, status_base_url=parse_site(
        {**SITE, "status_base_url": "https://antrean.example.go.id/loket/"}).status_base_url)
    r = client.post("/api/v1/tickets", json={"service": "A", "request_id": "r2"}, headers=tokens["kiosk"])
    token = r.get_json()["ticket"]["token"]
    assert r.get_json()["status_url"] == f"https://antrean.example.go.id/loket/t/{token}"


class _Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path == "/healthz" else 404)
        self.end_headers()

    def log_message(self, *_):
        pass


def test_doctor_checks_the_base_address_answers():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        ok = doctor.check_status_base(f"http://127.0.0.1:{srv.server_port}", timeout=2)
    finally:
        srv.shutdown()
        srv.server_close()
    assert ok.level == doctor.OK
    with socket.socket() as s:   # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    bad = doctor.check_status_base(f"http://127.0.0.1:{port}", timeout=2)
    assert bad.level == doctor.FAIL and "status_base_url" in bad.id_text and "QR" in bad.en_text


def test_the_status_page_shows_the_range_and_follows_the_queue(app, client, tokens):
    """GIVEN a waiting ticket WHEN no counter serves A THEN the page says so; WHEN a counter
    opens THEN the page (refreshing itself) shows the range in minutes."""
    svc = app.extensions["lalopa.queue"]
    body = client.post("/api/v1/tickets", json={"service": "A", "request_id": "r1"},
                       headers=tokens["kiosk"]).get_json()
    client.post("/api/v1/tickets", json={"service": "A", "request_id": "r2"}, headers=tokens["kiosk"])
    token2 = svc.db.read().execute("SELECT token FROM tickets ORDER BY id DESC").fetchone()[0]
    page = client.get(f"/t/{token2}").get_data(as_text=True)
    assert "Belum ada loket yang melayani" in page and 'http-equiv="refresh"' in page
    svc.counter_action(1, "open", command_id="o1", device="panel-1")
    page = client.get(f"/t/{token2}").get_data(as_text=True)
    t = svc.ticket_by_token(token2)
    lo, hi = texts.wait_minutes(t["est_low_s"], t["est_high_s"])
    assert f"{lo}\u2013{hi} menit/min" in page and "Belum ada loket" not in page
    assert body["ticket"]["number"] == "A-001"
