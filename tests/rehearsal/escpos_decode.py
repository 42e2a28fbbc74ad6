"""An ESC/POS decoder of our own: the bytes a kiosk sends -> a structured receipt.

python-escpos *writes* ESC/POS; this module *reads* it back the way a receipt
printer does, so the site rehearsal can check what a resident would hold in
their hand: the text lines (decoded with the code page in force), emphasis and
character size, QR codes (native ``GS ( k`` store/print, or drawn as a raster
image and read back with zxing-cpp), images, barcodes, feeds and the cut. It also
answers the real-time status queries a kiosk sends before and after a job
(``DLE EOT n``, ``GS r n``, ``GS I n``) from a :class:`PrinterState`, the way a
printer with that much paper would.

A byte sequence this decoder does not know is never skipped silently: it is
reported in ``unknown`` (offset and bytes), and decoding goes on after it.

The decoder is incremental (a TCP stream arrives in pieces, and a status query
must be answered before the kiosk sends the rest):

    >>> d = Decoder(PrinterState())
    >>> d.feed(b"\\x1b@\\x1ba\\x01A-007\\n\\x10\\x04\\x01")     # the reply goes back at once
    b'\\x12'
    >>> session = d.close()
    >>> session["receipts"][0]["lines"][0]["text"], session["receipts"][0]["lines"][0]["align"]
    ('A-007', 'center')
"""
from __future__ import annotations

from dataclasses import dataclass

ESC, GS, FS, DLE = 0x1B, 0x1D, 0x1C, 0x10

#: ``ESC t n`` code tables as Epson numbers them (the POS-58 class of printers follows
#: the same numbering for the low slots). Slot 1 is half-width Katakana (JIS X 0201).
CODE_PAGES = {0: "cp437", 1: "katakana", 2: "cp850", 3: "cp860", 4: "cp863", 5: "cp865",
              16: "cp1252", 17: "cp866", 18: "cp852", 19: "cp858"}
ALIGN = {0: "left", 1: "center", 2: "right", 48: "left", 49: "center", 50: "right"}
#: ESC/GS commands with a fixed number of parameter bytes that only set a mode we do
#: not need to interpret beyond naming it.
FIXED = {
    (ESC, ord("2")): 0, (ESC, ord("3")): 1, (ESC, ord(" ")): 1, (ESC, ord("$")): 2,
    (ESC, ord("\\")): 2, (ESC, ord("{")): 1, (ESC, ord("V")): 1, (ESC, ord("U")): 1,
    (ESC, ord("R")): 1, (ESC, ord("r")): 1, (ESC, ord("=")): 1, (ESC, ord("J")): 1,
    (ESC, ord("e")): 1, (ESC, ord("L")): 0, (ESC, ord("S")): 0, (ESC, ord("%")): 1,
    (ESC, ord("p")): 3, (ESC, ord("<")): 0,
    (GS, ord("B")): 1, (GS, ord("H")): 1, (GS, ord("h")): 1, (GS, ord("w")): 1,
    (GS, ord("f")): 1, (GS, ord("L")): 2, (GS, ord("W")): 2, (GS, ord("P")): 2,
    (GS, ord("a")): 1, (GS, ord("b")): 1, (GS, ord("E")): 1, (GS, ord("T")): 1,
    (GS, ord("^")): 3, (GS, ord(":")): 0,
    (FS, ord("&")): 0, (FS, ord(".")): 0, (FS, ord("C")): 1, (FS, ord("p")): 2,
    (FS, ord("!")): 1, (FS, ord("-")): 1, (FS, ord("W")): 1,
}
NAMES = {ESC: "ESC", GS: "GS", FS: "FS", DLE: "DLE"}


class NeedMore(Exception):
    """The command at the current offset is not complete yet."""


