"""The board's TOML file: ``[bus]``, ``device_id``, ``[voice]``, ``[board]``.

Every setting is declared once in ``SETTINGS`` with its default and help;
unknown keys are errors so a typo never silently does nothing. See
``display/example.toml`` and docs/DISPLAY.md.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from broker.protocol import ID_RE, SITE_RE

from .words import READINGS


# Where an installed board keeps its broker password: `lalopa install` writes this file and
# sets this path in /etc/lalopa/display.toml.
BUS_PASSWORD_FILE = "/etc/lalopa/display.mqtt-password"


class DisplayConfigError(ValueError):
    """The config file is wrong; the message says what to fix (Indonesian, then English)."""


# table -> {key: (default, type, help)}
SETTINGS: dict[str, dict[str, tuple]] = {
    "bus": {
        "host": ("127.0.0.1", str, "broker host"),
        "port": (1883, int, "broker port"),
        "site": ("dinkes-claim", str, "site id: the topic root lalopa/v1/<site>/"),
        "username": (None, str, "broker user name (optional)"),
        "password_file": (None, str, "file holding the broker password (optional)"),
        "tls_ca": (None, str, "CA certificate for TLS (optional)"),
    },
    "voice": {
        "enabled": (True, bool, "announce calls aloud"),
        "reading": ("number", str, "'number' (A dua puluh tiga) or 'digits' (A nol dua tiga)"),
        "repeat": (1, int, "how many times each call is spoken after the chime (1-3)"),
        "volume": (1.0, float, "0.0-1.0"),
        "voice_pack": (None, str, "folder of recorded <clip>.wav files; missing clips use espeak-ng"),
        "cache_dir": ("~/.cache/lalopa/voice", str, "where espeak-ng clips are written on first run"),
        "espeak": ("espeak-ng", str, "espeak-ng program"),
        "chime_ms": (700, int, "length of the synthesised chime"),
        "gap_ms": (60, int, "pause between words"),
        "phrase_gap_ms": (300, int, "pause between phrases and repeats"),
    },
    "board": {
        "flash_s": (6.0, float, "how long a new call flashes"),
        "clock_seconds": (False, bool, "show seconds (redraws the clock every second)"),
        "ticker_speed": (120.0, float, "running text speed in pixels per second at 1080p"),
        "ticker_fps": (10, int, "running text frames per second while it scrolls"),
    },
}


@dataclass
class DisplayConfig:
    """A validated board configuration; tables are plain dicts with every key set."""

    device_id: str = "board-1"
    bus: dict = field(default_factory=lambda: _defaults("bus"))
    voice: dict = field(default_factory=lambda: _defaults("voice"))
    board: dict = field(default_factory=lambda: _defaults("board"))

    def password(self) -> str | None:
        path = self.bus.get("password_file")
        return Path(path).expanduser().read_text().strip() if path else None


def _defaults(table: str) -> dict:
    return {k: v[0] for k, v in SETTINGS[table].items()}


def _fail(id_text: str, en_text: str) -> DisplayConfigError:
    return DisplayConfigError(f"{id_text} / {en_text}")


def from_dict(data: dict) -> DisplayConfig:
    """Validate a parsed TOML document."""
    unknown = set(data) - {"device_id", *SETTINGS}
    if unknown:
        raise _fail(f"kunci tidak dikenal: {sorted(unknown)}", f"unknown keys: {sorted(unknown)}")
    cfg = DisplayConfig(device_id=str(data.get("device_id", "board-1")))
    if not ID_RE.match(cfg.device_id):
        raise _fail("device_id tidak valid", f"device_id {cfg.device_id!r} is not valid")
    for table in SETTINGS:
        setattr(cfg, table, _table(table, data.get(table, {})))
    _check(cfg)
    return cfg


def _table(table: str, given) -> dict:
    if not isinstance(given, dict):
        raise _fail(f"[{table}] harus berupa tabel", f"[{table}] must be a table")
    values = _defaults(table)
    for key, value in given.items():
        if key not in SETTINGS[table]:
            raise _fail(f"kunci tidak dikenal [{table}] {key}", f"unknown key [{table}] {key}")
        kind = SETTINGS[table][key][1]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise _fail(f"[{table}] {key} harus {kind.__name__}",
                        f"[{table}] {key} must be {kind.__name__}, got {value!r}")
        values[key] = value
    return values


def _check(cfg: DisplayConfig) -> None:
    if not SITE_RE.match(cfg.bus["site"]):
        raise _fail("[bus] site tidak valid", f"[bus] site {cfg.bus['site']!r} is not valid")
    if cfg.voice["reading"] not in READINGS:
        raise _fail("[voice] reading harus 'number' atau 'digits'",
                    f"[voice] reading must be one of {READINGS}")
    if not 1 <= cfg.voice["repeat"] <= 3:
        raise _fail("[voice] repeat harus 1-3", "[voice] repeat must be 1-3")
    if not 0.0 <= cfg.voice["volume"] <= 1.0:
        raise _fail("[voice] volume harus 0.0-1.0", "[voice] volume must be 0.0-1.0")
    if not 1 <= cfg.board["ticker_fps"] <= 60:
        raise _fail("[board] ticker_fps harus 1-60", "[board] ticker_fps must be 1-60")


def load(path: str | Path) -> DisplayConfig:
    """Read and validate a board config file."""
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise _fail(f"berkas konfigurasi tidak bisa dibaca: {path}", f"cannot read config: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise _fail(f"berkas konfigurasi rusak: {path}", f"invalid TOML: {exc}") from None
    return from_dict(data)
