"""The announcement queue: one call at a time, never overlapping, never cut off,
and never heard long after its number is shown.

Each call becomes an :class:`Announcement` (its clip names, the sentence
spoken, and when it was queued, started and ended).

A burst (16 counters calling at opening) must not leave the last resident
listening two minutes later: when an announcement starts while others are
still waiting behind it, it is spoken in its short form, once, without the
chime ("A dua puluh tiga, loket lima.", about 2 s instead of about 4 s), so
16 simultaneous calls are all heard within about 40 s of the presses. A lone
call keeps the full form (chime, "Nomor antrean ..., silakan menuju loket ...",
``repeat`` times). The pygame loop feeds the channel's end event to
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
from .words import LETTER_NAMES, announcement_clips, digit_words, number_words

log = logging.getLogger(__name__)

SOUND_END = pygame.event.custom_type()
MAX_PENDING = 40  # a backlog longer than this is stale; the oldest are dropped


def call_phrase(ticket: str, counter: int, reading: str = "number", short: bool = False) -> str:
    """The sentence spoken for one call.

    >>> call_phrase("A-023", 5)
    'Nomor antrean A dua puluh tiga, silakan menuju loket lima.'
    >>> call_phrase("B-007", 12, short=True)
    'B tujuh, loket dua belas.'
    """
    prefix, _, digits = ticket.partition("-")
    letter = LETTER_NAMES.get(prefix.upper(), prefix)
    number = digit_words(digits) if reading == "digits" else number_words(int(digits))
    # The letter alone is a name ("be", "ce"): written as the capital it reads naturally.
    # One comma, one full stop: every extra mark is a pause espeak-ng makes audible.
    spoken = f"{prefix.upper() if len(letter) <= 2 else letter} {' '.join(number)}"
    loket = " ".join(number_words(counter))
    if short:
        return f"{spoken}, loket {loket}."
    return f"Nomor antrean {spoken}, silakan menuju loket {loket}."


@dataclass
class Announcement:
    """One call to be spoken, and what happened to it."""

    seq: int
    ticket: str
    counter: int
    kind: str
    clips: list[str]
    queued_at: float
    text: str = ""
    short: bool = False
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
        self._prefetch_next()
        return ann

    def _prefetch_next(self) -> None:
        """Synthesise the next announcement's sentence while the current one plays: only the
        next one, so a flood of calls never costs a synthesis per call it will drop."""
        if self.library is not None and not self.silent and self.current is not None and self.pending:
            nxt = self.pending[0]
            self.library.prefetch(call_phrase(nxt.ticket, nxt.counter, self.reading,
                                              short=len(self.pending) > 1))

    def _shape(self, ann: Announcement) -> None:
        """Full form for a lone call; short form (once, no chime) when others wait behind it."""
        ann.short = bool(self.pending)
        if ann.short:
            ann.clips = announcement_clips(ann.ticket, ann.counter, self.reading)
        ann.text = call_phrase(ann.ticket, ann.counter, self.reading, short=ann.short)

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
        self._shape(ann)
        sound, ann.missing = self.library.announcement(ann.clips, ann.text)
        if ann.missing:
            log.info("clips missing for %s: %s", ann.ticket, ", ".join(sorted(set(ann.missing))))
        sound.set_volume(self.volume)
        ann.length_s = sound.get_length()
        log.info("announcing %s %s at counter %s (%.1f s)", ann.kind, ann.ticket, ann.counter, ann.length_s)
        ann.started_at = self.clock()
        self._channel.play(sound)
        self._prefetch_next()

    def _finish(self) -> None:
        ann, self.current = self.current, None
        ann.ended_at = self.clock()
        self.log.append(ann)
