"""``lalopa display``: run the board, or render its reference screenshots.

    lalopa display run --config display.toml [--windowed 1366x768] [--screenshots DIR]
                       [--call-log FILE]
    lalopa display screenshots --out docs/display
    lalopa display voice --config display.toml     # fill the espeak clip cache now
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys

from broker import settings

log = logging.getLogger("display")


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError("ukuran harus LxT, mis. 1366x768 / size must be WxH, e.g. 1366x768")
    return w, h


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="lalopa display", description="LALOPA display board")
    sub = p.add_subparsers(dest="cmd", required=True)
    run = sub.add_parser("run", help="run the board")
    run.add_argument("--config", required=True, help="board TOML file (see display/example.toml)")
    run.add_argument("--windowed", type=_size, metavar="WxH", help="a window instead of fullscreen")
    run.add_argument("--screenshots", metavar="DIR", help="save a PNG of the board on every change")
    run.add_argument("--validate-config", action="store_true", help="check the config file and exit")
    run.add_argument("--call-log", metavar="FILE",
                     help="append one JSON line per call shown/announced (display/calllog.py)")
    shots = sub.add_parser("screenshots", help="render the reference screenshots")
    shots.add_argument("--out", default="docs/display")
    voice = sub.add_parser("voice", help="synthesise the default voice clips now")
    voice.add_argument("--config", required=True)
    return p


def main(argv: list[str]) -> int:
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    args = parser().parse_args(argv)
    problem = settings.check_at_start("lalopa display")
    if problem:
        print(problem, file=sys.stderr)
        return 1
    from .app import setup_logging
    setup_logging()
    from .config import DisplayConfigError, load
    try:
        if args.cmd == "screenshots":
            return _screenshots(args.out)
        config = load(args.config)
    except DisplayConfigError as exc:
        print(f"lalopa display: {exc}", file=sys.stderr)
        return 1
    if args.cmd == "voice":
        return _voice(config)
    if args.validate_config:
        print("konfigurasi benar / configuration OK")
        return 0
    return _run(config, args.windowed, args.screenshots, args.call_log)


def _run(config, size, screenshots, call_log=None) -> int:
    from .app import BoardApp
    app = BoardApp(config, size=size, screenshots_dir=screenshots)
    # SIGTERM (systemd) and SIGINT: SDL installs handlers that post a QUIT event
    # when the signal is at its default, and QUIT wakes pygame.event.wait at once.
    # A Python handler would only run after the wait returns (up to 30 s later).
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    app.open()
    try:
        if call_log:
            from .calllog import CallLog, run_logged
            run_logged(app, CallLog(call_log))
        else:
            app.run()
    except KeyboardInterrupt:
        pass
    finally:
        app.close()
    return 0


def _screenshots(out: str) -> int:
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    from .screenshots import render_all
    paths = (render_all(out) + render_all(out, (1366, 768), "-1366x768")
             + render_all(out, (1080, 1920), "-portrait"))
    for path in paths:
        print(path)
    return 0


def _voice(config) -> int:
    from .voice import ClipLibrary
    v = config.voice
    lib = ClipLibrary(v["cache_dir"], v["voice_pack"], espeak=v["espeak"])
    ready = lib.prepare()
    from .words import all_clip_names
    total = len(all_clip_names())
    print(f"{ready}/{total} klip suara siap / voice clips ready in {lib.cache_dir}")
    return 0 if ready == total else 1
