"""Device tokens: kiosks, panels, displays and button boxes authenticate with a bearer token.

Only a SHA-256 hash of each token is stored. Tokens are 32 random bytes, so a
fast hash is enough (no password stretching needed); a leaked database does
not reveal usable tokens.
"""
from __future__ import annotations

import hashlib
import re
import secrets
import sqlite3

from broker.vocab import BINDABLE_TOKEN_ROLES, TOKEN_ROLES

from server.errors import BadRequest

ROLES = TOKEN_ROLES
# Only these roles act on a counter, so only their tokens may be bound to one.
BINDABLE_ROLES = BINDABLE_TOKEN_ROLES
DEVICE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def add(conn: sqlite3.Connection, device_id: str, role: str, now_ms: int,
        counter: int | None = None) -> str:
    """Create (or replace) the token of ``device_id``; return the new token once.

    ``counter`` binds a panel or button token to that counter (see server.api);
    None leaves it unbound.
    """
    if not isinstance(device_id, str) or not DEVICE_ID.match(device_id):
        raise BadRequest(f"device id must be 1-64 letters, digits, '.', '_' or '-', got {device_id!r}",
                         f"ID perangkat tidak valid: {device_id!r}")
    if role not in ROLES:
        raise BadRequest(f"role must be one of {', '.join(ROLES)}, got {role!r}",
                         f"Peran tidak valid: {role!r}")
    check_binding(role, counter)
    token = secrets.token_urlsafe(32)
    conn.execute("DELETE FROM devices WHERE id = ?", (device_id,))
    conn.execute("INSERT INTO devices (id, role, token_hash, created_ms, counter)"
                 " VALUES (?, ?, ?, ?, ?)", (device_id, role, hash_token(token), now_ms, counter))
    return token


def check_binding(role: str, counter) -> None:
    """A binding is a positive counter number, and only for panel and button tokens."""
    if counter is None:
        return
    if not isinstance(counter, int) or isinstance(counter, bool) or counter < 1:
        raise BadRequest(f"counter must be a positive number, got {counter!r}",
                         f"Nomor loket harus bilangan positif: {counter!r}")
    if role not in BINDABLE_ROLES:
        raise BadRequest(f"only {' and '.join(BINDABLE_ROLES)} tokens can be bound to a counter",
                         f"Hanya token {' dan '.join(BINDABLE_ROLES)} yang dapat diikat ke loket")


def check(conn: sqlite3.Connection, token: str | None) -> dict | None:
    """The device a token belongs to, as {"id", "role", "counter"}, or None (unknown or
    revoked). ``counter`` is the bound counter, or None for an unbound token."""
    if not token or not isinstance(token, str):
        return None
    row = conn.execute("SELECT id, role, counter FROM devices"
                       " WHERE token_hash = ? AND revoked_ms IS NULL",
                       (hash_token(token),)).fetchone()
    return {"id": row["id"], "role": row["role"], "counter": row["counter"]} if row else None


def revoke(conn: sqlite3.Connection, device_id: str, now_ms: int) -> bool:
    cur = conn.execute("UPDATE devices SET revoked_ms = ? WHERE id = ? AND revoked_ms IS NULL",
                       (now_ms, device_id))
    return cur.rowcount > 0


def listing(conn: sqlite3.Connection) -> list[dict]:
    rows = conn.execute("SELECT id, role, counter, created_ms, revoked_ms FROM devices ORDER BY id")
    return [dict(r) for r in rows]
