"""``lalopa server --mqtt-host`` starts the bridge: retained board on the bus, devices on the dashboard."""
import subprocess
import sys
from pathlib import Path

from broker.bus import BusClient, free_port
from broker.protocol import BoardSnapshot, decode
from server.devtools.mosquitto import wait_for

EXAMPLE = Path(__file__).resolve().parents[2] / "server" / "sites" / "example.toml"


def test_lalopa_server_with_mqtt_publishes_board(tmp_path, mosquitto, site_id):
    """GIVEN a site file WHEN 'lalopa server --mqtt-host' runs THEN the board is retained on the bus
    and the server's presence is online."""
    site = tmp_path / "site.toml"
    site.write_text(EXAMPLE.read_text().replace('site_id = "dinkes-claim"', f'site_id = "{site_id}"'))
    proc = subprocess.Popen([sys.executable, "-m", "broker.cli", "server", "--site", str(site),
                             "--db", str(tmp_path / "q.db"), "--port", str(free_port()),
                             "--mqtt-host", "127.0.0.1", "--mqtt-port", str(mosquitto.port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    boards, presence = [], []
    watch = BusClient(site=site_id, role="display", device="wiring", port=mosquitto.port)
    watch.subscribe(watch.topics.board, lambda m: m.payload and boards.append(decode(BoardSnapshot, m.payload)))
    watch.subscribe(watch.topics.presence("server", "server"), lambda m: presence.append(m.payload))
    watch.start()
    try:
        assert wait_for(lambda: boards and presence, timeout=20, bus=watch), proc.stderr
        assert boards[-1].site == site_id and len(boards[-1].counters) >= 1
        assert b'"online"' in presence[-1]
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        watch.clear_retained(watch.topics.board)
        watch.stop()
