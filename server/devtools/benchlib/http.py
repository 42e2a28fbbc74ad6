"""Ticket issue over HTTP against the real server (``lalopa server`` under waitress)."""
from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path

import http.client
import json

from broker.bus import free_port
from server.devtools.benchlib import procs
from server.devtools.benchlib.latency import percentiles
from server.devtools.benchlib.site import site_toml


def start_server(workdir: Path, site_id: str = "bench-http", mqtt_port: int | None = None,
                 extra_env: dict | None = None):
    """Start ``lalopa server`` on a fresh DB; returns (proc, port, site_path, db_path)."""
    site_path, db_path = workdir / f"{site_id}.toml", workdir / f"{site_id}.db"
    site_path.write_text(site_toml(site_id), encoding="utf-8")
    port = free_port()
    args = ["server", "--site", str(site_path), "--db", str(db_path), "--host", "127.0.0.1",
            "--port", str(port)]
    if mqtt_port:
        args += ["--mqtt-host", "127.0.0.1", "--mqtt-port", str(mqtt_port)]
    proc = procs.lalopa(*args, env=extra_env, log=workdir / f"{site_id}-server.log")
    procs.wait_port(port, proc)
    return proc, port, site_path, db_path


def kiosk_token(db_path: Path, device: str) -> str:
    return procs.run_lalopa("token", "add", "--db", str(db_path), "--device", device,
                            "--role", "kiosk").strip().splitlines()[-1]


def measure_issue(workdir: Path, clients: int = 4, seconds: float = 10.0) -> dict:
    """``clients`` threads, each a keep-alive session with its own kiosk token, issue for
    ``seconds``. The per-kiosk rate limit is switched off for the run (it would, by design,
    refuse a kiosk asking for hundreds of tickets a second)."""
    proc, port, _, db_path = start_server(workdir, extra_env={"LALOPA_KIOSK_RATE_PER_MIN": "0"})
    try:
        tokens = [kiosk_token(db_path, f"bench-kiosk-{i}") for i in range(clients)]
        url = f"http://127.0.0.1:{port}/api/v1/tickets"
        samples: list[list[float]] = [[] for _ in range(clients)]
        failures: list[str] = []
        start, stop_at = threading.Event(), [0.0]

        def worker(i: int) -> None:
            # http.client, not requests: the client shares the 2 cores with the server,
            # so the lightest keep-alive client measures the server, not the client.
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            headers = {"Authorization": f"Bearer {tokens[i]}", "Content-Type": "application/json"}
            run = uuid.uuid4().hex[:8]

            def post(rid: str) -> tuple[int, bytes]:
                conn.request("POST", "/api/v1/tickets",
                             json.dumps({"service": "A", "request_id": rid}), headers)
                r = conn.getresponse()
                return r.status, r.read()

            post(f"{run}-warm")
            start.wait()
            k = 0
            while time.perf_counter() < stop_at[0]:
                k += 1
                t0 = time.perf_counter()
                status, body = post(f"{run}-{k}")
                dt = time.perf_counter() - t0
                if status != 201:
                    failures.append(f"{status} {body[:120]!r}")
                    continue
                samples[i].append(dt * 1000)
            conn.close()

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
        for t in threads:
            t.start()
        time.sleep(0.5)
        t_begin = time.perf_counter()
        stop_at[0] = t_begin + seconds
        start.set()
        for t in threads:
            t.join(seconds + 30)
        elapsed = time.perf_counter() - t_begin
        allms = [x for s in samples for x in s]
        result = percentiles(allms) if allms else {"n": 0}
        result.update({"per_s": len(allms) / elapsed, "failures": len(failures),
                       "first_failure": failures[0] if failures else None,
                       "server_rss_mb": procs.rss_mb(proc.pid)})
        return result
    finally:
        procs.stop(proc)
