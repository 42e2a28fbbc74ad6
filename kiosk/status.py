"""The kiosk on the bus: its BusClient and the retained printer status.

Presence (online, and offline as the last will) is BusClient's job. The
printer status is published retained on ``Topics.printer(kiosk)`` whenever it
changes and again after every reconnect, so the supervisor sees paper-out at
once and a restarted broker or server gets the current value.
"""
from __future__ import annotations

import threading

from broker.protocol import PrinterStatus

from .config import KioskConfig


def make_bus(cfg: KioskConfig, wake=None):
    """The kiosk's BusClient, or None when no broker is configured."""
    if not cfg.bus.host:
        return None
    from broker.bus import BusClient
    password = None
    if cfg.bus.password_file:
        with open(cfg.bus.password_file) as fh:
            password = fh.read().strip()
    return BusClient(site=cfg.bus.site, role="kiosk", device=cfg.device_id, host=cfg.bus.host,
                     port=cfg.bus.port, username=cfg.bus.username or None, password=password,
                     tls_ca=cfg.bus.tls_ca or None, wake=wake)


class PrinterStatusPublisher:
    """Holds the latest printer status and publishes it retained (any thread)."""

    def __init__(self, bus, kiosk_id: str):
        self.bus = bus
        self.kiosk_id = kiosk_id
        self.status, self.detail = "unknown", ""
        self._lock = threading.Lock()   # read + publish as one step, so the newest value wins

    def changed(self, status: str, detail: str = "") -> None:
        """The print worker's ``on_status`` hook (runs in the printer thread)."""
        with self._lock:
            self.status, self.detail = status, detail
            self._publish()

    def publish(self) -> None:
        """After each (re)connect (runs in the owner thread)."""
        with self._lock:
            self._publish()

    def _publish(self) -> None:
        if self.bus is None:
            return
        # BusClient.publish is thread-safe, and this lock is never taken inside a paho
        # callback, so holding it here cannot deadlock with paho's own locks
        msg = PrinterStatus(kiosk=self.kiosk_id, status=self.status, detail=self.detail[:200])
        self.bus.publish_message(self.bus.topics.printer(self.kiosk_id), msg, retain=True)
