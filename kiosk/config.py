"""The kiosk's TOML configuration, read once at start-up.

Unknown keys are errors (a typo must not silently become a default). The token
is never in the file itself: it comes from ``server.token_file`` or the
``LALOPA_KIOSK_TOKEN`` environment variable.
"""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path

from broker import settings

# Where an installed kiosk keeps its secrets: `lalopa install` writes these files and sets
# these paths in /etc/lalopa/kiosk.toml; `lalopa doctor` reads them back from there.
TOKEN_FILE = "/etc/lalopa/kiosk.token"
BUS_PASSWORD_FILE = "/etc/lalopa/kiosk.mqtt-password"

BACKENDS = ("none", "dummy", "file", "network", "usb", "serial")
PAPER_BACKENDS = ("network", "usb", "serial", "dummy")
PAPER_PROFILES = {58: "POS-5890", 80: "TM-T20II"}


class ConfigError(ValueError):
    """The configuration file is missing, malformed or inconsistent."""


@dataclass(frozen=True)
class ServerConf:
    url: str = "http://127.0.0.1:8080"
    token_file: str = ""
    connect_timeout_s: float = 2.0
    read_timeout_s: float = 4.0
    attempts: int = 3


@dataclass(frozen=True)
class BusConf:
    host: str = ""
    port: int = 1883
    site: str = "dinkes-claim"
    username: str = ""
    password_file: str = ""
    tls_ca: str = ""


@dataclass(frozen=True)
class PrinterConf:
    """Which printer, how to reach it, and the paper width (58 or 80 mm)."""

    backend: str = "none"
    paper: int = 58
    profile: str = ""           # empty: POS-5890 for 58 mm, TM-T20II for 80 mm
    host: str = ""
    port: int = 9100
    timeout_s: float = 3.0      # network/serial; short so a dead printer never hangs a job
    vendor_id: int = 0
    product_id: int = 0
    in_ep: int = 0x82
    out_ep: int = 0x01
    usb_timeout_ms: int = 5000  # escpos defaults to 0, which libusb takes as wait forever
    devfile: str = ""
    baudrate: int = 9600
    path: str = ""              # file backend: a device file or a .bin to replay later
    poll_s: float = 15.0

    @property
    def profile_name(self) -> str:
        return self.profile or PAPER_PROFILES[self.paper]

    @property
    def on_paper(self) -> bool:
        """True when a job ends on paper in the resident's hand: a network, USB or serial
        printer, a file that is a printer device (``/dev/usb/lp0``), or the dummy, which
        stands in for one in tests, screenshots and the demo (``lalopa doctor`` refuses it on
        an installed kiosk). A ``.bin`` file and ``none`` print nothing, so the kiosk must
        not say "take your ticket"."""
        if self.backend == "file":
            return self.path.startswith("/dev/")
        return self.backend in PAPER_BACKENDS


@dataclass(frozen=True)
class ScreenConf:
    fullscreen: bool = True
    inactivity_s: float = 30.0
    confirm_s: float = 20.0
    failed_print_s: float = 300.0   # confirm screen after a failed print; 0 = until "Selesai"
    fps: int = 20                   # touch input polls per second while idle (no redraws)


@dataclass(frozen=True)
class KioskConfig:
    """Everything ``lalopa kiosk`` reads from its TOML file."""

    device_id: str = "kiosk-1"
    server: ServerConf = field(default_factory=ServerConf)
    bus: BusConf = field(default_factory=BusConf)
    printer: PrinterConf = field(default_factory=PrinterConf)
    screen: ScreenConf = field(default_factory=ScreenConf)

    def token(self) -> str:
        """The kiosk's bearer token: env var first, then the token file."""
        env = (settings.get("LALOPA_KIOSK_TOKEN") or "").strip()
        if env:
            return env
        if self.server.token_file:
            try:
                return Path(self.server.token_file).read_text().strip()
            except OSError as exc:
                raise ConfigError(f"cannot read token_file: {exc}") from None
        return ""


def _section(cls, data: dict, name: str):
    if not isinstance(data, dict):
        raise ConfigError(f"[{name}] must be a table")
    known = {f.name: f for f in fields(cls)}
    unknown = set(data) - set(known)
    if unknown:
        raise ConfigError(f"[{name}] unknown keys: {', '.join(sorted(unknown))}")
    out = {}
    for key, value in data.items():
        want = type(getattr(cls(), key))
        if want is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, want) or (want is int and isinstance(value, bool)):
            raise ConfigError(f"[{name}] {key} must be {want.__name__}")
        out[key] = value
    return cls(**out)


def parse_config(data: dict) -> KioskConfig:
    """Build and validate a :class:`KioskConfig` from parsed TOML."""
    unknown = set(data) - {"device_id", "server", "bus", "printer", "screen"}
    if unknown:
        raise ConfigError(f"unknown top-level keys: {', '.join(sorted(unknown))}")
    cfg = KioskConfig(
        device_id=str(data.get("device_id", "kiosk-1")),
        server=_section(ServerConf, data.get("server", {}), "server"),
        bus=_section(BusConf, data.get("bus", {}), "bus"),
        printer=_section(PrinterConf, data.get("printer", {}), "printer"),
        screen=_section(ScreenConf, data.get("screen", {}), "screen"),
    )
    if cfg.printer.backend not in BACKENDS:
        raise ConfigError(f"[printer] backend must be one of {', '.join(BACKENDS)}")
    if cfg.printer.paper not in PAPER_PROFILES:
        raise ConfigError("[printer] paper must be 58 or 80")
    return cfg


def load_config(path: str | os.PathLike) -> KioskConfig:
    """Read and validate a kiosk TOML file; raises ConfigError."""
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    return parse_config(data)
