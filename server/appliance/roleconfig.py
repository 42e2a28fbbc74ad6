"""What ``lalopa install`` writes into a device's own config: who it is, where the server
is, its broker log-in and (kiosk) its printer.

The installed file starts as the role's shipped example; the installer then sets only
the keys it was given, line by line, so the technician's comments and other edits stay
(a commented ``# username = ...`` line becomes the live one). The secret files' paths
come from each role's config module, the one place they are defined.

    >>> set_key('[bus]\\nhost = "127.0.0.1"\\nport = 1883\\n', "bus", "host", "192.168.1.10")
    '[bus]\\nhost = "192.168.1.10"\\nport = 1883\\n'
"""
from __future__ import annotations

import importlib
import json
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

# role -> the module that loads that role's config (and defines its secret paths)
ROLE_MODULES = {"kiosk": "kiosk.config", "display": "display.config", "button": "firmware.config"}
# The server's HTTP port as its unit runs it (systemd/lalopa-server.service --port).
SERVER_HTTP_PORT = 8080
BROKER_PORT = 1883


class RoleConfigError(ValueError):
    """An install option is malformed; the message says what to write (ID / EN)."""


def bus_password_file(role: str) -> str:
    """The broker password file of an installed ``role`` (kiosk, display, button)."""
    return importlib.import_module(ROLE_MODULES[role]).BUS_PASSWORD_FILE


def token_file(role: str) -> str | None:
    """The HTTP token file of an installed ``role``; only the kiosk has one."""
    return getattr(importlib.import_module(ROLE_MODULES[role]), "TOKEN_FILE", None)


@dataclass(frozen=True)
class ServerAddress:
    """The server as a device reaches it: the broker's host and the HTTP base URL."""

    host: str
    url: str


_HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")


def parse_server(value: str) -> ServerAddress:
    """``192.168.1.10``, ``lalopa-server.local``, ``192.168.1.10:8080`` or a full
    ``http://HOST:PORT`` URL. The broker is on the same host, port 1883."""
    text = value.strip()
    url = text if "://" in text else f"http://{text}"
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = -1
    if parts.scheme not in ("http", "https") or not parts.hostname or port == -1 \
            or not _HOST.match(parts.hostname) or parts.path not in ("", "/"):
        raise RoleConfigError(f"alamat server tidak valid / invalid server address {value!r}: "
                              "tulis / write e.g. 192.168.1.10 or http://192.168.1.10:8080")
    port = port or (SERVER_HTTP_PORT if "://" not in text else (443 if parts.scheme == "https" else 80))
    return ServerAddress(host=parts.hostname, url=f"{parts.scheme}://{parts.hostname}:{port}")


def parse_printer(spec: str) -> dict:
    """The kiosk's ``[printer]`` keys from ``network:HOST[:PORT]``, ``usb:VID:PID`` (hex),
    ``serial:/dev/ttyUSB0``, ``file:/dev/usb/lp0`` or ``none``."""
    kind, _, rest = spec.strip().partition(":")
    try:
        if kind == "network" and rest:
            host, _, port = rest.partition(":")
            if not _HOST.match(host):
                raise ValueError(host)
            return {"backend": "network", "host": host, "port": int(port or 9100)}
        if kind == "usb" and rest.count(":") == 1:
            vid, pid = (UsbId(int(x, 16)) for x in rest.split(":"))
            return {"backend": "usb", "vendor_id": vid, "product_id": pid}
        if kind == "serial" and rest.startswith("/dev/"):
            return {"backend": "serial", "devfile": rest}
        if kind == "file" and rest.startswith("/dev/"):
            return {"backend": "file", "path": rest}
        if kind == "none" and not rest:
            return {"backend": "none"}
    except ValueError:
        pass
    raise RoleConfigError(
        f"printer tidak valid / invalid printer {spec!r}: tulis / write network:192.168.1.50, "
        "network:192.168.1.50:9100, usb:0416:5011, serial:/dev/ttyUSB0, file:/dev/usb/lp0 "
        "or none (a file that is not a printer device prints nothing)")


class UsbId(int):
    """A USB vendor or product id: written in hex, as ``lsusb`` shows it."""


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, UsbId):
        return f"0x{value:04x}"
    if isinstance(value, int):
        return str(value)
    return json.dumps(str(value))  # a TOML basic string for the text we write


def set_key(text: str, table: str | None, key: str, value) -> str:
    """``text`` with ``key = value`` in ``[table]`` (None: the top level before any table).

    An existing line for the key (also a commented-out ``# key = ...``) is replaced in
    place; otherwise the line is added at the end of the table, which is created if missing.
    Inline comments after a replaced value are kept."""
    lines = text.splitlines()
    start, end = _table_span(lines, table)
    if start is None:
        lines += ([""] if lines and lines[-1].strip() else []) + [f"[{table}]"]
        start, end = len(lines), len(lines)
    wanted = f"{key} = {_toml_value(value)}"
    live = re.compile(rf"^\s*{re.escape(key)}\s*=")
    commented = re.compile(rf"^\s*#\s*{re.escape(key)}\s*=\s*\S")
    for pattern in (live, commented):
        for i in range(start, end):
            if pattern.match(lines[i]):
                lines[i] = wanted + _inline_comment(lines[i]) if pattern is live else wanted
                return "\n".join(lines) + "\n"
    insert = end
    while insert > start and not lines[insert - 1].strip():
        insert -= 1
    lines.insert(insert, wanted)
    return "\n".join(lines) + "\n"


def _inline_comment(line: str) -> str:
    """The ``   # ...`` after a simple value (strings without '#', numbers, booleans)."""
    m = re.match(r'^[^=]+=\s*("[^"#]*"|[^"#\s]+)(\s+#.*)$', line)
    return m.group(2) if m else ""


def _table_span(lines: list[str], table: str | None) -> tuple[int | None, int]:
    header = re.compile(r"^\s*\[([^\[\]]+)\]\s*(#.*)?$")
    heads = [(i, m.group(1).strip()) for i, line in enumerate(lines) if (m := header.match(line))]
    if table is None:
        return 0, heads[0][0] if heads else len(lines)
    for n, (i, name) in enumerate(heads):
        if name == table:
            return i + 1, heads[n + 1][0] if n + 1 < len(heads) else len(lines)
    return None, len(lines)


def installed_config(role: str, text: str, *, device: str | None = None,
                     server: ServerAddress | None = None, counter: int | None = None,
                     printer: dict | None = None, bus_login: bool = False) -> str:
    """The role's config text with what the installer was told (and the secret paths)."""
    if device:
        text = set_key(text, None, "device_id", device)
    if counter is not None and role == "button":
        text = set_key(text, None, "counter", counter)
    if server:
        text = set_key(text, "bus", "host", server.host)
        if role == "kiosk":
            text = set_key(text, "server", "url", server.url)
    if bus_login:
        name = device or _current(text, "device_id")
        if name:
            text = set_key(text, "bus", "username", name)
        text = set_key(text, "bus", "password_file", bus_password_file(role))
    if role == "kiosk":
        text = set_key(text, "server", "token_file", token_file(role))
        for key, value in (printer or {}).items():
            text = set_key(text, "printer", key, value)
    return text


def _current(text: str, key: str) -> str | None:
    m = re.search(rf'(?m)^{re.escape(key)}\s*=\s*"([^"]*)"', text)
    return m.group(1) if m else None
