"""The real kiosk app under SDL dummy, driven by injected touch and mouse events,
against the real queue server and a real TCP printer on 127.0.0.1."""
import time

import pygame
from escpos.constants import RT_STATUS_ONLINE, RT_STATUS_PAPER

from kiosk.ticket import TicketData, render_ticket
from kiosk_helpers import at_home, finger, issued, mouse, pump


def test_take_ticket_by_touch_and_print(real_server, netprinter, make_kiosk):
    """GIVEN the kiosk on the real server and a network printer WHEN a resident taps a priority,
    a service, reads its requirements and taps "Ambil nomor" THEN the server issued one ticket,
    the confirmation shows it, and the printer received exactly its ESC/POS bytes between
    the status check and the confirming status query."""
    app = make_kiosk(real_server.url, real_server.token, netprinter.port)
    pump(app, lambda: at_home(app))
    finger(app, "priority", "lansia")
    finger(app, "service", "A")
    assert app.screen == "info"
    svc = app.current_service()
    assert svc.requirements("id")[0] == "Kartu Keluarga (KK) asli dan fotokopi"
    assert svc.flow("id")[0] == "Ambil nomor antrean di kiosk"
    finger(app, "take", "A")
    assert app.screen in ("issuing", "confirm")
    pump(app, lambda: app.print_state == "printed")
    tk = app.ticket["ticket"]
    assert (app.screen, tk["number"], tk["priority"]) == ("confirm", "A-001", "lansia")
    assert issued(real_server) == 1
    expected = render_ticket(TicketData.from_issue(app.ticket, app.site), 58)
    assert b"A-001" in expected and app.ticket["status_url"].endswith(tk["token"])
    printed = [bytes(c) for c in netprinter.connections if len(c) > 100]
    status = RT_STATUS_ONLINE + RT_STATUS_PAPER   # checked before the job, confirmed after it
    assert printed == [status + expected + status]
    finger(app, "done")
    assert app.screen == "home" and app.priority is None


def test_mouse_path_and_synthesised_mouse_ignored(real_server, make_kiosk):
    """GIVEN SDL's mouse copies of touches (touch=True) WHEN they arrive THEN nothing happens;
    WHEN a real mouse clicks THEN it acts (language toggle, service)."""
    app = make_kiosk(real_server.url, real_server.token)
    pump(app, lambda: at_home(app))
    mouse(app, "lang", touch=True)
    assert app.lang == "id"
    mouse(app, "lang")
    assert app.lang == "en"
    mouse(app, "service", "B", touch=True)
    assert app.screen == "home"
    mouse(app, "service", "B")
    assert app.screen == "info"


def test_finger_and_its_mouse_copy_act_once(real_server, make_kiosk):
    """GIVEN one physical tap delivered as FINGERUP plus SDL's synthesised MOUSEBUTTONUP
    WHEN it toggles a priority THEN the priority is on (not toggled twice)."""
    app = make_kiosk(real_server.url, real_server.token)
    pump(app, lambda: at_home(app))
    b = app.button("priority", "hamil")
    app.clock.t += 1
    pygame.event.post(pygame.event.Event(pygame.FINGERUP, touch_id=1, finger_id=0,
                                         x=b.rect.centerx / 800, y=b.rect.centery / 480,
                                         dx=0.0, dy=0.0, pressure=1.0))
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONUP, pos=b.rect.center, button=1, touch=True))
    app.step()
    assert app.priority == "hamil"


def test_double_tap_issues_one_ticket(real_server, make_kiosk):
    """GIVEN the info screen WHEN "Ambil nomor" is tapped twice in one frame and again while
    issuing THEN exactly one ticket exists on the server."""
    app = make_kiosk(real_server.url, real_server.token)
    pump(app, lambda: at_home(app))
    finger(app, "service", "A")
    finger(app, "take", "A", frame=False)
    finger(app, "take", "A", advance=0.05, frame=False)
    app.step()
    app.clock.t += 1
    pump(app, lambda: app.screen == "confirm")
    assert issued(real_server) == 1 and app.ticket["ticket"]["number"] == "A-001"


def test_double_tap_on_service_does_not_hit_next_screen(real_server, make_kiosk):
    """GIVEN home WHEN a service is double-tapped THEN the second tap lands on nothing in
    the info screen (ghost tap guard) and no ticket is taken."""
    app = make_kiosk(real_server.url, real_server.token)
    pump(app, lambda: at_home(app))
    finger(app, "service", "A")
    b = app.button("take", "A")
    pygame.event.post(pygame.event.Event(pygame.FINGERUP, touch_id=1, finger_id=0,
                                         x=b.rect.centerx / 800, y=b.rect.centery / 480,
                                         dx=0.0, dy=0.0, pressure=1.0))
    app.clock.t += 0.1
    app.step()
    assert app.screen == "info" and issued(real_server) == 0


def test_server_down_then_retry_same_request(real_server, make_kiosk):
    """GIVEN the server goes down after the kiosk loaded WHEN a ticket is taken THEN a plain
    ID+EN error says no number was issued; WHEN the server is back and "Coba lagi" is tapped
    THEN the same request id yields exactly one ticket."""
    app = make_kiosk(real_server.url, real_server.token)
    pump(app, lambda: at_home(app))
    real_server.stop()
    finger(app, "service", "A")
    finger(app, "take", "A")
    first_request = app.request_id
    pump(app, lambda: app.screen == "error")
    assert "tidak dapat dihubungi" in app.error_text[0] and "cannot be reached" in app.error_text[1]
    assert app.ticket is None and issued(real_server) == 0
    real_server.start()
    finger(app, "retry")
    assert app.request_id == first_request
    pump(app, lambda: app.screen == "confirm")
    assert issued(real_server) == 1 and app.print_state == "none"


