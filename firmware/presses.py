"""Bench mode: press a box's buttons from outside the process, on gpiozero's mock pins.

A rehearsal host or a bench has no GPIO (python3-lgpio is Raspberry Pi's package, not
Debian's), but the box's whole code must still run from the pin up. With
``lalopa button run --mock-pins --press-socket PATH`` the box listens on a Unix
socket; each line names a press, which drives that button's MockPin low, waits as a
finger would, and drives it high again, exactly as :mod:`firmware.keys` does for a
keyboard. gpiozero's callbacks, the cooldown, the hold timer, the bus command and the
acknowledgement then run unchanged. The socket is refused unless the box's pins are
mock pins: it can never press a real box.

Protocol, one line each way (ASCII)::

    -> <id> NEXT | RECALL | SKIP | PAUSE | HOLD        (HOLD = hold NEXT: finish)
    <- <id> pressed <outcome> <command-id>             (outcome: ok, refused:CODE,
                                                        no_ack, offline, or none when
                                                        the box sent nothing: cooldown)
    <- <id> error <Indonesian> / <English>             (nothing was pressed)

Every press carries an id: the same id again is answered with the first answer and
presses nothing (a harness may retry after a lost reply). Presses are done one at a
time, in the order they arrive.

Example::

    lalopa button press --socket /run/lalopa-button/press.sock NEXT
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections import OrderedDict
from pathlib import Path

from broker.protocol import ID_RE

from .keys import KeyDriver

log = logging.getLogger(__name__)

#: action word -> (button, key of firmware.keys that presses it that way)
ACTIONS = {"NEXT": ("next", "n"), "RECALL": ("recall", "r"), "SKIP": ("skip", "s"),
           "PAUSE": ("pause", "p"), "HOLD": ("next", "N")}
REMEMBERED = 256          # answers kept for repeated ids
MAX_LINE = 200


class PressServer:
    """The press socket of one running box (see the module docstring)."""

    def __init__(self, box, path: str | Path, *, sleep=time.sleep):
        self.box, self.path = box, Path(path)
        self.driver = KeyDriver(box, sleep=sleep)   # refuses real pins (RuntimeError)
        self.answers: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()
        self.sock: socket.socket | None = None

    def start(self) -> "PressServer":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.is_socket():
            self.path.unlink()   # a stale socket of a box that was killed
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(str(self.path))
        os.chmod(self.path, 0o660)
        self.sock.listen(8)
        threading.Thread(target=self._accept, name="lalopa-presses", daemon=True).start()
        log.warning("BENCH MODE: presses accepted on %s (mock pins, no real buttons)", self.path)
        return self

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None
            try:
                self.path.unlink()
            except FileNotFoundError:
                pass

    def _accept(self) -> None:
        while self.sock is not None:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn, conn.makefile("rwb", buffering=0) as stream:
            for raw in stream:
                answer = self.handle(raw[:MAX_LINE].decode("ascii", "replace").strip())
                stream.write(answer.encode("ascii", "replace") + b"\n")

    def handle(self, line: str) -> str:
        """One request line -> one answer line (also usable without the socket)."""
        parts = line.split()
        if len(parts) != 2 or not ID_RE.match(parts[0]):
            return ("- error tulis '<id> TOMBOL' / write '<id> BUTTON' "
                    f"(BUTTON: {' '.join(ACTIONS)})")
        press_id, action = parts[0], parts[1].upper()
        with self._lock:
            if press_id in self.answers:
                return self.answers[press_id]
            answer = self._press(press_id, action)
            if " error " not in answer:
                self.answers[press_id] = answer
                while len(self.answers) > REMEMBERED:
                    self.answers.popitem(last=False)
            return answer

    def _press(self, press_id: str, action: str) -> str:
        if action not in ACTIONS:
            return (f"{press_id} error tombol tidak dikenal: {action} / unknown button "
                    f"(one of {' '.join(ACTIONS)})")
        button, key = ACTIONS[action]
        if button not in self.box.panel.buttons:
            return f"{press_id} error tombol {button} tidak terpasang / button {button} is not fitted"
        known, seq = set(self.box.results), self.box.seq
        self.driver.key(key)
        log.info("bench press %s: %s", press_id, action)
        # The box's own loop publishes the command and reads the acknowledgement; wait
        # for its outcome as long as the box itself would. A press the box did not send
        # (cooldown, still waiting for the server) leaves its sequence number alone.
        start = time.monotonic()
        deadline = start + self.box.cfg.timing["ack_timeout_s"] + 1.0
        while time.monotonic() < deadline:
            new = [r for r in list(self.box.results) if r not in known]
            if new:
                command_id, outcome = new[0]
                return f"{press_id} pressed {outcome} {command_id}"
            if self.box.seq == seq and time.monotonic() - start > 1.0:
                break
            time.sleep(0.02)
        return f"{press_id} pressed none -"


def press(path: str | Path, action: str, press_id: str | None = None,
          timeout: float = 15.0) -> str:
    """Client side: send one press to a running box's socket; returns its answer line."""
    press_id = press_id or f"press-{uuid.uuid4().hex[:12]}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(str(path))
        s.sendall(f"{press_id} {action}\n".encode("ascii"))
        answer = b""
        while not answer.endswith(b"\n"):
            chunk = s.recv(512)
            if not chunk:
                break
            answer += chunk
    return answer.decode("ascii", "replace").strip()
