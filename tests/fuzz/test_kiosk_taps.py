"""A kiosk hammered with taps: one ticket per deliberate action, never more."""
from __future__ import annotations

import pygame

from kiosk_helpers import at_home, finger, pump


def _burst(app, action, arg=None, taps=30, after_s=1.0):
    """``after_s`` after the screen appeared, ``taps`` finger taps on one target in the same
    instant (plus SDL's mouse copies), handled in one frame."""
    app.clock.t += after_s
    b = app.button(action, arg)
    assert b is not None, f"no {action} on {app.screen}"
    x, y = b.rect.centerx / app.layout.w, b.rect.centery / app.layout.h
    for _ in range(taps):
        for kind in (pygame.FINGERDOWN, pygame.FINGERUP):
            pygame.event.post(pygame.event.Event(kind, touch_id=1, finger_id=0, x=x, y=y,
                                                 dx=0.0, dy=0.0, pressure=1.0))
        pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONUP, pos=b.rect.center, button=1,
                                             touch=True))
    app.step()


def test_thirty_taps_on_take_issue_one_ticket(real_server, make_kiosk):
    """GIVEN the real kiosk app on the real server WHEN a resident hammers "take" 30 times
    in one instant (plus SDL's mouse copies) and then keeps tapping while it issues
    THEN exactly one ticket exists and the kiosk shows it."""
    app = make_kiosk(real_server.url, real_server.token)
    pump(app, lambda: at_home(app))
    finger(app, "service", "A")
    _burst(app, "take", "A")
    for _ in range(10):  # more taps land while the request is in flight
        app.clock.t += 0.05
        if app.button("take", "A"):
            _burst(app, "take", "A", taps=3, after_s=0.0)
    pump(app, lambda: app.screen == "confirm")
    assert real_server.queue.summary()["services"]["A"]["issued"] == 1
    assert app.ticket["ticket"]["number"] == "A-001"


def test_deliberate_second_action_gets_second_ticket(real_server, make_kiosk):
    """GIVEN one ticket taken and "done" tapped WHEN the next resident takes a ticket a moment
    later THEN a second ticket is issued: the guard stops bounces, not people."""
    app = make_kiosk(real_server.url, real_server.token)
    pump(app, lambda: at_home(app))
    for expected in ("A-001", "A-002"):
        finger(app, "service", "A")
        _burst(app, "take", "A", taps=5)
        pump(app, lambda: app.screen == "confirm")
        assert app.ticket["ticket"]["number"] == expected
        finger(app, "done")
        pump(app, lambda: at_home(app))
    assert real_server.queue.summary()["services"]["A"]["issued"] == 2
