"""systemd units pass `systemd-analyze verify` and carry the policies we rely on."""
from __future__ import annotations

import configparser
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from server import systemd as sd

UNITS = Path(__file__).resolve().parents[2] / "systemd"
VENV = Path(__file__).resolve().parents[2] / ".venv"
SCREENS = ["lalopa-kiosk.service", "lalopa-display.service"]
SYSTEM = ["lalopa-server.service", "lalopa-button.service", "lalopa-backup.service",
          "lalopa-backup.timer", *SCREENS]
HEADLESS = UNITS / "lalopa-screen-headless.conf"

pytestmark = pytest.mark.timeout(60)


def _analyze() -> str:
    path = shutil.which("systemd-analyze")
    if not path:
        pytest.skip("systemd-analyze is not installed (apt-get install systemd)")
    return path


def _staged(tmp_path: Path, names: list[str], sub: str = "") -> Path:
    """Copy units, pointing ExecStart at this checkout's venv so the binary exists."""
    for name in names:
        text = (UNITS / sub / name).read_text().replace("/opt/lalopa/venv", str(VENV))
        (tmp_path / name).write_text(text)
    return tmp_path


def _verify(tmp_path: Path, names: list[str], user: bool = False):
    cmd = [_analyze()] + (["--user"] if user else []) + ["verify", "--man=no", *names]
    env = dict(os.environ, XDG_RUNTIME_DIR=str(tmp_path))
    return subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=30)


def _ini(path: Path) -> configparser.ConfigParser:
    cp = configparser.ConfigParser(strict=False, interpolation=None)
    cp.optionxform = str
    cp.read(path)
    return cp


def test_system_units_verify(tmp_path):
    """GIVEN the system units WHEN systemd-analyze verifies them THEN no error or warning."""
    _staged(tmp_path, SYSTEM)
    result = _verify(tmp_path, SYSTEM)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == ""


def test_city_units_verify(tmp_path):
    """GIVEN the city centre's unit and an instance of the site's uplink template WHEN
    systemd-analyze verifies them THEN no error or warning, and the uplink's ExecStart
    names its instance's site."""
    _staged(tmp_path, ["lalopa-central.service", "lalopa-uplink@.service"])
    (tmp_path / "lalopa-uplink@pkm-sukajadi.service").write_text(
        (tmp_path / "lalopa-uplink@.service").read_text())
    result = _verify(tmp_path, ["lalopa-central.service", "lalopa-uplink@pkm-sukajadi.service"])
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == ""
    assert "--site %i" in _ini(UNITS / "lalopa-uplink@.service")["Service"]["ExecStart"]


def test_screen_units_verify_with_the_headless_drop_in(tmp_path):
    """GIVEN the kiosk and board units with the rehearsal's headless drop-in
    WHEN systemd-analyze verifies them THEN no error or warning."""
    _staged(tmp_path, SCREENS)
    for name in SCREENS:
        (tmp_path / f"{name}.d").mkdir()
        shutil.copy(HEADLESS, tmp_path / f"{name}.d" / "headless.conf")
    result = _verify(tmp_path, SCREENS)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == ""


@pytest.mark.parametrize("name", SCREENS)
def test_screens_start_at_boot_without_a_desktop_session(name):
    """GIVEN a screen unit THEN it is a system service started at boot as the service user,
    runs sway on VT 1 through a logind session (PAM) with the app under Wayland, and no
    headless variable or desktop-session tie is in the unit itself."""
    unit = _ini(UNITS / name)
    service = unit["Service"]
    assert unit["Install"]["WantedBy"] == "multi-user.target"
    assert service["User"] == "lalopa" and service["PAMName"] == "login"
    assert service["TTYPath"] == "/dev/tty1" and "getty@tty1.service" in unit["Unit"]["Conflicts"]
    role = name.removeprefix("lalopa-").removesuffix(".service")
    assert service["ExecStart"] == f"/usr/bin/sway --config /etc/lalopa/sway/{role}.conf"
    assert {"video", "render", "input", "audio"} <= set(service["SupplementaryGroups"].split())
    text = (UNITS / name).read_text()
    assert "Environment=SDL_VIDEODRIVER=wayland" in text
    assert "WLR_" not in text and "graphical-session" not in text
    assert "PrivateDevices" not in service and "ProtectHome" not in service
    assert not (UNITS / "user").exists() and not (UNITS / "labwc").exists()


def test_headless_drop_in_is_only_the_bench_switch():
    """GIVEN the headless drop-in THEN it sets sway's headless backend and no VT, nothing else."""
    from server.appliance.screen import headless_environment
    env = headless_environment(HEADLESS)
    assert env["WLR_BACKENDS"] == "headless" and env["WLR_RENDERER"] == "pixman"
    assert env["WLR_LIBINPUT_NO_DEVICES"] == "1"
    assert _ini(HEADLESS)["Service"]["StandardInput"] == "null"


def test_verify_catches_a_broken_unit(tmp_path):
    """GIVEN a unit whose binary is missing WHEN verified THEN verify fails (the check bites)."""
    text = (UNITS / "lalopa-server.service").read_text()
    (tmp_path / "lalopa-server.service").write_text(text)  # /opt/lalopa is not on this machine
    result = _verify(tmp_path, ["lalopa-server.service"])
    assert result.returncode != 0
    assert "not executable" in result.stderr


@pytest.mark.parametrize("name", ["lalopa-server.service", "lalopa-button.service", *SCREENS,
                                  "lalopa-central.service", "lalopa-uplink@.service"])
