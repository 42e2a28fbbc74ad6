"""The real board against a real Mosquitto: screen state, announcements, resync."""
import threading
import time

import pygame
import pytest

from broker.protocol import encode
from display import render

from display_testkit import LONG_TEXT, call, snapshot

pytestmark = pytest.mark.timeout(40)


def publish(server, topic, msg_or_bytes, retain=False):
    payload = msg_or_bytes if isinstance(msg_or_bytes, bytes) else encode(msg_or_bytes)
    info = server.publish(topic, payload, retain=retain)
    info.wait_for_publish(5)


def played_fully(ann) -> bool:
    """Played to its end, not cut off. The mixer reports the end when it has fed
    the last buffer (1024 frames = 46 ms at 22050 Hz), so allow one buffer."""
    return ann.ended_at - ann.started_at >= ann.length_s - 0.07


def ready(app, server, seq=10, **kw):
    """Publish a retained snapshot and wait until the board shows it."""
    publish(server, server.topics.board, snapshot(server.topics.site, seq, **kw), retain=True)
    assert app.run_until(lambda: app.state.snapshot is not None and app.state.snapshot.seq == seq, 5)
    app.run_until(lambda: False, 0.1)  # let the first frame settle


def test_call_event_shows_and_announces(mosquitto, make_board, make_server):
    """GIVEN a board showing a retained snapshot
    WHEN the server publishes a call for A-023 at counter 5
    THEN the big panel shows A-023 / LOKET 5 flashing, counter 5's tile shows A-023,
    and one announcement plays: chime, 'nomor antrean A dua puluh tiga, silakan menuju loket lima'."""
    server = make_server(mosquitto.port)
    app = make_board(mosquitto.port)
    ready(app, server, seq=22, serving={3: "A-022"})

    publish(server, server.topics.call, call(23, "A-023", 5))
    assert app.run_until(lambda: len(app.announcer.log) == 1, 5)

    assert app.renderer.texts["call"] == ["NOMOR ANTREAN / Queue number", "A-023", "LOKET 5", "*flash*"]
    assert "Loket 5: A-023" in app.renderer.texts["counters"]
    assert app.renderer.texts["recent"][0] == "A-022 Loket 3"
    ann = app.announcer.log[0]
    assert ann.clips == ["chime", "nomor-antrean", "huruf-a", "dua", "puluh", "tiga",
                         "silakan-menuju-loket", "lima"]
    assert ann.missing == []
    assert ann.queued_at <= ann.started_at < ann.ended_at
    assert played_fully(ann)
    # The attention animation stops by itself (flash_s = 1 s in these tests).
    assert app.run_until(lambda: "*flash*" not in app.renderer.texts["call"], 3)


def test_digits_reading_and_repeat(mosquitto, make_board, make_server):
    """GIVEN a board configured for digit-by-digit reading, said twice
    WHEN a recall for A-007 at counter 12 arrives
    THEN the recall is shown as such and announced chime + twice 'A nol nol tujuh ... loket dua belas'."""
    server = make_server(mosquitto.port)
    app = make_board(mosquitto.port, reading="digits", repeat=2)
    ready(app, server, seq=7)

    publish(server, server.topics.call, call(8, "A-007", 12, kind="recall"))
    assert app.run_until(lambda: len(app.announcer.log) == 1, 5)

    spoken = ["nomor-antrean", "huruf-a", "nol", "nol", "tujuh", "silakan-menuju-loket", "dua", "belas"]
    assert app.announcer.log[0].clips == ["chime"] + spoken + ["|"] + spoken
    assert app.renderer.texts["call"][0] == "PANGGILAN ULANG / Recall"


def test_burst_of_ten_calls_is_announced_in_order_without_overlap(mosquitto, make_board, make_server):
    """GIVEN a board
    WHEN ten calls arrive within one second
    THEN all ten are announced, in seq order, each starting after the previous one ended,
    and the big panel ends on the last call."""
    server = make_server(mosquitto.port)
    app = make_board(mosquitto.port)
    ready(app, server, seq=100)

    for i in range(10):
        publish(server, server.topics.call, call(101 + i, f"A-{101 + i:03d}", i + 1))
    assert app.run_until(lambda: len(app.announcer.log) == 10, 15)

    log = list(app.announcer.log)
    assert [a.seq for a in log] == list(range(101, 111))
    assert [a.ticket for a in log] == [f"A-{101 + i:03d}" for i in range(10)]
    for before, after in zip(log, log[1:]):
        assert after.started_at >= before.ended_at
    assert all(played_fully(a) for a in log)
    assert app.state.current.ticket == "A-110"


