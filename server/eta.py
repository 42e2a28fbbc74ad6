"""The wait estimate a resident is given: a range, not a promise of one number.

docs/ETA.md explains the model and shows how well it holds (``lalopa eta-backtest``).

The desk is read as it is now (:func:`read_desk`) and played forward along its
*mean path* (:func:`mean_path`): every open counter that serves the service,
with its own preference order; the site's priority policy (the same
:func:`server.policy.choose` the counters use, with today's interleave streak);
the ticket each counter is busy with (its remaining time given how long it has
already taken); recent service times by service; today's no-show share (a
no-show costs the counter the recall time, not a service); and the residents
still expected to arrive (at the last half hour's rate) who will be called
before this one: priority residents under the policy, and residents of a
service a shared counter prefers. The path gives the expected wait ``W`` and
how many calls the desk makes before this resident.

Around ``W`` the wait spreads: with ``n`` calls before it, the relative spread
is about ``cv/sqrt(n+1)`` (Whitt: the wait is a sum of ``n+1`` departure gaps),
plus a model error ``MODEL_CV`` for what no snapshot can see (a counter
pausing for lunch, a slow case). The wait is taken as log-normal with that
mean and spread; the upper end of the printed range is its ``UPPER_Q``
quantile, calibrated on the backtest days so that about one resident in ten
waits longer. The printed range is centred on the median (the value that
minimises the absolute error): ``low = max(0, 2·median − high)``.
"""
from __future__ import annotations

import collections
import heapq
import math
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timezone

from server import stats
from server.config import WEEKDAYS, Site
from server.policy import choose, next_streak

DEFAULT_SERVICE_S = 300      # a service's time until it has finished tickets today
RECENT_N = 20                # service times: the last N finished tickets of the service
DEFAULT_NO_SHOW_S = 120.0    # what a no-show costs a counter (the recall wait) until seen today
DEFAULT_WALK_S = 30.0        # call → start (walking up) until seen today
# Prior for today's no-show share: as if 1 of 14 called residents had not come forward.
NO_SHOW_PRIOR = (1.0, 14.0)
ARRIVAL_WINDOW_MS = 30 * 60 * 1000   # future arrivals at the rate of the last half hour
PAUSE_GUESS_S = 15 * 60      # a paused counter is expected back this long after it paused
PAUSE_OVERDUE_S = 5 * 60     # ... or this long from now when it is already overdue
HORIZON_S = 12 * 3600        # the path stops here (a service no counter will reach)
# Calibrated on the simulated backtest days (docs/ETA.md): the model error of a
# snapshot, and the quantile printed as the upper end.
MODEL_CV = 0.33
UPPER_Q_Z = 1.80             # calibrated: the model's 96th percentile is the printed upper end
MIN_SPREAD_S = 180.0         # the upper end is at least this far above the expected wait


@dataclass(frozen=True)
class Estimate:
    """A wait estimate in seconds: the printed range and its centre."""

    low_s: int
    mid_s: int
    high_s: int
    calls_before: int        # calls the desk makes before this resident, on the mean path
    counters: int            # open or paused counters that serve the service

    def as_fields(self) -> dict:
        return {"est_wait_s": self.mid_s, "est_low_s": self.low_s, "est_high_s": self.high_s}


@dataclass
class CounterNow:
    number: int
    services: tuple[str, ...]
    free_in_s: float          # seconds from now until it can call (0: now)


@dataclass
class Desk:
    """Everything the estimate reads, at one moment."""

    now_ms: int
    waiting: dict[str, list[tuple[int, bool]]]       # service -> [(queue_order, priority)] in order
    counters: list[CounterNow]
    service_s: dict[str, list[float]]                # recent service times by service
    no_show_share: float
    no_show_s: float
    walk_s: float
    arrivals_per_s: dict[tuple[str, bool], float]    # (service, priority) -> rate
    streak: dict[str, int] = field(default_factory=dict)

    def mean_s(self, service: str) -> float:
        times = self.service_s.get(service) or []
        return sum(times) / len(times) if times else float(DEFAULT_SERVICE_S)

    def cv2(self, service: str) -> float:
        times = self.service_s.get(service) or []
        if len(times) < 3:
            return 0.5
        m = sum(times) / len(times)
        var = sum((x - m) ** 2 for x in times) / (len(times) - 1)
        return var / (m * m) if m > 0 else 0.5

    def slot_s(self, service: str) -> float:
        """The counter time one call of ``service`` takes on average."""
        q = self.no_show_share
        return (1 - q) * (self.walk_s + self.mean_s(service)) + q * self.no_show_s


# ----------------------------------------------------------------- reading the desk

