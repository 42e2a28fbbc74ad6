"""Keyboard keys standing in for the buttons on a PC (``GPIOZERO_PIN_FACTORY=mock``).

A key drives the button's MockPin low then high (``drive_low``/``drive_high``),
so gpiozero's callbacks and the box's whole code path run as on a Pi.

Keys: ``n`` NEXT, ``r`` RECALL, ``s`` SKIP, ``p`` PAUSE, upper case = hold that
button for ``hold_s`` + 0.2 s (``N`` = finish), ``.`` waits 0.5 s (scripts),
``q`` quits. Two readers: raw single keys from a TTY, or
``--keys-from-stdin`` lines for scripts (end of input also quits).

Example::

    printf 'n\\n.\\nr\\n..q\\n' | lalopa button run --config box.toml --keys-from-stdin
"""
from __future__ import annotations

import logging
import os
import sys
import threading
import time

log = logging.getLogger(__name__)

KEYS = {"n": "next", "r": "recall", "s": "skip", "p": "pause"}
TAP_S = 0.05
HELP = ("Tombol tiruan / simulated buttons: n=NEXT r=RECALL s=SKIP p=PAUSE, "
        "N=tahan NEXT / hold NEXT (finish), q=keluar / quit")


class KeyDriver:
    """Turns characters into MockPin presses of a box's buttons."""

    def __init__(self, box, sleep=time.sleep):
        self.box, self.sleep = box, sleep
        self.hold_s = box.cfg.timing["hold_s"] + 0.2
        pins = [b.pin for b in box.panel.buttons.values()]
        if not pins or not all(hasattr(p, "drive_low") for p in pins):
            raise RuntimeError("tombol keyboard hanya dengan pin tiruan / keyboard keys need "
                               "GPIOZERO_PIN_FACTORY=mock")

    def key(self, ch: str) -> bool:
        """Act on one character; False once the box was asked to quit."""
        if ch == "q":
            self.box.request_stop()
            return False
        if ch == ".":
            self.sleep(0.5)
            return True
        button = self.box.panel.buttons.get(KEYS.get(ch.lower(), ""))
        if button is None:
            return True  # other keys, spaces and unwired buttons do nothing
        button.pin.drive_low()  # pull-up wiring: pressed = low
        self.sleep(self.hold_s if ch.isupper() else TAP_S)
        button.pin.drive_high()
        self.sleep(TAP_S)
        return True

    def feed_lines(self, stream) -> None:
        """Line mode: every character of every line, in order; EOF quits."""
        for line in stream:
            for ch in line.strip():
                if not self.key(ch):
                    return
        self.box.request_stop()


class RawKeys:
    """Single keys from a terminal in cbreak mode; the terminal is restored on close."""

    def __init__(self, driver: KeyDriver, fd: int | None = None):
        import termios
        import tty
        self.driver = driver
        self.fd = sys.stdin.fileno() if fd is None else fd
        self._saved = termios.tcgetattr(self.fd)
        tty.setcbreak(self.fd)
        self._termios = termios

    def start(self) -> "RawKeys":
        threading.Thread(target=self._loop, name="lalopa-keys", daemon=True).start()
        return self

    def _loop(self) -> None:
        while True:
            data = os.read(self.fd, 1)
            if not data:
                self.driver.box.request_stop()
                return
            if not self.driver.key(data.decode("ascii", "ignore")):
                return

    def close(self) -> None:
        self._termios.tcsetattr(self.fd, self._termios.TCSADRAIN, self._saved)


def start_keys(box, *, lines: bool):
    """Start the right key reader; returns an object with ``close()`` or None."""
    driver = KeyDriver(box)
    if lines:
        threading.Thread(target=driver.feed_lines, args=(sys.stdin,), name="lalopa-keys",
                         daemon=True).start()
        return None
    if sys.stdin.isatty():
        print(HELP, file=sys.stderr)
        return RawKeys(driver).start()
    return None
