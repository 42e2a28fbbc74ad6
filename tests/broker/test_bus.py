"""The paho wrapper against a real Mosquitto: presence, retained state, wills."""
from broker.bus import BusClient
from broker.protocol import Presence, PrinterStatus, decode
from server.devtools.mosquitto import wait_for


def test_presence_online_then_offline_on_clean_stop(mosquitto, site_id):
    """GIVEN a watcher WHEN a device connects and stops THEN it sees online then offline."""
    seen = []
    watcher = BusClient(site=site_id, role="server", device="srv", port=mosquitto.port)
    watcher.subscribe(watcher.topics.all_presence,
                      lambda m: seen.append(decode(Presence, m.payload)) if m.payload else None)
    watcher.start()
    assert watcher.connected.wait(5)
    dev = BusClient(site=site_id, role="display", device="board-1", port=mosquitto.port)
    dev.start()
    assert wait_for(lambda: any(p.device == "board-1" and p.status == "online" for p in seen), bus=watcher)
    dev.stop()
    assert wait_for(lambda: seen and seen[-1].device == "board-1" and seen[-1].status == "offline", bus=watcher)
    watcher.stop()


def test_retained_state_reaches_late_subscriber_in_owner_thread(mosquitto, site_id):
    """GIVEN a retained printer status WHEN a client connects later THEN its handler runs in dispatch()."""
    kiosk = BusClient(site=site_id, role="kiosk", device="kiosk-1", port=mosquitto.port)
    kiosk.start()
    assert kiosk.connected.wait(5)
    kiosk.publish_message(kiosk.topics.printer("kiosk-1"),
                          PrinterStatus(kiosk="kiosk-1", status="paper_out"), retain=True).wait_for_publish(5)
    got = []
    late = BusClient(site=site_id, role="server", device="srv2", port=mosquitto.port)
    late.subscribe(late.topics.all_printers, lambda m: got.append((m.retain, decode(PrinterStatus, m.payload))))
    late.start()
    assert wait_for(lambda: got, bus=late)
    assert got[0] == (True, PrinterStatus(kiosk="kiosk-1", status="paper_out"))
    kiosk.stop(); late.stop()


def test_drop_when_offline_refuses_to_queue(site_id):
    """GIVEN no broker WHEN a press is published with when_offline='drop' THEN nothing is queued."""
    from broker.bus import free_port
    box = BusClient(site=site_id, role="button", device="box-1", port=free_port())
    box.start()
    try:
        assert box.publish(box.topics.command(1), b"{}", when_offline="drop") is None
    finally:
        box.stop()


def test_publish_command_carries_expiry_and_is_dropped_offline(mosquitto, site_id):
    """GIVEN a box WHEN it sends a command with publish_command THEN the server side receives it once;
    AND with no broker the same call returns None (never queued to be applied late)."""
    from broker.bus import free_port
    from broker.protocol import CounterCommand
    got = []
    srv = BusClient(site=site_id, role="server", device="srv-c", port=mosquitto.port)
    srv.subscribe(srv.topics.command(3), lambda m: got.append(decode(CounterCommand, m.payload)))
    srv.start()
    box = BusClient(site=site_id, role="button", device="box-03", port=mosquitto.port)
    box.start()
    assert srv.connected.wait(5) and box.connected.wait(5)
    wait_for(lambda: False, 0.3, bus=srv)
    cmd = CounterCommand(id="box-03:b:1", counter=3, action="next", device="box-03", sent_at_ms=1)
    assert not box.wait_for_ack(box.publish_command(cmd, max_age_s=10)).is_failure
    assert wait_for(lambda: got, bus=srv) and got == [cmd]
    box.stop(); srv.stop()
    offline = BusClient(site=site_id, role="button", device="box-04", port=free_port())
    offline.start()
    try:
        assert offline.publish_command(cmd) is None
    finally:
        offline.stop()


def test_long_client_ids_stay_unique_and_bounded():
    """GIVEN two devices whose ids differ only past 64 characters WHEN their client ids are built
    THEN both are at most 64 characters and still different."""
    site = "s" * 40
    a = BusClient(site=site, role="display", device="board-" + "x" * 30 + "1")
    b = BusClient(site=site, role="display", device="board-" + "x" * 30 + "2")
    assert len(a.client_id) <= 64 and len(b.client_id) <= 64
    assert a.client_id != b.client_id
    assert BusClient(site="dinkes-claim", role="button", device="box-05").client_id == \
        "lalopa-dinkes-claim-button-box-05"
