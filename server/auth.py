"""Staff accounts: argon2 password hashes, roles, log-in rate limiting, the ``lalopa user`` CLI.

Roles: ``admin`` (everything), ``supervisor`` (live view and reports),
``verifier`` (the counter panel). There is never a default password: the first
admin is made with ``lalopa user create-admin --db PATH --username U``.

    >>> users = UserStore(Database(":memory:"))          # doctest: +SKIP
    >>> uid = users.create("ani", "verifier", "kata-sandi-panjang", counter=3)
    >>> users.authenticate("ani", "kata-sandi-panjang", ip="10.0.0.9")["counter"]
    3
"""
from __future__ import annotations

import argparse
import getpass
import re
import secrets
import sys
import time
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from server.db import Database
from server.errors import QueueError

ROLES = ("admin", "supervisor", "verifier")
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,31}$")
MIN_PASSWORD = 10
# Rate limit: failures counted over a window, per username and per client address.
WINDOW_MS = 15 * 60 * 1000
MAX_PER_USER = 5
MAX_PER_IP = 20

_hasher = PasswordHasher()


class AuthError(QueueError):
    """A log-in or account problem, in Indonesian and English."""

    code = "auth_error"
    status = 400


def _err(code: str, status: int, msg_id: str, msg_en: str) -> AuthError:
    err = AuthError(msg_en, msg_id)
    err.code, err.status = code, status
    return err


def bad_login() -> AuthError:
    return _err("bad_login", 401, "Nama pengguna atau kata sandi salah.",
                "Wrong username or password.")


def rate_limited() -> AuthError:
    return _err("rate_limited", 429,
                "Terlalu banyak percobaan masuk yang gagal. Coba lagi dalam 15 menit.",
                "Too many failed log-ins. Try again in 15 minutes.")


def check_username(username: str) -> str:
    if not isinstance(username, str) or not USERNAME.match(username):
        raise _err("bad_username", 400,
                   "Nama pengguna harus 2-32 huruf kecil, angka, titik, garis bawah atau tanda hubung.",
                   "Username must be 2-32 lowercase letters, digits, '.', '_' or '-'.")
    return username


def check_password(password: str) -> str:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise _err("weak_password", 400,
                   f"Kata sandi minimal {MIN_PASSWORD} karakter.",
                   f"The password must have at least {MIN_PASSWORD} characters.")
    return password


class UserStore:
    """Users and failed log-ins, kept in the server's SQLite database."""

    def __init__(self, db: Database, now_ms=lambda: int(time.time() * 1000)):
        self.db = db
        self.now_ms = now_ms

    # ------------------------------------------------------------ accounts
    def create(self, username: str, role: str, password: str, counter: int | None = None) -> int:
        """Create an account; raise AuthError if the name is taken or the input is bad."""
        check_username(username)
        check_password(password)
        if role not in ROLES:
            raise _err("bad_role", 400, f"Peran harus salah satu dari {', '.join(ROLES)}.",
                       f"Role must be one of {', '.join(ROLES)}.")
        digest = _hasher.hash(password)

        def insert(conn):
            if conn.execute("SELECT 1 FROM users WHERE username = ?", (username,)).fetchone():
                raise _err("user_exists", 409, "Nama pengguna sudah dipakai.",
                           "That username is already taken.")
            cur = conn.execute("INSERT INTO users (username, role, counter, password_hash, created_ms)"
                               " VALUES (?, ?, ?, ?, ?)",
                               (username, role, counter, digest, self.now_ms()))
            return cur.lastrowid
        return self.db.write(insert)

    def set_password(self, user_id: int, password: str) -> None:
        digest = _hasher.hash(check_password(password))
        self.db.write(lambda c: c.execute("UPDATE users SET password_hash = ? WHERE id = ?",
                                          (digest, user_id)))

    def set_disabled(self, user_id: int, disabled: bool) -> None:
        value = self.now_ms() if disabled else None
        self.db.write(lambda c: c.execute("UPDATE users SET disabled_ms = ? WHERE id = ?",
                                          (value, user_id)))

    def set_counter(self, user_id: int, counter: int | None) -> None:
        self.db.write(lambda c: c.execute("UPDATE users SET counter = ? WHERE id = ?",
                                          (counter, user_id)))

    def get(self, user_id: int) -> dict | None:
        row = self.db.read().execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone()
        return _public(row) if row else None

    def listing(self) -> list[dict]:
        rows = self.db.read().execute("SELECT * FROM users ORDER BY username")
        return [_public(r) for r in rows]

    def count_admins(self) -> int:
        return self.db.read().execute("SELECT COUNT(*) FROM users WHERE role = 'admin' "
                                      "AND disabled_ms IS NULL").fetchone()[0]

    # ------------------------------------------------------------ log-in
    def authenticate(self, username: str, password: str, ip: str) -> dict:
        """The user for a correct log-in; else AuthError (bad_login or rate_limited).

        Failures are stored, so the limit survives a restart. A rate-limited
        attempt is refused before the password is checked (no oracle)."""
        username = (username or "").strip().lower()
        if self._too_many(username, ip):
            raise rate_limited()
        row = self.db.read().execute("SELECT * FROM users WHERE username = ?", (username,)).fetchone()
        if row is None or row["disabled_ms"] is not None or not _verify(row["password_hash"], password):
            self._record_failure(username, ip)
            raise bad_login()
        self.db.write(lambda c: c.execute("DELETE FROM login_failures WHERE scope = 'user' AND key = ?",
                                          (username,)))
        if _hasher.check_needs_rehash(row["password_hash"]):
            self.set_password(row["id"], password)
        return _public(row)

    def _too_many(self, username: str, ip: str) -> bool:
        since = self.now_ms() - WINDOW_MS
        conn = self.db.read()

        def count(scope, key):
            return conn.execute("SELECT COUNT(*) FROM login_failures WHERE scope = ? AND key = ?"
                                " AND at_ms > ?", (scope, key, since)).fetchone()[0]
        return count("user", username) >= MAX_PER_USER or count("ip", ip) >= MAX_PER_IP

    def _record_failure(self, username: str, ip: str) -> None:
        now = self.now_ms()

        def record(conn):
            conn.execute("DELETE FROM login_failures WHERE at_ms < ?", (now - WINDOW_MS,))
            conn.executemany("INSERT INTO login_failures (scope, key, at_ms) VALUES (?, ?, ?)",
                             [("user", username, now), ("ip", ip, now)])
        self.db.write(record)


