"""Issue 13 rows 8 and 9: an admin's text can never stop a call or a board.

Through the real admin routes (Flask test client, logged in), the real QueueService,
the real bridge, a real Mosquitto with the production config and per-device
credentials, and a real display board (pygame, SDL dummy). Before the text
contract, a 61-character counter name was stored, the bus encoder then refused
every call of that counter (the board froze), and a NUL in a text crashed every
board at start.
"""
from __future__ import annotations

import re
import time
import unicodedata

import pytest

from broker import texts
from broker.acl import DeviceSpec
from broker.bus import BusClient
from broker.protocol import CounterCommand, CounterState, decode, encode
from display.app import BoardApp
from display.config import from_dict
from server.app import create_app
from server.bridge import Bridge
from server.devtools.benchlib.site import always_open_site
from server.devtools.mosquitto import Mosquitto, wait_for
from server.queue import QueueService

SITE = "dinkes-claim"
PW = "kata-sandi-rahasia"
DEVICES = [DeviceSpec("server", "server-1", SITE), DeviceSpec("button", "box-05", SITE, counter=5),
           DeviceSpec("display", "board-1", SITE)]
# Longest allowed texts, made of what is hardest for every part: 4-byte emoji,
# right-to-left letters, accents (combining marks), a very long word.
# (NFC form: the contract stores texts composed, e + U+0301 as one letter.)
COUNTER_MAX = unicodedata.normalize(
    "NFC", "Loket \u0627\u0644\u0639\u0631\u0628\u064a\u0629 e\u0301\u0302 \U0001F600\U0001F44D"
    + "W" * 80)[:texts.COUNTER_NAME.max_len]
SERVICE_MAX = ("Verifikasi Klaim Jamkesda \u00e9\u00e8 " + "Panjang" * 20)[:texts.SERVICE_NAME_ID.max_len]


@pytest.fixture(scope="module")
def broker(tmp_path_factory):
    b = Mosquitto.production(tmp_path_factory.mktemp("mosq-texts"), devices=DEVICES).start()
    yield b
    b.cleanup()


class Office:
    """The server (app + queue + bridge), one logged-in admin, a board and counter 5's box."""

    def __init__(self, tmp_path, broker):
        self.svc = QueueService(str(tmp_path / "q.db"), always_open_site(SITE))
        self.app = create_app({"LALOPA_QUEUE": self.svc, "LALOPA_DB": str(tmp_path / "q.db"),
                               "TESTING": True})
        self.app.extensions["lalopa.users"].create("root", "admin", PW)
        user, password = broker.credentials["server-1"]
        self.bridge = Bridge(self.svc, self.svc.site, {"host": "127.0.0.1", "port": broker.port,
                                                       "username": user, "password": password,
                                                       "device": "server-1"}).start()
        self.app.extensions["lalopa.bridge"] = self.bridge  # as start_bridge does: admin edits reach it
        self.admin = self.app.test_client()
        self.admin.post("/login", data={"username": "root", "password": PW,
                                        "csrf_token": self._csrf("/login")})
        self.board = self._board(tmp_path, broker)
        user, password = broker.credentials["box-05"]
        self.box = BusClient(site=SITE, role="button", device="box-05", port=broker.port,
                             username=user, password=password)
        self.acks: list[CounterState] = []
        self.box.subscribe(self.box.topics.counter_state(5), self._on_state)
        self.box.start()
        assert self.box.connected.wait(5)

    def _board(self, tmp_path, broker) -> BoardApp:
        user, password = broker.credentials["board-1"]
        pw_file = tmp_path / "board.pw"
        pw_file.write_text(password)
        config = from_dict({"device_id": "board-1",
                            "bus": {"host": "127.0.0.1", "port": broker.port, "site": SITE,
                                    "username": user, "password_file": str(pw_file)},
                            "voice": {"enabled": False}, "board": {"flash_s": 0.5}})
        board = BoardApp(config, size=(1366, 768)).open()
        assert board.run_until(lambda: board.state.snapshot is not None, 10), "board got no snapshot"
        return board

    def _on_state(self, msg) -> None:
        if msg.payload:
            self.acks.append(decode(CounterState, msg.payload))

    def _csrf(self, path: str) -> str:
        html = self.admin.get(path).get_data(as_text=True)
        return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)

    def post(self, path: str, form: dict) -> str:
        data = {"csrf_token": self._csrf("/admin"), **form}
        return self.admin.post(path, data=data, follow_redirects=True).get_data(as_text=True)

    def counters_form(self, **names) -> dict:
        form = {}
        for c in self.svc.site.counters:
            form[f"name_{c.number}"] = names.get(f"name_{c.number}", c.name)
            form[f"services_{c.number}"] = ", ".join(c.services)
        return form

    def press_next(self) -> str:
        """Issue a ticket for A, press 'next' on counter 5's box; the command id."""
        self.svc.issue("A", request_id=f"k-{time.time_ns()}", device="kiosk-1")
        cmd = CounterCommand(id=f"box-05:{time.time_ns()}", counter=5, action="next", device="box-05",
                             sent_at_ms=self.svc.clock.epoch_ms())
        self.box.publish(self.box.topics.command(5), encode(cmd), qos=1)
        return cmd.id

    def acked(self, command_id: str) -> bool:
        return any(a.last_command and a.last_command.id == command_id and a.last_command.ok
                   for a in self.acks)

    def close(self) -> None:
        self.box.stop()
        self.board.close()
        self.bridge.stop()
        self.svc.close()


