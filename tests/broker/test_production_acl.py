"""The production broker config: authentication and per-device ACLs, end to end."""
import threading

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from broker.protocol import CounterCommand, PrinterStatus, decode, encode

from server.devtools.mosquitto import wait_for


def _connack(port, username=None, password=None):
    """Connect once with raw paho and return the CONNACK reason code."""
    result, done = [], threading.Event()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="probe",
                         protocol=MQTTProtocolVersion.MQTTv5)
    if username:
        client.username_pw_set(username, password)

    def on_connect(c, userdata, flags, reason_code, properties):
        result.append(reason_code)
        done.set()
    client.on_connect = on_connect
    client.connect("127.0.0.1", port)
    client.loop_start()
    done.wait(5)
    client.disconnect()
    client.loop_stop()
    return result[0]


def _cmd(counter, device, n=1):
    return encode(CounterCommand(id=f"{device}:t:{n}", counter=counter, action="next",
                                 device=device, sent_at_ms=1))


def test_anonymous_and_wrong_password_are_refused(prod_broker):
    """GIVEN the production config WHEN a client connects without or with bad credentials THEN it is refused."""
    assert _connack(prod_broker.port).is_failure
    assert _connack(prod_broker.port, "box-05", "wrong").is_failure
    user, password = prod_broker.credentials["box-05"]
    assert not _connack(prod_broker.port, user, password).is_failure


def test_counter_box_publishes_its_own_command(connect):
    """GIVEN box-05 WHEN it publishes on counter 5's command topic THEN the server receives it, PUBACK ok."""
    server = connect("server-1", "server")
    got = []
    server.subscribe(server.topics.all_commands, lambda m: got.append(m.topic))
    assert wait_for(lambda: False, timeout=0.3, bus=server) is False  # let SUBSCRIBE settle
    box = connect("box-05", "button")
    info = box.publish(box.topics.command(5), _cmd(5, "box-05"))
    assert not box.wait_for_ack(info).is_failure
    assert wait_for(lambda: got, bus=server)
    assert got == [server.topics.command(5)]


def test_display_and_other_counter_cannot_command_counter_5(connect):
    """GIVEN a display and box-06 WHEN they publish counter 5's command THEN PUBACK says not authorised
    AND the server subscriber receives only box-05's later sentinel."""
    server = connect("server-1", "server")
    got = []
    server.subscribe(server.topics.all_commands, lambda m: got.append(decode(CounterCommand, m.payload).id))
    wait_for(lambda: False, timeout=0.3, bus=server)
    display = connect("board-1", "display")
    other = connect("box-06", "button")
    for bus, device in ((display, "board-1"), (other, "box-06")):
        code = bus.wait_for_ack(bus.publish(bus.topics.command(5), _cmd(5, device)))
        assert code.is_failure and code.value == 0x87
    box = connect("box-05", "button")
    box.wait_for_ack(box.publish(box.topics.command(5), _cmd(5, "box-05", 99)))
    assert wait_for(lambda: got, bus=server)
    wait_for(lambda: False, timeout=0.3, bus=server)
    assert got == ["box-05:t:99"]


def test_box_reads_only_its_own_state_and_kiosk_writes_only_its_printer(connect):
    """GIVEN the server publishing retained states WHEN box-05 subscribes to all THEN it gets only counter 5;
    AND a kiosk's write to another kiosk's printer topic is denied."""
    server = connect("server-1", "server")
    for n in (5, 6):
        server.wait_for_ack(server.publish(server.topics.counter_state(n), b'{"x":1}', retain=True))
    box = connect("box-05", "button")
    seen = []
    box.subscribe(box.topics.all_counter_states, lambda m: seen.append(m.topic))
    wait_for(lambda: len(seen) > 1, timeout=1.0, bus=box)
    assert seen == [box.topics.counter_state(5)]
    kiosk = connect("kiosk-1", "kiosk")
    own = kiosk.publish_message(kiosk.topics.printer("kiosk-1"), PrinterStatus(kiosk="kiosk-1", status="ok"))
    other = kiosk.publish_message(kiosk.topics.printer("kiosk-2"), PrinterStatus(kiosk="kiosk-2", status="ok"))
    assert not kiosk.wait_for_ack(own).is_failure
    assert kiosk.wait_for_ack(other).value == 0x87
    for n in (5, 6):
        server.clear_retained(server.topics.counter_state(n))