def test_duplicates_dropped_and_gap_resyncs(mosquitto, make_board, make_server):
    """GIVEN a board at seq 30
    WHEN call 31 arrives twice, then call 34 (32 and 33 were missed), then the server's snapshot
    THEN 31 is announced once, 34 is shown and announced, a resync is marked on the gap,
    the board ends at the server's state (counters 3 and 4 it never heard called), and the
    missed calls 32 and 33, learnt from the snapshot while fresh, are still announced once each."""
    server = make_server(mosquitto.port)
    app = make_board(mosquitto.port)
    ready(app, server, seq=30)

    publish(server, server.topics.call, call(31, "A-031", 2))
    publish(server, server.topics.call, call(31, "A-031", 2))
    assert app.run_until(lambda: app.state.last_call_seq == 31, 5)
    publish(server, server.topics.call, call(34, "A-034", 6))
    assert app.run_until(lambda: app.state.last_call_seq == 34, 5)
    assert app.state.resync_pending
    publish(server, server.topics.board,
            snapshot(server.topics.site, 34, serving={2: "A-031", 3: "A-032", 4: "A-033", 6: "A-034"}),
            retain=True)
    assert app.run_until(lambda: len(app.announcer.log) == 4 and not app.state.resync_pending
                         and app.state.snapshot.seq == 34, 8)
    publish(server, server.topics.call, call(33, "A-033", 4))  # its event, late: already announced
    app.run_until(lambda: False, 0.3)

    assert [a.ticket for a in app.announcer.log] == ["A-031", "A-034", "A-032", "A-033"]
    assert "Loket 3: A-032" in app.renderer.texts["counters"]
    assert "Loket 4: A-033" in app.renderer.texts["counters"]
    assert app.renderer.texts["call"][1] == "A-034"


def test_snapshot_overtaking_its_call_still_announces(mosquitto, make_board, make_server):
    """GIVEN a board at seq 10
    WHEN the snapshot for seq 11 arrives before call event 11 (different topics)
    THEN call 11 is still announced, once."""
    server = make_server(mosquitto.port)
    app = make_board(mosquitto.port)
    ready(app, server, seq=10)

    publish(server, server.topics.board, snapshot(server.topics.site, 11, serving={4: "A-011"}), retain=True)
    assert app.run_until(lambda: app.state.snapshot.seq == 11, 5)
    publish(server, server.topics.call, call(11, "A-011", 4))
    publish(server, server.topics.call, call(11, "A-011", 4))
    assert app.run_until(lambda: len(app.announcer.log) == 1, 5)
    app.run_until(lambda: False, 0.3)

    assert [a.ticket for a in app.announcer.log] == ["A-011"]
    assert app.renderer.texts["call"][:3] == ["NOMOR ANTREAN / Queue number", "A-011", "LOKET 4"]


def test_restart_mid_day_redraws_at_once_from_retained_state(mosquitto, make_board, make_server):
    """GIVEN the server has published a retained snapshot with counters 1-16 busy
    WHEN a board starts (a reboot mid-day)
    THEN its first frames show the snapshot: counters, last call (not flashing, not announced),
    waiting count and running text."""
    server = make_server(mosquitto.port)
    serving = {n: f"A-{n + 40:03d}" for n in range(1, 17)}
    publish(server, server.topics.board, snapshot(server.topics.site, 56, serving=serving, waiting=9),
            retain=True)

    started = time.monotonic()
    app = make_board(mosquitto.port)
    assert app.run_until(lambda: app.state.snapshot is not None and app.frames >= 2, 5)
    assert time.monotonic() - started < 5

    assert app.renderer.texts["counters"] == [f"Loket {n}: A-{n + 40:03d}" for n in range(1, 17)]
    assert app.renderer.texts["call"] == ["NOMOR ANTREAN / Queue number", "A-056", "LOKET 16"]
    assert app.renderer.texts["services"] == ["A Verifikasi Klaim: 9"]
    assert app.renderer.texts["ticker"] == ["Siapkan KK dan E-KTP."]
    assert app.renderer.texts["clock"][0] == "08:41"
    app.run_until(lambda: False, 0.3)
    assert list(app.announcer.log) == []


