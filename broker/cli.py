"""``lalopa``: one console script, one subcommand per role.

Each subcommand lives in the package of its role and is imported only when it
is run, so a button box never imports pygame or Flask.
"""
from __future__ import annotations

import importlib
import sys

# subcommand -> ("module:function", one-line help). The function takes argv.
COMMANDS: dict[str, tuple[str, str]] = {
    "server": ("server.cli:server_main", "run the queue server (HTTP API, bus bridge, dashboard)"),
    "db": ("server.cli:db_main", "database tools: backup, init, migrate"),
    "user": ("server.cli:user_main", "manage log-ins: create the first admin, add users"),
    "token": ("server.cli:token_main", "manage device tokens for kiosks and panels"),
    "kiosk": ("kiosk.cli:main", "run the touchscreen kiosk, or preview a ticket"),
    "display": ("display.cli:main", "run the display board"),
    "button": ("firmware.cli:main", "run a counter's call-button box"),
    "broker": ("broker.admin:main", "Mosquitto tools: add a device, write configs"),
    "simulate": ("server.devtools.simulate:main", "play a realistic day against a running server"),
    "demo": ("server.devtools.demo:main", "run the whole system on this machine"),
    "install": ("server.appliance.install:main", "provision this Raspberry Pi for one role"),
    "doctor": ("server.appliance.doctor:main",
               "check this device for real: config, server, token, broker, secrets, printer, audio, GPIO, clock, disk"),
    "eta-backtest": ("server.eta_backtest:main",
                     "replay days and measure how true the wait estimates were (docs/ETA.md)"),
    "bench": ("server.devtools.bench:main", "run the benchmarks and write docs/BENCHMARKS.md"),
    "central": ("server.central.cli:main",
                "the city's centre (ingest, dashboard) and a site's link to it: serve, add-site, join, uplink"),
}


def usage() -> str:
    lines = ["usage: lalopa <command> [options]", "", "commands:"]
    width = max(len(name) for name in COMMANDS)
    for name, (_, text) in COMMANDS.items():
        lines.append(f"  {name.ljust(width)}  {text}")
    lines.append("")
    lines.append("Run 'lalopa <command> --help' for the options of one command.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(usage())
        return 0
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        print(f"lalopa: unknown command '{name}'\n\n{usage()}", file=sys.stderr)
        return 2
    target, _ = COMMANDS[name]
    module_name, func_name = target.split(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if not _role_missing(module_name, exc.name):
            raise  # a present module is broken: show the real traceback
        print(f"lalopa {name}: bagian '{exc.name}' tidak terpasang / the part '{exc.name}' "
              f"is not installed here. Pasang dengan / install it with: "
              f"pip install 'lalopa[{_extra_for(name)}]'", file=sys.stderr)
        return 1
    result = getattr(module, func_name)(rest)
    return int(result or 0)


OWN_PACKAGES = ("broker", "display", "firmware", "kiosk", "server")


def _role_missing(module_name: str, missing: str | None) -> bool:
    """True when the role itself (or a third-party package it needs) is absent.

    A module of our own that a present module imports by a wrong name is a bug
    in that module, not a missing role: it must surface as a traceback.
    """
    if not missing:
        return False
    if module_name == missing or module_name.startswith(missing + "."):
        return True
    return missing.split(".")[0] not in OWN_PACKAGES


def _extra_for(name: str) -> str:
    return {"kiosk": "kiosk", "display": "display", "button": "button",
            "central": "central"}.get(name, "server")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
