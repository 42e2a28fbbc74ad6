"""``lalopa broker add-device`` and ``write-config``: real mosquitto_passwd, idempotent ACL."""
import subprocess

from broker import admin
from broker.acl import DeviceSpec, upsert_block
from broker.bus import free_port
from server.devtools.mosquitto import mosquitto_binary


def test_add_device_twice_updates_without_duplicating(tmp_path, capsys):
    """GIVEN an empty passwd/acl WHEN add-device runs twice for box-05 THEN one user line and one ACL block
    AND the output carries the password and the [bus] snippet."""
    passwd, acl = tmp_path / "passwd", tmp_path / "acl"
    argv = ["add-device", "--role", "button", "--device", "box-05", "--counter", "5",
            "--site", "dinkes-claim", "--passwd-file", str(passwd), "--acl-file", str(acl),
            "--password-out", str(tmp_path / "box-05.password")]
    assert admin.main(argv) == 0
    first = capsys.readouterr().out
    assert admin.main(argv) == 0
    second = capsys.readouterr().out
    assert acl.read_text().count("user box-05") == 1 and "box-05@doctor" not in acl.read_text()
    assert [line.split(":")[0] for line in passwd.read_text().splitlines()] == ["box-05", "box-05@doctor"]
    assert "[bus]" in second and 'site = "dinkes-claim"' in second and 'username = "box-05"' in second
    pw = (tmp_path / "box-05.password").read_text().strip()
    assert f"password: {pw}" in second and f"password: {pw}" not in first  # re-run resets it
    assert "topic write lalopa/v1/dinkes-claim/counter/5/command" in acl.read_text()


def test_add_device_refuses_bad_input_and_changes_nothing(tmp_path, capsys):
    """GIVEN a button without --counter WHEN add-device runs THEN exit 1 with a message and no files."""
    passwd, acl = tmp_path / "passwd", tmp_path / "acl"
    code = admin.main(["add-device", "--role", "button", "--device", "box-09", "--site", "dinkes-claim",
                       "--passwd-file", str(passwd), "--acl-file", str(acl)])
    assert code == 1
    assert "--counter" in capsys.readouterr().err
    assert not passwd.exists() and not acl.exists()


def test_upsert_keeps_other_devices_and_order():
    """GIVEN blocks for three devices WHEN the middle one is re-added THEN the others are untouched."""
    specs = [DeviceSpec("button", "box-01", "s1", 1), DeviceSpec("display", "board-1", "s1"),
             DeviceSpec("kiosk", "kiosk-1", "s1")]
    text = ""
    for spec in specs:
        text = upsert_block(text, spec)
    again = upsert_block(text, specs[1])
    assert again == text
    assert [line for line in again.splitlines() if line.startswith("user ")] == \
        ["user box-01", "user board-1", "user kiosk-1"]


def test_write_config_is_accepted_by_mosquitto(tmp_path):
    """GIVEN write-config output WHEN mosquitto parses it (test mode) THEN it reports no config error."""
    assert admin.main(["write-config", "--out", str(tmp_path), "--passwd-file", str(tmp_path / "p"),
                       "--acl-file", str(tmp_path / "a")]) == 0
    text = (tmp_path / "lalopa.conf").read_text()
    assert text.index("per_listener_settings true") < text.index("listener 1883")
    assert "allow_anonymous false" in text and "@" not in text.replace("user@", "")
    assert "persistent_client_expiration 14d" in text and "max_queued_messages" in text
    # mosquitto 2.0 has no --test-config; a config error makes it exit at once with a message.
    (tmp_path / "p").write_text("")
    (tmp_path / "a").write_text("")
    conf = text.replace("listener 1883 0.0.0.0", f"listener {free_port()} 127.0.0.1") \
        .replace("/var/lib/mosquitto/", f"{tmp_path}/").replace("log_dest syslog", "log_dest stdout")
    (tmp_path / "run.conf").write_text("user root\n" + conf)
    proc = subprocess.Popen([mosquitto_binary(), "-c", str(tmp_path / "run.conf")],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        proc.wait(1.5)
        out = proc.stdout.read().decode()
        raise AssertionError(f"mosquitto exited: {out}")
    except subprocess.TimeoutExpired:
        pass  # still running: the config was accepted
    finally:
        proc.kill()
        proc.wait()


def test_write_config_places_persistence_and_log_where_asked(tmp_path):
    """GIVEN --persistence-dir and --log-dest file:PATH WHEN the written config runs in a real
    mosquitto THEN it logs into that file and saves mosquitto.db into that directory;
    an unknown destination is refused and writes nothing."""
    import signal
    import socket
    import time
    data, log = tmp_path / "data", tmp_path / "logs" / "lalopa.log"
    data.mkdir()
    log.parent.mkdir()
    conf_dir = tmp_path / "conf"
    assert admin.main(["write-config", "--out", str(conf_dir), "--bind", "127.0.0.1",
                       "--port", str(free_port()), "--passwd-file", str(tmp_path / "p"),
                       "--acl-file", str(tmp_path / "a"), "--persistence-dir", str(data),
                       "--log-dest", f"file:{log}"]) == 0
    text = (conf_dir / "lalopa.conf").read_text()
    assert f"persistence_location {data}/" in text and f"log_dest file {log}" in text
    assert "log_dest syslog" not in text
    port = int(text.split("\nlistener ")[1].split()[0])
    (tmp_path / "p").write_text("")
    (tmp_path / "a").write_text("")
    (tmp_path / "run.conf").write_text("user root\n" + text)
    proc = subprocess.Popen([mosquitto_binary(), "-c", str(tmp_path / "run.conf")],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline, listening = time.monotonic() + 5, False
        while time.monotonic() < deadline and not listening:
            assert proc.poll() is None, proc.stdout.read().decode()
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                listening = True
            except OSError:
                time.sleep(0.05)
        assert listening
    finally:
        proc.send_signal(signal.SIGTERM)  # a clean stop saves the database and flushes the log
        proc.wait(5)
    assert "New connection from 127.0.0.1" in log.read_text()
    assert (data / "mosquitto.db").exists()
    bad = tmp_path / "bad"
    assert admin.main(["write-config", "--out", str(bad), "--log-dest", "journal"]) == 1
    assert not (bad / "lalopa.conf").exists()