def read_desk(conn: sqlite3.Connection, site: Site, day: str, now_ms: int) -> Desk:
    """The desk now, from the tickets and counter tables (indexed, today only)."""
    waiting: dict[str, list[tuple[int, bool]]] = {s.prefix: [] for s in site.services}
    for r in conn.execute("SELECT service, queue_order, priority FROM tickets INDEXED BY tickets_day_status"
                          " WHERE service_day = ?"
                          " AND status = 'waiting' ORDER BY queue_order", (day,)):
        waiting.setdefault(r[0], []).append((r[1], r[2] is not None))
    times: dict[str, list[float]] = {}
    for svc in site.services:
        times[svc.prefix] = _recent_times(conn, day, svc.prefix)
    done, ns, ns_ms, walk_ms, walk_n = finished_figures(conn, day)
    share = (ns + NO_SHOW_PRIOR[0]) / (done + ns + NO_SHOW_PRIOR[1])
    no_show_s = (ns_ms / 1000 / ns) if ns and ns_ms is not None else DEFAULT_NO_SHOW_S
    walk_s = (walk_ms / 1000 / walk_n) if walk_n and walk_ms is not None else DEFAULT_WALK_S
    desk = Desk(now_ms, waiting, [], times, share, max(0.0, no_show_s), max(0.0, walk_s), {})
    # Over the whole half hour even just after opening: a burst of the first few
    # numbers is not a rate that lasts (and would starve normal residents on paper).
    since, window_s = now_ms - ARRIVAL_WINDOW_MS, ARRIVAL_WINDOW_MS / 1000
    # INDEXED BY: without ANALYZE figures SQLite may pick the (service_day, prefix, number)
    # index and read the whole day; the issue-time index reads the half hour only.
    for r in conn.execute("SELECT prefix, priority IS NOT NULL, COUNT(*) FROM tickets"
                          " INDEXED BY tickets_day_issued WHERE service_day = ?"
                          " AND issued_ms > ? GROUP BY 1, 2", (day, since)):
        desk.arrivals_per_s[(r[0], bool(r[1]))] = r[2] / window_s
    for r in conn.execute("SELECT key, value FROM state WHERE key LIKE ?", (f"streak:{day}:%",)):
        desk.streak[r[0].rsplit(":", 1)[1]] = int(r[1])
    states = {r["counter"]: r for r in conn.execute(
        "SELECT counter, status, since_ms FROM counter_state WHERE service_day = ?", (day,))}
    busy = {r[0]: r for r in conn.execute(
        "SELECT counter, service, status, last_called_ms, started_ms FROM tickets"
        " INDEXED BY tickets_day_status WHERE service_day = ?"
        " AND status IN ('called', 'serving') AND counter IS NOT NULL", (day,))}
    for c in site.counters:
        st = states.get(c.number)
        if st is None or st["status"] == "closed":
            continue
        if st["status"] == "paused":
            back = (st["since_ms"] - now_ms) / 1000 + PAUSE_GUESS_S
            free = back if back > 0 else PAUSE_OVERDUE_S
        else:
            b = busy.get(c.number)
            free = _remaining(desk, b[1], b[2], now_ms, b[3], b[4]) if b else 0.0
        desk.counters.append(CounterNow(c.number, c.services, free))
    return desk


def finished_figures(conn: sqlite3.Connection, day: str) -> tuple:
    """(done, no_show, Σ no-show recall ms, Σ walk-up ms, started) of ``day``'s finished tickets.

    Read from the row the day_finished triggers keep with every ticket change (one row,
    whatever the day's volume); a sum is None when no ticket gave it a value, as a SQL
    SUM over the tickets would be. :func:`finished_figures_scan` is the same from the
    tickets themselves (the tests hold the two equal)."""
    row = conn.execute("SELECT done, no_show, ns_ms, ns_ms_n, walk_ms, walk_ms_n, walk_n"
                       " FROM day_finished WHERE service_day = ?", (day,)).fetchone()
    if row is None:
        return 0, 0, None, None, 0
    done, ns, ns_ms, ns_ms_n, walk_ms, walk_ms_n, walk_n = tuple(row)
    return done, ns, (ns_ms if ns_ms_n else None), (walk_ms if walk_ms_n else None), walk_n


def finished_figures_scan(conn: sqlite3.Connection, day: str) -> tuple:
    """:func:`finished_figures` counted from every finished ticket of ``day`` (a scan)."""
    done, ns, ns_ms, walk_ms, walk_n = conn.execute(
        "SELECT SUM(status = 'done'), SUM(status = 'no_show'),"
        " SUM(CASE WHEN status = 'no_show' THEN finished_ms - last_called_ms END),"
        " SUM(CASE WHEN started_ms IS NOT NULL THEN started_ms - last_called_ms END),"
        " SUM(started_ms IS NOT NULL)"
        " FROM tickets WHERE service_day = ? AND status IN ('done', 'no_show')", (day,)).fetchone()
    return done or 0, ns or 0, ns_ms, walk_ms, walk_n or 0


