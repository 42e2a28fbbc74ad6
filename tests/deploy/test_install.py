"""`lalopa install` against a temporary root: the plan, the files, idempotency."""
from __future__ import annotations

import shlex
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from server.appliance.install import Installer, Runner, fit_debian_main_conf, main

pytestmark = pytest.mark.timeout(30)


def _run(role: str, root: Path, **kw) -> tuple[Installer, list[str]]:
    lines: list[str] = []
    runner = Runner(execute=False)
    inst = Installer(role, root, runner, out=lines.append, **kw)
    inst.install()
    return inst, lines


def _plan(inst: Installer) -> list[str]:
    return [shlex.join(cmd) for cmd in inst.runner.plan]


def test_server_install_plans_and_writes(tmp_path):
    """GIVEN an empty root WHEN the server role is installed
    THEN config, secret, units and the mosquitto drop-in exist and the plan enables the units."""
    inst, lines = _run("server", tmp_path)
    plan = _plan(inst)
    assert any(cmd.startswith("useradd --system") and cmd.endswith(" lalopa") for cmd in plan)
    assert "python3 -m venv /opt/lalopa/venv" in plan
    assert "systemctl enable --now lalopa-server.service lalopa-backup.timer" in plan
    unit = tmp_path / "etc/systemd/system/lalopa-server.service"
    assert "Type=notify" in unit.read_text()
    assert ("/opt/lalopa/venv/bin/lalopa broker add-device --role server --device server "
            "--site dinkes-claim --passwd-file /etc/mosquitto/lalopa.passwd --acl-file "
            "/etc/mosquitto/lalopa.acl --password-out /etc/lalopa/mqtt-password") in plan
    assert "chown root:mosquitto /etc/mosquitto/lalopa.passwd /etc/mosquitto/lalopa.acl" in plan
    assert "chown root:lalopa /etc/lalopa/mqtt-password" in plan
    conf = (tmp_path / "etc/mosquitto/conf.d/lalopa.conf").read_text()
    assert "listener 1883 0.0.0.0" in conf and "password_file /etc/mosquitto/lalopa.passwd" in conf
    assert not any("@" in line for line in conf.splitlines() if not line.startswith("#"))
    assert (tmp_path / "etc/systemd/journald.conf.d/lalopa.conf").exists()
    assert "created    /etc/lalopa/site.toml" in lines


def test_second_run_changes_nothing(tmp_path):
    """GIVEN an installed root WHEN install runs again THEN no command runs and it says so."""
    first, _ = _run("server", tmp_path)
    assert first.changes > 0
    second, lines = _run("server", tmp_path)
    assert second.changes == 0 and second.runner.plan == []
    assert lines[-1] == "nothing changed: already installed"
    assert all(line.startswith(("unchanged", "todo")) for line in lines[:-1])


def test_local_config_edits_are_kept_and_units_are_updated(tmp_path):
    """GIVEN an installed kiosk whose config was edited and whose unit drifted
    WHEN install runs again THEN the config is kept and the unit is restored."""
    _run("kiosk", tmp_path)
    cfg = tmp_path / "etc/lalopa/kiosk.toml"
    cfg.write_text(cfg.read_text() + "\n# edited on site\n")
    unit = tmp_path / "etc/systemd/system/lalopa-kiosk.service"
    unit.write_text("broken")
    inst, lines = _run("kiosk", tmp_path)
    assert cfg.read_text().endswith("# edited on site\n")
    assert "updated    /etc/systemd/system/lalopa-kiosk.service" in lines
    assert "[Service]" in unit.read_text()
    assert inst.changes == 2 and _plan(inst) == ["systemctl daemon-reload"]


def test_kiosk_gets_udev_rule_token_and_screen_service(tmp_path):
    """GIVEN a kiosk token WHEN the kiosk role is installed THEN the printer udev rule,
    the token (0640, at the path the config names), owned by the service user, and the
    screen as a system service (sway config starting the kiosk) exist: no desktop user."""
    inst, _ = _run("kiosk", tmp_path, token="tok-123", mqtt_password="pw-9")
    rule = (tmp_path / "etc/udev/rules.d/60-lalopa-printer.rules").read_text()
    assert 'GROUP="lp"' in rule
    token = tmp_path / "etc/lalopa/kiosk.token"
    assert token.read_text() == "tok-123\n" and stat.S_IMODE(token.stat().st_mode) == 0o640
    mqtt = tmp_path / "etc/lalopa/kiosk.mqtt-password"
    assert mqtt.read_text() == "pw-9\n" and stat.S_IMODE(mqtt.stat().st_mode) == 0o640
    plan = _plan(inst)
    assert "chown root:lalopa /etc/lalopa/kiosk.mqtt-password /etc/lalopa/kiosk.token" in plan
    assert any(cmd.startswith("useradd --system") and cmd.endswith(" lalopa") for cmd in plan)
    assert "usermod -aG video,render,input,audio,lp lalopa" in plan
    assert any(cmd.startswith("apt-get install") and " sway grim" in cmd for cmd in plan)
    assert "systemctl enable --now lalopa-kiosk.service" in plan
    sway = (tmp_path / "etc/lalopa/sway/kiosk.conf").read_text()
    assert ('exec "/opt/lalopa/venv/bin/lalopa kiosk run --config /etc/lalopa/kiosk.toml; '
            'swaymsg exit"') in sway
    assert "ExecStart=/usr/bin/sway --config /etc/lalopa/sway/kiosk.conf" in (
        tmp_path / "etc/systemd/system/lalopa-kiosk.service").read_text()
    assert not (tmp_path / "etc/systemd/user").exists() and not (tmp_path / "home").exists()


