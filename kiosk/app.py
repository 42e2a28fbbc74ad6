"""The kiosk: a pygame state machine that never blocks its own thread on I/O.

Screens: loading → home → info (requirements and flow) → issuing → confirm,
plus error and closed. Network calls run in :class:`~kiosk.client.NetWorker`,
printing in :class:`~kiosk.printer.PrintWorker`, MQTT handlers run here via
``bus.dispatch``. Tests drive it through :meth:`KioskApp.handle_event` and
:meth:`KioskApp.step` and read ``app.screen``.

The loop (:class:`kiosk.loop.FrameLoop`) is event-driven: it redraws only when
what the screens show changed and otherwise sleeps until the next timer that
matters (inactivity, refresh, the opening-hours minute); workers and the bus
wake it through :meth:`KioskApp.wake`.

Example::

    app = KioskApp.from_config(load_config("kiosk.toml"), windowed=(800, 480))
    app.run()
"""
from __future__ import annotations

import logging
import signal
import threading
import time
import uuid
from datetime import datetime, timedelta

import pygame

from . import i18n
from .client import (DAYS, NetWorker, ServerClient, ServerRefused, ServerUnreachable, SiteInfo,
                     parse_server_time)
from .config import KioskConfig
from .layout import Layout, Painter
from .loop import FrameLoop
from .printer import PrintJob, PrintWorker
from .spoken import Speaker, screen_text
from .status import PrinterStatusPublisher, make_bus
from .ticket import TicketData

log = logging.getLogger(__name__)

GHOST_TAP_S = 0.4        # taps this soon after a screen change are ignored (double taps)
DEBOUNCE_S = 0.15        # a second tap this soon after an accepted one is a bounce
REFRESH_S = 60.0         # site/time/queue refresh over HTTP
RETRY_LOAD_S = 5.0       # until the site has loaded once (the server may boot after us)
DAY_NAMES = {"id": ("Sen", "Sel", "Rab", "Kam", "Jum", "Sab", "Min"),
             "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")}
CLOSED_CODES = {"service_closed": "hours", "daily_cap_reached": "cap", "past_closing": "cutoff"}


