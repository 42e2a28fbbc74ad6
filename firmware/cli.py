"""``lalopa button run|check``: the counter box program.

``run`` builds the box from its TOML file and loops until SIGTERM, Ctrl-C or
``q``. Under ``GPIOZERO_PIN_FACTORY=mock`` keyboard keys stand in for the
buttons (see :mod:`firmware.keys`). Bench mode, for hosts without GPIO:
``run --mock-pins --press-socket PATH`` takes presses from other processes, and
``press --socket PATH NEXT`` sends one (see :mod:`firmware.presses`). ``check``
validates the config only.
Imports stay light (no pygame, no Flask): this runs on a Pi Zero 2 W.
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys

from .config import ButtonConfigError, load_config

NEEDS_MOCK = ("lalopa button: --press-socket hanya dengan pin tiruan (--mock-pins) / "
              "needs mock pins (--mock-pins): it never presses a real box")


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="lalopa button",
                                 description="LALOPA counter call-button box (tombol loket)")
    sub = ap.add_subparsers(dest="cmd", required=True)
    run = sub.add_parser("run", help="run the box")
    run.add_argument("--config", required=True, help="box TOML file, e.g. firmware/example.toml")
    run.add_argument("--keys-from-stdin", action="store_true",
                     help="mock pins only: read key lines (n r s p N . q) from stdin; EOF quits")
    run.add_argument("--no-keys", action="store_true", help="do not read keys even on a terminal")
    run.add_argument("--mock-pins", action="store_true",
                     help="bench only: gpiozero's mock pins instead of GPIO (no real buttons)")
    run.add_argument("--press-socket", metavar="PATH",
                     help="bench only, needs mock pins: take presses ('<id> NEXT') on this Unix socket")
    run.add_argument("--verbose", action="store_true", help="debug logging")
    check = sub.add_parser("check", help="validate the config file and exit")
    check.add_argument("--config", required=True)
    press = sub.add_parser("press", help="bench: press a button of a box run with --press-socket")
    press.add_argument("--socket", required=True, help="the box's --press-socket path")
    press.add_argument("--id", help="this press's id (default: a new one); repeat it to retry")
    press.add_argument("action", type=str.upper, choices=("NEXT", "RECALL", "SKIP", "PAUSE", "HOLD"))
    return ap


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    if args.cmd == "press":
        return _press(args)
    logging.basicConfig(level=logging.DEBUG if getattr(args, "verbose", False) else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        cfg = load_config(args.config)
    except ButtonConfigError as exc:
        print(f"lalopa button: kesalahan konfigurasi / config error: {exc}", file=sys.stderr)
        return 2
    if args.cmd == "check":
        print(f"OK: {args.config} (device {cfg.device_id}, loket / counter {cfg.counter})")
        return 0
    return _run(cfg, args)


def _press(args) -> int:
    from .presses import press
    try:
        answer = press(args.socket, args.action, args.id)
    except OSError as exc:
        print(f"lalopa button press: kotak tidak menjawab / the box does not answer on "
              f"{args.socket}: {exc}", file=sys.stderr)
        return 1
    print(answer)
    return 0 if " pressed " in f" {answer} " else 1


def _pin_factory(args):
    """(the box's pin factory, whether its pins are mock pins): gpiozero's MockFactory
    with --mock-pins, else gpiozero's own choice (GPIOZERO_PIN_FACTORY)."""
    if args.mock_pins:
        from gpiozero.pins.mock import MockFactory
        return MockFactory(), True
    return None, os.environ.get("GPIOZERO_PIN_FACTORY") == "mock"


def _run(cfg, args) -> int:
    from .box import ButtonBox  # gpiozero and paho only when really running

    factory, mock = _pin_factory(args)
    if args.press_socket and not mock:
        print(NEEDS_MOCK, file=sys.stderr)
        return 2
    try:
        box = ButtonBox(cfg, pin_factory=factory)
    except ButtonConfigError as exc:
        print(f"lalopa button: kesalahan konfigurasi / config error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # gpiozero: no pin library, pin in use, no permission
        print(f"lalopa button: GPIO tidak bisa dipakai / cannot use GPIO: {exc}. "
              "Di PC / on a PC: GPIOZERO_PIN_FACTORY=mock", file=sys.stderr)
        if os.environ.get("DEBUG") == "1":
            raise
        return 1
    signal.signal(signal.SIGTERM, lambda *_: box.request_stop())
    keys = presses = None
    try:
        box.start()
        if args.press_socket:
            from .presses import PressServer
            try:
                presses = PressServer(box, args.press_socket).start()
            except RuntimeError:   # the pins are real after all: never press a real box
                print(NEEDS_MOCK, file=sys.stderr)
                return 2
        elif not args.no_keys and _mock_pins(box):
            from .keys import start_keys
            keys = start_keys(box, lines=args.keys_from_stdin)
        elif args.keys_from_stdin:
            print("lalopa button: --keys-from-stdin perlu / needs GPIOZERO_PIN_FACTORY=mock",
                  file=sys.stderr)
            return 2
        logging.getLogger(__name__).info("box %s ready for counter %d on %s:%s",
                                         cfg.device_id, cfg.counter, cfg.bus["host"], cfg.bus["port"])
        box.run()
    except KeyboardInterrupt:
        pass
    finally:
        if keys is not None:
            keys.close()
        if presses is not None:
            presses.close()
        box.close()
    return 0


def _mock_pins(box) -> bool:
    return any(hasattr(b.pin, "drive_low") for b in box.panel.buttons.values())
