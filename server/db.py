"""SQLite persistence: connections, the single writer, migrations, online backup.

Dialect specifics (PRAGMAs, ``BEGIN IMMEDIATE``, the backup API) live only here,
so the rest of the server speaks plain SQL.

Writes go through :meth:`Database.write`: one lock, one write connection, one
short ``BEGIN IMMEDIATE`` transaction each. Reads use a connection per thread.
"""
from __future__ import annotations

import logging
import re
import sqlite3
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, TypeVar

log = logging.getLogger(__name__)
MIGRATIONS_DIR = Path(__file__).parent / "migrations"
MIGRATION_NAME = re.compile(r"^(\d{3})_[A-Za-z0-9_-]+\.sql$")
T = TypeVar("T")


def connect(path: str | Path) -> sqlite3.Connection:
    """Open a connection with the production PRAGMAs (WAL, FULL sync, foreign keys)."""
    conn = sqlite3.connect(str(path), timeout=10.0, isolation_level=None,
                           check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    # FULL: a committed ticket survives a power cut (WAL+NORMAL may roll it back).
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=10000")
    return conn


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """An immediate (write-locking) transaction: reserve the lock before the first read."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
        conn.execute("COMMIT")
    except BaseException:
        # SQLite has already rolled back after SQLITE_FULL/IOERR; a second ROLLBACK
        # would raise "no transaction is active" and hide the real error.
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _is_full(exc: sqlite3.Error) -> bool:
    """SQLITE_FULL (13): the disk, or the max_page_count limit, has no room."""
    return getattr(exc, "sqlite_errorcode", None) == 13 or "full" in str(exc).lower()


def migration_files(directory: Path = MIGRATIONS_DIR) -> list[Path]:
    """Every ``NNN_name.sql`` file, in number order then name order."""
    files = [p for p in directory.iterdir() if MIGRATION_NAME.match(p.name)]
    return sorted(files, key=lambda p: (int(p.name[:3]), p.name))


def migrate(conn: sqlite3.Connection, directory: Path = MIGRATIONS_DIR) -> list[str]:
    """Apply the migrations not yet recorded in ``schema_version``; return their names.

    Keyed on the file name, so two engineers adding ``002_a.sql`` and
    ``002_b.sql`` in parallel both get applied.
    """
    conn.execute("CREATE TABLE IF NOT EXISTS schema_version ("
                 "name TEXT PRIMARY KEY, version INTEGER NOT NULL, applied_ms INTEGER NOT NULL)")
    applied = []
    for path in migration_files(directory):
        with transaction(conn):
            done = conn.execute("SELECT 1 FROM schema_version WHERE name = ?",
                                (path.name,)).fetchone()
            if done:
                continue
            for statement in split_statements(path.read_text(encoding="utf-8")):
                conn.execute(statement)
            conn.execute("INSERT INTO schema_version (name, version, applied_ms) VALUES (?, ?, ?)",
                         (path.name, int(path.name[:3]), int(time.time() * 1000)))
        applied.append(path.name)
        log.info("applied migration %s", path.name)
    return applied


def split_statements(script: str) -> list[str]:
    """Split a migration into statements (so they run inside our own transaction).

    ``sqlite3.complete_statement`` tells where a statement ends, so semicolons
    inside strings or triggers are handled.
    """
    statements, buf = [], ""
    for line in script.splitlines(keepends=True):
        if not buf and line.strip().startswith("--"):
            continue
        buf += line
        if sqlite3.complete_statement(buf):
            if buf.strip().strip(";").strip():
                statements.append(buf.strip())
            buf = ""
    if buf.strip():
        statements.append(buf.strip())
    return statements


def backup(src_path: str | Path, dest_path: str | Path) -> None:
    """Copy a live database with SQLite's online backup API (safe while the server runs)."""
    src = connect(src_path)
    dest = sqlite3.connect(str(dest_path))
    try:
        src.backup(dest)
    finally:
        dest.close()
        src.close()


class Database:
    """One database file: a single serialised write path and per-thread read connections."""

    def __init__(self, path: str | Path):
        self.path = str(path)
        self._write_lock = threading.RLock()
        self._writer = connect(self.path)
        migrate(self._writer)
        self._local = threading.local()

    def write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn(conn)`` inside one ``BEGIN IMMEDIATE`` transaction, one writer at a time."""
        try:
            with self._write_lock, transaction(self._writer):
                return fn(self._writer)
        except sqlite3.OperationalError as exc:
            if _is_full(exc):  # disk or max_page_count full: nothing was written
                log.error("database full: %s", exc)
                from server.errors import StorageFull
                raise StorageFull() from exc
            raise

    def read(self) -> sqlite3.Connection:
        """This thread's read connection (WAL: readers never block the writer)."""
        if self.path == ":memory:":  # tests: a private in-memory DB has one connection
            return self._writer
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = connect(self.path)
        return conn

    @contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """A consistent read over several queries (a deferred read transaction)."""
        conn = self.read()
        conn.execute("BEGIN")
        try:
            yield conn
        finally:
            conn.execute("COMMIT")

    def close(self) -> None:
        with self._write_lock:
            self._writer.close()
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