def _recent_times(conn: sqlite3.Connection, day: str, service: str) -> list[float]:
    """Service times of the last RECENT_N tickets of ``service`` finished today."""
    rows = stats.with_segments(conn, day, conn.execute(
        "SELECT id, status, finished_ms, started_ms, first_called_ms FROM tickets"
        " INDEXED BY tickets_finished WHERE service_day = ?"
        " AND service = ? AND status = 'done' ORDER BY finished_ms DESC LIMIT ?",
        (day, service, RECENT_N)).fetchall())
    return [s for s in map(stats.service_s, rows) if s is not None]


def _remaining(desk: Desk, service: str, status: str, now_ms: int, called_ms, started_ms) -> float:
    """Seconds until a counter's current ticket is done, given how long it has run."""
    if status == "called":
        gone = max(0.0, (now_ms - (called_ms or now_ms)) / 1000)
        return max(0.0, desk.walk_s - gone) + (1 - desk.no_show_share) * desk.mean_s(service)
    gone = max(0.0, (now_ms - (started_ms or now_ms)) / 1000)
    longer = [t - gone for t in desk.service_s.get(service) or [] if t > gone]
    if longer:  # the mean remaining time of the recent services that ran this long
        return sum(longer) / len(longer)
    return max(30.0, 0.3 * desk.mean_s(service))


# ----------------------------------------------------------------- the mean path

class _Fifo:
    """One queue of the mean path: the residents waiting now (by queue order, and ``ME``),
    then ``arrived`` expected arrivals, who join behind all of them and are counted, not
    listed (a busy day expects thousands along one path)."""

    __slots__ = ("named", "arrived")

    def __init__(self) -> None:
        self.named: collections.deque = collections.deque()
        self.arrived = 0

    def __bool__(self) -> bool:
        return bool(self.named) or self.arrived > 0

    def popleft(self) -> int:
        if self.named:
            return self.named.popleft()
        self.arrived -= 1
        return 0   # an arrival (never ME)


def mean_path(site: Site, desk: Desk, service: str, priority: bool,
              queue_order: int | None = None) -> tuple[float | None, int]:
    """(expected seconds until the resident is called, calls before it) along the mean path.

    ``queue_order`` None: a resident who takes a number now (behind everyone).
    Returns (None, 0) when no open or paused counter serves ``service``.
    """
    if not any(service in c.services for c in desk.counters):
        return None, 0
    ME = -1   # the resident's place in its FIFO; everyone else is counted, not named
    # Per service and class (normal False, priority True): a FIFO of queue orders.
    queues: dict[tuple[str, bool], _Fifo] = {}
    for s, items in desk.waiting.items():
        for o, p in items:
            if not (s == service and o == queue_order):
                queues.setdefault((s, p), _Fifo()).named.append(o)
    mine = queues.setdefault((service, priority), _Fifo()).named
    if queue_order is None:
        mine.append(ME)
    else:   # its place among the others of its class (both are in queue order)
        place = sum(1 for o in mine if o < queue_order)
        mine.insert(place, ME)
    # Expected arrivals as fluid: whole residents join when their share reaches 1.
    pending = {k: 0.0 for k in desk.arrivals_per_s}
    slot = {s.prefix: desk.slot_s(s.prefix) for s in site.services}
    free = [(c.free_in_s, i) for i, c in enumerate(desk.counters)]
    heapq.heapify(free)
    streak = dict(desk.streak)
    ratio, policy = site.priority_ratio, site.priority_policy
    t_last, calls = 0.0, 0
    for _ in range(20000):
        if not free:
            return None, calls
        t, i = heapq.heappop(free)
        if t > HORIZON_S:
            return None, calls
        for key, rate in desk.arrivals_per_s.items():
            pending[key] += rate * (t - t_last)
            if pending[key] >= 1.0:
                # Exactly what taking 1.0 off one resident at a time leaves (each such step
                # is exact in binary floating point), in one step: a busy day's arrival
                # rate then costs nothing per expected resident.
                whole = math.floor(pending[key])
                pending[key] -= whole
                fifo = queues.get(key)
                if fifo is None:
                    fifo = queues[key] = _Fifo()
                fifo.arrived += whole
        t_last = t
        counter = desk.counters[i]
        picked = None
        for s in counter.services:
            normal, prio = queues.get((s, False)), queues.get((s, True))
            st = streak.get(s, ratio)
            ch = choose(policy, ratio, st, 0 if normal else None, 1 if prio else None)
            if ch is None:
                continue
            streak[s] = next_streak(st, ch)
            picked = (s, prio if ch.priority_class else normal)
            break
        if picked is None:
            # Idle until someone it serves may arrive (at least a minute on).
            rate = sum(r for (s, _), r in desk.arrivals_per_s.items() if s in counter.services)
            if rate > 0 or service in counter.services:
                heapq.heappush(free, (t + max(60.0, 1.0 / rate if rate > 0 else 60.0), i))
            continue
        s, fifo = picked
        if fifo.popleft() == ME:
            return t, calls
        calls += 1
        heapq.heappush(free, (t + slot[s], i))
    return None, calls


