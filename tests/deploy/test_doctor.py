"""`lalopa doctor` checks for real: the role's own loader, the server over HTTP, the token by a
read-only call, a production broker's log-in, secret files, a TCP printer, the audio device,
the clock; it leaves nothing on the bus. Real Mosquitto, real server, real sockets."""
from __future__ import annotations

import os
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from broker.acl import DeviceSpec
from broker.bus import free_port
from kiosk.config import PrinterConf
from server.appliance.doctor import (FAIL, OK, WARN, check_audio, check_clock, check_gpio,
                                     check_printer, check_secret_readable, main, run_checks)
from server.devtools.mosquitto import Mosquitto

pytestmark = pytest.mark.timeout(60)
SITE = "dinkes-claim"


@pytest.fixture(scope="module")
def prod_broker(tmp_path_factory):
    """A production Mosquitto (passwords, ACL) that knows kiosk-9 and board-9."""
    broker = Mosquitto.production(tmp_path_factory.mktemp("doctor-mosq"), devices=[
        DeviceSpec("kiosk", "kiosk-9", SITE), DeviceSpec("display", "board-9", SITE)]).start()
    yield broker
    broker.cleanup()


def _kiosk_config(tmp_path: Path, *, url: str, broker_port: int, token: str | None = "",
                  password: str | None = None, printer: str = 'backend = "none"',
                  site: str = SITE, extra: str = "") -> Path:
    token_file = tmp_path / "kiosk.token"
    token_file.write_text((token or "") + "\n")
    bus = f'host = "127.0.0.1"\nport = {broker_port}\nsite = "{site}"\n'
    if password is not None:
        (tmp_path / "kiosk.mqtt-password").write_text(password + "\n")
        bus += f'username = "kiosk-9"\npassword_file = "{tmp_path / "kiosk.mqtt-password"}"\n'
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(f'device_id = "kiosk-9"\n[server]\nurl = "{url}"\ntoken_file = "{token_file}"\n'
                   f'[bus]\n{bus}[printer]\n{printer}\n{extra}')
    return cfg


def _by_check(verdicts) -> dict:
    return {v.check: v for v in verdicts}


def test_healthy_kiosk_passes(tmp_path, real_server, prod_broker, capsys):
    """GIVEN a kiosk config with the real server, the token it issued, the production broker's
    log-in and a listening network printer WHEN doctor runs THEN config, server, token, broker
    and printer are OK, every line is one verdict, and the exit code is 0."""
    user, password = prod_broker.credentials["kiosk-9"]
    with socket.socket() as printer:
        printer.bind(("127.0.0.1", 0))
        printer.listen()
        cfg = _kiosk_config(tmp_path, url=real_server.url, broker_port=prod_broker.port,
                            token=real_server.token, password=password,
                            printer=f'backend = "network"\nhost = "127.0.0.1"\n'
                                    f'port = {printer.getsockname()[1]}')
        code = main(["--role", "kiosk", "--config", str(cfg)])
    out = capsys.readouterr().out
    for check in ("config", "server", "token", "broker", "printer"):
        assert f"[OK] {check}:" in out, out
    assert f"[{FAIL}]" not in out and code == 0, out
    assert "accepts the log-in kiosk-9" in out and "accepts the token (kiosk-1)" in out


def test_unreachable_server_and_fake_token_fail(tmp_path, real_server, prod_broker, capsys):
    """GIVEN a kiosk whose server address answers nothing, then one whose token is fake
    WHEN doctor runs THEN GAGAL for the server, then GAGAL for the token, each with what to
    do (Indonesian, then English) and exit code 1."""
    _, password = prod_broker.credentials["kiosk-9"]
    dead = _kiosk_config(tmp_path, url=f"http://127.0.0.1:{free_port()}", broker_port=prod_broker.port,
                         token=real_server.token, password=password)
    assert main(["--role", "kiosk", "--config", str(dead), "--http-timeout", "2"]) == 1
    out = capsys.readouterr().out
    assert f"[{FAIL}] server:" in out and "tidak terjangkau" in out and "is unreachable" in out
    assert "--server" in out
    fake = _kiosk_config(tmp_path, url=real_server.url, broker_port=prod_broker.port,
                         token="not-a-real-token", password=password)
    assert main(["--role", "kiosk", "--config", str(fake)]) == 1
    out = capsys.readouterr().out
    token_line = next(line for line in out.splitlines() if line.startswith(f"[{FAIL}] token:"))
    assert "server menolak token ini" in token_line and "the server refuses this token" in token_line
    assert "lalopa token add --role kiosk --device kiosk-9 --out kiosk-9.token" in token_line
    assert token_line.index("menolak") < token_line.index("refuses")
    assert "[OK] server:" in out


