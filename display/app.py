"""The board's event loop: bus messages in, regions redrawn, calls announced.

Everything runs in the pygame thread. Paho's thread only enqueues messages in
the BusClient inbox and sets one wake-up flag; the loop then dispatches the
handlers here. The loop sleeps for exactly as long as nothing needs drawing:
until the clock's next minute (or second), the next flash phase, the next
running-text frame, or the end of an announcement. While idle it sleeps on a
``threading.Event`` (a real kernel wait), looking at pygame's queue only every
``EVENT_POLL_S``: ``pygame.event.wait(timeout)`` polls every millisecond
(measured: ~2.8 % of a core under the dummy driver, doing nothing), which is
more than the whole idle budget of the board.

Example::

    app = BoardApp(config, size=(1920, 1080))
    app.open()
    app.run()   # until the window is closed or SIGTERM
"""
from __future__ import annotations

import logging
import threading
import time
from collections import deque
from pathlib import Path

import pygame

from broker import settings
from broker.bus import BusClient, Incoming
from broker.protocol import BoardSnapshot, CallEvent, ProtocolError, decode

from .announcer import SOUND_END, Announcer
from .config import DisplayConfig
from .render import Renderer
from .state import BoardState
from .voice import ClipLibrary

log = logging.getLogger(__name__)

WAKE = pygame.event.custom_type()
MAX_WAIT_S = 30.0
# How often an idle board looks at pygame's own queue (window close, SIGTERM
# turned into QUIT by SDL, keys). Bus messages wake it at once.
EVENT_POLL_S = 0.25
UPDATES_KEPT = 256


