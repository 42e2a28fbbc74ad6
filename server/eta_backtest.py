"""``lalopa eta-backtest``: how true were the wait estimates residents were given?

Replays days and, for every resident, compares the estimate given at the moment
the number was taken with the wait that followed (issue → first call):

* the site's own event log (``--db``, ``--day``): its events are played again, in
  order and at their own times, through a fresh real :class:`QueueService`; a call
  is replayed as that same ticket's call, so the desk is the one residents saw;
* simulated days (``--sim-days``): ``lalopa simulate``'s day model (morning peak,
  priority residents, no-shows) plus lunch pauses and transfers, played in
  simulated time straight into a real :class:`QueueService`.

For each estimator it reports calibration (share called before the printed upper
end) and the mean absolute error of the midpoint, beside the estimator this one
replaced (``people ahead × mean of the last 20 ÷ open counters``).

    lalopa eta-backtest --sim-days 6 --seed 1
    lalopa eta-backtest --db /var/lib/lalopa/lalopa.db --site /etc/lalopa/site.toml --day 2026-11-27
"""
from __future__ import annotations

import argparse
import heapq
import json
import sqlite3
import sys
import tempfile
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path

from server import errors, eta
from server.clock import FakeClock
from server.config import EXAMPLE_SITE, Site, load_site
from server.devtools.simulate import DayModel, Simulation
from server.queue import QueueService

SIM_DEVICE = "backtest"


@dataclass
class Resident:
    """One resident: what they were told at issue and what happened."""

    number: str
    low_s: int | None
    mid_s: int | None
    high_s: int | None
    naive_s: int
    wait_s: float | None = None   # issue → first call; None when never called


@dataclass
class Result:
    name: str
    residents: list[Resident] = field(default_factory=list)

    def figures(self) -> dict:
        called = [r for r in self.residents if r.wait_s is not None and r.high_s is not None]
        n = len(called)
        if not n:
            return {"days": self.name, "residents": 0}
        over = sum(1 for r in called if r.wait_s > r.high_s)
        mae = sum(abs(r.mid_s - r.wait_s) for r in called) / n
        naive = sum(abs(r.naive_s - r.wait_s) for r in called) / n
        return {"days": self.name, "residents": n, "over_upper_pct": round(100 * over / n, 1),
                "mae_mid_min": round(mae / 60, 1), "mae_naive_min": round(naive / 60, 1),
                "mae_cut_pct": round(100 * (1 - mae / naive), 1) if naive else None,
                "mean_wait_min": round(sum(r.wait_s for r in called) / n / 60, 1)}


class Recorder:
    """Issues through the real QueueService and writes down what each resident was told."""

    def __init__(self, svc: QueueService):
        self.svc = svc
        self.told: dict[int, Resident] = {}

    def issue(self, service: str, priority: str | None, request_id: str) -> dict:
        body = self.svc.issue(service, request_id=request_id, device=SIM_DEVICE, priority=priority)
        t = body["ticket"]
        if not body.get("duplicate"):
            conn = self.svc.db.read()
            naive = eta.naive_wait(conn, self.svc.site, t["service_day"], t["service"], t["people_ahead"])
            self.told[t["id"]] = Resident(t["number"], t["est_low_s"], t["est_wait_s"], t["est_high_s"],
                                          naive)
        return body

    def outcome(self, name: str) -> Result:
        conn = self.svc.db.read()
        out = Result(name)
        for tid, r in self.told.items():
            row = conn.execute("SELECT issued_ms, first_called_ms FROM tickets WHERE id = ?",
                               (tid,)).fetchone()
            if row["first_called_ms"] is not None:
                r.wait_s = (row["first_called_ms"] - row["issued_ms"]) / 1000
            out.residents.append(r)
        return out


# ----------------------------------------------------------------- simulated days

@dataclass
class BacktestDay(DayModel):
    """``lalopa simulate``'s day plus what a real day also has."""

    # A morning that outruns the desk (the example site's 16 counters serve ~160 an
    # hour): the queue builds for two hours and drains over lunch and the afternoon.
    peak_per_hour: float = 220.0
    lunch_at_s: float = 4 * 3600.0       # 12:00 for an 08:00 opening
    lunch_s: float = 3600.0              # counters take it in two shifts, half at a time
    transfer_share: float = 0.05         # served residents sent on to another service


