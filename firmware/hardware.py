"""The box's GPIO parts: buttons, LEDs, buzzer and an optional 7-segment display.

Built from gpiozero devices, so the same code runs on a Pi (lgpio) and on a PC
or in tests (``GPIOZERO_PIN_FACTORY=mock``). Button callbacks run on gpiozero's
threads and only put ``(kind, button, t)`` on the box's queue (a slow handler
misses the release); everything else happens in the box's main loop.

Example::

    panel = Panel(cfg, events=queue.Queue(), clock=time.monotonic)
    panel.set_outputs({"green": True})
    panel.close()
"""
from __future__ import annotations

import logging
import queue
from typing import Callable

from gpiozero import LED, Button, Buzzer, LEDCharDisplay, LEDMultiCharDisplay

from .config import BoxConfig

log = logging.getLogger(__name__)

BUTTONS = ("next", "recall", "skip", "pause")
LEDS = ("green", "yellow", "red")
# Extra 7-segment glyphs (segments a..g) that gpiozero's default font lacks.
EXTRA_GLYPHS = {"-": (0, 0, 0, 0, 0, 0, 1)}


class Panel:
    """Every GPIO device of one box; outputs are set only by the main loop."""

    def __init__(self, cfg: BoxConfig, events: queue.Queue, clock: Callable[[], float],
                 pin_factory=None):
        self.events, self.clock = events, clock
        self.buttons: dict[str, Button] = {}
        self.outputs: dict[str, LED | Buzzer] = {}
        self.display: LEDMultiCharDisplay | None = None
        try:
            self._build(cfg, pin_factory)
        except Exception:
            self.close()  # never leave half the pins reserved (GPIOPinInUse next time)
            raise

    def _build(self, cfg: BoxConfig, pin_factory) -> None:
        t = cfg.timing
        for name in BUTTONS:
            pin = cfg.pins.get(name)
            if pin is None:
                continue
            # Keyword arguments only after the pin: gpiozero 2.x raises TypeError otherwise.
            btn = Button(pin, pull_up=True, bounce_time=t["bounce_s"] or None,
                         hold_time=t["hold_s"], pin_factory=pin_factory)
            btn.when_pressed = self._enqueue("down", name)
            btn.when_released = self._enqueue("up", name)
            btn.when_held = self._enqueue("held", name)
            self.buttons[name] = btn
        for name in LEDS:
            self.outputs[name] = LED(cfg.leds[name], active_high=cfg.leds["active_high"],
                                     pin_factory=pin_factory)
        if cfg.buzzer["pin"] is not None:
            self.outputs["buzzer"] = Buzzer(cfg.buzzer["pin"], active_high=cfg.buzzer["active_high"],
                                            pin_factory=pin_factory)
        if cfg.display["enabled"]:
            d = cfg.display
            char = LEDCharDisplay(*d["segments"], active_high=d["active_high"], pin_factory=pin_factory)
            for glyph, segments in EXTRA_GLYPHS.items():
                char.font[glyph] = segments
            self.display = LEDMultiCharDisplay(char, *d["digits"], pin_factory=pin_factory)

    def _enqueue(self, kind: str, name: str) -> Callable[[], None]:
        # Runs on gpiozero's thread: stamp and hand over, nothing else.
        def handler() -> None:
            self.events.put((kind, name, self.clock()))
        return handler

    @property
    def width(self) -> int:
        return len(self.display.plex) if self.display is not None else 0

    def set_outputs(self, levels: dict[str, bool]) -> None:
        """Set outputs whose level changed (so MockPin.states records transitions only)."""
        for name, level in levels.items():
            dev = self.outputs.get(name)
            if dev is not None and bool(dev.value) != level:
                dev.value = level

    def show(self, text: str) -> None:
        """Show up to ``width`` characters, right-aligned; unknown glyphs become blanks."""
        if self.display is None:
            return
        font = self.display.char.font
        chars = tuple(c if c in font else " " for c in text.upper()[-self.width:])
        padded = (" ",) * (self.width - len(chars)) + chars
        if tuple(self.display.value) != padded:  # rewriting restarts the plex thread
            self.display.value = padded

    def close(self) -> None:
        devices = [self.display, *self.outputs.values(), *self.buttons.values()]
        for dev in devices:
            if dev is None:
                continue
            try:
                dev.close()
            except Exception:  # closing must reach every device
                log.exception("closing %r failed", dev)
        self.buttons, self.outputs, self.display = {}, {}, None
