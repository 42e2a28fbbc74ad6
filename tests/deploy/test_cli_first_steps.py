"""The guide's first commands as a technician types them: `lalopa user create-admin --db DB`
(asks the password) and `lalopa token add ... --out FILE` (a file to copy to the kiosk)."""
from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

import pytest

from server import devices
from server.auth import UserStore
from server.db import Database

pytestmark = pytest.mark.timeout(60)
LALOPA = str(Path(sys.executable).with_name("lalopa"))


def _lalopa(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([LALOPA, *args], input=stdin, capture_output=True, text=True, timeout=40)


def test_create_admin_without_username_prompts_and_logs_in(tmp_path):
    """GIVEN a fresh database WHEN `lalopa user create-admin --db DB` runs (no --username) and
    the password is typed twice THEN exit 0 and the user `admin` logs in with it."""
    db_path = str(tmp_path / "lalopa.db")
    assert _lalopa("db", "init", "--db", db_path).returncode == 0
    done = _lalopa("user", "create-admin", "--db", db_path,
                   stdin="kata-sandi-rahasia-1\nkata-sandi-rahasia-1\n")
    assert done.returncode == 0, done.stderr
    assert "created admin admin" in done.stdout
    db = Database(db_path)
    try:
        user = UserStore(db).authenticate("admin", "kata-sandi-rahasia-1", ip="127.0.0.1")
        assert user["role"] == "admin"
    finally:
        db.close()


def test_token_add_writes_the_file_the_guide_copies(tmp_path):
    """GIVEN a database WHEN `lalopa token add --device kiosk-1 --role kiosk --out kiosk-1.token`
    runs THEN the file holds exactly the printed token, mode 0640, and the server accepts it;
    a directory as --out is refused and issues no token."""
    db_path = str(tmp_path / "lalopa.db")
    out = tmp_path / "kiosk-1.token"
    done = _lalopa("token", "add", "--db", db_path, "--device", "kiosk-1", "--role", "kiosk",
                   "--out", str(out))
    assert done.returncode == 0, done.stderr
    token = done.stdout.strip()
    assert out.read_text() == token + "\n"
    assert stat.S_IMODE(out.stat().st_mode) == 0o640
    assert "--token-file kiosk-1.token" in done.stderr
    db = Database(db_path)
    try:
        assert devices.check(db.read(), token)["id"] == "kiosk-1"
    finally:
        db.close()
    refused = _lalopa("token", "add", "--db", db_path, "--device", "kiosk-2", "--role", "kiosk",
                      "--out", str(tmp_path))
    assert refused.returncode == 1 and "is a directory" in refused.stderr
    listed = _lalopa("token", "list", "--db", db_path).stdout
    assert "kiosk-2" not in listed
