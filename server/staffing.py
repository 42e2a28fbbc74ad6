"""How many counters each hour of each weekday needs, from the site's own history.

The steps, for every weekday and opening hour:

1. **Measure** (:func:`measure`): from the last :data:`HISTORY_DAYS` days,
   the mean arrivals in that hour on that weekday (λ), the mean service time
   (1/μ, per hour when enough tickets, else the weekday's or the site's), and
   the rate at which waiting residents give up (θ: tickets marked no-show,
   who were gone when called, divided by the time all tickets spent waiting;
   the wait until the call is an upper bound of the no-show's patience, so θ
   is slightly underestimated).
2. **Start** with square-root staffing, ``c = ceil(a + β·√a)`` with the
   offered load ``a = λ/μ`` (:data:`SQRT_BETA`).
3. **Model**: the fewest counters whose service level meets the target by
   Erlang-C (M/M/c, nobody leaves) and by Erlang-A (M/M/c+M, residents leave
   at rate θ). The service level is the share of arrivals *called* within the
   target wait; a resident who leaves first counts as not called.
4. **Check by simulation** (:func:`simulate_day`): the whole opening day of
   that weekday is simulated with its measured hourly rates, so a morning
   peak's queue carries into the next hour as it does at the counter. Hour by
   hour, in order, an hour whose residents are not called in time gets one
   more counter until they are. The model's count is the floor: a simulated
   day that starts an hour with an emptier hall than the load keeps it could
   get by with fewer for a while, which is luck, not a plan.

With too little history (fewer than :data:`MIN_DAYS` days of that weekday,
or fewer than :data:`MIN_SERVED` served tickets in all) the advice says so
and gives no number.

The same target as the reports: the site's ``target_wait_min`` and
:data:`TARGET_SHARE` of residents called within it.
"""
from __future__ import annotations

import heapq
import math
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from server.config import WEEKDAYS

#: Share of residents to be called within the site's target wait.
TARGET_SHARE = 0.90
HISTORY_DAYS = 56            # eight weeks: each weekday seen eight times
MIN_DAYS = 3                 # days of a weekday needed before advising for it
MIN_SERVED = 30              # served tickets needed for a service-time estimate
MIN_HOUR_SERVED = 20         # served tickets in one hour-cell to use that hour's own mean
SQRT_BETA = 1.0              # square-root staffing's safety factor (a starting point only)
SIM_DAYS = 24                # simulated days per check (fixed seed: the same answer each run)
MAX_COUNTERS = 64            # never advise more (broker.texts.MAX_COUNTERS is the site's limit)


# -- queueing formulas -----------------------------------------------------------

def erlang_c(c: int, a: float) -> float:
    """Probability that an arrival waits (Erlang C), for ``c`` servers and offered load ``a``."""
    if c <= a:
        return 1.0
    # Erlang B by its stable recursion, then C from B.
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return c * b / (c - a * (1 - b))


def service_level_c(c: int, lam: float, mu: float, t: float) -> float:
    """Erlang-C share of arrivals whose wait is at most ``t`` (same time unit as the rates)."""
    a = lam / mu
    if c <= a:
        return 0.0
    return 1.0 - erlang_c(c, a) * math.exp(-(c * mu - lam) * t)


def service_level_a(c: int, lam: float, mu: float, theta: float, t: float) -> float:
    """Erlang-A (M/M/c+M) share of arrivals *called* within ``t``.

    An arrival finds ``n`` residents (time averages, by PASTA); with ``k = n - c``
    ahead of it, it moves forward at rate ``c·mu + j·theta`` (j ahead) and gives
    up at rate ``theta``. The chance of reaching a counter within ``t`` comes
    from that small absorbing chain, uniformised (a Poisson-weighted sum of
    step probabilities), which stays exact and stable in plain Python.
    """
    if theta <= 0:
        return service_level_c(c, lam, mu, t)
    probs = _stationary(c, lam, mu, theta)
    called_at_once = sum(probs[:c])
    queue = probs[c:]
    if not queue:
        return called_at_once
    k_max = len(queue) - 1
    rate = c * mu + (k_max + 1) * theta           # the fastest total rate of the chain
    steps = _poisson_weights(rate * t)
    # f[j + 1]: probability of having reached a counter within n steps from j ahead.
    f = [1.0] + [0.0] * (k_max + 1)
    reached = [0.0] * (k_max + 1)
    for weight in steps:
        for k in range(k_max + 1):
            reached[k] += weight * f[k + 1]
        nxt = [1.0]
        for j in range(k_max + 1):
            forward = (c * mu + j * theta) / rate
            stay = 1.0 - forward - theta / rate
            nxt.append(forward * f[j] + stay * f[j + 1])
        f = nxt
    return called_at_once + sum(p * reached[k] for k, p in enumerate(queue))


