"""The IKM report of a date range: overall, by month, by service, by counter, smiley pads.

One dict built here feeds the page, the printable page and the XLSX file, so
the three never disagree. The sampling base (population) of each part is the
number of residents served in it (tickets ``done``).

    report = build(svc, date(2026, 1, 1), date(2026, 12, 31))
    report["overall"]["ikm"], report["overall"]["grade"]["letter"]
"""
from __future__ import annotations

import io
from collections import defaultdict
from datetime import date, datetime, timezone

from server import ikm, survey
from server.stats import check_range
from server.web.reports import inert

#: Free-text comments shown on the page (newest first); the XLSX file has all of them.
COMMENTS_ON_PAGE = 50


def build(svc, start: date, end: date) -> dict:
    """The report for ``start``..``end`` (local service days, both included)."""
    check_range(start, end)
    conn = svc.db.read()
    rows, served, votes = (survey.responses(conn, start, end), survey.served(conn, start, end),
                           survey.votes(conn, start, end))

    def part(key, name_of) -> list[dict]:
        keys = sorted({key(r) for r in rows} | {key(s) for s in served}, key=lambda k: (k is None, k))
        return [{"key": k, "name": name_of(k),
                 **ikm.summarise([r for r in rows if key(r) == k], sum(1 for s in served if key(s) == k))}
                for k in keys]

    site = svc.site
    months = part(lambda r: survey.month_of(r["service_day"]), lambda k: k)
    return {
        "from": start.isoformat(), "to": end.isoformat(),
        "overall": ikm.summarise(rows, len(served)),
        "months": months,
        "services": part(lambda r: r["service"], lambda k: _service_name(site, k)),
        "counters": part(lambda r: r["counter"], lambda k: _counter_name(site, k)),
        "channels": {c: sum(1 for r in rows if r["channel"] == c) for c in survey.CHANNELS},
        "smiley": smiley_summary(site, votes),
        "comments": [{"day": r["service_day"], "service": r["service"], "counter": r["counter"],
                      "text": r["comment"]} for r in reversed(rows) if r["comment"]],
    }


def _service_name(site, prefix) -> str:
    s = site.service(prefix) if prefix else None
    return f"{prefix} — {s.name_id}" if s else str(prefix)


def _counter_name(site, number) -> str:
    if number is None:
        return "—"
    c = site.counter(number)
    return c.name if c else f"Loket {number}"


def smiley_summary(site, votes: list[dict]) -> dict:
    """Per counter: presses per face (1 very unhappy .. 4 very happy), count and mean."""
    per = defaultdict(list)
    for v in votes:
        per[v["counter"]].append(v["score"])

    def row(scores):
        return {"count": len(scores), "mean": sum(scores) / len(scores) if scores else None,
                "faces": [scores.count(s) for s in ikm.SCALE]}
    return {"total": row([v["score"] for v in votes]),
            "counters": [{"counter": n, "name": _counter_name(site, n), **row(per[n])} for n in sorted(per)]}


# -- the file the office files -------------------------------------------------

def _r(value, digits=2):
    return None if value is None else round(value, digits)


def to_xlsx(report: dict, facility: str) -> bytes:
    """Sheets: Ringkasan (summary and per element), Per bulan, Per layanan, Per loket,
    Smiley, Saran (comments). Headers Indonesian / English."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    wb = Workbook()
    ws = wb.active
    ws.title = "Ringkasan"
    o = report["overall"]
    bold = Font(bold=True)
    for label, value in (
            ("Unit pelayanan / Service unit", facility),
            ("Periode / Period", f"{report['from']} s.d. {report['to']}"),
            ("Responden / Respondents", o["responses"]),
            ("Populasi (dilayani) / Population (served)", o["population"]),
            ("Sampel minimum / Minimum sample", o["minimum_sample"]),
            ("Sampel cukup / Sample enough", "ya / yes" if o["sample_enough"] else "tidak / no"),
            ("Bobot / Weight", "1/9"),
            ("IKM (bobot 1/9)", _r(o["ikm"])),
            ("IKM (bobot 0,111)", _r(o["ikm_rounded_weight"])),
            ("Mutu / Grade", o["grade"] and f"{o['grade']['letter']} ({o['grade']['name_id']})"),
            ("Unsur terendah / Weakest element",
             o["weakest"] and f"{o['weakest']['code'].upper()} {o['weakest']['name_id']}")):
        ws.append([label, value])
        ws.cell(ws.max_row, 1).font = bold
    ws.append([])
    ws.append(["Unsur / Element", "Nama / Name", "NRR", "NRR x 1/9", "NRR x 0,111", "Mutu / Grade"])
    for el in o["elements"]:
        v = el["nrr"]
        ws.append([el["code"].upper(), el["name_id"], _r(v, 3), _r(v and v / len(ikm.ELEMENTS), 3),
                   _r(v and v * ikm.ROUNDED_WEIGHT, 3), el["grade"]])
    for title, rows in (("Per bulan", report["months"]), ("Per layanan", report["services"]),
                        ("Per loket", report["counters"])):
        sheet = wb.create_sheet(title)
        sheet.append(["", "Responden / Respondents", "Populasi / Population", "Sampel minimum / Minimum",
                      "IKM (1/9)", "IKM (0,111)", "Mutu / Grade"] + [c.upper() for c in ikm.CODES])
        for row in rows:
            sheet.append([row["name"], row["responses"], row["population"], row["minimum_sample"],
                          _r(row["ikm"]), _r(row["ikm_rounded_weight"]),
                          row["grade"] and row["grade"]["letter"]] + [_r(el["nrr"], 3) for el in row["elements"]])
    sm = wb.create_sheet("Smiley")
    sm.append(["Loket / Counter", "Tekan / Presses", "Rata-rata / Mean (1-4)", "1", "2", "3", "4"])
    for row in report["smiley"]["counters"] + [{"name": "Total", **report["smiley"]["total"]}]:
        sm.append([row["name"], row["count"], _r(row["mean"]), *row["faces"]])
    notes = wb.create_sheet("Saran")
    notes.append(["Tanggal / Day", "Layanan / Service", "Loket / Counter", "Pengaduan atau saran / Comment"])
    for c in report["comments"]:
        notes.append([c["day"], c["service"], c["counter"], inert(c["text"])])
    info = wb.create_sheet("Info")
    info.append(["generated_utc", datetime.now(timezone.utc).isoformat(timespec="seconds")])
    info.append(["rule", "PermenPANRB 14/2017: IKM = sum(NRR x weight) x 25"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()

