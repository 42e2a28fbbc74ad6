"""The announcement queue: one call at a time, never overlapping, never cut off.

Each call becomes an :class:`Announcement` (its clip names, and when it was
queued, started and ended). The pygame loop feeds the channel's end event to
:meth:`Announcer.on_sound_end` and calls :meth:`Announcer.update`; the next
announcement starts only after the previous one has finished playing.

Example::

    ann = Announcer(library, reading="number", repeat=2)
    ann.enqueue(call_event)
    ann.update()          # starts playing
    ...                   # SOUND_END arrives -> ann.on_sound_end()
    ann.log[-1].clips     # ['chime', 'nomor-antrean', 'huruf-a', ...]
"""
from __future__ import annotations

import collections
import logging
import time
from dataclasses import dataclass, field

import pygame

from .voice import CHIME, ClipLibrary
from .words import announcement_clips

log = logging.getLogger(__name__)

SOUND_END = pygame.event.custom_type()
MAX_PENDING = 40  # a backlog longer than this is stale; the oldest are dropped


@dataclass
class Announcement:
    """One call to be spoken, and what happened to it."""

    seq: int
    ticket: str
    counter: int
    kind: str
    clips: list[str]
    queued_at: float
    started_at: float | None = None
    ended_at: float | None = None
    missing: list[str] = field(default_factory=list)
    length_s: float = 0.0


class Announcer:
    """Plays announcements one after another on one reserved mixer channel."""

    def __init__(self, library: ClipLibrary | None, *, reading: str = "number", repeat: int = 1,
                 volume: float = 1.0, clock=time.monotonic):
        self.library = library
        self.reading, self.repeat, self.volume = reading, max(1, repeat), volume
        self.clock = clock
        self.pending: collections.deque[Announcement] = collections.deque()
        self.log: collections.deque[Announcement] = collections.deque(maxlen=500)
        self.current: Announcement | None = None
        self._channel = self._open_channel()

    def _open_channel(self):
        if self.library is None:
            log.info("voice is off: calls are shown, not announced")
            return None
        if not pygame.mixer.get_init():
            log.warning("no audio output: calls are shown but not announced")
            return None
        pygame.mixer.set_reserved(1)
        channel = pygame.mixer.Channel(0)
        channel.set_endevent(SOUND_END)
        return channel

    @property
    def silent(self) -> bool:
        return self._channel is None

    def clips_for(self, ticket: str, counter: int) -> list[str]:
        """Chime, then the spoken call ``repeat`` times, separated by pauses."""
        spoken = announcement_clips(ticket, counter, self.reading)
        clips = [CHIME]
        for i in range(self.repeat):
            clips += (["|"] if i else []) + spoken
        return clips

    def enqueue(self, call) -> Announcement:
        """Queue a CallEvent (a recall is announced again, as a new call)."""
        ann = Announcement(seq=call.seq, ticket=call.ticket, counter=call.counter, kind=call.kind,
                           clips=self.clips_for(call.ticket, call.counter), queued_at=self.clock())
        if len(self.pending) >= MAX_PENDING:
            dropped = self.pending.popleft()
            log.warning("announcement backlog full; skipped %s", dropped.ticket)
        self.pending.append(ann)
        self.update()
        return ann

    def update(self) -> None:
        """Finish what has stopped playing and start the next one."""
        if self.current is not None and not self._busy():
            self._finish()
        # A loop only matters when silent: then each announcement ends at once.
        while self.current is None and self.pending:
            self._start(self.pending.popleft())

    def on_sound_end(self) -> None:
        """The channel's end event. It may belong to the previous sound (update()
        saw the channel idle first and started the next one), so trust it only
        when the channel really is idle: never cut an announcement off."""
        self.update()

    def next_deadline(self) -> float | None:
        """When to look again even if the end event were lost (a safety net)."""
        if self.current is None or self.current.started_at is None:
            return None
        return self.current.started_at + self.current.length_s + 0.5

    @property
    def idle(self) -> bool:
        return self.current is None and not self.pending

    def _busy(self) -> bool:
        return self._channel is not None and self._channel.get_busy()

    def _start(self, ann: Announcement) -> None:
        self.current = ann
        ann.started_at = self.clock()
        if self._channel is None:
            self._finish()
            return
        sound, ann.missing = self.library.build(ann.clips)
        if ann.missing:
            log.info("clips missing for %s: %s", ann.ticket, ", ".join(sorted(set(ann.missing))))
        sound.set_volume(self.volume)
        ann.length_s = sound.get_length()
        log.info("announcing %s %s at counter %s (%.1f s)", ann.kind, ann.ticket, ann.counter, ann.length_s)
        ann.started_at = self.clock()
        self._channel.play(sound)

    def _finish(self) -> None:
        ann, self.current = self.current, None
        ann.ended_at = self.clock()
        self.log.append(ann)
