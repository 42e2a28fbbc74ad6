"""Statistics at scale: the day view and a 30-day report over growing history."""
from __future__ import annotations

import statistics
import time
from datetime import timedelta
from pathlib import Path

from server.devtools.benchlib.history import load_history
from server.devtools.benchlib.site import always_open_site


def _timed(fn, repeat: int) -> float:
    """Median wall time of ``fn()`` in ms over ``repeat`` runs (after one warm-up run)."""
    fn()
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - t0) * 1000)
    return statistics.median(runs)


def measure_stats(workdir: Path, sizes: tuple[int, ...], per_day: int = 400) -> list[dict]:
    """For each history size: load time, day view (``QueueService.day_stats`` of the last day,
    which is what the dashboard's day view and GET /api/v1/stats/day call) and the 30-day
    ``range_stats`` report and a one-year report, each the median of several runs, and the
    one-year report's first run (which stores the closed days' summaries)."""
    from server.queue import QueueService
    site = always_open_site("bench-stats")
    rows = []
    for n in sizes:
        path = workdir / f"history-{n}.db"
        t0 = time.perf_counter()
        info = load_history(path, site, n, per_day=per_day)
        load_s = time.perf_counter() - t0
        svc = QueueService(str(path), site)
        try:
            last = info["last_day"]
            day_ms = _timed(lambda: svc.day_stats(last.isoformat()), 15)
            year = lambda: svc.range_stats(last - timedelta(days=364), last)  # noqa: E731
            t0 = time.perf_counter()
            year()  # the first report of a range stores its closed days' summaries
            year_cold_ms = (time.perf_counter() - t0) * 1000
            year_ms = _timed(year, 3)
            range_ms = _timed(lambda: svc.range_stats(last - timedelta(days=29), last), 3)
            issued = svc.day_stats(last.isoformat())["issued"]
        finally:
            close = getattr(svc, "close", None) or svc.db.close
            close()
        rows.append({"tickets": n, "days": info["days"], "load_s": load_s, "day_ms": day_ms,
                     "range_ms": range_ms, "year_ms": year_ms, "year_cold_ms": year_cold_ms, "day_issued": issued,
                     "db_mb": path.stat().st_size / 1e6})
    return rows
