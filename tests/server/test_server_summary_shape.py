"""The queue summary has one shape, built once, on HTTP and on the bus (issue 14).

Before: ``GET /api/v1/queue`` answered services keyed by prefix, with names, an ISO
``server_time`` and the board's counters, while the bus carried a ``QueueSummary``
list with ``server_time_ms``; the kiosk had to understand both.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from broker.bus import BusClient
from broker.protocol import QueueSummary, decode, sample_payloads
from server.app import create_app
from server.bridge import Bridge
from server.devtools.benchlib.site import always_open_site
from server.devtools.mosquitto import wait_for
from server.queue import QueueService

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_http_and_bus_carry_the_same_summary(tmp_path, mosquitto, site_id):
    """GIVEN a server with two tickets and its bridge WHEN GET /api/v1/queue is read and the
    retained bus summary arrives THEN both are the same QueueSummary (same keys, same figures)."""
    svc = QueueService(str(tmp_path / "q.db"), always_open_site(site_id))
    client = create_app({"LALOPA_QUEUE": svc, "LALOPA_DB": str(tmp_path / "q.db"), "TESTING": True,
                         "LALOPA_WEB": False}).test_client()
    svc.issue("A", request_id="r1", device="kiosk-1")
    svc.issue("B", request_id="r2", device="kiosk-1", priority="lansia")
    bridge = Bridge(svc, svc.site, {"host": "127.0.0.1", "port": mosquitto.port}).start()
    seen: list[QueueSummary] = []
    kiosk = BusClient(site=site_id, role="kiosk", device="kiosk-1", port=mosquitto.port)
    kiosk.subscribe(kiosk.topics.summary, lambda m: m.payload and seen.append(decode(QueueSummary, m.payload)))
    kiosk.start()
    try:
        assert wait_for(lambda: seen, 10, bus=kiosk)
        body = client.get("/api/v1/queue").get_json()
        over_http = QueueSummary.from_dict(body)
        assert set(body) == set(seen[-1].to_dict())
        assert [s.to_dict() for s in over_http.services] == [s.to_dict() for s in seen[-1].services]
        assert over_http.service_day == seen[-1].service_day
        assert {s.prefix: s.issued for s in over_http.services}["A"] == 1
    finally:
        kiosk.stop()
        bridge.stop()
        svc.close()


def test_api_doc_shows_the_bus_shape():
    """GIVEN docs/API.md's GET /api/v1/queue sample WHEN decoded as the bus's QueueSummary
    THEN it equals PROTOCOL.md's queue summary sample."""
    section = (DOCS / "API.md").read_text().split("## GET /api/v1/queue")[1].split("\n## ")[0]
    sample = re.findall(r"```json\n(.*?)```", section, re.S)
    assert len(sample) == 1
    assert decode(QueueSummary, sample[0].encode()) == sample_payloads()["queue summary"]
    assert "QueueSummary" in section and json.loads(sample[0])["v"] == 1
