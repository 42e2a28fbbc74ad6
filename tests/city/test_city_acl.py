"""Each site's credential at the centre is confined to its own prefix, over TLS only."""
import ssl
import time

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from broker.bus import BusClient
from broker.protocol import city_topic
from server.devtools.citylab import CentralBroker, make_ca
from server.devtools.mosquitto import wait_for


@pytest.fixture(scope="module")
def centre(tmp_path_factory):
    d = tmp_path_factory.mktemp("city-acl")
    broker = CentralBroker(d / "central", make_ca(d / "ca"))
    passwords = {s: broker.add_site(s) for s in ("pkm-a", "pkm-b")}
    broker.start()
    yield broker, passwords
    broker.cleanup()


def site_client(broker, passwords, site):
    bus = BusClient(site=site, role="server", device="uplink", port=broker.tls_port, username=site,
                    password=passwords[site], tls_ca=str(broker.certs.ca))
    bus.start()
    assert bus.connected.wait(10), f"{site} could not log in over TLS"
    return bus


def test_a_site_writes_only_its_own_topics(centre):
    """GIVEN site A's credential WHEN it publishes its own batch, site B's batch, site B's live
    state and an ack for itself THEN only its own batch is accepted (MQTT 5 PUBACK 0x87 otherwise)."""
    broker, passwords = centre
    bus = site_client(broker, passwords, "pkm-a")
    try:
        def ack(topic):
            code = bus.wait_for_ack(bus.publish(topic, b"{}"), 5)
            assert code is not None, topic
            return code.is_failure
        assert ack(city_topic("pkm-a", "batch")) is False
        assert ack("lalopa/v1/pkm-a/summary") is False
        assert ack(city_topic("pkm-b", "batch")) is True
        assert ack("lalopa/v1/pkm-b/summary") is True
        assert ack(city_topic("pkm-a", "control/ack")) is True  # only the centre acknowledges
    finally:
        bus.stop()


def test_a_site_reads_only_its_own_control_topics(centre):
    """GIVEN site A subscribed to everything WHEN the centre publishes control messages for A and
    B and site B's live state arrives THEN A receives only its own control message (Mosquitto
    grants the subscription and checks the ACL on every delivery)."""
    broker, passwords = centre
    got = []
    a = site_client(broker, passwords, "pkm-a")
    a.subscribe("lalopa/v1/#", lambda m: got.append(m.topic))
    b = site_client(broker, passwords, "pkm-b")
    central = BusClient(site="pkm-a", role="server", device="central", port=broker.port,
                        username="central", password=broker.central_password)
    central.start()
    try:
        assert central.connected.wait(5)
        time.sleep(0.5)  # A's subscription is in place
        for topic in (city_topic("pkm-b", "control/resend"), city_topic("pkm-a", "control/resend")):
            assert not central.wait_for_ack(central.publish(topic, b"{}"), 5).is_failure
        assert not b.wait_for_ack(b.publish("lalopa/v1/pkm-b/summary", b"{}"), 5).is_failure
        wait_for(lambda: city_topic("pkm-a", "control/resend") in got, 5, bus=a)
        a.dispatch(timeout=0.5)
        assert got == [city_topic("pkm-a", "control/resend")]
    finally:
        for bus in (a, b, central):
            bus.stop()


def test_the_site_listener_refuses_plain_text_and_unknown_users(centre):
    """GIVEN the centre's site listener WHEN a client connects without TLS, or with TLS and a
    wrong password THEN it is not let in."""
    broker, passwords = centre
    results = {}
    for name, tls, password in (("plain", False, passwords["pkm-a"]), ("wrong", True, "nope")):
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"probe-{name}",
                             protocol=MQTTProtocolVersion.MQTTv5)
        client.username_pw_set("pkm-a", password)
        if tls:
            client.tls_set(ca_certs=str(broker.certs.ca), tls_version=ssl.PROTOCOL_TLS_CLIENT)
        try:
            client.connect("127.0.0.1", broker.tls_port, keepalive=5)
            client.loop_start()
            time.sleep(1.0)
            results[name] = client.is_connected()
            client.loop_stop()
        except (OSError, ssl.SSLError):
            results[name] = False
    assert results == {"plain": False, "wrong": False}


def test_the_uplink_on_its_site_broker_cannot_call_or_issue(tmp_path):
    """GIVEN the uplink's user made by 'lalopa central join' on a site's production broker WHEN it
    publishes its batch and survey figures, a counter command and the board THEN only the first
    two are accepted."""
    from server.central.provision import add_uplink
    from server.devtools.mosquitto import Mosquitto
    site = Mosquitto.production(tmp_path / "site")
    add_uplink("pkm-a", site.dir / "passwd", site.dir / "acl", "sandi-uplink-1")
    site.start()
    bus = BusClient(site="pkm-a", role="server", device="uplink", port=site.port, username="uplink",
                    password="sandi-uplink-1")
    bus.start()
    try:
        assert bus.connected.wait(5)
        refused = {topic: bus.wait_for_ack(bus.publish(topic, b"{}"), 5).is_failure
                   for topic in (city_topic("pkm-a", "batch"), city_topic("pkm-a", "ikm"),
                                 bus.topics.command(1), bus.topics.board)}
        assert list(refused.values()) == [False, False, True, True]
    finally:
        bus.stop()
        site.cleanup()
