"""``lalopa kiosk screenshots --out docs/kiosk``: every screen, two panel sizes, one ticket.

Runs the REAL queue server in-process (``server.app.create_app`` on a temp DB,
the example site, a server clock fixed on a Monday morning) and drives the
real kiosk through its screens with taps, so the pictures show what a resident
sees. Needs SDL's dummy video driver when there is no display (set here).
"""
from __future__ import annotations

import os
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

import pygame  # noqa: E402
from PIL import Image  # noqa: E402

SIZES = ((800, 480), (1920, 1080))


def _server(tmp: str):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from werkzeug.serving import make_server

    from server.app import create_app
    from server.clock import FakeClock
    clock = FakeClock(datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Jakarta")))
    app = create_app({"LALOPA_DB": os.path.join(tmp, "queue.db"), "LALOPA_CLOCK": clock})
    svc = app.extensions["lalopa.queue"]
    for n in (1, 2, 13):   # A and C are served; B's counters (15, 16) are still closed
        svc.counter_action(n, "open", command_id=f"shots-open-{n}", device="screenshots")
    for i in range(9):   # a morning's queue, so the home screen shows real counts
        svc.issue("A", request_id=f"shots-{i}", device="screenshots")
    for n in (1, 2, 13):
        svc.counter_action(n, "next", command_id=f"shots-next-{n}", device="screenshots")
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, svc, clock


def _pump(app, until, timeout=8.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end and not until():
        app.step()
        time.sleep(0.02)
    app.step()


class _Clock:
    """Monotonic time that a tap can move past the ghost-tap guard, as a person's pace would."""

    def __init__(self):
        self.offset = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.offset


def _tap(app, action, arg=None):
    app.clock.offset += 1.0
    b = app.button(action, arg)
    pygame.event.post(pygame.event.Event(pygame.FINGERUP, touch_id=1, finger_id=0,
                                         x=b.rect.centerx / app.layout.w,
                                         y=b.rect.centery / app.layout.h, dx=0.0, dy=0.0, pressure=1.0))
    app.step()


def _kiosk(url: str, token: str, size, out: str, printer: dict):
    from .app import KioskApp
    from .client import NetWorker, ServerClient
    from .config import parse_config
    from .printer import PrintWorker
    cfg = parse_config({"printer": printer})
    printer = PrintWorker(cfg.printer) if cfg.printer.backend != "none" else None
    app = KioskApp(cfg, net=NetWorker(ServerClient(url, token, attempts=1)), printer=printer,
                   size=size, clock=_Clock(), screenshot_dir=out)
    app.start()
    return app


def _one_size(url, token, size, out, tmp):
    app = _kiosk(url, token, size, out, {"backend": "dummy"})
    app.step()                                            # loading
    _pump(app, lambda: app.screen == "home")
    _tap(app, "priority", "lansia")
    _pump(app, lambda: False, 0.1)
    _tap(app, "service", "A")                             # info
    _tap(app, "take", "A")                                # issuing, then confirm
    _pump(app, lambda: app.print_state == "printed")
    app.stop()
    scratch = os.path.join(tmp, "scratch")
    broken = _kiosk(url, token, size, scratch, {"backend": "file", "path": os.path.join(tmp, "no", "lp0")})
    _pump(broken, lambda: broken.screen == "home")
    _tap(broken, "lang")
    _tap(broken, "service", "C")
    _tap(broken, "take", "C")
    _pump(broken, lambda: broken.print_state == "failed")
    _tap(broken, "lang")
    _tap(broken, "done")
    broken.stop()
    _keep(scratch, out, "confirm-failed")


def _keep(scratch: str, out: str, prefix: str) -> None:
    """Copy only the named screen from a helper kiosk's folder (its other screens would
    overwrite the main walk-through's pictures)."""
    import shutil
    for path in Path(scratch).glob(prefix + "-*.png"):
        shutil.move(str(path), os.path.join(out, path.name))

def make_all(out: str = "docs/kiosk") -> list[str]:
    """Write the PNGs into ``out``; returns their paths."""
    from .cli import EXAMPLE_TICKET
    from .client import SiteInfo
    from .preview import render_png
    from .ticket import TicketData, render_ticket
    Path(out).mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        srv, svc, clock = _server(tmp)
        token = svc.create_device_token("kiosk-shots", "kiosk")
        url = f"http://127.0.0.1:{srv.server_port}"
        try:
            for size in SIZES:
                _one_size(url, token, size, out, tmp)
                _error(url, token, srv, size, out, tmp)
                srv = _restart(srv)
                url = f"http://127.0.0.1:{srv.server_port}"
                _closed(url, token, clock, size, out, tmp)
            site = SiteInfo.from_json(svc.site.public())
        finally:
            srv.shutdown()
    for paper in (58, 80):
        render_png(render_ticket(TicketData.from_issue(EXAMPLE_TICKET, site), paper),
                   os.path.join(out, f"ticket-{paper}mm.png"), paper)
    return _shrink(out)


def _error(url, token, srv, size, out, tmp):
    """The error screen: the server goes away after the kiosk loaded."""
    scratch = os.path.join(tmp, "scratch")
    app = _kiosk(url, token, size, scratch, {"backend": "none"})
    _pump(app, lambda: app.screen == "home")
    srv.shutdown()
    srv.server_close()
    _tap(app, "service", "B")
    _tap(app, "take", "B")
    _pump(app, lambda: app.screen == "error")
    app.stop()
    _keep(scratch, out, "error")


def _restart(srv):
    """Serve the same Flask app again."""
    from werkzeug.serving import make_server
    new = make_server("127.0.0.1", 0, srv.app, threaded=True)
    threading.Thread(target=new.serve_forever, daemon=True).start()
    return new


def _closed(url, token, clock, size, out, tmp):
    """The closed screen: the server's clock says Sunday."""
    scratch = os.path.join(tmp, "scratch")
    clock.jump(6 * 86400)
    app = _kiosk(url, token, size, scratch, {"backend": "none"})
    _pump(app, lambda: app.screen == "closed")
    app.stop()
    clock.jump(-6 * 86400)
    _keep(scratch, out, "closed")


def _shrink(out: str) -> list[str]:
    """Palette PNGs: the screens use a handful of colours, so this keeps the docs small."""
    paths = sorted(str(p) for p in Path(out).glob("*.png"))
    for path in paths:
        img = Image.open(path).convert("RGB")
        img.quantize(colors=48).save(path, optimize=True)
    return paths


if __name__ == "__main__":
    for p in make_all():
        print(p)
