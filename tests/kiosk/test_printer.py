"""The print worker through the network path to a real TCP socket, and status."""
import queue

from escpos.constants import RT_STATUS_ONLINE, RT_STATUS_PAPER

from broker.bus import free_port
from kiosk.config import PrinterConf
from kiosk.printer import PrintJob, PrintWorker, decode_status
from kiosk.ticket import TicketData, render_ticket

OFFLINE, PAPER_LOW, PAPER_OUT = b"\x1a", b"\x1e", b"\x72"   # DLE EOT reply bytes
STATUS = RT_STATUS_ONLINE + RT_STATUS_PAPER                     # one status round

TICKET = TicketData(facility="Dinas Kesehatan Kota", number="A-001", service_name="Verifikasi Klaim",
                    issued_at="2026-11-23T08:00:05+07:00", people_ahead=0, est_wait_s=0,
                    status_url="http://127.0.0.1:8080/t/tok1", tz_label="WIB")


def _worker(port, statuses=None, timeout_s=3.0, **kw):
    conf = PrinterConf(backend="network", host="127.0.0.1", port=port, timeout_s=timeout_s,
                       poll_s=60, **kw)
    w = PrintWorker(conf, on_status=(lambda s, d: statuses.put(s)) if statuses is not None else None)
    w.start()
    return w


def test_decode_status_bytes():
    """GIVEN DLE EOT replies WHEN decoded THEN each maps to its PrinterStatus; silence is unknown."""
    assert decode_status(b"\x12", b"\x12") == "ok"
    assert decode_status(b"\x12", PAPER_LOW) == "paper_low"
    assert decode_status(b"\x12", PAPER_OUT) == "paper_out"
    assert decode_status(OFFLINE, b"\x12") == "offline"
    assert decode_status(b"", b"") == "unknown"


def test_network_print_sends_exact_bytes(netprinter):
    """GIVEN a printer on a real TCP socket WHEN a ticket is printed
    THEN that connection carries the two status queries, exactly the ticket bytes, and the
    two queries again that confirm the job on the same connection."""
    w = _worker(netprinter.port)
    try:
        w.submit(PrintJob("t1", TICKET))
        res = w.results.get(timeout=5)
    finally:
        w.stop()
    assert (res.ok, res.status, res.confirmed) == (True, "ok", True)
    printed = [bytes(c) for c in netprinter.connections if len(c) > 100]
    assert printed == [STATUS + render_ticket(TICKET, 58) + STATUS]


def test_paper_out_fails_without_printing_then_reprint(netprinter):
    """GIVEN a printer reporting paper out WHEN printing THEN the job fails as paper_out and no
    ticket bytes are sent; WHEN paper is loaded and the same job resubmitted THEN it prints."""
    statuses = queue.Queue()
    netprinter.paper = PAPER_OUT
    w = _worker(netprinter.port, statuses)
    try:
        assert statuses.get(timeout=5) == "paper_out"      # the start-up poll already knows
        w.submit(PrintJob("t1", TICKET))
        res = w.results.get(timeout=5)
        assert (res.ok, res.status) == (False, "paper_out")
        assert all(len(c) <= 6 for c in netprinter.connections)
        netprinter.paper = b"\x12"
        w.submit(PrintJob("t1", TICKET))
        res = w.results.get(timeout=5)
        assert res.ok and statuses.get(timeout=5) == "ok"
    finally:
        w.stop()
    assert sum(1 for c in netprinter.connections if len(c) > 100) == 1


def test_offline_printer_fails_fast():
    """GIVEN nothing listening on the printer port WHEN printing THEN the job fails as offline quickly."""
    statuses = queue.Queue()
    w = _worker(free_port(), statuses)
    try:
        assert statuses.get(timeout=5) == "offline"
        w.submit(PrintJob("t9", TICKET))
        res = w.results.get(timeout=5)
    finally:
        w.stop()
    assert (res.ok, res.status, res.job_id) == (False, "offline", "t9")


def test_silent_printer_is_unknown_and_still_prints(make_netprinter):
    """GIVEN a printer that ignores DLE EOT WHEN polled THEN status is unknown (never "ok");
    WHEN tickets are printed THEN they are still sent and count as printed (unconfirmed), and
    after three silent queries (start-up poll, the first ticket's check and its confirmation)
    the worker stops asking, so later tickets carry no query (and no timeout) around them."""
    silent = make_netprinter(answer=False)
    w = _worker(silent.port, timeout_s=0.3)
    try:
        results = []
        for job in ("t2", "t3", "t4"):
            w.submit(PrintJob(job, TICKET))
            results.append(w.results.get(timeout=8))
    finally:
        w.stop()
    assert all(r.ok and r.status == "unknown" and not r.confirmed for r in results)
    assert w.status == "unknown"
    ticket = render_ticket(TICKET, 58)
    printed = [bytes(c) for c in silent.connections if len(c) > 100]
    # silence costs one query each time: the online query times out, the paper query is never sent
    assert printed == [RT_STATUS_ONLINE + ticket + RT_STATUS_ONLINE, ticket, ticket]


def test_file_backend_writes_ticket(tmp_path):
    """GIVEN the file backend WHEN printing THEN the file holds the ticket bytes to replay later."""
    path = tmp_path / "tickets.bin"
    w = PrintWorker(PrinterConf(backend="file", path=str(path), paper=80, poll_s=60))
    w.start()
    try:
        w.submit(PrintJob("t3", TICKET))
        res = w.results.get(timeout=5)
    finally:
        w.stop()
    assert res.ok and res.status == "unknown"
    assert path.read_bytes() == render_ticket(TICKET, 80)