def test_restart_policy_never_gives_up(name):
    """GIVEN a long-running unit THEN start limits sit in [Unit] and RestartSec is 2-5 s."""
    unit = _ini(UNITS / name)
    assert unit["Service"]["Restart"] == "always"
    assert 2 <= int(unit["Service"]["RestartSec"]) <= 5
    assert "StartLimitIntervalSec" in unit["Unit"]
    assert "StartLimitIntervalSec" not in unit["Service"]


def test_hardware_units_keep_devices():
    """GIVEN the button unit THEN it is hardened but keeps /dev/gpiochip* and a writable cwd."""
    unit = _ini(UNITS / "lalopa-button.service")["Service"]
    assert "PrivateDevices" not in unit
    assert unit["SupplementaryGroups"] == "gpio"
    text = (UNITS / "lalopa-button.service").read_text()
    assert "Environment=GPIOZERO_PIN_FACTORY=lgpio" in text
    assert unit["WorkingDirectory"] == "/var/lib/" + unit["StateDirectory"]
    assert unit["ProtectSystem"] == "strict" and unit["NoNewPrivileges"] == "yes"


def test_server_is_notify_with_watchdog():
    """GIVEN the server unit THEN it is Type=notify with a watchdog."""
    unit = _ini(UNITS / "lalopa-server.service")["Service"]
    assert unit["Type"] == "notify"
    assert int(unit["WatchdogSec"]) >= 10


def test_notify_reaches_an_abstract_socket(monkeypatch):
    """GIVEN $NOTIFY_SOCKET names an abstract socket WHEN notify runs THEN the datagram arrives."""
    import socket
    name = f"@lalopa-test-{os.getpid()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as listener:
        listener.bind("\0" + name[1:])
        listener.settimeout(2)
        monkeypatch.setenv("NOTIFY_SOCKET", name)
        assert sd.notify("READY=1") is True
        assert listener.recv(100) == b"READY=1"


def test_notify_outside_systemd_is_a_no_op(monkeypatch):
    """GIVEN no $NOTIFY_SOCKET WHEN notify runs THEN it returns False and the watchdog is off."""
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    monkeypatch.delenv("WATCHDOG_USEC", raising=False)
    assert sd.notify("WATCHDOG=1") is False
    assert sd.watchdog_interval() is None
    monkeypatch.setenv("WATCHDOG_USEC", "30000000")
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    assert sd.watchdog_interval() == 15.0


def test_serve_pings_the_watchdog_and_stops(monkeypatch):
    """GIVEN a waitress server run through serve() under a 0.4 s watchdog
    WHEN it answers a request and is closed THEN WATCHDOG=1 pings arrived and STOPPING=1 last."""
    import socket
    import threading
    import urllib.request

    import waitress

    name = f"@lalopa-wd-{os.getpid()}"
    monkeypatch.setenv("NOTIFY_SOCKET", name)
    monkeypatch.setenv("WATCHDOG_USEC", "400000")
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    app = lambda env, start: (start("200 OK", [("Content-Type", "text/plain")]), [b"hidup"])[1]
    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=1)
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as listener:
        listener.bind("\0" + name[1:])
        listener.settimeout(3)
        thread = threading.Thread(target=sd.serve, args=(server,), daemon=True)
        thread.start()
        with urllib.request.urlopen(f"http://127.0.0.1:{server.effective_port}/", timeout=3) as r:
            assert r.read() == b"hidup"
        got = [listener.recv(100), listener.recv(100)]
        server.close()
        thread.join(5)
        rest = []
        while True:
            try:
                rest.append(listener.recv(100))
            except socket.timeout:
                break
            if rest[-1] == b"STOPPING=1":
                break
    assert got == [b"WATCHDOG=1", b"WATCHDOG=1"]
    assert not thread.is_alive() and rest[-1] == b"STOPPING=1"


def test_backup_unit_command_makes_a_dated_copy(tmp_path):
    """GIVEN the backup unit's ExecStart (systemd escapes undone, paths moved to a temp dir)
    WHEN it runs against a real database THEN a dated backup file appears."""
    line = next(l for l in (UNITS / "lalopa-backup.service").read_text().splitlines()
                if l.startswith("ExecStart="))
    cmd = (line.split("=", 1)[1].replace("$$", "$").replace("%%", "%")
           .replace("/opt/lalopa/venv", str(VENV)).replace("/var/lib/lalopa", str(tmp_path)))
    (tmp_path / "backups").mkdir()
    init = subprocess.run([str(VENV / "bin/lalopa"), "db", "init", "--db", str(tmp_path / "lalopa.db")],
                          capture_output=True, text=True, timeout=30)
    assert init.returncode == 0, init.stderr
    result = subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    copies = list((tmp_path / "backups").glob("lalopa-20*.db"))
    assert len(copies) == 1 and copies[0].stat().st_size > 0


def test_mosquitto_drop_in_verifies_with_debians_unit(tmp_path):
    """GIVEN Debian's mosquitto.service plus our drop-in WHEN verified THEN it passes and the
    drop-in's restart policy is what systemd loads."""
    debian = Path("/lib/systemd/system/mosquitto.service")
    if not debian.exists():
        pytest.skip("Debian's mosquitto.service is not installed here (apt-get install mosquitto)")
    shutil.copy(debian, tmp_path / "mosquitto.service")
    (tmp_path / "mosquitto.service.d").mkdir()
    shutil.copy(UNITS / "mosquitto.service.d/lalopa.conf", tmp_path / "mosquitto.service.d/")
    result = _verify(tmp_path, ["mosquitto.service"])
    assert result.returncode == 0, result.stderr
    drop_in = _ini(UNITS / "mosquitto.service.d/lalopa.conf")
    assert drop_in["Service"]["Restart"] == "always" and "StartLimitBurst" in drop_in["Unit"]
