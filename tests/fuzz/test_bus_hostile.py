"""Hostile publishes on the real bus: the bridge refuses them and the queue does not change."""
from __future__ import annotations

import json
import random
import time

import pytest

from broker.protocol import CounterCommand, encode
from server.devtools.mosquitto import wait_for
from server.devtools.benchlib.site import always_open_site
from server.bridge import Bridge
from server.queue import QueueService
from tests.faults.busparts import Box, Display, stop_all
from tests.faults.busparts import snapshot


@pytest.fixture
def bus_system(tmp_path, mosquitto, site_id):
    site = always_open_site(site_id)
    svc = QueueService(str(tmp_path / "bus.db"), site)
    for i in range(3):
        svc.issue("A", request_id=f"r{i}", device="kiosk-1")
    bridge = Bridge(svc, site, {"host": "127.0.0.1", "port": mosquitto.port}).start()
    box = Box(site_id, mosquitto.port, 1)
    display = Display(site_id, mosquitto.port)
    assert display.wait(lambda: display.board is not None and box.bus.connected.is_set())
    yield svc, bridge, box, display
    stop_all(box, display)
    bridge.stop(timeout=2)
    svc.close()


def _cmd(counter=1, **kw) -> dict:
    base = CounterCommand(id=f"h-{time.time_ns()}", counter=counter, action="next", device="box-1",
                          sent_at_ms=int(time.time() * 1000)).to_dict()
    return {**base, **kw}


def _hostile(topics) -> list[tuple[str, bytes, bool, str | None]]:
    """(topic, payload, retain, the bridge stat that must count it, or None if none sees it)."""
    one = topics.command(1)
    rng = random.Random(5)
    garbage = [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300))) for _ in range(20)]
    return ([(one, json.dumps(_cmd(reason="x" * 5000)).encode(), False, "malformed"),  # oversized
             (one, b"{" * 100_000, False, "malformed"),
             (one, json.dumps(_cmd(counter=2)).encode(), False, "unauthorised"),   # other counter
             # No counter 99: the bridge subscribes only its counters' topics, so this one
             # never reaches it (counted nowhere) and must change nothing.
             (topics.command(99), json.dumps(_cmd(counter=99)).encode(), False, None),
             (one, json.dumps(_cmd(sent_at_ms=int(time.time() * 1000) - 3_600_000)).encode(), False, "stale")]
            + [(one, g, False, "malformed") for g in garbage])


def test_hostile_publishes_change_nothing(bus_system):
    """GIVEN the bridge on a real broker and three waiting tickets
    WHEN someone publishes oversized, garbage, wrong-counter, unknown-counter and stale
    commands THEN the bridge counts each refusal by reason, no call is made, no table changes;
    AND a real press afterwards still calls A-001 (the bridge survived)."""
    svc, bridge, box, display = bus_system
    before = snapshot(svc)
    expected: dict[str, int] = {}
    for topic, payload, retain, reason in _hostile(bridge.topics):
        box.bus.publish(topic, payload, qos=1, retain=retain)
        if reason is not None:
            expected[reason] = expected.get(reason, 0) + 1
    assert wait_for(lambda: all(bridge.stats[r] >= n for r, n in expected.items()), 10), bridge.stats
    assert snapshot(svc) == before and display.calls == []
    box.press()
    assert display.wait(lambda: display.showing(1) == "A-001", timeout=5)
    assert [c.ticket for c in display.calls] == ["A-001"]


def test_replayed_command_is_applied_once(bus_system):
    """GIVEN one NEXT press applied WHEN the identical command (same id) is published
    20 more times THEN only one ticket was called and only one call event went out
    (replays past the counter's press rate are dropped before the queue core, the
    rest are answered as duplicates)."""
    svc, bridge, box, display = bus_system
    cmd = box.command()
    for _ in range(21):
        box.press(cmd=cmd)
    assert wait_for(lambda: sum(bridge.stats[k] for k in ("applied", "duplicate", "rate_limited")) >= 21, 10)
    display.wait(lambda: False, timeout=0.5)
    assert [c.ticket for c in display.calls] == ["A-001"]
    assert svc.db.read().execute("SELECT COUNT(*) FROM calls").fetchone()[0] == 1


def test_retained_command_is_never_replayed(tmp_path, mosquitto, site_id):
    """GIVEN a command published with retain=1 (a misbehaving client) before the server starts
    WHEN the bridge connects and receives it as a retained message
    THEN it is refused (counted as retained_command) and nothing is called."""
    site = always_open_site(site_id)
    svc = QueueService(str(tmp_path / "ret.db"), site)
    svc.issue("A", request_id="r0", device="kiosk-1")
    box = Box(site_id, mosquitto.port, 1)
    assert box.wait(lambda: box.bus.connected.is_set())
    info = box.bus.publish(box.bus.topics.command(1), json.dumps(_cmd()).encode(), qos=1, retain=True)
    assert box.bus.wait_for_ack(info) is not None
    before = snapshot(svc)
    bridge = Bridge(svc, site, {"host": "127.0.0.1", "port": mosquitto.port}).start()
    try:
        assert wait_for(lambda: bridge.stats["retained_command"] == 1, 10), bridge.stats
        assert snapshot(svc) == before
    finally:
        box.bus.clear_retained(box.bus.topics.command(1))
        stop_all(box)
        bridge.stop(timeout=2)
        svc.close()
