"""The kiosk's event-driven loop: draw only on change, sleep until something is due.

Mixed into :class:`kiosk.app.KioskApp`, which supplies the state, the timers
(``_timers``, ``_idle_limit``, ``_next_refresh``), the workers and the bus.

Why not ``pygame.event.wait(timeout)``: pygame-ce implements that wait as a loop
of ``SDL_Delay(1)`` polls, which alone costs about 2 % of a core (the kiosk's
whole idle budget). The loop sleeps on a ``threading.Event`` that the workers and
the bus set through :meth:`FrameLoop.wake`, and pumps SDL's input queue
``screen.fps`` times a second, so a tap waits at most 1/fps s.
"""
from __future__ import annotations

import os
import threading
import time

import pygame

from .layout import SELECTED
from .screens import SCREENS

MAX_WAIT_S = 60.0         # the loop re-checks its timers at least this often


# The queue summary's figures a screen draws (a change in any of them is a new frame).
SHOWN_FIGURES = ("waiting", "issued", "est_wait_s", "est_low_s", "est_high_s", "prio_low_s",
                 "prio_high_s", "served_by", "cutoff")

class FrameLoop:
    """Sleeping, waking and drawing for the kiosk app (a mixin)."""

    _woken: threading.Event

    def wake(self) -> None:
        """Any thread: results or bus messages are waiting; the loop stops sleeping."""
        self._woken.set()

    # -- one frame ---------------------------------------------------------------

    def step(self, max_wait: float = 0.0) -> None:
        """Handle events and results, apply timers, draw if anything visible changed.

        ``max_wait=0`` (tests) never blocks; ``run`` passes :meth:`next_timeout`,
        so an idle kiosk sleeps until a tap, a wake from a worker or a timer."""
        events = pygame.event.get()
        if not events and max_wait > 0:
            events = self._sleep(max_wait)
        self._woken.clear()   # before draining: a wake from now on is seen next time
        for event in events:
            self.handle_event(event)
        if self.bus is not None:
            self.bus.dispatch(0)
        self._drain_results()
        self._timers()
        if self._view_key() != self._drawn_key:
            self.draw()

    def _sleep(self, max_wait: float) -> list:
        """Sleep up to ``max_wait`` s; return early on a wake or an input event."""
        poll = 1.0 / max(1, self.cfg.screen.fps)
        end = time.monotonic() + max_wait
        while self.running:
            left = end - time.monotonic()
            woken = self._woken.wait(max(0.0, min(poll, left)))
            events = pygame.event.get()
            if woken or events or left <= poll:
                return events
        return []

    def next_timeout(self) -> float:
        """Seconds until a timer is due: refresh, inactivity, the next minute (hours)."""
        now = self.clock()
        due = [MAX_WAIT_S, self._next_refresh - now]
        limit = self._idle_limit()
        if limit is not None:
            due.append(self.last_input + limit - now)
        server_now = self.server_now()
        if server_now is not None and self.site and self.screen in ("home", "info", "closed"):
            due.append(60 - server_now.second - server_now.microsecond / 1e6)
        return max(0.0, min(due)) + 0.01   # just past the deadline, so the timer fires

    def _view_key(self) -> tuple:
        """Everything the screens draw from: a new frame only when this changes."""
        counts = tuple(sorted((p, *(s.get(k) for k in SHOWN_FIGURES)) for p, s in self.counts.items()))
        return (self.screen, self.lang, self.priority, self.service, self.print_state,
                self.error_text, self.closed_reason, self.site, counts, self.pressed,
                self.ticket["ticket"]["id"] if self.ticket else None, self.surface.get_size())

    def draw(self) -> None:
        """Draw the current screen (always; ``step`` calls it only on change)."""
        self.buttons = SCREENS[self.screen](self, self.painter, self.layout)
        pressed = self.pressed and self.button(*self.pressed)
        if pressed and pressed.enabled:   # feedback under the finger until it lifts
            pygame.draw.rect(self.surface, SELECTED, pressed.rect, width=max(3, self.layout.unit // 4),
                             border_radius=max(6, pressed.rect.h // 8))
        pygame.display.flip()
        self.frames += 1
        self._drawn_key = self._view_key()
        if self.screenshot_dir:
            self._screenshot()

    def _shot_name(self) -> str:
        state = f"-{self.print_state}" if self.screen == "confirm" else ""
        return f"{self.screen}{state}-{self.layout.w}x{self.layout.h}"

    def _screenshot(self) -> None:
        """--screenshots: keep each screen's LAST frame (counts and results have arrived by then)."""
        name = self._shot_name()
        if self._shot and self._shot[0] != name:
            self._save_shot()
        self._shot = (name, self.surface.copy())

    def _save_shot(self) -> None:
        if self._shot:
            os.makedirs(self.screenshot_dir, exist_ok=True)
            pygame.image.save(self._shot[1], os.path.join(self.screenshot_dir, self._shot[0] + ".png"))
