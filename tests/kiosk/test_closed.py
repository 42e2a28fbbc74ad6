"""Daily cap: the server refuses, the kiosk explains and greys the service out."""
import dataclasses

import pytest

from kiosk_helpers import at_home, finger, pump
from server.config import EXAMPLE_SITE, load_site


@pytest.fixture
def site_for_test():
    """The example site with service C capped at one number a day."""
    site = load_site(EXAMPLE_SITE)
    services = tuple(dataclasses.replace(s, daily_cap=1) if s.prefix == "C" else s
                     for s in site.services)
    return dataclasses.replace(site, services=services)


def test_cap_reached_shows_closed_then_service_disabled(real_server, make_kiosk):
    """GIVEN C capped at 1 and another kiosk takes that last number after this kiosk loaded
    WHEN the resident takes a C number THEN the server refuses, the kiosk shows the quota
    message (no number), and back home the C button is disabled while A still works."""
    app = make_kiosk(real_server.url, real_server.token)
    pump(app, lambda: at_home(app))
    real_server.queue.issue("C", request_id="other-kiosk-1", device="kiosk-2")
    finger(app, "service", "C")
    finger(app, "take", "C")
    pump(app, lambda: app.screen == "closed")
    assert app.closed_reason == "cap" and app.ticket is None
    finger(app, "back")
    app._refresh()   # the periodic refresh, without waiting a minute
    pump(app, lambda: app.cap_reached("C"))
    assert not app.button("service", "C").enabled and app.button("service", "A").enabled
    before = app.screen
    finger(app, "service", "C")
    assert app.screen == before == "home"
