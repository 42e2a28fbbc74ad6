"""Deploy tests reuse the kiosk tests' real server on 127.0.0.1 (tests/kiosk/conftest.py),
loaded under another module name so both conftests coexist."""
from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
from tests import kiosk_fixtures  # noqa: E402

_kiosk = kiosk_fixtures.load("lalopa_deploy_kiosk_fixtures")

server_clock = _kiosk.server_clock
server_flask_app = _kiosk.server_flask_app
site_for_test = _kiosk.site_for_test
real_server = _kiosk.real_server
