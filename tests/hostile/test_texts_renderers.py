"""Renderers never crash on any string (issue 13, "one contract of limits for every text").

Property tests: the board renderer (display/render.py), every kiosk screen
(kiosk/screens.py) and the printed ticket (kiosk/ticket.py through escpos Dummy)
are handed arbitrary Unicode, NUL and other controls, lone surrogates, combining
marks piled up, right-to-left text, emoji and very long words, and every text at
its contract limit. Before the change a NUL or a lone surrogate raised inside
pygame's text renderer (the board and the kiosk crashed at start).
"""
from __future__ import annotations

import pygame
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from broker import texts
from broker.protocol import BoardSnapshot, CallEvent, CounterSlot, ServiceInfo, TicketRef
from display.render import Renderer
from display.state import BoardState
from kiosk.app import KioskApp
from kiosk.cli import EXAMPLE_TICKET
from kiosk.client import NetWorker, ServerClient, SiteInfo
from kiosk.config import parse_config
from kiosk.ticket import TicketData, render_ticket
from server.config import EXAMPLE_SITE, load_site

PROPS = settings(max_examples=60, deadline=None,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

HOSTILE = ["\x00", "a\x00b", "\ud800", "x" + "\u0301" * 60, "\u202eKesehatan\u202c",
           "\u0627\u0644\u0639\u0631\u0628\u064a\u0629", "\U0001F600" * 30, "W" * 3000,
           "\n\t\r\x1b[31m", "\ufeff\u200b\u2066", "\U000F0000", " ", ""]
strings = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=200),
                    st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x10FFFF), max_size=80))
# Every text at its limit, with the widest characters the contract allows.
AT_LIMIT = {rule.key: ("W\u00c9 " * rule.max_len)[:rule.max_len] for rule in texts.RULES}


def _board_snapshot(facility, counter_name, service_name, running_text) -> BoardSnapshot:
    ticket = TicketRef(number="A-023", service="A", status="called", priority="hamil")
    return BoardSnapshot(
        site="t", facility=facility, service_day="2026-11-23", server_time_ms=1_795_398_065_000,
        tz="Asia/Jakarta", seq=3,
        counters=tuple(CounterSlot(counter=n, name=counter_name, status=("open", "paused", "closed")[n % 3],
                                   ticket=ticket if n % 2 else None) for n in range(1, 17)),
        services=(ServiceInfo(prefix="A", name_id=service_name, name_en=service_name, waiting=4),),
        running_text=running_text)


@pytest.fixture(scope="module")
def board():
    pygame.init()
    renderer = Renderer(pygame.Surface((1366, 768)))
    yield renderer


def _draw_board(renderer, facility, counter_name, service_name, running_text):
    state = BoardState()
    state.apply_snapshot(_board_snapshot(facility, counter_name, service_name, running_text), retained=True)
    state.apply_call(CallEvent(seq=4, kind="call", ticket="A-024", service="A", counter=5,
                               counter_name=counter_name, at="2026-11-23T08:41:07+07:00", priority="lansia"))
    renderer.draw(state, {"all"})
    return renderer.texts


@PROPS
@given(facility=strings, counter_name=strings, service_name=strings, running_text=strings)
def test_board_draws_any_text(board, facility, counter_name, service_name, running_text):
    """GIVEN a board snapshot and a call whose texts are arbitrary Unicode (NUL, surrogates,
    RTL, emoji, 3,000-character words) WHEN every region is drawn THEN nothing raises."""
    _draw_board(board, facility, counter_name, service_name, running_text)


def test_board_draws_every_text_at_its_limit(board):
    """GIVEN every text at its contract limit WHEN the board draws THEN each is shown whole."""
    shown = _draw_board(board, AT_LIMIT["facility"], AT_LIMIT["counter_name"],
                        AT_LIMIT["service_name_id"], AT_LIMIT["running_text"])
    assert shown["header"] == [AT_LIMIT["facility"]]
    assert shown["ticker"] == [AT_LIMIT["running_text"]]


def _kiosk(size=(800, 480)) -> KioskApp:
    net = NetWorker(ServerClient("http://127.0.0.1:9", "unused"))   # never started: drawing only
    return KioskApp(parse_config({}), net=net, size=size)


