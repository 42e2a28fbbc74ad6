"""The thermal printer: backends from configuration and the one worker thread
that owns the device.

Nothing here runs on the UI thread. The app submits a :class:`PrintJob` (keyed
by ticket id, so a reprint is the same job) and reads :class:`PrintResult` from
``worker.results``. Status is polled with ``DLE EOT`` where the printer can
answer; an empty reply is "unknown", never "paper ok" (as escpos 3.1 reads it), and
every status change is reported through ``on_status`` (the app publishes it
retained on the bus for the supervisor).

A job is confirmed by asking ``DLE EOT`` again on the same connection after the
ticket bytes: a successful write only means the bytes reached our socket
buffer, so a printer switched off mid-ticket would otherwise count as printed.
An answer confirms the job (or fails it: paper out, offline); a closed or reset
connection fails it, so the kiosk offers a reprint; no answer leaves it
unconfirmed: printed, with status "unknown".

Every job ends in printed, failed or unknown, and within :func:`job_deadline_s`:
the worker turns any exception into a failed result and carries on, and the app
stops waiting when the deadline passes (a write to ``/dev/usb/lp0`` or a
network peer that stops reading blocks the worker thread, and no timeout of
ours can interrupt a blocking ``write``), so the resident never faces a
"printing" screen that does not end.
"""
from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass

from escpos.constants import (RT_MASK_LOWPAPER, RT_MASK_NOPAPER, RT_MASK_ONLINE,
                              RT_STATUS_ONLINE, RT_STATUS_PAPER)
from escpos.printer import Dummy

from .config import PrinterConf
from .ticket import TicketData, render_ticket

log = logging.getLogger(__name__)

QUERYABLE = ("network", "usb", "serial")
SILENT_LIMIT = 3   # consecutive unanswered status queries before we stop asking
# A healthy job makes at most seven timed steps (connect, two status queries,
# the write, two confirming queries, close), each bounded by the backend's
# timeout: past that many, plus slack for a slow ticket render, the job is stuck.
JOB_STEPS = 7
JOB_SLACK_S = 5.0


def job_deadline_s(conf: PrinterConf) -> float:
    """Seconds after which a job that has not ended is reported as "unknown"."""
    step_s = conf.usb_timeout_ms / 1000 if conf.backend == "usb" else conf.timeout_s
    return JOB_STEPS * step_s + JOB_SLACK_S


class KioskPrinterError(OSError):
    """The printer could not print; ``status`` says why (offline, paper_out)."""

    def __init__(self, status: str, detail: str = ""):
        super().__init__(detail or status)
        self.status = status


@dataclass(frozen=True)
class PrintJob:
    job_id: str          # the ticket id: a reprint reuses it
    ticket: TicketData


@dataclass(frozen=True)
class PrintResult:
    job_id: str
    ok: bool
    status: str          # ok | paper_low | paper_out | offline | unknown
    detail: str = ""
    confirmed: bool = False   # the printer answered DLE EOT after the job


def open_device(conf: PrinterConf):
    """Build the escpos printer object for ``conf.backend`` (not yet used)."""
    profile = conf.profile_name
    if conf.backend == "dummy":
        return Dummy(profile=profile)
    if conf.backend == "file":
        from escpos.printer import File
        return File(conf.path or conf.devfile, profile=profile)
    if conf.backend == "network":
        from escpos.printer import Network
        return Network(conf.host, port=conf.port, timeout=conf.timeout_s, profile=profile)
    if conf.backend == "usb":
        from escpos.printer import Usb  # needs pyusb + libusb-1.0-0 (else NoBackendError)
        return Usb(conf.vendor_id, conf.product_id, timeout=conf.usb_timeout_ms,
                   in_ep=conf.in_ep, out_ep=conf.out_ep, profile=profile)
    if conf.backend == "serial":
        from escpos.printer import Serial
        return Serial(conf.devfile, baudrate=conf.baudrate, timeout=conf.timeout_s, profile=profile)
    raise ValueError(f"no printer device for backend {conf.backend!r}")


