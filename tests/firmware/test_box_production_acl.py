"""The box logged in as its own broker user under the production config (auth + ACL)."""
from __future__ import annotations

import pytest

from broker.acl import DeviceSpec
from broker.bus import BusClient
from broker.protocol import CommandResult, CounterCommand, CounterState, decode, encode
from server.devtools.mosquitto import Mosquitto, wait_for
from firmware.box import ButtonBox
from firmware.config import parse_config

from boxkit import PINS, box_config, run_until, tap

pytestmark = pytest.mark.timeout(30)
SITE = "dinkes-claim"


def test_box_with_password_file_passes_the_production_acl(tmp_path, clock, mock_factory):
    """GIVEN the production broker with users server-1 and box-07 (counter 7)
    WHEN box-07, reading its password from password_file, presses NEXT
    THEN the server user receives the command and the box receives its own
    counter's state as the acknowledgement."""
    broker = Mosquitto.production(tmp_path / "mosq", devices=[
        DeviceSpec("server", "server-1", SITE), DeviceSpec("button", "box-07", SITE, counter=7)]).start()
    box = server = None
    try:
        (tmp_path / "box-07.password").write_text(broker.credentials["box-07"][1] + "\n")
        data = box_config(SITE, broker.port, bus={"username": "box-07",
                                                  "password_file": str(tmp_path / "box-07.password")})
        data.update(device_id="box-07", counter=7)
        box = ButtonBox(parse_config(data), clock=clock, pin_factory=mock_factory).start()
        user, password = broker.credentials["server-1"]
        server = BusClient(site=SITE, role="server", device="server-1", port=broker.port,
                           username=user, password=password)
        got: list[CounterCommand] = []
        server.subscribe(server.topics.command(7), lambda m: got.append(decode(CounterCommand, m.payload)))
        # paho sends SUBSCRIBE only after `connected` is set; a press published
        # before the broker has it is lost. Once a probe (subscribed after the
        # command topic) comes back, both subscriptions are active.
        probes: list[bytes] = []
        server.subscribe(f"{server.topics.base}/test/probe", lambda m: probes.append(m.payload))
        server.start()
        assert server.connected.wait(5)
        server.publish(f"{server.topics.base}/test/probe", b"probe", qos=1)
        assert wait_for(lambda: probes, 5, bus=server), "server's subscriptions not active"
        assert run_until(box, box.bus.connected.is_set, 10)
        tap(mock_factory, PINS["next"])
        assert run_until(box, lambda: got, others=[server])
        assert (got[0].counter, got[0].device, got[0].action) == (7, "box-07", "next")
        state = CounterState(counter=7, name="Loket 7", status="open", waiting=0,
                             server_time_ms=got[0].sent_at_ms,
                             last_command=CommandResult(id=got[0].id, ok=True))
        server.publish(server.topics.counter_state(7), encode(state), retain=True)
        assert run_until(box, lambda: box.results, others=[server])
        assert box.results[-1] == (got[0].id, "ok")
    finally:
        if server is not None:
            server.stop()
        if box is not None:
            box.close()
        broker.cleanup()
