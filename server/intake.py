"""What one device may cost the others: the server's intake of bus messages.

Every message the server subscribes to arrives on one broker session, the
session that also carries its calls and acknowledgements. A device that
floods its own topic (a stolen password, a broken box) must not be able to
fill that session or the bridge's inbox, nor take turns away from the other
counters. Three limits do that, each applied as early as possible:

1. **Flood guard** (:class:`FloodGuard`), in paho's network thread before a
   message is queued: each subscription filter may bring at most
   ``messages`` per ``window_s``. A filter over its limit is *paused*: the
   server unsubscribes it, so the broker drops the flood at its side instead
   of queueing it for us, and messages of that filter still in the pipe are
   dropped unread. After ``pause_s`` it is subscribed again (its retained
   messages come back). Commands are subscribed per counter, so a flood on
   counter 5's topic pauses counter 5 only; presence and printer status are
   subscribed per role, so a flood of one display's presence pauses only the
   display presence shown on the dashboard.
2. **Per-counter command rate** (:class:`CounterRate`), in the bridge worker
   before the queue core: a token bucket per counter. A press beyond it is
   dropped and counted, never applied and never answered, so a burst of
   well-formed commands costs the others no database work and no state
   republish. A person cannot press faster than this.
3. **Log throttle** (:class:`LogThrottle`): a refused message is logged at
   most a few times per reason and minute, the rest only counted; a flood
   must not become a flood of log lines on the SD card.

The figures below are the site's limits; ``docs/SECURITY.md`` lists them and
names the tests that prove them.
"""
from __future__ import annotations

import collections
import logging
import threading
import time
from dataclasses import dataclass
from typing import Callable

import paho.mqtt.client as mqtt

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FloodLimit:
    """More than ``messages`` within ``window_s`` pauses the filter for ``pause_s``."""

    messages: int
    window_s: float
    pause_s: float


# A box or panel sends a press a second at most (firmware cooldown); 30 in one
# second is a machine, not a person. A paused counter is paused for 20 s.
COMMAND_FLOOD = FloodLimit(messages=30, window_s=1.0, pause_s=20.0)
# Presence and printer status: one message per device per (re)connect. After
# a broker restart all 16 boxes (and their retained presence) arrive at once,
# well under 100 a second per role.
STATUS_FLOOD = FloodLimit(messages=100, window_s=1.0, pause_s=20.0)


@dataclass(frozen=True)
class CounterRate:
    """Token bucket per counter: ``burst`` presses at once, ``per_s`` sustained."""

    per_s: float
    burst: int


# A verifier may fire a few actions in a row (next, recall, no-show), and a
# box and a panel share a counter; a sustained 2 a second is no person.
COMMAND_RATE = CounterRate(per_s=2.0, burst=10)


