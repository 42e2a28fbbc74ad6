"""Fixtures for the display board tests: a real board on a real Mosquitto.

The board runs in the test thread (it is the pygame thread) under SDL dummy
video and audio; the dummy audio driver plays in real time, so announcement
start/end times are real. A voice pack of very short tones stands in for the
spoken clips so a ten-call burst plays in about two seconds.
"""
import array
import math
import wave

import pytest

from broker.bus import BusClient
from broker.protocol import BoardSnapshot, CallEvent, CounterSlot, ServiceInfo, TicketRef
from display.app import BoardApp
from display.config import from_dict
from display.words import all_clip_names

SERVER_MS = 1_795_398_065_000  # 2026-11-23 08:41:05 WIB: no minute tick for 55 s


def write_tone(path, ms=12, freq=22050, hz=440):
    """A short audible WAV clip (loud enough not to be trimmed as silence)."""
    n = int(freq * ms / 1000)
    samples = array.array("h", (int(12000 * math.sin(2 * math.pi * hz * i / freq)) for i in range(n)))
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(freq)
        w.writeframes(samples.tobytes())


@pytest.fixture
def short_voice_pack(tmp_path):
    """A voice pack with every word clip as a 12 ms tone."""
    pack = tmp_path / "voice-pack"
    pack.mkdir()
    for name in all_clip_names():
        write_tone(pack / f"{name}.wav")
    return pack


def board_config(site, port, pack, tmp_path, **voice):
    return from_dict({
        "device_id": "board-t",
        "bus": {"host": "127.0.0.1", "port": port, "site": site},
        "voice": {"voice_pack": str(pack), "cache_dir": str(tmp_path / "cache"),
                  "chime_ms": 40, "gap_ms": 5, "phrase_gap_ms": 10, **voice},
        "board": {"flash_s": 1.0},
    })


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


def snapshot(site, seq, *, serving=None, text="Siapkan KK dan E-KTP.", counters=16, waiting=5):
    """A board snapshot with ``serving`` = {counter: ticket number}."""
    serving = serving or {}
    slots = tuple(CounterSlot(counter=n, name=f"Loket {n}", status="open",
                              ticket=TicketRef(number=serving[n], service=serving[n][0], status="serving")
                              if n in serving else None)
                  for n in range(1, counters + 1))
    recent = tuple(call(seq - i, serving[n], n) for i, n in enumerate(reversed(list(serving))))
    return BoardSnapshot(site=site, facility="Dinas Kesehatan Kota", service_day="2026-11-23",
                         server_time_ms=SERVER_MS, tz="Asia/Jakarta", seq=seq, counters=slots,
                         recent=recent, services=(ServiceInfo(prefix="A", name_id="Verifikasi Klaim",
                                                              name_en="Claim verification",
                                                              waiting=waiting),),
                         running_text=text)


def call(seq, ticket, counter, kind="call", priority=None):
    return CallEvent(seq=seq, kind=kind, ticket=ticket, service=ticket[0], counter=counter,
                     counter_name=f"Loket {counter}", at="2026-11-23T08:41:07+07:00",
                     priority=priority, recall_count=1 if kind == "recall" else 0)
