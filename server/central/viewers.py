"""Who may open the city dashboard: named viewers with argon2 password hashes, log-in limits.

The limits are the site dashboard's own (server/auth.py): a name tried from
one address, and one address over all names, get a few failures per window,
stored in PostgreSQL so a restart does not reset them. An unknown name costs
the same argon2 check as a known one.
"""
from __future__ import annotations

import re
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from server.auth import MAX_PER_ACCOUNT_SOURCE, MAX_PER_SOURCE, WINDOW_MS
from server.central.store import Store, utc_ms

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_hasher = PasswordHasher()
_DUMMY = _hasher.hash(secrets.token_urlsafe(16))


class ViewerError(ValueError):
    """A viewer that cannot be made, or a log-in refused (``limited`` says which)."""

    def __init__(self, message: str, limited: bool = False):
        super().__init__(message)
        self.limited = limited


def add_viewer(store: Store, name: str, password: str | None = None) -> str:
    """Create or reset a viewer; returns the password (generated unless given)."""
    name = (name or "").strip().lower()
    if not NAME_RE.match(name):
        raise ViewerError(f"nama tidak valid / invalid name {name!r}: a-z, 0-9, '.', '_', '-'")
    password = password or secrets.token_urlsafe(12)
    if len(password) < 10:
        raise ViewerError("kata sandi minimal 10 karakter / the password needs at least 10 characters")
    with store.conn.transaction():
        store.conn.execute("INSERT INTO viewers (name, password_hash, created_ms) VALUES (%s, %s, %s)"
                           " ON CONFLICT (name) DO UPDATE SET password_hash = EXCLUDED.password_hash",
                           (name, _hasher.hash(password), utc_ms()))
    return password


def authenticate(store: Store, name: str, password: str, ip: str) -> str:
    """The viewer's name for a correct log-in; else ViewerError (limited or wrong)."""
    name = (name or "").strip().lower()[:64]
    now = utc_ms()
    conn = store.conn
    with conn.transaction():
        since = now - WINDOW_MS
        conn.execute("DELETE FROM viewer_failures WHERE at_ms < %s", (since,))
        pair = conn.execute("SELECT COUNT(*) AS n FROM viewer_failures WHERE name = %s AND ip = %s",
                            (name, ip)).fetchone()["n"]
        source = conn.execute("SELECT COUNT(*) AS n FROM viewer_failures WHERE ip = %s", (ip,)).fetchone()["n"]
    if pair >= MAX_PER_ACCOUNT_SOURCE or source >= MAX_PER_SOURCE:
        raise ViewerError("Terlalu banyak percobaan; coba lagi nanti. / Too many attempts; try again later.",
                          limited=True)
    row = conn.execute("SELECT password_hash FROM viewers WHERE name = %s", (name,)).fetchone()
    conn.commit()
    try:
        ok = _hasher.verify(row["password_hash"] if row else _DUMMY, password or "") and row is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        ok = False
    if not ok:
        with conn.transaction():
            conn.execute("INSERT INTO viewer_failures (name, ip, at_ms) VALUES (%s, %s, %s)", (name, ip, now))
        raise ViewerError("Nama atau kata sandi salah. / Wrong name or password.")
    return name
