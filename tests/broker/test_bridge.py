"""The server's bridge against a real Mosquitto and a real QueueService (SQLite in tmp)."""
import dataclasses
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from broker.bus import BusClient
from broker.protocol import BoardSnapshot, CallEvent, CounterCommand, CounterState, PrinterStatus, decode, encode
from server.devtools.mosquitto import wait_for

from server import queue as queue_mod
from server.bridge import Bridge
from server.clock import FakeClock
from server.config import load_site

EXAMPLE = Path(__file__).resolve().parents[2] / "server" / "sites" / "example.toml"
MONDAY_9_WIB = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)


class Watcher:
    """A display-like subscriber that records calls, boards and counter states."""

    def __init__(self, site_id, port, **kw):
        self.calls, self.boards, self.states = [], [], {}
        self.bus = BusClient(site=site_id, role="display", device=f"watch-{time.monotonic_ns()}",
                             port=port, **kw)
        t = self.bus.topics
        self.bus.subscribe(t.call, lambda m: self.calls.append(decode(CallEvent, m.payload)))
        self.bus.subscribe(t.board, lambda m: m.payload and self.boards.append(decode(BoardSnapshot, m.payload)))
        self.bus.subscribe(t.all_counter_states, lambda m: m.payload and self.states.__setitem__(
            t.counter_of(m.topic), decode(CounterState, m.payload)))
        self.bus.start()
        assert self.bus.connected.wait(5)

    def wait(self, predicate, timeout=5.0):
        return wait_for(predicate, timeout, bus=self.bus)

    def settle(self, seconds=0.4):
        wait_for(lambda: False, seconds, bus=self.bus)


def make_site(site_id):
    return dataclasses.replace(load_site(EXAMPLE), site_id=site_id)


@pytest.fixture
def clock():
    return FakeClock(MONDAY_9_WIB)


@pytest.fixture
def svc(tmp_path, site_id, clock):
    service = queue_mod.QueueService(str(tmp_path / "queue.db"), make_site(site_id), clock=clock)
    yield service
    service.close()


@pytest.fixture
def bridge(svc, mosquitto):
    b = Bridge(svc, svc.site, {"host": "127.0.0.1", "port": mosquitto.port}).start()
    assert wait_for(lambda: b.stats["full_republish"] >= 1), "bridge never connected"
    yield b
    b.stop()


@pytest.fixture
def box(mosquitto, site_id):
    bus = BusClient(site=site_id, role="button", device="box-01", port=mosquitto.port)
    bus.start()
    assert bus.connected.wait(5)
    yield bus
    bus.stop()


def command(clock, cmd_id, action="next", counter=1, age_s=0.0, device="box-01"):
    return CounterCommand(id=cmd_id, counter=counter, action=action, device=device,
                          sent_at_ms=clock.epoch_ms() - int(age_s * 1000))


def send(bus, msg, topic_counter=None, **kw):
    info = bus.publish(bus.topics.command(topic_counter or msg.counter), encode(msg), **kw)
    assert info is not None and not bus.wait_for_ack(info).is_failure


def issue(svc, n):
    for i in range(n):
        svc.issue("A", request_id=f"req-{i}", device="kiosk-1")


def test_command_gives_one_call_and_retained_state_and_duplicate_changes_nothing(
        svc, bridge, box, clock, mosquitto, site_id):
    """GIVEN two waiting A tickets WHEN box-01 sends 'next' (twice, same id) THEN exactly one call A-001,
    counter 1's retained state shows A-001 with last_command ok, and the duplicate changes nothing."""
    issue(svc, 2)
    watch = Watcher(site_id, mosquitto.port)
    cmd = command(clock, "box-01:boot:1")
    send(box, cmd)
    assert watch.wait(lambda: watch.calls)
    assert watch.wait(lambda: (s := watch.states.get(1)) and s.last_command and s.last_command.id == cmd.id)
    state = watch.states[1]
    assert state.ticket.number == "A-001" and state.last_command.ok and state.waiting == 1
    send(box, cmd)
    assert wait_for(lambda: bridge.stats["duplicate"] == 1)
    watch.settle()
    assert [(c.ticket, c.counter, c.kind) for c in watch.calls] == [("A-001", 1, "call")]
    assert svc.counter_state(1)["ticket"]["number"] == "A-001"
    assert svc.board()["waiting"]["A"] == 1
    assert bridge.stats["bad_outbound"] == 0 and bridge.stats["errors"] == 0
    watch.bus.stop()


