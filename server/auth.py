"""Staff accounts: argon2 password hashes, roles, log-in rate limiting, the ``lalopa user`` CLI.

Roles: ``admin`` (everything), ``supervisor`` (live view and reports),
``verifier`` (the counter panel). There is never a default password: the first
admin is made with ``lalopa user create-admin --db PATH`` (user name ``admin`` unless
``--username`` says otherwise; the password is asked twice).

    >>> users = UserStore(Database(":memory:"))          # doctest: +SKIP
    >>> uid = users.create("ani", "verifier", "kata-sandi-panjang", counter=3)
    >>> users.authenticate("ani", "kata-sandi-panjang", ip="10.0.0.9")["counter"]
    3
"""
from __future__ import annotations

import argparse
import getpass
import hashlib
import re
import secrets
import sys
import threading
import time
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from broker.vocab import USER_ROLES

from server.db import Database
from server.errors import QueueError

ROLES = USER_ROLES
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,31}$")
MIN_PASSWORD = 10
# Failed log-ins are counted over a window, three ways. A stranger's failures only ever
# lock the stranger: per (account, source) and per source; the account-wide budget
# (a guess spread over many addresses) does not apply to a browser with the account's
# device cookie, so the supervisor still logs in at her own desk.
WINDOW_MS = 15 * 60 * 1000
MAX_PER_ACCOUNT_SOURCE = 5
MAX_PER_SOURCE = 20
MAX_PER_ACCOUNT = 50
# argon2id takes 64 MiB and ~0.2 s per check: at most this many run at once (bounded
# memory on a 1 GiB Pi); a log-in that cannot get a slot within CHECK_WAIT_S is
# refused with 429 and Retry-After instead of queueing without end.
CHECKS_AT_ONCE = 2
CHECK_WAIT_S = 1.0
BUSY_RETRY_S = 2
DEVICE_COOKIE = "lalopa_device"
DEVICE_COOKIE_DAYS = 365

_hasher = PasswordHasher()
_checks = threading.BoundedSemaphore(CHECKS_AT_ONCE)
_dummy: list[str] = []  # a hash to verify against for unknown users (same time, same memory)


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
    err = _err("rate_limited", 429,
               "Terlalu banyak percobaan masuk yang gagal. Coba lagi dalam 15 menit.",
               "Too many failed log-ins. Try again in 15 minutes.")
    err.retry_after = WINDOW_MS // 1000
    return err


