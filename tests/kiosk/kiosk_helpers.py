"""Helpers that drive the kiosk app the way a resident does (shared by the kiosk tests)."""
import time

import pygame


class MonoClock:
    """The kiosk's monotonic clock, moved by the test (inactivity, ghost taps)."""

    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t


def pump(app, until, timeout=6.0):
    """Run frames until ``until()`` holds (the workers answer asynchronously)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        app.step()
        if until():
            return
        time.sleep(0.01)
    raise AssertionError(f"timed out on screen {app.screen!r} print_state={app.print_state!r}")


def finger(app, action, arg=None, advance=1.0, frame=True):
    """A finger tap (down+up, normalised coordinates) on an action's target."""
    app.clock.t += advance   # a person takes a moment between taps
    b = app.button(action, arg)
    assert b is not None, f"no {action}/{arg} on {app.screen}"
    x, y = b.rect.centerx / app.layout.w, b.rect.centery / app.layout.h
    for kind in (pygame.FINGERDOWN, pygame.FINGERUP):
        pygame.event.post(pygame.event.Event(kind, touch_id=1, finger_id=0, x=x, y=y,
                                             dx=0.0, dy=0.0, pressure=1.0))
    if frame:
        app.step()


def mouse(app, action, arg=None, touch=False, advance=1.0):
    """A mouse click; with ``touch=True`` it is the copy SDL synthesises from a finger."""
    app.clock.t += advance
    b = app.button(action, arg)
    for kind in (pygame.MOUSEBUTTONDOWN, pygame.MOUSEBUTTONUP):
        pygame.event.post(pygame.event.Event(kind, pos=b.rect.center, button=1, touch=touch))
    app.step()


def issued(server, prefix="A"):
    return server.queue.summary()["services"][prefix]["issued"]


def at_home(app):
    return app.screen == "home"
