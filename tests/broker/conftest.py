"""Fixtures for the bus tests: the production-config broker with its devices."""
import pytest

from broker.acl import DeviceSpec
from broker.bus import BusClient
from server.devtools.mosquitto import Mosquitto

SITE = "dinkes-claim"  # the production ACLs are written for this site
DEVICES = [
    DeviceSpec("server", "server-1", SITE),
    DeviceSpec("button", "box-05", SITE, counter=5),
    DeviceSpec("button", "box-06", SITE, counter=6),
    DeviceSpec("display", "board-1", SITE),
    DeviceSpec("kiosk", "kiosk-1", SITE),
]


@pytest.fixture(scope="module")
def prod_broker(tmp_path_factory):
    """A real Mosquitto with the production config (auth, ACL, persistence) on loopback."""
    broker = Mosquitto.production(tmp_path_factory.mktemp("mosq-prod"), devices=DEVICES).start()
    yield broker
    broker.cleanup()


@pytest.fixture
def connect(prod_broker):
    """``connect(device, role)`` -> a started BusClient logged in as that device."""
    clients = []

    def _connect(device, role, **kw):
        user, password = prod_broker.credentials[device]
        bus = BusClient(site=SITE, role=role, device=device, port=prod_broker.port,
                        username=user, password=password, **kw)
        bus.start()
        assert bus.connected.wait(5), f"{device} could not connect"
        clients.append(bus)
        return bus

    yield _connect
    for bus in clients:
        bus.stop()
