"""A job is confirmed by DLE EOT on the same connection after the ticket bytes: a real
port-9100 printer on 127.0.0.1 that is healthy for the check before the job and then,
once the job has arrived, stays silent, closes the connection or reports paper out."""
from __future__ import annotations

import queue

import pytest
from escpos.constants import RT_STATUS_ONLINE, RT_STATUS_PAPER

from kiosk.config import PrinterConf
from kiosk.printer import PrintJob, PrintWorker
from kiosk.ticket import TicketData, render_ticket
from kiosk_helpers import LoopbackPrinter

ONLINE, PAPER_OK, PAPER_OUT = b"\x12", b"\x12", b"\x72"
STATUS = RT_STATUS_ONLINE + RT_STATUS_PAPER
TICKET = TicketData(facility="Dinas Kesehatan Kota", number="B-007", service_name="Legalisir",
                    issued_at="2026-11-23T09:10:00+07:00", people_ahead=2, est_wait_s=600,
                    status_url="http://127.0.0.1:8080/t/tok7", tz_label="WIB")


class AfterJobPrinter(LoopbackPrinter):
    """Answers DLE EOT like a healthy printer until a connection has carried a job; after
    that it does what ``then`` says: "answer" (healthy), "silent" (ignores the query),
    "close" (closes the connection instead of answering) or "paper_out"."""

    def __init__(self, then: str):
        self.then = then
        super().__init__()

    def respond(self, conn, data, ctx):
        after_job = len(data) > len(STATUS)   # more than the check before the job
        mode = self.then if after_job else "answer"
        if not data.endswith((RT_STATUS_ONLINE, RT_STATUS_PAPER)) or mode == "silent":
            return True
        if mode == "close":
            return False   # nothing unread is left, so this is a clean close (FIN)
        paper = PAPER_OUT if mode == "paper_out" else PAPER_OK
        conn.sendall(ONLINE if data.endswith(RT_STATUS_ONLINE) else paper)
        return True


@pytest.fixture
def printer_then():
    made = []

    def make(then):
        made.append(AfterJobPrinter(then))
        return made[-1]
    yield make
    for p in made:
        p.close()


def _print(port, timeout_s=3.0):
    statuses: queue.Queue = queue.Queue()
    w = PrintWorker(PrinterConf(backend="network", host="127.0.0.1", port=port,
                                timeout_s=timeout_s, poll_s=60),
                    on_status=lambda s, d: statuses.put(s))
    w.start()
    try:
        assert statuses.get(timeout=5) == "ok"          # the start-up poll was answered
        w.submit(PrintJob("b7", TICKET))
        res = w.results.get(timeout=8)
    finally:
        w.stop()
    return res, w, [statuses.get_nowait() for _ in range(statuses.qsize())]


def test_printer_silent_after_job_counts_as_printed_but_unconfirmed(printer_then):
    """GIVEN a printer that answered the check before the job WHEN it ignores the query after
    the job THEN the job counts as printed (no false failure, no reprint prompt), is marked
    unconfirmed, and the printer status becomes "unknown" (never "ok")."""
    printer = printer_then("silent")
    res, w, statuses = _print(printer.port, timeout_s=0.3)
    assert (res.ok, res.status, res.confirmed) == (True, "unknown", False)
    assert w.status == "unknown" and statuses == ["unknown"]
    printed = [bytes(c) for c in printer.connections if len(c) > 100]
    # the paper query is never sent once the online query timed out
    assert printed == [STATUS + render_ticket(TICKET, 58) + RT_STATUS_ONLINE]


def test_printer_closing_connection_after_job_fails_it_and_reprint_prints(printer_then):
    """GIVEN a printer that closes the connection instead of answering after the job
    WHEN the job is printed THEN it fails as offline (the bytes may never have left our
    buffer); WHEN the printer is healthy again and the same job is resubmitted THEN it is
    confirmed, and the printer got the same ticket bytes both times."""
    printer = printer_then("close")
    res, w, statuses = _print(printer.port)
    assert (res.ok, res.status, res.job_id) == (False, "offline", "b7")
    assert "not confirmed" in res.detail and statuses == ["offline"]
    printer.then = "answer"
    res, w, _ = _print(printer.port)
    assert (res.ok, res.status, res.confirmed) == (True, "ok", True)
    ticket = render_ticket(TICKET, 58)
    printed = [bytes(c) for c in printer.connections if len(c) > 100]
    assert printed == [STATUS + ticket + RT_STATUS_ONLINE, STATUS + ticket + STATUS]


def test_paper_out_reported_after_job_fails_it(printer_then):
    """GIVEN a printer whose roll ends during the ticket WHEN it answers the query after the
    job with paper out THEN the job fails as paper_out, so the kiosk offers a reprint."""
    printer = printer_then("paper_out")
    res, w, statuses = _print(printer.port)
    assert (res.ok, res.status) == (False, "paper_out") and statuses == ["paper_out"]
    printed = [bytes(c) for c in printer.connections if len(c) > 100]
    assert printed == [STATUS + render_ticket(TICKET, 58) + STATUS]