def decode_status(online_reply: bytes, paper_reply: bytes) -> str:
    """Map the two DLE EOT replies to a PrinterStatus value."""
    if not online_reply or not paper_reply:
        return "unknown"
    if online_reply[0] & RT_MASK_ONLINE:
        return "offline"
    paper = paper_reply[0]
    if paper & RT_MASK_NOPAPER == RT_MASK_NOPAPER:
        return "paper_out"
    if paper & RT_MASK_LOWPAPER == RT_MASK_LOWPAPER:
        return "paper_low"
    return "ok"


def _ask(device, query: bytes, eof_is_closed: bool) -> bytes:
    device._raw(query)
    reply = bytes(device._read() or b"")
    if not reply and eof_is_closed:
        # recv() on a TCP socket returns b"" only when the printer closed the connection
        raise ConnectionResetError("printer closed the connection")
    return reply


def query_status(device, eof_is_closed: bool = False) -> str:
    """Ask the printer (bidirectional links only); no answer is "unknown".

    The two queries are sent here rather than through escpos' ``is_online()`` /
    ``paper_status()``, which in 3.1 read an empty reply as offline / paper ok:
    the reply of a printer that never answers. With ``eof_is_closed`` (TCP, where silence is a timeout and an
    empty read is the peer closing) an empty read raises ConnectionResetError; a
    reset or any other link error is raised too, so callers can tell "silent" from "gone".
    """
    try:
        online = _ask(device, RT_STATUS_ONLINE, eof_is_closed)
        paper = _ask(device, RT_STATUS_PAPER, eof_is_closed)
    except Exception as exc:
        # socket.timeout / usb.core.USBTimeoutError: the printer stayed silent
        if isinstance(exc, TimeoutError) or "Timeout" in type(exc).__name__:
            return "unknown"
        raise
    return decode_status(online, paper)


