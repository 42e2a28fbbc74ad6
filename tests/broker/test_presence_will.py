"""An unclean disconnect (process killed, no DISCONNECT) shows the device offline via its will."""
import os
import signal
import subprocess
import sys
import textwrap

from broker.bus import BusClient
from broker.protocol import Presence, decode
from server.devtools.mosquitto import wait_for

CHILD = textwrap.dedent("""
    import sys, time
    from broker.bus import BusClient
    bus = BusClient(site=sys.argv[1], role="button", device="box-07", port=int(sys.argv[2]))
    bus.start()
    assert bus.connected.wait(15)
    print("ready", flush=True)
    time.sleep(60)
""")


def test_killed_device_goes_offline(mosquitto, site_id):
    """GIVEN a button-box process online WHEN it is killed with SIGKILL THEN the watcher sees it offline."""
    seen = {}
    watcher = BusClient(site=site_id, role="server", device="srv", port=mosquitto.port)
    watcher.subscribe(watcher.topics.all_presence,
                      lambda m: seen.__setitem__(m.topic, decode(Presence, m.payload).status))
    watcher.start()
    assert watcher.connected.wait(5)
    child = subprocess.Popen([sys.executable, "-c", CHILD, site_id, str(mosquitto.port)],
                             stdout=subprocess.PIPE, text=True, cwd=os.getcwd())
    try:
        assert child.stdout.readline().strip() == "ready"
        topic = watcher.topics.presence("button", "box-07")
        assert wait_for(lambda: seen.get(topic) == "online", timeout=10, bus=watcher)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(5)
        assert wait_for(lambda: seen.get(topic) == "offline", timeout=10, bus=watcher)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(5)
        watcher.clear_retained(watcher.topics.presence("button", "box-07"))
        watcher.stop()
