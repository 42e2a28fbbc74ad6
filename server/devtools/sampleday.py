"""A seeded, time-compressed service day played straight into a QueueService.

Used by the screenshot command and the web tests: it drives a FakeClock minute
by minute, so a three-hour morning takes well under a second and is the same
on every run. (``lalopa simulate`` plays a day over HTTP against a real server.)

    >>> play_day(svc, clock, counters={1: uid_a, 2: uid_b}, minutes=120)   # doctest: +SKIP
"""
from __future__ import annotations

import random


def play_day(svc, clock, counters: dict[int, int | None], minutes: int = 150, seed: int = 7,
             arrivals_per_min: float = 0.6) -> dict:
    """Issue, call, serve and skip tickets for ``minutes`` simulated minutes.

    ``counters`` maps counter number → verifier user id. Arrivals peak early
    (as DOMAIN.md describes); about 1 in 12 called residents never come forward.
    Returns how many tickets were issued and called."""
    rnd = random.Random(seed)
    prefixes = [s.prefix for s in svc.site.services]
    weights = [6, 2, 2][:len(prefixes)] + [1] * max(0, len(prefixes) - 3)
    busy_until: dict[int, int] = {}
    ids = iter(range(1, 10**9))
    issued = called = 0
    for n, uid in counters.items():
        svc.counter_action(n, "open", command_id=f"open-{n}", device="sampleday", user_id=uid)
    for minute in range(minutes):
        rate = arrivals_per_min * (1.6 if minute < 90 else 0.5)
        if minute < minutes - 20:  # no arrivals at the very end, so the queue can drain
            for _ in range(_poisson(rnd, rate)):
                svc.issue(rnd.choices(prefixes, weights)[0], request_id=f"sd-{next(ids)}",
                          device="kiosk-sample", priority="lansia" if rnd.random() < 0.08 else None)
                issued += 1
        for n, uid in counters.items():
            if busy_until.get(n, -1) > minute:
                continue
            called += _serve_one(svc, rnd, n, uid, minute, busy_until, ids)
        clock.advance(60)
    return {"issued": issued, "called": called}


def _serve_one(svc, rnd, n: int, uid, minute: int, busy_until: dict, ids) -> int:
    """Finish the counter's current ticket and call the next one; 1 if someone was called."""
    state = svc.counter_state(n)
    ticket = state["ticket"]
    if ticket and ticket["status"] == "serving":
        svc.counter_action(n, "finish", command_id=f"sd-{next(ids)}", device="sampleday", user_id=uid)
    elif ticket and ticket["status"] == "called":
        action = "no_show" if rnd.random() < 0.08 else "start"
        svc.counter_action(n, action, command_id=f"sd-{next(ids)}", device="sampleday", user_id=uid)
        if action == "start":
            busy_until[n] = minute + max(1, int(rnd.lognormvariate(1.6, 0.5)))
            return 0
    if state["waiting"] == 0:
        return 0
    result = svc.counter_action(n, "next", command_id=f"sd-{next(ids)}", device="sampleday", user_id=uid)
    return 1 if result.get("call") else 0


def _poisson(rnd: random.Random, lam: float) -> int:
    # Knuth's method: fine for the small rates of one counter hall per minute
    limit, k, p = pow(2.718281828459045, -lam), 0, 1.0
    while True:
        p *= rnd.random()
        if p <= limit:
            return k
        k += 1
