"""``lalopa display run --call-log FILE``: one JSON line per call the board put up.

A machine-checkable record of what the board did (the demo and its test read
it): each line is written once the announcer has finished a call, which is at
once when the voice is off, and after the last clip when it speaks. A call
only reaches the announcer after the board state showed it, so every line is a
number that was on the screen. Duplicates the board dropped never appear.

Example line::

    {"seq": 7, "ticket": "A-004", "counter": 3, "kind": "call", "spoken": false,
     "screenshot": "call-7.png", "at": "2026-11-23T14:30:25.120+00:00"}
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path


class CallLog:
    """Appends the announcer's finished calls to a JSON-lines file, each once."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._last: tuple[float, int] | None = None   # (queued_at, seq) of the last line

    def write_new(self, app) -> int:
        """Append what ``app.announcer.log`` finished since the last call; returns how many."""
        # The log is FIFO (one announcement at a time), so (queued_at, seq) only grows.
        new = [a for a in list(app.announcer.log)
               if self._last is None or (a.queued_at, a.seq) > self._last]
        if not new:
            return 0
        with open(self.path, "a", encoding="utf-8") as f:
            for ann in new:
                f.write(json.dumps(self._line(app, ann), sort_keys=True) + "\n")
        self._last = (new[-1].queued_at, new[-1].seq)
        return len(new)

    @staticmethod
    def _line(app, ann) -> dict:
        shot = f"call-{ann.seq}.png" if app.screenshots_dir else None
        return {"seq": ann.seq, "ticket": ann.ticket, "counter": ann.counter, "kind": ann.kind,
                "spoken": not app.announcer.silent, "screenshot": shot,
                "at": datetime.now(timezone.utc).isoformat(timespec="milliseconds")}


def run_logged(app, call_log: CallLog) -> None:
    """``BoardApp.run`` that also writes the call log after every step."""
    try:
        while app.running:
            app.step()
            call_log.write_new(app)
    finally:
        call_log.write_new(app)
