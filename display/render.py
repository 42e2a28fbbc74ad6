"""Draws the board, one region at a time, only where something changed.

Regions: header (facility), clock (date and time), badge (offline), call (the
current call, very large), recent (calls before it), counters (what each loket
serves), services (waiting per service), ticker (running text). The layout
scales with the screen height, so 1920x1080 and 1366x768 look alike.

``Renderer.texts`` keeps the strings last drawn per region, ``Renderer.draws``
counts draws per region, ``Renderer.tiles`` places each counter's tile and
``Renderer.ticker_x`` is the running text's last position: tests read the
screen from them.
"""
from __future__ import annotations

import collections
import math

import pygame

from broker.texts import displayable
from broker.vocab import priority_label
from kiosk.fonts import font_path

from .state import BoardState

BG = (10, 26, 52)
PANEL = (18, 44, 84)
HEADER = (0, 74, 135)
TEXT = (255, 255, 255)
MUTED = (170, 188, 214)
# Labels a resident reads from 3-5 m ("Silakan menuju", counter names, the date): near
# white, at least 7:1 against the panels and the header (WCAG AAA for text).
LABEL = (226, 234, 246)
ACCENT = (255, 200, 0)
PRIORITY = (235, 100, 20)
CLOSED = (70, 78, 92)
BADGE = (190, 30, 45)

# The rendered-text cache holds at most this many screens' worth of pixels and entries.
TEXT_CACHE_SCREENS = 1
TEXT_CACHE_ENTRIES = 400


def _surface_bytes(surf: pygame.Surface) -> int:
    return surf.get_pitch() * surf.get_height()


DAYS = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
MONTHS = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
          "September", "Oktober", "November", "Desember")
#: The most characters one text draws; the longest contract text (the running
#: text) is 1000, and a longer string from elsewhere ends in "…".
MAX_DRAWN = 1000
STATUS_WORDS = {"closed": "Tutup / Closed", "paused": "Istirahat / Break"}
REGIONS = ("header", "clock", "badge", "call", "recent", "counters", "services", "ticker")


def grid_shape(n: int, w: int, h: int) -> tuple[int, int]:
    """Columns and rows for n counter tiles in a w x h area (tiles wider than tall)."""
    n = max(n, 1)
    best = (n, 1)
    for cols in range(1, n + 1):
        rows = math.ceil(n / cols)
        tile = min(w / cols / 1.6, h / rows)  # tile height when width:height = 1.6
        if tile > min(w / best[0] / 1.6, h / best[1]):
            best = (cols, rows)
    return best


