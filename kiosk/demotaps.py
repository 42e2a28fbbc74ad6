"""``lalopa kiosk run --demo-taps N``: the running kiosk takes N numbers by itself.

For ``lalopa demo`` and its test: a scripted resident taps the REAL kiosk the
way a person does (service, then "take", then "done"), by posting touch
events into pygame's queue from a side thread. The kiosk's frame loop handles
them exactly like a finger on the panel (ghost-tap and bounce guards, the
issuing lock, printing), so the ticket goes the whole way a real one does.

Each number the kiosk confirms is printed on stdout as one JSON line::

    {"demo_ticket": {"number": "A-004", "service": "A", "token": "...", ...}}

Never use it on a kiosk residents use: it takes real numbers.
"""
from __future__ import annotations

import json
import logging
import threading
import time

import pygame

log = logging.getLogger(__name__)

PACE_S = 1.0      # a person's pace between taps: well past the ghost-tap guard (0.4 s)
WAIT_S = 30.0     # the longest the resident waits for a screen before giving up


class DemoResident(threading.Thread):
    """Takes ``count`` tickets for the first open service on the home screen."""

    def __init__(self, app, count: int, *, pace_s: float = PACE_S, wait_s: float = WAIT_S):
        super().__init__(name="demo-taps", daemon=True)
        self.app, self.count, self.pace_s, self.wait_s = app, count, pace_s, wait_s
        self.taken: list[dict] = []

    def run(self) -> None:
        for _ in range(self.count):
            if not self.app.running or not self._take_one():
                return

    def _take_one(self) -> bool:
        service = self._wait(self._first_service)
        if service is None:
            return self._give_up("no service on the home screen")
        self._tap("service", service)
        if self._wait(lambda: self.app.screen == "info") is None:
            return self._give_up("info screen did not open")
        self._tap("take", service)
        self._wait(lambda: self.app.screen in ("confirm", "error", "closed"))
        if self.app.screen != "confirm":
            return self._give_up(f"no ticket: the kiosk shows {self.app.screen!r}")
        ticket = dict(self.app.ticket["ticket"])
        self.taken.append(ticket)
        print(json.dumps({"demo_ticket": ticket}, sort_keys=True), flush=True)
        # "Done" is enabled once printing has ended; then back home for the next one.
        if self._wait(lambda: self.app.button("done") is not None
                      and self.app.button("done").enabled) is not None:
            self._tap("done")
        return True

    def _first_service(self) -> str | None:
        if self.app.screen != "home":
            return None
        return next((b.arg for b in list(self.app.buttons)
                     if b.action == "service" and b.enabled), None)

    def _wait(self, predicate):
        """Poll ``predicate`` (read-only peeks at the app) until truthy or WAIT_S passes."""
        deadline = time.monotonic() + self.wait_s
        while self.app.running and time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.05)
        return None

    def _tap(self, action: str, arg: str | None = None) -> None:
        """A finger lifted at the centre of the target, as SDL reports a touch panel."""
        time.sleep(self.pace_s)
        target = self.app.button(action, arg)
        if target is None:
            log.warning("demo taps: no %s button on screen %s", action, self.app.screen)
            return
        lay = self.app.layout
        log.info("demo taps: tap %s %s", action, arg or "")
        pygame.event.post(pygame.event.Event(
            pygame.FINGERUP, touch_id=1, finger_id=0, x=target.rect.centerx / lay.w,
            y=target.rect.centery / lay.h, dx=0.0, dy=0.0, pressure=1.0))

    def _give_up(self, why: str) -> bool:
        log.warning("demo taps: stopped: %s", why)
        return False
