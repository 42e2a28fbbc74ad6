"""`lalopa install` for a real office: the devices point at the server, one path per secret,
a real printer or a plain todo, `lalopa` on PATH, secrets the service can read."""
from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path

import pytest

import display.config
import firmware.config
import kiosk.config
from broker import admin
from server.appliance.install import (PATH_LINK, SECRET_MODE, SERVER_BUS_PASSWORD_FILE,
                                      SERVICE_USER, VENV, Installer, Runner, build_parser, main)
from server.appliance.roleconfig import parse_printer, parse_server

pytestmark = pytest.mark.timeout(30)
REPO = Path(__file__).resolve().parents[2]


def _install(role: str, root: Path, **kw) -> tuple[Installer, list[str]]:
    lines: list[str] = []
    inst = Installer(role, root, Runner(execute=False), out=lines.append, **kw)
    inst.install()
    return inst, lines


def _secret(root: Path, path: str) -> str:
    p = root / path.lstrip("/")
    assert stat.S_IMODE(p.stat().st_mode) == SECRET_MODE, path
    return p.read_text().strip()


def test_kiosk_config_points_at_the_server_with_one_path_per_secret(tmp_path):
    """GIVEN --server, --device, --printer, a token and a broker password WHEN the kiosk is
    installed THEN the kiosk's own loader reads the server's address, its broker log-in and
    the printer, and every secret path it names is the file the installer wrote."""
    _, lines = _install("kiosk", tmp_path, token="tok-1", mqtt_password="pw-1", device="kiosk-2",
                        server=parse_server("192.168.1.10"),
                        printer=parse_printer("network:192.168.1.50"))
    cfg = kiosk.config.load_config(tmp_path / "etc/lalopa/kiosk.toml")
    assert cfg.device_id == "kiosk-2"
    assert cfg.server.url == "http://192.168.1.10:8080" and cfg.bus.host == "192.168.1.10"
    assert (cfg.bus.username, cfg.bus.password_file) == ("kiosk-2", kiosk.config.BUS_PASSWORD_FILE)
    assert cfg.server.token_file == kiosk.config.TOKEN_FILE
    assert _secret(tmp_path, cfg.server.token_file) == "tok-1"
    assert _secret(tmp_path, cfg.bus.password_file) == "pw-1"
    assert (cfg.printer.backend, cfg.printer.host, cfg.printer.port) == ("network", "192.168.1.50", 9100)
    assert cfg.printer.on_paper
    assert not [line for line in lines if line.startswith("todo")]
    again, lines = _install("kiosk", tmp_path)
    assert again.changes == 0, lines
    assert kiosk.config.load_config(tmp_path / "etc/lalopa/kiosk.toml") == cfg


def test_board_and_box_configs_point_at_the_server(tmp_path):
    """GIVEN --server (and --counter for a box) WHEN the board and a box are installed THEN
    their own loaders read the server's address and the password file the installer wrote."""
    _install("display", tmp_path / "board", mqtt_password="pw-b", device="board-2",
             server=parse_server("lalopa-server.local"))
    board = display.config.load(tmp_path / "board/etc/lalopa/display.toml")
    assert (board.device_id, board.bus["host"], board.bus["username"]) == \
        ("board-2", "lalopa-server.local", "board-2")
    assert board.bus["password_file"] == display.config.BUS_PASSWORD_FILE
    assert _secret(tmp_path / "board", display.config.BUS_PASSWORD_FILE) == "pw-b"
    _install("button", tmp_path / "box", mqtt_password="pw-x", device="box-05", counter=5,
             server=parse_server("http://10.0.0.2:8080"))
    box = firmware.config.load_config(tmp_path / "box/etc/lalopa/button.toml")
    assert (box.device_id, box.counter, box.bus["host"]) == ("box-05", 5, "10.0.0.2")
    assert box.bus["password_file"] == firmware.config.BUS_PASSWORD_FILE
    assert _secret(tmp_path / "box", firmware.config.BUS_PASSWORD_FILE) == "pw-x"


def test_example_configs_name_the_installed_paths():
    """GIVEN the shipped examples WHEN read THEN the secret paths they show are the ones the
    installer writes (each defined once, in the role's config module)."""
    def shown(example: str, key: str) -> set[str]:
        text = (REPO / example).read_text()
        return set(re.findall(rf'(?m)^#?\s*{key}\s*=\s*"([^"]+)"', text))
    assert shown("kiosk/example.toml", "token_file") == {kiosk.config.TOKEN_FILE}
    assert shown("kiosk/example.toml", "password_file") == {kiosk.config.BUS_PASSWORD_FILE}
    assert shown("display/example.toml", "password_file") == {display.config.BUS_PASSWORD_FILE}
    assert shown("firmware/example.toml", "password_file") == {firmware.config.BUS_PASSWORD_FILE}
    unit = (REPO / "systemd/lalopa-server.service").read_text()
    assert f"--mqtt-password-file {SERVER_BUS_PASSWORD_FILE}" in unit