@dataclass
class PrinterState:
    """What the printer would say about itself: paper ``ok`` | ``low`` | ``out``,
    ``online``, cover open. ``silent`` printers ignore status queries."""

    paper: str = "ok"
    online: bool = True
    cover_open: bool = False
    silent: bool = False

    def dle_eot(self, n: int) -> bytes:
        fixed = 0x12  # bits 1 and 4 are always 1 in every DLE EOT reply
        if n == 1:
            return bytes([fixed | (0 if self.online else 0x08)])
        if n == 2:
            return bytes([fixed | (0x04 if self.cover_open else 0)
                          | (0x20 if self.paper == "out" else 0)])
        if n == 3:
            return bytes([fixed])
        # n == 4, roll paper sensor: near end = bits 2-3, paper end = bits 5-6
        return bytes([fixed | (0x0C if self.paper in ("low", "out") else 0)
                      | (0x60 if self.paper == "out" else 0)])

    def gs_r(self, n: int) -> bytes:
        if n in (1, 49):  # paper sensor: near end bits 0-1, end bits 2-3
            return bytes([(0x03 if self.paper in ("low", "out") else 0)
                          | (0x0C if self.paper == "out" else 0)])
        return b"\x00"     # drawer kick-out connector: closed


def _decode_text(data: bytes, page: int) -> str:
    name = CODE_PAGES.get(page)
    if name == "katakana":  # ASCII below 0x80, half-width katakana at 0xA1..0xDF
        return "".join(chr(b) if b < 0x80 else
                       (chr(0xFF61 + b - 0xA1) if 0xA1 <= b <= 0xDF else "\ufffd") for b in data)
    if name is None:
        return "".join(chr(b) if b < 0x80 else "\ufffd" for b in data)
    return data.decode(name, errors="replace")


def _raster_to_image(width_bytes: int, height: int, data: bytes):
    """GS v 0 data (1 bit per dot, MSB left, 1 = black) as a black-on-white PIL image."""
    from PIL import Image, ImageOps
    img = Image.frombytes("1", (width_bytes * 8, height), bytes(data))
    return ImageOps.invert(img.convert("L"))


def read_qr(image) -> list[str]:
    """Payloads of every QR code in a PIL image (zxing-cpp; a quiet zone is added)."""
    import zxingcpp
    from PIL import ImageOps
    padded = ImageOps.expand(image, border=16, fill=255)
    return [r.text for r in zxingcpp.read_barcodes(padded)
            if r.format == zxingcpp.BarcodeFormat.QRCode]


