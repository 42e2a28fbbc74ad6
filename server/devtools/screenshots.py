"""``python -m server.devtools.screenshots --out docs/dashboard``: PNGs of the web pages.

Builds a throw-away server (temporary database, the example site, a seeded
sample morning on a fake clock, a device table as the MQTT bridge would fill
it), logs in with headless Chromium and captures the live view, a report and
the verifier panel, on a desktop and a tablet size; then (``--ikm-out``) the
satisfaction survey on a phone, the IKM report and the staffing advice.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from broker.protocol import Presence, PrinterStatus
from server.clock import FakeClock, iso_local
from server.config import EXAMPLE_SITE, load_site
from server.presence import DeviceBook
from server.queue import QueueService
from server.devtools.devserver import ThreadedServer
from server.devtools.sampleday import play_day

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
PASSWORD = "contoh-sandi-demo-1"  # a throw-away database only


def build_demo(tmp: str, start: datetime | None = None, config: dict | None = None):
    """A QueueService + app with a played sample morning; returns (app, svc, clock, user ids)."""
    from server.app import create_app
    clock = FakeClock(start or datetime(2026, 11, 23, 8, 0, tzinfo=ZoneInfo("Asia/Jakarta")))
    db = os.path.join(tmp, "lalopa.db")
    svc = QueueService(db, load_site(EXAMPLE_SITE), clock)
    app = create_app({"LALOPA_QUEUE": svc, "LALOPA_DB": db, "LALOPA_SSE_TICK_S": 1.0, **(config or {})})
    users = app.extensions["lalopa.users"]
    ids = {"admin": users.create("admin", "admin", PASSWORD),
           "supervisor": users.create("supervisor", "supervisor", PASSWORD)}
    verifiers = {n: users.create(f"verif{n}", "verifier", PASSWORD, counter=n) for n in (1, 2, 3, 4, 5, 15)}
    ids.update({f"verif{n}": uid for n, uid in verifiers.items()})
    play_day(svc, clock, verifiers, minutes=100, arrivals_per_min=0.9)
    ticket = svc.counter_state(4)["ticket"]
    for step in (("start",) if ticket and ticket["status"] == "called" else ()) + (("finish",) if ticket else ()):
        svc.counter_action(4, step, command_id=f"shot-{step}", device="sampleday", user_id=verifiers[4])
    svc.counter_action(4, "pause", command_id="shot-pause", device="sampleday",
                       user_id=verifiers[4], reason="Sholat")
    return app, svc, clock, ids


def demo_devices(svc) -> DeviceBook:
    """The bridge's device table for a running site, fed the messages the bus would carry.

    The server, kiosk-1 (printer paper low), board-1 and button boxes 01–16 came
    online when the day started; box-09 then dropped off (its offline last will).
    """
    now_ms = svc.now()["epoch_ms"]
    at = {"ms": now_ms - 100 * 60_000}
    book = DeviceBook(now=lambda: iso_local(at["ms"], svc.site.tz))
    devices = [("server", "server"), ("kiosk", "kiosk-1"), ("display", "board-1")]
    devices += [("button", f"box-{n:02d}") for n in range(1, 17)]
    for role, device in devices:
        book.presence(Presence(role=role, device=device, status="online"))
        at["ms"] += 1_000
    book.printer(PrinterStatus(kiosk="kiosk-1", status="ok"))
    at["ms"] = now_ms - 12 * 60_000
    book.presence(Presence(role="button", device="box-09", status="offline"))
    at["ms"] = now_ms - 4 * 60_000
    book.printer(PrinterStatus(kiosk="kiosk-1", status="paper_low", detail="kertas hampir habis"))
    return book


def login(page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-submit")
    page.wait_for_load_state("networkidle")


def capture(out: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright
    out.mkdir(parents=True, exist_ok=True)
    shots = []
    with tempfile.TemporaryDirectory() as tmp:
        app, svc, clock, ids = build_demo(tmp)
        app.extensions["lalopa.bridge"] = demo_devices(svc)  # device health without a broker
        day = svc.now()["service_day"]
        with ThreadedServer(app) as base, sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                for size, viewport in (("desktop", {"width": 1366, "height": 900}),
                                       ("tablet", {"width": 800, "height": 1280})):
                    ctx = browser.new_context(viewport=viewport)
                    page = ctx.new_page()
                    login(page, base, "supervisor")
                    page.goto(f"{base}/dashboard")
                    page.wait_for_selector("#conn.online")
                    shots.append(_shot(page, out / f"live-{size}.png"))
                    page.goto(f"{base}/reports?from={day}&to={day}")
                    shots.append(_shot(page, out / f"report-{size}.png"))
                    ctx.close()
                    ctx = browser.new_context(viewport=viewport)
                    page = ctx.new_page()
                    login(page, base, "verif1")
                    page.wait_for_selector("#conn.online")
                    shots.append(_shot(page, out / f"panel-{size}.png"))
                    ctx.close()
            finally:
                browser.close()
        svc.close()
    return shots


def capture_ikm(out: Path) -> list[Path]:
    """The satisfaction survey on a phone, the IKM report and the staffing view.

    The demo morning gets eight weeks of history before it (``server.devtools.history``):
    arrivals, services, residents who left, survey answers; half of today's served
    residents answer too, and the smiley pads have a few presses.
    """
    from playwright.sync_api import sync_playwright

    from server.devtools.history import DEMO_PATTERN, press_smileys, rate_served, write_history
    out.mkdir(parents=True, exist_ok=True)
    shots = []
    with tempfile.TemporaryDirectory() as tmp:
        app, svc, clock, ids = build_demo(tmp)
        write_history(svc, weeks=8, pattern=DEMO_PATTERN, patience_min=45, counters=10, rated=0.15)
        rate_served(svc, share=0.5)
        press_smileys(svc)
        token = svc.db.read().execute(
            "SELECT token FROM tickets t WHERE status = 'done' AND service_day = ? AND NOT EXISTS"
            " (SELECT 1 FROM ikm_responses r WHERE r.ticket_id = t.id) ORDER BY id DESC LIMIT 1",
            (svc.now()["service_day"],)).fetchone()[0]
        day = svc.now()["service_day"]
        with ThreadedServer(app) as base, sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                ctx = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2)
                page = ctx.new_page()
                page.goto(f"{base}/t/{token}")
                page.wait_for_selector("#survey-form")
                page.check("#el-u1 input[value='4']")
                page.evaluate("window.scrollTo(0, 0)")
                page.screenshot(path=str(out / "survey-phone.png"))   # the first screen, as seen
                shots.append(out / "survey-phone.png")
                ctx.close()
                ctx = browser.new_context(viewport={"width": 1366, "height": 900})
                page = ctx.new_page()
                login(page, base, "supervisor")
                page.goto(f"{base}/ikm?from={day[:4]}-01-01&to={day}")
                shots.append(_shot(page, out / "ikm-report.png"))
                page.goto(f"{base}/staffing")
                shots.append(_shot(page, out / "staffing.png"))
                ctx.close()
            finally:
                browser.close()
        svc.close()
    return shots


def _shot(page, path: Path) -> Path:
    page.screenshot(path=str(path), full_page=True)
    return path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m server.devtools.screenshots", description=__doc__)
    p.add_argument("--out", default="docs/dashboard", help="directory for the PNG files")
    p.add_argument("--ikm-out", default="docs/ikm",
                   help="directory for the survey, IKM report and staffing PNG files")
    args = p.parse_args(argv)
    for path in capture(Path(args.out)) + capture_ikm(Path(args.ikm_out)):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