def test_kiosk_without_a_printer_is_told_and_never_prints_into_a_file(tmp_path):
    """GIVEN no --printer and no --server WHEN a kiosk is installed THEN its config prints into
    no file, and 'todo' lines name the options that set the printer and the server."""
    _, lines = _install("kiosk", tmp_path)
    cfg = kiosk.config.load_config(tmp_path / "etc/lalopa/kiosk.toml")
    assert cfg.printer.backend == "none" and not cfg.printer.path
    todos = [line for line in lines if line.startswith("todo")]
    assert any("--printer network:" in t and "usb:" in t for t in todos), todos
    assert any("--server" in t for t in todos), todos


def test_lalopa_is_put_on_path(tmp_path):
    """GIVEN any role WHEN installed THEN /usr/local/bin/lalopa links to the venv's script,
    once: a second run leaves it unchanged."""
    _, lines = _install("button", tmp_path)
    link = tmp_path / PATH_LINK.lstrip("/")
    assert link.is_symlink() and os.readlink(link) == f"{VENV}/bin/lalopa"
    _, lines = _install("button", tmp_path)
    assert f"unchanged  {PATH_LINK}" in lines


def test_bad_server_or_printer_is_refused_and_changes_nothing(tmp_path, capsys):
    """GIVEN a malformed --server or --printer WHEN install runs THEN exit 2 with what to write,
    and nothing is created under the root."""
    assert main(["--role", "kiosk", "--root", str(tmp_path), "--server", "http://a b"]) == 2
    assert "invalid server address" in capsys.readouterr().err
    assert main(["--role", "kiosk", "--root", str(tmp_path), "--printer", "file:/tmp/x.bin"]) == 2
    err = capsys.readouterr().err
    assert "printer tidak valid" in err and "network:192.168.1.50" in err
    assert list(tmp_path.iterdir()) == []


def test_help_is_plain_text():
    """GIVEN `lalopa install --help` WHEN printed THEN no reStructuredText markup shows, the
    new options are there, and the description is Indonesian first."""
    text = build_parser().format_help()
    assert "``" not in text and ":class:" not in text
    for option in ("--server", "--device", "--printer", "--counter"):
        assert option in text
    assert "Siapkan Raspberry Pi" in text


def test_server_broker_password_is_readable_by_the_service_group(tmp_path):
    """GIVEN the server's broker password made by the real `lalopa broker add-device
    --password-out` (real mosquitto_passwd) WHEN the installer's planned owner and mode
    commands are applied to it THEN a process running as another user in the service's group
    can read it (lalopa-server.service runs as lalopa:lalopa), and others cannot."""
    inst, _ = _install("server", tmp_path)
    plan = [cmd for cmd in inst.runner.plan if SERVER_BUS_PASSWORD_FILE in cmd
            and cmd[0] in ("chown", "chmod")]
    assert {cmd[0] for cmd in plan} == {"chown", "chmod"}
    group = "nogroup"  # stands in for the group lalopa, which this machine has no need of
    base = Path(tempfile.mkdtemp(prefix="lalopa-secret-", dir="/tmp"))
    try:
        base.chmod(0o711)
        secret = base / "mqtt-password"
        assert admin.main(["add-device", "--role", "server", "--device", "server",
                           "--site", "dinkes-claim", "--passwd-file", str(base / "passwd"),
                           "--acl-file", str(base / "acl"), "--password-out", str(secret)]) == 0
        for cmd in plan:
            real = [str(secret) if a == SERVER_BUS_PASSWORD_FILE else
                    a.replace(f":{SERVICE_USER}", f":{group}") for a in cmd]
            subprocess.run(real, check=True)
        read = ["/bin/cat", str(secret)]
        as_group = subprocess.run(read, user="nobody", group=group, extra_groups=[],
                                  capture_output=True, text=True, timeout=10)
        assert as_group.returncode == 0, as_group.stderr
        assert as_group.stdout.strip() == secret.read_text().strip()
        as_other = subprocess.run(read, user="nobody", group="daemon", extra_groups=[],
                                  capture_output=True, text=True, timeout=10)
        assert as_other.returncode != 0 and "Permission denied" in as_other.stderr
    finally:
        shutil.rmtree(base)
