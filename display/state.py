"""What the board knows: the last snapshot, calls since, server time, online.

The server owns state and time. The board keeps the retained BoardSnapshot,
applies CallEvents on top (dropping duplicates by ``seq`` and marking a gap
so the next snapshot is taken whole), and tells time as the snapshot's
``server_time_ms`` plus local *monotonic* time elapsed since it arrived: the
board's own wall clock may be years off after a power cut.

Every change records which screen regions are dirty, so the renderer redraws
only those.

Example::

    state = BoardState()
    state.apply_snapshot(snapshot, retained=True)
    outcome = state.apply_call(call_event)   # "new", "gap", "late" or "duplicate"
    for missed in state.take_late():          # calls learnt from a snapshot: announce them
        ...

Every call is announced once: the board remembers which seqs it announced.
A call it learns of only from a snapshot (its event was lost, or overtaken)
is still announced when it is younger than ``CALL_FRESH_S`` by server time;
calls made before the board first joined (its first snapshot of the day) are
history and never announced.
"""
from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import replace

from broker.protocol import CALL_FRESH_S, BoardSnapshot, CallEvent, CounterSlot, TicketRef

log = logging.getLogger(__name__)

RECENT_KEPT = 12
ANNOUNCED_KEPT = 256  # seqs remembered as announced; far more than a snapshot's recent list
# Used when the OS has no zoneinfo data for the site's zone.
TZ_OFFSETS = {"Asia/Jakarta": 7, "Asia/Pontianak": 7, "Asia/Makassar": 8, "Asia/Jayapura": 9}


def zone(name: str) -> dt.tzinfo:
    """The site's time zone, falling back to Indonesia's fixed offsets."""
    try:
        from zoneinfo import ZoneInfo
        return ZoneInfo(name)
    except Exception:  # missing tzdata on a minimal image
        return dt.timezone(dt.timedelta(hours=TZ_OFFSETS.get(name, 7)))


class ServerClock:
    """Server time = last server_time_ms + monotonic time elapsed since then."""

    def __init__(self, monotonic=time.monotonic):
        self.monotonic = monotonic
        self._anchor: tuple[int, float] | None = None
        self.tz: dt.tzinfo = zone("Asia/Jakarta")

    def sync(self, server_time_ms: int, tz_name: str | None = None) -> None:
        self._anchor = (server_time_ms, self.monotonic())
        if tz_name:
            self.tz = zone(tz_name)

    @property
    def known(self) -> bool:
        return self._anchor is not None

    def now_ms(self) -> int | None:
        if self._anchor is None:
            return None
        ms, at = self._anchor
        return ms + int((self.monotonic() - at) * 1000)

    def now(self) -> dt.datetime | None:
        ms = self.now_ms()
        return None if ms is None else dt.datetime.fromtimestamp(ms / 1000, self.tz)

    def seconds_to_next(self, unit_s: int) -> float | None:
        """Seconds until the displayed clock next changes (minute or second)."""
        ms = self.now_ms()
        if ms is None:
            return None
        period = unit_s * 1000
        return (period - ms % period) / 1000