@pytest.fixture
def office(tmp_path, broker):
    o = Office(tmp_path, broker)
    yield o
    o.close()


def test_row8_overlong_names_are_refused_and_limit_length_names_reach_the_board(office):
    """GIVEN a running office WHEN the admin saves a 61-character counter name or an 81-character
    service name THEN the form says why in Indonesian and English and nothing changes;
    WHEN the admin saves the longest allowed names, made of emoji, RTL letters, accents
    THEN a box press on that counter is called on the board under the new name and the box
    is acknowledged."""
    before = office.svc.site
    html = office.post("/admin/counters", office.counters_form(name_5="L" * 61))
    assert "paling banyak 60 karakter" in html and "at most 60 characters" in html
    html = office.post("/admin/services/A", {"name_id": "V" * 81, "name_en": "Claim verification"})
    assert "paling banyak 80 karakter" in html and "at most 80 characters" in html
    assert office.svc.site == before

    office.post("/admin/counters", office.counters_form(name_5=COUNTER_MAX))
    office.post("/admin/services/A", {"name_id": SERVICE_MAX, "name_en": "Claim verification",
                                      "requirements": "KK asli | Family card", "flow": "Ambil nomor"})
    assert office.svc.site.counter(5).name == COUNTER_MAX and len(COUNTER_MAX) == 60
    assert office.svc.site.service("A").name_id == SERVICE_MAX
    command_id = office.press_next()
    board = office.board
    assert board.run_until(lambda: board.state.current is not None
                           and board.state.current.counter == 5, 10), office.bridge.stats
    assert board.state.current.counter_name == COUNTER_MAX
    assert wait_for(lambda: office.acked(command_id), 5, bus=office.box), office.bridge.stats
    assert board.run_until(lambda: any(s.name_id == SERVICE_MAX for s in board.state.snapshot.services), 10)
    assert office.bridge.stats["bad_outbound"] == 0


@pytest.mark.parametrize("field,form_path,form", [
    ("counter name", "/admin/counters", {"name_5": "Loket\x005"}),
    ("service name", "/admin/services/A", {"name_id": "Verifikasi\x00Klaim", "name_en": "Claim"}),
    ("requirement", "/admin/services/A", {"name_id": "Verifikasi", "name_en": "Claim",
                                          "requirements": "KK\x00asli | Family card"}),
    ("running text", "/admin/settings", {"facility": "Dinas Kesehatan", "whatsapp": "",
                                         "target_wait_min": "30", "running_text": "Selamat\x00datang"}),
    ("bidi override", "/admin/settings", {"facility": "Dinas \u202eKesehatan", "whatsapp": "",
                                          "target_wait_min": "30", "running_text": ""}),
])
def test_row9_a_nul_or_control_character_is_refused_and_the_board_keeps_calling(office, field, form_path, form):
    """GIVEN a running office WHEN the admin saves a text holding a NUL (or a bidi override)
    THEN the form refuses it in Indonesian and English, nothing is stored, and the board
    keeps running and shows the next call."""
    before, running = office.svc.site, office.svc.board()["running_text"]
    if form_path == "/admin/counters":
        form = office.counters_form(**form)
    html = office.post(form_path, form)
    assert "Perubahan tidak valid / Invalid change" in html or "karakter" in html, field
    assert "tidak diizinkan" in html or "tak terlihat" in html, field
    assert office.svc.site == before and office.svc.board()["running_text"] == running
    command_id = office.press_next()
    board = office.board
    assert board.run_until(lambda: board.state.current is not None, 10), office.bridge.stats
    assert wait_for(lambda: office.acked(command_id), 5, bus=office.box)
    assert "\x00" not in "".join(sum(board.renderer.texts.values(), []))



def test_texts_stored_before_the_contract_cannot_stop_the_server_or_the_board(tmp_path, caplog):
    """GIVEN a database written before the text contract, holding an admin counter name of 70
    characters and a running text with a NUL WHEN the server starts on it THEN it starts, logs the
    refused change naming the key, keeps the site file's counter names, and its board snapshot
    still encodes for the bus (the board is not frozen)."""
    import json as _json

    from broker.protocol import BoardSnapshot
    from server.bridge import board_dict
    from server.web.siteedit import site_data

    db = str(tmp_path / "old.db")
    svc = QueueService(db, always_open_site(SITE))
    create_app({"LALOPA_QUEUE": svc, "LALOPA_DB": db, "TESTING": True})  # migrations, overrides table
    counters = site_data(svc.site)["counters"]
    counters[4]["name"] = "L" * 70
    svc.db.write(lambda c: c.execute(
        "INSERT INTO site_overrides (key, value, updated_ms, user_id) VALUES ('counters', ?, 0, NULL)",
        (_json.dumps(counters),)))
    svc.db.write(lambda c: c.execute(
        "INSERT OR REPLACE INTO state (key, value) VALUES ('running_text', ?)", ("Selamat\x00datang",)))
    svc.close()

    svc = QueueService(db, always_open_site(SITE))
    with caplog.at_level("ERROR"):
        create_app({"LALOPA_QUEUE": svc, "LALOPA_DB": db, "TESTING": True})
    assert "counters" in caplog.text and "60" in caplog.text
    assert svc.site.counter(5).name == "Loket 5"
    snap = BoardSnapshot.from_dict(board_dict(svc.site, svc.board(), svc.clock.epoch_ms()))
    assert "\x00" not in snap.running_text and encode(snap)
    svc.close()
