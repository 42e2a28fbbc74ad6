"""Load tests/kiosk/conftest.py (the real server on 127.0.0.1, the kiosk app under
SDL dummy, the port-9100 printer) as a plain module, so other test folders reuse
those real parts under their own module name while both conftests coexist."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

KIOSK_TESTS = Path(__file__).resolve().parent / "kiosk"


def load(module_name: str):
    """The kiosk tests' conftest, imported as ``module_name``."""
    if str(KIOSK_TESTS) not in sys.path:
        sys.path.insert(0, str(KIOSK_TESTS))  # kiosk_helpers, as tests/kiosk imports it
    spec = importlib.util.spec_from_file_location(module_name, KIOSK_TESTS / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
