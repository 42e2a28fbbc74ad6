"""What the city dashboard shows: every site's live state, alerts, reports across sites.

Today's figures and reports come from ``daily`` (the aggregates the ingest
keeps); the live columns (waiting now, longest wait, counters open) from the
ticket and counter projections; devices and printers from the site's own
retained state that crossed the bridge.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from server.central.store import CLUSTERS, DEFAULT_CLUSTER, Store
from server.ikm import index

#: A hole in a site's log is an alert once it has been open this long (the
#: centre asks the site again meanwhile).
GAP_ALERT_S = 30
#: The bridge may be down this long (a router restart) before it is an alert.
LINK_ALERT_S = 60
SUM_COLUMNS = ("issued", "served", "no_show", "cancelled", "waiting", "wait_n", "wait_sum_ms",
               "within_target", "wait_15", "wait_30", "wait_60", "wait_more", "service_n",
               "service_sum_ms")


def local_day(now_ms: int, tz: str) -> date:
    return datetime.fromtimestamp(now_ms / 1000, tz=timezone.utc).astimezone(ZoneInfo(tz)).date()


def figures(row: dict) -> dict:
    """Counts plus mean wait, within-target share and mean service time from summed columns."""
    out = {k: int(row.get(k) or 0) for k in SUM_COLUMNS}
    n, sn = out["wait_n"], out["service_n"]
    out["mean_wait_s"] = round(out["wait_sum_ms"] / n / 1000, 1) if n else None
    out["within_target"] = round(out["within_target"] / n, 4) if n else None
    out["mean_service_s"] = round(out["service_sum_ms"] / sn / 1000, 1) if sn else None
    for k in ("wait_sum_ms", "service_sum_ms"):
        out.pop(k)
    return out


def ikm_figure(n: int, sums) -> float | None:
    """The index of pooled answers: each element's mean is its summed sums over all answers."""
    if not n:
        return None
    return round(index([s / n for s in sums]), 2)


def _pool(rows) -> tuple[int, list[int]]:
    n, sums = 0, None
    for r in rows:
        n += r["n"]
        sums = list(r["sums"]) if sums is None else [a + b for a, b in zip(sums, r["sums"])]
    return n, sums or []