class FloodGuard:
    """Counts messages per subscription filter in paho's thread; pauses floods.

    ``pause(filter)`` and ``resume(filter)`` are the bus client's; the guard
    calls ``pause`` from paho's thread (a quick UNSUBSCRIBE) and ``resume``
    from :meth:`tick`, which the owner loop calls.
    """

    def __init__(self, pause: Callable[[str], None], resume: Callable[[str], None],
                 clock: Callable[[], float] = time.monotonic):
        self._pause, self._resume, self._clock = pause, resume, clock
        self._lock = threading.Lock()
        self._limits: dict[str, FloodLimit] = {}
        self._windows: dict[str, tuple[float, int]] = {}  # filter -> (window start, count)
        self._paused: dict[str, float] = {}  # filter -> resume at
        self._dropped: collections.Counter = collections.Counter()
        self.culprits: dict[str, str] = {}  # filter -> the topic that flooded it
        self.pauses: collections.Counter = collections.Counter()

    def watch(self, topic_filter: str, limit: FloodLimit) -> None:
        with self._lock:
            self._limits[topic_filter] = limit

    def forget(self, topic_filter: str) -> None:
        with self._lock:
            self._limits.pop(topic_filter, None)
            self._windows.pop(topic_filter, None)
            self._paused.pop(topic_filter, None)

    def filter_of(self, topic: str) -> str | None:
        with self._lock:
            filters = list(self._limits)
        for topic_filter in filters:
            if mqtt.topic_matches_sub(topic_filter, topic):
                return topic_filter
        return None

    def admit(self, topic: str) -> bool:
        """True to queue this message for the owner; False drops it here."""
        topic_filter = self.filter_of(topic)
        if topic_filter is None:
            return True
        now = self._clock()
        pause = False
        with self._lock:
            limit = self._limits.get(topic_filter)
            if limit is None:
                return True
            if topic_filter in self._paused:
                self._dropped[topic_filter] += 1
                return False
            start, count = self._windows.get(topic_filter, (now, 0))
            if now - start >= limit.window_s:
                start, count = now, 0
            count += 1
            self._windows[topic_filter] = (start, count)
            if count > limit.messages:
                self._paused[topic_filter] = now + limit.pause_s
                self._dropped[topic_filter] += 1
                self.culprits[topic_filter] = topic
                self.pauses[topic_filter] += 1
                pause = True
        if pause:
            log.warning("flood on %s (%d messages within %.1f s): not listening to %s for %.0f s",
                        topic, count, limit.window_s, topic_filter, limit.pause_s)
            self._pause(topic_filter)
            return False
        return True

    def tick(self) -> None:
        """Resume filters whose pause is over (owner thread)."""
        now = self._clock()
        with self._lock:
            due = [f for f, at in self._paused.items() if at <= now]
            for topic_filter in due:
                del self._paused[topic_filter]
                self._windows.pop(topic_filter, None)
        for topic_filter in due:
            log.info("listening to %s again", topic_filter)
            self._resume(topic_filter)

    def status(self) -> dict:
        """Paused filters (with the topic that flooded each) and drop counts."""
        now = self._clock()
        with self._lock:
            return {"paused": {f: {"for_s": round(at - now, 1), "topic": self.culprits.get(f)}
                               for f, at in self._paused.items()},
                    "dropped": dict(self._dropped), "pauses": dict(self.pauses)}


class CommandBuckets:
    """One token bucket per counter (owner thread only)."""

    def __init__(self, rate: CounterRate = COMMAND_RATE, clock: Callable[[], float] = time.monotonic):
        self.rate, self._clock = rate, clock
        self._buckets: dict[int, tuple[float, float]] = {}  # counter -> (tokens, last refill)
        self.limited: collections.Counter = collections.Counter()

    def take(self, counter: int) -> bool:
        """True when counter may send this command now."""
        now = self._clock()
        tokens, last = self._buckets.get(counter, (float(self.rate.burst), now))
        tokens = min(float(self.rate.burst), tokens + (now - last) * self.rate.per_s)
        if tokens < 1.0:
            self._buckets[counter] = (tokens, now)
            self.limited[counter] += 1
            return False
        self._buckets[counter] = (tokens - 1.0, now)
        return True


class LogThrottle:
    """Allows ``per_minute`` log lines per key; counts the rest."""

    def __init__(self, per_minute: int = 5, clock: Callable[[], float] = time.monotonic):
        self.per_minute, self._clock = per_minute, clock
        self._seen: dict[str, tuple[float, int]] = {}
        self.suppressed: collections.Counter = collections.Counter()

    def allow(self, key: str) -> bool:
        now = self._clock()
        start, count = self._seen.get(key, (now, 0))
        if now - start >= 60:
            if self.suppressed[key]:
                log.warning("%d more messages dropped for %s in the last minute", self.suppressed[key], key)
                self.suppressed[key] = 0
            start, count = now, 0
        self._seen[key] = (start, count + 1)
        if count < self.per_minute:
            return True
        self.suppressed[key] += 1
        return False


def bus_device(counter: int) -> str:
    """Who a bus command is recorded as (audit log, idempotency): the counter's
    bus credential. The broker's ACL lets only counter N's own box and panel
    write counter N's command topic, so the topic, not the ``device`` named in
    the payload, says who sent it."""
    return f"bus:loket-{int(counter)}"
