"""A lost stretch of a site's log is noticed by the centre, asked for, and sent again from the log."""
import threading
from datetime import datetime
from zoneinfo import ZoneInfo

from broker.bus import BusClient
from broker.protocol import CityAck, city_topic, encode
from server.central.ingest import Centre
from server.central.store import Store
from server.central.uplink import Uplink
from server.clock import FakeClock
from server.devtools.benchlib.site import always_open_site
from server.devtools.mosquitto import wait_for
from server.queue import QueueService


def test_a_lost_stretch_is_asked_for_and_sent_again(tmp_path, fresh_mosquitto, site_id, pg_dsn):
    """GIVEN a site whose first events were sent while no centre listened (they are gone from the
    bus) WHEN later events reach the centre THEN it sees the hole, asks the site for it, the
    uplink sends it again from its log, and the centre ends with every event once, in order."""
    clock = FakeClock(datetime(2026, 11, 23, 8, 0, tzinfo=ZoneInfo("Asia/Jakarta")))
    svc = QueueService(str(tmp_path / "site.db"), always_open_site(site_id), clock)
    for i in range(4):
        svc.issue("A", request_id=f"r{i}", device="kiosk-1")
        clock.advance(30)
    port = fresh_mosquitto.port
    site_bus = BusClient(site=site_id, role="server", device="uplink", port=port)
    uplink = Uplink(tmp_path / "site.db", site_bus)
    seed = BusClient(site=site_id, role="server", device="seed", port=port)
    seed.start()
    assert seed.connected.wait(5)
    # An ack from before (the centre had nothing): the uplink may send from seq 1.
    seed.wait_for_ack(seed.publish(city_topic(site_id, "control/ack"),
                                   encode(CityAck(site=site_id, seq=0, at_ms=1)), retain=True))
    stop = threading.Event()
    site_bus.start()
    worker = threading.Thread(target=uplink.run, args=(stop,), daemon=True)
    worker.start()
    try:
        assert wait_for(lambda: uplink.sent == 4, 10)  # sent into a bus with no centre: lost
        centre = Centre(Store(pg_dsn), port=port, client_id=f"centre-{site_id}")
        centre.start()
        assert centre.connected.wait(5)
        for i in range(4, 7):  # the site goes on; these reach the centre and reveal the hole
            svc.issue("A", request_id=f"r{i}", device="kiosk-1")
        svc.counter_action(1, "next", command_id="c1", device="panel-1")

        def complete():
            centre.step(0.1)
            row = centre.store.conn.execute("SELECT stored_seq FROM sites WHERE site = %s",
                                            (site_id,)).fetchone()
            centre.store.conn.commit()
            return row is not None and row["stored_seq"] == uplink.head()
        assert wait_for(complete, 20)
        assert centre.stats["resends"] >= 1 and uplink.stats["resent"] >= 4
        count, high = centre.store.conn.execute(
            "SELECT COUNT(*) AS n, MAX(seq) AS hi FROM events WHERE site = %s", (site_id,)).fetchone().values()
        assert count == high == uplink.head()
        tickets = centre.store.conn.execute("SELECT COUNT(*) AS n FROM tickets WHERE site = %s",
                                            (site_id,)).fetchone()["n"]
        assert tickets == 7
        centre.stop()
        centre.store.close()
    finally:
        stop.set()
        worker.join(5)
        site_bus.stop()
        seed.clear_retained(city_topic(site_id, "control/ack"))
        seed.stop()
        uplink.close()
        svc.close()


def test_batches_sent_while_the_centre_restarts_wait_for_it(tmp_path, fresh_mosquitto, site_id, pg_dsn):
    """GIVEN the centre's persistent session on the central broker WHEN the centre is stopped,
    the site sends, and the centre comes back THEN the batches are delivered from its session:
    stored without any request to send again."""
    clock = FakeClock(datetime(2026, 11, 23, 8, 0, tzinfo=ZoneInfo("Asia/Jakarta")))
    svc = QueueService(str(tmp_path / "site.db"), always_open_site(site_id), clock)
    port = fresh_mosquitto.port
    store = Store(pg_dsn)
    centre = Centre(store, port=port, client_id=f"centre-{site_id}")
    centre.start()
    assert centre.connected.wait(5)
    site_bus = BusClient(site=site_id, role="server", device="uplink", port=port)
    uplink = Uplink(tmp_path / "site.db", site_bus)
    stop = threading.Event()
    site_bus.start()
    worker = threading.Thread(target=uplink.run, args=(stop,), daemon=True)
    try:
        assert site_bus.connected.wait(5)
        centre._ack(site_id, 0, 1)  # what the centre says when a site's link comes up
        assert wait_for(lambda: uplink.acked == 0, 5, bus=site_bus)
        worker.start()
        centre.stop()  # the centre goes away; its session stays on the broker
        for i in range(5):
            svc.issue("A", request_id=f"r{i}", device="kiosk-1")
        assert wait_for(lambda: uplink.sent == uplink.head() == 5, 10)
        centre = Centre(store, port=port, client_id=f"centre-{site_id}")
        centre.start()

        def stored():
            centre.step(0.1)
            row = store.conn.execute("SELECT stored_seq FROM sites WHERE site = %s", (site_id,)).fetchone()
            store.conn.commit()
            return row is not None and row["stored_seq"] == 5
        assert wait_for(stored, 10)
        assert centre.stats["resends"] == 0 and uplink.stats["resent"] == 0
    finally:
        stop.set()
        if worker.is_alive():
            worker.join(5)
        centre.stop()
        store.close()
        site_bus.stop()
        uplink.close()
        svc.close()