def test_wrong_broker_password_is_refused(tmp_path, real_server, prod_broker):
    """GIVEN the production broker and a wrong password WHEN checked THEN GAGAL: the broker
    refuses the log-in, and the advice names `lalopa broker add-device`."""
    cfg = _kiosk_config(tmp_path, url=real_server.url, broker_port=prod_broker.port,
                        token=real_server.token, password="wrong-password")
    broker = _by_check(run_checks("kiosk", cfg, broker_timeout=3))["broker"]
    assert broker.level == FAIL and "refuses the log-in 'kiosk-9'" in broker.message
    assert "lalopa broker add-device --role kiosk --device kiosk-9" in broker.message


def test_doctor_does_not_cut_the_running_device_off(tmp_path, real_server, prod_broker):
    """GIVEN kiosk-9 connected to the production broker (which uses each user name as the
    client id) WHEN doctor checks kiosk-9's broker log-in THEN it is OK and the running
    kiosk was never disconnected (no session takeover, no last will, no 'offline' alert)."""
    user, password = prod_broker.credentials["kiosk-9"]
    cuts: list = []
    up = threading.Event()
    device = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="kiosk-9",
                         protocol=mqtt.MQTTv5)
    device.username_pw_set(user, password)
    device.on_connect = lambda *a: up.set()
    device.on_disconnect = lambda c, u, flags, rc, props: cuts.append(str(rc))
    device.connect("127.0.0.1", prod_broker.port)
    device.loop_start()
    try:
        assert up.wait(5)
        cfg = _kiosk_config(tmp_path, url=real_server.url, broker_port=prod_broker.port,
                            token=real_server.token, password=password)
        assert _by_check(run_checks("kiosk", cfg))["broker"].level == OK
        time.sleep(0.5)  # a takeover's DISCONNECT would have arrived by now
        assert cuts == []
    finally:
        device.disconnect()
        device.loop_stop()


def test_doctor_leaves_nothing_on_the_bus(tmp_path, real_server, mosquitto, site_id):
    """GIVEN a watcher on the whole site's topics WHEN doctor checks a kiosk and a board THEN
    not one message was published (no presence, no last will) and nothing is retained, so
    the dashboard lists no device and raises no 'offline' alert."""
    seen: list[str] = []
    ready = threading.Event()
    watcher = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"watch-{site_id}")
    watcher.on_connect = lambda c, *a: (c.subscribe(f"lalopa/v1/{site_id}/#", qos=1), ready.set())
    watcher.on_message = lambda c, u, m: seen.append(m.topic)
    watcher.connect("127.0.0.1", mosquitto.port)
    watcher.loop_start()
    try:
        assert ready.wait(5)
        cfg = _kiosk_config(tmp_path, url=real_server.url, broker_port=mosquitto.port,
                            token=real_server.token, site=site_id)
        verdicts = _by_check(run_checks("kiosk", cfg))
        assert verdicts["broker"].level == OK
        board = tmp_path / "display.toml"
        board.write_text(f'device_id = "board-9"\n[bus]\nhost = "127.0.0.1"\n'
                         f'port = {mosquitto.port}\nsite = "{site_id}"\n[voice]\nenabled = false\n')
        assert _by_check(run_checks("display", board))["broker"].level == OK
        time.sleep(0.5)  # a late will or presence message would arrive by now
    finally:
        watcher.disconnect()
        watcher.loop_stop()
    assert seen == []


def test_the_roles_own_loaders_judge_the_config(tmp_path):
    """GIVEN a kiosk config with a key its loader refuses, and a board with repeat = 9
    WHEN doctor runs THEN GAGAL with the loader's own message (raw TOML would have passed)."""
    kiosk = tmp_path / "kiosk.toml"
    kiosk.write_text('device_id = "kiosk-9"\n[printer]\nbackend = "network"\ncolour = "red"\n')
    verdict = run_checks("kiosk", kiosk)[0]
    assert verdict.level == FAIL and "colour" in verdict.message
    board = tmp_path / "display.toml"
    board.write_text('device_id = "board-9"\n[voice]\nrepeat = 9\n')
    verdict = run_checks("display", board)[0]
    assert verdict.level == FAIL and "repeat must be 1-3" in verdict.message
    missing = run_checks("button", tmp_path / "nope.toml")[0]
    assert missing.level == FAIL and "sudo lalopa install --role button" in missing.message