def estimate(site: Site, desk: Desk, service: str, priority: bool,
             queue_order: int | None = None) -> Estimate | None:
    """The range for a resident of ``service`` (None: no open or paused counter serves it)."""
    serving = sum(1 for c in desk.counters if service in c.services)
    if not serving:
        return None
    w, calls = mean_path(site, desk, service, priority, queue_order)
    if w is None:  # not reached within the horizon (e.g. starved under strict priority)
        w = float(HORIZON_S)
    cv2 = (desk.cv2(service) + 1.0) / 2       # between one counter (cv²) and many (Poisson, 1)
    rel2 = cv2 / (calls + 1) + MODEL_CV ** 2
    sigma = math.sqrt(math.log1p(rel2))
    mean = max(w, 1.0)
    median = mean / math.sqrt(1 + rel2)
    high = max(median * math.exp(UPPER_Q_Z * sigma), w + MIN_SPREAD_S)
    low = max(0.0, 2 * median - high)
    mid = (low + high) / 2
    return Estimate(int(round(low)), int(round(mid)), int(round(high)), calls, serving)


def for_ticket(conn: sqlite3.Connection, site: Site, row: sqlite3.Row, now_ms: int) -> Estimate | None:
    """The estimate of a waiting ticket (None: nobody serves its service now)."""
    desk = read_desk(conn, site, row["service_day"], now_ms)
    return estimate(site, desk, row["service"], row["priority"] is not None, row["queue_order"])


def for_new(conn: sqlite3.Connection, site: Site, day: str, now_ms: int,
            desk: Desk | None = None) -> dict[str, dict]:
    """Per service, what a resident taking a number now is told (normal and priority)."""
    desk = desk or read_desk(conn, site, day, now_ms)
    out = {}
    for svc in site.services:
        normal = estimate(site, desk, svc.prefix, False)
        prio = estimate(site, desk, svc.prefix, True)
        out[svc.prefix] = {"normal": normal, "priority": prio}
    return out


def past_closing(site: Site, now_ms: int, wait_s: int) -> bool:
    """True when ``now + wait_s`` falls after today's closing time (False without hours)."""
    moment = datetime.fromtimestamp(now_ms / 1000, tz=timezone.utc).astimezone(site.tz)
    span = site.hours.get(WEEKDAYS[moment.weekday()])
    if not span:
        return False
    closes = moment.replace(hour=span[1].hour, minute=span[1].minute, second=0, microsecond=0)
    return (moment.timestamp() + wait_s) > closes.timestamp()


# ----------------------------------------------------------------- the old estimate (for comparison)

def naive_wait(conn: sqlite3.Connection, site: Site, day: str, service: str, ahead: int) -> int:
    """The estimate this module replaced, kept only as the backtest's yardstick:
    ahead × mean of the last 20 service times ÷ open counters serving the service."""
    times = _recent_times(conn, day, service)
    mean = sum(times) / len(times) if times else DEFAULT_SERVICE_S
    marks = [c.number for c in site.counters if service in c.services]
    open_n = 0
    if marks:
        q = ",".join("?" * len(marks))
        open_n = conn.execute(f"SELECT COUNT(*) FROM counter_state WHERE service_day = ? AND"
                              f" status = 'open' AND counter IN ({q})", (day, *marks)).fetchone()[0]
    return int(round(ahead * mean / max(1, open_n)))


# ----------------------------------------------------------------- what the kiosk is told

def summary_fields(site: Site, svc, told: dict, now_ms: int) -> dict:
    """The queue summary's estimate fields of one service (broker.protocol.ServiceSummary)."""
    normal, prio = told["normal"], told["priority"]
    out = {"est_wait_s": None, "est_low_s": None, "est_high_s": None, "prio_low_s": None,
           "prio_high_s": None, "served_by": normal.counters if normal else 0, "cutoff": "ok"}
    if normal is not None:
        out.update(normal.as_fields())
        if svc.cutoff != "off" and past_closing(site, now_ms, normal.mid_s):
            out["cutoff"] = svc.cutoff
    if prio is not None:
        out.update(prio_low_s=prio.low_s, prio_high_s=prio.high_s)
    return out
