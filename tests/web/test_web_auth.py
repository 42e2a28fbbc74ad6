"""Accounts, log-in, sessions, CSRF and roles, through Flask's test client and the CLI."""
import os
import stat
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from server.app import create_app
from server.auth import (MAX_PER_ACCOUNT_SOURCE, MAX_PER_SOURCE, AuthError, UserStore,
                         load_secret_key, user_main)
from server.clock import FakeClock
from server.config import EXAMPLE_SITE, load_site
from server.db import Database
from server.queue import QueueService
from server.web.siteedit import site_data

PW = "kata-sandi-rahasia"


@pytest.fixture
def app(tmp_path):
    clock = FakeClock(datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Jakarta")))
    db = str(tmp_path / "q.db")
    svc = QueueService(db, load_site(EXAMPLE_SITE), clock)
    app = create_app({"LALOPA_QUEUE": svc, "LALOPA_DB": db, "TESTING": True})
    users = app.extensions["lalopa.users"]
    users.create("boss", "supervisor", PW)
    users.create("ani", "verifier", PW, counter=2)
    users.create("root", "admin", PW)
    yield app
    svc.close()


def _csrf(client, path="/login"):
    html = client.get(path).get_data(as_text=True)
    return html.split('name="csrf_token" value="')[1].split('"')[0]


def _login(client, username, password=PW, **extra):
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": _csrf(client), **extra})


def test_passwords_are_hashed_and_checked(tmp_path):
    """GIVEN a new user WHEN stored THEN only an argon2id hash is kept, and only the right
    password logs in."""
    db = Database(tmp_path / "u.db")
    users = UserStore(db)
    users.create("siti", "supervisor", PW)
    digest = db.read().execute("SELECT password_hash FROM users").fetchone()[0]
    assert digest.startswith("$argon2id$") and PW not in digest
    assert users.authenticate("siti", PW, ip="10.0.0.1")["role"] == "supervisor"
    with pytest.raises(AuthError) as err:
        users.authenticate("siti", "salah-kata-sandi", ip="10.0.0.1")
    assert err.value.code == "bad_login"
    with pytest.raises(AuthError):
        users.create("budi", "verifier", "pendek")  # too short: refused, nothing stored
    assert [u["username"] for u in users.listing()] == ["siti"]
    db.close()


def test_failed_logins_are_rate_limited_and_persisted(tmp_path):
    """GIVEN MAX_PER_ACCOUNT_SOURCE failures for one account from one address WHEN the right
    password comes next from that address, even through a new store on the same file (a
    restart) THEN it is refused as rate-limited; from another address it still works."""
    db = Database(tmp_path / "u.db")
    UserStore(db).create("siti", "supervisor", PW)
    for _ in range(MAX_PER_ACCOUNT_SOURCE):
        with pytest.raises(AuthError):
            UserStore(db).authenticate("siti", "salah-salah-salah", ip="10.0.0.7")
    with pytest.raises(AuthError) as err:
        UserStore(db).authenticate("siti", PW, ip="10.0.0.7")
    assert err.value.code == "rate_limited" and err.value.status == 429
    assert UserStore(db).authenticate("siti", PW, ip="10.0.0.8")["username"] == "siti"
    later = UserStore(db, now_ms=lambda: int(time.time() * 1000) + 16 * 60 * 1000)
    assert later.authenticate("siti", PW, ip="10.0.0.7")["username"] == "siti"  # window passed
    # per address too: guessing many names from one address locks that address
    for i in range(MAX_PER_SOURCE):
        with pytest.raises(AuthError):
            later.authenticate(f"tebak{i}", "salah-salah-salah", ip="10.9.9.9")
    with pytest.raises(AuthError) as err:
        later.authenticate("siti", PW, ip="10.9.9.9")
    assert err.value.code == "rate_limited"
    db.close()


def test_cli_creates_the_first_admin_from_a_password_file(tmp_path, capsys):
    """GIVEN an empty database WHEN `lalopa user create-admin --password-file` runs THEN an admin
    exists with that password; a too-short password is refused with exit 1."""
    db_path = tmp_path / "cli.db"
    (tmp_path / "pw").write_text(PW + "\n")
    assert user_main(["create-admin", "--db", str(db_path), "--username", "kepala",
                      "--password-file", str(tmp_path / "pw")]) == 0
    (tmp_path / "short").write_text("abc")
    assert user_main(["add", "--db", str(db_path), "--username", "x1", "--role", "verifier",
                      "--password-file", str(tmp_path / "short")]) == 1
    assert "minimal" in capsys.readouterr().err
    db = Database(db_path)
    assert UserStore(db).authenticate("kepala", PW, ip="127.0.0.1")["role"] == "admin"
    assert len(UserStore(db).listing()) == 1
    db.close()


def test_secret_key_file_is_created_once_and_private(tmp_path):
    """GIVEN no key file WHEN loaded twice THEN the same random key, mode 0600."""
    first = load_secret_key(tmp_path)
    assert len(first) == 64 and load_secret_key(tmp_path) == first
    assert stat.S_IMODE(os.stat(tmp_path / "secret_key").st_mode) == 0o600


def test_pages_refuse_anonymous_and_wrong_roles(app):
    """GIVEN no session THEN pages redirect to log-in and JSON answers 401; GIVEN a verifier
    THEN the dashboard, reports and admin are 403; GIVEN a supervisor THEN admin is 403."""
    c = app.test_client()
    assert c.get("/dashboard").status_code == 302
    assert c.get("/dashboard/state.json").status_code == 401
    assert c.get("/api/v1/stats/day").status_code == 401
    assert _login(c, "ani").headers["Location"] == "/panel"
    for path in ("/dashboard", "/reports", "/admin", "/dashboard/state.json"):
        assert c.get(path).status_code == 403, path
    assert c.get("/api/v1/stats/day").status_code == 401  # a verifier's session is no API key
    c = app.test_client()
    _login(c, "boss")
    assert c.get("/dashboard").status_code == 200
    assert c.get("/admin").status_code == 403
    assert c.get("/api/v1/stats/day").status_code == 200  # stats accept the supervisor session


def test_csrf_is_required_for_posts(app):
    """GIVEN a logged-in admin WHEN a form or fetch POST lacks the CSRF token THEN 403 and the
    running text is unchanged; with the header the panel action works."""
    c = app.test_client()
    _login(c, "root")
    svc = app.extensions["lalopa.queue"]
    before = svc.board()["running_text"]
    r = c.post("/admin/settings", data={"running_text": "diretas", "facility": "x",
                                        "target_wait_min": "30"})
    assert r.status_code == 403 and svc.board()["running_text"] == before
    r = c.post("/panel/action", json={"action": "open", "command_id": "c1"})
    assert r.status_code == 403  # no counter chosen yet either way, but CSRF is checked first
    assert c.post("/login", data={"username": "root", "password": PW}).status_code == 403


def _age_sessions(app, idle_s=0, absolute_s=0):
    """Move every stored session back in time (the server's clock decides expiry)."""
    db = app.extensions["lalopa.queue"].db
    db.write(lambda c: c.execute("UPDATE web_sessions SET seen_ms = seen_ms - ?,"
                                 " created_ms = created_ms - ?", (idle_s * 1000, absolute_s * 1000)))


def test_sessions_expire_when_idle(app):
    """GIVEN a supervisor session WHEN it was last used longer ago than the idle timeout THEN the
    next request is treated as logged out; WHEN it is older than the absolute limit THEN too."""
    c = app.test_client()
    _login(c, "boss")
    assert c.get("/dashboard/state.json").status_code == 200
    _age_sessions(app, idle_s=31 * 60)
    assert c.get("/dashboard/state.json").status_code == 401
    _login(c, "boss")
    _age_sessions(app, absolute_s=13 * 3600)  # absolute limit, even when active
    assert c.get("/dashboard").status_code == 302


def test_wrong_password_shows_both_languages(app):
    """GIVEN a wrong password WHEN logging in THEN 401 with the Indonesian and English message."""
    r = _login(app.test_client(), "boss", "bukan-ini-sandinya")
    text = r.get_data(as_text=True)
    assert r.status_code == 401
    assert "Nama pengguna atau kata sandi salah." in text and "Wrong username or password." in text


def test_admin_adds_a_user_and_changes_a_counter(app):
    """GIVEN an admin WHEN a verifier is added and counter 16 is set to serve only B THEN the new
    verifier can log in to counter 16's panel and the queue sees the new counter services;
    WHEN a counter is given an unknown service THEN nothing changes."""
    c = app.test_client()
    _login(c, "root")
    token = _csrf(c, "/admin")
    r = c.post("/admin/users", data={"username": "dewi", "role": "verifier", "counter": "16",
                                     "password": PW, "csrf_token": token})
    assert r.status_code == 302
    svc = app.extensions["lalopa.queue"]
    form = {"csrf_token": token}
    for counter in svc.site.counters:
        form[f"name_{counter.number}"] = counter.name
        form[f"services_{counter.number}"] = ", ".join(counter.services)
    form["services_16"] = "b"
    c.post("/admin/counters", data=form)
    assert svc.site.counter(16).services == ("B",)
    form["services_16"] = "Q"
    html = c.post("/admin/counters", data=form, follow_redirects=True).get_data(as_text=True)
    assert "unknown service" in html and svc.site.counter(16).services == ("B",)
    d = app.test_client()
    assert _login(d, "dewi").headers["Location"] == "/panel"
    assert d.get("/panel/state.json").get_json()["counter"] == 16


def test_admin_changes_survive_a_restart(app, tmp_path):
    """GIVEN an admin change to a service WHEN the server starts again on the same database
    THEN the new QueueService already has the change (overrides are re-applied at start-up)."""
    editor = app.extensions["lalopa.site_editor"]
    services = site_data(app.extensions["lalopa.queue"].site)["services"]
    services[1]["name_en"] = "Information desk"
    editor.update("services", services)
    app.extensions["lalopa.queue"].close()
    svc = QueueService(str(tmp_path / "q.db"), load_site(EXAMPLE_SITE))
    create_app({"LALOPA_QUEUE": svc, "LALOPA_DB": str(tmp_path / "q.db")})
    assert svc.site.service("B").name_en == "Information desk"
    svc.close()


def _session_csrf(client) -> dict:
    with client.session_transaction() as s:
        return {"X-CSRF-Token": s["csrf"]}


def _api_act(client, counter, command_id, action="open", headers=None):
    return client.post(f"/api/v1/counters/{counter}/actions", headers=headers,
                       json={"action": action, "command_id": command_id})


def test_supervisor_session_only_reads_the_api(app):
    """GIVEN a supervisor's session with the CSRF header WHEN it issues a ticket or acts on a
    counter through the JSON API THEN 401 and nothing changes; the statistics still read."""
    svc = app.extensions["lalopa.queue"]
    c = app.test_client()
    _login(c, "boss")
    csrf = _session_csrf(c)
    r = c.post("/api/v1/tickets", json={"service": "A", "request_id": "s1"}, headers=csrf)
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "unauthorized"
    assert svc.summary()["services"]["A"]["issued"] == 0
    assert _api_act(c, 2, "s2", headers=csrf).status_code == 401
    assert svc.counter_state(2)["status"] == "closed"
    assert c.get("/api/v1/stats/day").status_code == 200


def test_admin_session_acts_on_counters_but_never_issues(app):
    """GIVEN an admin's session WHEN it acts on any counter with the CSRF header THEN 200;
    WITHOUT the header THEN 401; WHEN it issues a ticket THEN 401 (tickets need a kiosk token)."""
    svc = app.extensions["lalopa.queue"]
    c = app.test_client()
    _login(c, "root")
    csrf = _session_csrf(c)
    assert _api_act(c, 7, "a1").status_code == 401  # the cookie alone changes nothing
    assert svc.counter_state(7)["status"] == "closed"
    r = _api_act(c, 7, "a2", headers=csrf)
    assert r.status_code == 200 and svc.counter_state(7)["status"] == "open"
    r = c.post("/api/v1/tickets", json={"service": "A", "request_id": "a3"}, headers=csrf)
    assert r.status_code == 401 and svc.summary()["services"]["A"]["issued"] == 0
    assert c.get("/api/v1/stats/day").status_code == 200


def test_verifier_session_acts_only_on_its_own_counter(app):
    """GIVEN verifier ani logged in at counter 2 WHEN she acts through the JSON API on counter 2
    THEN 200; on counter 3 THEN 401 and counter 3 is unchanged; the panel keeps working."""
    svc = app.extensions["lalopa.queue"]
    c = app.test_client()
    _login(c, "ani")
    csrf = _session_csrf(c)
    assert _api_act(c, 2, "v1", headers=csrf).status_code == 200
    assert svc.counter_state(2)["status"] == "open"
    assert _api_act(c, 3, "v2", headers=csrf).status_code == 401
    assert svc.counter_state(3)["status"] == "closed"
    assert c.get("/api/v1/stats/day").status_code == 401
    r = c.post("/panel/action", json={"action": "pause", "command_id": "v3", "reason": "istirahat"},
               headers=csrf)
    assert r.status_code == 200 and svc.counter_state(2)["status"] == "paused"


def test_rejected_settings_form_changes_nothing(app):
    """GIVEN an admin WHEN the settings form has an invalid target wait (or an empty facility)
    next to a new running text THEN an error is shown and neither the running text nor the
    settings change; WHEN the form is valid THEN both are stored."""
    svc = app.extensions["lalopa.queue"]
    c = app.test_client()
    _login(c, "root")
    token = _csrf(c, "/admin")
    before = (svc.board()["running_text"], svc.site.facility, svc.site.target_wait_min)
    for bad in ({"target_wait_min": "abc"}, {"target_wait_min": "0"}, {"facility": " "}):
        form = {"csrf_token": token, "facility": "Dinkes Baru", "whatsapp": "",
                "target_wait_min": "20", "running_text": "Teks baru / New text", **bad}
        html = c.post("/admin/settings", data=form, follow_redirects=True).get_data(as_text=True)
        assert "Perubahan tidak valid / Invalid change" in html, bad
        assert (svc.board()["running_text"], svc.site.facility, svc.site.target_wait_min) == before
    form = {"csrf_token": token, "facility": "Dinkes Baru", "whatsapp": "",
            "target_wait_min": "20", "running_text": "x" * 1001}
    html = c.post("/admin/settings", data=form, follow_redirects=True).get_data(as_text=True)
    assert "Teks berjalan: paling banyak 1000 karakter" in html
    assert (svc.board()["running_text"], svc.site.facility, svc.site.target_wait_min) == before
    form["running_text"] = "Teks baru / New text"
    c.post("/admin/settings", data=form)
    assert (svc.board()["running_text"], svc.site.facility, svc.site.target_wait_min) == (
        "Teks baru / New text", "Dinkes Baru", 20)


def test_account_wide_budget_spares_the_owners_known_browser(tmp_path):
    """GIVEN MAX_PER_ACCOUNT failures for `siti` spread over many addresses WHEN she logs in
    from a new address without her device cookie THEN 429; WITH the device cookie her browser
    got at an earlier log-in THEN she gets in, and the cookie of another account does not help."""
    from server.auth import MAX_PER_ACCOUNT
    db = Database(tmp_path / "u.db")
    users = UserStore(db)
    users.create("siti", "supervisor", PW)
    users.create("budi", "supervisor", PW)
    users.authenticate("siti", PW, ip="10.0.0.2")
    mine = users.remember_device("siti", None)
    other = users.remember_device("budi", None)
    now = int(time.time() * 1000)
    db.write(lambda c: c.executemany(
        "INSERT INTO login_failures (scope, key, at_ms) VALUES ('user', 'siti', ?)",
        [(now,)] * MAX_PER_ACCOUNT))
    for device in (None, other):
        with pytest.raises(AuthError) as err:
            users.authenticate("siti", PW, ip="10.0.0.3", device=device)
        assert err.value.code == "rate_limited" and err.value.retry_after > 0
    assert users.authenticate("siti", PW, ip="10.0.0.3", device=mine)["username"] == "siti"
    db.close()
