"""Press -> call latency through the real broker, bridge and queue, and its floor.

Both measurements use the same private Mosquitto and the same pair of bus
clients (a button box publishing, a display board subscribing), so the only
difference between them is the server's work: decode, one durable SQLite
transaction (synchronous=FULL) applying ``next``, and the call publish.
"""
from __future__ import annotations

import os
import sqlite3
import tempfile
import threading
import time
from pathlib import Path

from broker.bus import BusClient, Incoming
from broker.protocol import CallEvent, CounterCommand, Topics, decode, encode


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    """p50, p99 and max of a list of milliseconds (nearest-rank, no interpolation)."""
    s = sorted(samples_ms)
    pick = lambda p: s[min(len(s) - 1, max(0, int(round(p / 100 * len(s))) - 1))]
    return {"n": len(s), "p50": pick(50), "p99": pick(99), "max": s[-1]}


class _Receiver:
    """The display side: a BusClient whose handler notes the arrival time of each message."""

    def __init__(self, site: str, port: int, topic: str):
        self.arrived = threading.Event()
        self.last: tuple[float, bytes] | None = None
        self.bus = BusClient(site=site, role="display", device="bench-board", port=port,
                             wake=self.arrived.set)
        self.bus.subscribe(topic, self._on_message)

    def _on_message(self, msg: Incoming) -> None:
        self.last = (time.perf_counter(), msg.payload)

    def wait(self, timeout: float = 5.0) -> tuple[float, bytes]:
        """Run handlers in this (owner) thread until one message arrived; return it."""
        deadline = time.monotonic() + timeout
        self.last = None
        while self.last is None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no message within %.1f s" % timeout)
            self.bus.dispatch(timeout=min(left, 0.5))
        return self.last


def _start(*clients: BusClient, timeout: float = 10.0) -> None:
    for c in clients:
        c.start()
    for c in clients:
        if not c.connected.wait(timeout):
            raise TimeoutError(f"{c.client_id} did not connect")


def measure_floor(port: int, n: int, site: str = "bench-floor", warmup: int = 50) -> dict:
    """Raw publish -> receive through the broker plus one durable SQLite commit, ``n`` times."""
    topics = Topics(site)
    tmp = Path(tempfile.mkdtemp(prefix="lalopa-floor-"))
    db = sqlite3.connect(str(tmp / "floor.db"), isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)")
    rx = _Receiver(site, port, topics.call)
    tx = BusClient(site=site, role="button", device="bench-box", port=port)
    _start(rx.bus, tx)
    time.sleep(0.2)  # let the subscription settle before the first publish
    samples = []
    try:
        for i in range(n + warmup):
            payload = b'{"v":1,"i":%d}' % i
            t0 = time.perf_counter()
            db.execute("BEGIN IMMEDIATE")
            db.execute("INSERT INTO t (payload) VALUES (?)", (payload.decode(),))
            db.execute("COMMIT")
            tx.publish(topics.call, payload, qos=1)
            t1, _ = rx.wait()
            if i >= warmup:
                samples.append((t1 - t0) * 1000)
    finally:
        tx.stop()
        rx.bus.stop()
        db.close()
    return percentiles(samples)


def measure_press_to_call(port: int, n: int, workdir: Path, site_id: str = "bench-call",
                          warmup: int = 50, gap_s: float = 0.02) -> dict:
    """Counter command published -> CallEvent received by a display, ``n`` times.

    The server runs as its own process (``lalopa server --mqtt-host``: the real
    QueueService and bridge), as on a site, so the box and display clients in
    this process do not compete with it for the GIL. ``gap_s`` between presses
    lets the bridge finish republishing retained state after each call (16
    verifiers press seconds apart, not back to back).
    """
    import http.client
    import json

    from server.devtools.benchlib import procs
    from server.devtools.benchlib.http import kiosk_token, start_server
    from server.devtools.benchlib.site import always_open_site

    site = always_open_site(site_id)
    server, http_port, _, db_path = start_server(workdir, site_id, mqtt_port=port,
                                                 extra_env={"LALOPA_KIOSK_RATE_PER_MIN": "0"})
    topics = Topics(site_id)
    rx = _Receiver(site_id, port, topics.call)
    box = BusClient(site=site_id, role="button", device="bench-box", port=port)
    samples, seqs = [], []
    try:
        token = kiosk_token(db_path, "bench-kiosk")
        conn = http.client.HTTPConnection("127.0.0.1", http_port, timeout=10)
        for i in range(n + warmup):  # one waiting ticket per press
            conn.request("POST", "/api/v1/tickets", json.dumps({"service": "A", "request_id": f"b{i}"}),
                         {"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
            conn.getresponse().read()
        conn.close()
        _start(rx.bus, box)
        time.sleep(1.0)  # the server's bridge connects and republishes state
        counters = [c.number for c in site.counters]
        for i in range(n + warmup):
            counter = counters[i % len(counters)]
            raw = encode(CounterCommand(id=f"bench-{os.getpid()}-{i}", counter=counter, action="next",
                                        device="bench-box", sent_at_ms=int(time.time() * 1000)))
            t0 = time.perf_counter()
            box.publish(topics.command(counter), raw, qos=1)
            t1, payload = rx.wait()
            seqs.append(decode(CallEvent, payload).seq)
            if i >= warmup:
                samples.append((t1 - t0) * 1000)
            time.sleep(gap_s)
        server_rss = procs.rss_mb(server.pid)
    finally:
        box.stop()
        rx.bus.stop()
        procs.stop(server)
    result = percentiles(samples)
    result["strictly_increasing_seq"] = all(b > a for a, b in zip(seqs, seqs[1:]))
    result["server_rss_mb"] = server_rss
    return result
