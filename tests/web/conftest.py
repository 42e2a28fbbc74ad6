"""Fixtures for the web tests: a real server on 127.0.0.1 with a played sample morning,
and a browser context on the shared headless Chromium (tests/conftest.py)."""
import re

import pytest

from server.devtools.devserver import ThreadedServer
from server.devtools.screenshots import PASSWORD, build_demo


class Site:
    """A running demo: ``url``, the Flask ``app``, the QueueService ``svc``, its ``clock``, user ``ids``."""

    def __init__(self, url, app, svc, clock, ids):
        self.url, self.app, self.svc, self.clock, self.ids = url, app, svc, clock, ids


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    app, svc, clock, ids = build_demo(str(tmp_path_factory.mktemp("web")))
    with ThreadedServer(app) as url:
        yield Site(url, app, svc, clock, ids)
    svc.close()


@pytest.fixture
def context(browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    ctx.set_default_timeout(8000)
    yield ctx
    ctx.close()


def _login(page, url: str, username: str, password: str = PASSWORD, counter: str = ""):
    page.goto(f"{url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    if counter:
        page.select_option("select[name=counter]", counter)
    page.click("#login-submit")
    page.wait_for_load_state("domcontentloaded")


def _form_csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


@pytest.fixture
def login():
    """``login(page, url, username, password=PASSWORD, counter="")`` through the real form."""
    return _login


@pytest.fixture
def form_csrf():
    """The CSRF token of a rendered form."""
    return _form_csrf
