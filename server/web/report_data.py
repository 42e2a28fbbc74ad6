"""Report tables for a date range, built once and rendered as HTML, CSV and XLSX.

Totals, per-service, per-counter and per-verifier figures and the hourly flow
come straight from ``svc.range_report`` (the statistics API's ``range_stats`` and the
range's sorted waits, from the same stored day summaries), so the report can never
disagree with it.
"""
from __future__ import annotations

import bisect
import csv
import io
from collections import defaultdict
from datetime import date, datetime, timezone

from server import stats

COLUMNS = ("section", "key", "name", "issued", "served", "no_show", "wait_mean_s", "wait_p90_s",
           "service_mean_s", "service_p90_s", "within_target")
WAIT_BINS_MIN = (0, 5, 10, 15, 20, 30, 45, 60)


def _row(section: str, key: str, name: str, figures: dict) -> dict:
    wait, service = figures.get("wait") or {}, figures.get("service") or {}
    return {"section": section, "key": key, "name": name, "issued": figures.get("issued"),
            "served": figures.get("served"), "no_show": figures.get("no_show"),
            "wait_mean_s": wait.get("mean_s"), "wait_p90_s": wait.get("p90_s"),
            "service_mean_s": service.get("mean_s"), "service_p90_s": service.get("p90_s"),
            "within_target": figures.get("within_target"),
            "within_target_text": stats.whole_percent(figures.get("within_target"))}


def build(svc, users, start: date, end: date) -> dict:
    """Every table of the report (lists of rows with COLUMNS) plus chart series."""
    site = svc.site
    rng, waits = svc.range_report(start, end)
    totals = rng["totals"]
    names = {u["id"]: u["username"] for u in users.listing()}
    report = {"from": rng["from"], "to": rng["to"], "stats": rng,
              "totals": [_row("total", "all", "", totals)],
              "services": [_row("service", s.prefix, s.name_id, totals["services"].get(s.prefix, {}))
                           for s in site.services],
              "counters": [], "verifiers": [], "hours": [], "waits": []}
    for c in site.counters:
        figures = totals["counters"].get(str(c.number))
        if not figures or not figures["called"]:
            continue  # a counter that called nobody in the range adds only noise
        report["counters"].append(_row("counter", str(c.number), c.name, figures))
    for uid, figures in totals["verifiers"].items():  # ascending user id
        report["verifiers"].append(_row("verifier", uid, names.get(int(uid), f"#{uid}"), figures))
    report["hours"] = _hours(rng["days"])
    report["waits"] = _histogram(waits)
    return report


def _hours(days: list[dict]) -> list[dict]:
    arrivals, done = defaultdict(int), defaultdict(int)
    for d in days:
        for h, n in d["arrivals_per_hour"].items():
            arrivals[h] += n
        for h, n in d["completions_per_hour"].items():
            done[h] += n
    return [{"section": "hour", "key": h, "name": f"{h}:00", "arrivals": arrivals[h],
             "completions": done[h]} for h in sorted(set(arrivals) | set(done))]


def _histogram(waits_s: list[float]) -> list[dict]:
    """Waits per bin [lo, next lo) minutes, from the sorted waits (two bisections a bin)."""
    out = []
    for i, lo in enumerate(WAIT_BINS_MIN):
        hi = WAIT_BINS_MIN[i + 1] if i + 1 < len(WAIT_BINS_MIN) else None
        upper = bisect.bisect_left(waits_s, hi * 60) if hi else len(waits_s)
        out.append({"section": "wait", "key": f"{lo}-{hi}" if hi else f"{lo}+",
                    "count": upper - bisect.bisect_left(waits_s, lo * 60)})
    return out


# ------------------------------------------------------------------ exports

def flat_rows(report: dict) -> list[dict]:
    rows = report["totals"] + report["services"] + report["counters"] + report["verifiers"]
    for h in report["hours"]:
        rows.append({"section": "hour", "key": h["key"], "name": h["name"],
                     "issued": h["arrivals"], "served": h["completions"]})
    for w in report["waits"]:
        rows.append({"section": "wait_histogram_min", "key": w["key"], "name": "",
                     "issued": w["count"]})
    return rows


def to_csv(report: dict) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in flat_rows(report):
        writer.writerow(row)
    return buf.getvalue()


def to_xlsx(report: dict) -> bytes:
    """One sheet per table, headers in the first row."""
    from openpyxl import Workbook
    wb = Workbook()
    wb.remove(wb.active)
    sheets = (("Total", report["totals"], COLUMNS[1:]), ("Layanan", report["services"], COLUMNS[1:]),
              ("Loket", report["counters"], COLUMNS[1:]),
              ("Verifikator", report["verifiers"], COLUMNS[1:]),
              ("Per jam", report["hours"], ("key", "arrivals", "completions")),
              ("Sebaran tunggu", report["waits"], ("key", "count")))
    for title, rows, cols in sheets:
        ws = wb.create_sheet(title)
        ws.append(list(cols))
        for row in rows:
            ws.append([row.get(c) for c in cols])
    meta = wb.create_sheet("Info")
    meta.append(["from", report["from"]])
    meta.append(["to", report["to"]])
    meta.append(["generated_utc", datetime.now(timezone.utc).isoformat(timespec="seconds")])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
