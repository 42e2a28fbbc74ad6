"""Fixtures for the display board tests: a real board on a real Mosquitto.

The board runs in the test thread (it is the pygame thread) under SDL dummy
video and audio; the dummy audio driver plays in real time, so announcement
start/end times are real. A voice pack of very short tones stands in for the
spoken clips so a ten-call burst plays in about two seconds.
"""
import pytest

from broker.bus import BusClient
from display.app import BoardApp
from display.words import all_clip_names
from display_testkit import board_config, write_tone


@pytest.fixture
def short_voice_pack(tmp_path):
    """A voice pack with every word clip as a 12 ms tone."""
    pack = tmp_path / "voice-pack"
    pack.mkdir()
    for name in all_clip_names():
        write_tone(pack / f"{name}.wav")
    return pack


@pytest.fixture
def make_board(tmp_path, short_voice_pack, site_id):
    """``make_board(port, **voice)`` -> an opened BoardApp (1366x768 window)."""
    apps = []

    def _make(port, **voice):
        app = BoardApp(board_config(site_id, port, short_voice_pack, tmp_path, **voice),
                       size=(1366, 768)).open()
        apps.append(app)
        return app

    yield _make
    for app in apps:
        app.close()


@pytest.fixture
def make_server(site_id):
    """``make_server(port)`` -> a connected BusClient that plays the server."""
    clients = []

    def _make(port):
        bus = BusClient(site=site_id, role="server", device="test-server", port=port)
        bus.start()
        assert bus.connected.wait(5), "test publisher could not connect"
        clients.append(bus)
        return bus

    yield _make
    for bus in clients:
        bus.stop()
