"""The printed ticket: a ticket dict from the server → ESC/POS bytes.

The whole ticket is rendered into an escpos ``Dummy`` first, then sent to the
real printer in one write, so the bytes tests assert and the bytes the
printer receives are the same. Text is normalised to plain ASCII by
:func:`broker.texts.to_ascii` (the text contract that also decides which
admin texts are printable): typographic quotes and dashes make python-escpos
switch code page, which cheap 58 mm clones print as garbage. Every command
byte sequence is a named constant below; tests build their expected bytes
from them.
"""
from __future__ import annotations

import logging
import textwrap
from dataclasses import dataclass
from datetime import datetime

from escpos.printer import Dummy

from broker.texts import to_ascii
from broker.vocab import priority_label

from . import i18n

log = logging.getLogger(__name__)

ESC = b"\x1b"
GS = b"\x1d"
LF = b"\n"
INIT = ESC + b"@"                 # reset modes (not the paper)
ALIGN_LEFT = ESC + b"a\x00"
ALIGN_CENTER = ESC + b"a\x01"
BOLD_ON = ESC + b"E\x01"
BOLD_OFF = ESC + b"E\x00"


def size(width: int, height: int) -> bytes:
    """GS ! n: character magnification 1..8 in each direction."""
    return GS + b"!" + bytes([((width - 1) << 4) | (height - 1)])


SIZE_NORMAL = size(1, 1)
SIZE_DOUBLE = size(2, 2)
SEPARATOR_CHAR = b"-"

#: Columns of font A and the number's magnification, per paper width.
PAPER = {58: {"cols": 32, "number_mag": 4, "qr_size": 5},
         80: {"cols": 48, "number_mag": 6, "qr_size": 6}}

#: A status link longer than this is not drawn as a QR code (a 58 mm ticket fits
#: about 100 characters legibly; the server's links are ~40).
MAX_QR_URL = 200


@dataclass(frozen=True)
class TicketData:
    """What goes on paper, in one language pair (Indonesian with English)."""

    facility: str
    number: str
    service_name: str
    issued_at: str            # ISO 8601 from the server, with its offset
    people_ahead: int
    est_wait_s: int | None
    status_url: str
    requirements: tuple[str, ...] = ()
    whatsapp: str = ""
    priority: str | None = None
    tz_label: str = ""        # WIB / WITA / WIT
    est_low_s: int | None = None     # the printed range (the server's estimate)
    est_high_s: int | None = None

    @classmethod
    def from_issue(cls, issued: dict, site) -> "TicketData":
        """From the server's issue answer and the kiosk's SiteInfo."""
        tk = issued["ticket"]
        svc = site.service(tk["service"])
        return cls(
            facility=site.facility, number=tk["number"],
            service_name=svc.name_id if svc else tk["service"],
            issued_at=tk["issued_at"], people_ahead=int(tk.get("people_ahead") or 0),
            est_wait_s=tk.get("est_wait_s"), status_url=issued.get("status_url", ""),
            requirements=tuple(svc.requirements_id) if svc else (),
            whatsapp=site.whatsapp, priority=tk.get("priority"), tz_label=site.tz_label,
            est_low_s=tk.get("est_low_s"), est_high_s=tk.get("est_high_s"))


def _when(iso: str, tz_label: str) -> str:
    """Server time as printed: "23-11-2026 08:41 WIB" (the offset is the server's)."""
    try:
        stamp = datetime.fromisoformat(iso)
    except (TypeError, ValueError):
        return to_ascii(iso)[:40]
    return f"{stamp:%d-%m-%Y %H:%M} {tz_label}".strip()


def _lines(text: str, cols: int, indent: str = "") -> list[str]:
    return textwrap.wrap(to_ascii(text), cols, subsequent_indent=indent,
                         break_on_hyphens=False) or [""]


class TicketBuilder:
    """Writes one ticket to any escpos printer object (normally a ``Dummy``)."""

    def __init__(self, printer, paper: int = 58):
        self.p = printer
        self.paper = paper
        self.cols = PAPER[paper]["cols"]

    def raw(self, data: bytes) -> None:
        self.p._raw(data)

    def line(self, text: str = "") -> None:
        self.raw(to_ascii(text).encode("ascii") + LF)

    def wrapped(self, text: str, indent: str = "") -> None:
        for part in _lines(text, self.cols, indent):
            self.line(part)

    def separator(self) -> None:
        self.raw(SEPARATOR_CHAR * self.cols + LF)

    def build(self, tk: TicketData) -> None:
        """The ticket layout, top to bottom."""
        mag = PAPER[self.paper]["number_mag"]
        self.raw(INIT + ALIGN_CENTER + BOLD_ON)
        self.wrapped(tk.facility)
        self.raw(BOLD_OFF)
        self.line(i18n.t("t_number") + " / " + i18n.t("t_number", "en"))
        self.raw(size(mag, mag) + BOLD_ON)
        self.line(tk.number)
        self.raw(BOLD_OFF + SIZE_DOUBLE)
        for part in _lines(tk.service_name, self.cols // 2):  # double width: half the columns
            self.line(part)
        self.raw(SIZE_NORMAL)
        if tk.priority:
            self.line(priority_label(tk.priority).upper())
        self.line(_when(tk.issued_at, tk.tz_label))
        self.line(i18n.t("t_ahead", n=tk.people_ahead))
        span = i18n.wait_range(tk.est_low_s, tk.est_high_s)
        if span is not None:
            self.line(i18n.t("t_wait", a=span[0], b=span[1]))
        else:   # a new number with no estimate: no counter serves the service yet
            self.line(i18n.t("t_no_counter"))
        self.separator()
        self.requirements(tk)
        self.qr(tk)
        self.footer(tk)

    def requirements(self, tk: TicketData) -> None:
        if not tk.requirements:
            return
        self.raw(ALIGN_LEFT)
        self.line(i18n.t("t_bring"))
        for req in tk.requirements:
            self.wrapped("[ ] " + req, indent="    ")
        self.raw(ALIGN_CENTER)
        self.separator()

    def qr(self, tk: TicketData) -> None:
        url = tk.status_url
        if not url:
            return
        if len(url) > MAX_QR_URL or not (url.isascii() and url.isprintable()):
            log.warning("status link not printable as a QR code: %r", url[:60])
            return
        self.line(i18n.t("t_scan"))
        # Drawn by the qrcode library as a raster image: works on printers
        # without native QR; centred because the profile knows the width.
        self.p.qr(url, size=PAPER[self.paper]["qr_size"], center=True)

    def footer(self, tk: TicketData) -> None:
        if tk.whatsapp:
            self.line(i18n.t("t_contact"))
            self.raw(BOLD_ON)
            self.wrapped(tk.whatsapp)
            self.raw(BOLD_OFF)
        self.wrapped(i18n.t("t_footer"))
        self.wrapped(i18n.t("t_footer", "en"))
        # python-escpos cut() feeds and cuts only when the printer profile declares a
        # cutter; on a cutter-less 58 mm printer it just feeds the paper out to the tear bar.
        self.p.cut()


def render_ticket(tk: TicketData, paper: int = 58, profile: str | None = None) -> bytes:
    """The complete ESC/POS bytes for one ticket."""
    from .config import PAPER_PROFILES
    dummy = Dummy(profile=profile or PAPER_PROFILES[paper])
    TicketBuilder(dummy, paper).build(tk)
    return dummy.output