def busy() -> AuthError:
    err = _err("login_busy", 429,
               f"Server sedang memeriksa log-in lain. Coba lagi dalam {BUSY_RETRY_S} detik.",
               f"The server is checking other log-ins. Try again in {BUSY_RETRY_S} seconds.")
    err.retry_after = BUSY_RETRY_S
    return err


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
        _dummy_hash()  # made once per process, before any log-in is timed

    # ------------------------------------------------------------ accounts
    def create(self, username: str, role: str, password: str, counter: int | None = None,
               once: bool = False) -> int:
        """Create an account; raise AuthError if the name is taken or the input is bad.

        ``once``: the password opens one log-in only (the demo prints it on a screen)."""
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
            cur = conn.execute("INSERT INTO users (username, role, counter, password_hash, created_ms,"
                               " password_once) VALUES (?, ?, ?, ?, ?, ?)",
                               (username, role, counter, digest, self.now_ms(), int(once)))
            return cur.lastrowid
        return self.db.write(insert)

    def set_password(self, user_id: int, password: str) -> None:
        """A new password ends every session of that user (a copied cookie dies with it)."""
        digest = _hasher.hash(check_password(password))

        def update(c):
            c.execute("UPDATE users SET password_hash = ?, password_once = 0 WHERE id = ?",
                      (digest, user_id))
            c.execute("DELETE FROM web_sessions WHERE user_id = ?", (user_id,))
        self.db.write(update)

    def set_disabled(self, user_id: int, disabled: bool) -> None:
        value = self.now_ms() if disabled else None

        def update(c):
            c.execute("UPDATE users SET disabled_ms = ? WHERE id = ?", (value, user_id))
            if disabled:
                c.execute("DELETE FROM web_sessions WHERE user_id = ?", (user_id,))
        self.db.write(update)

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
    def authenticate(self, username: str, password: str, ip: str, device: str | None = None) -> dict:
        """The user for a correct log-in; else AuthError (bad_login, rate_limited, login_busy).

        ``ip`` is the client's address, ``device`` the value of its device cookie.
        Failures are stored, so the limits survive a restart. A limited attempt is refused
        before any password is checked; the limits are read again once a check slot is
        held, so a burst of parallel guesses cannot slip past them. An unknown or disabled
        name costs the same argon2 check as a known one: the answer time tells nothing."""
        username = (username or "").strip().lower()[:64]
        known = self._known_device(username, device)
        if self._too_many(username, ip, known):
            raise rate_limited()
        if not _checks.acquire(timeout=CHECK_WAIT_S):
            raise busy()
        try:
            if self._too_many(username, ip, known):
                raise rate_limited()
            row = self.db.read().execute("SELECT * FROM users WHERE username = ?",
                                         (username,)).fetchone()
            digest = row["password_hash"] if row is not None else _dummy_hash()
            ok = _verify(digest, password) and row is not None and row["disabled_ms"] is None
            if not ok:  # recorded while the slot is held: the next check already sees it
                self._record_failure(username, ip)
        finally:
            _checks.release()
        if not ok:
            raise bad_login()
        if row["password_once"] and not self._use_once(row["id"]):
            raise bad_login()  # a parallel log-in used the one-time password first
        self.db.write(lambda c: c.execute("DELETE FROM login_failures WHERE scope = 'pair' AND key = ?",
                                          (_pair(username, ip),)))
        if row["password_once"]:
            return _public(row)
        if _hasher.check_needs_rehash(row["password_hash"]):
            new = _hasher.hash(password)  # same password: the sessions stay
            self.db.write(lambda c: c.execute("UPDATE users SET password_hash = ? WHERE id = ?",
                                              (new, row["id"])))
        return _public(row)

    def _use_once(self, user_id: int) -> bool:
        """Spend a one-time password: only the first log-in to get here succeeds."""
        unknown = _hasher.hash(secrets.token_urlsafe(32))
        return self.db.write(lambda c: c.execute(
            "UPDATE users SET password_hash = ?, password_once = 0 WHERE id = ? AND password_once = 1",
            (unknown, user_id)).rowcount) == 1

    def _too_many(self, username: str, ip: str, known_device: bool) -> bool:
        since = self.now_ms() - WINDOW_MS
        conn = self.db.read()

        def count(scope, key):
            return conn.execute("SELECT COUNT(*) FROM login_failures WHERE scope = ? AND key = ?"
                                " AND at_ms > ?", (scope, key, since)).fetchone()[0]
        return (count("pair", _pair(username, ip)) >= MAX_PER_ACCOUNT_SOURCE
                or count("ip", ip) >= MAX_PER_SOURCE
                or (not known_device and count("user", username) >= MAX_PER_ACCOUNT))

    def _record_failure(self, username: str, ip: str) -> None:
        now = self.now_ms()

        def record(conn):
            conn.execute("DELETE FROM login_failures WHERE at_ms < ?", (now - WINDOW_MS,))
            conn.executemany("INSERT INTO login_failures (scope, key, at_ms) VALUES (?, ?, ?)",
                             [("user", username, now), ("ip", ip, now),
                              ("pair", _pair(username, ip), now)])
        self.db.write(record)

    # ------------------------------------------------------------ known devices
    def remember_device(self, username: str, device: str | None) -> str:
        """The device cookie value for a browser that just logged in as ``username``."""
        if self._known_device(username, device):
            return device
        token = secrets.token_urlsafe(24)
        self.db.write(lambda c: c.execute(
            "INSERT INTO login_devices (token_hash, username, created_ms) VALUES (?, ?, ?)",
            (_digest(token), username, self.now_ms())))
        return token

    def _known_device(self, username: str, device: str | None) -> bool:
        if not device or len(device) > 64:
            return False
        return self.db.read().execute(
            "SELECT 1 FROM login_devices WHERE token_hash = ? AND username = ?",
            (_digest(device), username)).fetchone() is not None


