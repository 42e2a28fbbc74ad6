"""The printer disappears mid-ticket: a loopback port-9100 printer that answers the status
queries, takes the first bytes of the job and then drops the connection (RST)."""
from __future__ import annotations

import socket
import struct

import pytest
import requests
from escpos.constants import RT_STATUS_ONLINE, RT_STATUS_PAPER

from kiosk.ticket import TicketData, render_ticket
from kiosk_helpers import LoopbackPrinter, at_home, finger, pump

ONLINE, PAPER_OK = b"\x12", b"\x12"


class VanishingPrinter(LoopbackPrinter):
    """Once ``armed``, the next connection is cut with RST: right after answering the status
    check (``keep=0``) or after ``keep`` bytes of the job. Otherwise a healthy printer.
    Records every connection's bytes."""

    STATUS = RT_STATUS_ONLINE + RT_STATUS_PAPER

    def __init__(self, keep: int = 64):
        self.keep = keep
        self.armed = False
        self.cut: bytearray | None = None
        super().__init__()

    def accepted(self) -> bool:
        vanish, self.armed = self.armed, False
        return vanish

    def respond(self, conn, data, vanish: bool):
        if data.endswith(RT_STATUS_ONLINE):
            conn.sendall(ONLINE)
        elif data.endswith(RT_STATUS_PAPER):
            conn.sendall(PAPER_OK)
        job = len(data) - len(self.STATUS)
        if vanish and data.startswith(self.STATUS) and (
                (self.keep == 0 and job == 0) or (self.keep and job >= self.keep)):
            del data[len(self.STATUS) + self.keep:]
            self.cut = data
            # RST, like a printer switched off or unplugged mid-job
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return False
        return True


@pytest.mark.parametrize("keep", [0, 64], ids=["gone-before-job", "cut-after-64-bytes"])
def test_printer_vanishes_mid_ticket_ticket_valid_and_reprint_works(real_server, make_kiosk, keep):
    """GIVEN the real kiosk printing to a network printer that answers its status check and
    then cuts the connection (before the job, or after 64 bytes of it) WHEN a resident takes a ticket
    THEN the ticket exists once on the server and stays valid (its status page answers),
    the kiosk does not hang in "printing" and offers reprint on the confirmation screen;
    WHEN the resident taps reprint THEN the complete ticket is printed with the same number
    and no second ticket is issued."""
    printer = VanishingPrinter(keep=keep)
    try:
        app = make_kiosk(real_server.url, real_server.token, printer.port)
        pump(app, lambda: at_home(app))
        printer.armed = True
        finger(app, "service", "A")
        finger(app, "take", "A")
        pump(app, lambda: app.screen == "confirm" and app.print_state in ("printed", "failed"))
        ticket = app.ticket["ticket"]
        full = render_ticket(TicketData.from_issue(app.ticket, app.site), 58)
        assert printer.cut is not None and full not in bytes(printer.cut), "the job was not cut"
        r = requests.get(f"{real_server.url}/api/v1/tickets/{ticket['token']}", timeout=5)
        assert r.status_code == 200 and r.json()["number"] == ticket["number"] == "A-001"
        pump(app, lambda: app.button("reprint") is not None, timeout=2.0)  # drawn next frame
        first_state = app.print_state
        finger(app, "reprint")
        pump(app, lambda: app.print_state == "printed")
        complete = [bytes(c) for c in printer.connections if full in bytes(c)]
        assert len(complete) == 1 and app.ticket["ticket"]["number"] == "A-001"
        assert real_server.queue.summary()["services"]["A"]["issued"] == 1
        assert first_state == "failed"  # never "printed" for a ticket the printer lost
    finally:
        printer.close()
