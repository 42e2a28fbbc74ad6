"""Hostile HTTP input against every API endpoint: never a 5xx, never a change on a 4xx."""
from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.faults.busparts import snapshot

FUZZ = settings(max_examples=80, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

WRITE_ENDPOINTS = ["/api/v1/tickets", "/api/v1/counters/1/actions", "/api/v1/counters/999/actions"]
READ_ENDPOINTS = ["/api/v1/site", "/api/v1/queue", "/api/v1/board", "/api/v1/time",
                  "/api/v1/counters/1", "/api/v1/counters/0", "/api/v1/stats/day",
                  "/api/v1/stats/range", "/api/v1/tickets/nope", "/t/nope", "/healthz"]
ROLES = ["kiosk", "panel", "button", "display", "admin", None, "garbage"]

scalars = (st.none() | st.booleans() | st.integers(min_value=-2**66, max_value=2**66)
           | st.floats(allow_nan=True) | st.text(max_size=60) | st.builds(lambda n: "x" * n, st.integers(5000, 20000)))
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=10), inner, max_size=5), max_leaves=12)
FIELDS = ["service", "priority", "request_id", "action", "command_id", "ticket", "reason", "user_id"]
bodies = st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=8), json_values, max_size=6)


def _headers(api, role, extra=None) -> dict:
    if role is None:
        headers = {}
    elif role == "garbage":
        headers = {"Authorization": "Bearer \u00e9\u0000" + "x" * 300}
    else:
        headers = api.auth(role)
    headers.update(extra or {})
    return headers


def _check(api, response, before) -> None:
    assert response.status_code < 500, response.get_data(as_text=True)[:300]
    if response.status_code >= 400:
        if response.request.path.startswith("/api/"):
            err = response.get_json()["error"]
            assert err["code"] and err["message_id"] and err["message_en"]
        assert snapshot(api.svc) == before


@FUZZ
@given(path=st.sampled_from(WRITE_ENDPOINTS), role=st.sampled_from(ROLES), body=bodies)
def test_random_json_bodies_never_5xx_and_4xx_changes_nothing(api, path, role, body):
    """GIVEN any JSON object body with any credentials WHEN posted to a write endpoint
    THEN the answer is not a 5xx, and a 4xx leaves every table exactly as it was."""
    before = snapshot(api.svc)
    raw = json.dumps(body, allow_nan=True)
    response = api.client.post(path, data=raw, headers=_headers(api, role),
                               content_type="application/json")
    _check(api, response, before)


@FUZZ
@given(path=st.sampled_from(WRITE_ENDPOINTS), role=st.sampled_from(ROLES),
       raw=st.binary(max_size=2000),
       content_type=st.sampled_from(["application/json", "text/plain", "application/x-www-form-urlencoded",
                                     "multipart/form-data", "application/json; charset=latin-1", ""]))
def test_random_bytes_and_content_types(api, path, role, raw, content_type):
    """GIVEN arbitrary bytes under any content type WHEN posted THEN a 4xx with no change (never 5xx)."""
    before = snapshot(api.svc)
    response = api.client.post(path, data=raw, headers=_headers(api, role), content_type=content_type)
    _check(api, response, before)


@FUZZ
@given(path=st.sampled_from(READ_ENDPOINTS), role=st.sampled_from(ROLES),
       args=st.dictionaries(st.sampled_from(["date", "from", "to", "x"]) | st.text(max_size=5),
                            st.text(max_size=40) | st.sampled_from(["2026-11-23", "9999-12-31", "0001-01-01",
                                                                    "2026-02-30", "-1"]), max_size=3))
def test_read_endpoints_with_random_query(api, path, role, args):
    """GIVEN any query string and credentials WHEN a read endpoint is fetched
    THEN never a 5xx and nothing in the database changes."""
    before = snapshot(api.svc)
    response = api.client.get(path, query_string=args, headers=_headers(api, role))
    assert response.status_code < 500, response.get_data(as_text=True)[:300]
    assert snapshot(api.svc) == before


@FUZZ
@given(token=st.text(min_size=1, max_size=300).filter(lambda t: "/" not in t and t not in (".", "..")))
def test_ticket_lookups_with_random_tokens(api, token):
    """GIVEN any token text WHEN looked up by API or status page THEN 404 (or 200 for a real one), no 5xx."""
    for path in (f"/api/v1/tickets/{token}", f"/t/{token}"):
        response = api.client.get(path)
        assert response.status_code in (200, 404), (path, response.status_code)


@pytest.mark.parametrize("size", [16 * 1024 + 1, 1024 * 1024])
def test_oversized_body_refused(api, size):
    """GIVEN a ticket request body above the 16 KiB limit WHEN posted
    THEN 413 payload_too_large with both languages and no ticket."""
    before = snapshot(api.svc)
    body = json.dumps({"service": "A", "request_id": "big", "pad": "x" * size})
    response = api.client.post("/api/v1/tickets", data=body, headers=api.auth("kiosk"),
                               content_type="application/json")
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "payload_too_large"
    assert snapshot(api.svc) == before


@pytest.mark.parametrize("role,path,body", [
    (None, "/api/v1/tickets", {"service": "A", "request_id": "u1"}),
    ("garbage", "/api/v1/tickets", {"service": "A", "request_id": "u2"}),
    ("display", "/api/v1/tickets", {"service": "A", "request_id": "u3"}),
    ("button", "/api/v1/tickets", {"service": "A", "request_id": "u4"}),
    ("kiosk", "/api/v1/counters/1/actions", {"action": "next", "command_id": "u5"}),
    ("display", "/api/v1/counters/1/actions", {"action": "next", "command_id": "u6"}),
    (None, "/api/v1/counters/1/actions", {"action": "next", "command_id": "u7"}),
])
def test_unauthorised_requests_refused(api, role, path, body):
    """GIVEN a request with no token, a bad token or a token of the wrong role
    WHEN it tries to issue or call THEN 401/403 with ID+EN text and nothing changes."""
    api.svc.issue("A", request_id=f"seed-{path}-{role}", device="kiosk-seed")
    before = snapshot(api.svc)
    response = api.client.post(path, json=body, headers=_headers(api, role))
    assert response.status_code in (401, 403)
    err = response.get_json()["error"]
    assert err["code"] in ("unauthorized", "forbidden") and err["message_id"] and err["message_en"]
    assert snapshot(api.svc) == before


def test_revoked_or_forged_bearer_variants(api):
    """GIVEN malformed Authorization headers (other schemes, empty, token with spaces)
    WHEN issuing THEN 401 each time and no ticket."""
    before = snapshot(api.svc)
    token = api.tokens["kiosk"]
    for header in ("", "Bearer", "Bearer ", f"Basic {token}", f"Bearer {token}x", f"Bearer  {token[:-1]}",
                   f"bearer{token}", "Bearer " + "A" * 10000):
        response = api.client.post("/api/v1/tickets", json={"service": "A", "request_id": "f1"},
                                   headers={"Authorization": header})
        assert response.status_code == 401, header[:40]
    assert snapshot(api.svc) == before
