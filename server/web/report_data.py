"""Report tables for a date range, built once and rendered as HTML, CSV and XLSX.

Totals and per-service figures come straight from ``svc.range_stats`` (the
statistics API); per counter, verifier and hour use the same definitions
(``stats.wait_s``, ``stats.service_s``, ``stats.describe``) over the range's tickets.
"""
from __future__ import annotations

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
            "within_target": figures.get("within_target")}


def _group(tickets, key) -> dict:
    groups = defaultdict(list)
    for t in tickets:
        if t[key] is not None:
            groups[t[key]].append(t)
    return groups


def _figures(tickets, target_s: int) -> dict:
    waits = [w for w in map(stats.wait_s, tickets) if w is not None]
    return {"issued": len(tickets), "served": sum(1 for t in tickets if t["status"] == "done"),
            "no_show": sum(1 for t in tickets if t["status"] == "no_show"),
            "wait": stats.describe(waits),
            "service": stats.describe([s for s in map(stats.service_s, tickets) if s is not None]),
            "within_target": round(sum(1 for w in waits if w <= target_s) / len(waits), 4)
            if waits else None}


def build(svc, users, start: date, end: date) -> dict:
    """Every table of the report (lists of rows with COLUMNS) plus chart series."""
    site = svc.site
    rng = svc.range_stats(start, end)
    tickets = svc.db.read().execute(
        "SELECT * FROM tickets WHERE service_day >= ? AND service_day <= ?",
        (start.isoformat(), end.isoformat())).fetchall()
    target_s = site.target_wait_min * 60
    names = {u["id"]: u["username"] for u in users.listing()}
    report = {"from": rng["from"], "to": rng["to"], "stats": rng,
              "totals": [_row("total", "all", "", rng["totals"])],
              "services": [_row("service", p, s.name_id, rng["totals"]["services"].get(p, {}))
                           for p, s in ((x.prefix, x) for x in site.services)],
              "counters": [], "verifiers": [], "hours": [], "waits": []}
    by_service = _group(tickets, "service")
    for row in report["services"]:  # the range API has no per-service target share
        row["within_target"] = _figures(by_service.get(row["key"], []), target_s)["within_target"]
    by_counter = _group(tickets, "counter")
    for c in site.counters:
        if c.number not in by_counter:
            continue  # a counter that served nobody in the range adds only noise
        row = _row("counter", str(c.number), c.name, _figures(by_counter[c.number], target_s))
        row["issued"] = None  # tickets are issued to services, not counters
        report["counters"].append(row)
    for uid, mine in sorted(_group(tickets, "user_id").items()):
        row = _row("verifier", str(uid), names.get(uid, f"#{uid}"), _figures(mine, target_s))
        row["issued"] = None
        report["verifiers"].append(row)
    report["hours"] = _hours(rng["days"])
    report["waits"] = _histogram([w for w in map(stats.wait_s, tickets) if w is not None])
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
    counts = [0] * len(WAIT_BINS_MIN)
    for w in waits_s:
        i = max(i for i, lo in enumerate(WAIT_BINS_MIN) if w >= lo * 60)
        counts[i] += 1
    out = []
    for i, lo in enumerate(WAIT_BINS_MIN):
        hi = WAIT_BINS_MIN[i + 1] if i + 1 < len(WAIT_BINS_MIN) else None
        out.append({"section": "wait", "key": f"{lo}-{hi}" if hi else f"{lo}+", "count": counts[i]})
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
