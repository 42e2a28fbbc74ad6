"""Responsive geometry and text drawing for every panel size and orientation.

All sizes derive from the window: ``unit`` is 1/20 of the short side, so the
same screen code lays out on 800x480, 1024x600, 1280x800, 1920x1080 and their
portrait forms. Touch targets are never smaller than ``min_target`` (about
9 mm on a 7" panel).
"""
from __future__ import annotations

from dataclasses import dataclass

import pygame

from broker.texts import displayable

from .fonts import font_path

#: The most characters one text box draws; the longest contract text (the
#: running text) is 1000, and a longer string from elsewhere ends in "…".
MAX_DRAWN = 1000

BG = (245, 247, 250)
INK = (20, 30, 45)
MUTED = (90, 100, 115)
PRIMARY = (0, 105, 80)        # dark green: public-health colour, white text readable
PRIMARY_TEXT = (255, 255, 255)
SECONDARY = (225, 232, 240)
SELECTED = (255, 196, 0)
DANGER = (180, 30, 30)
DISABLED = (200, 205, 210)
HEADER = (0, 80, 60)


@dataclass(frozen=True)
class Button:
    """A touch target drawn on the current screen."""

    rect: pygame.Rect
    action: str
    arg: str | None = None
    enabled: bool = True


class Layout:
    """Geometry of one window size."""

    def __init__(self, size: tuple[int, int]):
        self.w, self.h = size
        self.portrait = self.h > self.w
        self.unit = max(8, min(self.w, self.h) // 20)
        self.margin = self.unit
        self.gap = max(6, self.unit // 2)
        self.min_target = max(56, int(min(self.w, self.h) * 0.12))
        self.header_h = max(self.min_target + 8, int(self.h * (0.09 if self.portrait else 0.13)))
        self.footer_h = self.min_target + 2 * self.gap

    def rect(self) -> pygame.Rect:
        return pygame.Rect(0, 0, self.w, self.h)

    def header(self) -> pygame.Rect:
        return pygame.Rect(0, 0, self.w, self.header_h)

    def body(self, footer: bool = True) -> pygame.Rect:
        bottom = self.h - (self.footer_h if footer else self.margin)
        return pygame.Rect(self.margin, self.header_h + self.gap,
                           self.w - 2 * self.margin, bottom - self.header_h - self.gap)

    def footer_buttons(self, n: int) -> list[pygame.Rect]:
        """``n`` equal buttons along the bottom edge."""
        y = self.h - self.footer_h + self.gap
        width = (self.w - 2 * self.margin - (n - 1) * self.gap) // n
        return [pygame.Rect(self.margin + i * (width + self.gap), y, width, self.min_target)
                for i in range(n)]

    def grid(self, area: pygame.Rect, n: int) -> list[pygame.Rect]:
        """Cells for ``n`` service buttons: one column in portrait, up to 3 across."""
        cols = 1 if self.portrait or n == 1 else min(n, 3 if n != 4 else 2)
        rows = -(-n // cols)
        cw = (area.w - (cols - 1) * self.gap) // cols
        ch = min((area.h - (rows - 1) * self.gap) // rows, int(self.h * 0.45))
        return [pygame.Rect(area.x + (i % cols) * (cw + self.gap),
                            area.y + (i // cols) * (ch + self.gap), cw, ch) for i in range(n)]


class Painter:
    """Draws text that always fits its box, with a cache of loaded fonts."""

    def __init__(self, surface: pygame.Surface):
        self.s = surface
        self._fonts: dict[tuple[int, bool], pygame.font.Font] = {}

    def font(self, size: int, bold: bool = False) -> pygame.font.Font:
        key = (max(8, int(size)), bold)
        if key not in self._fonts:
            self._fonts[key] = pygame.font.Font(font_path(bold=bold), key[0])
        return self._fonts[key]

    def wrap(self, text: str, font: pygame.font.Font, width: int) -> list[str]:
        lines: list[str] = []
        for para in text.split("\n"):
            line = ""
            for word in para.split(" "):
                trial = f"{line} {word}".strip()
                if font.size(trial)[0] <= width or not line:
                    line = trial
                else:
                    lines.append(line)
                    line = word
            lines.append(line)
        return lines

    def fit(self, text: str, rect: pygame.Rect, size: int, bold: bool = False):
        """The largest font ≤ size whose wrapped text fits in rect.

        Any string is drawn: line by line it goes through the text contract's
        ``displayable`` first (SDL refuses a NUL, UTF-8 a lone surrogate)."""
        text = "\n".join(displayable(line, MAX_DRAWN) for line in str(text).split("\n"))
        while True:
            font = self.font(size, bold)
            lines = self.wrap(text, font, rect.w)
            height = len(lines) * font.get_linesize()
            widest = max((font.size(ln)[0] for ln in lines), default=0)
            if (height <= rect.h and widest <= rect.w) or size <= 10:
                return font, lines
            size = int(size * 0.9)

    def text(self, text: str, rect: pygame.Rect, size: int, color=INK, bold: bool = False,
             align: str = "center", valign: str = "center") -> pygame.Rect:
        """Draw wrapped text inside rect; returns the area used."""
        font, lines = self.fit(text, rect, size, bold)
        lh = font.get_linesize()
        total = lh * len(lines)
        y = {"top": rect.y, "bottom": rect.bottom - total}.get(valign, rect.y + (rect.h - total) // 2)
        used = pygame.Rect(rect.x, y, 0, total)
        for ln in lines:
            img = font.render(ln, True, color)
            x = {"left": rect.x, "right": rect.right - img.get_width()}.get(
                align, rect.x + (rect.w - img.get_width()) // 2)
            self.s.blit(img, (x, y))
            used.w = max(used.w, img.get_width())
            y += lh
        return used

    def button(self, b: Button, label: str, size: int, fill=PRIMARY, color=PRIMARY_TEXT,
               sub: str | None = None) -> None:
        """A rounded touch target with a label (and an optional second line)."""
        fill = fill if b.enabled else DISABLED
        pygame.draw.rect(self.s, fill, b.rect, border_radius=max(6, b.rect.h // 8))
        inner = b.rect.inflate(-b.rect.h // 5, -b.rect.h // 8)
        if sub:
            top = pygame.Rect(inner.x, inner.y, inner.w, inner.h * 55 // 100)
            bottom = pygame.Rect(inner.x, top.bottom, inner.w, inner.h - top.h)
            self.text(label, top, size, color, bold=True, valign="bottom")
            self.text(sub, bottom, int(size * 0.55), color, valign="top")
        else:
            self.text(label, inner, size, color, bold=True)