def test_losing_the_bus_shows_badge_and_keeps_state(fresh_mosquitto, make_board, make_server):
    """GIVEN a board showing a call, connected to its own broker
    WHEN the broker stops
    THEN the offline badge appears and the last state stays on screen;
    WHEN the broker comes back and the server republishes
    THEN the badge goes away."""
    server = make_server(fresh_mosquitto.port)
    app = make_board(fresh_mosquitto.port)
    ready(app, server, seq=40, serving={1: "A-040"})
    assert app.renderer.texts["badge"] == []
    shown = list(app.renderer.texts["counters"])

    fresh_mosquitto.stop()
    assert app.run_until(lambda: app.renderer.texts["badge"] == ["Terputus / Offline"], 20)
    assert app.renderer.texts["counters"] == shown
    assert app.renderer.texts["call"][1] == "A-040"

    fresh_mosquitto.start()
    assert app.run_until(lambda: app.state.online and app.renderer.texts["badge"] == [], 20)


def test_malformed_payloads_are_ignored(mosquitto, make_board, make_server):
    """GIVEN a call event someone wrongly published retained, and a retained snapshot
    WHEN a board starts, then garbage, wrong-version, wrong-site and invalid payloads arrive
    THEN the retained call is not announced, nothing on screen changes, nothing is announced,
    and each bad payload is counted as ignored."""
    server = make_server(mosquitto.port)
    publish(server, server.topics.call, call(51, "A-051", 1), retain=True)
    publish(server, server.topics.board, snapshot(server.topics.site, 50, serving={1: "A-050"}), retain=True)
    app = make_board(mosquitto.port)
    assert app.run_until(lambda: app.state.snapshot is not None and app.state.ignored == 1, 5)
    server.clear_retained(server.topics.call).wait_for_publish(5)
    app.run_until(lambda: False, 0.2)
    before = dict(app.renderer.texts)
    other_site = snapshot("other-site", 99, serving={1: "B-001"})
    bad = [
        (server.topics.board, b"\xff\xfenot json"),
        (server.topics.board, b'{"v": 2, "site": "x"}'),
        (server.topics.board, encode(other_site)),
        (server.topics.call, b"[]"),
        (server.topics.call, b'{"v":1,"seq":51,"kind":"shout","ticket":"A-051","service":"A",'
                             b'"counter":1,"counter_name":"Loket 1","at":"x"}'),
        (server.topics.call, b'{"v":1,"seq":51,"kind":"call","ticket":"A051","service":"A",'
                             b'"counter":1,"counter_name":"Loket 1","at":"x"}'),
    ]
    for topic, payload in bad:
        publish(server, topic, payload)
    assert app.run_until(lambda: app.state.ignored == len(bad) + 1, 5)

    app.run_until(lambda: False, 0.3)
    assert app.renderer.texts == before
    assert list(app.announcer.log) == []
    assert app.state.last_call_seq == 50


def test_idle_board_draws_nothing(mosquitto, make_board, make_server):
    """GIVEN a board showing a snapshot whose running text fits (no scrolling) and no call flashing
    WHEN nothing happens for 1.5 s (no minute boundary passes)
    THEN no region is redrawn, and the loop asks to sleep until the next minute;
    WHEN the server republishes the same snapshot THEN still nothing is redrawn."""
    server = make_server(mosquitto.port)
    app = make_board(mosquitto.port)
    ready(app, server, seq=60)
    app.run_until(lambda: False, 0.2)
    frames, draws = app.frames, dict(app.renderer.draws)

    app.run_until(lambda: False, 1.5)

    assert app.frames == frames
    assert app.renderer.draws == draws
    assert app.next_timeout() > 10

    publish(server, server.topics.board, snapshot(server.topics.site, 60), retain=True)
    received = app.state.snapshot
    assert app.run_until(lambda: app.state.snapshot is not received, 5)
    app.run_until(lambda: False, 0.2)
    assert app.renderer.draws == draws