class Decoder:
    """Decodes one connection's byte stream; see the module docstring."""

    def __init__(self, printer: PrinterState | None = None):
        self.printer = printer or PrinterState()
        self.buf = bytearray()
        self.offset = 0            # stream offset of buf[0]
        self.total = 0
        self.receipts: list[dict] = []
        self.status_queries: list[dict] = []
        self.unknown: list[dict] = []
        self._reset_modes()
        self._new_receipt()

    # -- state ----------------------------------------------------------------

    def _reset_modes(self) -> None:
        self.align, self.bold, self.underline = "left", False, False
        self.width = self.height = 1
        self.font, self.page = "A", 0

    def _new_receipt(self) -> None:
        self.receipt = {"lines": [], "qr": [], "images": [], "barcodes": [], "codes_2d": [],
                        "cut": None, "feed_lines": 0, "code_pages": [], "unknown": []}
        self.line: list[dict] = []
        self.line_align = None
        self.qr_store = b""

    def _style(self) -> dict:
        return {"bold": self.bold, "underline": self.underline, "width": self.width,
                "height": self.height, "font": self.font}

    def _text(self, data: bytes) -> None:
        if self.line_align is None:
            self.line_align = self.align
        text = _decode_text(data, self.page)
        page = CODE_PAGES.get(self.page, f"unknown-{self.page}")
        style = dict(self._style(), code_page=page)
        if self.line and {k: v for k, v in self.line[-1].items() if k != "text"} == style:
            self.line[-1]["text"] += text
        else:
            self.line.append(dict(style, text=text))

    def _end_line(self) -> None:
        spans = self.line
        first = spans[0] if spans else self._style() | {"code_page": CODE_PAGES.get(self.page)}
        self.receipt["lines"].append({
            "text": "".join(s["text"] for s in spans), "align": self.line_align or self.align,
            "bold": any(s["bold"] for s in spans), "width": first["width"],
            "height": first["height"], "code_page": first["code_page"], "spans": spans})
        self.line, self.line_align = [], None

    def _flush_line(self) -> None:
        if self.line:
            self._end_line()

    def _finish_receipt(self, cut: str | None) -> None:
        self._flush_line()
        r = self.receipt
        if cut is None and not (r["lines"] or r["images"] or r["qr"] or r["barcodes"]
                                or r["codes_2d"] or r["unknown"] or r["feed_lines"]):
            return
        r["cut"] = cut
        r["text"] = "\n".join(line["text"] for line in r["lines"])
        r["code_pages"] = sorted({line["code_page"] for line in r["lines"] if line["spans"]})
        self.receipts.append(r)
        self._new_receipt()

    def _report_unknown(self, at: int, raw: bytes, why: str) -> None:
        name = " ".join(NAMES.get(b, chr(b) if 0x20 < b < 0x7F else f"0x{b:02x}")
                        for b in raw[:3])
        entry = {"offset": self.offset + at, "bytes": raw.hex(" "), "name": name, "why": why}
        self.unknown.append(entry)
        self.receipt["unknown"].append(entry)

    # -- the stream -------------------------------------------------------------

    def feed(self, data: bytes) -> bytes:
        """Take more bytes; returns what the printer answers right now (status replies)."""
        self.buf += data
        self.total += len(data)
        replies = bytearray()
        pos = 0
        while pos < len(self.buf):
            try:
                used, reply = self._step(pos)
            except NeedMore:
                break
            replies += reply
            pos += used
        del self.buf[:pos]
        self.offset += pos
        return bytes(replies)

    def close(self) -> dict:
        """The connection ended: the last receipt (even uncut) and anything left over."""
        if self.buf:
            self._report_unknown(0, bytes(self.buf), "truncated: the stream ended inside a command")
            self.buf.clear()
        self._finish_receipt(None)
        return {"bytes": self.total, "receipts": self.receipts,
                "status_queries": self.status_queries, "unknown": self.unknown}

    def _need(self, pos: int, n: int) -> bytes:
        if pos + n > len(self.buf):
            raise NeedMore
        return bytes(self.buf[pos:pos + n])

    def _step(self, pos: int) -> tuple[int, bytes]:
        b = self.buf[pos]
        if b >= 0x20:
            end = pos
            while end < len(self.buf) and self.buf[end] >= 0x20:
                end += 1
            self._text(bytes(self.buf[pos:end]))
            return end - pos, b""
        if b == 0x0A:
            self._end_line()
            return 1, b""
        if b == 0x0D:      # carriage return: the line is printed on LF
            return 1, b""
        if b == 0x09:
            self._text(b"    ")
            return 1, b""
        if b == DLE:
            return self._dle(pos)
        if b == ESC:
            return self._esc(pos)
        if b == GS:
            return self._gs(pos)
        if b == FS:
            return self._fs(pos)
        self._report_unknown(pos, bytes([b]), "control byte")
        return 1, b""

    # -- DLE: real-time commands --------------------------------------------------

    def _dle(self, pos: int) -> tuple[int, bytes]:
        cmd = self._need(pos, 2)[1]
        if cmd == 0x04:       # DLE EOT n: transmit real-time status
            n = self._need(pos, 3)[2]
            reply = b"" if self.printer.silent or n not in (1, 2, 3, 4) else self.printer.dle_eot(n)
            self.status_queries.append({"command": f"DLE EOT {n}", "reply": reply.hex()})
            return 3, reply
        if cmd == 0x05:       # DLE ENQ n: real-time request (recover, clear buffers)
            self._need(pos, 3)
            return 3, b""
        if cmd == 0x14:       # DLE DC4 fn ...: pulse (fn 1), power-off (fn 2), clear (fn 8)
            fn = self._need(pos, 3)[2]
            size = {1: 5, 2: 5, 8: 7}.get(fn)
            if size is None:
                self._report_unknown(pos, self._need(pos, 3), "DLE DC4 function")
                return 3, b""
            self._need(pos, size)
            return size, b""
        self._report_unknown(pos, self._need(pos, 2), "DLE command")
        return 2, b""

    # -- ESC --------------------------------------------------------------------------

    def _esc(self, pos: int) -> tuple[int, bytes]:
        c = self._need(pos, 2)[1]
        ch = chr(c)
        if ch == "@":
            self._flush_line()
            self._reset_modes()
            return 2, b""
        if ch in "aEG-!MtdiJm*D":
            if ch in "im":   # partial cut (legacy one-byte forms)
                self._finish_receipt("partial")
                return 2, b""
            if ch == "*":
                return self._esc_star(pos)
            if ch == "D":   # tab positions, NUL-terminated
                end = self.buf.find(b"\x00", pos + 2)
                if end < 0:
                    raise NeedMore
                return end + 1 - pos, b""
            n = self._need(pos, 3)[2]
            if ch == "a":
                self.align = ALIGN.get(n, self.align)
            elif ch in "EG":
                self.bold = bool(n & 1)
            elif ch == "-":
                self.underline = bool(n & 3)
            elif ch == "!":
                self.font = "B" if n & 1 else "A"
                self.bold, self.underline = bool(n & 0x08), bool(n & 0x80)
                self.height, self.width = (2 if n & 0x10 else 1), (2 if n & 0x20 else 1)
            elif ch == "M":
                self.font = "B" if n in (1, 49) else "A"
            elif ch == "t":
                self.page = n
                if n not in CODE_PAGES:
                    self._report_unknown(pos, self._need(pos, 3), f"code table {n} unknown")
            elif ch == "d":
                self._flush_line()
                self.receipt["feed_lines"] += n
            elif ch == "J":
                self._flush_line()
            return 3, b""
        if (ESC, c) in FIXED:
            size = 2 + FIXED[(ESC, c)]
            self._need(pos, size)
            return size, b""
        self._report_unknown(pos, self._need(pos, 2), "ESC command")
        return 2, b""

    def _esc_star(self, pos: int) -> tuple[int, bytes]:
        """ESC * m nL nH d1..dk: one band of a column-format bit image."""
        m, nl, nh = self._need(pos, 5)[2:5]
        dots = nl + nh * 256
        size = 5 + dots * (3 if m in (32, 33) else 1)
        self._need(pos, size)
        self.receipt["images"].append({"kind": "column", "width": dots,
                                       "height": 24 if m in (32, 33) else 8, "qr": []})
        return size, b""

    # -- GS ---------------------------------------------------------------------------

    def _gs(self, pos: int) -> tuple[int, bytes]:
        c = self._need(pos, 2)[1]
        ch = chr(c)
        if ch == "!":
            n = self._need(pos, 3)[2]
            self.width, self.height = (n >> 4) + 1, (n & 0x0F) + 1
            return 3, b""
        if ch == "V":
            m = self._need(pos, 3)[2]
            size = 4 if m in (65, 66, 97, 98, 103, 104) else 3
            self._need(pos, size)
            self._finish_receipt("full" if m in (0, 48, 65, 97, 103) else "partial")
            return size, b""
        if ch == "v":
            return self._raster(pos)
        if ch == "(":
            return self._gs_paren(pos)
        if ch == "8":     # GS 8 L p1 p2 p3 p4 ...: large graphics data
            head = self._need(pos, 7)
            size = 7 + int.from_bytes(head[3:7], "little")
            self._need(pos, size)
            self._report_unknown(pos, head[:3], "large graphics (GS 8 L) not interpreted")
            return size, b""
        if ch == "k":
            return self._barcode(pos)
        if ch == "r":
            n = self._need(pos, 3)[2]
            reply = b"" if self.printer.silent else self.printer.gs_r(n)
            self.status_queries.append({"command": f"GS r {n}", "reply": reply.hex()})
            return 3, reply
        if ch == "I":
            n = self._need(pos, 3)[2]
            reply = b"" if self.printer.silent else (
                b"_LALOPA-REHEARSAL\x00" if n >= 65 else b"\x20")
            self.status_queries.append({"command": f"GS I {n}", "reply": reply.hex()})
            return 3, reply
        if (GS, c) in FIXED:
            size = 2 + FIXED[(GS, c)]
            self._need(pos, size)
            return size, b""
        self._report_unknown(pos, self._need(pos, 2), "GS command")
        return 2, b""

    def _raster(self, pos: int) -> tuple[int, bytes]:
        """GS v 0 m xL xH yL yH d1..dk: a raster bit image (python-escpos' default)."""
        head = self._need(pos, 8)
        if head[2] != 0x30:
            self._report_unknown(pos, head[:3], "GS v other than GS v 0")
            return 3, b""
        xb = head[4] + head[5] * 256
        rows = head[6] + head[7] * 256
        size = 8 + xb * rows
        data = self._need(pos, size)[8:]
        self._flush_line()
        image = _raster_to_image(xb, rows, data)
        found = read_qr(image)
        self.receipt["images"].append({"kind": "raster", "width": xb * 8, "height": rows,
                                       "scale": head[3], "qr": found})
        self.receipt["qr"] += found
        return size, b""

    def _gs_paren(self, pos: int) -> tuple[int, bytes]:
        """GS ( X pL pH ...: every function of this family carries its length."""
        head = self._need(pos, 5)
        fam, length = chr(head[2]), head[3] + head[4] * 256
        size = 5 + length
        body = self._need(pos, size)[5:]
        if fam == "k" and length >= 2:
            self._code_2d(pos, body)
        elif fam == "L" and length >= 2 and body[1] in (50, 2):    # print stored graphics
            self._flush_line()
            self.receipt["images"].append({"kind": "graphics", "width": None, "height": None,
                                           "qr": []})
        elif fam == "L":
            pass   # graphics store / density settings: printed by the function above
        else:
            self._report_unknown(pos, head[:3], f"GS ( {fam} not interpreted")
        return size, b""

    def _code_2d(self, pos: int, body: bytes) -> None:
        cn, fn = body[0], body[1]
        if cn != 49:   # 48 PDF417, 50 MaxiCode, 51 GS1 DataBar, 52 Composite, 53 Aztec...
            self.receipt["codes_2d"].append({"symbology": cn, "function": fn})
            return
        if fn == 80:           # store the QR data in the symbol storage area
            self.qr_store = body[3:]
        elif fn == 81:         # print the stored symbol
            self._flush_line()
            self.receipt["qr"].append(self.qr_store.decode("utf-8", errors="replace"))
        elif fn not in (65, 67, 69, 82):   # model, size, error level, size info
            self._report_unknown(pos, b"\x1d(k", f"QR function {fn}")

    def _barcode(self, pos: int) -> tuple[int, bytes]:
        m = self._need(pos, 3)[2]
        if m <= 6:
            end = self.buf.find(b"\x00", pos + 3)
            if end < 0:
                raise NeedMore
            data, size = bytes(self.buf[pos + 3:end]), end + 1 - pos
        else:
            n = self._need(pos, 4)[3]
            size = 4 + n
            data = self._need(pos, size)[4:]
        self._flush_line()
        self.receipt["barcodes"].append({"type": m, "data": data.decode("ascii", "replace")})
        return size, b""

    # -- FS ---------------------------------------------------------------------------

    def _fs(self, pos: int) -> tuple[int, bytes]:
        c = self._need(pos, 2)[1]
        if (FS, c) in FIXED:
            size = 2 + FIXED[(FS, c)]
            self._need(pos, size)
            return size, b""
        self._report_unknown(pos, self._need(pos, 2), "FS command")
        return 2, b""


def decode(data: bytes, printer: PrinterState | None = None) -> dict:
    """Decode a complete stream at once (a .bin file, a Dummy printer's output)."""
    decoder = Decoder(printer)
    decoder.feed(data)
    return decoder.close()
