"""``lalopa kiosk run|preview-ticket|screenshots``."""
from __future__ import annotations

import argparse
import logging
import os
import sys

from broker import settings

from .config import ConfigError, load_config

EXAMPLE_TICKET = {
    "ticket": {"id": 1, "number": "A-023", "service": "A", "priority": None,
               "status": "waiting", "token": "preview", "issued_at": "2026-11-23T08:41:07+07:00",
               "service_day": "2026-11-23", "people_ahead": 7, "est_wait_s": 840,
               "est_low_s": 360, "est_high_s": 1320},
    "status_url": "http://127.0.0.1:8080/t/preview",
}


def _size(text: str) -> tuple[int, int]:
    w, _, h = text.lower().partition("x")
    return int(w), int(h)


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="lalopa kiosk", description="LALOPA touchscreen ticket kiosk")
    sub = ap.add_subparsers(dest="cmd", required=True)
    run = sub.add_parser("run", help="run the kiosk (fullscreen unless --windowed)")
    run.add_argument("--config", required=True)
    run.add_argument("--windowed", type=_size, metavar="WxH")
    run.add_argument("--screenshots", metavar="DIR", help="save each screen as PNG into DIR")
    run.add_argument("--demo-taps", type=int, default=0, metavar="N",
                     help="demo only: take N numbers by scripted taps (kiosk/demotaps.py)")
    prev = sub.add_parser("preview-ticket", help="render a ticket to PNG (the real ESC/POS bytes)")
    prev.add_argument("--config", required=True)
    prev.add_argument("--out", required=True)
    prev.add_argument("--paper", type=int, choices=(58, 80))
    prev.add_argument("--offline", action="store_true",
                      help="don't ask the server for the site; use an example facility")
    shots = sub.add_parser("screenshots", help="render every screen and a ticket into a folder")
    shots.add_argument("--out", default="docs/kiosk")
    return ap


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    problem = settings.check_at_start("lalopa kiosk")
    if problem:
        print(problem, file=sys.stderr)
        return 2
    try:
        if args.cmd == "run":
            return _run(args)
        if args.cmd == "preview-ticket":
            return _preview(args)
        from .screenshots import make_all
        make_all(args.out)
        return 0
    except ConfigError as exc:
        print(f"lalopa kiosk: config error: {exc}", file=sys.stderr)
        return 2


def _run(args) -> int:
    cfg = load_config(args.config)
    if not cfg.token():
        print("lalopa kiosk: no token: set LALOPA_KIOSK_TOKEN or [server] token_file", file=sys.stderr)
        return 2
    from .app import KioskApp
    app = KioskApp.from_config(cfg, windowed=args.windowed, screenshot_dir=args.screenshots)
    if args.demo_taps > 0:
        from .demotaps import DemoResident
        DemoResident(app, args.demo_taps).start()
    app.run()
    return 0


def _preview(args) -> int:
    from .client import ServerClient, ServerUnreachable, SiteInfo
    from .preview import render_png
    from .ticket import TicketData, render_ticket
    cfg = load_config(args.config)
    paper = args.paper or cfg.printer.paper
    site = None
    if not args.offline:
        try:
            site = ServerClient(cfg.server.url, cfg.token(), attempts=1).site()
        except (ServerUnreachable, Exception) as exc:  # preview still works without a server
            print(f"lalopa kiosk: server not reachable ({exc}); using example data", file=sys.stderr)
    if site is None:
        site = SiteInfo.from_json(example_site())
    data = TicketData.from_issue(EXAMPLE_TICKET, site)
    profile = cfg.printer.profile if cfg.printer.paper == paper else None
    render_png(render_ticket(data, paper, profile or None), args.out, paper)
    print(os.path.abspath(args.out))
    return 0


def example_site() -> dict:
    """Site data for offline previews: read from the server's example site file."""
    import tomllib
    from pathlib import Path
    path = Path(__file__).resolve().parent.parent / "server" / "sites" / "example.toml"
    with open(path, "rb") as fh:
        return tomllib.load(fh)