class PrintWorker(threading.Thread):
    """The only owner of the printer: prints jobs and polls status in turn.

    Example::

        worker = PrintWorker(conf, on_status=publish)
        worker.start()
        worker.submit(PrintJob("t-42", ticket_data))
        result = worker.results.get()
    """

    def __init__(self, conf: PrinterConf, on_status=None, wake=None):
        super().__init__(name="kiosk-printer", daemon=True)
        self.conf = conf
        self.on_status = on_status
        self.wake = wake
        self.jobs: queue.Queue = queue.Queue()
        self.results: queue.Queue = queue.Queue()
        self.status = "unknown"
        self.device = None
        self.deadline_s = job_deadline_s(conf)
        self._answers = conf.backend in QUERYABLE   # False once it stayed silent SILENT_LIMIT times
        self._silences = 0
        self._halt = threading.Event()

    # -- called from the UI thread -------------------------------------------

    def submit(self, job: PrintJob) -> None:
        self.jobs.put(job)

    def stop(self, timeout: float = 3.0) -> None:
        self._halt.set()
        self.jobs.put(None)
        self.join(timeout)

    # -- the worker thread ---------------------------------------------------

    def run(self) -> None:
        self._poll()
        while not self._halt.is_set():
            try:
                job = self.jobs.get(timeout=self.conf.poll_s)
            except queue.Empty:
                self._poll()
                continue
            if job is None:
                break
            try:
                result = self._print(job)
            except Exception as exc:  # a bug or a driver surprise: the job fails, the worker lives
                log.exception("print job %s failed unexpectedly", job.job_id)
                self._close()
                self._set_status("unknown", f"print failed: {exc!r}")
                result = PrintResult(job.job_id, False, "unknown", f"unexpected error: {exc!r}")
            self.results.put(result)
            if self.wake:
                self.wake()
        self._close()

    def _set_status(self, status: str, detail: str = "") -> None:
        if status != self.status:
            log.info("printer status %s -> %s %s", self.status, status, detail)
            self.status = status
            if self.on_status:
                try:
                    self.on_status(status, detail)
                except Exception:  # publishing must never kill the printer thread
                    log.exception("printer status hook failed")

    def _ensure_open(self):
        if self.device is None:
            device = open_device(self.conf)
            if self.conf.backend in ("network", "usb", "serial", "file"):
                device.open()   # open now: escpos opens lazily and fails late, on the first job
            self.device = device
        return self.device

    def _close(self) -> None:
        if self.device is not None and self.conf.backend != "dummy":
            try:
                self.device.close()
            except Exception:  # already broken: nothing left to release
                log.debug("closing printer failed", exc_info=True)
            self.device = None

    def _check(self) -> str:
        """Status now; opens the device, raises KioskPrinterError when unreachable."""
        try:
            device = self._ensure_open()
        except Exception as exc:
            self._close()
            raise KioskPrinterError("offline", f"cannot open printer: {exc}") from exc
        if not self._answers:
            return "ok" if self.conf.backend == "dummy" else "unknown"
        try:
            return self._query(device)
        except Exception as exc:
            self._close()
            raise KioskPrinterError("offline", f"status query failed: {exc}") from exc

    def _query(self, device) -> str:
        """One DLE EOT round; counts silences. Link errors propagate to the caller."""
        status = query_status(device, eof_is_closed=self.conf.backend == "network")
        # a printer that never answers DLE EOT must not cost a timeout on every ticket,
        # but one slow reply is not enough to stop asking
        self._silences = self._silences + 1 if status == "unknown" else 0
        if self._silences >= SILENT_LIMIT:
            log.info("printer does not answer status queries; status stays unknown")
            self._answers = False
        return status

    def _confirm(self, before: str) -> tuple[str, bool]:
        """After the job, on the same connection: (status, confirmed).

        Raises KioskPrinterError when the job is lost for certain: the connection was
        closed or reset (the bytes may never have left our socket buffer), or the
        printer answers paper out / offline (it stopped mid-ticket). No answer is not
        an error: the job is unconfirmed and the status "unknown"."""
        if not self._answers:
            return before, False
        try:
            status = self._query(self.device)
        except Exception as exc:
            self._close()
            raise KioskPrinterError("offline", f"job not confirmed, printer gone: {exc}") from exc
        if status in ("paper_out", "offline"):
            raise KioskPrinterError(status, f"printer reports {status} after the job")
        if status == "unknown":
            log.warning("printer did not answer after the job; counted as printed, unconfirmed")
        return status, status != "unknown"

    def _poll(self) -> None:
        try:
            status = self._check()
        except KioskPrinterError as exc:
            status = exc.status
            self._set_status(status, str(exc))
        except Exception as exc:  # never let a status poll end the worker
            log.exception("printer status poll failed unexpectedly")
            self._close()
            self._set_status("unknown", f"status poll failed: {exc!r}")
        else:
            self._set_status(status)
        if self.conf.backend == "network":
            self._close()   # one short connection per operation; printers restart

    def _print(self, job: PrintJob) -> PrintResult:
        try:
            status = self._check()
            if status in ("paper_out", "offline"):
                raise KioskPrinterError(status, f"printer reports {status}")
            data = render_ticket(job.ticket, self.conf.paper, self.conf.profile_name)
            try:
                self.device._raw(data)
                if hasattr(self.device, "flush"):
                    self.device.flush()
            except Exception as exc:
                self._close()
                raise KioskPrinterError("offline", f"write failed: {exc}") from exc
            status, confirmed = self._confirm(status)
        except KioskPrinterError as exc:
            self._set_status(exc.status, str(exc))
            return PrintResult(job.job_id, False, exc.status, str(exc))
        finally:
            if self.conf.backend == "network":
                self._close()
        self._set_status(status)
        return PrintResult(job.job_id, True, status, confirmed=confirmed)
