"""The per-kiosk rate limit on POST /api/v1/tickets (server/ratelimit.py)."""
from __future__ import annotations

from server import ratelimit
from server.ratelimit import KioskRateLimiter, RateLimited
from tests.faults.busparts import snapshot


def _post(api, rid, role="kiosk"):
    return api.client.post("/api/v1/tickets", json={"service": "A", "request_id": rid},
                           headers=api.auth(role))


def test_hammering_kiosk_gets_429_and_nothing_changes(limited_api):
    """GIVEN the default limit (burst 10) WHEN one kiosk sends 25 requests at once
    THEN exactly 10 tickets are issued, the rest get 429 rate_limited with ID+EN text,
    the refused ones change nothing, and the supervisor's stats count them."""
    api = limited_api
    codes = []
    for i in range(25):
        before = snapshot(api.svc)
        r = _post(api, f"h{i}")
        codes.append(r.status_code)
        if r.status_code == 429:
            err = r.get_json()["error"]
            assert err["code"] == "rate_limited" and "kiosk" in err["message_id"]
            assert err["message_en"].startswith("Too many")
            assert snapshot(api.svc) == before
    assert codes.count(201) == 10 and codes.count(429) == 15
    stats = ratelimit.limiter(api.app).stats()
    assert stats["kiosk-1"]["allowed"] == 10 and stats["kiosk-1"]["limited"] == 15
    assert stats["kiosk-1"]["last_limited"]


def test_limit_is_per_kiosk_and_not_for_admins(limited_api):
    """GIVEN kiosk-1 exhausted its bucket WHEN another kiosk or an admin issues
    THEN they are served: the limit counts per kiosk token only."""
    api = limited_api
    for i in range(12):
        _post(api, f"a{i}")
    other = api.svc.create_device_token(f"kiosk-{id(api)}-b", "kiosk")
    r = api.client.post("/api/v1/tickets", json={"service": "A", "request_id": "k2"},
                        headers={"Authorization": f"Bearer {other}"})
    assert r.status_code == 201
    assert _post(api, "admin-1", role="admin").status_code == 201


def test_bucket_refills_with_monotonic_time():
    """GIVEN a limiter at 60/min, burst 2, on a driven monotonic clock
    WHEN two requests pass, the third is refused, and one second passes THEN one more passes."""
    now = [100.0]
    lim = KioskRateLimiter(per_minute=60, burst=2, now=lambda: now[0])
    lim.check("k")
    lim.check("k")
    try:
        lim.check("k")
        raise AssertionError("third request should be limited")
    except RateLimited as exc:
        assert exc.status == 429 and exc.detail["retry_after_s"] == 1.0
    now[0] += 1.0
    lim.check("k")
    assert lim.stats()["k"] == {"allowed": 3, "limited": 1, "last_limited": lim.stats()["k"]["last_limited"]}


def test_zero_rate_disables_the_limit():
    """GIVEN per_minute=0 WHEN 100 requests arrive THEN none is refused (bench and tests can turn it off)."""
    lim = KioskRateLimiter(per_minute=0, burst=1)
    for _ in range(100):
        lim.check("k")
    assert not lim.enabled


def test_retry_of_answered_request_is_never_limited(limited_api):
    """GIVEN a kiosk that used up its burst WHEN it retries a request id the server already
    answered (a reply lost in the network) THEN it gets its stored ticket (200, duplicate),
    while a new request id is still refused."""
    api = limited_api
    first = _post(api, "kept-0").get_json()["ticket"]
    for i in range(1, 12):
        _post(api, f"kept-{i}")
    again = _post(api, "kept-0")
    assert again.status_code == 200 and again.get_json()["duplicate"] is True
    assert again.get_json()["ticket"]["number"] == first["number"]
    assert _post(api, "kept-new").status_code == 429