def test_display_screen_service_and_no_desktop_user_option(tmp_path, capsys):
    """GIVEN the display role WHEN installed THEN sway's config starts the board, the service
    user gets the screen and audio groups, and `--desktop-user` no longer exists."""
    inst, _ = _run("display", tmp_path)
    plan = _plan(inst)
    assert "usermod -aG video,render,input,audio lalopa" in plan
    assert "systemctl enable --now lalopa-display.service" in plan
    assert "lalopa display run --config /etc/lalopa/display.toml" in (
        tmp_path / "etc/lalopa/sway/display.conf").read_text()
    with pytest.raises(SystemExit):
        main(["--role", "display", "--root", str(tmp_path), "--desktop-user", "pi"])
    assert "unrecognized arguments: --desktop-user" in capsys.readouterr().err


def test_missing_secrets_are_named_not_invented(tmp_path):
    """GIVEN no token or broker password WHEN a kiosk is installed THEN nothing is invented:
    a 'todo' line says where each comes from, and a later run with them creates the files."""
    _, lines = _run("kiosk", tmp_path)
    todos = [line for line in lines if line.startswith("todo")]
    assert any("kiosk.token" in t and "lalopa token add" in t for t in todos)
    assert any("mqtt-password" in t and "lalopa broker add-device" in t for t in todos)
    assert not (tmp_path / "etc/lalopa/kiosk.token").exists()
    inst, lines = _run("kiosk", tmp_path, token="t0k", mqtt_password="pw")
    assert "created    /etc/lalopa/kiosk.token" in lines
    # the two secrets, their owner and mode, and the config's broker log-in
    assert "updated    /etc/lalopa/kiosk.toml" in lines and inst.changes == 5


def test_button_venv_sees_system_lgpio(tmp_path):
    """GIVEN the button role WHEN installed THEN the venv uses system site-packages and
    apt installs python3-lgpio."""
    inst, _ = _run("button", tmp_path)
    plan = _plan(inst)
    assert "python3 -m venv --system-site-packages /opt/lalopa/venv" in plan
    assert any("python3-lgpio" in cmd for cmd in plan)
    assert "usermod -aG gpio lalopa" in plan


def test_cli_on_temp_root_records_instead_of_executing(tmp_path, capsys):
    """GIVEN --root TMP WHEN the CLI runs twice THEN nothing executes and run two is a no-op."""
    assert main(["--role", "display", "--root", str(tmp_path)]) == 0
    first = capsys.readouterr().out
    assert "would run  python3 -m venv /opt/lalopa/venv" in first
    assert main(["--role", "display", "--root", str(tmp_path)]) == 0
    assert capsys.readouterr().out.strip().endswith("nothing changed: already installed")


def test_console_script_dispatches(tmp_path):
    """GIVEN the lalopa console script WHEN `install --dry-run` runs on a temp root THEN exit 0."""
    exe = Path(sys.executable).with_name("lalopa")
    out = subprocess.run([str(exe), "install", "--role", "button", "--root", str(tmp_path),
                          "--dry-run"], capture_output=True, text=True, timeout=20)
    assert out.returncode == 0, out.stderr
    assert "created    /etc/systemd/system/lalopa-button.service" in out.stdout


DEBIAN_MAIN_CONF = """# Place your local configuration in /etc/mosquitto/conf.d/
# (as Debian's, but the broker keeps the test's user: pytest's temp dirs are private)
user {user}
persistence true
persistence_location {dir}/data/
log_dest stdout
include_dir {dir}/conf.d
"""


def test_broker_drop_in_starts_under_debians_main_conf(tmp_path):
    """GIVEN Debian's main mosquitto.conf (which sets persistence) and our conf.d drop-in
    WHEN a real mosquitto starts with them THEN it accepts the config and listens."""
    import socket
    import time

    from broker.admin import render_production
    from broker.bus import free_port
    from server.devtools.mosquitto import mosquitto_binary
    from server.appliance.install import fit_debian_main_conf
    (tmp_path / "conf.d").mkdir()
    (tmp_path / "data").mkdir()
    import getpass
    main_conf = DEBIAN_MAIN_CONF.format(dir=tmp_path, user=getpass.getuser())
    (tmp_path / "mosquitto.conf").write_text(main_conf)
    port = free_port()
    rendered = render_production(port=port, bind="127.0.0.1", passwd_file=str(tmp_path / "passwd"),
                                 acl_file=str(tmp_path / "acl"))
    drop_in, clashes = fit_debian_main_conf(rendered, main_conf)
    assert clashes == []
    (tmp_path / "conf.d/lalopa.conf").write_text(drop_in)
    (tmp_path / "passwd").write_text("")
    (tmp_path / "acl").write_text("user server\n")
    for name in ("passwd", "acl"):
        (tmp_path / name).chmod(0o640)
    proc = subprocess.Popen([mosquitto_binary(), "-c", str(tmp_path / "mosquitto.conf")],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline, listening = time.monotonic() + 5, False
        while time.monotonic() < deadline and proc.poll() is None and not listening:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                listening = True
            except OSError:
                time.sleep(0.05)
    finally:
        proc.terminate()
        out = proc.communicate(timeout=5)[0]
    assert listening, out


def test_listener_in_main_conf_is_reported():
    """GIVEN a main conf that already defines a listener WHEN fitted THEN it is named as a todo."""
    _, clashes = fit_debian_main_conf("listener 1883 0.0.0.0\n", "listener 1883 127.0.0.1\n")
    assert clashes == ["listener 1883 127.0.0.1"]
