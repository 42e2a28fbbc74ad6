"""``lalopa simulate``: play a realistic, time-compressed day against a running server.

Residents arrive as a non-homogeneous Poisson process that peaks in the first
two hours after opening (sampled by thinning), a share of them are priority
residents (lansia, disabilitas, hamil), and they take numbers through the
kiosk HTTP API with a kiosk token, exactly as a kiosk does. Verifiers call,
serve (log-normal service times), recall and skip no-shows, and pause now and
then, through the counter actions API with a panel token.

The day is bounded in real time (``--duration``) and in count
(``--max-tickets``), and with ``--seed`` the plan of arrivals and actions is the
same on every run (the server's answers decide which ticket each call gets).

Example::

    lalopa simulate --server http://127.0.0.1:8080 --token KIOSK --panel-token PANEL \\
        --speed 300 --duration 60 --seed 7
"""
from __future__ import annotations

import argparse
import heapq
import json
import math
import random
import secrets
import signal
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from broker.vocab import PRIORITIES

# Relative arrival rate per hour after opening: the morning peak of DOMAIN.md.
HOURLY_SHAPE = (1.0, 0.85, 0.55, 0.4, 0.3, 0.25, 0.15, 0.1)


@dataclass
class DayModel:
    """The numbers that shape a simulated day (all times in simulated seconds)."""

    peak_per_hour: float = 90.0
    day_s: float = 7 * 3600.0
    priority_share: float = 0.1
    no_show_share: float = 0.07
    service_median_s: float = 360.0
    service_sigma: float = 0.5
    pause_share: float = 0.03
    pause_s: float = 600.0

    def rate(self, t: float) -> float:
        """Arrivals per simulated second at ``t`` seconds after opening."""
        hour = int(t // 3600)
        shape = HOURLY_SHAPE[min(hour, len(HOURLY_SHAPE) - 1)]
        return self.peak_per_hour * shape / 3600.0

    def arrivals(self, rng: random.Random, limit: int) -> list[float]:
        """Arrival times by thinning a homogeneous process at the peak rate."""
        peak = self.peak_per_hour / 3600.0
        times, t = [], 0.0
        while len(times) < limit:
            t += rng.expovariate(peak)
            if t >= self.day_s:
                break
            if rng.random() <= self.rate(t) / peak:
                times.append(t)
        return times

    def service_time(self, rng: random.Random) -> float:
        """Skewed service time: log-normal around the median, at least 30 s."""
        return max(30.0, rng.lognormvariate(math.log(self.service_median_s), self.service_sigma))


class Api:
    """The few HTTP calls a kiosk and a counter panel make."""

    def __init__(self, base: str, kiosk_token: str, panel_token: str, timeout: float = 5.0):
        self.base, self.timeout = base.rstrip("/"), timeout
        self.kiosk_token, self.panel_token = kiosk_token, panel_token

    def request(self, method: str, path: str, body: dict | None = None,
                token: str | None = None) -> tuple[int, dict]:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                return resp.status, json.loads(resp.read() or b"{}")
        except urllib.error.HTTPError as exc:
            try:
                return exc.code, json.loads(exc.read() or b"{}")
            except ValueError:
                return exc.code, {}

    def site(self) -> dict:
        return self.request("GET", "/api/v1/site")[1]

    def issue(self, service: str, priority: str | None, request_id: str) -> tuple[int, dict]:
        return self.request("POST", "/api/v1/tickets",
                            {"service": service, "priority": priority, "request_id": request_id},
                            self.kiosk_token)

    def act(self, counter: int, action: str, command_id: str, **extra) -> tuple[int, dict]:
        body = {"action": action, "command_id": command_id, **extra}
        return self.request("POST", f"/api/v1/counters/{counter}/actions", body, self.panel_token)


@dataclass
class Tally:
    """What the simulated day did, printed at the end as one JSON line."""

    issued: int = 0
    called: int = 0
    finished: int = 0
    no_show: int = 0
    recalls: int = 0
    pauses: int = 0
    empty: int = 0
    errors: dict = field(default_factory=dict)

    def error(self, status: int, body: dict) -> None:
        code = str((body.get("error") or {}).get("code", status))
        self.errors[code] = self.errors.get(code, 0) + 1


class Simulation:
    """A discrete-event day run in scaled real time against the server."""

    def __init__(self, api: Api, model: DayModel, *, seed: int, speed: float,
                 duration_s: float, max_tickets: int, counters: int | None = None,
                 run_id: str | None = None, log: Callable[[str], None] = print):
        self.api, self.model, self.speed = api, model, speed
        self.rng = random.Random(seed)
        self.duration_s, self.max_tickets = duration_s, max_tickets
        self.max_counters = counters
        self.run_id = run_id or secrets.token_hex(3)
        self.log = log
        self.tally = Tally()
        self._events: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = 0

    def at(self, sim_t: float, fn: Callable[[], None]) -> None:
        self._seq += 1
        heapq.heappush(self._events, (sim_t, self._seq, fn))

    def _id(self, kind: str) -> str:
        self._seq += 1
        return f"sim-{self.run_id}-{kind}-{self._seq}"

    # -- set-up -------------------------------------------------------------

    def plan(self, site: dict) -> None:
        services = [s["prefix"] for s in site.get("services", [])] or ["A"]
        weights = [6 if i == 0 else 2 for i in range(len(services))]
        counters = pick_counters(site.get("counters", []), self.max_counters) or [1]
        for t in self.model.arrivals(self.rng, self.max_tickets):
            service = self.rng.choices(services, weights)[0]
            priority = (self.rng.choice(PRIORITIES)
                        if self.rng.random() < self.model.priority_share else None)
            self.at(t, lambda s=service, p=priority: self.resident(s, p))
        for i, n in enumerate(counters):
            self.at(60.0 + 20 * i, lambda n=n: self.counter_next(n))

    # -- residents and verifiers -------------------------------------------

    def resident(self, service: str, priority: str | None, attempt: int = 1) -> None:
        status, body = self.api.issue(service, priority, self._id("req"))
        if status in (200, 201):
            self.tally.issued += 1
            return
        self.tally.error(status, body)
        if status == 429 and attempt < 3:  # the kiosk said "wait a moment": try again
            self.after(20, lambda: self.resident(service, priority, attempt + 1))

    def counter_next(self, n: int) -> None:
        if self.rng.random() < self.model.pause_share:
            return self._pause(n)
        status, body = self.api.act(n, "next", self._id(f"c{n}"))
        ticket = body.get("ticket") if status == 200 else None
        if not ticket:
            self.tally.empty += 1
            if status != 200 and (body.get("error") or {}).get("code") != "nothing_waiting":
                self.tally.error(status, body)
            return self.after(45, lambda: self.counter_next(n))
        self.tally.called += 1
        if self.rng.random() < self.model.no_show_share:
            return self.after(60, lambda: self._recall(n, 1))
        self.after(self.rng.uniform(15, 60), lambda: self._start(n))

    def _recall(self, n: int, count: int) -> None:
        if count <= 1:
            self.api.act(n, "recall", self._id(f"c{n}"))
            self.tally.recalls += 1
            return self.after(60, lambda: self._recall(n, count + 1))
        status, body = self.api.act(n, "no_show", self._id(f"c{n}"))
        self._count(status, body, "no_show")
        self.after(5, lambda: self.counter_next(n))

    def _start(self, n: int) -> None:
        status, body = self.api.act(n, "start", self._id(f"c{n}"))
        if status != 200:
            self.tally.error(status, body)
        self.after(self.model.service_time(self.rng), lambda: self._finish(n))

    def _finish(self, n: int) -> None:
        status, body = self.api.act(n, "finish", self._id(f"c{n}"))
        self._count(status, body, "finished")
        self.after(self.rng.uniform(5, 30), lambda: self.counter_next(n))

    def _pause(self, n: int) -> None:
        self.api.act(n, "pause", self._id(f"c{n}"), reason="istirahat")
        self.tally.pauses += 1
        self.after(self.model.pause_s, lambda: self._resume(n))

    def _resume(self, n: int) -> None:
        self.api.act(n, "resume", self._id(f"c{n}"))
        self.after(1, lambda: self.counter_next(n))

    def _count(self, status: int, body: dict, name: str) -> None:
        if status == 200:
            setattr(self.tally, name, getattr(self.tally, name) + 1)
        else:
            self.tally.error(status, body)

    def after(self, delay_s: float, fn: Callable[[], None]) -> None:
        self.at(self.now + delay_s, fn)

    # -- the clock ------------------------------------------------------------

    def run(self) -> Tally:
        """Play events in order, sleeping ``sim_delta / speed`` real seconds between them."""
        self.plan(self.api.site())
        start = time.monotonic()
        self.now = 0.0
        while self._events:
            sim_t, _, fn = heapq.heappop(self._events)
            if sim_t > self.model.day_s:
                break
            due = start + sim_t / self.speed
            if due - start > self.duration_s:
                break
            time.sleep(max(0.0, due - time.monotonic()))
            self.now = sim_t
            fn()
        return self.tally


def pick_counters(counters: list[dict], limit: int | None) -> list[int]:
    """At most ``limit`` counter numbers that together serve every service the site's counters
    serve: first, for each service, the first counter that prefers it; then the others in
    order. (Taking the first N would leave a service nobody calls: its queue only grows.)"""
    numbers = [c["number"] for c in counters]
    if not limit or limit >= len(numbers):
        return numbers
    chosen: list[int] = []
    for service in dict.fromkeys(s for c in counters for s in c.get("services", [])):
        first = next((c["number"] for c in counters if c.get("services", [None])[0] == service),
                     None) or next(c["number"] for c in counters if service in c.get("services", []))
        if first not in chosen and len(chosen) < limit:
            chosen.append(first)
    chosen += [n for n in numbers if n not in chosen][: limit - len(chosen)]
    return sorted(chosen)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="lalopa simulate", description=__doc__.split("\n\n")[0])
    p.add_argument("--server", default="http://127.0.0.1:8080")
    p.add_argument("--token", help="kiosk token (issues numbers)")
    p.add_argument("--token-file", help="read the kiosk token from this file instead")
    p.add_argument("--panel-token", help="panel token for counter actions (default: --token)")
    p.add_argument("--panel-token-file", help="read the panel token from this file instead")
    p.add_argument("--speed", type=float, default=120.0, help="simulated seconds per real second")
    p.add_argument("--duration", type=float, default=120.0, help="stop after this many real seconds")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--max-tickets", type=int, default=500)
    p.add_argument("--counters", type=int, help="simulate only the first N counters")
    p.add_argument("--peak-per-hour", type=float, default=90.0)
    return p


def _token(value: str | None, path: str | None) -> str | None:
    # A file keeps the token out of `ps` and copes with tokens that start with '-'.
    return Path(path).read_text().strip() if path else value


def main(argv: list[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    kiosk = _token(args.token, args.token_file)
    if not kiosk:
        parser.error("--token atau / or --token-file wajib / is required")
    panel = _token(args.panel_token, args.panel_token_file) or kiosk
    if args.speed <= 0 or args.duration <= 0:
        print("lalopa simulate: --speed dan --duration harus > 0 / must be > 0", file=sys.stderr)
        return 2
    # The demo stops us with SIGTERM: finish like Ctrl-C, printing the tally.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    api = Api(args.server, kiosk, panel)
    sim = Simulation(api, DayModel(peak_per_hour=args.peak_per_hour), seed=args.seed,
                     speed=args.speed, duration_s=args.duration, max_tickets=args.max_tickets,
                     counters=args.counters)
    try:
        tally = sim.run()
    except (urllib.error.URLError, OSError) as exc:
        print(f"lalopa simulate: server tidak terjangkau / server unreachable: {exc}",
              file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        tally = sim.tally
    print(json.dumps({"simulated": vars(tally)}, sort_keys=True), flush=True)
    return 0
