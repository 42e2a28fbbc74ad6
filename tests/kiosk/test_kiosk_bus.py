"""The kiosk on a real Mosquitto: live waiting counts, printer status, presence."""
import queue
import time

from broker.bus import BusClient
from broker.protocol import (Presence, PrinterStatus, QueueSummary, ServiceSummary, Topics,
                             decode, encode)
from kiosk.status import make_bus
from kiosk.config import parse_config

from kiosk_helpers import at_home, pump


def _watch(mosquitto, site_id, topic):
    got = queue.Queue()
    bus = BusClient(site=site_id, role="server", device="watch", host="127.0.0.1", port=mosquitto.port)
    bus.subscribe(topic, lambda m: got.put(m))
    bus.start()
    return bus, got


def _next(bus, got, topic, kind, pred, timeout=5.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        bus.dispatch(0.05)
        while not got.empty():
            incoming = got.get()
            if incoming.topic != topic:
                continue
            msg = decode(kind, incoming.payload)
            if pred(msg):
                return msg
    raise AssertionError(f"no matching {kind.__name__}")


def test_summary_printer_status_and_presence(mosquitto, site_id, real_server, netprinter, make_kiosk):
    """GIVEN the kiosk connected to the broker WHEN the retained QueueSummary changes THEN the home
    screen's waiting counts follow it; AND the kiosk is present online and publishes its printer
    status retained for the supervisor."""
    t = Topics(site_id)
    watcher, got = _watch(mosquitto, site_id, f"{t.base}/#")
    cfg = parse_config({"device_id": "kiosk-1", "bus": {"host": "127.0.0.1", "port": mosquitto.port,
                                                          "site": site_id}})
    app = make_kiosk(real_server.url, real_server.token, printer_port=netprinter.port,
                     bus=make_bus(cfg))
    pump(app, lambda: at_home(app))
    summary = QueueSummary(service_day="2026-11-23", server_time_ms=1795402867120, services=(
        ServiceSummary(prefix="A", waiting=14, issued=63, served=45, no_show=4, open=True,
                       est_wait_s=1260),))
    watcher.publish(t.summary, encode(summary), retain=True)
    pump(app, lambda: app.waiting("A") == (14, 1260))
    try:
        online = _next(watcher, got, t.presence("kiosk", "kiosk-1"), Presence, lambda p: True)
        status = _next(watcher, got, t.printer("kiosk-1"), PrinterStatus, lambda p: p.status == "ok")
    finally:
        watcher.stop()
    assert online.status == "online" and status.status == "ok"


def test_paper_out_reaches_the_supervisor(mosquitto, site_id, real_server, make_netprinter, make_kiosk):
    """GIVEN a printer out of paper WHEN the kiosk polls it THEN PrinterStatus paper_out is
    retained on the kiosk's printer topic (a late subscriber still sees it)."""
    printer = make_netprinter(paper=b"\x72")
    cfg = parse_config({"device_id": "kiosk-1", "bus": {"host": "127.0.0.1", "port": mosquitto.port,
                                                          "site": site_id}})
    app = make_kiosk(real_server.url, real_server.token, printer_port=printer.port, bus=make_bus(cfg))
    pump(app, lambda: at_home(app) and app.printer.status == "paper_out")
    time.sleep(0.3)
    watcher, got = _watch(mosquitto, site_id, Topics(site_id).printer("kiosk-1"))
    try:
        status = _next(watcher, got, Topics(site_id).printer("kiosk-1"), PrinterStatus, lambda p: True)
    finally:
        watcher.stop()
    assert (status.kiosk, status.status) == ("kiosk-1", "paper_out")
