"""The optional smiley pad: four face buttons beside a counter's box, one vote per resident.

"How satisfied were you?" Face 1 (very unhappy) .. 4 (very happy) becomes a
:class:`~broker.protocol.SmileyVote` on the counter's smiley topic. The
buttons are gpiozero devices (a MockFactory in tests); their callbacks only
put ``("smiley", face, t)`` on the box's event queue, and the box's main loop
calls :meth:`SmileyPad.press`. After a vote the pad ignores presses for
``[smiley] cooldown_s``, so a resident who presses twice, or a child who
presses all four, gives one vote. Votes are sent with QoS 1 and an id that is
unique per boot and press, so the server stores a resent vote once; a vote
pressed while the bus is down is dropped (it is an opinion of that moment,
not worth replaying later).

Example::

    pad = SmileyPad(cfg, events, clock=time.monotonic, bus=box.bus, server_ms=box.server_time.now_ms)
    pad.press("happy", time.monotonic())     # from the box's loop
    pad.close()
"""
from __future__ import annotations

import logging
import queue
from typing import Callable

from gpiozero import Button

from broker.protocol import SmileyVote
from broker.vocab import IKM_SCALE

from .config import SMILEY_FACES, BoxConfig

log = logging.getLogger(__name__)
SCORES = dict(zip(SMILEY_FACES, IKM_SCALE))


def fitted(cfg: BoxConfig) -> bool:
    """True when the box's config wires a smiley pad (all four pins; config.py checks that)."""
    return cfg.smiley["very_happy"] is not None


class SmileyPad:
    """Four face buttons that publish one vote per resident; see the module docstring."""

    def __init__(self, cfg: BoxConfig, events: queue.Queue, *, clock: Callable[[], float], bus,
                 server_ms: Callable[[], int], nonce: str, pin_factory=None):
        self.cfg, self.events, self.clock, self.bus, self.server_ms = cfg, events, clock, bus, server_ms
        self.nonce = nonce
        self.topic = bus.topics.smiley(cfg.counter)
        self.seq = 0
        self.last_vote = float("-inf")
        self.sent: list[tuple[str, int]] = []     # (vote id, score), newest last
        self.buttons: dict[str, Button] = {}
        try:
            for face in SMILEY_FACES:
                btn = Button(cfg.smiley[face], pull_up=True,
                             bounce_time=cfg.timing["bounce_s"] or None, pin_factory=pin_factory)
                btn.when_pressed = self._enqueue(face)
                self.buttons[face] = btn
        except Exception:
            self.close()   # never leave pins reserved (GPIOPinInUse on the next start)
            raise

    def _enqueue(self, face: str) -> Callable[[], None]:
        def handler() -> None:   # gpiozero's thread: stamp and hand over only
            self.events.put(("smiley", face, self.clock()))
        return handler

    def press(self, face: str, t: float) -> str | None:
        """Publish the vote for ``face`` unless within the cooldown or offline; its id or None."""
        if t - self.last_vote < self.cfg.smiley["cooldown_s"]:
            log.info("smiley %s ignored: within %.0fs of the last vote", face, self.cfg.smiley["cooldown_s"])
            return None
        self.seq += 1
        vote = SmileyVote(id=f"{self.cfg.device_id}:{self.nonce}:s{self.seq}", counter=self.cfg.counter,
                          score=SCORES[face], device=self.cfg.device_id, sent_at_ms=self.server_ms())
        if self.bus.publish_message(self.topic, vote, qos=1, when_offline="drop") is None:
            log.warning("smiley vote %s NOT sent: bus is down", vote.id)
            return None
        self.last_vote = t
        self.sent.append((vote.id, vote.score))
        del self.sent[:-50]
        return vote.id

    def close(self) -> None:
        for btn in self.buttons.values():
            try:
                btn.close()
            except Exception:  # closing must reach every button
                log.exception("closing %r failed", btn)
        self.buttons = {}
