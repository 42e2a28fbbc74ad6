"""A kiosk that never misleads and that speaks: what the server decides, the kiosk shows
and says (real server over HTTP, real pygame under the dummy video driver)."""
from __future__ import annotations

import dataclasses
import io

import pygame
import pytest

from display.voice import synthesize_phrase
from kiosk import screens
from kiosk_helpers import at_home, finger, pump
from server.config import EXAMPLE_SITE, load_site


def _refreshed(app, until):
    """The periodic refresh now (not in a minute), until the kiosk shows what changed."""
    app._refresh()
    pump(app, until)


def test_a_service_no_counter_serves_says_so(real_server, make_kiosk):
    """GIVEN only counter 1 (A, C) open and nobody waiting for B
    WHEN the kiosk shows B THEN it says "belum ada loket yang melayani", never "tanpa antrean"."""
    q = real_server.queue
    q.counter_action(1, "open", command_id="o1", device="panel-1")
    app = make_kiosk(real_server.url, real_server.token)
    pump(app, lambda: at_home(app) and "B" in app.counts)
    sub = screens._service_sub(app, "B", "id", False)
    assert "belum ada loket yang melayani" in sub and "tanpa antrean" not in sub
    assert "tanpa antrean" in screens._service_sub(app, "A", "id", False)   # A: served, nobody waits
    finger(app, "service", "B")
    text, _ = screens._notice(app, "B", "id")
    assert text.startswith("Belum ada loket yang melayani layanan ini")
    q.counter_action(15, "open", command_id="o15", device="panel-15")     # counter 15 serves B
    _refreshed(app, lambda: app.served("B"))
    assert "belum ada loket" not in screens._service_sub(app, "B", "id", False)


def test_a_priority_resident_sees_that_priority_applies(real_server, make_kiosk):
    """GIVEN five normal residents waiting for A at one counter WHEN a resident chooses "lansia"
    THEN the info screen says priority applies and shows the (shorter) priority range."""
    q = real_server.queue
    q.counter_action(1, "open", command_id="o1", device="panel-1")
    for i in range(5):
        q.issue("A", request_id=f"n{i}", device="kiosk-2")
    app = make_kiosk(real_server.url, real_server.token)
    pump(app, lambda: at_home(app) and app.counts.get("A", {}).get("waiting") == 5)
    finger(app, "priority", "lansia")
    finger(app, "service", "A")
    text, _ = screens._notice(app, "A", "id")
    assert "Prioritas berlaku" in text and "Lansia" in text
    assert app.told("A", "lansia")[1] < app.told("A")[1]


@pytest.fixture
def site_for_test():
    """The example site with service A stopped by the predictive cut-off."""
    site = load_site(EXAMPLE_SITE)
    return dataclasses.replace(site, services=tuple(
        dataclasses.replace(s, cutoff="stop") if s.prefix == "A" else s for s in site.services))


def test_the_cutoff_stops_before_issuing(real_server, server_clock, make_kiosk):
    """GIVEN A's cut-off is "stop", it is 14:30 (closing 15:00) and one counter has a long A
    queue WHEN a resident wants an A number THEN the kiosk says so and cannot take one; a kiosk
    that had not heard yet gets the server's refusal and says the same (no number)."""
    server_clock.advance(5.5 * 3600)
    q = real_server.queue
    q.counter_action(1, "open", command_id="o1", device="panel-1")
    app = make_kiosk(real_server.url, real_server.token)
    pump(app, lambda: at_home(app) and "A" in app.counts)
    assert app.cutoff("A") == "ok"
    finger(app, "service", "A")
    for i in range(40):                      # the queue grows behind the kiosk's back
        if q.summary()["services"]["A"]["cutoff"] != "ok":
            break
        q.issue("A", request_id=f"n{i}", device="kiosk-2")
    before = q.summary()["services"]["A"]["issued"]
    finger(app, "take", "A")                 # the kiosk still thinks "ok": the server decides
    pump(app, lambda: app.screen == "closed")
    assert app.closed_reason == "cutoff" and app.ticket is None
    assert q.summary()["services"]["A"]["issued"] == before
    finger(app, "back")
    _refreshed(app, lambda: app.cutoff("A") == "stop")
    assert app.cutoff("A") == "stop"
    finger(app, "service", "A")
    assert not app.button("take", "A").enabled
    assert "tidak dapat diambil lagi hari ini" in screens._notice(app, "A", "id")[0]


def _played_raw(text: str) -> bytes:
    return pygame.mixer.Sound(file=io.BytesIO(synthesize_phrase(text))).get_raw()


def test_the_kiosk_reads_the_number_aloud(real_server, make_kiosk, tmp_path, monkeypatch):
    """GIVEN a resident who got A-001 WHEN "Dengarkan" is tapped THEN the kiosk's speaker (SDL
    disk audio) plays espeak-ng's Indonesian for "Nomor antrean Anda: a satu" and not "a dua"."""
    out = tmp_path / "kiosk-audio.raw"
    monkeypatch.setenv("SDL_AUDIODRIVER", "disk")
    monkeypatch.setenv("SDL_DISKAUDIOFILE", str(out))
    monkeypatch.setenv("SDL_DISKAUDIODELAY", "1")   # write as fast as it mixes
    pygame.mixer.quit()
    pygame.mixer.init(frequency=22050, size=-16, channels=1)
    try:
        real_server.queue.counter_action(1, "open", command_id="o1", device="panel-1")
        app = make_kiosk(real_server.url, real_server.token)
        pump(app, lambda: at_home(app))
        finger(app, "service", "A")
        finger(app, "take", "A")
        pump(app, lambda: app.screen == "confirm")
        assert app.ticket["ticket"]["number"] == "A-001"
        finger(app, "speak")
        pump(app, lambda: app.speaker.spoken and not app.speaker.busy(), timeout=20)
        said = app.speaker.spoken[-1]
        assert said.startswith("Nomor antrean Anda: a satu.")
        first = _played_raw("Nomor antrean Anda: a satu.").rstrip(b"\0")
        wrong = _played_raw("Nomor antrean Anda: a dua.").rstrip(b"\0")
        whole = _played_raw(said)
    finally:
        pygame.mixer.quit()       # closes the disk device: everything mixed is in the file
    heard = out.read_bytes()
    cut = 4000   # the sentence's last 90 ms: its fall differs when another sentence follows
    assert heard.find(first[:-cut]) >= 0
    assert heard.find(wrong[:-cut]) < 0
    assert heard.find(whole[: len(whole) // 2]) >= 0 and len(heard) >= len(whole)
