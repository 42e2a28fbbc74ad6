"""Database tools: migrations, online backup while writing, device tokens from the CLI."""
import sqlite3

from server import db
from server.cli import db_main, token_main


def test_migrations_run_once_in_order(tmp_path):
    mig = tmp_path / "migrations"
    mig.mkdir()
    (mig / "001_a.sql").write_text("CREATE TABLE a (x INTEGER);\n-- comment; with semicolon\n")
    (mig / "002_b.sql").write_text("INSERT INTO a (x) VALUES (1);\nCREATE TABLE b (y TEXT);")
    (mig / "002_c.sql").write_text("INSERT INTO a (x) VALUES (2);")
    (mig / "notes.txt").write_text("ignored")
    conn = db.connect(tmp_path / "m.db")
    assert db.migrate(conn, mig) == ["001_a.sql", "002_b.sql", "002_c.sql"]
    assert db.migrate(conn, mig) == []
    assert [r[0] for r in conn.execute("SELECT x FROM a ORDER BY x")] == [1, 2]


def test_failed_migration_rolls_back(tmp_path):
    mig = tmp_path / "migrations"
    mig.mkdir()
    (mig / "001_bad.sql").write_text("CREATE TABLE ok (x INTEGER);\nCREATE TABLE broken (;")
    conn = db.connect(tmp_path / "m.db")
    try:
        db.migrate(conn, mig)
    except sqlite3.Error:
        pass
    assert conn.execute("SELECT name FROM sqlite_master WHERE name = 'ok'").fetchone() is None


def test_pragmas(tmp_path):
    conn = db.connect(tmp_path / "p.db")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_backup_while_running(svc, tmp_path, capsys):
    for i in range(5):
        svc.issue("A", request_id=f"r{i}", device="k")
    out = tmp_path / "backup.db"
    assert db_main(["backup", "--db", svc.db.path, "--out", str(out)]) == 0
    copy = sqlite3.connect(out)
    assert copy.execute("SELECT COUNT(*) FROM tickets").fetchone()[0] == 5
    assert db_main(["backup", "--db", str(tmp_path / "missing.db"), "--out", str(out)]) == 1


def test_db_init_and_tokens(tmp_path, capsys):
    path = str(tmp_path / "t.db")
    assert db_main(["init", "--db", path]) == 0
    assert "001_core.sql" in capsys.readouterr().out
    assert token_main(["add", "--db", path, "--device", "kiosk-1", "--role", "kiosk"]) == 0
    token = capsys.readouterr().out.strip()
    assert len(token) > 30
    conn = db.connect(path)
    from server import devices
    assert devices.check(conn, token) == {"id": "kiosk-1", "role": "kiosk", "counter": None}
    assert token_main(["list", "--db", path]) == 0 and "kiosk-1" in capsys.readouterr().out
    assert token_main(["revoke", "--db", path, "--device", "kiosk-1"]) == 0
    assert devices.check(conn, token) is None
    assert token_main(["add", "--db", path, "--device", "x", "--role", "root"]) == 1
