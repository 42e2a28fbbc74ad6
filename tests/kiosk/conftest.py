"""A real TCP endpoint on 127.0.0.1 that behaves like a port-9100 printer.

It records every byte of every connection and answers DLE EOT status queries
with configurable bytes (or stays silent, like printers that ignore them).
"""
from __future__ import annotations

import threading

import pytest

from kiosk.app import KioskApp
from kiosk.client import NetWorker, ServerClient
from kiosk.config import PrinterConf, parse_config
from kiosk.printer import PrintWorker
from kiosk_helpers import LoopbackPrinter, MonoClock

from escpos.constants import RT_STATUS_ONLINE, RT_STATUS_PAPER

ONLINE = b"\x12"        # bit 3 clear: online
OFFLINE = b"\x1a"       # bit 3 set
PAPER_OK = b"\x12"
PAPER_LOW = b"\x1e"
PAPER_OUT = b"\x72"


class NetPrinter(LoopbackPrinter):
    """Answers DLE EOT status queries with configurable bytes (or stays silent)."""

    def __init__(self, online=ONLINE, paper=PAPER_OK, answer=True, port=0):
        self.online, self.paper, self.answer = online, paper, answer
        super().__init__(port)

    def respond(self, conn, data, ctx):
        if self.answer and data.endswith(RT_STATUS_ONLINE):
            conn.sendall(self.online)
        elif self.answer and data.endswith(RT_STATUS_PAPER):
            conn.sendall(self.paper)


@pytest.fixture
def netprinter():
    """A port-9100 printer on 127.0.0.1 that answers status queries (tests may change its replies)."""
    printer = NetPrinter()
    yield printer
    printer.close()


@pytest.fixture
def make_netprinter():
    """Build extra NetPrinters (e.g. a silent one); all are closed after the test."""
    made = []

    def make(**kw):
        made.append(NetPrinter(**kw))
        return made[-1]
    yield make
    for printer in made:
        printer.close()


# --------------------------------------------------------------------------
# The REAL queue server (server.app.create_app), served on 127.0.0.1 in a thread

class RealServer:
    """The real Flask app with a fresh QueueService (temp DB, example site, fixed server
    clock) for this test; ``stop()``/``start()`` take it off and back on the same port."""

    def __init__(self, flask_app, db_path: str, clock, site=None):
        from server.config import EXAMPLE_SITE, load_site
        from server.queue import QueueService
        self.flask = flask_app
        self.queue = QueueService(db_path, site or load_site(EXAMPLE_SITE), clock)
        flask_app.extensions["lalopa.queue"] = self.queue
        self.token = self.queue.create_device_token("kiosk-1", "kiosk")
        self.port = 0
        self._srv = None
        self.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        from werkzeug.serving import make_server
        self._srv = make_server("127.0.0.1", self.port, self.flask, threaded=True)
        self.port = self._srv.server_port
        threading.Thread(target=self._srv.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._srv is not None:
            self._srv.shutdown()
            self._srv.server_close()
            self._srv = None


@pytest.fixture
def server_clock():
    """The server's clock: Monday 23 Nov 2026 09:00 WIB, inside opening hours."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from server.clock import FakeClock
    return FakeClock(datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Jakarta")))


@pytest.fixture(scope="session")
def server_flask_app(tmp_path_factory):
    """One server.app.create_app per session: create_app is not re-entrant today (server/web
    adds before_request to module-level blueprints on every call), so each test gets a fresh
    QueueService swapped into this app instead of a new app."""
    from server.app import create_app
    boot = tmp_path_factory.mktemp("server") / "boot.db"
    return create_app({"TESTING": True, "LALOPA_DB": str(boot)})


@pytest.fixture
def site_for_test():
    """The site the server runs (None: server/sites/example.toml); tests may override."""
    return None


@pytest.fixture
def real_server(tmp_path, server_clock, server_flask_app, site_for_test):
    server = RealServer(server_flask_app, str(tmp_path / "queue.db"), server_clock, site_for_test)
    yield server
    server.stop()
    server.queue.close()


# --------------------------------------------------------------------------
# The kiosk app itself, wired to real workers

@pytest.fixture
def make_kiosk():
    made = []

    def make(url, token, printer_port=None, size=(800, 480), bus=None, printer=None, **screen):
        """A started kiosk; ``printer_port``: a port-9100 printer, or ``printer``: any PrintWorker."""
        cfg = parse_config({"screen": {"inactivity_s": 30.0, "confirm_s": 20.0, **screen}})
        if printer_port is not None:
            printer = PrintWorker(PrinterConf(backend="network", host="127.0.0.1", port=printer_port,
                                              timeout_s=3.0, poll_s=60))
        net = NetWorker(ServerClient(url, token, connect_timeout_s=0.5, read_timeout_s=2.0,
                                     attempts=2, backoff_s=0.05))
        app = KioskApp(cfg, net=net, printer=printer, bus=bus, size=size, clock=MonoClock())
        app.start()
        made.append(app)
        return app
    yield make
    for app in made:
        app.stop()
