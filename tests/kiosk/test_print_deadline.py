"""Every print job ends, and the resident always leaves with a number on screen.

Two ways a job used to never end: an exception the print thread did not expect
(the thread died, no result ever came) and a write that blocks forever (a
``/dev/usb/lp0`` whose printer stopped taking bytes; here a real FIFO nobody
reads, whose ``open`` for writing blocks like that device's ``write``).
"""
from __future__ import annotations

import os
import stat

import pytest

from kiosk.config import PrinterConf
from kiosk.printer import PrintJob, PrintWorker, job_deadline_s
from kiosk.ticket import TicketData
from kiosk_helpers import at_home, finger, pump

GOOD = TicketData(facility="Dinas Kesehatan Kota", number="A-007", service_name="Verifikasi Klaim",
                  issued_at="2026-11-23T09:10:00+07:00", people_ahead=2, est_wait_s=600,
                  status_url="http://127.0.0.1:8080/t/tok7", tz_label="WIB")


def test_an_unexpected_exception_fails_the_job_and_the_worker_lives_on(tmp_path):
    """GIVEN a job whose printing raises an exception nobody planned for (here a TypeError
    from data of the wrong type) WHEN it is printed THEN it ends as failed with status unknown,
    and the next job still prints on the same worker."""
    out = tmp_path / "ticket.bin"
    worker = PrintWorker(PrinterConf(backend="file", path=str(out), poll_s=60))
    worker.start()
    try:
        bad = TicketData(**{**GOOD.__dict__, "requirements": 5})
        worker.submit(PrintJob("bad", bad))
        res = worker.results.get(timeout=5)
        assert (res.job_id, res.ok, res.status) == ("bad", False, "unknown")
        assert "TypeError" in res.detail
        worker.submit(PrintJob("good", GOOD))
        res = worker.results.get(timeout=5)
        assert (res.job_id, res.ok) == ("good", True)
        assert b"A-007" in out.read_bytes()
    finally:
        worker.stop()


def test_deadline_covers_every_timed_step_of_a_healthy_job():
    """The deadline is longer than a job that takes the full timeout at every step."""
    net = PrinterConf(backend="network", host="127.0.0.1", port=9100, timeout_s=3.0)
    usb = PrinterConf(backend="usb", usb_timeout_ms=5000)
    assert job_deadline_s(net) > 6 * 3.0
    assert job_deadline_s(usb) > 6 * 5.0


@pytest.fixture
def fifo(tmp_path):
    """A FIFO nobody reads: opening it for writing blocks until a reader comes."""
    path = tmp_path / "lp0"
    os.mkfifo(path)
    yield path
    # Release the stuck print thread: a reader lets its open() return; the bytes are drained
    # and the read end closed, so its write ends too (with a broken pipe, which it reports).
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        while True:
            try:
                if not os.read(fd, 65536):
                    break
            except BlockingIOError:
                break
    finally:
        os.close(fd)


def test_a_printer_that_blocks_forever_ends_in_unknown_and_done_works(real_server, make_kiosk, fifo):
    """GIVEN a kiosk whose printer device blocks forever WHEN a resident takes a number
    THEN the confirm screen shows the number while "printing" (Done disabled); WHEN the job's
    deadline passes THEN the print state is "unknown", the number is still on screen, Done
    is enabled and takes the kiosk home; the printer's reported status says the job did not end.
    WHEN the next resident takes a number THEN it is "unknown" at once, with no job queued."""
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    printer = PrintWorker(PrinterConf(backend="file", path=str(fifo), poll_s=60))
    # The worker's first act is a status poll, which opens the device: it blocks already.
    app = make_kiosk(real_server.url, real_server.token, printer=printer)
    pump(app, lambda: at_home(app))
    finger(app, "service", "A")
    finger(app, "take", "A")
    pump(app, lambda: app.screen == "confirm" and app.print_state == "printing")
    number = app.ticket["ticket"]["number"]
    assert not app.button("done").enabled
    assert app.next_timeout() <= printer.deadline_s + 0.02
    app.clock.t += printer.deadline_s + 0.1
    app.step()
    assert (app.screen, app.print_state) == ("confirm", "unknown")
    assert app.ticket["ticket"]["number"] == number
    # What the supervisor's dashboard is told (retained on the bus when there is one).
    assert (app.printer_status.status, app.printer_status.detail) == (
        "unknown", "print job did not end in time")
    assert app.button("done").enabled
    finger(app, "done")
    assert app.screen == "home"
    # The next resident does not wait for a printer known to be stuck: no job is queued
    # behind the stuck one (it would print long after they left), the state is unknown
    # at once, and the number is on screen.
    queued = printer.jobs.qsize()
    finger(app, "service", "A")
    finger(app, "take", "A")
    pump(app, lambda: app.screen == "confirm" and app.ticket["ticket"]["number"] != number)
    assert app.print_state == "unknown" and app.button("done").enabled
    assert printer.jobs.qsize() == queued