def _stationary(c: int, lam: float, mu: float, theta: float, eps: float = 1e-10) -> list[float]:
    """Birth-death stationary probabilities of M/M/c+M, cut where the tail is negligible."""
    terms = [1.0]
    n = 0
    while True:
        n += 1
        death = min(n, c) * mu + max(n - c, 0) * theta
        terms.append(terms[-1] * lam / death)
        if n > c and terms[-1] < eps * sum(terms) or n > 2000:
            break
    total = sum(terms)
    return [x / total for x in terms]


def _poisson_weights(m: float) -> list[float]:
    """Poisson(m) probabilities for 0..N, N far enough into the tail (mass < 1e-10 left)."""
    out, p, n = [], math.exp(-m) if m < 700 else 0.0, 0
    if p == 0.0:  # large m: start at the mode in log space
        return _poisson_weights_log(m)
    acc = 0.0
    while acc < 1 - 1e-10 and n < 10_000:
        out.append(p)
        acc += p
        n += 1
        p *= m / n
    return out


def _poisson_weights_log(m: float) -> list[float]:
    hi = int(m + 12 * math.sqrt(m) + 10)
    return [math.exp(-m + n * math.log(m) - math.lgamma(n + 1)) for n in range(hi)]


def sqrt_staffing(lam: float, mu: float, beta: float = SQRT_BETA) -> int:
    a = lam / mu
    return max(1, math.ceil(a + beta * math.sqrt(a))) if a > 0 else 0


def fewest(level, target: float, start: int) -> int:
    """The fewest counters ``c >= 1`` with ``level(c) >= target``, searching from ``start``."""
    c = max(1, start)
    while c > 1 and level(c - 1) >= target:
        c -= 1
    while level(c) < target and c < MAX_COUNTERS:
        c += 1
    return c


# -- simulation ----------------------------------------------------------------

@dataclass
class HourRates:
    lam: float        # arrivals per minute
    mu: float         # services per minute per counter (1 / mean service minutes)
    theta: float      # give-ups per minute per waiting resident


def simulate_day(rates: list[HourRates], counters: list[int], target_min: float, days: int,
                 seed: int = 1, warm: int | None = None) -> list[float | None]:
    """Share called within ``target_min`` per hour (by arrival hour), over ``days`` simulated days.

    Arrivals are Poisson at each hour's rate, service times exponential, and each
    resident's patience exponential at its hour's θ; first come, first served.
    The number of counters changes at each hour boundary; a counter that closes
    finishes its current resident first. Hours without arrivals give None.

    ``warm``: the day does not start with an empty hall. Residents gather at the
    door before opening and the first hour's numbers are all taken in its first
    minutes, so an hour before the first one is simulated at the first hour's
    rate with ``warm`` counters, and not measured. Without it, an empty hall
    makes the opening hour look easier than any other hour at the same load.
    """
    if warm is not None and rates:
        levels = simulate_day([rates[0], *rates], [warm, *counters], target_min, days, seed)
        return levels[1:]
    rng = random.Random(seed)
    called = [0] * len(rates)
    arrived = [0] * len(rates)
    for _ in range(days):
        _one_day(rng, rates, counters, target_min, called, arrived)
    return [called[h] / arrived[h] if arrived[h] else None for h in range(len(rates))]


