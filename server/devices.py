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

from server.errors import BadRequest

ROLES = ("kiosk", "panel", "display", "button", "admin")
DEVICE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def add(conn: sqlite3.Connection, device_id: str, role: str, now_ms: int) -> str:
    """Create (or replace) the token of ``device_id``; return the new token once."""
    if not isinstance(device_id, str) or not DEVICE_ID.match(device_id):
        raise BadRequest(f"device id must be 1-64 letters, digits, '.', '_' or '-', got {device_id!r}",
                         f"ID perangkat tidak valid: {device_id!r}")
    if role not in ROLES:
        raise BadRequest(f"role must be one of {', '.join(ROLES)}, got {role!r}",
                         f"Peran tidak valid: {role!r}")
    token = secrets.token_urlsafe(32)
    conn.execute("DELETE FROM devices WHERE id = ?", (device_id,))
    conn.execute("INSERT INTO devices (id, role, token_hash, created_ms) VALUES (?, ?, ?, ?)",
                 (device_id, role, hash_token(token), now_ms))
    return token


def check(conn: sqlite3.Connection, token: str | None) -> dict | None:
    """The device a token belongs to, as {"id", "role"}, or None (unknown or revoked)."""
    if not token or not isinstance(token, str):
        return None
    row = conn.execute("SELECT id, role FROM devices WHERE token_hash = ? AND revoked_ms IS NULL",
                       (hash_token(token),)).fetchone()
    return {"id": row["id"], "role": row["role"]} if row else None


def revoke(conn: sqlite3.Connection, device_id: str, now_ms: int) -> bool:
    cur = conn.execute("UPDATE devices SET revoked_ms = ? WHERE id = ? AND revoked_ms IS NULL",
                       (now_ms, device_id))
    return cur.rowcount > 0


def listing(conn: sqlite3.Connection) -> list[dict]:
    rows = conn.execute("SELECT id, role, created_ms, revoked_ms FROM devices ORDER BY id")
    return [dict(r) for r in rows]
