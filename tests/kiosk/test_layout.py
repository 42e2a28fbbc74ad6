"""Every screen lays out on the common Pi panels, landscape and portrait."""
import pygame
import pytest

from kiosk import i18n
from kiosk.app import KioskApp
from kiosk.cli import EXAMPLE_TICKET
from kiosk.client import NetWorker, ServerClient, SiteInfo
from kiosk.config import parse_config
from server.config import EXAMPLE_SITE, load_site

SIZES = [(800, 480), (1024, 600), (1280, 800), (1920, 1080),
         (480, 800), (600, 1024), (800, 1280), (1080, 1920)]


def _app(size):
    # no worker is started: these tests only draw
    net = NetWorker(ServerClient("http://127.0.0.1:9", "unused"))
    app = KioskApp(parse_config({}), net=net, size=size)
    app.site = SiteInfo.from_json(load_site(EXAMPLE_SITE).public())
    app.counts = {"A": {"prefix": "A", "waiting": 14, "est_wait_s": 1260, "issued": 63}}
    return app


def _states(app):
    yield "home", {}
    yield "info", {"service": "A", "priority": "hamil"}
    yield "issuing", {}
    yield "confirm", {"ticket": EXAMPLE_TICKET, "print_state": "printed"}
    yield "confirm", {"ticket": EXAMPLE_TICKET, "print_state": "failed"}
    yield "error", {"error_text": i18n.both("server_down")}
    yield "closed", {"closed_reason": "cap"}


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_targets_fit_and_are_large(size):
    """GIVEN each panel size WHEN every screen is drawn THEN every touch target lies on screen,
    is at least min_target high, and no two targets overlap."""
    app = _app(size)
    screen_rect = pygame.Rect(0, 0, *size)
    for screen, attrs in _states(app):
        for key, value in attrs.items():
            setattr(app, key, value)
        app.screen = screen
        app.draw()
        rects = [b.rect for b in app.buttons]
        for i, r in enumerate(rects):
            assert screen_rect.contains(r), (screen, r)
            assert r.h >= min(56, app.layout.min_target) and r.w >= 56, (screen, r)
            assert r.collidelist(rects[i + 1:]) == -1, (screen, r)
    pygame.display.quit()


def test_portrait_stacks_services():
    """GIVEN a portrait panel WHEN home is drawn THEN service buttons are one column, full width."""
    app = _app((600, 1024))
    app.screen = "home"
    app.draw()
    cells = [b.rect for b in app.buttons if b.action == "service"]
    assert len(cells) == 3 and len({r.x for r in cells}) == 1
    assert cells[0].w > 500
    pygame.display.quit()