def test_stale_command_is_rejected_never_applied(svc, bridge, box, clock, mosquitto, site_id):
    """GIVEN a waiting ticket WHEN a command 11 s old (max age 10 s) arrives THEN no call, the ticket
    still waits, and counter 1's last_command says 'stale'."""
    issue(svc, 1)
    watch = Watcher(site_id, mosquitto.port)
    cmd = command(clock, "box-01:boot:2", age_s=11)
    send(box, cmd)
    assert watch.wait(lambda: (s := watch.states.get(1)) and s.last_command and s.last_command.id == cmd.id)
    assert watch.states[1].last_command == type(watch.states[1].last_command)(id=cmd.id, ok=False, code="stale")
    watch.settle()
    assert watch.calls == [] and bridge.stats["stale"] == 1
    assert svc.board()["waiting"]["A"] == 1 and svc.counter_state(1)["ticket"] is None


def test_display_connecting_mid_day_gets_full_board_at_once(svc, bridge, box, clock, mosquitto, site_id):
    """GIVEN calls already made WHEN a display connects later THEN the retained board has every counter
    and the current numbers, without any new call."""
    issue(svc, 3)
    send(box, command(clock, "box-01:boot:3"))
    assert wait_for(lambda: bridge.stats["calls_published"] == 1)
    wait_for(lambda: False, 0.3)
    late = Watcher(site_id, mosquitto.port)
    assert late.wait(lambda: late.boards, timeout=2)
    board = late.boards[-1]
    assert [c.counter for c in board.counters] == [c.number for c in svc.site.counters]
    assert board.counters[0].ticket.number == "A-001" and board.seq == 1
    assert {s.prefix: s.waiting for s in board.services}["A"] == 2
    assert late.calls == []
    late.bus.stop()


@pytest.mark.parametrize("payload, retain, stat", [
    (b"not json", False, "malformed"),
    (b'{"v":9,"id":"x","counter":1,"action":"next","device":"box-01","sent_at_ms":1}', False, "malformed"),
    (b'{"v":1,"id":"x","counter":1,"action":"fly","device":"box-01","sent_at_ms":1}', False, "malformed"),
    (b'{"v":1,"id":"x","counter":1,"action":"next","device":"box-01","sent_at_ms":1,"pad":"'
     + b"x" * 2000 + b'"}', False, "malformed"),
])
def test_malformed_payloads_are_dropped_without_harm(svc, bridge, box, clock, payload, retain, stat):
    """GIVEN a waiting ticket WHEN garbage arrives on counter 1's command topic THEN it is counted and
    dropped, and a valid command right after still works."""
    issue(svc, 1)
    box.publish(box.topics.command(1), payload, retain=retain)
    assert wait_for(lambda: bridge.stats[stat] == 1)
    assert svc.board()["waiting"]["A"] == 1
    send(box, command(clock, "box-01:boot:9"))
    assert wait_for(lambda: bridge.stats["applied"] == 1)
    assert svc.counter_state(1)["ticket"]["number"] == "A-001"


def test_counter_mismatch_is_refused_and_changes_nothing(svc, bridge, box, clock):
    """GIVEN a waiting ticket WHEN a command naming counter 2 arrives on counter 1's topic THEN it is
    refused and counted, and nothing is called."""
    issue(svc, 1)
    send(box, command(clock, "box-01:boot:5", counter=2), topic_counter=1)
    assert wait_for(lambda: bridge.stats["unauthorised"] == 1)
    assert svc.board()["waiting"]["A"] == 1 and bridge.stats["applied"] == 0


def test_retained_command_is_not_replayed_to_a_starting_server(svc, box, clock, mosquitto):
    """GIVEN a command someone published retained WHEN the server's bridge starts and subscribes THEN
    the replayed command is refused and counted, and nothing is called."""
    issue(svc, 1)
    send(box, command(clock, "box-01:boot:6"), retain=True)
    b = Bridge(svc, svc.site, {"host": "127.0.0.1", "port": mosquitto.port, "device": "server-r"}).start()
    try:
        assert wait_for(lambda: b.stats["retained_command"] == 1)
        assert svc.board()["waiting"]["A"] == 1 and b.stats["applied"] == 0
    finally:
        box.clear_retained(box.topics.command(1))
        b.stop()