def test_idle_board_with_scrolling_text_redraws_only_the_ticker_strip(mosquitto, make_board, make_server):
    """GIVEN a board showing a snapshot whose running text is too long for the strip (it scrolls)
    and no call flashing
    WHEN nothing happens for 1.5 s (no minute boundary passes)
    THEN the text moves, every frame redraws and updates only the ticker strip, at most at
    the configured ticker frame rate, and no full redraw happens;
    WHEN the server republishes the same snapshot THEN still only the ticker strip is redrawn."""
    server = make_server(mosquitto.port)
    app = make_board(mosquitto.port)
    ready(app, server, seq=61, text=LONG_TEXT)
    assert app.renderer.ticker_scrolls(app.state)
    strip = tuple(app.renderer.rects["ticker"])
    frames, draws, full = app.frames, dict(app.renderer.draws), app.full_redraws
    app.updates.clear()
    positions = set()

    deadline = time.monotonic() + 1.5
    while time.monotonic() < deadline:
        app.step(max_wait=deadline - time.monotonic())
        positions.add(app.renderer.ticker_x)

    strip_frames = app.frames - frames
    fps = app.config.board["ticker_fps"]
    assert 3 <= strip_frames <= 1.5 * fps + 3
    assert len(positions - {None}) >= 3  # it really scrolls
    assert app.full_redraws == full
    assert list(app.updates) == [(strip,)] * strip_frames
    changed = {r for r in render.REGIONS if app.renderer.draws[r] != draws[r]}
    assert changed == {"ticker"}
    assert app.renderer.draws["ticker"] - draws["ticker"] == strip_frames

    publish(server, server.topics.board, snapshot(server.topics.site, 61, text=LONG_TEXT), retain=True)
    received = app.state.snapshot
    assert app.run_until(lambda: app.state.snapshot is not received, 5)
    app.run_until(lambda: False, 0.2)
    assert app.full_redraws == full
    assert set(app.updates) == {(strip,)}
    assert {r for r in render.REGIONS if app.renderer.draws[r] != draws[r]} == {"ticker"}


def test_idle_board_wakes_at_once_for_bus_messages_and_quit(mosquitto, make_board, make_server):
    """GIVEN an idle board asked to sleep for up to 10 s
    WHEN a call arrives on the bus THEN the sleep ends and the call is shown well before then;
    WHEN a QUIT event (window closed, or SIGTERM through SDL) is posted from another thread
    THEN the loop stops well before its 10 s sleep would end."""
    server = make_server(mosquitto.port)
    app = make_board(mosquitto.port)
    ready(app, server, seq=70)

    threading.Timer(0.3, lambda: publish(server, server.topics.call, call(71, "A-071", 2))).start()
    started = time.monotonic()
    while app.state.last_call_seq != 71 and time.monotonic() - started < 5:
        app.step(max_wait=10)
    assert app.state.last_call_seq == 71
    assert time.monotonic() - started < 5
    assert app.run_until(lambda: app.announcer.idle and len(app.announcer.log) == 1, 5)
    assert app.run_until(lambda: "*flash*" not in app.renderer.texts["call"], 3)

    threading.Timer(0.3, lambda: pygame.event.post(pygame.event.Event(pygame.QUIT))).start()
    started = time.monotonic()
    while app.running and time.monotonic() - started < 5:
        app.step(max_wait=10)
    assert not app.running
    assert time.monotonic() - started < 5


def tile_colour(app, counter):
    """The colour of a counter tile's background, just inside its top edge."""
    tile = app.renderer.tiles[counter]
    return tuple(app.renderer.surface.get_at((tile.centerx, tile.top + 3)))[:3]


def call_panel_colour(app):
    rect = app.renderer.rects["call"]
    return tuple(app.renderer.surface.get_at((rect.centerx, rect.top + 3)))[:3]


def test_priority_ticket_is_visibly_distinct(mosquitto, make_board, make_server):
    """GIVEN a board whose snapshot has counter 3 serving a priority ticket (lansia) and
    counter 4 a regular one
    THEN tile 3 is labelled 'Prioritas' in the priority colour and tile 4 is not;
    WHEN a priority call for A-080 (disabilitas) at counter 6 arrives
    THEN the big panel names the priority group, and once the flash ends it stays in the
    priority colour, and tile 6 is marked 'Prioritas' too."""
    server = make_server(mosquitto.port)
    app = make_board(mosquitto.port)
    ready(app, server, seq=79, serving={3: "A-078", 4: "A-079"}, priority={3: "lansia"})

    assert "Loket 3 - Prioritas: A-078" in app.renderer.texts["counters"]
    assert "Loket 4: A-079" in app.renderer.texts["counters"]
    assert tile_colour(app, 3) == render.PRIORITY
    assert tile_colour(app, 4) == render.PANEL
    assert app.renderer.texts["recent"][0] == "A-078 Loket 3"

    publish(server, server.topics.call, call(80, "A-080", 6, priority="disabilitas"))
    assert app.run_until(lambda: app.state.last_call_seq == 80, 5)
    assert app.run_until(lambda: "*flash*" not in app.renderer.texts["call"], 3)

    assert app.renderer.texts["call"] == ["NOMOR ANTREAN / Queue number", "A-080", "LOKET 6",
                                          "PRIORITAS / Priority: Disabilitas"]
    assert call_panel_colour(app) == render.PRIORITY
    assert "Loket 6 - Prioritas: A-080" in app.renderer.texts["counters"]
    assert tile_colour(app, 6) == render.PRIORITY
    assert tile_colour(app, 4) == render.PANEL