def live(store: Store, now_ms: int) -> dict:
    """Every site's state now, the city's totals today, and the alerts."""
    conn = store.conn
    sites = conn.execute("SELECT * FROM sites ORDER BY site").fetchall()
    today = {s["site"]: local_day(now_ms, s["tz"]) for s in sites}
    daily = {}
    for r in conn.execute("SELECT d.* FROM daily d JOIN sites s USING (site)"
                          " WHERE d.day = ANY(%s)", (sorted(set(today.values())),)):
        if today.get(r["site"]) == r["day"]:
            acc = daily.setdefault(r["site"], {k: 0 for k in SUM_COLUMNS})
            for k in SUM_COLUMNS:
                acc[k] += r[k]
    oldest = {r["site"]: r for r in conn.execute(
        "SELECT site, day, MIN(issued_ms) AS oldest, COUNT(*) AS n FROM tickets"
        " WHERE status = 'waiting' GROUP BY site, day")
        if today.get(r["site"]) == r["day"]}
    counters: dict[str, dict[str, int]] = {}
    for r in conn.execute("SELECT site, status, COUNT(*) AS n FROM counters GROUP BY site, status"):
        counters.setdefault(r["site"], {})[r["status"]] = r["n"]
    ikm_rows: dict[str, list] = {}
    for r in conn.execute("SELECT site, day, n, sums FROM ikm_daily WHERE day = ANY(%s)",
                          (sorted(set(today.values())),)):
        if today.get(r["site"]) == r["day"]:
            ikm_rows.setdefault(r["site"], []).append(r)
    devices: dict[str, list[str]] = {}
    printers: dict[str, list[str]] = {}
    for r in conn.execute("SELECT site, topic, payload FROM live"):
        p = r["payload"]
        # topics are stored under the site's base: "presence/<role>/<device>", "kiosk/<id>/printer"
        if r["topic"].startswith("presence/") and p.get("status") == "offline":
            devices.setdefault(r["site"], []).append(f"{p.get('role')}/{p.get('device')}")
        elif r["topic"].startswith("kiosk/") and p.get("status") not in ("ok", None):
            printers.setdefault(r["site"], []).append(f"{p.get('kiosk')}: {p.get('status')}")
    conn.commit()
    rows, alerts = [], []
    for s in sites:
        site = s["site"]
        f = figures(daily.get(site, {}))
        w = oldest.get(site)
        longest = max(0, (now_ms - w["oldest"]) // 1000) if w else 0
        c = counters.get(site, {})
        row = {"site": site, "name": s["name"], "day": today[site].isoformat(),
               "link": s["link"] or "unknown", "link_since_ms": s["link_ms"],
               "stored_seq": s["stored_seq"], "head_seq": s["head_seq"],
               "behind": max(0, s["head_seq"] - s["stored_seq"]), "last_batch_ms": s["last_batch_ms"],
               "waiting_now": w["n"] if w else 0, "longest_wait_s": longest,
               "counters_open": c.get("open", 0), "counters_paused": c.get("paused", 0),
               "counters_total": sum(c.values()), "devices_offline": sorted(devices.get(site, [])),
               "printers": sorted(printers.get(site, [])), "target_wait_s": s["target_wait_s"],
               "ikm": ikm_figure(*_pool(ikm_rows.get(site, []))),
               "ikm_n": _pool(ikm_rows.get(site, []))[0], "today": f}
        rows.append(row)
        alerts += _alerts(row, s, now_ms)
    totals = figures({k: sum(daily.get(s["site"], {}).get(k, 0) for s in sites) for k in SUM_COLUMNS})
    totals["ikm"] = ikm_figure(*_pool([r for rows_ in ikm_rows.values() for r in rows_]))
    return {"now_ms": now_ms, "sites": rows, "alerts": alerts, "today": totals,
            "waiting_now": sum(r["waiting_now"] for r in rows),
            "sites_offline": sum(1 for r in rows if r["link"] == "offline")}


def _alerts(row: dict, s: dict, now_ms: int) -> list[dict]:
    out = []

    def alert(kind, level, text_id, text_en):
        out.append({"site": row["site"], "name": row["name"], "kind": kind, "level": level,
                    "text_id": text_id, "text_en": text_en})
    if row["link"] == "offline" and s["link_ms"] and now_ms - s["link_ms"] >= LINK_ALERT_S * 1000:
        mins = (now_ms - s["link_ms"]) // 60000
        alert("link", "warn", f"Koneksi ke pusat terputus {mins} menit (situs tetap melayani)",
              f"Link to the centre down for {mins} min (the site keeps serving)")
    if s["gap_since_ms"] and now_ms - s["gap_since_ms"] >= GAP_ALERT_S * 1000:
        alert("gap", "warn", f"Data belum lengkap: peristiwa setelah #{s['stored_seq']} belum tiba",
              f"Events after #{s['stored_seq']} missing; asked again {s['gap_requests']} times")
    if row["longest_wait_s"] > row["target_wait_s"]:
        m = row["longest_wait_s"] // 60
        alert("wait", "bad", f"Ada yang menunggu {m} menit (target {row['target_wait_s'] // 60} menit)",
              f"Someone has waited {m} min (target {row['target_wait_s'] // 60} min)")
    if row["devices_offline"]:
        alert("device", "warn", "Perangkat mati: " + ", ".join(row["devices_offline"]),
              "Devices offline: " + ", ".join(row["devices_offline"]))
    if row["printers"]:
        alert("printer", "warn", "Printer: " + ", ".join(row["printers"]),
              "Printer: " + ", ".join(row["printers"]))
    return out


BY = ("site", "cluster", "service")


def report(store: Store, start: date, end: date, by: str = "site") -> dict:
    """Totals over ``start``..``end`` grouped by site, cluster or (site, service): daily rows only."""
    if by not in BY:
        raise ValueError(f"by must be one of {BY}")
    key = {"site": "d.site", "cluster": f"COALESCE(ss.cluster, '{DEFAULT_CLUSTER}')",
           "service": "d.site || '/' || d.service"}[by]
    sums = ", ".join(f"SUM(d.{c}) AS {c}" for c in SUM_COLUMNS)
    rows = store.conn.execute(
        f"SELECT {key} AS key, MIN(s.name) AS site_name, COUNT(DISTINCT d.site) AS sites,"
        f" COUNT(DISTINCT d.day) AS days, {sums} FROM daily d JOIN sites s ON s.site = d.site"
        " LEFT JOIN site_services ss ON ss.site = d.site AND ss.prefix = d.service"
        f" WHERE d.day BETWEEN %s AND %s GROUP BY {key} ORDER BY {key}", (start, end)).fetchall()
    total = store.conn.execute(
        f"SELECT COUNT(DISTINCT site) AS sites, {sums} FROM daily d WHERE day BETWEEN %s AND %s",
        (start, end)).fetchone()
    surveys: dict[str, list] = {}
    for r in store.conn.execute(
            f"SELECT {key} AS key, d.n, d.sums FROM ikm_daily d"
            " LEFT JOIN site_services ss ON ss.site = d.site AND ss.prefix = d.service"
            " WHERE d.day BETWEEN %s AND %s", (start, end)):
        surveys.setdefault(r["key"], []).append(r)
    store.conn.commit()
    out = []
    for r in rows:
        name = r["site_name"] if by == "site" else CLUSTERS.get(r["key"], (r["key"], r["key"]))[0] \
            if by == "cluster" else r["key"]
        n, pooled = _pool(surveys.get(r["key"], []))
        out.append({"key": r["key"], "name": name, "sites": r["sites"], "days": r["days"], **figures(r),
                    "ikm": ikm_figure(n, pooled), "ikm_n": n})
    n, pooled = _pool([x for rows_ in surveys.values() for x in rows_])
    return {"from": start.isoformat(), "to": end.isoformat(), "by": by, "rows": out,
            "total": {"sites": total["sites"], **figures(total), "ikm": ikm_figure(n, pooled), "ikm_n": n}}


def report_rows(rep: dict) -> list[dict]:
    """Flat rows for CSV and XLSX: one per group, then the total."""
    cols = ("key", "name", "sites", "issued", "served", "no_show", "cancelled", "waiting",
            "mean_wait_s", "within_target", "wait_15", "wait_30", "wait_60", "wait_more",
            "mean_service_s", "ikm", "ikm_n")
    rows = [{c: r.get(c) for c in cols} for r in rep["rows"]]
    rows.append({c: rep["total"].get(c) for c in cols} | {"key": "TOTAL", "name": "Total kota / city"})
    return rows