class BoardState:
    """The board's model; ``dirty`` names the regions to redraw."""

    def __init__(self, clock: ServerClock | None = None, monotonic=time.monotonic):
        self.monotonic = monotonic
        self.clock = clock or ServerClock(monotonic)
        self.snapshot: BoardSnapshot | None = None
        self.counters: dict[int, CounterSlot] = {}
        self.recent: list[CallEvent] = []  # newest first
        self.last_call_seq: int | None = None  # highest call event applied
        self.current: CallEvent | None = None
        self.current_since: float | None = None  # monotonic; None = no animation
        self.resync_pending = False
        self.baseline_seq: int | None = None  # calls up to this were made before we joined
        # Insertion-ordered set of the seqs settled: announced, or seen too old to announce.
        self._announced: dict[int, None] = {}
        self._late: list[CallEvent] = []  # learnt from a snapshot, to be announced
        self.online = False
        self.ignored = 0  # malformed or stale payloads dropped
        self.dirty: set[str] = {"all"}

    # -- inputs -------------------------------------------------------------

    def apply_snapshot(self, snap: BoardSnapshot, *, retained: bool = False) -> bool:
        """Take a snapshot; returns False when it is older than calls already shown.

        A retained snapshot (delivered on (re)subscribe) is the broker's truth,
        and a new service day starts afresh; a live snapshot older than our
        last call is a reordering, and so is any older one while a resync is
        pending (we wait for the newer one the server publishes next).
        """
        new_day = self.snapshot is not None and snap.service_day != self.snapshot.service_day
        stale = self.last_call_seq is not None and snap.seq < self.last_call_seq
        if stale and not new_day and (self.resync_pending or not retained):
            log.info("ignored stale board snapshot seq %s < %s", snap.seq, self.last_call_seq)
            return False
        old, old_view = self.snapshot, (self.current, self.recent, self.counters)
        self.snapshot = snap
        self.counters = {c.counter: c for c in snap.counters}
        self.recent = sorted(snap.recent, key=lambda c: c.seq, reverse=True)[:RECENT_KEPT]
        if old is None or new_day:
            # The board's first view of the day: those calls are history, not news.
            self.baseline_seq = snap.seq
            self._announced.clear()
        late = self._collect_late(snap)
        if retained or new_day:
            self.last_call_seq = snap.seq
        self.resync_pending = False
        self.clock.sync(snap.server_time_ms, snap.tz)
        newest = self.recent[0] if self.recent else None
        if late and newest is not None and late[-1].seq == newest.seq:
            # The newest call is news to us: it flashes like a call event would.
            self.current, self.current_since = newest, self.monotonic()
        elif newest is None or self.current is None or newest.seq != self.current.seq:
            # Shown still, without the attention animation: it is state, not news.
            self.current, self.current_since = newest, None
        self._mark_snapshot_dirty(old, snap, old_view)
        return True

    def _collect_late(self, snap: BoardSnapshot) -> list[CallEvent]:
        """Calls in ``snap`` we never announced, made after we joined and still fresh."""
        late = []
        for c in sorted(snap.recent, key=lambda c: c.seq):
            if not self._is_news(c):
                continue
            # Settled either way: a stale call's event arriving after this stays silent.
            self._mark_announced(c.seq)
            if _age_s(c, snap.server_time_ms) <= CALL_FRESH_S:
                late.append(c)
        if late:
            log.info("announcing %d call(s) learnt from the board snapshot: %s", len(late),
                     ", ".join(str(c.seq) for c in late))
        self._late.extend(late)
        return late

    def _is_news(self, call: CallEvent) -> bool:
        return ((self.baseline_seq is None or call.seq > self.baseline_seq)
                and call.seq not in self._announced)

    def _mark_announced(self, seq: int) -> None:
        self._announced[seq] = None
        while len(self._announced) > ANNOUNCED_KEPT:
            del self._announced[next(iter(self._announced))]

    def take_late(self) -> list[CallEvent]:
        """The calls a snapshot revealed that must still be announced, in seq order."""
        late, self._late = self._late, []
        return late

    def _mark_snapshot_dirty(self, old: BoardSnapshot | None, snap: BoardSnapshot,
                             old_view: tuple) -> None:
        # The server also republishes unchanged snapshots (fresh server_time_ms):
        # redraw only the regions whose content really changed.
        if old is None or old.facility != snap.facility:
            self.dirty.add("all")
            return
        current, recent, counters = old_view
        if self.current != current or self.recent != recent:
            self.dirty |= {"call", "recent"}
        if self.counters != counters:
            self.dirty.add("counters")
        if old.services != snap.services:
            self.dirty.add("services")
        if old.running_text != snap.running_text:
            self.dirty.add("ticker")

    def apply_call(self, call: CallEvent) -> str:
        """Apply a call event: 'duplicate' (dropped), 'gap', 'late' or 'new'.

        A call already announced (from its event or from a snapshot), or made
        before the board joined, is a duplicate. One older than the newest
        applied, never announced, is 'late': it is announced but the newest
        call stays on the big panel.
        """
        if not self._is_news(call):
            return "duplicate"
        self._mark_announced(call.seq)
        if self.last_call_seq is not None and call.seq < self.last_call_seq:
            self.recent = sorted([call] + [c for c in self.recent if c.seq != call.seq],
                                 key=lambda c: c.seq, reverse=True)[:RECENT_KEPT]
            self.dirty |= {"call", "recent"}
            return "late"
        known = [s for s in (self.last_call_seq, self.snapshot and self.snapshot.seq) if s is not None]
        outcome = "new"
        if known and call.seq > max(known) + 1:
            # Calls were missed: show this one, and take the next snapshot whole.
            log.warning("call seq gap %s -> %s; resync from next snapshot", max(known), call.seq)
            self.resync_pending = True
            outcome = "gap"
        self.last_call_seq = call.seq
        self.current, self.current_since = call, self.monotonic()
        self.recent = ([call] + [c for c in self.recent if c.seq != call.seq])[:RECENT_KEPT]
        self._serve(call)
        self.dirty |= {"call", "recent", "counters"}
        return outcome

    def _serve(self, call: CallEvent) -> None:
        # Until the next snapshot arrives the counter shows the called ticket.
        slot = self.counters.get(call.counter) or CounterSlot(
            counter=call.counter, name=call.counter_name, status="open")
        ticket = TicketRef(number=call.ticket, service=call.service, status="called",
                           priority=call.priority, since=call.at)
        self.counters[call.counter] = replace(slot, ticket=ticket, status="open")

    def set_online(self, online: bool) -> None:
        if online != self.online:
            self.online = online
            self.dirty.add("badge")

    def note_ignored(self) -> None:
        self.ignored += 1

    # -- views ------------------------------------------------------------

    def flashing(self, duration_s: float) -> bool:
        """Whether the current call is still inside its attention animation."""
        return (self.current_since is not None
                and self.monotonic() - self.current_since < duration_s)

    def others(self) -> list[CallEvent]:
        """Recent calls except the one shown large."""
        cur = self.current.seq if self.current else None
        return [c for c in self.recent if c.seq != cur]

    def take_dirty(self) -> set[str]:
        dirty, self.dirty = self.dirty, set()
        return dirty


def _age_s(call: CallEvent, server_time_ms: int) -> float:
    """How old ``call`` is by the server's clock; infinite when its time cannot be read."""
    try:
        at = dt.datetime.fromisoformat(call.at)
    except ValueError:
        return float("inf")
    if at.tzinfo is None:
        return float("inf")
    return server_time_ms / 1000 - at.timestamp()