class BoardApp:
    """One display board: a window, a bus client, a renderer and an announcer."""

    def __init__(self, config: DisplayConfig, *, size: tuple[int, int] | None = None,
                 screenshots_dir: str | Path | None = None, use_bus: bool = True,
                 monotonic=time.monotonic):
        self.config = config
        self.size = size
        self.screenshots_dir = Path(screenshots_dir) if screenshots_dir else None
        self.use_bus = use_bus
        self.monotonic = monotonic
        self.state = BoardState(monotonic=monotonic)
        self.running = False
        self.frames = 0
        self.full_redraws = 0  # frames that repainted the whole screen
        # The rects handed to pygame.display.update, one tuple per frame (tests read it).
        self.updates: deque[tuple[tuple[int, int, int, int], ...]] = deque(maxlen=UPDATES_KEPT)
        self.bus: BusClient | None = None
        self.announcer: Announcer | None = None
        self.renderer: Renderer | None = None
        self._wakeup = threading.Event()
        self._flash_key = None
        self._clock_key = None

    # -- set-up -------------------------------------------------------------

    def open(self) -> "BoardApp":
        voice = self.config.voice
        if voice["enabled"]:
            pygame.mixer.pre_init(22050, -16, 1, 1024)
        pygame.init()
        screen = self._open_screen()
        board = self.config.board
        self.renderer = Renderer(screen, flash_s=board["flash_s"], clock_seconds=board["clock_seconds"],
                                 ticker_speed=board["ticker_speed"] * screen.get_height() / 1080)
        self.announcer = Announcer(self._library() if voice["enabled"] else None,
                                   reading=voice["reading"], repeat=voice["repeat"],
                                   volume=voice["volume"], clock=self.monotonic)
        self.state.dirty.add("all")
        self.draw()
        if self.use_bus:
            self._start_bus()
        self.running = True
        return self

    def _open_screen(self) -> pygame.Surface:
        pygame.display.set_caption("LALOPA")
        if self.size:
            return pygame.display.set_mode(self.size)
        pygame.mouse.set_visible(False)
        return pygame.display.set_mode((0, 0), pygame.FULLSCREEN)

    def _library(self) -> ClipLibrary | None:
        v = self.config.voice
        if not pygame.mixer.get_init():
            log.warning("no audio output device: calls are shown but not announced")
            return None
        # Calls are spoken as whole phrases synthesised on demand (the next one while
        # the current plays), so there is no clip cache to fill at start.
        return ClipLibrary(v["cache_dir"], v["voice_pack"], espeak=v["espeak"],
                           chime_ms=v["chime_ms"], gap_ms=v["gap_ms"], phrase_gap_ms=v["phrase_gap_ms"])

    def _start_bus(self) -> None:
        bus_cfg = self.config.bus
        self.bus = BusClient(site=bus_cfg["site"], role="display", device=self.config.device_id,
                             host=bus_cfg["host"], port=bus_cfg["port"], username=bus_cfg["username"],
                             password=self.config.password(), tls_ca=bus_cfg["tls_ca"], wake=self._wake)
        self.bus.subscribe(self.bus.topics.board, self._on_board)
        self.bus.subscribe(self.bus.topics.call, self._on_call)
        self.bus.on_connected(lambda _session: self.state.set_online(True))
        self.bus.on_disconnected(lambda: self.state.set_online(False))
        self.bus.start()

    def _wake(self) -> None:
        # Paho's thread: the flag ends an idle sleep, the WAKE event a wait while
        # speaking; one of each is enough, the loop drains the whole inbox.
        if not self._wakeup.is_set():
            self._wakeup.set()
            pygame.event.post(pygame.event.Event(WAKE))

    def close(self) -> None:
        self.running = False
        if self.bus is not None:
            self.bus.stop()
            self.bus = None
        if self.announcer is not None and self.announcer.library is not None:
            self.announcer.library.close()
        pygame.quit()

    # -- bus handlers (pygame thread) ---------------------------------------

    def _on_board(self, msg: Incoming) -> None:
        if not msg.payload:
            return  # a cleared retained topic
        try:
            snap = decode(BoardSnapshot, msg.payload)
        except ProtocolError as exc:
            log.warning("ignored board snapshot: %s", exc.reason)
            self.state.note_ignored()
            return
        if snap.site != self.config.bus["site"]:
            log.warning("ignored board snapshot of site %r", snap.site)
            self.state.note_ignored()
            return
        self.state.apply_snapshot(snap, retained=msg.retain)
        # Calls this snapshot revealed that no call event brought (lost or overtaken):
        # still announced once, in seq order, while they are fresh.
        for call in self.state.take_late():
            self.announcer.enqueue(call)
            self._screenshot(f"call-{call.seq}.png", force_draw=True)

    def _on_call(self, msg: Incoming) -> None:
        if not msg.payload:
            return  # someone cleared a wrongly retained call
        if msg.retain:
            # Events are never retained; replaying one would re-announce an old call.
            log.warning("ignored a retained call event")
            self.state.note_ignored()
            return
        try:
            call = decode(CallEvent, msg.payload)
        except ProtocolError as exc:
            log.warning("ignored call event: %s", exc.reason)
            self.state.note_ignored()
            return
        outcome = self.state.apply_call(call)
        if outcome == "duplicate":
            return
        if outcome == "gap" and self.bus is not None:
            # Re-subscribing makes the broker resend the retained snapshot now.
            self.bus.resubscribe(self.bus.topics.board)
        self.announcer.enqueue(call)
        self._screenshot(f"call-{call.seq}.png", force_draw=True)

    # -- the loop -----------------------------------------------------------

    def run(self) -> None:
        while self.running:
            self.step()

    def run_until(self, predicate, timeout: float) -> bool:
        """Step the loop until ``predicate()`` holds (tests, screenshots)."""
        deadline = time.monotonic() + timeout
        while not predicate():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self.step(max_wait=min(left, 0.05))
        return True

    def step(self, max_wait: float = MAX_WAIT_S) -> None:
        """Wait for the next event or due frame, handle everything, redraw what changed."""
        first = self._sleep(min(max_wait, self.next_timeout()))
        for ev in first + pygame.event.get():
            self._handle(ev)
        # Clear before draining: a message enqueued after this wakes the next sleep.
        self._wakeup.clear()
        if self.bus is not None:
            self.bus.dispatch(0)
        self.announcer.update()
        self._mark_time_dirty()
        self.draw()

    def _sleep(self, wait: float) -> list:
        """Block until ``wait`` s pass, a bus message arrives or pygame has an event.

        Returns the event that ended the wait, if it was taken off the queue."""
        if wait <= 0 or self._wakeup.is_set() or pygame.event.peek():
            return []
        if not self.announcer.idle:
            # Speaking: the channel's end event must start the next call without a gap,
            # and an announcement lasts seconds, so pygame's polling wait is fine here.
            event = pygame.event.wait(max(1, int(wait * 1000)))
            return [] if event.type == pygame.NOEVENT else [event]
        deadline = time.monotonic() + wait
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or self._wakeup.wait(min(left, EVENT_POLL_S)) or pygame.event.peek():
                return []

    def _handle(self, ev) -> None:
        if ev.type == WAKE:
            pass  # the inbox is drained after the events
        elif ev.type == SOUND_END:
            self.announcer.on_sound_end()
        elif ev.type == pygame.QUIT or (ev.type == pygame.KEYDOWN and ev.key in (pygame.K_ESCAPE, pygame.K_q)):
            self.running = False
        elif ev.type in (pygame.WINDOWEXPOSED, pygame.WINDOWSIZECHANGED):
            # A compositor's configure (sway making the window full screen, even at the
            # same size) replaces the display surface: drawing on the old one shows
            # nothing, or crashes SDL.
            self.renderer.surface = pygame.display.get_surface()
            self.renderer.layout(self.renderer.surface.get_size())
            self.state.dirty.add("all")

    def next_timeout(self) -> float:
        """Seconds until something on screen or in the speaker is due."""
        due = [MAX_WAIT_S]
        unit = 1 if self.config.board["clock_seconds"] else 60
        tick = self.state.clock.seconds_to_next(unit)
        if tick is not None:
            due.append(tick + 0.01)
        if self.state.current_since is not None:
            age = self.monotonic() - self.state.current_since
            if age < self.renderer.flash_s:
                due.append(0.5 - age % 0.5 + 0.005)  # next flash phase (or its end)
        if self.renderer.ticker_scrolls(self.state):
            due.append(1.0 / self.config.board["ticker_fps"])
        deadline = self.announcer.next_deadline()
        if deadline is not None:
            due.append(max(0.0, deadline - self.monotonic()))
        return max(0.0, min(due))

    def _mark_time_dirty(self) -> None:
        now = self.state.clock.now()
        key = None if now is None else (now.strftime("%Y%m%d%H%M%S" if self.config.board["clock_seconds"]
                                                     else "%Y%m%d%H%M"))
        if key != self._clock_key:
            self._clock_key = key
            self.state.dirty.add("clock")
        flash = None
        if self.state.flashing(self.renderer.flash_s):
            flash = (self.state.current.seq, int((self.monotonic() - self.state.current_since) * 2))
        if flash != self._flash_key:
            self._flash_key = flash
            self.state.dirty.add("call")
        if self.renderer.ticker_scrolls(self.state):
            self.state.dirty.add("ticker")

    def draw(self) -> list:
        """Redraw the dirty regions only; nothing at all when nothing changed."""
        regions = self.state.take_dirty()
        if not regions:
            return []
        rects = self.renderer.draw(self.state, regions)
        # Only the changed regions go to the screen: a scrolling ticker costs one strip.
        pygame.display.update(rects)
        self.frames += 1
        self.full_redraws += "all" in regions
        self.updates.append(tuple(tuple(r) for r in rects))
        if regions & {"all", "counters", "badge"}:
            self._screenshot("latest.png")
        return rects

    def _screenshot(self, name: str, force_draw: bool = False) -> None:
        if self.screenshots_dir is None:
            return
        if force_draw:
            self._mark_time_dirty()
            self.draw()
        self.screenshots_dir.mkdir(parents=True, exist_ok=True)
        pygame.image.save(self.renderer.surface, str(self.screenshots_dir / name))

    def save(self, path: str | Path) -> None:
        """Write the current screen to a PNG."""
        pygame.image.save(self.renderer.surface, str(path))


def setup_logging() -> None:
    logging.basicConfig(level=settings.get("LALOPA_LOG"),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
