"""``lalopa button run|check`` as a real process under gpiozero's mock pins."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from broker.bus import BusClient
from broker.protocol import Presence, decode
from server.devtools.mosquitto import wait_for

from boxkit import box_config

pytestmark = pytest.mark.timeout(30)
REPO = Path(__file__).resolve().parents[2]


def write_config(tmp_path, site_id, port) -> Path:
    data = box_config(site_id, port)
    lines = [f'device_id = "{data["device_id"]}"', f"counter = {data['counter']}"]
    for table in ("bus", "pins", "leds", "buzzer"):
        lines.append(f"[{table}]")
        lines += [f"{k} = {v!r}".replace("'", '"') for k, v in data[table].items()]
    path = tmp_path / "box.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def lalopa(*args, **kw):
    env = dict(os.environ, GPIOZERO_PIN_FACTORY="mock", PYTHONUNBUFFERED="1")
    return subprocess.Popen([sys.executable, "-m", "broker.cli", "button", *args], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)


def test_keys_from_stdin_press_next_once_and_quit(tmp_path, site_id, mosquitto, server):
    """GIVEN `lalopa button run --keys-from-stdin` on mock pins and a real broker
    WHEN the script types 'n', waits, then 'q'
    THEN exactly one 'next' command is published, presence goes online then
    offline, and the process exits 0."""
    seen: list[str] = []
    watch = BusClient(site=site_id, role="display", device="watch", port=mosquitto.port)
    watch.subscribe(watch.topics.presence("button", "box-01"),
                    lambda m: m.payload and seen.append(decode(Presence, m.payload).status))
    watch.start()
    proc = lalopa("run", "--config", str(write_config(tmp_path, site_id, mosquitto.port)),
                  "--keys-from-stdin", stdin=subprocess.PIPE)
    try:
        assert wait_for(lambda: "online" in seen, 10, bus=watch)
        proc.stdin.write("n\n")
        proc.stdin.flush()
        assert wait_for(lambda: server.commands, 5, bus=server.bus)
        proc.stdin.write("..q\n")
        proc.stdin.flush()
        out, _ = proc.communicate(timeout=10)
        assert wait_for(lambda: seen[-1:] == ["offline"], 3, bus=watch), seen
    finally:
        proc.kill()
        watch.stop()
    assert proc.returncode == 0, out
    server.pump(0.3)
    assert [c.action for c in server.commands] == ["next"]
    assert "sent next as box-01:" in out


def test_check_reports_config_errors_plainly(tmp_path):
    """GIVEN a config with a typo
    WHEN `lalopa button check` runs
    THEN it exits 2 with the bilingual message; the example passes with exit 0."""
    bad = tmp_path / "bad.toml"
    bad.write_text('device_id = "box-01"\n[pins]\nnxet = 17\n')
    proc = lalopa("check", "--config", str(bad))
    out, _ = proc.communicate(timeout=10)
    assert proc.returncode == 2
    assert "kesalahan konfigurasi / config error" in out and "unknown key" in out
    proc = lalopa("check", "--config", str(REPO / "firmware" / "example.toml"))
    out, _ = proc.communicate(timeout=10)
    assert proc.returncode == 0 and "box-01" in out