class KioskApp(FrameLoop):
    """The touchscreen ticket machine; one instance owns the pygame display."""

    def __init__(self, cfg: KioskConfig, *, net: NetWorker, printer: PrintWorker | None = None,
                 bus=None, size=(800, 480), fullscreen: bool = False, clock=time.monotonic,
                 screenshot_dir: str | None = None):
        self.cfg, self.net, self.printer, self.bus = cfg, net, printer, bus
        self._woken = threading.Event()   # set from worker / paho threads: results are waiting
        # refreshes run on their own worker, so a slow refresh never delays issuing
        self.bg = NetWorker(net.client.clone(), wake=self.wake)
        net.wake = self.wake
        if printer is not None:
            printer.wake = self.wake
        if bus is not None:
            bus.wake = self.wake
        self.clock = clock
        self.screenshot_dir = screenshot_dir
        pygame.init()
        if not pygame.mixer.get_init():
            try:
                pygame.mixer.init()
            except pygame.error as exc:   # the screen still works; the Listen button cannot
                log.error("no audio output (%s): the kiosk cannot read its screen aloud", exc)
        self.speaker = Speaker(wake=self.wake)
        flags = pygame.FULLSCREEN if fullscreen else 0
        self.surface = pygame.display.set_mode((0, 0) if fullscreen else size, flags)
        pygame.display.set_caption("LALOPA kiosk")
        pygame.mouse.set_visible(False)
        self.layout = Layout(self.surface.get_size())
        self.painter = Painter(self.surface)
        self.running = True
        # state: everything the screens read
        self.screen = "loading"
        self.lang = "id"
        self.priority: str | None = None
        self.service: str | None = None
        self.site: SiteInfo | None = None
        self.counts: dict[str, dict] = {}
        self._counts_ms = 0   # server time of the figures in self.counts
        self.ticket: dict | None = None
        self.print_state = "none"
        self._print_due: float | None = None   # clock() by which the print job must end
        # A job passed its deadline and the worker has not answered since: it is stuck in a
        # write, and a new job would only queue behind it (and print when nobody waits).
        self._printer_stuck = False
        self.error_text: tuple[str, str] | None = None
        self.closed_reason = "hours"
        self.buttons = []
        self.request_id: str | None = None   # one per deliberate "take" tap, reused on retry
        self.busy = False
        now = clock()
        self.last_input = self.screen_since = now
        self._last_tap = now - DEBOUNCE_S
        self._time_ref: tuple[datetime, float] | None = None
        self._next_refresh = now
        self.printer_status = PrinterStatusPublisher(bus, cfg.device_id) if printer else None
        if printer is not None:
            printer.on_status = self.printer_status.changed
        self._shot: tuple[str, pygame.Surface] | None = None
        self.frames = 0                 # screens drawn (tests check an idle kiosk draws none)
        self.pressed = None             # (action, arg) under a finger that is down
        self._drawn_key = None          # _view_key() of the frame on screen
        if bus is not None:
            bus.subscribe(bus.topics.summary, self._on_summary)
            if self.printer_status:
                bus.on_connected(lambda _sp: self.printer_status.publish())

    # -- construction from the config file -------------------------------------

    @classmethod
    def from_config(cls, cfg: KioskConfig, windowed=None, screenshot_dir=None) -> "KioskApp":
        """Wire the real parts: HTTP worker, printer worker, bus client."""
        wake = None   # the app installs its own wake on every worker and the bus
        s = cfg.server
        net = NetWorker(ServerClient(s.url, cfg.token(), connect_timeout_s=s.connect_timeout_s,
                                     read_timeout_s=s.read_timeout_s, attempts=s.attempts), wake=wake)
        bus = make_bus(cfg, wake)
        printer = PrintWorker(cfg.printer, wake=wake) if cfg.printer.backend != "none" else None
        return cls(cfg, net=net, printer=printer, bus=bus, size=windowed or (800, 480),
                   fullscreen=windowed is None and cfg.screen.fullscreen, screenshot_dir=screenshot_dir)

    def start(self) -> None:
        """Start the worker threads and the first fetches."""
        self.net.start()
        self.bg.start()
        if self.printer:
            self.printer.start()
        if self.bus:
            self.bus.start()
        self._refresh()

    def stop(self) -> None:
        if self.screenshot_dir:
            self._save_shot()
        self.net.stop()
        self.bg.stop()
        if self.printer:
            self.printer.stop()
        if self.bus:
            self.bus.stop()
        self.speaker.stop()
        pygame.display.quit()

    def run(self) -> None:
        """The loop until QUIT, SIGTERM (systemd stop) or Ctrl-C."""
        signal.signal(signal.SIGTERM, lambda *_: setattr(self, "running", False))
        self.start()
        try:
            while self.running:
                self.step(self.next_timeout())
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    # -- input -------------------------------------------------------------------

    def handle_event(self, event) -> None:
        """One pygame event; taps act on release, from exactly one input path."""
        if event.type == pygame.QUIT:
            self.running = False
        elif event.type == pygame.FINGERDOWN:
            self._press((int(event.x * self.layout.w), int(event.y * self.layout.h)))
        elif event.type == pygame.FINGERUP:
            self.pressed = None
            self.tap((int(event.x * self.layout.w), int(event.y * self.layout.h)))
        elif event.type in (pygame.MOUSEBUTTONDOWN, pygame.MOUSEBUTTONUP) and event.button == 1:
            # SDL also synthesises mouse events from touch: act on the finger event only
            if getattr(event, "touch", False):
                return
            if event.type == pygame.MOUSEBUTTONDOWN:
                self._press(event.pos)
            else:
                self.pressed = None
                self.tap(event.pos)
        elif event.type in (pygame.WINDOWEXPOSED, pygame.WINDOWSHOWN, pygame.WINDOWRESTORED,
                            pygame.WINDOWSIZECHANGED):
            self._drawn_key = None   # the window system lost our pixels: draw again
            # A compositor's configure (sway making the window full screen, even at the
            # same size) replaces the display surface; the old one must not be drawn on.
            self.surface = self.painter.s = pygame.display.get_surface() or self.surface
        elif event.type == pygame.KEYDOWN and event.key == pygame.K_ESCAPE:
            if not (self.surface.get_flags() & pygame.FULLSCREEN):
                self.running = False

    def tap(self, pos) -> None:
        """Act on the target under ``pos``, unless locked, a ghost tap or a bounce."""
        now = self.clock()
        self.last_input = now
        if self.busy or now - self.screen_since < GHOST_TAP_S or now - self._last_tap < DEBOUNCE_S:
            return
        for b in self.buttons:
            if b.enabled and b.rect.collidepoint(pos):
                self._last_tap = now
                getattr(self, "_on_" + b.action)(b.arg)
                return

    def _press(self, pos) -> None:
        """A finger went down: highlight the target under it (acting waits for the lift)."""
        hit = next((b for b in self.buttons if b.enabled and b.rect.collidepoint(pos)), None)
        self.pressed = (hit.action, hit.arg) if hit else None

    def button(self, action: str, arg: str | None = None):
        """The on-screen target for an action (tests tap its centre)."""
        return next((b for b in self.buttons if b.action == action and b.arg == arg), None)

    def go(self, screen: str) -> None:
        if screen != self.screen:
            log.info("screen %s -> %s", self.screen, screen)
            self.screen = screen
            self.screen_since = self.clock()
            self.pressed = None

    # -- actions (from taps) -------------------------------------------------------

    def _on_lang(self, _arg) -> None:
        self.lang = "en" if self.lang == "id" else "id"

    def _on_speak(self, _arg) -> None:
        self.speaker.say(screen_text(self))

    def _on_priority(self, prio) -> None:
        self.priority = None if self.priority == prio else prio

    def _on_service(self, prefix) -> None:
        self.service = prefix
        self.go("info")

    def _on_back(self, _arg) -> None:
        self.home()

    def _on_take(self, prefix) -> None:
        if self.cap_reached(prefix) or self.cutoff(prefix) == "stop":
            self.closed_reason = "cap" if self.cap_reached(prefix) else "cutoff"
            self.go("closed")
            return
        self.request_id = f"{self.cfg.device_id}-{uuid.uuid4().hex}"
        self._issue()

    def _on_retry(self, _arg) -> None:
        self._issue()   # same request_id: if the first POST did land, the server returns that ticket

    def _issue(self) -> None:
        self.busy = True
        self.go("issuing")
        self.net.submit("issue", self.request_id, self.service, self.priority, self.request_id)

    def _on_reprint(self, _arg) -> None:
        self._print()

    def _on_done(self, _arg) -> None:
        self.home()

    def home(self) -> None:
        self.priority = None
        self.service = None
        self.request_id = None
        self.error_text = None
        self.go("home" if self.site else "loading")

    # -- results from the workers ------------------------------------------------

    def _drain_results(self) -> None:
        self.speaker.poll()
        for worker in (self.net, self.bg):
            while not worker.results.empty():
                self._on_net(worker.results.get())
        if self.printer:
            while not self.printer.results.empty():
                res = self.printer.results.get()
                self._printer_stuck = False
                if self.ticket and res.job_id == self.ticket["ticket"]["id"]:
                    self._print_due = None
                    # A job that ends in a file is not a ticket in the resident's hand:
                    # the screen then says to note or photograph the number instead.
                    done = "printed" if self.printer.conf.on_paper else "none"
                    self.print_state = done if res.ok else (
                        "paper_out" if res.status == "paper_out" else "failed")

    def _on_net(self, res) -> None:
        if res.kind == "issue":
            self._on_issued(res)
        elif res.error is not None:
            log.warning("%s failed: %s", res.kind, res.error)
        elif res.kind == "site":
            self.site = res.value
            if self.screen == "loading":
                self.go("home")
        elif res.kind == "server_time":
            self._time_ref = (res.value, self.clock())
        elif res.kind == "queue":
            self._set_counts(res.value.get("services", []), _stamp_ms(res.value))

    def _on_issued(self, res) -> None:
        if res.key != self.request_id:
            return   # an answer for a request the resident already left
        self.busy = False
        if res.error is None:
            self.ticket = res.value
            self.request_id = None
            self.go("confirm")
            self._print()
            self.bg.submit("queue")
            return
        err = res.error
        if isinstance(err, ServerRefused) and err.code in CLOSED_CODES:
            self.closed_reason = CLOSED_CODES[err.code]
            self.request_id = None
            self.go("closed")
        elif isinstance(err, ServerRefused):
            self.error_text = (err.message_id or i18n.t("server_error"),
                               err.message_en or i18n.t("server_error", "en"))
            self.go("error")
        else:
            if not isinstance(err, ServerUnreachable):
                log.error("issuing failed: %r", err)
            self.error_text = i18n.both("server_down")
            self.go("error")

    def _print(self) -> None:
        if not self.printer or not self.ticket:
            self.print_state = "none"
            return
        if self._printer_stuck:
            log.warning("printer still stuck in an earlier job; ticket %s not sent",
                        self.ticket["ticket"]["id"])
            self.print_state = "unknown"
            return
        self.print_state = "printing"
        self._print_due = self.clock() + self.printer.deadline_s
        data = TicketData.from_issue(self.ticket, self.site)
        self.printer.submit(PrintJob(self.ticket["ticket"]["id"], data))

    def _check_print_deadline(self) -> None:
        """A job that has not ended by its deadline is "unknown": Done works again and
        the number stays on screen. The worker may be stuck in a blocking write; if its
        answer comes later it still updates the screen."""
        if self.print_state != "printing" or self._print_due is None or self.clock() < self._print_due:
            return
        log.warning("print job %s did not end within %.0f s; status unknown",
                    self.ticket["ticket"]["id"] if self.ticket else "?", self.printer.deadline_s)
        self._print_due = None
        self.print_state = "unknown"
        self._printer_stuck = True
        if self.printer_status:
            self.printer_status.changed("unknown", "print job did not end in time")

    def next_timeout(self) -> float:
        """The loop's timers, and the print deadline."""
        timeout = super().next_timeout()
        if self.print_state == "printing" and self._print_due is not None:
            timeout = min(timeout, max(0.0, self._print_due - self.clock()) + 0.01)
        return timeout

    # -- queue figures, time, timers ---------------------------------------------

    def _on_summary(self, msg) -> None:
        from broker.protocol import ProtocolError, QueueSummary, decode
        try:
            summary = decode(QueueSummary, msg.payload)
        except ProtocolError as exc:
            log.warning("bad summary: %s", exc)
            return
        self._set_counts([s.to_dict() for s in summary.services], summary.server_time_ms)

    def _set_counts(self, services, stamp_ms: int | None = None) -> None:
        """From the bus (a list with "prefix") or HTTP /queue (a dict keyed by prefix).

        Both come from the server; an HTTP answer and a bus summary can cross on
        the way, so figures older (by server time) than the ones shown are dropped."""
        if stamp_ms is not None:
            if stamp_ms < self._counts_ms:
                return
            self._counts_ms = stamp_ms
        if isinstance(services, dict):
            services = [{**v, "prefix": k} for k, v in services.items() if isinstance(v, dict)]
        for s in services:
            if isinstance(s, dict) and "prefix" in s:
                self.counts[s["prefix"]] = s

    def waiting(self, prefix: str) -> tuple[int, int | None]:
        s = self.counts.get(prefix, {})
        return int(s.get("waiting") or 0), s.get("est_wait_s")

    def told(self, prefix: str, priority: str | None = None) -> tuple[int, int] | None:
        """The range (minutes) a new number of ``prefix`` gets now; None: no counter serves it."""
        s = self.counts.get(prefix, {})
        if priority:
            return i18n.wait_range(s.get("prio_low_s"), s.get("prio_high_s"))
        return i18n.wait_range(s.get("est_low_s"), s.get("est_high_s"))

    def served(self, prefix: str) -> bool:
        """False when the server says no open or paused counter serves ``prefix``."""
        return self.counts.get(prefix, {}).get("served_by") != 0

    def cutoff(self, prefix: str) -> str:
        """The server's cut-off for a new number: ok, warn or stop (broker.vocab.CUTOFF_STATES)."""
        return self.counts.get(prefix, {}).get("cutoff") or "ok"

    def cap_reached(self, prefix: str) -> bool:
        svc = self.site.service(prefix) if self.site else None
        issued = self.counts.get(prefix, {}).get("issued")
        return bool(svc and svc.daily_cap and issued is not None and issued >= svc.daily_cap)

    def current_service(self):
        return self.site.service(self.service)

    def server_now(self) -> datetime | None:
        """Server time now, from the last /api/v1/time and the monotonic clock."""
        if not self._time_ref:
            return None
        at, mono = self._time_ref
        return at + timedelta(seconds=self.clock() - mono)

    def hours_text(self, lang: str | None = None) -> str:
        """Opening hours for the closed screen, e.g. "Sen-Kam 08:00-15:00, Jum 08:00-11:30 WIB"."""
        if not self.site or not self.site.hours:
            return ""
        names = DAY_NAMES[lang or self.lang]
        groups: list[list] = []
        for i, day in enumerate(DAYS):
            span = self.site.hours.get(day)
            if span and groups and groups[-1][2] == span and groups[-1][1] == i - 1:
                groups[-1][1] = i
            elif span:
                groups.append([i, i, span])
        parts = [(names[a] if a == b else f"{names[a]}-{names[b]}") + f" {sp[0]}-{sp[1]}"
                 for a, b, sp in groups]
        return (", ".join(parts) + " " + self.site.tz_label).strip()

    def _refresh(self) -> None:
        self._next_refresh = self.clock() + (REFRESH_S if self.site else RETRY_LOAD_S)
        if self.bg.jobs.empty():   # never pile up refreshes behind a dead server
            for kind in ("site", "server_time", "queue"):
                self.bg.submit(kind)

    def _idle_limit(self) -> float | None:
        """Seconds without a touch after which this screen returns home (None: never)."""
        scr = self.cfg.screen
        if self.screen == "confirm":
            if self.print_state == "printing":
                return None
            if self.print_state in ("printed", "none"):
                return scr.confirm_s
            # printing failed: the number on screen is all the resident has, so it stays
            # until "Selesai" is tapped or failed_print_s passes (0: until tapped)
            return scr.failed_print_s or None
        if self.screen in ("info", "error") or (self.screen == "closed" and self.closed_reason in ("cap", "cutoff")):
            return scr.inactivity_s
        return None

    def _timers(self) -> None:
        self._check_print_deadline()
        now = self.clock()
        if now >= self._next_refresh:
            self._refresh()
        limit = self._idle_limit()
        if limit is not None and now - self.last_input > limit:
            self.home()
        self._check_open()

    def _check_open(self) -> None:
        """Closed screen outside opening hours (server time), home again when open."""
        now = self.server_now()
        if not self.site or now is None:
            return
        is_open = self.site.is_open(now)
        if not is_open and self.screen in ("home", "info"):
            self.closed_reason = "hours"
            self.go("closed")
        elif is_open and self.screen == "closed" and self.closed_reason == "hours":
            self.go("home")


def _stamp_ms(body: dict) -> int | None:
    """Server time of an HTTP answer in epoch ms, if it carries one."""
    try:
        return int(parse_server_time(body).timestamp() * 1000)
    except (ValueError, TypeError):
        return None
