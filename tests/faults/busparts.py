"""Small real bus parts for fault tests: a display that keeps what it sees, a button box."""
from __future__ import annotations

import itertools
import time

from broker.bus import BusClient
from broker.protocol import BoardSnapshot, CallEvent, CounterCommand, CounterState, decode
from server.devtools.mosquitto import wait_for


class Display:
    """A display BusClient: the latest board snapshot and every call event, in order."""

    def __init__(self, site: str, port: int, device: str = "board-1"):
        self.board: BoardSnapshot | None = None
        self.calls: list[CallEvent] = []
        self.bus = BusClient(site=site, role="display", device=device, port=port)
        self.bus.subscribe(self.bus.topics.board, self._on_board)
        self.bus.subscribe(self.bus.topics.call, self._on_call)
        self.bus.start()

    def _on_board(self, msg) -> None:
        if msg.payload:
            self.board = decode(BoardSnapshot, msg.payload)

    def _on_call(self, msg) -> None:
        self.calls.append(decode(CallEvent, msg.payload))

    def showing(self, counter: int) -> str | None:
        """The ticket number the board shows at ``counter``."""
        for slot in (self.board.counters if self.board else ()):
            if slot.counter == counter:
                return slot.ticket.number if slot.ticket else None
        return None

    def wait(self, predicate, timeout: float = 10.0) -> bool:
        return wait_for(predicate, timeout, bus=self.bus)


class Box:
    """A button box for one counter: publishes commands with unique ids, tracks its state."""

    def __init__(self, site: str, port: int, counter: int):
        self.counter = counter
        self.state: CounterState | None = None
        self.bus = BusClient(site=site, role="button", device=f"box-{counter}", port=port)
        self.bus.subscribe(self.bus.topics.counter_state(counter), self._on_state)
        self._ids = itertools.count(1)
        self.bus.start()

    def _on_state(self, msg) -> None:
        if msg.payload:
            self.state = decode(CounterState, msg.payload)

    def command(self, action: str = "next", command_id: str | None = None) -> CounterCommand:
        cmd = CounterCommand(id=command_id or f"box-{self.counter}-{time.time_ns()}-{next(self._ids)}",
                             counter=self.counter, action=action, device=f"box-{self.counter}",
                             sent_at_ms=int(time.time() * 1000))
        return cmd

    def press(self, action: str = "next", cmd: CounterCommand | None = None) -> CounterCommand:
        from broker.protocol import encode
        cmd = cmd or self.command(action)
        self.bus.publish(self.bus.topics.command(self.counter), encode(cmd), qos=1)
        return cmd

    def wait(self, predicate, timeout: float = 10.0) -> bool:
        return wait_for(predicate, timeout, bus=self.bus)


STATE_TABLES = ("tickets", "events", "calls", "idempotency", "counter_state", "counter_sessions",
                "state", "days", "devices")


def snapshot(svc: QueueService) -> dict:
    """Every row that matters, so a refused request can be shown to change nothing."""
    conn = svc.db.read()
    out = {}
    for table in STATE_TABLES:
        try:
            out[table] = [tuple(r) for r in conn.execute(f"SELECT * FROM {table} ORDER BY rowid")]
        except Exception:  # a table another migration renamed: compare what exists
            continue
    return out


def stop_all(*parts) -> None:
    for p in parts:
        try:
            p.bus.stop(timeout=0.5)
        except Exception:
            pass