def test_presence_and_printer_status_reach_devices(svc, bridge, mosquitto, site_id):
    """GIVEN a kiosk online WHEN it reports paper_out THEN bridge.devices() shows it online with paper_out."""
    kiosk = BusClient(site=site_id, role="kiosk", device="kiosk-1", port=mosquitto.port)
    kiosk.start()
    assert kiosk.connected.wait(5)
    kiosk.publish_message(kiosk.topics.printer("kiosk-1"), PrinterStatus(kiosk="kiosk-1", status="paper_out"),
                          retain=True)

    def row():
        return next((d for d in bridge.devices() if d["device"] == "kiosk-1"), None)
    assert wait_for(lambda: row() and row()["printer"] and row()["status"] == "online")
    assert row()["printer"]["status"] == "paper_out" and row()["last_seen"].endswith("+07:00")
    kiosk.stop()
    assert wait_for(lambda: row()["status"] == "offline")
    kiosk.clear_retained(kiosk.topics.printer("kiosk-1"))


def test_state_is_republished_after_broker_restart(tmp_path, site_id, clock, fresh_mosquitto):
    """GIVEN a bridge on a broker without persistence WHEN the broker restarts THEN the bridge republishes
    all retained state and a new display gets the board."""
    service = queue_mod.QueueService(str(tmp_path / "q.db"), make_site(site_id), clock=clock)
    b = Bridge(service, service.site, {"host": "127.0.0.1", "port": fresh_mosquitto.port}).start()
    try:
        assert wait_for(lambda: b.stats["full_republish"] == 1)
        fresh_mosquitto.restart()
        assert wait_for(lambda: b.stats["full_republish"] == 2, timeout=10)
        watch = Watcher(site_id, fresh_mosquitto.port)
        assert watch.wait(lambda: watch.boards, timeout=2)
        watch.bus.stop()
    finally:
        b.stop()
        service.close()


def test_production_broker_counter_credentials_call_and_display_is_denied(tmp_path, clock, prod_broker):
    """GIVEN the production broker and the server logged in as server-1 WHEN the display publishes a
    command for counter 5 THEN PUBACK is 0x87 and nothing is called; WHEN box-05 does THEN one call."""
    service = queue_mod.QueueService(str(tmp_path / "q.db"), make_site("dinkes-claim"), clock=clock)
    issue(service, 2)
    user, password = prod_broker.credentials["server-1"]
    b = Bridge(service, service.site, {"host": "127.0.0.1", "port": prod_broker.port, "device": "server-1",
                                       "username": user, "password": password}).start()
    clients = []

    def login(device, role):
        u, p = prod_broker.credentials[device]
        bus = BusClient(site="dinkes-claim", role=role, device=device, port=prod_broker.port,
                        username=u, password=p)
        bus.start()
        assert bus.connected.wait(5)
        clients.append(bus)
        return bus
    try:
        assert wait_for(lambda: b.stats["full_republish"] == 1)
        display = login("board-1", "display")
        denied = display.publish(display.topics.command(5),
                                 encode(command(clock, "board-1:x:1", counter=5, device="board-1")))
        assert display.wait_for_ack(denied).value == 0x87
        box5 = login("box-05", "button")
        send(box5, command(clock, "box-05:boot:1", counter=5, device="box-05"))
        assert wait_for(lambda: b.stats["calls_published"] == 1)
        wait_for(lambda: False, 0.3)
        assert b.stats["applied"] == 1 and service.counter_state(5)["ticket"]["number"] == "A-001"
        assert service.board()["waiting"]["A"] == 1
        assert any(d["device"] == "board-1" and d["status"] == "online" for d in b.devices())
    finally:
        for bus in clients:
            bus.stop()
        b.stop()
        service.close()


def test_quiet_bridge_refreshes_live_state_for_server_time(svc, mosquitto, site_id, clock):
    """GIVEN no activity WHEN the refresh interval passes THEN counter states arrive live (not retained)
    with the current server_time_ms, so a box can learn server time from them."""
    b = Bridge(svc, svc.site, {"host": "127.0.0.1", "port": mosquitto.port}, state_refresh_s=0.3).start()
    live = []
    watch = BusClient(site=site_id, role="display", device="watch-live", port=mosquitto.port)
    watch.subscribe(watch.topics.counter_state(1),
                    lambda m: live.append(decode(CounterState, m.payload)) if not m.retain else None)
    watch.start()
    try:
        assert watch.connected.wait(5)
        assert wait_for(lambda: b.stats["full_republish"] == 1)
        clock.advance(5)
        assert wait_for(lambda: any(s.server_time_ms == clock.epoch_ms() for s in live), bus=watch)
        assert wait_for(lambda: b.stats["refresh"] >= 1)  # counted after the whole burst
    finally:
        watch.stop()
        b.stop()