class Renderer:
    """Draws a :class:`BoardState` onto a surface, region by region."""

    def __init__(self, surface: pygame.Surface, *, flash_s: float = 6.0, clock_seconds: bool = False,
                 ticker_speed: float = 120.0):
        self.surface = surface
        self.flash_s, self.clock_seconds, self.ticker_speed = flash_s, clock_seconds, ticker_speed
        self._fonts: dict[tuple[int, bool], pygame.font.Font] = {}
        # Rendered texts, least recently drawn first; bounded in bytes (see text()).
        self._text_cache: collections.OrderedDict[tuple, pygame.Surface] = collections.OrderedDict()
        self._text_bytes = 0
        self.texts: dict[str, list[str]] = {}
        self.draws: dict[str, int] = {r: 0 for r in REGIONS}
        self._ticker_start: tuple[str, float] = ("", 0.0)
        self.ticker_x: int | None = None
        self.tiles: dict[int, pygame.Rect] = {}
        self.layout(surface.get_size())

    # -- layout -------------------------------------------------------------

    def layout(self, size: tuple[int, int]) -> None:
        """Place the regions: landscape (the TV norm) or a stacked portrait layout."""
        w, h = size
        portrait = h > w
        self.size, self.s = size, (w / 1080 if portrait else h / 1080)
        pad = self.pad = int(16 * self.s)
        head_h, tick_h, serv_h = (int(h * f) for f in ((0.06, 0.045, 0.05) if portrait else (0.09, 0.065, 0.075)))
        # the clock region holds the time and the full date at a size read across the room
        clock_w, badge_w = (int(w * f) for f in ((0.42, 0.16) if portrait else (0.4, 0.14)))
        body_top, body_bottom = head_h + pad, h - tick_h - serv_h - pad
        R = pygame.Rect
        self.rects = {
            "header": R(0, 0, w - clock_w - badge_w, head_h),
            "badge": R(w - clock_w - badge_w, 0, badge_w, head_h),
            "clock": R(w - clock_w, 0, clock_w, head_h),
            "services": R(0, h - tick_h - serv_h, w, serv_h),
            "ticker": R(0, h - tick_h, w, tick_h),
        }
        body = body_bottom - body_top
        if portrait:
            call_h, recent_h = int(body * 0.3), int(body * 0.14)
            self.rects["call"] = R(pad, body_top, w - 2 * pad, call_h)
            self.rects["recent"] = R(pad, body_top + call_h + pad, w - 2 * pad, recent_h)
            top = body_top + call_h + recent_h + 2 * pad
            self.rects["counters"] = R(pad, top, w - 2 * pad, body_bottom - top)
        else:
            left_w, call_h = int(w * 0.42), int(body * 0.6)
            self.rects["call"] = R(pad, body_top, left_w - pad, call_h)
            self.rects["recent"] = R(pad, body_top + call_h + pad, left_w - pad, body - call_h - pad)
            self.rects["counters"] = R(left_w + pad, body_top, w - left_w - 2 * pad, body)

    # -- text helpers ---------------------------------------------------------

    def font(self, px: int, bold: bool = True) -> pygame.font.Font:
        key = (max(8, int(px)), bold)
        if key not in self._fonts:
            self._fonts[key] = pygame.font.Font(font_path(bold=bold), key[0])
        return self._fonts[key]

    def text(self, s: str, px: int, color=TEXT, bold: bool = True) -> pygame.Surface:
        """Rendered text, cached: big numbers render once per change, not per frame.

        Any string is drawn: it goes through the text contract's ``displayable``
        first (SDL refuses a NUL, UTF-8 a lone surrogate)."""
        s = displayable(s, MAX_DRAWN)
        key = (s, max(8, int(px)), bold, color)
        surf = self._text_cache.get(key)
        if surf is not None:
            self._text_cache.move_to_end(key)
            return surf
        surf = self._text_cache[key] = self.font(px, bold).render(s, True, color)
        self._text_bytes += _surface_bytes(surf)
        # Every text drawn in one frame lies on the screen, so together they never
        # exceed a screen's worth of pixels: a bound of TEXT_CACHE_SCREENS screens keeps
        # a whole frame cached (no re-render per frame) while the numbers of past calls
        # (a big surface each) fall out oldest first, one by one: the footprint stays
        # flat however many calls the day brings, instead of a sawtooth.
        limit = TEXT_CACHE_SCREENS * self.size[0] * self.size[1] * 4
        while (self._text_bytes > limit or len(self._text_cache) > TEXT_CACHE_ENTRIES) \
                and len(self._text_cache) > 1:
            _, old = self._text_cache.popitem(last=False)
            self._text_bytes -= _surface_bytes(old)
        return surf

    @property
    def text_cache_bytes(self) -> int:
        """Bytes held by the rendered-text cache (bounded; see :meth:`text`)."""
        return self._text_bytes

    def fit(self, s: str, max_w: int, max_h: int, color=TEXT, bold: bool = True) -> pygame.Surface:
        """The largest text that fits the box (the font's line height is ~1.17 px/px)."""
        s = displayable(s, MAX_DRAWN)
        px = int(max_h / 1.17)
        w, _ = self.font(px, bold).size(s)
        if w > max_w:
            px = int(px * max_w / w)
            # Glyph widths do not scale exactly with size: step down until it fits.
            while px > 8 and self.font(px, bold).size(s)[0] > max_w:
                px -= 1
        return self.text(s, px, color, bold)

    def blit_in(self, surf, rect: pygame.Rect, align: str = "center", dy: int = 0) -> None:
        r = surf.get_rect()
        if align == "left":
            r.midleft = (rect.left + self.pad, rect.centery + dy)
        elif align == "right":
            r.midright = (rect.right - self.pad, rect.centery + dy)
        else:
            r.center = (rect.centerx, rect.centery + dy)
        self.surface.blit(surf, r)

    # -- drawing ------------------------------------------------------------

    def draw(self, state: BoardState, regions: set[str]) -> list[pygame.Rect]:
        """Draw the named regions ("all" = everything); returns the rects to update."""
        if "all" in regions:
            self.surface.fill(BG)
            regions = set(REGIONS)
        drawn = []
        for name in REGIONS:
            if name in regions:
                getattr(self, f"_draw_{name}")(state, self.rects[name])
                self.draws[name] += 1
                drawn.append(self.rects[name])
        return drawn

    def _draw_header(self, state, rect) -> None:
        self.surface.fill(HEADER, rect)
        facility = state.snapshot.facility if state.snapshot else "LALOPA"
        label = self.fit(facility, rect.w - 2 * self.pad, int(rect.h * 0.5))
        self.blit_in(label, rect, "left")
        self.texts["header"] = [facility]

    def _draw_clock(self, state, rect) -> None:
        self.surface.fill(HEADER, rect)
        now = state.clock.now()
        if now is None:
            lines = ["--:--", "menunggu server / waiting for server"]
        else:
            fmt = "%H:%M:%S" if self.clock_seconds else "%H:%M"
            date = f"{DAYS[now.weekday()]}, {now.day} {MONTHS[now.month - 1]} {now.year}"
            lines = [now.strftime(fmt), date]
        time_s = self.fit(lines[0], int(rect.w * 0.45), int(rect.h * 0.62))
        date_w = rect.w - time_s.get_width() - 3 * self.pad
        date_s = self.fit(lines[1], date_w, int(rect.h * 0.44), LABEL, False)
        r = time_s.get_rect(midright=(rect.right - self.pad, rect.centery))
        self.surface.blit(time_s, r)
        self.surface.blit(date_s, date_s.get_rect(midright=(r.left - self.pad, rect.centery)))
        self.texts["clock"] = lines

    def _draw_badge(self, state, rect) -> None:
        self.surface.fill(HEADER, rect)
        if state.online:
            self.texts["badge"] = []
            return
        word = "Terputus / Offline"
        label = self.fit(word, rect.w - 3 * self.pad, int(rect.h * 0.26))
        pill = label.get_rect(center=rect.center).inflate(self.pad * 1.5, self.pad)
        pygame.draw.rect(self.surface, BADGE, pill, border_radius=pill.h // 2)
        self.surface.blit(label, label.get_rect(center=pill.center))
        self.texts["badge"] = [word]

    def _draw_call(self, state, rect) -> None:
        call = state.current
        flash = state.flashing(self.flash_s)
        # Two phases per second: the bright phase inverts the panel.
        bright = flash and int((state.monotonic() - state.current_since) * 2) % 2 == 0
        prio = call is not None and call.priority is not None
        bg = ACCENT if bright else (PRIORITY if prio and not bright else PANEL)
        fg = BG if bright else TEXT
        pygame.draw.rect(self.surface, BG, rect)
        pygame.draw.rect(self.surface, bg, rect, border_radius=int(18 * self.s))
        if call is None:
            lines = ["Belum ada panggilan", "No calls yet"]
            self.blit_in(self.fit(lines[0], rect.w - 4 * self.pad, int(rect.h * 0.12), fg), rect, dy=-int(rect.h * 0.06))
            self.blit_in(self.fit(lines[1], rect.w - 4 * self.pad, int(rect.h * 0.08), MUTED, False), rect, dy=int(rect.h * 0.07))
            self.texts["call"] = lines
            return
        title = "PANGGILAN ULANG / Recall" if call.kind == "recall" else "NOMOR ANTREAN / Queue number"
        counter = call.counter_name.upper()
        # (text, height, centre offset) as parts of the panel; "Silakan menuju" is read from
        # across the room, so it is as tall as the title and near white
        rows = [(title, 0.08, -0.38, False), (call.ticket, 0.38, -0.12, True),
                ("SILAKAN MENUJU / Please go to", 0.1, 0.165, True), (counter, 0.2, 0.33, True)]
        lines = [title, call.ticket, counter]
        if prio:
            tag = f"PRIORITAS / Priority: {priority_label(call.priority)}"
            rows.append((tag, 0.06, 0.45, True))
            lines.append(tag)
        for s, size, dy, bold in rows:
            color = fg if bold or bright else LABEL
            self.blit_in(self.fit(s, rect.w - 4 * self.pad, int(rect.h * size), color, bold), rect,
                         dy=int(rect.h * dy))
        self.texts["call"] = lines + (["*flash*"] if flash else [])

    def _draw_recent(self, state, rect) -> None:
        pygame.draw.rect(self.surface, BG, rect)
        pygame.draw.rect(self.surface, PANEL, rect, border_radius=int(14 * self.s))
        title_h = int(rect.h * 0.2)
        title = self.fit("PANGGILAN SEBELUMNYA / Previous calls", rect.w - 2 * self.pad, int(title_h * 0.6), LABEL, False)
        self.blit_in(title, pygame.Rect(rect.x, rect.y, rect.w, title_h), "left")
        row_h = int(70 * self.s)
        calls = state.others()[: max(1, (rect.h - title_h) // row_h)]
        lines = []
        for i, call in enumerate(calls):
            row = pygame.Rect(rect.x, rect.y + title_h + i * row_h, rect.w, row_h)
            color = PRIORITY if call.priority else TEXT
            half = (rect.w - 3 * self.pad) // 2
            self.blit_in(self.fit(call.ticket, half, int(row_h * 0.75), color), row, "left")
            self.blit_in(self.fit(call.counter_name, half, int(row_h * 0.6), TEXT, False), row, "right")
            lines.append(f"{call.ticket} {call.counter_name}")
        self.texts["recent"] = lines

    def _draw_counters(self, state, rect) -> None:
        pygame.draw.rect(self.surface, BG, rect)
        slots = [state.counters[n] for n in sorted(state.counters)]
        cols, rows = grid_shape(len(slots), rect.w, rect.h)
        gap = self.pad // 2
        tw, th = (rect.w - gap * (cols - 1)) // cols, (rect.h - gap * (rows - 1)) // rows
        lines, self.tiles = [], {}
        for i, slot in enumerate(slots):
            tile = pygame.Rect(rect.x + (i % cols) * (tw + gap), rect.y + (i // cols) * (th + gap), tw, th)
            self.tiles[slot.counter] = tile
            lines.append(self._draw_tile(slot, tile))
        self.texts["counters"] = lines

    def _draw_tile(self, slot, tile: pygame.Rect) -> str:
        ticket = slot.ticket
        prio = ticket is not None and ticket.priority is not None and slot.status != "closed"
        bg = CLOSED if slot.status == "closed" else (PRIORITY if prio else PANEL)
        pygame.draw.rect(self.surface, bg, tile, border_radius=int(12 * self.s))
        name_box = pygame.Rect(tile.x, tile.y, tile.w, int(tile.h * 0.36))
        body = pygame.Rect(tile.x, name_box.bottom, tile.w, tile.h - name_box.h)
        name = f"{slot.name} - Prioritas" if prio else slot.name
        self.blit_in(self.fit(name, tile.w - 2 * self.pad, int(name_box.h * 0.8), LABEL if not prio else TEXT, False),
                     name_box, dy=int(name_box.h * 0.06))
        if slot.status in STATUS_WORDS:
            word = STATUS_WORDS[slot.status]
            self.blit_in(self.fit(word, tile.w - 2 * self.pad, int(body.h * 0.3), TEXT, False), body)
        elif ticket is None:
            word = "\u2014"  # an em dash: open, nobody called yet
            self.blit_in(self.fit(word, tile.w // 4, int(body.h * 0.5), MUTED), body)
        else:
            word = ticket.number
            color = ACCENT if ticket.status == "called" and not prio else TEXT
            self.blit_in(self.fit(word, tile.w - 2 * self.pad, int(body.h * 0.72), color), body)
        return f"{name}: {word}"  # what the tile shows, "Loket 3 - Prioritas: A-012" included

    def _draw_services(self, state, rect) -> None:
        self.surface.fill(PANEL, rect)
        services = state.snapshot.services if state.snapshot else ()
        parts = [f"{s.prefix} {s.name_id}: {s.waiting}" for s in services]
        line = "MENUNGGU / Waiting   " + "   |   ".join(parts) if parts else ""
        if line:
            self.blit_in(self.fit(line, rect.w - 2 * self.pad, int(rect.h * 0.55)), rect, "left")
        self.texts["services"] = parts

    def ticker_scrolls(self, state) -> bool:
        text = state.snapshot.running_text if state.snapshot else ""
        if not text:
            return False
        surf = self.text(text, int(self.rects["ticker"].h * 0.55), ACCENT, False)
        return surf.get_width() > self.rects["ticker"].w - 2 * self.pad

    def _draw_ticker(self, state, rect) -> None:
        self.surface.fill(BG, rect)
        text = state.snapshot.running_text if state.snapshot else ""
        self.texts["ticker"] = [text] if text else []
        self.ticker_x = None
        if not text:
            return
        surf = self.text(text, int(rect.h * 0.55), ACCENT, False)
        if not self.ticker_scrolls(state):
            self.blit_in(surf, rect)
            return
        # The text starts at the left edge when it (re)appears, then runs in from the right.
        if self._ticker_start[0] != text:
            self._ticker_start = (text, state.monotonic())
        travel = surf.get_width() + rect.w
        moved = (state.monotonic() - self._ticker_start[1]) * self.ticker_speed
        x = self.ticker_x = rect.right - int(moved + rect.w - self.pad) % travel
        self.surface.set_clip(rect)
        self.surface.blit(surf, surf.get_rect(midleft=(x, rect.centery)))
        self.surface.set_clip(None)
