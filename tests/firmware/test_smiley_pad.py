"""The counter's smiley pad under gpiozero's MockFactory, against the real server (QueueService
+ its bridge) over a real Mosquitto, and under the production ACL."""
from __future__ import annotations

import pytest

from broker.acl import DeviceSpec
from broker.bus import BusClient
from broker.protocol import SmileyVote, encode
from firmware.box import ButtonBox
from firmware.config import ButtonConfigError, parse_config
from server.devtools.mosquitto import Mosquitto, wait_for

from boxkit import box_config, run_until

pytestmark = [pytest.mark.timeout(40)]
FACES = {"very_unhappy": 24, "unhappy": 25, "happy": 8, "very_happy": 7}


def _votes(svc):
    return [dict(r) for r in svc.db.read().execute(
        "SELECT vote_id, counter, score, device FROM smiley_votes ORDER BY id")]


def _press(factory, pin):
    factory.pin(pin).drive_low()
    factory.pin(pin).drive_high()


def test_pad_presses_become_one_vote_per_resident(stack, make_box, mock_factory, clock):
    """GIVEN box-01 at counter 1 with a smiley pad WHEN a resident presses 'very happy' and then
    'unhappy' within the cooldown, and the next resident presses 'unhappy' after it THEN the
    server stores two votes (4 and 2) for counter 1, recorded under the counter's bus
    credential; the pad's LEDs and buttons are released when the box closes."""
    svc, bridge = stack
    box = make_box(smiley=FACES)
    _press(mock_factory, FACES["very_happy"])
    box.step(0)
    clock.advance(1.0)
    _press(mock_factory, FACES["unhappy"])      # the same resident, second thoughts: ignored
    box.step(0)
    clock.advance(box.cfg.smiley["cooldown_s"])
    _press(mock_factory, FACES["unhappy"])      # the next resident
    box.step(0)
    assert [s for _, s in box.smiley.sent] == [4, 2]
    assert wait_for(lambda: len(_votes(svc)) == 2, 5)
    votes = _votes(svc)
    assert [(v["counter"], v["score"], v["device"]) for v in votes] == [(1, 4, "bus:loket-1"),
                                                                        (1, 2, "bus:loket-1")]
    assert bridge.stats["votes"] == 2


def test_resent_malformed_and_foreign_votes_change_nothing(stack, site_id, mosquitto):
    """GIVEN the server on the bus WHEN a vote is sent twice (a QoS 1 resend), a vote names
    another counter than its topic, and a payload is malformed THEN one vote is stored and the
    others are counted as dropped."""
    svc, bridge = stack
    bus = BusClient(site=site_id, role="button", device="box-03", port=mosquitto.port)
    bus.start()
    try:
        assert bus.connected.wait(5)
        vote = SmileyVote(id="box-03:ab:s1", counter=3, score=3, device="box-03", sent_at_ms=1)
        for _ in range(2):
            bus.publish(bus.topics.smiley(3), encode(vote), qos=1)
        bus.publish(bus.topics.smiley(4), encode(vote), qos=1)          # counter 3 on counter 4's topic
        bus.publish(bus.topics.smiley(3), b'{"v":1,"id":"x","counter":3,"score":9}', qos=1)
        assert wait_for(lambda: bridge.stats["vote_duplicate"] == 1 and bridge.stats["unauthorised"] == 1
                        and bridge.stats["malformed"] == 1, 5), dict(bridge.stats)
        assert [(v["vote_id"], v["score"]) for v in _votes(svc)] == [("box-03:ab:s1", 3)]
    finally:
        bus.stop()


def test_pad_needs_all_four_pins_and_no_pin_twice(site_id):
    """GIVEN a config with three faces, or a face on the NEXT pin WHEN parsed THEN refused (ID/EN)."""
    with pytest.raises(ButtonConfigError, match="keempat"):
        parse_config(box_config(site_id, 1883, smiley={"happy": 8, "unhappy": 25, "very_happy": 7}))
    with pytest.raises(ButtonConfigError, match="pin used twice"):
        parse_config(box_config(site_id, 1883, smiley={**FACES, "happy": 17}))


def test_production_acl_lets_a_box_vote_only_for_its_own_counter(tmp_path, clock, mock_factory):
    """GIVEN the production broker with box-07 (counter 7) WHEN its pad votes THEN the server
    user receives it; a vote box-07 publishes on counter 8's smiley topic never arrives."""
    site = "dinkes-claim"
    broker = Mosquitto.production(tmp_path / "mosq", devices=[
        DeviceSpec("server", "server-1", site), DeviceSpec("button", "box-07", site, counter=7)]).start()
    box = server = None
    try:
        (tmp_path / "pw").write_text(broker.credentials["box-07"][1] + "\n")
        data = box_config(site, broker.port, bus={"username": "box-07", "password_file": str(tmp_path / "pw")},
                          smiley=FACES)
        data.update(device_id="box-07", counter=7)
        box = ButtonBox(parse_config(data), clock=clock, pin_factory=mock_factory).start()
        user, password = broker.credentials["server-1"]
        server = BusClient(site=site, role="server", device="server-1", port=broker.port,
                           username=user, password=password)
        got = []
        server.subscribe(server.topics.all_smileys, lambda m: got.append(m.topic))
        probe = f"{server.topics.base}/test/probe"
        probes = []
        server.subscribe(probe, lambda m: probes.append(1))
        server.start()
        assert server.connected.wait(5)
        server.publish(probe, b"p", qos=1)
        assert wait_for(lambda: probes, 5, bus=server)
        assert run_until(box, box.bus.connected.is_set)
        _press(mock_factory, FACES["happy"])
        box.step(0)
        box.bus.publish(box.bus.topics.smiley(8), encode(SmileyVote(
            id="box-07:x:s9", counter=8, score=1, device="box-07", sent_at_ms=1)), qos=1)
        assert run_until(box, lambda: len(got) >= 1, others=(server,))
        run_until(box, lambda: False, timeout=0.5, others=(server,))
        assert got == [server.topics.smiley(7)]
    finally:
        if box is not None:
            box.close()
        if server is not None:
            server.stop()
        broker.cleanup()
