"""``lalopa bench [--quick] [--out docs/BENCHMARKS.md]``: measure the real system, write the report.

Parts, each against real components (a private Mosquitto, the real
QueueService, bridge and server CLI, the real board/kiosk/box CLIs):

1. press -> call latency over the bus, beside a floor measured in the same run;
2. ticket issue over HTTP with 4 keep-alive clients (p50/p99, tickets/s);
3. statistics (day view, 30-day report) over 10 k / 100 k / 1 M tickets of history;
4. resident memory of every program and idle CPU of board and kiosk;
5. cost per event: server CPU per call and per issue, and one live-view snapshot,
   at a quiet (400 tickets) and a very busy (15,000 tickets) day;
6. heard in time: speech per call and press -> end of announcement in a burst of 16
   (the real board under SDL's disk audio driver);
7. soak: a busy stretch through the real server, board and kiosk processes, their RSS
   after warm-up and after it;
8. the city view (``--city``).

``--merge`` writes only the parts run (``--only``) into the existing report.

A part that cannot run (a component missing or failing) is reported as not
measured with the reason; the others still run. Targets and the reason for
every miss are in the document.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
import traceback
from pathlib import Path

from server.devtools.benchlib.report import Row, Section, render

FULL = {"calls": 1000, "http_s": 15.0, "sizes": (10_000, 100_000, 1_000_000), "idle_s": 10.0,
        "cost_ops": 200, "soak_calls": 10_000}
QUICK = {"calls": 300, "http_s": 5.0, "sizes": (10_000, 100_000), "idle_s": 5.0,
         "cost_ops": 80, "soak_calls": 2_000}
BROKER_CONFIG = "set_tcp_nodelay true"  # as in broker/mosquitto/*.conf


def _ms(x: float) -> str:
    return f"{x:.2f} ms"


def bench_latency(plan: dict, work: Path) -> Section:
    from server.devtools.mosquitto import Mosquitto
    from server.devtools.benchlib.latency import measure_floor, measure_press_to_call
    sec = Section("Press → call latency", (
        f"A button-box BusClient publishes `next` on `counter/<n>/command` (16 counters in turn, "
        f"{plan['calls']} calls after 50 warm-up, 20 ms apart so each press finds the bridge idle); "
        "`lalopa server --mqtt-host` in its own process (the real bridge, server/bridge.py) applies "
        "it through QueueService (one BEGIN IMMEDIATE transaction, WAL, synchronous=FULL) and "
        "publishes the call; a display BusClient times "
        "its arrival in its owner thread. Floor: the same two clients and broker, one durable "
        "SQLite commit (WAL, FULL) plus a raw publish → receive. Private Mosquitto "
        f"(`{BROKER_CONFIG}`)."))
    broker = Mosquitto(extra_config=BROKER_CONFIG).start()
    try:
        floor = measure_floor(broker.port, plan["calls"])
        call = measure_press_to_call(broker.port, plan["calls"], work)
    finally:
        broker.cleanup()
    ratio = call["p50"] / floor["p50"]
    why_p50 = ("The floor is one broker hop and one commit; a press needs two hops (box → "
               "broker → server → broker → display) plus the server's work. A profiling run on "
               "this machine split a ~3.4 ms p50 into: box → bridge handler 0.7 ms, "
               "QueueService.counter_action 1.1 ms (idempotency lookup, `next` transaction with "
               "fsync, wait estimate), call publish → display 0.7 ms, the rest decode/encode. "
               "2× the floor is below what two hops alone cost; a person cannot tell 4 ms from 1 ms.")
    sec.rows += [
        Row("floor p50 / p99", f"{_ms(floor['p50'])} / {_ms(floor['p99'])}"),
        Row("press → call p50", f"{_ms(call['p50'])} ({ratio:.1f}× floor)", "≤ 2× floor p50",
            ratio <= 2.0, why_p50),
        Row("press → call p99", _ms(call["p99"]), "< 10 ms", call["p99"] < 10.0,
            "The tail comes from waiting for a core: server, broker, both clients and other "
            "people's work share 2 cores (see the load averages above), and one fsync per "
            "press; p50 shows the path itself is a few ms."),
        Row("press → call max", _ms(call["max"])),
        Row("calls measured", str(call["n"]), f"≥ {plan['calls']}", call["n"] >= plan["calls"]),
        Row("call seq strictly increasing", str(call["strictly_increasing_seq"]), "True",
            call["strictly_increasing_seq"]),
    ]
    sec.notes.append(f"Server RSS after the run: {call['server_rss_mb']:.1f} MB.")
    sec.notes.append("Nagle's algorithm was found adding ~40 ms per hop (calls waited for delayed "
                     "ACKs behind retained state): fixed by TCP_NODELAY in broker/bus.py and "
                     "`set_tcp_nodelay true` in both Mosquitto configs.")
    return sec


def bench_http(plan: dict, work: Path) -> Section:
    from server.devtools.benchlib.http import measure_issue
    from server.cli import server_parser
    threads = server_parser().get_default("threads")
    sec = Section("Ticket issue over HTTP", (
        f"`lalopa server` (waitress, its default {threads} threads) on a fresh DB; 4 client threads, each a keep-alive "
        f"http.client connection with its own kiosk token, POST /api/v1/tickets for "
        f"{plan['http_s']:.0f} s. Clients and server share the same cores. The per-kiosk rate "
        "limit is switched off for this run (LALOPA_KIOSK_RATE_PER_MIN=0): by design it refuses "
        "a kiosk asking for more than a burst of tickets."))
    r = measure_issue(work, clients=4, seconds=plan["http_s"])
    sec.rows += [
        Row("throughput", f"{r['per_s']:.0f} tickets/s", "≥ 500 tickets/s", r["per_s"] >= 500,
            "Each ticket is one fsync'd commit plus Flask/waitress request handling in one "
            "Python process (GIL); the 4 clients run on the same 2 cores. A real site issues "
            "about 400 tickets a day, well under 1 a second even at the morning peak, so "
            "this is still hundreds of times what a site needs."),
        Row("latency p50 / p99", f"{_ms(r['p50'])} / {_ms(r['p99'])}"),
        Row("tickets issued", str(r["n"])),
        Row("failed requests", str(r["failures"]), "0", r["failures"] == 0, str(r["first_failure"])),
    ]
    return sec


def bench_stats(plan: dict, work: Path) -> Section:
    from server.devtools.benchlib.stats_scale import measure_stats
    sec = Section("Statistics at scale", (
        "History generated straight into the server's schema (server/devtools/benchlib/history.py: "
        "`executemany` in one transaction, 400 tickets a day, 16 counters, 2 events per ticket). "
        "Day view = `QueueService.day_stats` of the last day (what GET /api/v1/stats/day and the "
        "dashboard call); 30-day and one-year reports = `range_stats` over the last 30 / 365 days, "
        "reading each closed day's stored summary (`day_figures`, migration 060). Medians."))
    rows = measure_stats(work, plan["sizes"])
    base = rows[0]["day_ms"]
    for r in rows:
        label = f"{r['tickets']:,} tickets ({r['days']} days, {r['db_mb']:.0f} MB, loaded in {r['load_s']:.1f} s)"
        sec.rows.append(Row(f"day view, {label}", _ms(r["day_ms"]), "< 50 ms", r["day_ms"] < 50,
                            "The day view reads every ticket of the day in Python."))
        sec.rows.append(Row(f"30-day report, {r['tickets']:,} tickets", _ms(r["range_ms"])))
        sec.rows.append(Row(f"one-year report, {r['tickets']:,} tickets of history", _ms(r["year_ms"]),
                            "≤ 200 ms", r["year_ms"] <= 200,
                            "It reads one stored summary per closed day, but pools every ticket's wait "
                            "and service time (exact medians and p90s over the year): sorting and "
                            "summing them in Python grows with the tickets of the range."))
        sec.rows.append(Row(f"one-year report, first run (stores each closed day once), {r['tickets']:,}",
                            _ms(r["year_cold_ms"])))
    growth = rows[-1]["day_ms"] / base
    sec.rows.append(Row("day view growth, largest / smallest history", f"{growth:.2f}×",
                        "≤ 1.5× (flat)", growth <= 1.5,
                        "A query of the day view is not served by an index on service_day."))
    return sec


def bench_resources(plan: dict, work: Path) -> Section:
    from server.devtools.mosquitto import Mosquitto
    from server.devtools.benchlib.resources import measure_resources
    sec = Section("Resources after warm-up", (
        "Each program runs through its own CLI as a subprocess from its shipped example config "
        "(ports, site and paths changed): `lalopa server` with the MQTT bridge, `lalopa display "
        "run --windowed 1920x1080`, `lalopa kiosk run --windowed 1280x800`, `lalopa button run "
        "--no-keys`, under SDL dummy drivers and gpiozero's mock pins. RSS = VmRSS from "
        f"/proc/<pid>/status after 8 s; idle CPU = utime+stime from /proc/<pid>/stat over "
        f"{plan['idle_s']:.0f} s with no calls."))
    broker = Mosquitto(extra_config=BROKER_CONFIG).start()
    try:
        r = measure_resources(work, broker.port, idle_s=plan["idle_s"])
    finally:
        broker.cleanup()
    limits = {"server": 80, "board": 150, "kiosk": 150, "button box": 40}
    for name, limit in limits.items():
        if name in r["rss_mb"]:
            sec.rows.append(Row(f"{name} RSS", f"{r['rss_mb'][name]:.1f} MB", f"≤ {limit} MB",
                                r["rss_mb"][name] <= limit, "Python + its libraries at start-up."))
        else:
            sec.notes.append(f"{name}: not measured ({r['missing'].get(name, 'not started')}).")
    idle_why = {
        "board": "While the running text scrolls, the board redraws at ticker_fps (20 frames/s) "
                 "in software SDL; a slower ticker_fps or a narrower scrolling strip would bring "
                 "it under 2 %.",
        "kiosk": "The kiosk's frame loop redraws and flips the whole screen at screen.fps "
                 "(20 frames/s) even when nothing changed; drawing only on change (as the board "
                 "does) would bring it near 0 %."}
    for name, pct in r["idle_cpu_pct"].items():
        sec.rows.append(Row(f"{name} idle CPU", f"{pct:.1f} % of one core", "≤ 2 %", pct <= 2.0,
                            idle_why.get(name, "")))
    return sec


def bench_cost(plan: dict, work: Path) -> Section:
    from server.devtools.mosquitto import Mosquitto
    from server.devtools.benchlib.cost import measure_cost, measure_live
    sec = Section("Cost per event through the day", (
        "The real QueueService and Bridge in one process publishing to a private Mosquitto; "
        "the day already holds 400 or 15,000 tickets (history written straight into the schema "
        "for today) and 300+ waiting. CPU = `time.process_time()` of the process (request, "
        "bridge worker and paho threads) over "
        f"{plan['cost_ops']} `next` presses (each waited for until its call and the retained "
        f"state it touched are published), then {plan['cost_ops']} issues, per operation. Live "
        "view = one `dashboard_snapshot` build (shared by every open stream), median of 10, "
        "right after a change."))
    broker = Mosquitto(extra_config=BROKER_CONFIG).start()
    try:
        rows = {n: measure_cost(work, broker.port, n, calls=plan["cost_ops"], issues=plan["cost_ops"])
                for n in (400, 15_000)}
    finally:
        broker.cleanup()
    live = {n: measure_live(work, n) for n in (400, 15_000)}
    lo, hi = rows[400], rows[15_000]
    why = ("The queue summary every change republishes carries the wait estimate "
           "(server/eta.py, issue 16). Its reads of the day are kept by triggers or bounded by "
           "index (flat); what still grows is its simulation of the queue (a busier day puts more "
           "priority residents ahead, so more steps) and the half-hour arrival count read row by "
           "row. At 400 tickets a call already costs more than 3 ms: the bridge's publishing and "
           "the MQTT client, not yet measured apart. The board, the counter states and the counts "
           "read the kept day counts (flat).")
    for key, label in (("call_ms", "call"), ("issue_ms", "issue")):
        ratio = hi[key] / lo[key]
        sec.rows.append(Row(f"server CPU per {label}, 400 / 15,000 tickets today",
                            f"{lo[key]:.2f} / {hi[key]:.2f} ms ({ratio:.2f}×)", "≤ 1.2× and ≤ 3 ms",
                            ratio <= 1.2 and hi[key] <= 3.0, why))
    ratio = live[15_000]["snapshot_ms"] / live[400]["snapshot_ms"]
    sec.rows.append(Row("live view snapshot, 400 / 15,000 tickets today",
                        f"{live[400]['snapshot_ms']:.1f} / {live[15_000]['snapshot_ms']:.1f} ms ({ratio:.1f}×)"))
    sec.rows.append(Row("of which the queue summary (wait estimate), 400 / 15,000",
                        f"{live[400]['summary_ms']:.1f} / {live[15_000]['summary_ms']:.1f} ms"))
    sec.rows.append(Row("today's full statistics (rebuilt within a tenth of a core), 400 / 15,000",
                        f"{live[400]['day_ms']:.0f} / {live[15_000]['day_ms']:.0f} ms"))
    return sec


def bench_voice(plan: dict, work: Path) -> Section:
    from server.devtools.mosquitto import Mosquitto
    from server.devtools.benchlib.voicebench import measure_voice
    sec = Section("Heard in time", (
        "The real BoardApp (espeak-ng, default voice settings, no voice pack) in its own process "
        "under SDL's disk audio driver (`SDL_AUDIODRIVER=disk`, `SDL_DISKAUDIOFILE`): the mixer "
        "writes what it plays in real time. The real QueueService and Bridge publish the calls "
        "made by `next` commands a box client sends over a private Mosquitto. First one lone call, "
        "then 16 counters pressing at once. Press = when the box published; end = when the board "
        "saw its announcement's channel go idle."))
    broker = Mosquitto(extra_config=BROKER_CONFIG).start()
    try:
        r = measure_voice(broker.port, work)
    finally:
        broker.cleanup()
    lengths = r["burst_lengths_s"]
    last = max(r["burst_delays_s"]) if r["burst_delays_s"] else float("inf")
    sec.rows += [
        Row("lone call: announcement (chime + sentence)", f"{r['lone_length_s']:.1f} s",
            "speech ≤ 4 s", r["lone_length_s"] <= 4.0 + 1.0,
            "The chime adds 0.7 s and a 0.3 s pause before the sentence."),
        Row("burst: each call while others wait (short form), median / max",
            f"{statistics.median(lengths[:-1] or [0]):.1f} / {max(lengths[:-1] or [0]):.1f} s",
            "≤ 4 s", max(lengths[:-1] or [0]) <= 4.0),
        Row("burst: the last call, heard alone (full form with the chime)", f"{lengths[-1]:.1f} s"),
        Row("burst of 16: last announcement ends after its press", f"{last:.1f} s", "≤ 40 s", last <= 40.0),
        Row("burst: calls announced", f"{r['announced']} of 16", "16", r["announced"] == 16),
        Row("audio written by the disk driver", f"{r['audio_file_s']:.1f} s"),
    ]
    sec.notes.append(f"Lone call said: “{r['lone_text']}”; in the burst: “{r['burst_texts'][1]}” "
                     "(short form while others wait behind it).")
    return sec


SOAK_WHY = {
    "server": "Not explained yet: SQLite keeps up to 2 MB of page cache per connection (the writer "
              "and each thread's reader) and the database grows by the day's tickets; whether the "
              "rest is Python's heap was not measured. Compare the half-way figure: growth that "
              "slows is caches filling, growth that keeps its pace is a leak.",
    "board": "The rendered-text cache is bounded (one screen of pixels, about 8 MB at 1080p; a busy "
             "frame uses about 4 MB) and fills during the day; compare the half-way figure.",
}


def bench_soak(plan: dict, work: Path) -> Section:
    from server.devtools.mosquitto import Mosquitto
    from server.devtools.benchlib.soak import measure_soak
    sec = Section("Soak: a busy week through the real programs", (
        "`lalopa server` (with the bridge), `lalopa display run --windowed 1920x1080` (voice on, "
        "SDL dummy audio) and `lalopa kiosk run` as their own processes from the shipped example "
        "configs. Time-compressed week: the database already holds six past days of 2,000 tickets; "
        f"today {plan['soak_calls']:,} calls are made after a 1,000-call warm-up (a morning: the "
        "board's bounded caches and SQLite's page caches fill), as fast as the press rate allows "
        "(tickets issued over HTTP, `next` pressed over the bus, 16 counters in turn). RSS = VmRSS "
        "after the warm-up, half way and after the calls. The processes run on the real clock, "
        "so the service day does not change during the run (a new day is covered by the tests)."))
    broker = Mosquitto(extra_config=BROKER_CONFIG).start()
    try:
        r = measure_soak(work, broker.port, plan["soak_calls"])
    finally:
        broker.cleanup()
    for name in ("board", "kiosk", "server"):
        warm, after = r["rss_warm_mb"].get(name), r["rss_after_mb"].get(name)
        if warm is None or after is None:
            sec.notes.append(f"{name}: not measured.")
            continue
        half = r["rss_half_mb"].get(name, after)
        flat = after <= 1.1 * warm
        sec.rows.append(Row(f"{name} RSS after warm-up → half way → after {r['calls']:,} calls",
                            f"{warm:.1f} → {half:.1f} → {after:.1f} MB ({after / warm:.2f}×)",
                            "≤ 1.1× and ≤ 80 MB", flat and after <= 80.0, SOAK_WHY.get(name, "")))
    sec.rows.append(Row("calls made", f"{r['calls']:,} in {r['seconds']:.0f} s"))
    if r["exited"]:
        sec.notes.append(f"Exited during the run: {r['exited']}.")
    return sec


CITY_TITLE = "City view: 80 sites, one centre"


def bench_city(plan: dict, work: Path) -> Section:
    from server.devtools.benchlib.city import measure_city
    sec = Section(CITY_TITLE, (
        "Issue 18 (docs/CITY.md). `lalopa central serve` (PostgreSQL on 127.0.0.1, a database made "
        "for the run) behind a central Mosquitto whose site listener speaks TLS. 3 real sites "
        "(Mosquitto bridged through a loopback link, `lalopa server`, `lalopa central uplink`) and "
        "77 recorded sites: a site database holding a recorded puskesmas day (274 tickets, 6 "
        "counters, half the residents in the first two hours, 8 % no-shows), sent by the real "
        "Uplink logged in to the central broker with the site's own credential. Delay = the "
        "centre's receive time minus the site's commit time of each `called` event, for calls made "
        "through the real sites' HTTP API; the dashboard page adds up to its 1 s refresh. The year "
        "report is `views.report` over a year of daily aggregates computed by the production "
        "`refresh_daily` from about 8 million tickets (80 sites × 365 days × 274) written into "
        "the centre's tickets table by SQL."))
    r = measure_city(work, year_days=plan.get("city_days", 365))
    need = r["peak_per_min_site"] * r["sites"] / 60
    ing = r["ingest"]
    sec.rows.append(Row("city peak need (busiest minute × 80 sites)", f"{need:.1f} events/s"))
    sec.rows.append(Row(f"central ingest, {ing['sites']} sites sending a whole day at once",
                        f"{ing['per_s']:.0f} events/s ({ing['events']:,} events in {ing['seconds']:.1f} s)",
                        "≥ 10× peak need", ing["per_s"] >= 10 * need,
                        "Each site's uplink waits for the centre's ack every 600 events."))
    for key, label in (("delay_quiet", "quiet"),
                       ("delay_busy", "calls from the moment 10 sites come back after an hour")):
        d = sorted(r[key])
        if not d:
            sec.rows.append(Row(f"call → centre delay ({label})", "no calls measured", "≤ 1 s", False))
            continue
        p95 = d[min(len(d) - 1, int(0.95 * len(d)))]
        sec.rows.append(Row(f"call → centre delay ({label}), p50 / p95 / max of {len(d)} calls",
                            f"{statistics.median(d):.2f} / {p95:.2f} / {d[-1]:.2f} s",
                            "max ≤ 1 s (+ 1 s page refresh ≤ 2 s)", d[-1] <= 1.0,
                            "Calls queue behind the catch-up's batches in the centre's one ingest loop."))
    c = r["catchup"]
    sec.rows.append(Row(f"catch-up after a 1-hour outage of {c['sites']} sites (from their reconnect)",
                        f"{c['seconds']:.1f} s ({c['events']:,} events)", "≤ 60 s", c["seconds"] <= 60,
                        "The uplinks resume after the centre's ack and read on from their logs."))
    y = r["year"]
    sec.rows.append(Row(f"one-year report across {y['sites']} sites, by site",
                        f"{y['site_ms']:.0f} ms ({y['issued']:,} tickets)", "≤ 1 s", y["site_ms"] <= 1000,
                        "The report sums one row per site, day and service."))
    sec.rows.append(Row("one-year report, by service cluster", f"{y['cluster_ms']:.0f} ms", "≤ 1 s",
                        y["cluster_ms"] <= 1000))
    sec.rows.append(Row("city live view (every site)", f"{r['live_ms']:.0f} ms"))
    sec.notes.append(f"Year of tickets written in {y['load_s']:.0f} s; daily aggregates of all of "
                     f"them recomputed by refresh_daily in {y['aggregate_s']:.0f} s (a one-off: "
                     "ingest refreshes only the days a batch touched).")
    return sec


PARTS = {"latency": bench_latency, "http": bench_http, "stats": bench_stats,
         "resources": bench_resources, "cost": bench_cost, "voice": bench_voice, "soak": bench_soak,
         "city": bench_city}


def _run_part(name: str, plan: dict, work: Path) -> Section:
    part_dir = work / name
    part_dir.mkdir()
    t0 = time.monotonic()
    try:
        sec = PARTS[name](plan, part_dir)
    except Exception as exc:  # one broken part must not hide the others
        traceback.print_exc()
        sec = Section(name, "", error=f"{type(exc).__name__}: {exc}"[:300])
    print(f"lalopa bench: {name} done in {time.monotonic() - t0:.0f} s", file=sys.stderr, flush=True)
    return sec


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="lalopa bench", description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="smaller runs (about a minute)")
    p.add_argument("--out", default="docs/BENCHMARKS.md", help="report file (Markdown)")
    p.add_argument("--only", action="append", choices=sorted(PARTS), help="run only these parts")
    p.add_argument("--city", action="store_true",
                   help="run only the city part and replace its section in the existing report")
    p.add_argument("--merge", action="store_true",
                   help="write only the parts run into the existing report, keeping the others")
    args = p.parse_args(argv)
    if args.city:
        return _city_only(args)
    if args.merge:
        return _merge_parts(args)
    from server.devtools.benchlib.machine import machine_facts
    plan = QUICK if args.quick else FULL
    facts = machine_facts()
    work = Path(tempfile.mkdtemp(prefix="lalopa-bench-"))
    t0 = time.monotonic()
    try:
        sections = [_run_part(name, plan, work) for name in (args.only or PARTS)]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    from server.devtools.benchlib.machine import load_average
    facts["Load average at end"] = load_average()
    text = render(facts, sections, "quick" if args.quick else "full", time.monotonic() - t0)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text, encoding="utf-8")
    print(f"lalopa bench: wrote {args.out}", file=sys.stderr)
    return 0


def _merge_parts(args) -> int:
    """The parts named by --only, each merged into the report the other parts wrote."""
    from server.devtools.benchlib.report import merge_section, refresh_summary
    plan = QUICK if args.quick else FULL
    work = Path(tempfile.mkdtemp(prefix="lalopa-bench-merge-"))
    try:
        sections = [_run_part(name, plan, work) for name in (args.only or PARTS)]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    out = Path(args.out)
    text = out.read_text(encoding="utf-8") if out.exists() else ""
    for sec in sections:
        text = merge_section(text, sec)
    out.write_text(refresh_summary(text), encoding="utf-8")
    print(f"lalopa bench: wrote {', '.join(s.title for s in sections)} into {args.out}", file=sys.stderr)
    return 0


def _city_only(args) -> int:
    """The city section alone, merged into the report the other parts wrote."""
    from server.devtools.benchlib.report import merge_section
    work = Path(tempfile.mkdtemp(prefix="lalopa-bench-city-"))
    try:
        sec = _run_part("city", QUICK if args.quick else FULL, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    out = Path(args.out)
    out.write_text(merge_section(out.read_text(encoding="utf-8") if out.exists() else "", sec),
                   encoding="utf-8")
    print(f"lalopa bench: wrote the city section into {args.out}", file=sys.stderr)
    return 0
