"""The per-kiosk rate limit (server/ratelimit.py) as the supervisor's live view shows it:
counts per kiosk and an alert for a kiosk refused in the last 10 minutes."""
import json
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from server.app import create_app
from server.clock import FakeClock
from server.config import EXAMPLE_SITE, load_site
from server.queue import QueueService
from server.ratelimit import KioskRateLimiter, RateLimited
from server.devtools.devserver import ThreadedServer
from server.web.live import alerts, kiosk_limits

PW = "kata-sandi-rahasia"
ALERT_ID = "Kiosk kiosk-1 dibatasi: terlalu banyak permintaan"
ALERT_EN = "Kiosk kiosk-1 rate-limited: too many requests"


def _make_app(tmp_path, **config):
    clock = FakeClock(datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Jakarta")))
    db = str(tmp_path / "q.db")
    svc = QueueService(db, load_site(EXAMPLE_SITE), clock)
    # 1 per minute refills too slowly to matter while a test runs: the burst decides
    app = create_app({"LALOPA_QUEUE": svc, "LALOPA_DB": db, "TESTING": True,
                      "LALOPA_KIOSK_RATE_PER_MIN": 1, "LALOPA_KIOSK_BURST": 3,
                      "LALOPA_SSE_TICK_S": 0.5, **config})
    users = app.extensions["lalopa.users"]
    users.create("boss", "supervisor", PW)
    users.create("ani", "verifier", PW, counter=2)
    return app, svc


@pytest.fixture
def app(tmp_path):
    app, svc = _make_app(tmp_path)
    yield app
    svc.close()


def _login(client, username="boss"):
    html = client.get("/login").get_data(as_text=True)
    csrf = html.split('name="csrf_token" value="')[1].split('"')[0]
    r = client.post("/login", data={"username": username, "password": PW, "csrf_token": csrf})
    assert r.status_code in (302, 303)


def _hammer(app, n: int, device: str = "kiosk-1", prefix: str = "req") -> list[int]:
    """``n`` ticket requests with distinct request ids from one kiosk token; their status codes."""
    token = app.extensions["lalopa.queue"].create_device_token(device, "kiosk")
    client = app.test_client()
    return [client.post("/api/v1/tickets", json={"service": "A", "request_id": f"{prefix}-{i}"},
                        headers={"Authorization": f"Bearer {token}"}).status_code for i in range(n)]


def _first_state_event(client) -> dict:
    resp = client.get("/dashboard/events", buffered=False)
    assert resp.status_code == 200 and resp.mimetype == "text/event-stream"
    chunks = iter(resp.response)
    try:
        for chunk in chunks:
            text = chunk.decode() if isinstance(chunk, bytes) else chunk
            if text.startswith("event: state"):
                return json.loads(text.split("data: ", 1)[1])
    finally:
        resp.close()  # frees the hub's stream slot
    raise AssertionError("no state event")


def test_refused_kiosk_shows_in_live_data_stream_and_page(app):
    """GIVEN burst 3 WHEN kiosk-1 sends 8 tickets with distinct request ids THEN 3 are issued and
    5 refused (429), and the supervisor's JSON snapshot, event stream and page all show kiosk-1
    with 3 allowed, 5 refused, the time of the last refusal, and the Indonesian alert."""
    codes = _hammer(app, 8)
    assert codes.count(201) == 3 and codes.count(429) == 5
    client = app.test_client()
    _login(client)

    snap = client.get("/dashboard/state.json").get_json()
    limits = snap["kiosk_limits"]
    assert limits["enabled"] and "1 nomor antrean per menit" in limits["rule"]
    [row] = limits["kiosks"]
    assert (row["device"], row["allowed"], row["limited"], row["recent"]) == ("kiosk-1", 3, 5, True)
    last = datetime.fromisoformat(row["last_limited"])
    assert last.utcoffset() == timedelta(hours=7)  # shown in the site's time zone
    assert abs((datetime.now(timezone.utc) - last).total_seconds()) < 60
    [alert] = [a for a in snap["alerts"] if a["kind"] == "rate_limited"]
    assert alert["text"].startswith(ALERT_ID) and "5 ditolak" in alert["text"]
    assert row["last_limited"][11:19] in alert["text"]

    event = _first_state_event(client)
    assert event["kiosk_limits"]["kiosks"][0]["limited"] == 5
    assert any(a["text"].startswith(ALERT_ID) for a in event["alerts"])

    html = client.get("/dashboard").get_data(as_text=True)
    assert f'<li class="rate_limited">{ALERT_ID}' in html
    assert '<tr data-kiosk="kiosk-1" class="recent">' in html
    assert '<td class="num" data-col="limited">5</td>' in html
    assert '<td class="num" data-col="allowed">3</td>' in html
    assert "Batas permintaan kiosk" in html


def test_alert_and_table_in_english(app):
    """GIVEN a refused kiosk WHEN the supervisor switches to English THEN the alert and the
    table headings are English."""
    _hammer(app, 5)
    client = app.test_client()
    _login(client)
    client.get("/lang/en")
    snap = client.get("/dashboard/state.json").get_json()
    assert any(a["text"].startswith(ALERT_EN) and "2 refused" in a["text"] for a in snap["alerts"])
    assert snap["kiosk_limits"]["rule"].startswith("Limit: 1 tickets per minute per kiosk, at most 3")
    html = client.get("/dashboard").get_data(as_text=True)
    assert "Kiosk request limit" in html and "Refused" in html and ALERT_EN in html


def test_other_kiosks_and_quiet_kiosks_raise_no_alert(app):
    """GIVEN kiosk-2 refused once and kiosk-3 within its burst THEN both are in the table, only
    kiosk-2 has an alert; the rows come sorted by kiosk id."""
    assert _hammer(app, 4, device="kiosk-2", prefix="k2") == [201, 201, 201, 429]
    assert _hammer(app, 2, device="kiosk-3", prefix="k3") == [201, 201]
    client = app.test_client()
    _login(client)
    snap = client.get("/dashboard/state.json").get_json()
    rows = {r["device"]: r for r in snap["kiosk_limits"]["kiosks"]}
    assert list(rows) == ["kiosk-2", "kiosk-3"]
    assert (rows["kiosk-3"]["allowed"], rows["kiosk-3"]["limited"]) == (2, 0)
    assert rows["kiosk-3"]["last_limited"] is None and not rows["kiosk-3"]["recent"]
    limited = [a["text"] for a in snap["alerts"] if a["kind"] == "rate_limited"]
    assert len(limited) == 1 and limited[0].startswith("Kiosk kiosk-2 dibatasi")


def test_alert_ends_ten_minutes_after_the_last_refusal():
    """GIVEN a limiter that refused kiosk-1 WHEN the live data is built 9 minutes later THEN there
    is an alert; 11 minutes later THEN no alert, while the table still counts the refusal."""
    lim = KioskRateLimiter(per_minute=1, burst=1, now=lambda: 0.0)
    lim.check("kiosk-1")
    with pytest.raises(RateLimited):
        lim.check("kiosk-1")
    site = load_site(EXAMPLE_SITE)
    stamped = datetime.fromisoformat(lim.stats()["kiosk-1"]["last_limited"])
    for minutes, expect in ((9, True), (11, False)):
        limits = kiosk_limits(lim, site.tz, "id", now=stamped + timedelta(minutes=minutes))
        assert limits["kiosks"][0]["limited"] == 1 and limits["kiosks"][0]["recent"] is expect
        found = alerts(site, [], {}, None, "id", limits["kiosks"])
        assert [a["kind"] for a in found] == (["rate_limited"] if expect else [])


def test_no_requests_and_limit_off(tmp_path):
    """GIVEN the limit turned off (rate 0) WHEN kiosks issue many tickets THEN nothing is refused,
    the live view says the limit is off and shows no kiosk rows and no alert."""
    app, svc = _make_app(tmp_path, LALOPA_KIOSK_RATE_PER_MIN=0)
    try:
        client = app.test_client()
        _login(client)
        html = client.get("/dashboard").get_data(as_text=True)
        assert "Batas permintaan kiosk dimatikan." in html
        assert '<p class="muted" id="no-kiosk-requests">' in html  # not hidden: nothing yet
        assert all(code == 201 for code in _hammer(app, 6))
        snap = client.get("/dashboard/state.json").get_json()
        assert snap["kiosk_limits"] == {"enabled": False, "rule": "Batas permintaan kiosk dimatikan.",
                                        "kiosks": []}
        assert not [a for a in snap["alerts"] if a["kind"] == "rate_limited"]
    finally:
        svc.close()


def test_live_view_is_refused_without_log_in(app):
    """GIVEN a refused kiosk WHEN the live data is asked for with no session, with the kiosk's own
    bearer token, or by a verifier THEN it is refused (401/redirect/403) and shows no counts."""
    _hammer(app, 5)
    token = app.extensions["lalopa.queue"].create_device_token("kiosk-9", "kiosk")
    anon = app.test_client()
    for path in ("/dashboard/state.json", "/dashboard/events"):
        r = anon.get(path)
        assert r.status_code == 401 and r.get_json()["error"]["code"] == "login_required"
        r = anon.get(path, headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401
    page = anon.get("/dashboard")
    assert page.status_code == 302 and "/login" in page.headers["Location"]
    assert "kiosk-1" not in page.get_data(as_text=True)
    verifier = app.test_client()
    _login(verifier, "ani")
    assert verifier.get("/dashboard/state.json").status_code == 403
    assert verifier.get("/dashboard").status_code == 403


def test_page_updates_the_limit_table_live_in_chromium(tmp_path, browser, login):
    """GIVEN the live view open in headless Chromium with no kiosk requests yet WHEN kiosk-1
    hammers the ticket API THEN, without a reload, the table shows its refused count and the
    alert list shows the rate-limit alert."""
    app, svc = _make_app(tmp_path)
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(8000)
    try:
        with ThreadedServer(app) as url:
            page = ctx.new_page()
            login(page, url, "boss", PW)
            page.goto(f"{url}/dashboard")
            assert page.locator("#no-kiosk-requests").is_visible()
            _hammer(app, 7)
            page.wait_for_selector('#kiosk-limits tr[data-kiosk="kiosk-1"] td[data-col="limited"]:text-is("4")')
            page.wait_for_selector(f'#alerts li.rate_limited:has-text("{ALERT_ID}")')
            assert page.locator("#no-kiosk-requests").is_hidden()
            assert page.locator('#kiosk-limits tr[data-kiosk="kiosk-1"] td[data-col="allowed"]').inner_text() == "3"
            page.close()
    finally:
        ctx.close()
        svc.close()
