"""Device tokens bound to one counter: a button box or panel acts only on its own counter."""
import sqlite3

import pytest

from server import db, devices, errors
from server.cli import token_main


def act(client, counter, headers, command_id, action="open"):
    return client.post(f"/api/v1/counters/{counter}/actions",
                       json={"action": action, "command_id": command_id}, headers=headers)


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_bound_button_acts_only_on_its_counter(app, client):
    """GIVEN a button token bound to counter 3 WHEN it opens counter 3 THEN 200; WHEN it opens
    counter 4 THEN 403 'forbidden' in Indonesian and English, naming the bound counter, and
    counter 4 stays closed."""
    svc = app.extensions["lalopa.queue"]
    box = bearer(svc.create_device_token("box-03", "button", counter=3))
    assert svc.check_token(box["Authorization"][7:])["counter"] == 3
    assert act(client, 3, box, "b1").status_code == 200
    assert svc.counter_state(3)["status"] == "open"
    r = act(client, 4, box, "b2")
    assert r.status_code == 403
    err = r.get_json()["error"]
    assert err["code"] == "forbidden" and err["detail"] == {"bound_counter": 3}
    assert "loket 3" in err["message_id"] and "counter 3" in err["message_en"]
    assert svc.counter_state(4)["status"] == "closed"


def test_bound_panel_is_refused_for_another_counter(app, client):
    """GIVEN a panel token bound to counter 5 WHEN it calls next on counter 6 with a waiting
    ticket THEN 403 and the ticket is still waiting (nothing called)."""
    svc = app.extensions["lalopa.queue"]
    svc.issue("A", request_id="r1", device="kiosk-1")
    panel = bearer(svc.create_device_token("panel-5", "panel", counter=5))
    assert act(client, 6, panel, "p1", action="next").status_code == 403
    assert svc.summary()["services"]["A"]["waiting"] == 1
    assert svc.counter_state(6)["ticket"] is None


def test_unbound_panel_and_admin_tokens_act_on_any_counter(client, tokens):
    """GIVEN an unbound panel token (a supervisor's tablet) and an admin token WHEN they act on
    different counters THEN every action is allowed."""
    for n, who in ((1, "panel"), (9, "panel"), (16, "admin"), (2, "admin")):
        r = act(client, n, tokens[who], f"{who}-{n}")
        assert r.status_code == 200, (who, n, r.get_json())


def test_binding_is_validated(svc):
    """GIVEN bad bindings THEN kiosk/display/admin tokens cannot be bound, counter numbers must be
    positive and exist in the site; nothing is stored for a rejected token."""
    for role in ("kiosk", "display", "admin"):
        with pytest.raises(errors.BadRequest):
            svc.create_device_token(f"{role}-x", role, counter=2)
    for bad in (0, -1, True, "3"):
        with pytest.raises(errors.BadRequest):
            svc.create_device_token("box-x", "button", counter=bad)
    with pytest.raises(errors.UnknownCounter):
        svc.create_device_token("box-x", "button", counter=99)
    assert svc.list_devices() == []


def test_cli_binds_a_token_to_a_counter(tmp_path, capsys):
    """GIVEN `lalopa token add --counter 7` THEN the token is bound to counter 7 and `list` shows
    it; WHEN --counter is given for a kiosk THEN exit 1 with a clear message."""
    path = str(tmp_path / "c.db")
    assert token_main(["add", "--db", path, "--device", "box-07", "--role", "button",
                       "--counter", "7"]) == 0
    token = capsys.readouterr().out.strip()
    conn = db.connect(path)
    assert devices.check(conn, token) == {"id": "box-07", "role": "button", "counter": 7}
    assert token_main(["list", "--db", path]) == 0
    assert "loket 7" in capsys.readouterr().out
    assert token_main(["add", "--db", path, "--device", "kiosk-1", "--role", "kiosk",
                       "--counter", "7"]) == 1
    assert "bound to a counter" in capsys.readouterr().err
    assert conn.execute("SELECT COUNT(*) FROM devices").fetchone()[0] == 1


def test_migration_adds_the_column_to_an_existing_database(tmp_path):
    """GIVEN a database made before 011 with an active token WHEN migrated THEN the token still
    works, unbound."""
    path = tmp_path / "old.db"
    conn = db.connect(path)
    older = tmp_path / "older"
    older.mkdir()
    for f in db.migration_files():
        if int(f.name[:3]) < 11:
            (older / f.name).write_text(f.read_text())
    db.migrate(conn, older)
    token = "x" * 43
    conn.execute("INSERT INTO devices (id, role, token_hash, created_ms) VALUES (?, ?, ?, ?)",
                 ("panel-1", "panel", devices.hash_token(token), 1))
    with pytest.raises(sqlite3.OperationalError):
        devices.check(conn, token)  # the old schema has no counter column
    assert db.migrate(conn)[0] == "011_device_counter.sql"  # later migrations may follow
    assert devices.check(conn, token) == {"id": "panel-1", "role": "panel", "counter": None}