def _one_day(rng, rates, counters, target_min, called, arrived) -> None:
    hours = len(rates)
    # Each arrival: (time, hour, patience deadline, service minutes)
    arrivals = []
    for h, r in enumerate(rates):
        t = h * 60.0
        while r.lam > 0:
            t += rng.expovariate(r.lam)
            if t >= (h + 1) * 60.0:
                break
            patience = rng.expovariate(r.theta) if r.theta > 0 else math.inf
            arrivals.append((t, h, t + patience, rng.expovariate(r.mu)))
    busy = 0
    end_of_day = hours * 60.0
    waiting: list = []             # FIFO of arrivals not yet called
    events = [(a[0], 0, i) for i, a in enumerate(arrivals)]
    heapq.heapify(events)
    head = 0

    def capacity(now: float) -> int:
        return counters[min(int(now // 60), hours - 1)] if now < end_of_day else counters[-1]

    def call_next(now: float) -> None:
        nonlocal busy, head
        while head < len(waiting) and busy < capacity(now):
            t0, h, deadline, svc = waiting[head]
            head += 1
            if deadline < now:
                continue                  # left before being called
            busy += 1
            if now - t0 <= target_min:
                called[h] += 1
            heapq.heappush(events, (now + svc, 1, -1))

    for h in range(1, hours + 1):       # capacity may rise at each hour boundary
        heapq.heappush(events, (h * 60.0, 2, -1))
    while events:
        now, kind, i = heapq.heappop(events)
        if kind == 0:
            a = arrivals[i]
            arrived[a[1]] += 1
            waiting.append(a)
        elif kind == 1:
            busy -= 1
        call_next(now)
        if now > end_of_day + 24 * 60:
            break


# -- history -------------------------------------------------------------------

@dataclass
class Cell:
    """One weekday-hour: what history says and what is advised."""

    weekday: str
    hour: int
    days: int = 0
    arrivals: int = 0
    served: int = 0
    service_min: float | None = None
    no_show: int = 0
    wait_min_total: float = 0.0
    lam_per_hour: float | None = None
    theta_per_hour: float | None = None
    sqrt: int | None = None
    erlang_c: int | None = None
    erlang_a: int | None = None
    advised: int | None = None
    simulated: float | None = None          # share called within target with the advice (the day)
    fewer_level: float | None = None        # ... with one counter fewer in this hour
    fewer_basis: str | None = None          # "day" (simulated day) or "model" (Erlang-A steady state)
    thin: bool = True
    _services: list = field(default_factory=list, repr=False)


def measure(conn, site, end: date, days: int = HISTORY_DAYS) -> dict[str, dict[int, Cell]]:
    """The weekday-hour cells of the site's opening hours, filled from ``days`` days before ``end``."""
    tz = site.tz
    start = end - timedelta(days=days)
    cells = {wd: {h: Cell(wd, h) for h in open_hours(site, wd)} for wd in WEEKDAYS}
    day_rows = conn.execute("SELECT service_day FROM days WHERE service_day >= ? AND service_day < ?",
                            (start.isoformat(), end.isoformat())).fetchall()
    for (day,) in day_rows:
        wd = WEEKDAYS[date.fromisoformat(day).weekday()]
        for cell in cells[wd].values():
            cell.days += 1
    rows = conn.execute(
        "SELECT issued_ms, first_called_ms, started_ms, finished_ms, status FROM tickets"
        " WHERE service_day >= ? AND service_day < ?", (start.isoformat(), end.isoformat()))
    for issued, called_ms, started, finished, status in rows:
        local = datetime.fromtimestamp(issued / 1000, tz=timezone.utc).astimezone(tz)
        cell = cells[WEEKDAYS[local.weekday()]].get(local.hour)
        if cell is None:
            continue
        cell.arrivals += 1
        if called_ms is not None:
            cell.wait_min_total += max(0, called_ms - issued) / 60000
        if status == "no_show":
            cell.no_show += 1
        if status == "done" and finished is not None and (started or called_ms) is not None:
            cell.served += 1
            cell._services.append(max(0, finished - (started or called_ms)) / 60000)
    return cells


def open_hours(site, weekday: str) -> list[int]:
    span = site.hours.get(weekday)
    if not span:
        return []
    opens, closes = span
    last = closes.hour if closes.minute else closes.hour - 1
    return list(range(opens.hour, last + 1))


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def advise(conn, site, end: date, *, days: int = HISTORY_DAYS, sim_days: int = SIM_DAYS,
           share: float = TARGET_SHARE, seed: int = 1) -> dict:
    """The weekly plan: ``{"weekdays": {wd: [Cell, ...]}, "target_min", "share", ...}``."""
    cells = measure(conn, site, end, days)
    target = float(site.target_wait_min)
    all_services = [s for wd in cells.values() for c in wd.values() for s in c._services]
    site_service = _mean(all_services)
    plan = {}
    for wd, hours in cells.items():
        row = [hours[h] for h in sorted(hours)]
        if row:
            _advise_weekday(row, site_service, len(all_services), target, share, sim_days, seed)
        plan[wd] = row
    return {"weekdays": plan, "target_min": target, "share": share, "from": (end - timedelta(days=days)).isoformat(),
            "to": (end - timedelta(days=1)).isoformat(), "days": days, "min_days": MIN_DAYS,
            "min_served": MIN_SERVED, "served": len(all_services)}


def _advise_weekday(row: list[Cell], site_service, n_services, target, share, sim_days, seed) -> None:
    weekday_service = _mean([s for c in row for s in c._services])
    waited = sum(c.wait_min_total for c in row)
    theta = (sum(c.no_show for c in row) / waited) if waited > 0 else 0.0   # per minute
    rates = []
    for c in row:
        c.thin = c.days < MIN_DAYS or n_services < MIN_SERVED
        mean = _mean(c._services) if c.served >= MIN_HOUR_SERVED else (weekday_service or site_service)
        c.service_min = mean
        if c.days:
            c.lam_per_hour = c.arrivals / c.days
        c.theta_per_hour = theta * 60
        rates.append(HourRates(lam=(c.lam_per_hour or 0) / 60, mu=1 / mean if mean else 1.0, theta=theta))
    if any(c.thin for c in row):
        for c in row:
            c.thin = True
        return
    for c, r in zip(row, rates):
        if r.lam <= 0:
            c.sqrt = c.erlang_c = c.erlang_a = 0
            continue
        c.sqrt = sqrt_staffing(r.lam, r.mu)
        c.erlang_c = fewest(lambda k: service_level_c(k, r.lam, r.mu, target), share, c.sqrt)
        c.erlang_a = fewest(lambda k: service_level_a(k, r.lam, r.mu, r.theta, target), share, c.erlang_c)
    # The model's count first; then the whole day is simulated with it, hour by
    # hour in order, and an hour whose residents are not called in time (a
    # morning peak's queue carried over) gets one more counter until it is.
    counters = [max(1, c.erlang_a or 0) for c in row]
    busy_hours = [h for h, r in enumerate(rates) if r.lam > 0]
    warm = counters[0]

    def sim(vector):
        return simulate_day(rates, vector, target, sim_days, seed, warm)

    for h in busy_hours:
        while (sim(counters)[h] or 0) < share and counters[h] < MAX_COUNTERS:
            counters[h] += 1
    levels = sim(counters)
    for h, c in enumerate(row):
        c.advised = counters[h] if h in busy_hours else 0
        c.simulated = levels[h]
        if h not in busy_hours or counters[h] <= 1:
            continue
        fewer = counters[h] - 1
        if counters[h] > c.erlang_a:   # raised by the day: one fewer is what the day missed
            c.fewer_level, c.fewer_basis = sim(counters[:h] + [fewer] + counters[h + 1:])[h], "day"
        else:
            # The model's own count. One fewer misses in the model's steady state
            # (exact). The simulated day may still get by with one fewer for an
            # hour after a quiet one (the hall starts emptier than the load keeps
            # it), which is luck, not a plan.
            r = rates[h]
            c.fewer_level = service_level_a(fewer, r.lam, r.mu, r.theta, target) if fewer else 0.0
            c.fewer_basis = "model"


def open_counters(conn, site, day: str, now_ms: int) -> dict[int, float]:
    """Counters actually open in each hour of ``day`` up to ``now_ms``: open counter-minutes
    divided by the hour's minutes (those gone so far, for the current hour)."""
    tz = site.tz
    d = date.fromisoformat(day)
    out: dict[int, float] = {}
    rows = conn.execute("SELECT opened_ms, closed_ms FROM counter_sessions WHERE service_day = ?", (day,))
    sessions = [(o, c) for o, c in rows]
    for h in range(24):
        lo = datetime.combine(d, time(h), tz).timestamp() * 1000
        hi = min(lo + 3_600_000, now_ms)
        if hi <= lo:
            break
        minutes = sum(max(0, min(hi, c if c is not None else now_ms) - max(lo, o))
                      for o, c in sessions) / 60000
        if minutes:   # the hour so far, for the current hour
            out[h] = round(minutes / ((hi - lo) / 60000), 1)
    return out
