"""The site's survey (IKM) reaches the centre as figures: the centre's index equals the site's own."""
import threading
from datetime import date, datetime
from zoneinfo import ZoneInfo

from broker.bus import BusClient
from broker.protocol import IKM_ELEMENTS, CityAck, city_topic, encode
from server import ikm, survey
from server.central import views
from server.central.ingest import Centre
from server.central.store import Store
from server.central.uplink import Uplink
from server.clock import FakeClock
from server.devtools.benchlib.site import always_open_site
from server.devtools.mosquitto import wait_for
from server.queue import QueueService

ANSWERS = ({"u1": 4, "u2": 3, "u3": 4, "u4": 4, "u5": 2, "u6": 3, "u7": 4, "u8": 4, "u9": 3},
           {"u1": 3, "u2": 3, "u3": 3, "u4": 4, "u5": 3, "u6": 4, "u7": 4, "u8": 3, "u9": 4},
           {"u1": 2, "u2": 4, "u3": 3, "u4": 3, "u5": 4, "u6": 4, "u7": 3, "u8": 4, "u9": 4})


def test_the_element_count_is_the_survey_s():
    """GIVEN the bus contract's IKM element count THEN it is server/ikm.py's ELEMENTS."""
    assert IKM_ELEMENTS == len(ikm.ELEMENTS)


def test_survey_figures_cross_and_equal_the_site_s_index(tmp_path, fresh_mosquitto, site_id, pg_dsn):
    """GIVEN three served residents who answered the survey at a site WHEN its uplink runs (and
    sends the same day again) THEN the centre's live view and report show the site's own IKM,
    counted once."""
    clock = FakeClock(datetime.now(ZoneInfo("Asia/Jakarta")).replace(hour=9))
    svc = QueueService(str(tmp_path / "site.db"), always_open_site(site_id), clock)
    for i, answers in enumerate(ANSWERS):
        ticket = svc.issue("A", request_id=f"r{i}", device="kiosk-1")["ticket"]
        clock.advance(60)
        for step in ("next", "start", "finish"):
            svc.counter_action(1, step, command_id=f"c{i}{step}", device="panel-1")
            clock.advance(30)
        survey.submit(svc, ticket_id=ticket["id"], submission_id=f"s{i}", answers=answers)
    day = svc.now()["service_day"]
    own = ikm.summarise(survey.responses(svc.db.read(), date.fromisoformat(day),
                                         date.fromisoformat(day)), 3)["ikm"]
    port = fresh_mosquitto.port
    centre = Centre(Store(pg_dsn), port=port, client_id=f"centre-{site_id}")
    centre.start()
    bus = BusClient(site=site_id, role="server", device="uplink", port=port)
    uplink = Uplink(tmp_path / "site.db", bus)
    stop = threading.Event()
    try:
        assert centre.connected.wait(5)
        bus.start()
        assert bus.connected.wait(5)
        bus.wait_for_ack(bus.publish(city_topic(site_id, "control/ack"),
                                     encode(CityAck(site=site_id, seq=0, at_ms=1)), retain=True))
        worker = threading.Thread(target=uplink.run, args=(stop,), daemon=True)
        worker.start()

        def arrived():
            centre.step(0.1)
            rows = centre.store.conn.execute("SELECT n FROM ikm_daily WHERE site = %s", (site_id,)).fetchall()
            centre.store.conn.commit()
            return [r["n"] for r in rows] == [3]
        assert wait_for(arrived, 10)
        stop.set()
        worker.join(5)
        assert uplink.send_ikm(force=True) == 1  # the same day again: replaces, never adds
        assert wait_for(lambda: centre.step(0.1) > 0, 5)
        # the events arrive too, so the report has the day
        assert wait_for(lambda: centre.step(0.1) >= 0 and centre.store.conn.execute(
            "SELECT stored_seq FROM sites WHERE site = %s", (site_id,)).fetchone()["stored_seq"]
            == uplink.head(), 10)
        live = {s["site"]: s for s in views.live(centre.store, clock.epoch_ms())["sites"]}[site_id]
        assert (live["ikm"], live["ikm_n"]) == (round(own, 2), 3)
        rep = views.report(centre.store, date.fromisoformat(day), date.fromisoformat(day), "site")
        assert (rep["rows"][0]["ikm"], rep["rows"][0]["ikm_n"]) == (round(own, 2), 3)
    finally:
        stop.set()
        bus.clear_retained(city_topic(site_id, "control/ack"))
        bus.stop()
        centre.stop()
        centre.store.close()
        uplink.close()
        svc.close()
