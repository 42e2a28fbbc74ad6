"""Demo building blocks: process groups stop cleanly, TOML round-trips, tokens are found."""
from __future__ import annotations

import os
import sys
import time
import tomllib
from pathlib import Path

import pytest

from server.devtools.demo_support import Child, dump_toml, merge, token_from_output

pytestmark = pytest.mark.timeout(30)
REPO = Path(__file__).resolve().parents[2]


def _gone(pid: int) -> bool:
    """Dead or a zombie (an init that reaps slowly still lists it)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


def test_stop_ends_the_whole_process_group(tmp_path):
    """GIVEN a child that started a grandchild WHEN stopped THEN both are gone."""
    pidfile = tmp_path / "grandchild.pid"
    child = Child("c", ["sh", "-c", f"sleep 60 & echo $! > {pidfile}; wait"],
                  tmp_path / "c.log", env=dict(os.environ), cwd=tmp_path).start()
    deadline = time.monotonic() + 5
    while not pidfile.exists() or not pidfile.read_text().strip():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    grandchild = int(pidfile.read_text())
    child.stop()
    time.sleep(0.1)
    assert not child.alive() and _gone(grandchild)


def test_stop_kills_a_child_that_ignores_sigterm(tmp_path):
    """GIVEN a child ignoring SIGTERM WHEN stopped with a short grace THEN SIGKILL ends it."""
    code = "import signal,time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('up', flush=True); time.sleep(60)"
    child = Child("stubborn", [sys.executable, "-c", code], tmp_path / "s.log",
                  env=dict(os.environ), cwd=tmp_path).start()
    deadline = time.monotonic() + 5
    while "up" not in (tmp_path / "s.log").read_text():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert child.stop(grace_s=0.5) == -9


@pytest.mark.parametrize("example", ["kiosk/example.toml", "server/sites/example.toml"])
def test_toml_round_trips_the_shipped_examples(example):
    """GIVEN a shipped example WHEN merged with demo overrides and written
    THEN tomllib reads back exactly the merged data."""
    data = tomllib.loads((REPO / example).read_text())
    merged = merge(data, {"device_id": "x-1", "bus": {"port": 18830}, "screen": {"fullscreen": False}})
    assert tomllib.loads(dump_toml(merged)) == merged
    assert merged.get("bus", {}).get("port") == 18830


def test_token_is_the_last_long_word():
    """GIVEN token add output with a label WHEN parsed THEN the token is returned, else None."""
    assert token_from_output("device kiosk-1 (kiosk)\ntoken: k1_Abcdefghijklmnop123\n") == "k1_Abcdefghijklmnop123"
    assert token_from_output("error: no such db\n") is None
