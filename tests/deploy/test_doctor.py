"""`lalopa doctor`: real broker, real TCP printer socket, gpiozero mock, plain verdicts."""
from __future__ import annotations

import socket
from pathlib import Path

import pytest

from broker.bus import free_port
from server.appliance.doctor import FAIL, OK, WARN, check_gpio, check_printer, main, run_checks

pytestmark = pytest.mark.timeout(30)


def _kiosk_config(tmp_path: Path, port: int, site: str, printer: str) -> Path:
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(f'device_id = "kiosk-9"\n[bus]\nhost = "127.0.0.1"\nport = {port}\n'
                   f'site = "{site}"\n[printer]\n{printer}\n')
    return cfg


def test_healthy_kiosk_passes(tmp_path, mosquitto, site_id, capsys):
    """GIVEN a kiosk config, a running broker and a listening network printer
    WHEN doctor runs THEN config, broker and printer are OK and the exit code is 0."""
    with socket.socket() as printer:
        printer.bind(("127.0.0.1", 0))
        printer.listen()
        cfg = _kiosk_config(tmp_path, mosquitto.port, site_id,
                            f'backend = "network"\nhost = "127.0.0.1"\nport = {printer.getsockname()[1]}')
        code = main(["--role", "kiosk", "--config", str(cfg)])
    out = capsys.readouterr().out
    assert "[OK] config" in out and "[OK] broker" in out and "[OK] printer" in out
    assert code == 0, out


def test_unreachable_broker_and_printer_fail(tmp_path, site_id, capsys):
    """GIVEN nothing listening on the broker and printer ports WHEN doctor runs
    THEN both are GAGAL (FAILED) with advice and the exit code is 1."""
    cfg = _kiosk_config(tmp_path, free_port(), site_id,
                        f'backend = "network"\nhost = "127.0.0.1"\nport = {free_port()}')
    code = main(["--role", "kiosk", "--config", str(cfg), "--broker-timeout", "2"])
    out = capsys.readouterr().out
    assert code == 1
    assert f"[{FAIL}] broker" in out and "check network" in out
    assert f"[{FAIL}] printer" in out
    assert "Hasil / result: GAGAL / FAILED" in out


def test_missing_and_broken_config(tmp_path):
    """GIVEN no file, then a file with a missing key WHEN checked THEN GAGAL naming the fix."""
    verdicts = run_checks("button", tmp_path / "nope.toml")
    assert verdicts[0].level == FAIL and "lalopa install --role button" in verdicts[0].message
    bad = tmp_path / "button.toml"
    bad.write_text('device_id = "box-1"\n[bus]\nhost = "127.0.0.1"\n')
    verdicts = run_checks("button", bad)
    assert verdicts[0].level == FAIL and "bus.port" in verdicts[0].message


def test_gpio_reports_the_mock_factory():
    """GIVEN GPIOZERO_PIN_FACTORY=mock (conftest) WHEN checked THEN a warning names MockFactory."""
    v = check_gpio()
    assert v.level == WARN and "MockFactory" in v.message


def test_no_printer_is_a_warning_not_a_failure():
    """GIVEN backend none WHEN checked THEN PERINGATAN, since tickets still show on screen."""
    assert check_printer({"printer": {"backend": "none"}}).level == WARN


def test_every_run_checks_clock_and_disk(tmp_path, mosquitto, site_id):
    """GIVEN any role WHEN run THEN clock and disk verdicts are present with a known level."""
    cfg = _kiosk_config(tmp_path, mosquitto.port, site_id, 'backend = "none"')
    checks = {v.check: v for v in run_checks("display", cfg)}
    assert checks["clock"].level in (OK, WARN)
    assert checks["disk"].level in (OK, WARN, FAIL) and "MB" in checks["disk"].message
    assert checks["broker"].level == OK
