"""The button box's TOML file: ``device_id``, ``counter``, ``[bus]``, ``[pins]``,
``[leds]``, ``[buzzer]``, ``[timing]``, ``[pause]``, ``[smiley]``, ``[display]``.

Every setting is declared once in ``SETTINGS`` with its default and help;
unknown keys are errors, so a typo never silently does nothing. See
``firmware/example.toml`` and docs/BUTTONS.md.

Example::

    >>> cfg = load_config("firmware/example.toml")   # doctest: +SKIP
    >>> cfg.counter, cfg.pins["next"]                  # doctest: +SKIP
    (1, 17)
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from broker.protocol import ID_RE, SITE_RE

# Where an installed box keeps its broker password: `lalopa install` writes this file and
# sets this path in /etc/lalopa/button.toml.
BUS_PASSWORD_FILE = "/etc/lalopa/button.mqtt-password"

# A command id is "<device>.<nonce>.<counter>.<seq>" and must fit ID_RE (64 chars).
MAX_DEVICE_LEN = 32

# table -> {key: (default, type(s), help)}
SETTINGS: dict[str, dict[str, tuple]] = {
    "bus": {
        "host": ("127.0.0.1", str, "broker host"),
        "port": (1883, int, "broker port"),
        "site": ("dinkes-claim", str, "site id: the topic root lalopa/v1/<site>/"),
        "username": (None, str, "broker user name (optional; production: the device id)"),
        "password_file": (None, str, "file holding the broker password (optional)"),
        "tls_ca": (None, str, "CA certificate for TLS (optional)"),
    },
    "pins": {
        "next": (17, (int, str), "NEXT button (panggil berikutnya): short press = next, hold = finish"),
        "recall": (27, (int, str), "RECALL button (panggil ulang)"),
        "skip": (22, (int, str), "SKIP button (lewati): marks the called number as no-show"),
        "pause": (None, (int, str), "PAUSE button (optional): toggles pause / resume"),
    },
    "leds": {
        "green": (5, (int, str), "green LED: ready"),
        "yellow": (6, (int, str), "yellow LED: busy (waiting for the server, serving, paused)"),
        "red": (13, (int, str), "red LED: error (offline, refused, no answer)"),
        "active_high": (True, bool, "false for LEDs wired to 3.3 V (sinking)"),
    },
    "buzzer": {
        "pin": (None, (int, str), "buzzer pin (optional)"),
        "active_high": (True, bool, "false for a low-triggered buzzer module"),
    },
    "timing": {
        "bounce_s": (0.03, float, "gpiozero bounce_time (small: it adds latency with lgpio)"),
        "cooldown_s": (1.0, float, "presses within this time of the last accepted press are ignored"),
        "hold_s": (2.0, float, "holding NEXT this long means 'finish' instead of 'next'"),
        "ack_timeout_s": (3.0, float, "no acknowledgement within this time lights the error pattern"),
        "max_command_age_s": (10, int, "MQTT message expiry of a press; match the site's setting"),
    },
    "pause": {
        "reason": ("Istirahat / Break", str, "reason sent with a pause from the PAUSE button"),
    },
    "smiley": {
        "very_unhappy": (None, (int, str), "smiley pad (optional): face 1, very unhappy / sangat tidak puas"),
        "unhappy": (None, (int, str), "smiley pad: face 2, unhappy / tidak puas"),
        "happy": (None, (int, str), "smiley pad: face 3, happy / puas"),
        "very_happy": (None, (int, str), "smiley pad: face 4, very happy / sangat puas"),
        "cooldown_s": (5.0, float, "after a vote the pad ignores presses this long (one resident, one vote)"),
    },
    "display": {
        "enabled": (False, bool, "drive a multiplexed 7-segment display (gpiozero LEDMultiCharDisplay)"),
        "segments": ([], list, "7 segment pins in order a, b, c, d, e, f, g"),
        "digits": ([], list, "digit-select pins, left to right (through transistors)"),
        "active_high": (True, bool, "segments: true for common cathode, false for common anode"),
        "alternate_s": (3.0, float, "switch between the number and the waiting count this often"),
    },
}
#: The smiley pad's buttons, in score order (1 = very unhappy .. 4 = very happy).
SMILEY_FACES = ("very_unhappy", "unhappy", "happy", "very_happy")
TOP_LEVEL = {"device_id": ("box-01", str, "this box's id (also its broker user name)"),
             "counter": (1, int, "the counter (loket) number this box belongs to")}


class ButtonConfigError(ValueError):
    """The config file is wrong; the message says what to fix (Indonesian, then English)."""


def _defaults(table: str) -> dict:
    return {k: (list(v[0]) if isinstance(v[0], list) else v[0]) for k, v in SETTINGS[table].items()}


@dataclass
class BoxConfig:
    """A validated box configuration; tables are plain dicts with every key set."""

    device_id: str = "box-01"
    counter: int = 1
    tables: dict = field(default_factory=lambda: {t: _defaults(t) for t in SETTINGS})

    def __getattr__(self, name: str):
        # cfg.pins, cfg.timing, ...: read-only views of the tables.
        tables = self.__dict__.get("tables", {})
        if name in tables:
            return tables[name]
        raise AttributeError(name)

    def bus_password(self) -> str | None:
        path = self.bus.get("password_file")
        if not path:
            return None
        try:
            return Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ButtonConfigError(f"File kata sandi tidak terbaca / cannot read password file "
                                    f"{path}: {exc.strerror}") from None


def _err(where: str, id_text: str, en_text: str) -> ButtonConfigError:
    return ButtonConfigError(f"{where}: {id_text} / {en_text}")


def _check_value(where: str, value, kind):
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if isinstance(value, bool) and bool not in kinds:
        raise _err(where, "jenis nilai salah", f"must be {kind}, got a boolean")
    if float in kinds and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, kinds):
        names = "/".join(k.__name__ for k in kinds)
        raise _err(where, f"harus {names}", f"must be {names}, got {type(value).__name__}")
    return value


def parse_config(data: dict, source: str = "config") -> BoxConfig:
    """Validate a parsed TOML dict into a :class:`BoxConfig` (raises ButtonConfigError)."""
    cfg = BoxConfig()
    for key, value in data.items():
        where = f"{source}: {key}"
        if key in TOP_LEVEL:
            setattr(cfg, key, _check_value(where, value, TOP_LEVEL[key][1]))
        elif key in SETTINGS:
            if not isinstance(value, dict):
                raise _err(where, "harus berupa tabel", "must be a table")
            for sub, subvalue in value.items():
                if sub not in SETTINGS[key]:
                    raise _err(f"{where}.{sub}", "kunci tidak dikenal", "unknown key")
                cfg.tables[key][sub] = _check_value(f"{where}.{sub}", subvalue, SETTINGS[key][sub][1])
        else:
            raise _err(where, "kunci tidak dikenal", "unknown key")
    _check_semantics(cfg, source)
    return cfg


def _check_semantics(cfg: BoxConfig, source: str) -> None:
    if not ID_RE.match(cfg.device_id) or len(cfg.device_id) > MAX_DEVICE_LEN:
        raise _err(f"{source}: device_id", "hanya huruf, angka, . _ : - (maks. 32)",
                   f"letters, digits, . _ : - only, at most {MAX_DEVICE_LEN} characters")
    if not 1 <= cfg.counter <= 999:
        raise _err(f"{source}: counter", "nomor loket 1..999", "counter number must be 1..999")
    if not SITE_RE.match(cfg.bus["site"]):
        raise _err(f"{source}: bus.site", "id situs tidak valid", f"must match {SITE_RE.pattern}")
    used = [v for t in ("pins", "leds") for k, v in cfg.tables[t].items()
            if k != "active_high" and v is not None]
    used += [cfg.buzzer["pin"]] if cfg.buzzer["pin"] is not None else []
    faces = [cfg.smiley[f] for f in SMILEY_FACES]
    if any(p is not None for p in faces):
        if any(p is None for p in faces):
            raise _err(f"{source}: smiley", "pasang keempat tombol atau tidak sama sekali",
                       "give all four face pins or none")
        used += faces
    if cfg.display["enabled"]:
        _check_display(cfg.display, source)
        used += cfg.display["segments"] + cfg.display["digits"]
    dupes = sorted({str(p) for p in used if used.count(p) > 1})
    if dupes:
        raise _err(f"{source}: pins", f"pin dipakai dua kali: {', '.join(dupes)}",
                   f"pin used twice: {', '.join(dupes)}")
    t = cfg.timing
    if not (0 <= t["bounce_s"] <= 0.2 and 0 <= t["cooldown_s"] <= 10 and 0.1 <= t["hold_s"] <= 10
            and 0.5 <= t["ack_timeout_s"] <= 30 and 1 <= t["max_command_age_s"] <= 600):
        raise _err(f"{source}: timing", "nilai di luar batas (lihat docs/BUTTONS.md)",
                   "a value is out of range (see docs/BUTTONS.md)")


def _check_display(display: dict, source: str) -> None:
    if len(display["segments"]) != 7:
        raise _err(f"{source}: display.segments", "harus 7 pin (a..g)", "must list 7 pins (a..g)")
    if not 1 <= len(display["digits"]) <= 8:
        raise _err(f"{source}: display.digits", "1 sampai 8 pin digit", "must list 1 to 8 digit pins")


def load_config(path: str | Path) -> BoxConfig:
    """Read and validate a box config file."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ButtonConfigError(f"{path}: tidak bisa dibaca / cannot be read: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ButtonConfigError(f"{path}: bukan TOML yang valid / not valid TOML: {exc}") from None
    return parse_config(data, str(path))
