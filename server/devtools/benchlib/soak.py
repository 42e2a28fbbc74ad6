"""A long busy stretch through the real programs: server, board and kiosk stay flat.

``lalopa server`` (with the bridge), ``lalopa display run`` and ``lalopa kiosk run`` run as
their own processes from the shipped example configs (ports, site and paths changed), as
in the resources part. Time-compressed week: the server's database already holds six
past busy days (``history.load_history``, ``per_day`` tickets each) and today is driven as
fast as the press rate allows: tickets issued over HTTP (the kiosk API), ``next`` pressed
over the bus by a button-box client, 16 counters in turn. RSS is read after a warm-up of
``warmup`` calls (a morning: the board's bounded caches fill, SQLite's page caches too), half
way through ``calls`` more, and at the end.
"""
from __future__ import annotations

import http.client
import json
import os
import time
from datetime import date, timedelta
from pathlib import Path

from broker.bus import BusClient
from broker.protocol import CounterCommand, Topics, encode
from server.devtools.benchlib import procs
from server.devtools.benchlib.history import load_history
from server.devtools.benchlib.http import kiosk_token, start_server
from server.devtools.benchlib.resources import ROOT, _config
from server.devtools.benchlib.site import always_open_site

# Counters 1-12 call A (then C), 13-14 C (then A), 15-16 B (then A): issue in that mix so
# every counter finds someone waiting and no service passes ticket number 9999.
MIX = ("A",) * 12 + ("C",) * 2 + ("B",) * 2
PRESS_PER_S = 24  # below the bridge's per-counter press rate (2 a second, 16 counters)


def measure_soak(workdir: Path, mqtt_port: int, calls: int, warmup: int = 1000, per_day: int = 2000) -> dict:
    site_id = "bench-soak"
    site = always_open_site(site_id)
    db_path = workdir / f"{site_id}.db"
    load_history(db_path, site, 6 * per_day, per_day=per_day, last_day=date.today() - timedelta(days=1))
    server, http_port, _, db = start_server(workdir, site_id, mqtt_port=mqtt_port,
                                            extra_env={"LALOPA_KIOSK_RATE_PER_MIN": "0"})
    assert db == db_path
    started = {"server": server}
    topics = Topics(site_id)
    seen = {"calls": 0}
    watch = BusClient(site=site_id, role="display", device="soak-watch", port=mqtt_port)
    watch.subscribe(topics.call, lambda m: seen.__setitem__("calls", seen["calls"] + 1))
    box = BusClient(site=site_id, role="button", device="soak-box", port=mqtt_port)
    try:
        token = kiosk_token(db_path, "kiosk-1")
        token_file = workdir / "kiosk.token"
        token_file.write_text(token + "\n")
        board_cfg = _config(ROOT / "display/example.toml", workdir / "board.toml", site_id, mqtt_port,
                            {"cache_dir": f'"{workdir / "voice-cache"}"'})
        kiosk_cfg = _config(ROOT / "kiosk/example.toml", workdir / "kiosk.toml", site_id, mqtt_port,
                            {"url": f'"http://127.0.0.1:{http_port}"', "token_file": f'"{token_file}"',
                             "path": f'"{workdir / "tickets.bin"}"'})
        started["board"] = procs.lalopa("display", "run", "--config", str(board_cfg), "--windowed", "1920x1080",
                                        log=workdir / "board.log")
        started["kiosk"] = procs.lalopa("kiosk", "run", "--config", str(kiosk_cfg), "--windowed", "1280x800",
                                        log=workdir / "kiosk.log")
        for c in (watch, box):
            c.start()
            if not c.connected.wait(10):
                raise TimeoutError("bench bus client did not connect")
        conn = http.client.HTTPConnection("127.0.0.1", http_port, timeout=10)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        n = {"issue": 0, "press": 0}

        def issue(service: str) -> None:
            n["issue"] += 1
            conn.request("POST", "/api/v1/tickets", json.dumps({"service": service, "request_id": f"s{n['issue']}"}),
                         headers)
            conn.getresponse().read()

        def stretch(count: int) -> float:
            t0, target = time.monotonic(), seen["calls"] + count
            while seen["calls"] < target:
                for counter, service in enumerate(MIX, start=1):
                    issue(service)
                    n["press"] += 1
                    box.publish(topics.command(counter), encode(CounterCommand(
                        id=f"soak-{os.getpid()}-{n['press']}", counter=counter, action="next",
                        device="soak-box", sent_at_ms=int(time.time() * 1000))), qos=1)
                    watch.dispatch(timeout=0)
                    time.sleep(max(0.0, n["press"] / PRESS_PER_S - (time.monotonic() - t_all)))
            return time.monotonic() - t0

        t_all = time.monotonic()
        time.sleep(3.0)  # the programs start and connect
        stretch(warmup)
        time.sleep(2.0)
        after_warmup = {name: procs.rss_mb(p.pid) for name, p in started.items()}
        seconds = stretch(calls // 2)
        time.sleep(1.0)
        halfway = {name: procs.rss_mb(p.pid) for name, p in started.items()}
        seconds += stretch(calls - calls // 2)
        deadline = time.monotonic() + 10
        while watch.dispatch(timeout=0.2) and time.monotonic() < deadline:
            pass
        time.sleep(2.0)
        after = {name: procs.rss_mb(p.pid) for name, p in started.items()}
        dead = {name: p.returncode for name, p in started.items() if p.poll() is not None}
        conn.close()
        return {"calls": seen["calls"] - warmup, "seconds": seconds, "rss_warm_mb": after_warmup,
                "rss_after_mb": after, "rss_half_mb": halfway, "exited": dead, "history_days": 6, "per_day": per_day}
    finally:
        box.stop()
        watch.stop()
        for proc in reversed(list(started.values())):
            procs.stop(proc)
