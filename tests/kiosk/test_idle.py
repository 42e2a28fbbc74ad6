"""The event-driven loop: an idle kiosk draws nothing and sleeps until a tap, a worker
result, a bus message or a timer wakes it (the real server, the real Mosquitto)."""
import threading
import time

import pygame

from broker.protocol import QueueSummary, ServiceSummary, Topics, encode
from broker.bus import BusClient
from kiosk.config import parse_config
from kiosk.status import make_bus
from kiosk_helpers import at_home, finger, pump


def _settled(app):
    """Home, and the start-up refreshes have all been answered and handled."""
    return (at_home(app) and "A" in app.counts and app.server_now() is not None
            and app.bg.jobs.empty() and app.bg.results.empty())


def _count_flips(monkeypatch):
    flips = []
    real_flip = pygame.display.flip
    monkeypatch.setattr(pygame.display, "flip", lambda: (flips.append(1), real_flip())[1])
    return flips


def test_idle_home_screen_draws_nothing(real_server, make_kiosk, monkeypatch):
    """GIVEN the kiosk settled on the home screen WHEN nothing happens for 1 s of its real loop
    (step with next_timeout) THEN it flips no frame and the loop slept instead of spinning;
    WHEN the language is toggled THEN exactly one frame is drawn."""
    app = make_kiosk(real_server.url, real_server.token)
    pump(app, lambda: _settled(app))
    app.step()
    flips, frames = _count_flips(monkeypatch), app.frames
    loops, end = 0, time.monotonic() + 1.0
    while (left := end - time.monotonic()) > 0:
        app.step(min(app.next_timeout(), left))
        loops += 1
    assert flips == [] and app.frames == frames
    assert loops <= 3, f"the loop ran {loops} times in 1 s while idle"
    finger(app, "lang")
    assert app.lang == "en" and len(flips) == 1 and app.frames == frames + 1


def test_bus_message_wakes_the_sleeping_loop(mosquitto, site_id, real_server, make_kiosk):
    """GIVEN an idle kiosk asleep in step(10) WHEN the server publishes a new QueueSummary
    THEN the loop wakes at once (long before 10 s), shows the new count and draws one frame."""
    cfg = parse_config({"device_id": "kiosk-1", "bus": {"host": "127.0.0.1", "port": mosquitto.port,
                                                          "site": site_id}})
    app = make_kiosk(real_server.url, real_server.token, bus=make_bus(cfg))
    pump(app, lambda: _settled(app) and app.bus.connected.is_set())
    app.step()
    frames = app.frames
    server = BusClient(site=site_id, role="server", device="srv", host="127.0.0.1", port=mosquitto.port)
    server.start()
    summary = QueueSummary(service_day="2026-11-23", server_time_ms=1795402867120, services=(
        ServiceSummary(prefix="A", waiting=14, issued=63, served=45, no_show=4, open=True,
                       est_wait_s=1260),))
    publish = threading.Timer(0.3, lambda: server.publish(Topics(site_id).summary, encode(summary),
                                                          retain=True))
    try:
        publish.start()
        start = time.monotonic()
        while app.waiting("A") != (14, 1260) and time.monotonic() - start < 10:
            app.step(10.0)
        took = time.monotonic() - start
    finally:
        publish.cancel()
        server.stop()
    assert app.waiting("A") == (14, 1260) and took < 5.0
    assert app.frames == frames + 1


def test_next_timeout_is_the_nearest_timer(real_server, make_kiosk):
    """GIVEN the info screen (30 s inactivity) WHEN 25 s pass without a touch THEN the loop
    would sleep about 5 s, and after that sleep the kiosk is home; on home nothing but the
    refresh and the opening-hours minute is due."""
    app = make_kiosk(real_server.url, real_server.token)
    pump(app, lambda: _settled(app))
    finger(app, "service", "A")
    app.clock.t += 25
    app.step()
    assert app.screen == "info" and 4.9 < app.next_timeout() < 5.1
    app.clock.t += app.next_timeout()
    app.step()
    assert app.screen == "home"
    assert app.next_timeout() <= 60.01
