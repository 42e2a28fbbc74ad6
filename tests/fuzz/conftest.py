"""A real app (Flask test client, real QueueService on a temp SQLite file) for hostile input."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # `tests.faults.busparts` whether run as pytest or python -m pytest

from server import ratelimit  # noqa: E402
from server.app import create_app  # noqa: E402
from server.devtools.benchlib.site import always_open_site  # noqa: E402
from server.queue import QueueService  # noqa: E402
from tests.faults.busparts import snapshot  # noqa: E402,F401  (re-exported for the fuzz tests)


class Api:
    """The app, its queue and one token per role."""

    def __init__(self, tmp_path, **config):
        self.svc = QueueService(str(tmp_path / "fuzz.db"), always_open_site("fuzz"))
        self.app = create_app({"TESTING": True, "LALOPA_QUEUE": self.svc,
                               "LALOPA_DB": str(tmp_path / "fuzz.db"), **config})
        self.client = self.app.test_client()
        self.tokens = {role: self.svc.create_device_token(f"{role}-1", role)
                       for role in ("kiosk", "panel", "button", "display", "admin")}

    def auth(self, role: str) -> dict:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def close(self):
        close = getattr(self.svc, "close", None)
        if close:
            close()


@pytest.fixture(scope="session")
def api(tmp_path_factory):
    """One app for the whole fuzz session (examples share it; each checks its own state).

    The rate limit is off here so random requests are judged on their content;
    ``limited_api`` puts a default limiter in for one test."""
    a = Api(tmp_path_factory.mktemp("fuzz"), LALOPA_KIOSK_RATE_PER_MIN=0)
    yield a
    a.close()


@pytest.fixture
def limited_api(api):
    """The same app with a fresh default per-kiosk limiter, restored afterwards."""
    old = api.app.extensions.get(ratelimit.EXTENSION_KEY)
    api.app.extensions[ratelimit.EXTENSION_KEY] = ratelimit.KioskRateLimiter()
    yield api
    api.app.extensions[ratelimit.EXTENSION_KEY] = old


# The kiosk tests' real parts (real server on 127.0.0.1, the kiosk app under SDL dummy),
# loaded under another module name so both conftests coexist (as in tests/faults).
from tests import kiosk_fixtures  # noqa: E402

_kiosk = kiosk_fixtures.load("lalopa_kiosk_fixtures_fuzz")
server_clock = _kiosk.server_clock
server_flask_app = _kiosk.server_flask_app
site_for_test = _kiosk.site_for_test
real_server = _kiosk.real_server
make_kiosk = _kiosk.make_kiosk
