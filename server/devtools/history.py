"""Weeks of past service days with known rates, written straight into a server database.

For the staffing advice's tests and screenshots: each opening hour of each
weekday gets Poisson arrivals at a given rate, exponential service times and
exponential patience; the residents are served first come, first served by a
fixed number of counters, and whoever's patience runs out before the call is
marked ``no_show`` (called, not there). The rows look like the queue core's
own (tickets with their times, one ``days`` row per day, counter sessions).

    write_history(svc, weeks=8, pattern={"mon": [60, 50, 40, 30, 30, 20, 15]})
"""
from __future__ import annotations

import heapq
import random
import secrets
from datetime import date, datetime, timedelta

from server.config import WEEKDAYS
from server.staffing import open_hours


def write_history(svc, *, weeks: int, pattern: dict[str, list[float]], service_min: float = 8.0,
                  patience_min: float | None = None, counters: int | None = None,
                  service: str = "A", end: date | None = None, rated: float = 0.0,
                  seed: int = 7) -> int:
    """Write ``weeks`` weeks of days ending the day before ``end`` (default: the server's today).

    ``pattern[weekday]``: arrivals per hour for each opening hour of that weekday
    (a weekday missing from ``pattern`` has no arrivals). ``rated``: the share of
    served residents who answered the survey that day (:func:`survey_answers`).
    Returns tickets written.
    """
    rng = random.Random(seed)
    site = svc.site
    end = end or date.fromisoformat(svc.now()["service_day"])
    written = 0

    def run(conn):
        nonlocal written
        for back in range(weeks * 7, 0, -1):
            day = end - timedelta(days=back)
            wd = WEEKDAYS[day.weekday()]
            hours = open_hours(site, wd)
            if not hours:
                continue
            rates = pattern.get(wd, [0.0] * len(hours))
            written += _day(conn, site, rng, day, hours, rates, service_min, patience_min,
                            counters or 16, service, rated)
    svc.db.write(run)
    return written


def _day(conn, site, rng, day, hours, rates, service_min, patience_min, counters, service,
         rated) -> int:
    tz = site.tz
    start_ms = int(datetime.combine(day, datetime.min.time(), tz).timestamp() * 1000)
    conn.execute("INSERT OR IGNORE INTO days (service_day, opened_ms) VALUES (?, ?)",
                 (day.isoformat(), start_ms + hours[0] * 3_600_000))
    arrivals = []
    for h, lam in zip(hours, rates):
        t = h * 60.0
        while lam > 0:
            t += rng.expovariate(lam / 60)
            if t >= (h + 1) * 60:
                break
            arrivals.append(t)
    free = [(hours[0] * 60.0, n + 1) for n in range(counters)]
    heapq.heapify(free)
    for seq, t in enumerate(arrivals, 1):
        at, counter = heapq.heappop(free)
        call = max(t, at)
        patience = rng.expovariate(1 / patience_min) if patience_min else float("inf")
        if call - t > patience:
            status, started, finished, busy_until = "no_show", None, None, call + 1.0
        else:
            status, started = "done", call
            finished = call + rng.expovariate(1 / service_min)
            busy_until = finished
        heapq.heappush(free, (busy_until, counter))
        ms = lambda minutes: None if minutes is None else int(start_ms + minutes * 60_000)  # noqa: E731
        conn.execute(
            "INSERT INTO tickets (service_day, prefix, seq, number, service, issue_order, queue_order,"
            " status, token, device, issued_ms, first_called_ms, last_called_ms, started_ms,"
            " finished_ms, counter) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (day.isoformat(), service, seq, f"{service}-{seq:03d}", service, seq, seq, status,
             secrets.token_urlsafe(12), "history", ms(t), ms(call), ms(call), ms(started), ms(finished),
             counter))
        if status == "done" and rng.random() < rated:
            _answer(conn, rng, day, service, counter, ms(finished))
    for n in range(1, counters + 1):
        conn.execute("INSERT INTO counter_sessions (service_day, counter, opened_ms, closed_ms)"
                     " VALUES (?, ?, ?, ?)", (day.isoformat(), n, start_ms + hours[0] * 3_600_000,
                                              start_ms + (hours[-1] + 1) * 3_600_000))
    return len(arrivals)


# Weekly arrivals per opening hour for the example site's demo and screenshots: a Monday
# peak, quieter midweek days, a short Friday.
DEMO_PATTERN = {"mon": [70, 60, 45, 35, 30, 25, 15], "tue": [50, 45, 40, 30, 25, 20, 10],
                "wed": [50, 45, 40, 30, 25, 20, 10], "thu": [55, 50, 40, 30, 25, 20, 10],
                "fri": [40, 30, 20, 10]}
DEMO_COMMENTS = ("Petugas ramah, terima kasih.", "Ruang tunggu panas, mohon tambah kipas.",
                 "Antrean cepat dibanding tahun lalu.", "Syarat berkas mohon ditempel lebih jelas.")


def survey_answers(rng) -> tuple[dict, str | None]:
    """Answers as residents might give them: mostly content; waiting time (u3) and the
    facilities (u9) score lower; now and then a comment."""
    from server import ikm
    leaning = {"u3": (1, 2, 3, 3, 4), "u9": (2, 2, 3, 3, 4)}
    answers = {c: rng.choice(leaning.get(c, (3, 3, 4, 4, 4))) for c in ikm.CODES}
    return answers, (rng.choice(DEMO_COMMENTS) if rng.random() < 0.1 else None)


def _answer(conn, rng, day, service, counter, at_ms) -> None:
    from server import ikm
    answers, comment = survey_answers(rng)
    ticket_id = conn.execute("SELECT last_insert_rowid()").fetchone()[0]
    conn.execute("INSERT INTO ikm_responses (submission_id, fingerprint, ticket_id, service_day, service,"
                 " counter, channel, " + ", ".join(ikm.CODES) + ", comment, received_ms) VALUES ("
                 + ", ".join("?" * (9 + len(ikm.CODES))) + ")",
                 (f"history-{ticket_id}", "history", ticket_id, day.isoformat(), service, counter,
                  rng.choice(("phone", "phone", "exit")), *(answers[c] for c in ikm.CODES), comment,
                  at_ms))


def rate_served(svc, *, share: float = 0.8, seed: int = 11) -> int:
    """Answer the survey through the server for ``share`` of today's served tickets (demo data)."""
    from server import survey
    rng = random.Random(seed)
    day = svc.now()["service_day"]
    rows = svc.db.read().execute("SELECT id FROM tickets WHERE status = 'done' AND service_day = ?"
                                 " ORDER BY id", (day,)).fetchall()
    n = 0
    for (tid,) in rows:
        if rng.random() > share:
            continue
        answers, comment = survey_answers(rng)
        survey.submit(svc, ticket_id=tid, submission_id=f"demo-{tid}", answers=answers,
                      comment=comment, channel=rng.choice(("phone", "phone", "exit")))
        n += 1
    return n


def press_smileys(svc, counters=range(1, 9), presses: int = 6, seed: int = 13) -> None:
    """A few smiley-pad presses at each counter (demo data)."""
    from server import survey
    rng = random.Random(seed)
    for counter in counters:
        for i in range(presses):
            survey.record_vote(svc, vote_id=f"pad-{counter}-{i}", counter=counter,
                               score=rng.choice((2, 3, 4, 4, 4)), device=f"box-{counter:02d}")
