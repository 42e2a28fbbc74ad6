"""Blink patterns played by the box's main loop, on an injected clock.

gpiozero's ``LED.blink`` runs its own thread per LED; here the main loop owns
every output instead, so a test with a fake clock sees exactly the same pin
changes every time and the box has no extra threads on a Pi Zero 2 W.

A :class:`Lamp` has a *base* pattern (what the counter's state asks for) and
an optional *overlay* (a short signal such as "refused"), which wins until it
ends. :meth:`Lamp.level` says what the output should be now and
:meth:`Lamp.next_change` how long the loop may sleep.

Example::

    >>> lamp = Lamp()
    >>> lamp.set_base(ON, now=0.0)
    >>> lamp.signal(Pattern.blink(0.5, 0.5, 2), now=1.0)
    >>> [lamp.level(t) for t in (1.0, 1.6, 2.1, 3.5)]
    [True, False, True, True]
"""
from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Pattern:
    """A sequence of ``(level, seconds)`` steps played ``repeat`` times (None = forever)."""

    steps: tuple[tuple[bool, float], ...]
    repeat: int | None = None

    @classmethod
    def blink(cls, on_s: float, off_s: float, n: int | None = None) -> "Pattern":
        return cls(((True, on_s), (False, off_s)), n)

    @property
    def period(self) -> float:
        return sum(s for _, s in self.steps)

    def at(self, elapsed: float) -> tuple[bool, float] | None:
        """``(level, seconds until the level changes)``, or None once finished."""
        period = self.period
        if self.repeat is not None and elapsed >= period * self.repeat:
            return None
        if math.isinf(period):
            return self.steps[0][0], math.inf
        t = elapsed % period
        for level, secs in self.steps:
            if t < secs:
                return level, secs - t
            t -= secs
        return self.steps[-1][0], 0.0  # pragma: no cover - float edge


ON = Pattern(((True, math.inf),))
OFF = Pattern(((False, math.inf),))


class Lamp:
    """One output's pattern state; see the module docstring."""

    def __init__(self) -> None:
        self.base, self.base_since = OFF, 0.0
        self.overlay: Pattern | None = None
        self.overlay_since = 0.0

    def set_base(self, pattern: Pattern, now: float) -> None:
        if pattern != self.base:  # keep a running blink in phase when nothing changed
            self.base, self.base_since = pattern, now

    def signal(self, pattern: Pattern | None, now: float) -> None:
        """Play ``pattern`` over the base (None cancels the current signal)."""
        self.overlay, self.overlay_since = pattern, now

    def _current(self, now: float) -> tuple[bool, float]:
        if self.overlay is not None:
            got = self.overlay.at(now - self.overlay_since)
            if got is not None:
                level, left = got
                # The overlay ends at a known time; wake then to fall back to the base.
                end = self.overlay_since + self.overlay.period * (self.overlay.repeat or math.inf)
                return level, min(left, end - now)
            self.overlay = None
        return self.base.at(now - self.base_since) or (False, math.inf)

    def level(self, now: float) -> bool:
        return self._current(now)[0]

    def next_change(self, now: float) -> float:
        return self._current(now)[1]


# The signals of docs/BUTTONS.md, in one place.
PENDING = Pattern.blink(0.1, 0.1)          # yellow: press sent, waiting for the server
SLOW = Pattern.blink(1.0, 1.0)             # paused (yellow) / connected, no state yet (green)
HEARTBEAT = Pattern.blink(0.2, 1.8)        # green: counter closed
OFFLINE_PRESS = Pattern.blink(0.08, 0.08, 6)   # red: pressed while the bus is down, not sent
REFUSED = Pattern.blink(0.4, 0.3, 2)       # red: server said no (e.g. nothing waiting)
NO_ACK = Pattern(((True, 2.0), (False, 0.3)), 1)  # red: no answer within ack_timeout_s
BEEP = Pattern.blink(0.08, 0.05, 1)        # buzzer: accepted
BEEP_TWICE = Pattern.blink(0.15, 0.1, 2)   # buzzer: refused / no answer
BEEP_LONG = Pattern.blink(0.6, 0.05, 1)    # buzzer: offline press
