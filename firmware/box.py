"""The counter's call-button box: presses in, CounterCommands out, LEDs from the ack.

One main loop owns everything: it drains the queue that gpiozero's callbacks
(and the bus's wake hook) fill, runs the bus handlers (``BusClient.dispatch``),
publishes commands and sets the outputs from blink patterns on an injected
clock. The server owns state and time: the box only shows what the counter's
retained :class:`~broker.protocol.CounterState` says, and a press counts as
done when that state comes back with ``last_command.id`` equal to the press id.

Buttons (docs/BUTTONS.md): NEXT (short press, acts on release) = ``next``,
NEXT held for ``hold_s`` = ``finish`` (end the current service without calling
anyone; acts when the hold is reached), RECALL = ``recall``, SKIP =
``no_show``, PAUSE = ``pause`` / ``resume`` by the counter's state.

Example::

    box = ButtonBox(load_config("firmware/example.toml"))
    box.start()
    box.run()          # until box.request_stop()
    box.close()
"""
from __future__ import annotations

import logging
import math
import queue
import secrets
import time
from dataclasses import dataclass
from typing import Callable

from broker.bus import BusClient, Incoming
from broker.protocol import CounterCommand, CounterState, ProtocolError, decode
from broker.vocab import ACTIVE_STATES

from . import lamps, smiley
from .config import BoxConfig
from .hardware import Panel

log = logging.getLogger(__name__)

SHORT_ACTIONS = {"recall": "recall", "skip": "no_show"}  # act when pressed
SERVING = ACTIVE_STATES


class ServerTime:
    """The box's estimate of the server's clock (``sent_at_ms`` of a command).

    A *live* CounterState fixes ``offset = server_time_ms - clock()``. A
    *retained* one may be hours old, so until a live one arrives the estimate
    is ``max(wall clock, retained server time + time since it arrived)``: right
    when the box's own clock is right, and never earlier than the server was.
    """

    def __init__(self, clock: Callable[[], float], wall: Callable[[], float] = time.time):
        self.clock, self.wall = clock, wall
        self.offset_ms: float | None = None
        self._retained: tuple[int, float] | None = None

    def learn(self, server_time_ms: int, retained: bool) -> None:
        if retained:
            if self.offset_ms is None:
                self._retained = (server_time_ms, self.clock())
            return
        self.offset_ms = server_time_ms - self.clock() * 1000

    def now_ms(self) -> int:
        now = self.clock()
        if self.offset_ms is not None:
            return int(now * 1000 + self.offset_ms)
        estimate = int(self.wall() * 1000)
        if self._retained is not None:
            ms, at = self._retained
            estimate = max(estimate, int(ms + (now - at) * 1000))
        return estimate


@dataclass
class Pending:
    """A published press waiting for its acknowledgement."""

    command: CounterCommand
    sent_at: float