class LocalApi:
    """The simulator's Api, answered by an in-process QueueService (the real one)."""

    def __init__(self, svc: QueueService, recorder: Recorder):
        self.svc, self.rec = svc, recorder

    def site(self) -> dict:
        return self.svc.site.public()

    def issue(self, service: str, priority: str | None, request_id: str) -> tuple[int, dict]:
        try:
            return 201, self.rec.issue(service, priority, request_id)
        except errors.QueueError as exc:
            return exc.status, {"error": exc.to_dict()}

    def act(self, counter: int, action: str, command_id: str, **extra) -> tuple[int, dict]:
        try:
            return 200, self.svc.counter_action(counter, action, command_id=command_id,
                                                device=SIM_DEVICE, **extra)
        except errors.QueueError as exc:
            return exc.status, {"error": exc.to_dict()}


class VirtualDay(Simulation):
    """The simulator's day in simulated time (the clock jumps from event to event)."""

    def __init__(self, api: LocalApi, model: BacktestDay, clock: FakeClock, seed: int, services):
        super().__init__(api, model, seed=seed, speed=1.0, duration_s=model.day_s, max_tickets=10**6,
                         log=lambda _m: None)
        self.clock, self.services = clock, services

    def plan(self, site: dict) -> None:
        super().plan(site)
        numbers = [c["number"] for c in site["counters"]]
        for i, n in enumerate(numbers):  # lunch in two shifts, so the desk never empties
            start = self.model.lunch_at_s + (i % 2) * self.model.lunch_s
            self.at(start, lambda n=n: self._lunch(n))
        self.lunching: set[int] = set()

    def _lunch(self, n: int) -> None:
        self.lunching.add(n)

    def counter_next(self, n: int) -> None:
        if n in self.lunching:
            self.lunching.discard(n)
            self.api.act(n, "pause", self._id(f"c{n}"), reason="istirahat siang")
            self.tally.pauses += 1
            return self.after(self.model.lunch_s, lambda: self._resume(n))
        super().counter_next(n)

    def _finish(self, n: int) -> None:
        others = [s for s in self.services if s != self._serving.get(n)]
        if others and self.rng.random() < self.model.transfer_share:
            status, body = self.api.act(n, "transfer", self._id(f"c{n}"), service=self.rng.choice(others))
            return self.after(self.rng.uniform(5, 30), lambda: self.counter_next(n))
        super()._finish(n)

    def _start(self, n: int) -> None:
        state = self.api.svc.counter_state(n)
        self._serving[n] = (state.get("ticket") or {}).get("service")
        super()._start(n)

    def run(self):
        self._serving: dict[int, str | None] = {}
        self.plan(self.api.site())
        self.now = 0.0
        while self._events:
            sim_t, _, fn = heapq.heappop(self._events)
            if sim_t > self.model.day_s + 2 * 3600:  # the last residents are still called
                break
            self.clock.advance(max(0.0, sim_t - self.now))
            self.now = sim_t
            fn()
        return self.tally


