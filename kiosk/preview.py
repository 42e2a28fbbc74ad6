"""Render ESC/POS bytes to a PNG, so a ticket can be checked without paper.

This interprets the actual bytes the printer would receive (the subset the
ticket uses: ESC @, ESC a, ESC E, ESC t, ESC d, GS !, GS V, GS v 0 raster and
printable ASCII), so the picture shows the real layout, not a re-drawing of
it. An unknown command raises ``ValueError`` rather than being drawn wrong.
"""
from __future__ import annotations

from PIL import Image, ImageDraw, ImageFont

from .fonts import font_path

DOTS = {58: 384, 80: 576}
CELL_W, CELL_H = 12, 24          # font A: 12x24 dots


class _State:
    def __init__(self, width: int):
        self.width = width
        self.align = 0
        self.bold = False
        self.mag = (1, 1)
        self.line: list[tuple[str, bool, tuple[int, int]]] = []
        self.rows: list[Image.Image] = []


def _flush(st: _State, fonts: dict) -> None:
    """Turn the buffered characters into one printed row."""
    h = max([m[1] for _, _, m in st.line] + [st.mag[1]]) * CELL_H
    row = Image.new("L", (st.width, h), 255)
    total = sum(len(txt) * m[0] * CELL_W for txt, _, m in st.line)
    x = {0: 0, 1: (st.width - total) // 2, 2: st.width - total}.get(st.align, 0)
    draw = ImageDraw.Draw(row)
    for txt, bold, (mw, mh) in st.line:
        font = fonts.setdefault((bold, mh), ImageFont.truetype(font_path(bold=bold), 20 * mh))
        for ch in txt:
            # draw at the height's natural width, then stretch to the magnified cell
            # (wide letters like "m" are squeezed into the fixed cell, as on paper)
            gw = max(CELL_W * mh, int(font.getlength(ch)) + 1)
            glyph = Image.new("L", (gw, CELL_H * mh), 255)
            ImageDraw.Draw(glyph).text((gw // 2, 0), ch, font=font, fill=0, anchor="ma")
            glyph = glyph.resize((CELL_W * mw, CELL_H * mh))  # wide chars are stretched like the printer does
            row.paste(glyph, (x, h - CELL_H * mh))
            x += CELL_W * mw
    del draw
    st.rows.append(row)
    st.line = []


def _raster(data: bytes, i: int, st: _State) -> int:
    """GS v 0 m xL xH yL yH d...: a bit image, one bit per dot, MSB left."""
    xb = data[i + 4] + 256 * data[i + 5]
    yd = data[i + 6] + 256 * data[i + 7]
    start = i + 8
    bits = data[start:start + xb * yd]
    img = Image.frombytes("1", (xb * 8, yd), bytes(b ^ 0xFF for b in bits)).convert("L")
    row = Image.new("L", (st.width, yd), 255)
    x = {1: (st.width - img.width) // 2, 2: st.width - img.width}.get(st.align, 0)
    row.paste(img, (max(0, x), 0))
    st.rows.append(row)
    return start + xb * yd


def render_png(data: bytes, out_path: str, paper: int = 58) -> Image.Image:
    """Interpret ``data`` and save the paper as a PNG; returns the image."""
    st = _State(DOTS[paper])
    fonts: dict = {}
    i = 0
    while i < len(data):
        b = data[i]
        if b == 0x0A:
            _flush(st, fonts)
            i += 1
        elif b == 0x1B:
            i = _esc(data, i, st, fonts)
        elif b == 0x1D:
            i = _gs(data, i, st, fonts)
        elif 0x20 <= b <= 0x7E:
            if st.line and st.line[-1][1:] == (st.bold, st.mag):
                st.line[-1] = (st.line[-1][0] + chr(b), st.bold, st.mag)
            else:
                st.line.append((chr(b), st.bold, st.mag))
            i += 1
        else:
            raise ValueError(f"unexpected byte 0x{b:02x} at {i}")
    if st.line:
        _flush(st, fonts)
    height = sum(r.height for r in st.rows) + 2 * CELL_H
    paper_img = Image.new("L", (st.width + 2 * CELL_W, height), 255)
    y = CELL_H
    for row in st.rows:
        paper_img.paste(row, (CELL_W, y))
        y += row.height
    paper_img.save(out_path, optimize=True)
    return paper_img


def _esc(data: bytes, i: int, st: _State, fonts) -> int:
    cmd = data[i + 1:i + 2]
    if cmd == b"@":
        st.align, st.bold, st.mag = 0, False, (1, 1)
        return i + 2
    arg = data[i + 2] if i + 2 < len(data) else 0
    if cmd == b"a":
        st.align = arg
    elif cmd == b"E":
        st.bold = bool(arg)
    elif cmd == b"t":
        pass  # code page: the ticket is ASCII, so nothing to map
    elif cmd == b"d":
        for _ in range(arg):
            _flush(st, fonts)
    elif cmd == b"!":
        st.bold = bool(arg & 0x08)
        st.mag = (2 if arg & 0x20 else 1, 2 if arg & 0x10 else 1)
    else:
        raise ValueError(f"unknown ESC {cmd!r} at {i}")
    return i + 3


def _gs(data: bytes, i: int, st: _State, fonts) -> int:
    cmd = data[i + 1:i + 2]
    if cmd == b"!":
        n = data[i + 2]
        st.mag = ((n >> 4) + 1, (n & 0x0F) + 1)
        return i + 3
    if cmd == b"V":
        # the cut: draw a dashed line so the preview shows where paper ends
        row = Image.new("L", (st.width, 8), 255)
        ImageDraw.Draw(row).line([(0, 4), (st.width, 4)], fill=128, width=1)
        st.rows.append(row)
        return i + (4 if data[i + 2] in (65, 66) else 3)
    if cmd == b"v" and data[i + 2:i + 3] == b"0":
        return _raster(data, i, st)
    raise ValueError(f"unknown GS {cmd!r} at {i}")
