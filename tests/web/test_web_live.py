"""Live-view plumbing without a browser: the change hub, the event stream, alerts, language."""
import json
import threading
import time
from datetime import datetime
from zoneinfo import ZoneInfo

from broker.protocol import Presence, PrinterStatus
from server.app import create_app
from server.clock import FakeClock
from server.config import EXAMPLE_SITE, load_site
from server.presence import DeviceBook
from server.queue import QueueService
from server.web.live import Hub, alerts, limited, sse_stream


def test_stream_sends_a_snapshot_at_once_and_after_each_change():
    """GIVEN a stream on a hub WHEN a change is notified THEN the next snapshot follows at once,
    long before the periodic tick."""
    hub, counter = Hub(), iter(range(100))
    stream = sse_stream(lambda: {"n": next(counter)}, hub, tick_s=30, max_s=60)
    assert next(stream).startswith("retry:")
    assert json.loads(next(stream).split("data: ")[1]) == {"n": 0}
    threading.Timer(0.2, hub.notify).start()
    started = time.monotonic()
    assert json.loads(next(stream).split("data: ")[1]) == {"n": 1}
    assert time.monotonic() - started < 5


def test_alerts_cover_waits_idle_counters_offline_devices_and_paper(tmp_path):
    """GIVEN a ticket waiting past the target, an idle open counter, an offline display and a
    kiosk out of paper (as the MQTT bridge's DeviceBook records them) THEN four alerts."""
    site = load_site(EXAMPLE_SITE)
    book = DeviceBook(now=lambda: "2026-11-23T09:00:00+07:00")
    book.presence(Presence(role="display", device="board-1", status="offline"))
    book.presence(Presence(role="kiosk", device="kiosk-1", status="online"))
    book.printer(PrinterStatus(kiosk="kiosk-1", status="paper_out"))
    services = {"A": {"waiting": 3, "longest_wait_s": 45 * 60, "name_id": "Verifikasi Klaim",
                      "name_en": "Claim verification"}}
    counters = [{"counter": 1, "name": "Loket 1", "status": "open", "ticket": None},
                {"counter": 2, "name": "Loket 2", "status": "paused", "ticket": None}]
    found = alerts(site, counters, services, book.devices(), "id")
    assert [a["kind"] for a in found] == ["wait", "idle", "offline", "paper"]
    assert "45 menit" in found[0]["text"] and "Loket 1" in found[1]["text"]
    english = alerts(site, counters, services, book.devices(), "en")
    assert "out of paper" in english[3]["text"]


def test_language_toggle_is_kept_in_the_session(tmp_path):
    """GIVEN the log-in page in Indonesian WHEN /lang/en is visited THEN the page is English, and
    an unknown language code changes nothing."""
    clock = FakeClock(datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Jakarta")))
    svc = QueueService(str(tmp_path / "q.db"), load_site(EXAMPLE_SITE), clock)
    app = create_app({"LALOPA_QUEUE": svc, "LALOPA_DB": str(tmp_path / "q.db")})
    c = app.test_client()
    assert "Kata sandi" in c.get("/login").get_data(as_text=True)
    c.get("/lang/en")
    assert "Password" in c.get("/login").get_data(as_text=True)
    c.get("/lang/xx")
    assert 'lang="en"' in c.get("/login").get_data(as_text=True)
    svc.close()


def test_stream_slots_are_capped_and_freed():
    """GIVEN a hub with one stream slot WHEN a second stream is asked for THEN it is refused;
    WHEN the first stream is closed (client gone) THEN the slot is free again."""
    hub = Hub(max_streams=1)
    first = limited(sse_stream(dict, hub, tick_s=0.01, max_s=5), hub)
    next(first)
    assert limited(sse_stream(dict, hub), hub) is None
    first.close()
    assert limited(sse_stream(dict, hub), hub) is not None
