"""Every route the app serves (API, ticket page, dashboard, panel, admin) with hostile input
and no session: never a 5xx and never a change in the queue's tables."""
from __future__ import annotations

from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.faults.busparts import snapshot

# Server-sent event streams never end; they are exercised by the dashboard's own tests.
STREAMS = ("/events",)
FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def _routes(app):
    out = []
    for rule in app.url_map.iter_rules():
        if rule.rule.endswith(STREAMS):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            out.append((rule, method))
    return sorted(out, key=lambda rm: (rm[0].rule, rm[1]))


texts = st.text(max_size=40) | st.sampled_from(["..", "%", "A", "1", "-1", "csv", "xlsx", "id", "en",
                                                "x" * 3000, "<script>", "'; DROP TABLE tickets; --"])


def _url(rule, data) -> str:
    values = {}
    for arg in rule.arguments:
        conv = type(rule._converters[arg]).__name__
        if conv == "IntegerConverter":
            values[arg] = str(data.draw(st.integers(0, 2**40)))
        else:
            values[arg] = quote(data.draw(texts) or "x", safe="")
    url = rule.rule
    for arg, value in values.items():
        url = url.replace(f"<{arg}>", value).replace(f"<int:{arg}>", value).replace(f"<path:{arg}>", value)
    return url


def test_every_route_is_listed(api):
    """GIVEN the app WHEN its routes are enumerated THEN the API and dashboard are among them
    (so the fuzz below really covers them)."""
    rules = {r.rule for r, _ in _routes(api.app)}
    assert {"/api/v1/tickets", "/healthz", "/t/<token>"} <= rules
    assert len(rules) >= 13


@FUZZ
@given(data=st.data())
def test_any_route_any_input_no_5xx_no_change(api, data):
    """GIVEN any route with random path values, query, form or JSON body and no session
    WHEN requested THEN the answer is below 500 and no queue table changed."""
    rule, method = data.draw(st.sampled_from(_routes(api.app)))
    url = _url(rule, data)
    query = data.draw(st.dictionaries(texts, texts, max_size=3))
    kind = data.draw(st.sampled_from(["none", "form", "json", "bytes"]))
    kw = {}
    if method != "GET":
        if kind == "form":
            kw["data"] = data.draw(st.dictionaries(texts, texts, max_size=5))
        elif kind == "json":
            kw["json"] = data.draw(st.dictionaries(texts, texts | st.integers() | st.none(), max_size=5))
        elif kind == "bytes":
            kw["data"] = data.draw(st.binary(max_size=500))
    headers = data.draw(st.sampled_from([{}, {"Authorization": "Bearer nope"},
                                         {"Cookie": "session=" + "A" * 500},
                                         {"Accept-Language": "\u00e9" * 50}]))
    before = snapshot(api.svc)
    response = api.client.open(url, method=method, query_string=query, headers=headers, **kw)
    assert response.status_code < 500, (method, url, response.status_code,
                                        response.get_data(as_text=True)[:300])
    assert snapshot(api.svc) == before, (method, url)
