"""``lalopa demo``: the whole system on one machine, from a clean clone.

Starts, each as its own subprocess in its own process group and through its
own CLI: a private Mosquitto on a free loopback port (never the system broker
on 1883), the server on the example site with a fresh database, the display
board and the kiosk (windows when there is a screen, headless with periodic
screenshots when there is none), one counter button box under gpiozero's mock
pins, and ``lalopa simulate`` playing a time-compressed day (residents take
numbers through the kiosk HTTP API; verifiers act through the counter API).
It creates a one-time admin log-in and device tokens, prints the dashboard URL,
and on Ctrl-C / SIGTERM stops everything: terminate, wait, kill.

The kiosk itself also takes ``--kiosk-taps`` numbers (default 1) through its
real touch handling (``lalopa kiosk run --demo-taps``), and the board writes
every call it put on screen to ``board-calls.jsonl`` (``--call-log``). With
``--duration`` the demo then waits up to ``SETTLE_S`` more seconds for the
counters to call the kiosk's numbers, so a run proves a ticket went the whole
way: kiosk tap → server → bus → board.

Before stopping it saves ``board.json``, ``queue.json``, ``stats.json``,
``calls.jsonl`` (every call seen on the bus), ``kiosk-tickets.json`` (the
kiosk's own numbers: server status, bus calls, board calls) and
``summary.json`` in the demo directory, next to ``logs/`` and ``screenshots/``.

Example::

    lalopa demo                      # until Ctrl-C
    lalopa demo --headless --duration 60 --out /tmp/demo
"""
from __future__ import annotations

import argparse
import functools
import importlib.util
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
import tomllib
import urllib.request
from pathlib import Path

from broker.bus import free_port
from server.devtools.demo_support import (Child, dump_toml, get_json, json_lines, merge,
                                 token_from_output)

REPO = Path(__file__).resolve().parents[2]
SITE_EXAMPLE = REPO / "server/sites/example.toml"
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ROLE_MODULES = {"server": "server.cli", "kiosk": "kiosk.cli", "display": "display.cli",
                "button": "firmware.cli"}
SETTLE_S = 15.0   # after --duration: the longest wait for the kiosk's numbers to be called
# With a screen, the board and the kiosk open side by side (size, top-left corner): on a
# 1920-wide desktop neither window covers the other. SDL places a window where
# SDL_VIDEO_WINDOW_POS says (X11; a Wayland compositor may choose for itself).
WINDOWS = {"display": ((1024, 576), (0, 40)), "kiosk": ((800, 480), (1044, 40))}


def open_all_week(site_toml: str) -> str:
    """The demo must work at any hour on any day: the site opens every day, all day."""
    hours = "[hours]\n" + "".join(f'{d} = ["00:00", "23:59"]\n' for d in DAYS)
    return re.sub(r"^\[hours\].*?(?=^\[)", hours + "\n", site_toml, count=1,
                  flags=re.MULTILINE | re.DOTALL)


