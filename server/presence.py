"""What the server knows about its devices: presence and kiosk printer status.

Fed by the bridge's worker thread from retained ``presence`` and ``printer``
topics; read by the dashboard (any thread) through :meth:`DeviceBook.devices`.
Kept in memory: every device republishes retained presence, so the book is
complete again within a second of a server restart.
"""
from __future__ import annotations

import threading

from broker.protocol import Presence, PrinterStatus


class DeviceBook:
    """Thread-safe table of devices keyed by ``(role, device)``.

    Example::

        book = DeviceBook(now=lambda: "2026-11-23T08:00:00+07:00")
        book.presence(Presence(role="display", device="board-1", status="online"))
        book.devices()[0]["status"]  # 'online'
    """

    def __init__(self, now):
        self._now = now  # server time as ISO text; the server owns time
        self._lock = threading.Lock()
        self._rows: dict[tuple[str, str], dict] = {}

    def _row(self, role: str, device: str) -> dict:
        key = (role, device)
        if key not in self._rows:
            self._rows[key] = {"role": role, "device": device, "status": "unknown",
                               "last_seen": None, "printer": None}
        return self._rows[key]

    def presence(self, msg: Presence) -> None:
        with self._lock:
            row = self._row(msg.role, msg.device)
            row["status"] = msg.status
            row["last_seen"] = self._now()

    def forget(self, role: str, device: str) -> None:
        """A cleared retained presence means the device was removed."""
        with self._lock:
            self._rows.pop((role, device), None)

    def printer(self, msg: PrinterStatus) -> None:
        with self._lock:
            row = self._row("kiosk", msg.kiosk)
            row["printer"] = {"status": msg.status, "detail": msg.detail, "at": self._now()}

    def devices(self) -> list[dict]:
        """A copy of every row, sorted by role then device."""
        with self._lock:
            return [dict(r, printer=dict(r["printer"]) if r["printer"] else None)
                    for _, r in sorted(self._rows.items())]
