"""Every ``LALOPA_*`` environment setting, declared once: name, type, default, meaning.

Programs read a setting only through :func:`get`, and check them all at start
with :func:`check_environment`: a value that does not parse is an error that
names the variable and the form it expects, never a silent fallback to the
default. ``docs/SETTINGS.md`` is generated from :data:`SETTINGS` by
:func:`markdown_table`, and a test keeps the two equal.

It lives in ``broker/`` beside the other shared contracts so the kiosk, the
board and the button box read settings the same way the server does, without
importing Flask.

    >>> get("LALOPA_KIOSK_BURST", {"LALOPA_KIOSK_BURST": "12"})
    12
    >>> get("LALOPA_KIOSK_BURST", {"LALOPA_KIOSK_BURST": "many"})
    Traceback (most recent call last):
    ...
    broker.settings.SettingError: LALOPA_KIOSK_BURST='many': expected a whole number of at least 1
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any, Callable, Mapping

PREFIX = "LALOPA_"
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


class SettingError(ValueError):
    """An environment setting whose value does not have the declared form."""


@dataclass(frozen=True)
class Setting:
    """One environment setting: how to read it and what it means."""

    name: str
    kind: str            # "int", "bool", "path", "text", "choice"
    default: Any
    help: str
    programs: str        # which programs read it
    minimum: int | None = None
    choices: tuple[str, ...] = ()
    secret: bool = False

    @property
    def form(self) -> str:
        """The expected form, in words, for errors and the docs."""
        if self.kind == "int":
            return "a whole number" + (f" of at least {self.minimum}" if self.minimum is not None else "")
        if self.kind == "bool":
            return "1/0, true/false, yes/no or on/off"
        if self.kind == "choice":
            return "one of " + ", ".join(self.choices)
        if self.kind == "path":
            return "a file path"
        return "text"

    def parse(self, raw: str) -> Any:
        return _PARSERS[self.kind](self, raw.strip())


def _int(s: Setting, raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise SettingError(f"{s.name}={raw!r}: expected {s.form}") from None
    if s.minimum is not None and value < s.minimum:
        raise SettingError(f"{s.name}={raw!r}: expected {s.form}")
    return value


def _bool(s: Setting, raw: str) -> bool:
    if raw.lower() in _TRUE:
        return True
    if raw.lower() in _FALSE:
        return False
    raise SettingError(f"{s.name}={raw!r}: expected {s.form}")


def _choice(s: Setting, raw: str) -> str:
    if raw.upper() not in s.choices:
        raise SettingError(f"{s.name}={raw!r}: expected {s.form}")
    return raw.upper()


def _text(s: Setting, raw: str) -> str:
    return raw


_PARSERS: dict[str, Callable[[Setting, str], Any]] = {
    "int": _int, "bool": _bool, "choice": _choice, "path": _text, "text": _text}


SETTINGS: tuple[Setting, ...] = (
    Setting("LALOPA_SITE", "path", None,
            "Site file (TOML) the server loads; unset: the example site. "
            "`lalopa server --site` overrides it.", "server"),
    Setting("LALOPA_DB", "path", "lalopa.db",
            "SQLite database file of the server. `lalopa server --db` overrides it.", "server"),
    Setting("LALOPA_SECRET_KEY", "text", None,
            "Key that signs dashboard session cookies; unset: a random key kept in a file "
            "beside the database, so sessions survive a restart.", "server", secret=True),
    Setting("LALOPA_SSE_MAX_STREAMS", "int", None,
            "Live pages (dashboard, panels) served at once; unset: derived from the "
            "server's worker threads.", "server", minimum=1),
    Setting("LALOPA_KIOSK_RATE_PER_MIN", "int", 30,
            "Tickets one kiosk may take per minute, on average; 0 turns the limit off.",
            "server", minimum=0),
    Setting("LALOPA_KIOSK_BURST", "int", 10,
            "Tickets one kiosk may take in a quick burst above its rate.", "server", minimum=1),
    Setting("LALOPA_KIOSK_TOKEN", "text", None,
            "The kiosk's device token; unset: read from `[server] token_file` of its config.",
            "kiosk", secret=True),
    Setting("LALOPA_LOG", "choice", "INFO",
            "Log level of the display board.", "display",
            choices=("DEBUG", "INFO", "WARNING", "ERROR")),
    Setting("LALOPA_DEBUG", "bool", False,
            "Show the full traceback of an error at the command line instead of a one-line "
            "message.", "lalopa commands"),
)
BY_NAME: dict[str, Setting] = {s.name: s for s in SETTINGS}


def get(name: str, environ: Mapping[str, str] | None = None) -> Any:
    """The setting's value from the environment (parsed), or its default when unset."""
    setting = BY_NAME[name]   # a KeyError here is a programming error: declare it above
    env = os.environ if environ is None else environ
    raw = env.get(name)
    if raw is None or not raw.strip():   # an empty value (``Environment=X=``) counts as unset
        return setting.default
    return setting.parse(raw)


def check_environment(environ: Mapping[str, str] | None = None) -> list[str]:
    """Parse every declared setting that is set; raise SettingError on the first bad one.

    Returns the names of ``LALOPA_*`` variables that are set but not declared
    (most likely a typo), for the caller to warn about.
    """
    env = os.environ if environ is None else environ
    for name in BY_NAME:
        get(name, env)
    return sorted(k for k in env if k.startswith(PREFIX) and k not in BY_NAME)


def markdown_table() -> str:
    """The table docs/SETTINGS.md shows, generated from :data:`SETTINGS`."""
    rows = ["| variable | expected form | default | read by | meaning |",
            "| --- | --- | --- | --- | --- |"]
    for s in SETTINGS:
        default = "(unset)" if s.default is None else f"`{s.default}`"
        meaning = s.help + (" Secret: keep it out of logs and unit files." if s.secret else "")
        rows.append(f"| `{s.name}` | {s.form} | {default} | {s.programs} | {meaning} |")
    return "\n".join(rows) + "\n"


def check_at_start(prog: str) -> str | None:
    """Check the environment when ``prog`` starts: the one-line error to print, or None.

    Undeclared ``LALOPA_*`` variables are logged as a warning (they do nothing).
    """
    try:
        unknown = check_environment()
    except SettingError as exc:
        return f"{prog}: {exc} (see docs/SETTINGS.md)"
    if unknown:
        logging.getLogger("lalopa.settings").warning(
            "%s: ignoring unknown setting(s) %s (see docs/SETTINGS.md)", prog, ", ".join(unknown))
    return None
