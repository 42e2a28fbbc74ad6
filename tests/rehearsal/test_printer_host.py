"""The rehearsal's port-9100 printer host, driven by the kiosk's real network printer path."""
from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from escpos_decode import PrinterState
from kiosk.config import PrinterConf
from kiosk.printer import PrintJob, PrintWorker
from kiosk.ticket import TicketData
from printer_host import PrinterHost, read_log

pytestmark = pytest.mark.timeout(40)
HERE = Path(__file__).resolve().parent
GOLDEN = HERE.parent / "kiosk" / "golden" / "ticket_58.bin"
TICKET = TicketData(
    facility="Dinas Kesehatan Kota", number="A-015", service_name="Verifikasi Klaim",
    issued_at="2026-11-23T08:50:00+07:00", people_ahead=2, est_wait_s=300,
    status_url="http://192.0.2.10:8080/t/zz15", requirements=("KK asli dan fotokopi",
                                                                "E-KTP asli dan fotokopi"),
    whatsapp="+62 812-3456-7890", priority=None, tz_label="WIB")


@pytest.fixture
def host(tmp_path):
    made = []

    def make(**state) -> PrinterHost:
        h = PrinterHost(tmp_path / f"jobs-{len(made)}.jsonl", port=0,
                        state=PrinterState(**state), state_file=tmp_path / "state.json").start()
        made.append(h)
        return h
    yield make
    for h in made:
        h.close()


def _print(port: int, ticket: TicketData = TICKET):
    """One job through the kiosk's own PrintWorker on a network printer at 127.0.0.1."""
    worker = PrintWorker(PrinterConf(backend="network", host="127.0.0.1", port=port,
                                     timeout_s=2.0, poll_s=60))
    worker.start()
    try:
        worker.submit(PrintJob("ticket-15", ticket))
        return worker.results.get(timeout=15)
    finally:
        worker.stop()


def _wait_log(h: PrinterHost, kind: str, n: int = 1) -> list[dict]:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        found = [r for r in read_log(h.log) if r["kind"] == kind]
        if len(found) >= n:
            return found
        time.sleep(0.02)
    raise AssertionError(f"no {kind} in {read_log(h.log)}")


def test_kiosk_network_job_is_confirmed_and_decoded(host):
    """GIVEN the printer host on 127.0.0.1 with paper
    WHEN the kiosk's PrintWorker prints a ticket over TCP
    THEN the kiosk counts it printed AND confirmed by the status query after the job, and
    the log has one job: number, service, requirements and the QR payload decoded, with
    the status queries before and after the ticket and no unknown command."""
    h = host()
    result = _print(h.port)
    assert (result.ok, result.status, result.confirmed) == (True, "ok", True)
    job, = _wait_log(h, "job")
    receipt, = job["receipts"]
    assert job["unknown"] == [] and job["ended_by"] == "peer closed"
    number = next(line for line in receipt["lines"] if line["text"] == "A-015")
    assert number["bold"] and number["width"] == 4
    assert "[ ] KK asli dan fotokopi" in receipt["text"]
    assert "[ ] E-KTP asli dan fotokopi" in receipt["text"]
    assert receipt["qr"] == ["http://192.0.2.10:8080/t/zz15"]
    asked = [q["command"] for q in job["status_queries"]]
    assert asked == ["DLE EOT 1", "DLE EOT 4", "DLE EOT 1", "DLE EOT 4"]


def test_paper_low_then_out_reaches_the_kiosk(host, tmp_path):
    """GIVEN a printer whose paper runs low and then out (its state file changes)
    WHEN the kiosk prints THEN the first job prints with status paper_low, and the second
    is refused as paper_out before any ticket byte is sent (nothing printed)."""
    h = host(paper="low")
    low = _print(h.port)
    assert (low.ok, low.status) == (True, "paper_low")
    (tmp_path / "state.json").write_text(json.dumps({"paper": "out"}))
    out = _print(h.port)
    assert (out.ok, out.status) == (False, "paper_out")
    assert len(_wait_log(h, "job")) == 1
    refused = [r for r in read_log(h.log) if r["printer"]["paper"] == "out"]
    assert refused and all(r["kind"] == "status" for r in refused)


def test_command_line_host_logs_the_golden_ticket(tmp_path):
    """GIVEN `python printer_host.py --port 0` as its own process
    WHEN the golden ticket's bytes and a status query arrive on one connection
    THEN the query is answered at once and, after close, the log line holds the receipt."""
    log = tmp_path / "jobs.jsonl"
    proc = subprocess.Popen([sys.executable, str(HERE / "printer_host.py"), "--port", "0",
                             "--log", str(log), "--paper", "low"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        first = proc.stdout.readline()
        assert "listening on 127.0.0.1:" in first, first
        port = int(first.split("127.0.0.1:")[1].split(",")[0])
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(GOLDEN.read_bytes() + b"\x10\x04\x04")
            assert s.recv(1) == b"\x1e"
        deadline = time.monotonic() + 5
        while not read_log(log) and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        proc.terminate()
        proc.wait(5)
    record, = read_log(log)
    assert record["kind"] == "job" and record["bytes"] == GOLDEN.stat().st_size + 3
    assert record["receipts"][0]["qr"] == ["http://127.0.0.1:8080/t/abc123"]