def test_kiosk_never_loads_without_server(make_kiosk):
    """GIVEN no server at all WHEN the kiosk starts THEN it stays on the connecting screen
    with nothing to tap (it never pretends to issue)."""
    from broker.bus import free_port
    app = make_kiosk(f"http://127.0.0.1:{free_port()}", "none")
    deadline = time.monotonic() + 1.5
    while time.monotonic() < deadline:
        app.step()
        time.sleep(0.02)
    assert app.screen == "loading" and app.buttons == [] and app.site is None


def test_printer_offline_mid_ticket_then_reprint(real_server, make_kiosk, make_netprinter):
    """GIVEN a printer that is unplugged WHEN a ticket is taken THEN the number stays on screen
    with "Nomor Anda tetap berlaku" and a reprint button; WHEN the printer is back and "Cetak
    ulang" is tapped THEN the same ticket prints, and the server still has one ticket."""
    from broker.bus import free_port
    port = free_port()
    app = make_kiosk(real_server.url, real_server.token, printer_port=port)
    pump(app, lambda: at_home(app))
    finger(app, "service", "A")
    finger(app, "take", "A")
    pump(app, lambda: app.print_state == "failed")
    number = app.ticket["ticket"]["number"]
    assert app.screen == "confirm" and app.button("reprint") is not None
    printer = make_netprinter(port=port)
    finger(app, "reprint")
    pump(app, lambda: app.print_state == "printed")
    assert app.ticket["ticket"]["number"] == number and issued(real_server) == 1
    assert [c for c in printer.connections if len(c) > 100] != []


def test_paper_out_keeps_number_valid(real_server, make_kiosk, make_netprinter):
    """GIVEN a printer out of paper WHEN a ticket is taken THEN the screen says paper is out and
    the number is valid; reprint after loading paper prints the same number."""
    printer = make_netprinter(paper=b"\x72")
    app = make_kiosk(real_server.url, real_server.token, printer_port=printer.port)
    pump(app, lambda: at_home(app))
    finger(app, "service", "C")
    finger(app, "take", "C")
    pump(app, lambda: app.print_state == "paper_out")
    assert app.ticket["ticket"]["number"] == "C-001"
    printer.paper = b"\x12"
    finger(app, "reprint")
    pump(app, lambda: app.print_state == "printed")
    sent = [bytes(c) for c in printer.connections if len(c) > 100]
    assert len(sent) == 1 and b"C-001" in sent[0]


def test_inactivity_returns_home(real_server, make_kiosk):
    """GIVEN a resident left on the info screen with a priority chosen WHEN 30 s pass with no
    touch THEN the kiosk is back home with the choice cleared; a confirmation leaves after 20 s."""
    app = make_kiosk(real_server.url, real_server.token)
    pump(app, lambda: at_home(app))
    finger(app, "priority", "disabilitas")
    finger(app, "service", "B")
    app.clock.t += 29
    app.step()
    assert app.screen == "info"
    app.clock.t += 2
    app.step()
    assert app.screen == "home" and app.priority is None
    finger(app, "service", "B")
    finger(app, "take", "B")
    pump(app, lambda: app.screen == "confirm")
    app.clock.t += 21
    app.step()
    assert app.screen == "home"


def test_closed_outside_hours_by_server_time(real_server, server_clock, make_kiosk):
    """GIVEN the server's clock says Sunday WHEN the kiosk loads THEN it shows the closed
    screen with the opening hours, and nothing can be tapped but "Dengarkan" (read it aloud)."""
    server_clock.jump(6 * 86400)   # Monday 09:00 -> Sunday 09:00
    app = make_kiosk(real_server.url, real_server.token)
    pump(app, lambda: app.screen == "closed")
    assert app.closed_reason == "hours" and [b.action for b in app.buttons] == ["speak"]
    assert app.hours_text() == "Sen-Kam 08:00-15:00, Jum 08:00-11:30 WIB"


def test_bouncing_toggle_counts_once(real_server, make_kiosk):
    """GIVEN a bouncy panel WHEN the priority chip reports two taps 50 ms apart THEN it is on,
    not toggled back off; a deliberate second tap later turns it off."""
    app = make_kiosk(real_server.url, real_server.token)
    pump(app, lambda: at_home(app))
    finger(app, "priority", "lansia")
    finger(app, "priority", "lansia", advance=0.05)
    assert app.priority == "lansia"
    finger(app, "priority", "lansia", advance=0.5)
    assert app.priority is None


def test_kiosk_booting_before_server_loads_when_it_appears(real_server, make_kiosk):
    """GIVEN the kiosk starts while the server is still down WHEN the server comes up
    THEN within the next retry (5 s) the kiosk shows the home screen."""
    real_server.stop()
    app = make_kiosk(real_server.url, real_server.token)
    pump(app, lambda: app.bg.jobs.empty() and app.bg.results.empty(), timeout=8)
    app.step()
    assert app.screen == "loading"
    real_server.start()
    app.clock.t += 6
    pump(app, lambda: at_home(app))
