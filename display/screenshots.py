"""``lalopa display screenshots``: the board's reference pictures for docs/display/.

Renders four scenes with the real renderer (no bus, no sound): idle, a call in
progress (flashing), 16 busy counters, and offline with the last state kept.
The facility name, services and running text come from the example site
(server/sites/example.toml), so the pictures match what the kiosk shows.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path

from broker.protocol import BoardSnapshot, CallEvent, CounterSlot, ServiceInfo, TicketRef

from .app import BoardApp
from .config import DisplayConfig

log = logging.getLogger(__name__)

TZ = dt.timezone(dt.timedelta(hours=7))
EXAMPLE_SITE = Path(__file__).resolve().parents[1] / "server" / "sites" / "example.toml"
WAITING = (14, 3, 5)  # per service, in the site's order


@dataclass(frozen=True)
class SiteLook:
    """What the board shows of a site: name, services (prefix, Indonesian, English), text."""

    facility: str = "Dinas Kesehatan Kota \u2014 Loket Klaim Jamkesda"  # as in the example site
    services: tuple[tuple[str, str, str], ...] = (("A", "Verifikasi Klaim", "Claim verification"),
                                                  ("B", "Informasi", "Information"),
                                                  ("C", "Pendaftaran", "Registration"))
    running_text: str = ("Selamat datang di Loket Klaim Jamkesda. Siapkan KK dan E-KTP asli beserta "
                         "fotokopinya. Layanan tidak dipungut biaya. | Welcome. Please have your "
                         "family card and ID card ready. The service is free of charge.")


def example_site(path: Path = EXAMPLE_SITE) -> SiteLook:
    """The example site's look, read with the server's own loader when it is installed."""
    try:
        from server.config import load_site
        site = load_site(path)
    except Exception as exc:  # a board-only install has no server package or site file
        log.info("example site not read (%s); using the built-in copy of its names", exc)
        return SiteLook()
    return SiteLook(facility=site.facility,
                    services=tuple((s.prefix, s.name_id, s.name_en) for s in site.services),
                    running_text=site.running_text or SiteLook.running_text)


def _at(minute: int) -> str:
    return dt.datetime(2026, 11, 23, 9, minute, 0, tzinfo=TZ).isoformat()


def sample_snapshot(busy: int, *, seq: int = 40, site: str = "dinkes-claim",
                    counters: int = 16, look: SiteLook | None = None) -> BoardSnapshot:
    """A plausible mid-morning board with ``busy`` counters serving."""
    look = look or SiteLook()
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
    return BoardSnapshot(site=site, facility=look.facility,
                         service_day="2026-11-23", server_time_ms=ts, tz="Asia/Jakarta",
                         seq=seq if busy else 0, counters=tuple(slots), recent=tuple(recent[-8:]),
                         services=tuple(ServiceInfo(prefix=p, name_id=i, name_en=e, waiting=w)
                                        for (p, i, e), w in zip(look.services, WAITING)),
                         running_text=look.running_text)


def render_all(out: str | Path, size: tuple[int, int] = (1920, 1080), suffix: str = "") -> list[Path]:
    """Write idle/call/busy-16/offline PNGs into ``out``; returns their paths."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    cfg = DisplayConfig()
    cfg.voice["enabled"] = False
    # A frozen monotonic clock: the call is caught in its bright flash phase and
    # the running text at its start, so the pictures are the same every run.
    app = BoardApp(cfg, size=size, use_bus=False, monotonic=lambda: 1000.0).open()
    written, look = [], example_site()
    try:
        state = app.state
        state.set_online(True)
        state.apply_snapshot(sample_snapshot(0, look=look), retained=True)
        written.append(_shot(app, out / f"idle{suffix}.png"))
        state.apply_snapshot(sample_snapshot(7, look=look), retained=True)
        call = CallEvent(seq=41, kind="call", ticket="A-041", service="A", counter=5,
                         counter_name="Loket 5", at=_at(41))
        state.apply_call(call)
        written.append(_shot(app, out / f"call{suffix}.png"))
        state.apply_snapshot(sample_snapshot(16, seq=88, look=look), retained=True)
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