class Demo:
    """Owns every child process of one demo run and the files it leaves behind."""

    def __init__(self, out: Path, *, headless: bool, duration: float | None, speed: float,
                 seed: int, counters: int, kiosk_taps: int = 1,
                 log=functools.partial(print, flush=True)):
        self.out, self.headless, self.duration = out, headless, duration
        self.kiosk_taps = kiosk_taps
        self.speed, self.seed, self.counters, self.log = speed, seed, counters, log
        self.children: list[Child] = []
        self.stop_event = threading.Event()
        self.http_port = free_port()
        self.url = f"http://127.0.0.1:{self.http_port}"
        self.db = out / "lalopa.db"
        self.tokens: dict[str, str] = {}
        self.calls: list[dict] = []
        self.broker = None
        self.site_id = tomllib.loads(SITE_EXAMPLE.read_text())["site_id"]

    # -- helpers ------------------------------------------------------------

    def lalopa(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "broker.cli", *args]

    def env(self) -> dict:
        env = dict(os.environ, PYTHONUNBUFFERED="1", GPIOZERO_PIN_FACTORY="mock",
                   PYGAME_HIDE_SUPPORT_PROMPT="1")
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
        if self.headless:
            env.update(SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy")
        # One kiosk token issues a time-compressed day: scale the server's per-kiosk limit
        # (30 tickets/min for a real kiosk) by the same factor.
        env.setdefault("LALOPA_KIOSK_RATE_PER_MIN", str(int(30 * max(1.0, self.speed))))
        return env

    def available(self, role: str) -> bool:
        if importlib.util.find_spec(ROLE_MODULES[role]) is not None:
            return True
        self.log(f"CATATAN / NOTICE: '{role}' belum tersedia / is not available yet "
                 f"({ROLE_MODULES[role]} missing): left out of this demo")
        return False

    def run_once(self, *args: str, timeout: float = 30) -> subprocess.CompletedProcess:
        return subprocess.run(self.lalopa(*args), capture_output=True, text=True,
                              timeout=timeout, env=self.env(), cwd=self.out)

    def start(self, name: str, *args: str, env: dict | None = None) -> Child:
        child = Child(name, self.lalopa(*args), self.out / "logs" / f"{name}.log",
                      env={**self.env(), **(env or {})}, cwd=self.out).start()
        self.children.append(child)
        return child

    # -- set-up ---------------------------------------------------------------

    def prepare(self) -> None:
        """A fresh demo dir: site open all week, no old database."""
        (self.out / "logs").mkdir(parents=True, exist_ok=True)
        for old in self.out.glob("lalopa.db*"):
            old.unlink()
        (self.out / "site.toml").write_text(open_all_week(SITE_EXAMPLE.read_text()))

    def start_broker(self) -> None:
        from server.devtools.mosquitto import Mosquitto
        self.broker = Mosquitto().start()
        self.log(f"broker    mosquitto on 127.0.0.1:{self.broker.port} (private, anonymous, loopback)")

    def make_token(self, device: str, role: str) -> str | None:
        res = self.run_once("token", "add", "--db", str(self.db), "--device", device, "--role", role)
        token = token_from_output(res.stdout) if res.returncode == 0 else None
        if token is None:
            self.log(f"CATATAN / NOTICE: no {role} token for {device}: {res.stderr.strip()[-300:]}")
            return None
        path = self.out / f"{device}.token"
        path.write_text(token + "\n")
        path.chmod(0o600)
        self.tokens[device] = token
        return token

    def make_admin(self) -> tuple[str, str] | None:
        password = secrets.token_urlsafe(12)
        pw_file = self.out / "admin-password"
        pw_file.write_text(password + "\n")
        pw_file.chmod(0o600)
        res = self.run_once("user", "create-admin", "--db", str(self.db), "--username", "admin",
                            "--password-file", str(pw_file), "--one-time")
        if res.returncode != 0:
            self.log(f"CATATAN / NOTICE: admin log-in not created: {res.stderr.strip()[-300:]}")
            return None
        return "admin", password

    def start_server(self) -> bool:
        if not self.available("server"):
            return False
        self.start("server", "server", "--site", str(self.out / "site.toml"), "--db", str(self.db),
                   "--host", "127.0.0.1", "--port", str(self.http_port),
                   "--mqtt-host", "127.0.0.1", "--mqtt-port", str(self.broker.port))
        return self.wait_http("/healthz", 30)

    def wait_http(self, path: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self.stop_event.is_set():
            try:
                with urllib.request.urlopen(self.url + path, timeout=1) as resp:
                    if resp.status == 200:
                        return True
            except OSError:
                pass
            if not self.children[-1].alive():
                return False
            time.sleep(0.2)
        return False

    def device_config(self, role: str, device: str, example: Path, overrides: dict) -> Path:
        base = tomllib.loads(example.read_text()) if example.exists() else {}
        conf = merge(base, {"device_id": device,
                            "bus": {"host": "127.0.0.1", "port": self.broker.port,
                                    "site": self.site_id}, **overrides})
        path = self.out / f"{role}.toml"
        path.write_text(f"# generated by lalopa demo\n{dump_toml(conf)}")
        return path

    def window(self, role: str) -> tuple[list[str], dict]:
        """The ``--windowed`` option and window position of a screen role (none headless)."""
        if self.headless:
            return [], {}
        (w, h), (x, y) = WINDOWS[role]
        return ["--windowed", f"{w}x{h}"], {"SDL_VIDEO_WINDOW_POS": f"{x},{y}"}

    def start_devices(self) -> None:
        if self.available("display"):
            # Speech costs CPU and nobody hears it headless.
            cfg = self.device_config("display", "board-1", REPO / "display/example.toml", {
                "voice": {"enabled": not self.headless, "cache_dir": str(self.out / "voice-cache")}})
            windowed, env = self.window("display")
            self.start("display", "display", "run", "--config", str(cfg), *windowed,
                       *self.screenshots("board"), "--call-log", str(self.out / "board-calls.jsonl"),
                       env=env)
        if self.available("kiosk") and "kiosk-1" in self.tokens:
            cfg = self.device_config("kiosk", "kiosk-1", REPO / "kiosk/example.toml", {
                "server": {"url": self.url, "token_file": str(self.out / "kiosk-1.token")},
                "printer": {"backend": "file", "path": str(self.out / "tickets.bin")},
                "screen": {"fullscreen": False}})
            taps = ["--demo-taps", str(self.kiosk_taps)] if self.kiosk_taps > 0 else []
            windowed, env = self.window("kiosk")
            self.start("kiosk", "kiosk", "run", "--config", str(cfg), *windowed,
                       *self.screenshots("kiosk"), *taps, env=env)
        if self.available("button"):
            counter = 16
            cfg = self.device_config("button", f"box-{counter}",
                                     REPO / "firmware/example.toml", {"counter": counter})
            self.start("button", "button", "run", "--config", str(cfg))

    def screenshots(self, name: str) -> list[str]:
        if not self.headless:
            return []
        return ["--screenshots", str(self.out / "screenshots" / name)]

    def start_simulator(self) -> None:
        kiosk, panel = self.tokens.get("kiosk-1"), self.tokens.get("panel-sim")
        if not kiosk:
            self.log("CATATAN / NOTICE: no kiosk token: simulated residents left out")
            return
        # It may play on while the demo settles; the demo stops it (it prints its tally).
        duration = self.duration + SETTLE_S if self.duration else 7 * 3600 / self.speed
        panel_file = self.out / ("panel-sim.token" if panel else "kiosk-1.token")
        self.start("simulate", "simulate", "--server", self.url,
                   "--token-file", str(self.out / "kiosk-1.token"),
                   "--panel-token-file", str(panel_file), "--speed", str(self.speed),
                   "--duration", str(max(1.0, duration)), "--seed", str(self.seed),
                   "--counters", str(self.counters))

    def watch_calls(self) -> None:
        """Record every call the board would announce, straight from the bus."""
        from broker.bus import BusClient
        self.bus = BusClient(site=self.site_id, role="panel", device="demo-recorder",
                             host="127.0.0.1", port=self.broker.port)
        self.bus.subscribe(self.bus.topics.call,
                           lambda m: self.calls.append(json.loads(m.payload)))
        self.bus.start()

    # -- run and stop -----------------------------------------------------------

    def run(self) -> int:
        self.prepare()
        self.start_broker()
        if not self.available("server"):
            return 1
        for device, role in (("kiosk-1", "kiosk"), ("board-1", "display"),
                             ("panel-sim", "panel"), ("box-16", "button"),
                             ("demo-stats", "admin")):
            self.make_token(device, role)
        admin = self.make_admin()
        if not self.start_server():
            self.log("GAGAL / FAILED: server did not start; see " + str(self.out / "logs/server.log"))
            return 1
        self.watch_calls()
        self.start_devices()
        self.start_simulator()
        self.banner(admin)
        self.wait()
        return 0

    def banner(self, admin: tuple[str, str] | None) -> None:
        self.log(f"dashboard {self.url}/   (papan / board JSON: {self.url}/api/v1/board)")
        if admin:
            self.log(f"log-in    {admin[0]} / {admin[1]}   (sekali pakai: setelah masuk, buat kata "
                     f"sandi sendiri di Administrasi / one-time: after logging in, set your own "
                     f"password under Administration)")
        mode = "headless, screenshots in " + str(self.out / "screenshots") if self.headless \
            else "windows on this screen"
        self.log(f"devices   {mode}; logs in {self.out / 'logs'}")
        self.log("berhenti / stop: Ctrl-C" + (f" (or after {self.duration:.0f} s)" if self.duration else ""))

    def wait(self) -> None:
        deadline = time.monotonic() + self.duration if self.duration else None
        while not self.stop_event.is_set():
            if deadline and time.monotonic() >= deadline and not self.settling(deadline):
                break
            if not self.children[0].alive():
                self.log("GAGAL / FAILED: the server stopped; see logs/server.log")
                break
            if getattr(self, "bus", None):
                self.bus.dispatch(timeout=0.5)  # runs the call recorder in this thread
            else:
                self.stop_event.wait(0.5)

    def settling(self, deadline: float) -> bool:
        """Past --duration: keep running (up to SETTLE_S) while a kiosk number is not yet
        on the board, so the run can show it arriving there."""
        waiting = sorted(set(self.kiosk_numbers()) - set(self.board_numbers()))
        if not waiting or time.monotonic() >= deadline + SETTLE_S:
            return False
        if not getattr(self, "_settle_noted", False):
            self._settle_noted = True
            self.log(f"menunggu / waiting (max {SETTLE_S:.0f} s) for kiosk number(s) "
                     f"{', '.join(waiting)} to be called")
        return True

    def kiosk_tickets(self) -> list[dict]:
        """The numbers the kiosk app took by itself (its ``--demo-taps`` JSON lines)."""
        return [line["demo_ticket"] for line in json_lines(self.out / "logs/kiosk.log")
                if isinstance(line.get("demo_ticket"), dict)]

    def kiosk_numbers(self) -> list[str]:
        return [t.get("number") for t in self.kiosk_tickets()]

    def board_numbers(self) -> list[str]:
        """Numbers the board process itself recorded as shown (its ``--call-log``)."""
        return [c.get("ticket") for c in json_lines(self.out / "board-calls.jsonl")]

    def save_results(self) -> dict:
        """Snapshot what the server and the bus saw, while the server still runs."""
        results = {}
        for name, path in (("board", "/api/v1/board"), ("queue", "/api/v1/queue"),
                           ("stats", "/api/v1/stats/day")):
            # day stats are for admins only
            results[name] = get_json(self.url + path, self.tokens.get("demo-stats"))
            (self.out / f"{name}.json").write_text(json.dumps(results[name], indent=1))
        with open(self.out / "calls.jsonl", "w") as f:
            f.writelines(json.dumps(c) + "\n" for c in list(self.calls))
        kiosk = self.save_kiosk_tickets()
        shots = sorted(str(p.relative_to(self.out)) for p in self.out.glob("screenshots/**/*.png"))
        stats = results["stats"]
        called = sum(c.get("called", 0) for c in stats.get("counters", {}).values())
        summary = {"url": self.url, "issued": stats.get("issued", 0), "called": called,
                   "calls_seen_on_bus": len(self.calls), "screenshots": shots,
                   "kiosk_tickets": [t["number"] for t in kiosk],
                   "kiosk_tickets_on_board": [t["number"] for t in kiosk if t["board_calls"]],
                   "components": {c.name: c.exit_code for c in self.children}}
        (self.out / "summary.json").write_text(json.dumps(summary, indent=1))
        return summary

    def save_kiosk_tickets(self) -> list[dict]:
        """Follow each kiosk number: its status on the server, its calls on the bus and
        the board's own record of showing it."""
        board = json_lines(self.out / "board-calls.jsonl")
        tickets = []
        for t in self.kiosk_tickets():
            number = t.get("number")
            tickets.append({"number": number, "service": t.get("service"),
                            "issued_at": t.get("issued_at"),
                            "server": get_json(f"{self.url}/api/v1/tickets/{t.get('token')}"),
                            "bus_calls": [c for c in list(self.calls) if c.get("ticket") == number],
                            "board_calls": [c for c in board if c.get("ticket") == number]})
        (self.out / "kiosk-tickets.json").write_text(json.dumps(tickets, indent=1))
        return tickets

    def shutdown(self) -> None:
        """Simulator first, then devices, server last; then the broker."""
        if self.children and self.children[0].alive():
            self.save_results()
        for child in reversed(self.children):
            child.stop()
        if getattr(self, "bus", None):
            self.bus.stop()
        self.save_summary_codes()
        if self.broker:
            self.broker.cleanup()

    def save_summary_codes(self) -> None:
        path = self.out / "summary.json"
        summary = json.loads(path.read_text()) if path.exists() else {}
        summary["components"] = {c.name: c.exit_code for c in self.children}
        path.write_text(json.dumps(summary, indent=1))


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="lalopa demo",
        description="Jalankan seluruh sistem di mesin ini / run the whole system on this machine: "
                    "a private broker, the server, the board, the kiosk, a button box and a "
                    "simulated day.")
    p.add_argument("--duration", type=float, help="stop after S seconds (default: until Ctrl-C)")
    p.add_argument("--headless", action="store_true",
                   help="no windows: SDL dummy video, screenshots to OUT/screenshots")
    p.add_argument("--out", default="lalopa-demo", help="demo directory (default ./lalopa-demo)")
    p.add_argument("--speed", type=float, default=60.0, help="simulated seconds per real second")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--counters", type=int, default=6, help="simulated counters (of 16)")
    p.add_argument("--kiosk-taps", type=int, default=1, metavar="N",
                   help="numbers the kiosk app takes by scripted taps (0: none)")
    return p


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    headless = args.headless or not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    demo = Demo(Path(args.out).resolve(), headless=headless, duration=args.duration,
                speed=args.speed, seed=args.seed, counters=args.counters,
                kiosk_taps=args.kiosk_taps)

    def _stop(signum, frame):  # Ctrl-C or systemd/CI SIGTERM: leave the loop, then clean up
        demo.stop_event.set()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    try:
        return demo.run()
    finally:
        demo.shutdown()
        print(f"selesai / done: results in {demo.out}", flush=True)
