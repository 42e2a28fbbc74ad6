"""Helpers that drive the kiosk app the way a resident does (shared by the kiosk tests)."""
import socket
import threading
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


class LoopbackPrinter:
    """A port-9100 printer on 127.0.0.1: every connection runs in its own thread and its
    bytes are recorded in ``connections``. Subclasses answer in :meth:`respond`
    (return False to drop the connection) and may pick per-connection behaviour in
    :meth:`accepted`."""

    def __init__(self, port: int = 0):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(5)
        self.port = self.sock.getsockname()[1]
        self.connections: list[bytearray] = []
        self.done = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def accepted(self):
        """Called once per new connection; what it returns is passed to ``respond``."""
        return None

    def respond(self, conn: socket.socket, data: bytearray, ctx) -> bool | None:
        raise NotImplementedError

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            ctx = self.accepted()
            threading.Thread(target=self._handle, args=(conn, ctx), daemon=True).start()

    def _handle(self, conn: socket.socket, ctx) -> None:
        data = bytearray()
        self.connections.append(data)
        with conn:
            while True:
                try:
                    chunk = conn.recv(65536)
                except OSError:
                    break
                if not chunk:
                    break
                data += chunk
                if self.respond(conn, data, ctx) is False:
                    break
        self.done.set()

    def close(self) -> None:
        self.sock.close()