def test_printer_must_be_a_printer(tmp_path):
    """GIVEN a .bin file, the dummy, no printer, and a dead network printer WHEN checked THEN
    the file and the dummy are GAGAL (nothing reaches paper), none is PERINGATAN, and the dead
    printer is GAGAL; each says how to set a printer."""
    file_v = check_printer(PrinterConf(backend="file", path=str(tmp_path / "tickets.bin")))
    assert file_v.level == FAIL and "not onto paper" in file_v.message
    assert "--printer network:" in file_v.message
    assert check_printer(PrinterConf(backend="dummy")).level == FAIL
    none_v = check_printer(PrinterConf(backend="none"))
    assert none_v.level == WARN and "photograph" in none_v.message
    dead = check_printer(PrinterConf(backend="network", host="127.0.0.1", port=free_port(),
                                     timeout_s=1.0))
    assert dead.level == FAIL and "unreachable" in dead.message


def test_board_without_an_audio_device_fails(tmp_path, monkeypatch):
    """GIVEN SDL's ALSA driver whose default device is a sound card that is not there
    WHEN checked THEN GAGAL with SDL's reason and what to do; GIVEN ALSA's default device routed
    to its null plugin (a device that opens) THEN OK; GIVEN the dummy driver THEN GAGAL."""
    monkeypatch.setenv("SDL_AUDIODRIVER", "alsa")
    monkeypatch.setenv("HOME", str(tmp_path))   # ALSA reads ~/.asoundrc
    (tmp_path / ".asoundrc").write_text("pcm.!default { type hw card 29 }\n")
    none = check_audio({"enabled": True})
    assert none.level == FAIL and "aplay -l" in none.message and "speakers" in none.message
    (tmp_path / ".asoundrc").write_text("pcm.!default { type null }\n")
    assert check_audio({"enabled": True}).level == OK
    monkeypatch.setenv("SDL_AUDIODRIVER", "dummy")
    assert check_audio({"enabled": True}).level == FAIL
    assert check_audio({"enabled": False}).level == WARN


def test_secret_unreadable_by_the_service_user_fails():
    """GIVEN a root-only (0600) secret WHEN checked for a service user THEN GAGAL with the exact
    chown/chmod to run; after that fix (group of the user, 0640) THEN OK."""
    base = Path(tempfile.mkdtemp(prefix="lalopa-doctor-", dir="/tmp"))
    try:
        base.chmod(0o711)
        secret = base / "mqtt-password"
        secret.write_text("pw\n")
        secret.chmod(0o600)
        bad = check_secret_readable("broker password", str(secret), user="nobody")
        assert bad.level == FAIL and f"sudo chmod 0640 {secret}" in bad.message
        shutil.chown(secret, group="nogroup")  # nobody's own group
        secret.chmod(0o640)
        assert check_secret_readable("broker password", str(secret), user="nobody").level == OK
    finally:
        shutil.rmtree(base)


def test_clock_before_the_build_fails_with_the_whole_message():
    """GIVEN a clock ten days before this software was built WHEN checked THEN GAGAL saying how
    to set it, in Indonesian then English, whole (nothing cut off); GIVEN an unknown NTP state
    THEN PERINGATAN, also whole."""
    built = time.time()
    v = check_clock(now=built - 10 * 86400, built=built, synced="unknown")
    assert v.level == FAIL
    assert v.id_text.endswith("sudo timedatectl set-time 'YYYY-MM-DD HH:MM'")
    assert v.en_text.endswith("sudo timedatectl set-time 'YYYY-MM-DD HH:MM'")
    assert "jam belum disetel" in v.id_text and "the clock is not set" in v.en_text
    assert v.line().endswith(v.en_text)
    warn = check_clock(now=built, built=built, synced="unknown")
    assert warn.level == WARN and warn.en_text.endswith("battery-backed RTC on the server")
    assert check_clock(now=built, built=built, synced="yes").level == OK


def test_gpio_reports_the_mock_factory():
    """GIVEN GPIOZERO_PIN_FACTORY=mock (conftest) WHEN checked THEN a warning names MockFactory."""
    v = check_gpio()
    assert v.level == WARN and "MockFactory" in v.message