def _site(name, requirement, step, facility, whatsapp) -> SiteInfo:
    public = load_site(EXAMPLE_SITE).public()
    public["facility"], public["whatsapp"] = facility, whatsapp
    for s in public["services"]:
        s["name_id"] = s["name_en"] = name
        s["requirements"] = [{"id": requirement, "en": requirement}] * 3
        s["flow"] = [{"id": step, "en": step}] * 3
    return SiteInfo.from_json(public)


def _draw_every_screen(app):
    ticket = {**EXAMPLE_TICKET, "ticket": {**EXAMPLE_TICKET["ticket"], "priority": "disabilitas"}}
    for screen, attrs in (("loading", {}), ("home", {"priority": "lansia"}),
                          ("info", {"service": "A", "priority": "hamil"}), ("issuing", {}),
                          ("confirm", {"ticket": ticket, "print_state": "failed"}),
                          ("error", {"error_text": (app.site.facility, app.site.whatsapp)}),
                          ("closed", {"closed_reason": "cap"}), ("closed", {"closed_reason": "hours"})):
        for key, value in attrs.items():
            setattr(app, key, value)
        app.screen = screen
        app.draw()


@pytest.fixture(scope="module")
def kiosk():
    app = _kiosk()
    yield app
    pygame.display.quit()


@PROPS
@given(name=strings, requirement=strings, step=strings, facility=strings, whatsapp=strings)
def test_kiosk_screens_draw_any_text(kiosk, name, requirement, step, facility, whatsapp):
    """GIVEN a site whose names, requirements, flow steps, facility and contact are arbitrary
    Unicode WHEN every kiosk screen is drawn THEN nothing raises."""
    kiosk.site = _site(name, requirement, step, facility, whatsapp)
    _draw_every_screen(kiosk)


def test_kiosk_screens_draw_every_text_at_its_limit(kiosk):
    """GIVEN every text at its contract limit WHEN every kiosk screen is drawn THEN nothing raises
    and every touch target stays on screen."""
    kiosk.site = _site(AT_LIMIT["service_name_id"], AT_LIMIT["requirement_id"], AT_LIMIT["flow_step"],
                       AT_LIMIT["facility"], "+62 812-3456-7890")
    _draw_every_screen(kiosk)
    screen = pygame.Rect(0, 0, 800, 480)
    assert all(screen.contains(b.rect) for b in kiosk.buttons)


def _ticket(**over) -> bytes:
    base = dict(facility="Dinas Kesehatan", number="A-023", service_name="Verifikasi Klaim",
                issued_at="2026-11-23T08:41:07+07:00", people_ahead=3, est_wait_s=600,
                status_url="http://10.0.0.2/t/abc", requirements=("KK asli",),
                whatsapp="+62 812", priority="lansia", tz_label="WIB")
    return render_ticket(TicketData(**{**base, **over}), paper=58)


@PROPS
@given(facility=strings, service=strings, requirement=strings, whatsapp=strings, issued_at=strings,
       priority=st.one_of(st.none(), strings), url=strings)
def test_ticket_prints_any_text_as_ascii(facility, service, requirement, whatsapp, issued_at, priority, url):
    """GIVEN ticket texts that are arbitrary Unicode (and an unknown priority, a bad time, a huge URL)
    WHEN the ticket is rendered to escpos Dummy THEN nothing raises and every printed text byte is
    plain ASCII."""
    fields = dict(facility=facility, service_name=service, requirements=(requirement,) * 2,
                  whatsapp=whatsapp, issued_at=issued_at, priority=priority)
    assert _ticket(**fields, status_url=url).startswith(b"\x1b@")
    # Without the QR raster, every byte is a command or ASCII text (commands here are < 0x80).
    assert max(_ticket(**fields, status_url="")) < 0x80


def test_ticket_prints_every_text_at_its_limit():
    """GIVEN every printed text at its contract limit WHEN the ticket is rendered THEN each is
    printed in full, wrapped to the paper's 32 columns."""
    out = _ticket(facility=AT_LIMIT["facility"], service_name=AT_LIMIT["service_name_id"],
                  requirements=(AT_LIMIT["requirement_id"],) * texts.MAX_ITEMS, whatsapp=AT_LIMIT["whatsapp"])
    flat = out.replace(b"\n", b"").replace(b" ", b"")
    assert texts.to_ascii(AT_LIMIT["facility"]).replace(" ", "").encode() in flat
