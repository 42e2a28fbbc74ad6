"""The HTTP API through Flask's test client: happy paths and every kind of bad request."""
import pytest


def issue(client, tokens, **body):
    body = {"service": "A", "request_id": "r1", **body}
    return client.post("/api/v1/tickets", json=body, headers=tokens["kiosk"])


def test_issue_and_status(client, tokens):
    r = issue(client, tokens)
    assert r.status_code == 201
    t = r.get_json()["ticket"]
    assert t["number"] == "A-001" and r.get_json()["status_url"].endswith(f"/t/{t['token']}")
    again = issue(client, tokens)
    assert again.status_code == 200 and again.get_json()["duplicate"] is True
    status = client.get(f"/api/v1/tickets/{t['token']}").get_json()
    assert status["number"] == "A-001" and "token" not in status and "id" not in status
    page = client.get(f"/t/{t['token']}")
    assert page.status_code == 200 and b"A-001" in page.data and b"refresh" in page.data
    assert client.get("/t/nope").status_code == 404


def test_idempotency_key_header(client, tokens):
    h = {**tokens["kiosk"], "Idempotency-Key": "hdr-1"}
    a = client.post("/api/v1/tickets", json={"service": "B"}, headers=h)
    b = client.post("/api/v1/tickets", json={"service": "B"}, headers=h)
    assert a.status_code == 201 and b.status_code == 200
    assert a.get_json()["ticket"]["number"] == b.get_json()["ticket"]["number"]


def test_counter_actions_and_views(client, tokens):
    issue(client, tokens)
    r = client.post("/api/v1/counters/4/actions", json={"action": "next", "command_id": "c1"},
                    headers=tokens["button"])
    assert r.status_code == 200 and r.get_json()["call"]["counter"] == 4
    board = client.get("/api/v1/board").get_json()
    assert board["seq"] == 1 and board["counters"][3]["ticket"]["number"] == "A-001"
    queue = client.get("/api/v1/queue").get_json()  # the bus's QueueSummary: a list of services
    assert {s["prefix"]: s for s in queue["services"]}["A"]["issued"] == 1
    assert client.get("/api/v1/counters/4").get_json()["status"] == "open"
    site = client.get("/api/v1/site").get_json()
    assert site["services"][0]["prefix"] == "A" and len(site["counters"]) == 16
    t = client.get("/api/v1/time").get_json()
    assert t["service_day"] == "2026-11-23" and t["timezone"] == "Asia/Jakarta"
    assert client.get("/healthz").get_json()["ok"] is True


def test_stats_need_admin(client, tokens):
    assert client.get("/api/v1/stats/day").status_code == 401
    assert client.get("/api/v1/stats/day", headers=tokens["kiosk"]).status_code == 403
    r = client.get("/api/v1/stats/day?date=2026-11-23", headers=tokens["admin"])
    assert r.status_code == 200 and r.get_json()["service_day"] == "2026-11-23"
    r = client.get("/api/v1/stats/range?from=2026-11-01&to=2026-11-30", headers=tokens["admin"])
    assert r.status_code == 200 and r.get_json()["from"] == "2026-11-01"
    assert client.get("/api/v1/stats/range?from=x", headers=tokens["admin"]).status_code == 400
    assert client.get("/api/v1/stats/range?from=2026-11-30&to=2026-11-01",
                      headers=tokens["admin"]).status_code == 400


@pytest.mark.parametrize("kwargs,status,code", [
    ({"data": "{not json", "content_type": "application/json"}, 400, "bad_request"),
    ({"json": ["A"]}, 400, "bad_request"),
    ({"json": {"service": 5, "request_id": "x"}}, 400, "bad_request"),
    ({"json": {"service": "Z", "request_id": "x"}}, 404, "unknown_service"),
    ({"json": {"service": "A"}}, 400, "bad_request"),
    ({"json": {"service": "A", "request_id": "x", "priority": "vip"}}, 400, "bad_request"),
    ({"json": {"service": "A", "request_id": "x" * 20000}}, 413, "payload_too_large"),
])
def test_bad_issue_requests_change_nothing(client, tokens, kwargs, status, code):
    r = client.post("/api/v1/tickets", headers=tokens["kiosk"], **kwargs)
    assert r.status_code == status
    err = r.get_json()["error"]
    assert err["code"] == code and err["message_id"] and err["message_en"]
    queue = client.get("/api/v1/queue").get_json()  # the bus's QueueSummary: a list of services
    assert {s["prefix"]: s for s in queue["services"]}["A"]["issued"] == 0


@pytest.mark.parametrize("headers,status", [({}, 401), ({"Authorization": "Bearer wrong"}, 401),
                                            ("panel", 403), ("display", 403)])
def test_unauthorised_issue(client, tokens, headers, status):
    h = tokens[headers] if isinstance(headers, str) else headers
    r = client.post("/api/v1/tickets", json={"service": "A", "request_id": "x"}, headers=h)
    assert r.status_code == status and "error" in r.get_json()


def test_counter_errors(client, tokens):
    post = client.post
    assert post("/api/v1/counters/1/actions", json={"action": "next", "command_id": "c"},
                headers=tokens["kiosk"]).status_code == 403
    r = post("/api/v1/counters/99/actions", json={"action": "next", "command_id": "c"},
             headers=tokens["panel"])
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "unknown_counter"
    r = post("/api/v1/counters/1/actions", json={"action": "next", "command_id": "c"},
             headers=tokens["panel"])
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "nothing_waiting"
    r = post("/api/v1/counters/1/actions", json={"action": "next"}, headers=tokens["panel"])
    assert r.status_code == 400
    assert client.get("/api/v1/nope").get_json()["error"]["code"] == "not_found"
    assert client.get("/api/v1/tickets/unknown").status_code == 404


def test_auth_hook_accepts_a_session(app, client):
    app.extensions["lalopa.auth_hooks"].append(
        lambda roles: {"id": "web:sri", "role": "supervisor", "user_id": 7})
    assert client.get("/api/v1/stats/day").status_code == 200