def _open_site(site: Site) -> Site:
    """The site with every weekday open long enough for a simulated day."""
    from datetime import time
    span = (time(8, 0), time(17, 0))
    return replace(site, hours={d: span for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")})


def simulated_day(site: Site, seed: int, workdir: Path, model: BacktestDay | None = None) -> Result:
    """One simulated day through a fresh QueueService."""
    site = _open_site(site)
    clock = FakeClock(datetime(2026, 3, 2 + seed % 5, 8, 0, tzinfo=site.tz))
    svc = QueueService(str(workdir / f"sim-{seed}.db"), site, clock)
    try:
        rec = Recorder(svc)
        day = VirtualDay(LocalApi(svc, rec), model or BacktestDay(), clock, seed,
                         [s.prefix for s in site.services])
        day.run()
        return rec.outcome(f"simulated seed {seed}")
    finally:
        svc.close()


# ----------------------------------------------------------------- the site's own log

REPLAYED = {"called": "call_specific", "recalled": "recall", "started": "start", "finished": "finish",
            "no_show": "no_show", "transferred": "transfer", "cancelled": "cancel", "opened": "open",
            "closed": "close", "paused": "pause", "resumed": "resume"}


def logged_day(site: Site, db_path: str, day: str, workdir: Path) -> Result:
    """One day of the site's event log, replayed through a fresh QueueService."""
    try:
        src = sqlite3.connect(f"file:{Path(db_path).resolve()}?mode=ro", uri=True)
        src.row_factory = sqlite3.Row
        events = src.execute("SELECT * FROM events WHERE service_day = ? ORDER BY id", (day,)).fetchall()
        numbers = {r["id"]: r["number"] for r in src.execute(
            "SELECT id, number FROM tickets WHERE service_day = ?", (day,))}
        src.close()
    except sqlite3.Error as exc:
        raise SystemExit(f"lalopa eta-backtest: {db_path} bukan basis data LALOPA yang terbaca /"
                         f" is not a readable LALOPA database ({exc})") from None
    if not events:
        raise SystemExit(f"lalopa eta-backtest: tidak ada kejadian pada hari {day} / no events on {day}")
    clock = FakeClock(events[0]["at_ms"] / 1000)
    svc = QueueService(str(workdir / f"log-{day}.db"), _open_site(site), clock)
    rec, mine, refused = Recorder(svc), {}, {}
    try:
        for i, e in enumerate(events):
            clock.advance(max(0.0, e["at_ms"] / 1000 - clock.wall_s))
            detail = json.loads(e["detail"] or "{}")
            try:
                if e["kind"] == "issued":
                    body = rec.issue(e["service"], detail.get("priority"), f"replay-issue-{e['id']}")
                    mine[e["ticket_id"]] = body["ticket"]["number"]
                elif e["kind"] in REPLAYED and e["counter"] is not None:
                    extra = {}
                    if e["kind"] in ("called", "cancelled"):
                        extra = {"ticket": mine.get(e["ticket_id"], numbers.get(e["ticket_id"])),
                                 "reason": "replay"}
                    elif e["kind"] == "transferred":
                        extra = {"service": detail.get("to")}
                    elif e["kind"] == "paused":
                        extra = {"reason": detail.get("reason")}
                    svc.counter_action(e["counter"], REPLAYED[e["kind"]], command_id=f"replay-cmd-{e['id']}",
                                       device=SIM_DEVICE, **extra)
            except errors.QueueError as exc:  # an event the fresh desk cannot repeat
                refused[f"{e['kind']}:{exc.code}"] = refused.get(f"{e['kind']}:{exc.code}", 0) + 1
        if refused:
            print(f"lalopa eta-backtest: {day}: not replayed / tidak diputar ulang: {refused}", file=sys.stderr)
        return rec.outcome(f"log {day}")
    finally:
        svc.close()


# ----------------------------------------------------------------- report

def table(results: list[Result]) -> str:
    """Markdown table: one row per day and the pooled row."""
    pooled = Result("all days", [r for x in results for r in x.residents])
    head = ("| days | residents | mean wait | over the upper end | MAE midpoint | MAE old estimate | MAE cut |\n"
            "|---|---:|---:|---:|---:|---:|---:|")
    rows = [head]
    for x in [*results, pooled]:
        f = x.figures()
        if not f["residents"]:
            rows.append(f"| {f['days']} | 0 | – | – | – | – | – |")
            continue
        rows.append(f"| {f['days']} | {f['residents']} | {f['mean_wait_min']} min | {f['over_upper_pct']} % | {f['mae_mid_min']} min |"
                    f" {f['mae_naive_min']} min | {f['mae_cut_pct']} % |")
    return "\n".join(rows)


def run(site: Site, sim_days: int, seed: int, db: str | None = None, days: list[str] = ()) -> list[Result]:
    with tempfile.TemporaryDirectory(prefix="lalopa-eta-") as tmp:
        work = Path(tmp)
        out = [logged_day(site, db, d, work) for d in days] if db else []
        out += [simulated_day(site, seed + i, work) for i in range(sim_days)]
    return out


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="lalopa eta-backtest", description=__doc__.split("\n\n")[0])
    p.add_argument("--site", default=str(EXAMPLE_SITE), help="site file (default: the example site)")
    p.add_argument("--db", help="the site's database, to replay its own event log")
    p.add_argument("--day", action="append", default=[], help="service day of the log (repeatable)")
    p.add_argument("--sim-days", type=int, default=6, help="simulated days to play (0: none)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--json", action="store_true", help="figures as JSON instead of a table")
    args = p.parse_args(argv)
    if args.db and not args.day:
        p.error("--db perlu --day / --db needs --day YYYY-MM-DD")
    for day in args.day:
        try:
            date.fromisoformat(day)
        except ValueError:
            p.error(f"--day {day!r}: tanggal harus YYYY-MM-DD / the date must be YYYY-MM-DD")
    if args.sim_days < 0 or args.sim_days > 60:
        p.error("--sim-days: 0..60")
    results = run(load_site(args.site), args.sim_days, args.seed, args.db, args.day)
    if args.json:
        print(json.dumps([r.figures() for r in results] +
                         [Result("all days", [x for r in results for x in r.residents]).figures()]))
    else:
        print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
