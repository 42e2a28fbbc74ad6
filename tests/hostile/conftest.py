"""The hostile bus tests' broker: Mosquitto with the production config (passwords,
ACL, client id = user name) and the site's devices from ``bus_parts.devices``, one per
test module, for the module's ``SITE``."""
import pytest

from server.devtools.mosquitto import Mosquitto

from bus_parts import devices


@pytest.fixture(scope="module")
def broker(tmp_path_factory, request):
    site = request.module.SITE
    b = Mosquitto.production(tmp_path_factory.mktemp(f"mosq-{site}"), devices=devices(site)).start()
    yield b
    b.cleanup()