class ButtonBox:
    """One counter's box; see the module docstring."""

    def __init__(self, cfg: BoxConfig, *, clock: Callable[[], float] = time.monotonic,
                 wall: Callable[[], float] = time.time, pin_factory=None, nonce: str | None = None):
        self.cfg, self.clock = cfg, clock
        self.events: queue.Queue = queue.Queue()
        self.nonce = nonce or secrets.token_hex(4)  # a new one every boot: ids never repeat
        self.seq = 0
        self.server_time = ServerTime(clock, wall)
        self.state: CounterState | None = None
        self.pending: Pending | None = None
        self.last_accepted = -math.inf
        self.results: list[tuple[str, str]] = []  # (command id, outcome), newest last
        self._down: dict[str, float] = {}
        self._held: set[str] = set()
        self._stopping = False
        self.lamps = {name: lamps.Lamp() for name in ("green", "yellow", "red", "buzzer")}
        b = cfg.bus
        self.bus = BusClient(site=b["site"], role="button", device=cfg.device_id, host=b["host"],
                             port=b["port"], username=b["username"], password=cfg.bus_password(),
                             tls_ca=b["tls_ca"], wake=lambda: self.events.put(("bus", "", 0.0)))
        self.topic_command = self.bus.topics.command(cfg.counter)
        self.topic_state = self.bus.topics.counter_state(cfg.counter)
        self.panel = Panel(cfg, self.events, clock, pin_factory)
        self.smiley = None
        if smiley.fitted(cfg):   # the optional smiley pad (firmware/smiley.py)
            try:
                self.smiley = smiley.SmileyPad(cfg, self.events, clock=clock, bus=self.bus,
                                               server_ms=self.server_time.now_ms, nonce=self.nonce,
                                               pin_factory=pin_factory)
            except Exception:
                self.panel.close()
                raise

    # -- life cycle ---------------------------------------------------------

    def start(self) -> "ButtonBox":
        self.bus.subscribe(self.topic_state, self._on_state)
        self.bus.on_disconnected(lambda: log.warning("bus down: presses are not sent"))
        self.bus.start()
        self._refresh(self.clock())
        return self

    def request_stop(self) -> None:
        """Thread-safe: the loop ends after its current step."""
        self.events.put(("quit", "", 0.0))

    def run(self) -> None:
        while not self._stopping:
            self.step(0.5)

    def close(self) -> None:
        self.bus.stop()
        self.panel.close()
        if self.smiley is not None:
            self.smiley.close()

    # -- one turn of the loop -----------------------------------------------

    def step(self, timeout: float = 0.5) -> None:
        """Wait up to ``timeout`` (less when a lamp must change), then handle everything."""
        now = self.clock()
        try:
            first = self.events.get(timeout=max(0.0, min(timeout, self._sleep_budget(now))))
        except queue.Empty:
            first = None
        while first is not None:
            self._handle(*first)
            try:
                first = self.events.get_nowait()
            except queue.Empty:
                first = None
        self.bus.dispatch(timeout=0)
        self._refresh(self.clock())

    def _sleep_budget(self, now: float) -> float:
        budget = min(lamp.next_change(now) for lamp in self.lamps.values())
        if self.pending is not None:
            budget = min(budget, self.pending.sent_at + self.cfg.timing["ack_timeout_s"] - now)
        if self.panel.display is not None:
            alt = self.cfg.display["alternate_s"]
            budget = min(budget, alt - (now % alt))
        return budget

    def _handle(self, kind: str, name: str, t: float) -> None:
        if kind == "quit":
            self._stopping = True
        elif kind == "smiley" and self.smiley is not None:
            self.smiley.press(name, t)
        elif kind == "down":
            self._down[name] = t
            self._held.discard(name)
            if name in SHORT_ACTIONS:
                self.press(SHORT_ACTIONS[name], t)
            elif name == "pause":
                paused = self.state is not None and self.state.status == "paused"
                self.press("resume" if paused else "pause", t)
        elif kind == "held" and name == "next" and name in self._down and name not in self._held:
            self._held.add(name)
            self.press("finish", t)
        elif kind == "up" and name == "next":
            down_at = self._down.pop(name, None)
            if down_at is None or name in self._held:
                return  # a release without a press, or the hold already acted
            # A hold that gpiozero reported late still means finish.
            self.press("finish" if t - down_at >= self.cfg.timing["hold_s"] else "next", t)
        elif kind == "up":
            self._down.pop(name, None)

    # -- presses ------------------------------------------------------------

    def press(self, action: str, t: float) -> str | None:
        """Publish one command unless the press is a bounce, a repeat or offline.

        Returns the command id, or None when nothing was published.
        """
        if t - self.last_accepted < self.cfg.timing["cooldown_s"] or self.pending is not None:
            log.info("press %s ignored: within cooldown or still waiting for the server", action)
            return None
        self.last_accepted = t
        now = self.clock()
        self.seq += 1
        cmd = CounterCommand(id=f"{self.cfg.device_id}:{self.nonce}:{self.cfg.counter}:{self.seq}",
                             counter=self.cfg.counter, action=action, device=self.cfg.device_id,
                             sent_at_ms=self.server_time.now_ms(),
                             reason=self.cfg.pause["reason"] if action == "pause" else None)
        # Never queued: a press must not be applied minutes later (when_offline="drop").
        info = self.bus.publish_message(self.topic_command, cmd, qos=1, when_offline="drop",
                                        expiry_s=self.cfg.timing["max_command_age_s"])
        if info is None:
            log.warning("press %s NOT sent: bus is down (tidak terhubung)", action)
            self._outcome(cmd.id, "offline", now, red=lamps.OFFLINE_PRESS, buzz=lamps.BEEP_LONG)
            return None
        log.info("sent %s as %s", action, cmd.id)
        self.pending = Pending(cmd, now)
        self.lamps["yellow"].signal(lamps.PENDING, now)
        return cmd.id

    def _outcome(self, cmd_id: str, outcome: str, now: float, red=None, buzz=None) -> None:
        self.results.append((cmd_id, outcome))
        del self.results[:-50]
        self.lamps["yellow"].signal(None, now)
        if red is not None:
            self.lamps["red"].signal(red, now)
        if buzz is not None:
            self.lamps["buzzer"].signal(buzz, now)

    # -- the server's answer ------------------------------------------------

    def _on_state(self, msg: Incoming) -> None:
        if not msg.payload:
            self.state = None  # the server cleared the counter's state
            return
        try:
            state = decode(CounterState, msg.payload)
        except ProtocolError as exc:
            log.warning("bad counter state dropped: %s", exc.reason)
            return
        if state.counter != self.cfg.counter:
            return
        self.server_time.learn(state.server_time_ms, msg.retain)
        self.state = state
        last, pending = state.last_command, self.pending
        if pending is not None and last is not None and last.id == pending.command.id:
            self.pending = None
            now = self.clock()
            if last.ok:
                self._outcome(last.id, "ok", now, buzz=lamps.BEEP)
            else:
                log.warning("server refused %s: %s", last.id, last.code)
                self._outcome(last.id, f"refused:{last.code}", now, red=lamps.REFUSED,
                              buzz=lamps.BEEP_TWICE)

    # -- outputs ------------------------------------------------------------

    def _refresh(self, now: float) -> None:
        pending = self.pending
        if pending is not None and now - pending.sent_at >= self.cfg.timing["ack_timeout_s"]:
            self.pending = None
            log.warning("no answer for %s within %.1fs", pending.command.id,
                        self.cfg.timing["ack_timeout_s"])
            self._outcome(pending.command.id, "no_ack", now, red=lamps.NO_ACK, buzz=lamps.BEEP_TWICE)
        for name, pattern in self._scene().items():
            self.lamps[name].set_base(pattern, now)
        self.panel.set_outputs({name: lamp.level(now) for name, lamp in self.lamps.items()})
        self.panel.show(self.display_text(now))

    def _scene(self) -> dict[str, lamps.Pattern]:
        """Base pattern of each LED from the bus and the counter's state."""
        if not self.bus.connected.is_set():
            return {"green": lamps.OFF, "yellow": lamps.OFF, "red": lamps.ON}
        st = self.state
        if st is None:
            return {"green": lamps.SLOW, "yellow": lamps.OFF, "red": lamps.OFF}
        if st.status == "paused":
            return {"green": lamps.OFF, "yellow": lamps.SLOW, "red": lamps.OFF}
        if st.status == "closed":
            return {"green": lamps.HEARTBEAT, "yellow": lamps.OFF, "red": lamps.OFF}
        serving = st.ticket is not None and st.ticket.status in SERVING
        return {"green": lamps.ON, "yellow": lamps.ON if serving else lamps.OFF, "red": lamps.OFF}

    def display_text(self, now: float) -> str:
        """``A023`` (current number) alternating with ``- 14`` (14 waiting)."""
        width = self.panel.width or 4
        if not self.bus.connected.is_set():
            return "-" * width
        st = self.state
        if st is None:
            return ""
        waiting = "-" + str(st.waiting).rjust(width - 1)
        if st.ticket is None or st.ticket.status not in SERVING:
            return waiting
        number = st.ticket.number.replace("-", "")
        phase = int(now // self.cfg.display["alternate_s"]) % 2
        return number if phase == 0 else waiting
