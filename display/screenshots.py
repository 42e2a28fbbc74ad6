"""``lalopa display screenshots``: the board's reference pictures for docs/display/.

Renders four scenes with the real renderer (no bus, no sound): idle, a call in
progress (flashing), 16 busy counters, and offline with the last state kept.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from broker.protocol import BoardSnapshot, CallEvent, CounterSlot, ServiceInfo, TicketRef

from .app import BoardApp
from .config import DisplayConfig

TZ = dt.timezone(dt.timedelta(hours=7))
SERVICES = (("A", "Verifikasi Klaim", "Claim verification"), ("B", "Informasi", "Information"))
RUNNING_TEXT = ("Siapkan KK dan E-KTP asli beserta fotokopinya. "
                "Informasi dan pendaftaran lewat WhatsApp 0812-0000-0000. "
                "Prioritas untuk lansia, penyandang disabilitas dan ibu hamil.")


def _at(minute: int) -> str:
    return dt.datetime(2026, 11, 23, 9, minute, 0, tzinfo=TZ).isoformat()


def sample_snapshot(busy: int, *, seq: int = 40, site: str = "dinkes-claim",
                    counters: int = 16, running_text: str = RUNNING_TEXT) -> BoardSnapshot:
    """A plausible mid-morning board with ``busy`` counters serving."""
    slots, recent = [], []
    for n in range(1, counters + 1):
        status = "closed" if n == counters and busy < counters else ("paused" if n == 12 and busy < counters else "open")
        ticket = None
        if n <= busy and status == "open":
            number = f"A-{seq - busy + n:03d}"
            prio = "lansia" if n in (3, 9) else None
            ticket = TicketRef(number=number, service="A", status="called" if n == busy else "serving",
                               priority=prio, since=_at(n))
            recent.append(CallEvent(seq=seq - busy + n, kind="call", ticket=number, service="A",
                                    counter=n, counter_name=f"Loket {n}", at=_at(n), priority=prio))
        slots.append(CounterSlot(counter=n, name=f"Loket {n}", status=status, ticket=ticket))
    ts = int(dt.datetime(2026, 11, 23, 9, 41, 5, tzinfo=TZ).timestamp() * 1000)
    return BoardSnapshot(site=site, facility="Dinas Kesehatan Kota - Loket Klaim LALOPA",
                         service_day="2026-11-23", server_time_ms=ts, tz="Asia/Jakarta",
                         seq=seq if busy else 0, counters=tuple(slots), recent=tuple(recent[-8:]),
                         services=tuple(ServiceInfo(prefix=p, name_id=i, name_en=e, waiting=w)
                                        for (p, i, e), w in zip(SERVICES, (14, 3))),
                         running_text=running_text)


def render_all(out: str | Path, size: tuple[int, int] = (1920, 1080), suffix: str = "") -> list[Path]:
    """Write idle/call/busy-16/offline PNGs into ``out``; returns their paths."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    cfg = DisplayConfig()
    cfg.voice["enabled"] = False
    # A frozen monotonic clock: the call is caught in its bright flash phase and
    # the running text at its start, so the pictures are the same every run.
    app = BoardApp(cfg, size=size, use_bus=False, monotonic=lambda: 1000.0).open()
    written = []
    try:
        state = app.state
        state.set_online(True)
        state.apply_snapshot(sample_snapshot(0), retained=True)
        written.append(_shot(app, out / f"idle{suffix}.png"))
        state.apply_snapshot(sample_snapshot(7), retained=True)
        call = CallEvent(seq=41, kind="call", ticket="A-041", service="A", counter=5,
                         counter_name="Loket 5", at=_at(41))
        state.apply_call(call)
        written.append(_shot(app, out / f"call{suffix}.png"))
        state.apply_snapshot(sample_snapshot(16, seq=88), retained=True)
        written.append(_shot(app, out / f"busy-16{suffix}.png"))
        state.set_online(False)
        written.append(_shot(app, out / f"offline{suffix}.png"))
    finally:
        app.close()
    return written


def _shot(app: BoardApp, path: Path) -> Path:
    app.state.dirty.add("all")
    app.draw()
    app.save(path)
    return path
