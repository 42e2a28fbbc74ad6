"""The confirmation screen: a failed print keeps the number on screen, and every print
state is told in Indonesian first and English second (real server, real TCP printer)."""
import pytest

from broker.bus import free_port
from kiosk import i18n
from kiosk.layout import Painter
from kiosk_helpers import at_home, finger, pump


def _take_with_dead_printer(app):
    pump(app, lambda: at_home(app))
    finger(app, "service", "A")
    finger(app, "take", "A")
    pump(app, lambda: app.print_state == "failed")
    assert app.screen == "confirm"
    return app.ticket["ticket"]["number"]


def test_failed_print_keeps_number_until_done(real_server, make_kiosk):
    """GIVEN a ticket whose print failed (printer unreachable) WHEN the resident reads and
    copies the number for 4 minutes without touching THEN the number and the reprint button
    are still on screen (no 20 s / 30 s timeout); WHEN "Selesai" is tapped THEN home."""
    app = make_kiosk(real_server.url, real_server.token, printer_port=free_port())
    number = _take_with_dead_printer(app)
    for _ in range(8):          # 8 x 30 s = 4 min, each past the old 30 s limit
        app.clock.t += 30
        app.step()
        assert app.screen == "confirm" and app.ticket["ticket"]["number"] == number
    assert app.button("reprint") is not None and app.button("done").enabled
    finger(app, "done")
    assert app.screen == "home"


def test_failed_print_goes_home_after_five_minutes(real_server, make_kiosk):
    """GIVEN a failed print left alone WHEN failed_print_s (300 s) has passed THEN the kiosk is
    home for the next resident; with failed_print_s = 0 it never leaves on its own."""
    app = make_kiosk(real_server.url, real_server.token, printer_port=free_port())
    _take_with_dead_printer(app)
    app.clock.t += 299
    app.step()
    assert app.screen == "confirm"
    app.clock.t += 2
    app.step()
    assert app.screen == "home"
    forever = make_kiosk(real_server.url, real_server.token, printer_port=free_port(),
                         failed_print_s=0.0)
    _take_with_dead_printer(forever)
    forever.clock.t += 3600
    forever.step()
    assert forever.screen == "confirm" and forever.next_timeout() > 59


@pytest.mark.parametrize("state, key", [("printed", "printed"), ("printing", "printing"),
                                        ("none", "no_printer"), ("failed", "print_failed"),
                                        ("paper_out", "paper_out")])
def test_print_status_in_both_languages(real_server, netprinter, make_kiosk, monkeypatch, state, key):
    """GIVEN a confirmation in each print state, with the toggle on English WHEN it is drawn
    THEN the status line is shown in Indonesian and, below it, in English."""
    app = make_kiosk(real_server.url, real_server.token, printer_port=netprinter.port)
    pump(app, lambda: at_home(app))
    finger(app, "lang")
    finger(app, "service", "A")
    finger(app, "take", "A")
    pump(app, lambda: app.print_state == "printed")
    drawn = []
    real_text = Painter.text

    def text(self, txt, rect, *a, **kw):
        drawn.append((txt, rect.y))
        return real_text(self, txt, rect, *a, **kw)
    monkeypatch.setattr(Painter, "text", text)
    app.print_state = state
    app.draw()
    ys = {t: y for t, y in drawn}
    id_text, en_text = i18n.both(key)
    assert id_text in ys and en_text in ys and ys[id_text] < ys[en_text]