class SessionStore:
    """Server-side web sessions: the cookie holds a random id, the row says if it lives.

    ``check`` enforces the idle and absolute expiry; ``revoke`` ends one session
    (log-out), ``UserStore.set_password`` ends all of a user's sessions."""

    SEEN_WRITE_MS = 30 * 1000  # refresh seen_ms at most this often (one write, not one per request)

    def __init__(self, db: Database, now_ms=lambda: int(time.time() * 1000)):
        self.db = db
        self.now_ms = now_ms

    def create(self, user_id: int, source: str | None, absolute_s: int) -> str:
        sid = secrets.token_urlsafe(32)
        now = self.now_ms()

        def insert(c):
            c.execute("DELETE FROM web_sessions WHERE created_ms < ?", (now - absolute_s * 1000,))
            c.execute("INSERT INTO web_sessions (id_hash, user_id, source, created_ms, seen_ms)"
                      " VALUES (?, ?, ?, ?, ?)", (_digest(sid), user_id, source, now, now))
        self.db.write(insert)
        return sid

    def check(self, sid: str | None, idle_s: int, absolute_s: int) -> int | None:
        """The user id of a live session, else None (unknown, revoked or expired)."""
        if not isinstance(sid, str) or not sid or len(sid) > 64:
            return None
        key = _digest(sid)
        row = self.db.read().execute("SELECT user_id, created_ms, seen_ms FROM web_sessions"
                                     " WHERE id_hash = ?", (key,)).fetchone()
        if row is None:
            return None
        now = self.now_ms()
        if now - row["seen_ms"] > idle_s * 1000 or now - row["created_ms"] > absolute_s * 1000:
            self.db.write(lambda c: c.execute("DELETE FROM web_sessions WHERE id_hash = ?", (key,)))
            return None
        if now - row["seen_ms"] > self.SEEN_WRITE_MS:
            self.db.write(lambda c: c.execute("UPDATE web_sessions SET seen_ms = ? WHERE id_hash = ?",
                                              (now, key)))
        return row["user_id"]

    def revoke(self, sid: str | None) -> None:
        if isinstance(sid, str) and sid:
            self.db.write(lambda c: c.execute("DELETE FROM web_sessions WHERE id_hash = ?",
                                              (_digest(sid),)))

    def count(self, user_id: int) -> int:
        return self.db.read().execute("SELECT COUNT(*) FROM web_sessions WHERE user_id = ?",
                                      (user_id,)).fetchone()[0]


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def _pair(username: str, ip: str) -> str:
    return f"{username}\n{ip}"


def _dummy_hash() -> str:
    if not _dummy:
        _dummy.append(_hasher.hash(secrets.token_urlsafe(16)))
    return _dummy[0]


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
        if name == "create-admin":  # the guide's natural first command needs no name
            s.add_argument("--username", default="admin", help="default: admin")
        elif name != "list":
            s.add_argument("--username", required=True)
        if name in ("create-admin", "add", "passwd"):
            s.add_argument("--password-file", help="read the password from this file (no prompt)")
        if name == "create-admin":
            s.add_argument("--one-time", action="store_true",
                           help="the password opens one log-in only; then set one under "
                                "Administration (the demo prints its admin password)")
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
        users.create(args.username, role, _read_password(args), getattr(args, "counter", None),
                     once=getattr(args, "one_time", False))
        print(f"created {role} {args.username}")
        return 0
    user = _find(users, args.username)
    if args.cmd == "passwd":
        users.set_password(user["id"], _read_password(args))
    else:
        users.set_disabled(user["id"], args.cmd == "disable")
    print(f"{args.cmd}: {args.username}")
    return 0
