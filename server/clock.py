"""The server is the only clock: every ticket and call is stamped here.

A Raspberry Pi has no RTC, so the wall clock may jump at boot or when NTP
syncs. :class:`ServerClock` compares wall-clock and monotonic deltas between
readings and reports a jump when they disagree by more than ``jump_threshold_s``.
Ordering never depends on wall time (the queue orders by a per-day issue
sequence), so a jump only affects timestamps and is logged as an event.

    >>> clock = ServerClock(wall=lambda: 1_700_000_000.0, mono=lambda: 5.0)
    >>> clock.epoch_ms()
    1700000000000
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Callable
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Reading:
    """One clock reading: wall time (epoch seconds) and the jump seen since the last one."""

    wall: float
    jump_s: float | None  # wall delta minus monotonic delta, when above the threshold

    @property
    def epoch_ms(self) -> int:
        return int(round(self.wall * 1000))

    @property
    def utc(self) -> datetime:
        return datetime.fromtimestamp(self.wall, tz=timezone.utc)


class ServerClock:
    """Wall time with jump detection; pass ``wall``/``mono`` callables in tests."""

    def __init__(self, wall: Callable[[], float] = time.time,
                 mono: Callable[[], float] = time.monotonic, jump_threshold_s: float = 5.0):
        self._wall, self._mono = wall, mono
        self.jump_threshold_s = jump_threshold_s
        self._last: tuple[float, float] | None = None
        self._lock = threading.Lock()

    def read(self) -> Reading:
        """Read the clock; ``jump_s`` is set when wall and monotonic time disagree."""
        with self._lock:
            wall, mono = self._wall(), self._mono()
            jump = None
            if self._last is not None:
                drift = (wall - self._last[0]) - (mono - self._last[1])
                if abs(drift) > self.jump_threshold_s:
                    jump = drift
            self._last = (wall, mono)
            return Reading(wall, jump)

    def now(self) -> datetime:
        return datetime.fromtimestamp(self._wall(), tz=timezone.utc)

    def epoch_ms(self) -> int:
        return int(round(self._wall() * 1000))


class FakeClock(ServerClock):
    """A clock tests drive: ``advance`` moves both clocks, ``jump`` only the wall clock."""

    def __init__(self, start: datetime | float, jump_threshold_s: float = 5.0):
        self.wall_s = start.timestamp() if isinstance(start, datetime) else float(start)
        self.mono_s = 1000.0
        super().__init__(lambda: self.wall_s, lambda: self.mono_s, jump_threshold_s)

    def advance(self, seconds: float) -> None:
        self.wall_s += seconds
        self.mono_s += seconds

    def jump(self, seconds: float) -> None:
        self.wall_s += seconds


def iso_local(epoch_ms: int, tz: ZoneInfo) -> str:
    """ISO 8601 in the site timezone with its offset, to the second."""
    return datetime.fromtimestamp(epoch_ms / 1000, tz=timezone.utc).astimezone(tz).isoformat(
        timespec="seconds")


def iso_utc(epoch_ms: int) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, tz=timezone.utc).isoformat(
        timespec="milliseconds").replace("+00:00", "Z")


def local_date(epoch_ms: int, tz: ZoneInfo) -> date:
    return datetime.fromtimestamp(epoch_ms / 1000, tz=timezone.utc).astimezone(tz).date()
