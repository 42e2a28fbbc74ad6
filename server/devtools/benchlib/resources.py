"""Memory and idle CPU of the real programs: server, board, kiosk and button box.

Each runs through its own ``lalopa`` CLI as a subprocess (SDL dummy drivers,
gpiozero mock pins) against a private Mosquitto and the real server, from the
shipped example configs with only the ports, site and paths changed.
"""
from __future__ import annotations

import re
import time
from pathlib import Path

from server.devtools.benchlib import procs
from server.devtools.benchlib.http import kiosk_token, start_server

ROOT = Path(__file__).resolve().parents[3]


def _config(example: Path, out: Path, site: str, mqtt_port: int, replace: dict[str, str]) -> Path:
    """The example TOML with bus port/site and the given ``key = ...`` lines replaced."""
    text = example.read_text(encoding="utf-8")
    text = re.sub(r"(?m)^port = 1883\b", f"port = {mqtt_port}", text)
    text = re.sub(r'(?m)^site = "[^"]*"', f'site = "{site}"', text)
    for key, value in replace.items():
        text = re.sub(rf"(?m)^{re.escape(key)} = .*$", f"{key} = {value}", text)
    out.write_text(text, encoding="utf-8")
    return out


def measure_resources(workdir: Path, mqtt_port: int, warmup_s: float = 8.0,
                      idle_s: float = 10.0) -> dict:
    """RSS (MB) of each program after ``warmup_s``; idle CPU % of board and kiosk over ``idle_s``."""
    site = "bench-res"
    server, http_port, _, db_path = start_server(workdir, site, mqtt_port=mqtt_port)
    started = {"server": server}
    missing: dict[str, str] = {}
    try:
        token_file = workdir / "kiosk.token"
        token_file.write_text(kiosk_token(db_path, "kiosk-1") + "\n")
        board_cfg = _config(ROOT / "display/example.toml", workdir / "board.toml", site, mqtt_port,
                            {"cache_dir": f'"{workdir / "voice-cache"}"'})
        kiosk_cfg = _config(ROOT / "kiosk/example.toml", workdir / "kiosk.toml", site, mqtt_port,
                            {"url": f'"http://127.0.0.1:{http_port}"', "token_file": f'"{token_file}"',
                             "path": f'"{workdir / "tickets.bin"}"'})
        box_cfg = _config(ROOT / "firmware/example.toml", workdir / "box.toml", site, mqtt_port, {})
        plans = {
            "board": ("display", "run", "--config", str(board_cfg), "--windowed", "1920x1080"),
            "kiosk": ("kiosk", "run", "--config", str(kiosk_cfg), "--windowed", "1280x800"),
            "button box": ("button", "run", "--config", str(box_cfg), "--no-keys"),
        }
        for name, args in plans.items():
            started[name] = procs.lalopa(*args, log=workdir / f"{name.replace(' ', '-')}.log")
        time.sleep(warmup_s)
        for name, proc in list(started.items()):
            if proc.poll() is not None:
                log = workdir / f"{name.replace(' ', '-')}.log"
                tail = log.read_text(errors="replace").strip().splitlines()[-1:] if log.exists() else []
                missing[name] = f"exited with {proc.returncode}: {' '.join(tail)[:200]}"
                del started[name]
        rss = {name: procs.rss_mb(p.pid) for name, p in started.items()}
        idle = {}
        watch = {n: p for n, p in started.items() if n in ("board", "kiosk")}
        c0 = {n: procs.cpu_seconds(p.pid) for n, p in watch.items()}
        t0 = time.monotonic()
        time.sleep(idle_s)
        for n, p in watch.items():
            idle[n] = 100.0 * (procs.cpu_seconds(p.pid) - c0[n]) / (time.monotonic() - t0)
        return {"rss_mb": rss, "idle_cpu_pct": idle, "missing": missing, "idle_s": idle_s}
    finally:
        for proc in reversed(list(started.values())):
            procs.stop(proc)
