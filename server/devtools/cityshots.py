"""``python -m server.devtools.cityshots --out docs/city``: PNGs of the city dashboard.

Builds a throw-away centre: a PostgreSQL database made for the run (dropped
after), twelve puskesmas whose recorded mornings are stored through the real
ingest (``Store.ingest`` of the batches the uplink would send) with their
survey figures, one site's link down, one device offline, one printer out of paper; then captures the
live dashboard and the reports by site and by cluster in headless Chromium.
"""
from __future__ import annotations

import argparse
import os
import random
import secrets
import sqlite3
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import psycopg

from broker.protocol import CITY_BATCH_MAX, IKM_ELEMENTS, CityBatch, CityIkm, IkmSums
from server.central.store import Store
from server.central.uplink import EVENT_SQL, to_event
from server.central.viewers import add_viewer
from server.central.web import create_app
from server.devtools.benchlib.city import ADMIN_DSN, TZ, local_ms, recorded_day
from server.devtools.devserver import ThreadedServer
from server.devtools.screenshots import CHROMIUM, CHROMIUM_ARGS

NAMES = ("Sukajadi", "Cibeunying", "Babakan Sari", "Kopo", "Garuda", "Pasirkaliki", "Ibrahim Adjie",
         "Padasuka", "Salam", "Tamblong", "Cijerah", "Sekejati")


def fill(store: Store, work: Path) -> None:
    """Twelve sites' mornings up to now (WIB), ingested as the uplink sends them."""
    now = datetime.now(TZ)
    now_ms = int(time.time() * 1000)
    # Every site's morning is shown as it stood at 09:45, the busiest time, played up to now.
    shift = now_ms - local_ms(now.date(), 9.75)
    for i, name in enumerate(NAMES, 1):
        site = f"pkm-{name.lower().replace(' ', '-')}"
        store.add_site(site, f"Puskesmas {name}", clusters={"A": "dewasa-lansia", "B": "ibu-anak"},
                       now_ms=now_ms)
        db = work / f"{site}.db"
        recorded_day(db, now.date(), seed=i, hours=(7.5, 9.75), shift_ms=shift)
        conn = sqlite3.connect(str(db))
        conn.row_factory = sqlite3.Row
        rows = conn.execute(EVENT_SQL, (1, 10**9)).fetchall()
        conn.close()
        for k in range(0, len(rows), CITY_BATCH_MAX):
            events = tuple(to_event(r) for r in rows[k:k + CITY_BATCH_MAX])
            store.ingest([CityBatch(site=site, first=events[0].seq, head=len(rows), sent_ms=now_ms,
                                    events=events)], now_ms)
        store.set_link(site, i != 5, now_ms - (25 * 60_000 if i == 5 else 0))
        # The morning's survey answers, as the uplink sends them (figures per service).
        rng = random.Random(i)
        surveys = []
        for service, n in (("A", 18 + i), ("B", 6 + i // 2)):
            surveys.append(IkmSums(service=service, n=n,
                                   sums=tuple(round(n * rng.uniform(2.9, 3.7)) for _ in range(IKM_ELEMENTS))))
        store.set_ikm([CityIkm(site=site, day=now.date().isoformat(), services=tuple(surveys))], now_ms)
        live = [(site, "presence/server/server-1", {"role": "server", "device": "server-1", "status": "online"})]
        if i == 3:
            live.append((site, "presence/button/box-04", {"role": "button", "device": "box-04",
                                                          "status": "offline"}))
        if i == 8:
            live.append((site, "kiosk/kiosk-1/printer", {"kiosk": "kiosk-1", "status": "paper_out",
                                                         "detail": "kertas habis"}))
        store.set_live(live, now_ms)


def capture(out: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright
    out.mkdir(parents=True, exist_ok=True)
    name = f"lalopa_shots_{os.getpid()}_{secrets.token_hex(3)}"
    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    dsn = f"postgresql://postgres@127.0.0.1:5432/{name}"
    shots = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            store = Store(dsn)
            fill(store, Path(tmp))
            password = add_viewer(store, "kepala-dinas")
            store.close()
            today = datetime.now(TZ).date()
            start = today - timedelta(days=6)
            with ThreadedServer(create_app(dsn)) as base, sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                try:
                    page = browser.new_page(viewport={"width": 1600, "height": 1000})
                    page.goto(f"{base}/login")
                    page.fill("input[name=name]", "kepala-dinas")
                    page.fill("input[name=password]", password)
                    page.click("button")
                    page.wait_for_load_state("networkidle")
                    page.goto(f"{base}/")
                    page.wait_for_selector("#sites tr")
                    shots.append(_shot(page, out / "city-live.png"))
                    for by in ("site", "cluster"):
                        page.goto(f"{base}/reports?from={start}&to={today}&by={by}")
                        shots.append(_shot(page, out / f"city-report-{by}.png"))
                finally:
                    browser.close()
    finally:
        with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return shots


def _shot(page, path: Path) -> Path:
    page.screenshot(path=str(path), full_page=True)
    return path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m server.devtools.cityshots", description=__doc__)
    p.add_argument("--out", default="docs/city", help="directory for the PNG files")
    args = p.parse_args(argv)
    for path in capture(Path(args.out)):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
