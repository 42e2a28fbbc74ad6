"""Fault tests reuse the kiosk tests' real parts: the real server on 127.0.0.1, the real
kiosk app under SDL dummy and a port-9100 printer (tests/kiosk/conftest.py), loaded under
another module name so both packages' conftests coexist."""
from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # `tests.faults.busparts` whether run as pytest or python -m pytest
from tests import kiosk_fixtures  # noqa: E402

_kiosk = kiosk_fixtures.load("lalopa_kiosk_fixtures")

NetPrinter = _kiosk.NetPrinter
netprinter = _kiosk.netprinter
server_clock = _kiosk.server_clock
server_flask_app = _kiosk.server_flask_app
site_for_test = _kiosk.site_for_test
real_server = _kiosk.real_server
make_kiosk = _kiosk.make_kiosk