def _verify(digest: str, password: str) -> bool:
    try:
        return _hasher.verify(digest, password or "")
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _public(row) -> dict:
    return {"id": row["id"], "username": row["username"], "role": row["role"],
            "counter": row["counter"], "disabled": row["disabled_ms"] is not None}


def load_secret_key(state_dir: str | Path) -> str:
    """The session signing key from ``state_dir/secret_key``, created on first run.

    Never hard-coded: a fresh random key per installation, readable only by the owner."""
    path = Path(state_dir) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(secrets.token_hex(32), encoding="ascii")
        tmp.chmod(0o600)
        tmp.replace(path)
    return path.read_text(encoding="ascii").strip()


# ------------------------------------------------------------------ CLI
def _read_password(args) -> str:
    if args.password_file:
        return Path(args.password_file).read_text(encoding="utf-8").strip()
    first = getpass.getpass("Kata sandi / password: ")
    if getpass.getpass("Ulangi / repeat: ") != first:
        raise _err("mismatch", 400, "Kata sandi tidak sama.", "The passwords do not match.")
    return first


def user_main(argv: list[str]) -> int:
    """``lalopa user create-admin|add|passwd|disable|enable|list --db PATH ...``"""
    p = argparse.ArgumentParser(prog="lalopa user", description="Manage staff accounts.")
    sub = p.add_subparsers(dest="cmd", required=True)
    for name in ("create-admin", "add", "passwd", "disable", "enable", "list"):
        s = sub.add_parser(name)
        s.add_argument("--db", required=True)
        if name != "list":
            s.add_argument("--username", required=True)
        if name in ("create-admin", "add", "passwd"):
            s.add_argument("--password-file", help="read the password from this file (no prompt)")
        if name == "add":
            s.add_argument("--role", choices=ROLES, required=True)
            s.add_argument("--counter", type=int)
    args = p.parse_args(argv)
    db = Database(args.db)
    users = UserStore(db)
    try:
        return _run(args, users)
    except (AuthError, OSError) as exc:
        msg = f"{exc.message_id} / {exc.message_en}" if isinstance(exc, AuthError) else str(exc)
        print(f"lalopa user: error: {msg}", file=sys.stderr)
        return 1
    finally:
        db.close()


def _find(users: UserStore, username: str) -> dict:
    user = next((u for u in users.listing() if u["username"] == username), None)
    if user is None:
        raise _err("unknown_user", 404, "Pengguna tidak ditemukan.", "No such user.")
    return user


def _run(args, users: UserStore) -> int:
    if args.cmd == "list":
        for u in users.listing():
            state = "disabled" if u["disabled"] else "active"
            print(f"{u['username']}\t{u['role']}\t{u['counter'] or '-'}\t{state}")
        return 0
    if args.cmd in ("create-admin", "add"):
        role = "admin" if args.cmd == "create-admin" else args.role
        check_username(args.username)
        users.create(args.username, role, _read_password(args), getattr(args, "counter", None))
        print(f"created {role} {args.username}")
        return 0
    user = _find(users, args.username)
    if args.cmd == "passwd":
        users.set_password(user["id"], _read_password(args))
    else:
        users.set_disabled(user["id"], args.cmd == "disable")
    print(f"{args.cmd}: {args.username}")
    return 0
