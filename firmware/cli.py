"""``lalopa button run|check``: the counter box program.

``run`` builds the box from its TOML file and loops until SIGTERM, Ctrl-C or
``q``. Under ``GPIOZERO_PIN_FACTORY=mock`` keyboard keys stand in for the
buttons (see :mod:`firmware.keys`). ``check`` validates the config only.
Imports stay light (no pygame, no Flask): this runs on a Pi Zero 2 W.
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys

from .config import ButtonConfigError, load_config


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="lalopa button",
                                 description="LALOPA counter call-button box (tombol loket)")
    sub = ap.add_subparsers(dest="cmd", required=True)
    run = sub.add_parser("run", help="run the box")
    run.add_argument("--config", required=True, help="box TOML file, e.g. firmware/example.toml")
    run.add_argument("--keys-from-stdin", action="store_true",
                     help="mock pins only: read key lines (n r s p N . q) from stdin; EOF quits")
    run.add_argument("--no-keys", action="store_true", help="do not read keys even on a terminal")
    run.add_argument("--verbose", action="store_true", help="debug logging")
    check = sub.add_parser("check", help="validate the config file and exit")
    check.add_argument("--config", required=True)
    return ap


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
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


def _run(cfg, args) -> int:
    from .box import ButtonBox  # gpiozero and paho only when really running

    try:
        box = ButtonBox(cfg)
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
    keys = None
    try:
        box.start()
        if not args.no_keys and _mock_pins(box):
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
        box.close()
    return 0


def _mock_pins(box) -> bool:
    return any(hasattr(b.pin, "drive_low") for b in box.panel.buttons.values())