def test_command_sent_while_server_reconnects_is_applied_from_its_session(
        tmp_path, site_id, clock, mosquitto, box):
    """GIVEN the server's bridge went away (persistent session, 60 s) WHEN a box sends 'next' meanwhile
    and the server comes back with the same client id THEN the queued command is applied once."""
    db = str(tmp_path / "q.db")
    first = queue_mod.QueueService(db, make_site(site_id), clock=clock)
    issue(first, 1)
    b1 = Bridge(first, first.site, {"host": "127.0.0.1", "port": mosquitto.port}).start()
    assert wait_for(lambda: b1.stats["full_republish"] == 1)
    wait_for(lambda: False, 0.2)
    b1.stop()
    first.close()
    assert box.wait_for_ack(box.publish_command(command(clock, "box-01:boot:7"), max_age_s=10)) is not None
    second = queue_mod.QueueService(db, make_site(site_id), clock=clock)
    b2 = Bridge(second, second.site, {"host": "127.0.0.1", "port": mosquitto.port}).start()
    try:
        assert wait_for(lambda: b2.stats["applied"] == 1)
        assert second.counter_state(1)["ticket"]["number"] == "A-001"
    finally:
        b2.stop()
        second.close()


def test_actions_from_the_web_panel_reach_the_bus_too(svc, bridge, mosquitto, site_id):
    """GIVEN waiting tickets WHEN a panel calls next over HTTP (QueueService directly, another thread)
    THEN the call event and counter 2's state are published by the bridge, once per call."""
    issue(svc, 2)
    watch = Watcher(site_id, mosquitto.port)
    svc.counter_action(2, "next", command_id="panel-2:1", device="panel-2")
    svc.counter_action(2, "recall", command_id="panel-2:2", device="panel-2")
    assert watch.wait(lambda: len(watch.calls) == 2)
    assert watch.wait(lambda: (s := watch.states.get(2)) and s.ticket and s.ticket.number == "A-001")
    watch.settle()
    assert [(c.seq, c.kind, c.ticket) for c in watch.calls] == [(1, "call", "A-001"), (2, "recall", "A-001")]
    watch.bus.stop()


def test_malformed_presence_and_printer_are_counted_and_ignored(svc, bridge, mosquitto, site_id):
    """GIVEN a running bridge WHEN garbage arrives on presence and printer topics, or a kiosk reports
    for another kiosk THEN each is counted, and no device row is created from it."""
    rogue = BusClient(site=site_id, role="kiosk", device="kiosk-9", port=mosquitto.port)
    rogue.start()
    assert rogue.connected.wait(5)
    t = rogue.topics
    rogue.wait_for_ack(rogue.publish(t.presence("display", "board-x"), b"{oops"))
    rogue.wait_for_ack(rogue.publish(t.printer("kiosk-9"), b'{"v":1,"kiosk":"kiosk-9","status":"on fire"}'))
    rogue.wait_for_ack(rogue.publish_message(t.printer("kiosk-9"), PrinterStatus(kiosk="kiosk-1", status="ok")))
    assert wait_for(lambda: bridge.stats["malformed"] == 2 and bridge.stats["mismatch"] == 1)
    rows = {d["device"]: d for d in bridge.devices()}
    assert "board-x" not in rows and "kiosk-1" not in rows and rows["kiosk-9"]["printer"] is None
    rogue.stop()


def test_refused_command_is_acknowledged_with_its_error_code(svc, bridge, box, clock, mosquitto, site_id):
    """GIVEN nobody waiting WHEN box-01 presses 'next' THEN counter 1's state carries last_command
    ok=false with the queue's error code, and nothing is called."""
    watch = Watcher(site_id, mosquitto.port)
    cmd = command(clock, "box-01:boot:8")
    send(box, cmd)
    assert watch.wait(lambda: (s := watch.states.get(1)) and s.last_command and s.last_command.id == cmd.id)
    last = watch.states[1].last_command
    assert last.ok is False and last.code == "nothing_waiting"
    assert bridge.stats["refused"] == 1 and watch.calls == []
    watch.bus.stop()
