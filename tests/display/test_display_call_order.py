"""No call lost between the parts: panel (HTTP) and box (MQTT) calls interleaved on many
counters, through the real server, bridge, Mosquitto and board.

The server is the real QueueService + Flask app served by waitress on loopback,
with the real bridge; boxes are bus clients sending counter commands; the board
is a real BoardApp (SDL dummy drivers, voice off so every announcement ends at
once and only its order and count matter).
"""
from __future__ import annotations

import dataclasses
import json
import random
import threading
import time
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

import pytest
import waitress

from broker.bus import BusClient
from broker.protocol import CallEvent, CounterCommand, decode
from server.app import create_app
from server.bridge import Bridge
from server.clock import FakeClock
from server.config import load_site
from server.devtools.mosquitto import wait_for
from server.queue import QueueService

pytestmark = [pytest.mark.timeout(90), pytest.mark.slow]

EXAMPLE = Path(__file__).resolve().parents[2] / "server" / "sites" / "example.toml"
MONDAY_9_WIB = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)
PRESSES = 10  # per counter


@pytest.fixture
def server(tmp_path, site_id, mosquitto):
    """The real server: queue, HTTP app on a loopback port, bridge on the test broker."""
    clock = FakeClock(MONDAY_9_WIB)
    site = dataclasses.replace(load_site(EXAMPLE), site_id=site_id)
    svc = QueueService(str(tmp_path / "queue.db"), site, clock=clock)
    app = create_app({"LALOPA_QUEUE": svc, "LALOPA_WEB": False})
    http = waitress.create_server(app, host="127.0.0.1", port=0, threads=8)
    thread = threading.Thread(target=http.run, daemon=True)
    thread.start()
    bridge = Bridge(svc, site, {"host": "127.0.0.1", "port": mosquitto.port}).start()
    assert wait_for(lambda: bridge.stats["full_republish"] >= 1), "bridge never connected"
    yield svc, f"http://127.0.0.1:{http.effective_port}", bridge, clock
    bridge.stop()
    http.close()
    thread.join(5)
    svc.close()


def panel_presses(base: str, token: str, counter: int, errors: list) -> None:
    rnd = random.Random(counter)
    for i in range(PRESSES):
        body = json.dumps({"action": "next", "command_id": f"panel-{counter}-{i}"}).encode()
        req = urllib.request.Request(f"{base}/api/v1/counters/{counter}/actions", data=body, method="POST",
                                     headers={"Authorization": f"Bearer {token}",
                                              "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=20) as resp:
                if not json.load(resp).get("call"):
                    errors.append(f"panel {counter} press {i}: no call")
        except Exception as exc:  # collected: a thread must not die silently
            errors.append(f"panel {counter} press {i}: {exc!r}")
        time.sleep(rnd.uniform(0, 0.02))


def box_presses(box: BusClient, clock, counter: int, errors: list) -> None:
    rnd = random.Random(100 + counter)
    for i in range(PRESSES):
        cmd = CounterCommand(id=f"box-{counter}-{i}", counter=counter, action="next",
                             device=f"box-{counter:02d}", sent_at_ms=clock.epoch_ms())
        info = box.publish_command(cmd)
        if info is None:
            errors.append(f"box {counter} press {i}: not sent")
        time.sleep(rnd.uniform(0, 0.02))


def test_interleaved_panel_and_box_calls_are_all_published_in_order_and_announced_once(
        server, mosquitto, make_board, site_id):
    """GIVEN 12 counters, 6 calling from their panels over HTTP and 6 from their button boxes
    over MQTT, all pressing "next" 10 times at once
    WHEN the calls interleave (a panel's seq 10 committed next to a box's seq 11)
    THEN every call the server committed is published exactly once, in seq order, none
    skipped, and the board announces each exactly once, in seq order."""
    svc, base, bridge, clock = server
    counters = [c.number for c in svc.site.counters if "A" in c.services][:12]
    assert len(counters) == 12
    for i in range(len(counters) * PRESSES):
        svc.issue("A", request_id=f"k-{i}", device="kiosk-1")
    first_seq = svc.board()["seq"]

    published: list[int] = []
    watch = BusClient(site=site_id, role="display", device="watch-calls", port=mosquitto.port)
    watch.subscribe(watch.topics.call, lambda m: published.append(decode(CallEvent, m.payload).seq))
    watch.start()
    assert watch.connected.wait(5)
    boxes = []
    board = make_board(mosquitto.port, enabled=False)
    try:
        assert board.run_until(lambda: board.state.snapshot is not None, 10)
        panels, by_box = counters[::2], counters[1::2]
        tokens = {n: svc.create_device_token(f"panel-{n}", "panel", counter=n) for n in panels}
        errors: list[str] = []
        threads = [threading.Thread(target=panel_presses, args=(base, tokens[n], n, errors)) for n in panels]
        for n in by_box:
            box = BusClient(site=site_id, role="button", device=f"box-{n:02d}", port=mosquitto.port)
            box.start()
            assert box.connected.wait(5)
            boxes.append(box)
            threads.append(threading.Thread(target=box_presses, args=(box, clock, n, errors)))
        for t in threads:
            t.start()
        deadline = time.monotonic() + 60
        while any(t.is_alive() for t in threads) and time.monotonic() < deadline:
            board.run_until(lambda: False, 0.05)
            watch.dispatch(0)
        for t in threads:
            t.join(5)

        def committed() -> int:
            return svc.board()["seq"] - first_seq

        def settled() -> bool:
            # Everything committed so far is published and announced, and nothing new came
            # for a second (box commands still on the wire would show up as new commits).
            watch.dispatch(0)
            n = committed()
            if len(published) != n or len(board.announcer.log) != n:
                settled.since = None
                return False
            if settled.since is None or settled.since[0] != n:
                settled.since = (n, time.monotonic())
            return time.monotonic() - settled.since[1] >= 1.0
        settled.since = None
        done = board.run_until(settled, 60)

        assert errors == []
        total = committed()
        assert done, (f"committed {total}, published {len(published)}, announced "
                      f"{len(board.announcer.log)}; bridge {dict(bridge.stats)}")
        expected = list(range(first_seq + 1, first_seq + total + 1))
        assert published == expected, "calls left the server skipped, repeated or out of order"
        assert bridge.stats["calls_published"] == total
        announced = [a.seq for a in board.announcer.log]
        assert announced == expected, "the board did not announce every call once, in order"
        # Both paths really took part: every panel press made a call, and so did the boxes
        # (a box press beyond a person's pace may be refused by the bridge's rate limit).
        callers = [a.counter for a in board.announcer.log]
        assert all(callers.count(n) == PRESSES for n in panels)
        assert all(callers.count(n) >= 1 for n in by_box)
        assert total >= len(panels) * PRESSES + len(by_box)
    finally:
        for box in boxes:
            box.stop()
        watch.stop()
