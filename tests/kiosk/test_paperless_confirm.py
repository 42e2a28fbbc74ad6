"""A kiosk whose printer does not put paper in the resident's hand (a .bin file or none) never says "take your ticket": it asks to note or photograph the number."""
import pytest

from kiosk import i18n
from kiosk.app import KioskApp
from kiosk.client import NetWorker, ServerClient
from kiosk.config import PrinterConf, parse_config
from kiosk.layout import Painter
from kiosk.printer import PrintWorker
from kiosk_helpers import MonoClock, at_home, finger, pump


def _confirm_texts(app, monkeypatch) -> list[str]:
    drawn = []
    real_text = Painter.text

    def text(self, txt, rect, *a, **kw):
        drawn.append(txt)
        return real_text(self, txt, rect, *a, **kw)
    monkeypatch.setattr(Painter, "text", text)
    app.draw()
    monkeypatch.undo()
    return drawn


@pytest.mark.parametrize("printer", [
    {"backend": "file", "path": "tickets.bin"},
    {"backend": "none"},
])
def test_paperless_kiosk_never_says_take_your_ticket(real_server, tmp_path, monkeypatch, printer):
    """GIVEN a kiosk printing into a file (or no printer) on the real server
    WHEN a resident takes a number and the job ends THEN the confirmation shows the number
    and says, Indonesian first, to note or photograph it; never "Silakan ambil tiket Anda"."""
    conf = dict(printer)
    if "path" in conf:
        conf["path"] = str(tmp_path / conf["path"])
    cfg = parse_config({"printer": conf, "screen": {"inactivity_s": 30.0, "confirm_s": 20.0}})
    assert not cfg.printer.on_paper
    worker = PrintWorker(cfg.printer) if cfg.printer.backend != "none" else None
    net = NetWorker(ServerClient(real_server.url, real_server.token, connect_timeout_s=0.5,
                                 read_timeout_s=2.0, attempts=2, backoff_s=0.05))
    app = KioskApp(cfg, net=net, printer=worker, size=(800, 480), clock=MonoClock())
    app.start()
    try:
        pump(app, lambda: at_home(app))
        finger(app, "service", "A")
        finger(app, "take", "A")
        pump(app, lambda: app.screen == "confirm" and app.print_state not in ("printing",))
        assert app.print_state == "none"
        texts = _confirm_texts(app, monkeypatch)
        assert app.ticket["ticket"]["number"] in texts
        id_text, en_text = i18n.both("no_printer")
        assert id_text in texts and en_text in texts
        assert "foto" in id_text and "photograph" in en_text
        assert not any("ambil tiket" in t.lower() or "take your ticket" in t.lower() for t in texts)
    finally:
        app.stop()


def test_printer_devices_count_as_paper():
    """GIVEN the printer backends WHEN asked whether a job ends on paper THEN network, USB,
    serial, a /dev printer file and the dummy (a printer's stand-in) do; a .bin file and
    none do not."""
    assert PrinterConf(backend="network", host="10.0.0.5").on_paper
    assert PrinterConf(backend="usb").on_paper and PrinterConf(backend="serial").on_paper
    assert PrinterConf(backend="file", path="/dev/usb/lp0").on_paper
    assert not PrinterConf(backend="file", path="/tmp/lalopa-kiosk-1-tickets.bin").on_paper
    assert PrinterConf(backend="dummy").on_paper and not PrinterConf(backend="none").on_paper
