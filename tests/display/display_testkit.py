"""Helpers for the display tests: short tones, snapshots and call events.

A module with its own name (not conftest) so ``import`` is never ambiguous
when the whole suite runs.
"""
import array
import math
import wave

from broker.protocol import BoardSnapshot, CallEvent, CounterSlot, ServiceInfo, TicketRef
from display.config import from_dict

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


def board_config(site, port, pack, tmp_path, **voice):
    return from_dict({
        "device_id": "board-t",
        "bus": {"host": "127.0.0.1", "port": port, "site": site},
        "voice": {"voice_pack": str(pack), "cache_dir": str(tmp_path / "cache"),
                  "chime_ms": 40, "gap_ms": 5, "phrase_gap_ms": 10, **voice},
        "board": {"flash_s": 1.0},
    })


LONG_TEXT = ("Siapkan KK dan E-KTP asli beserta fotokopinya sebelum dipanggil. "
             "Please have your family card and ID card ready before your number is called.")


def snapshot(site, seq, *, serving=None, text="Siapkan KK dan E-KTP.", counters=16, waiting=5,
             priority=None):
    """A board snapshot with ``serving`` = {counter: ticket number} and
    ``priority`` = {counter: priority group} for the tickets that have one."""
    serving, priority = serving or {}, priority or {}
    slots = tuple(CounterSlot(counter=n, name=f"Loket {n}", status="open",
                              ticket=TicketRef(number=serving[n], service=serving[n][0], status="serving",
                                               priority=priority.get(n))
                              if n in serving else None)
                  for n in range(1, counters + 1))
    recent = tuple(call(seq - i, serving[n], n, priority=priority.get(n))
                   for i, n in enumerate(reversed(list(serving))))
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
