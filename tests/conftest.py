"""Fixtures shared by every package's tests.

Hardware and platform switches are set before anything imports pygame or
gpiozero: SDL dummy drivers, gpiozero's MockFactory.
"""
import itertools
import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("GPIOZERO_PIN_FACTORY", "mock")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import pytest

from server.devtools.mosquitto import Mosquitto

_site_ids = itertools.count(1)


@pytest.fixture(scope="session")
def mosquitto():
    """A real Mosquitto (development config) on a free loopback port, for the session.

    Tests isolate themselves by using their own ``site_id`` (topic root)."""
    broker = Mosquitto().start()
    yield broker
    broker.cleanup()


@pytest.fixture
def fresh_mosquitto():
    """A Mosquitto of this test's own, for tests that stop or restart it."""
    broker = Mosquitto().start()
    yield broker
    broker.cleanup()


@pytest.fixture
def site_id():
    """A topic root no other test uses, so retained messages never leak between tests."""
    return f"t{os.getpid()}-{next(_site_ids)}"


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium per test module (launching it is the slow part), Debian's
    binary driven by Playwright."""
    from playwright.sync_api import sync_playwright

    from server.devtools.screenshots import CHROMIUM, CHROMIUM_ARGS
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()
