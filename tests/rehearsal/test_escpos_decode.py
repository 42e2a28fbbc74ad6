"""The rehearsal's ESC/POS decoder against the bytes the kiosk really sends."""
from __future__ import annotations

from pathlib import Path

import pytest
from escpos.printer import Dummy

from escpos_decode import Decoder, PrinterState, decode
from kiosk.printer import decode_status
from kiosk.ticket import TicketData, render_ticket

pytestmark = pytest.mark.timeout(30)
GOLDEN = Path(__file__).resolve().parents[1] / "kiosk" / "golden" / "ticket_58.bin"
TICKET = TicketData(
    facility="Puskesmas Sukamaju", number="B-042", service_name="Pendaftaran Umum",
    issued_at="2026-11-23T09:15:00+07:00", people_ahead=5, est_wait_s=900,
    status_url="http://10.0.0.1:8080/t/q9x7", requirements=("KK asli", "E-KTP asli"),
    whatsapp="+62 811-0000-1111", priority=None, tz_label="WIB")


def _line(receipt: dict, text: str) -> dict:
    return next(line for line in receipt["lines"] if line["text"] == text)


def test_golden_ticket_decodes_to_what_the_resident_reads():
    """GIVEN the reviewed golden 58 mm ticket (kiosk/ticket.py through python-escpos Dummy)
    WHEN decoded THEN one receipt: the big bold centred number, the service in double size,
    the requirements left-aligned, the QR payload read from the raster image, a 6-line
    feed and no cut (the POS-5890 profile has no cutter), and no unknown command."""
    session = decode(GOLDEN.read_bytes())
    assert session["unknown"] == [] and len(session["receipts"]) == 1
    receipt = session["receipts"][0]
    number = _line(receipt, "A-007")
    assert (number["bold"], number["width"], number["height"], number["align"]) == (
        True, 4, 4, "center")
    assert _line(receipt, "Verifikasi Klaim")["width"] == 2
    assert _line(receipt, "NOMOR ANTREAN / QUEUE NUMBER")["code_page"] == "cp437"
    assert _line(receipt, "[ ] KK asli dan fotokopi")["align"] == "left"
    assert _line(receipt, '[ ] E-KTP "asli"')["align"] == "left"
    assert receipt["qr"] == ["http://127.0.0.1:8080/t/abc123"]
    assert receipt["images"][0]["kind"] == "raster" and receipt["images"][0]["width"] == 384
    assert receipt["cut"] is None and receipt["feed_lines"] == 6
    # python-escpos selects code table 1 for the newline around the QR image: the text
    # after it is decoded with that table (plain ASCII reads the same).
    assert _line(receipt, "Kontak WhatsApp:")["code_page"] == "katakana"


def test_a_fresh_kiosk_ticket_round_trips():
    """GIVEN a ticket rendered now by the kiosk for 58 mm and 80 mm paper
    WHEN decoded THEN number, service, requirements and QR payload are the ticket's own,
    and the 80 mm profile (a cutter) ends the receipt with a full cut."""
    for paper, cut in ((58, None), (80, "full")):
        session = decode(render_ticket(TICKET, paper))
        receipt, = session["receipts"]
        assert session["unknown"] == []
        assert _line(receipt, "B-042")["width"] == (4 if paper == 58 else 6)
        assert "Pendaftaran Umum" in receipt["text"]
        assert "[ ] KK asli" in receipt["text"] and "[ ] E-KTP asli" in receipt["text"]
        assert receipt["qr"] == [TICKET.status_url]
        assert receipt["cut"] == cut


def test_byte_by_byte_equals_all_at_once():
    """GIVEN the golden ticket with a status query in the middle WHEN fed one byte at a time
    THEN the receipt is the same and the reply comes exactly when the query is complete."""
    data = GOLDEN.read_bytes()
    half = data.index(b"A-007\n") + 6     # between two lines, as the kiosk would ask
    stream = data[:half] + b"\x10\x04\x04" + data[half:]
    whole = decode(stream, PrinterState(paper="low"))
    d = Decoder(PrinterState(paper="low"))
    replies = [(i, d.feed(stream[i:i + 1])) for i in range(len(stream))]
    assert [(i, r) for i, r in replies if r] == [(half + 2, b"\x1e")]
    assert d.close() == whole


@pytest.mark.parametrize("state, expected", [
    (PrinterState(), "ok"), (PrinterState(paper="low"), "paper_low"),
    (PrinterState(paper="out"), "paper_out"), (PrinterState(online=False), "offline")])
def test_status_replies_read_by_the_kiosk(state, expected):
    """GIVEN a printer state WHEN the kiosk's two DLE EOT queries are answered
    THEN the kiosk's own reader (kiosk.printer.decode_status) sees that state."""
    d = Decoder(state)
    online, paper = d.feed(b"\x10\x04\x01"), d.feed(b"\x10\x04\x04")
    assert decode_status(online, paper) == expected
    assert [q["command"] for q in d.close()["status_queries"]] == ["DLE EOT 1", "DLE EOT 4"]


def test_silent_printer_answers_nothing():
    """GIVEN a printer that ignores status queries WHEN asked THEN no byte comes back."""
    d = Decoder(PrinterState(silent=True))
    assert d.feed(b"\x10\x04\x01\x1dr\x01") == b""
    assert [q["reply"] for q in d.close()["status_queries"]] == ["", ""]


def test_unknown_commands_are_reported_and_decoding_goes_on():
    """GIVEN text with an unknown ESC command, a stray control byte, an unknown code table
    and a command cut off by the end of the stream WHEN decoded THEN each is reported
    with its offset, and the text around them is still decoded."""
    stream = b"AB\x1bzCD\n\x07EF\n\x1bt\x63GH\n\x1dv0\x00\x01"
    session = decode(stream)
    found = [(u["offset"], u["name"]) for u in session["unknown"]]
    assert found == [(2, "ESC z"), (7, "0x07"), (11, "ESC t c"), (17, "GS v 0")]
    assert "truncated" in session["unknown"][-1]["why"]
    assert [line["text"] for line in session["receipts"][0]["lines"]] == ["ABCD", "EF", "GH"]


def test_native_qr_cut_barcode_and_code_page():
    """GIVEN python-escpos output with a native QR (GS ( k), a CODE39 barcode, CP1252 text
    and two cuts WHEN decoded THEN two receipts, the QR payload from the symbol store,
    the barcode data, the accented text in CP1252 and the kind of each cut."""
    p = Dummy(profile="TM-T20II")
    p.qr("https://contoh.go.id/t/1", native=True, size=4)
    p.barcode("A042", "CODE39", function_type="A")
    p.cut(mode="PART")
    p._raw(b"\x1bt\x10Caf\xe9\n")
    p.cut()
    session = decode(p.output)
    first, second = session["receipts"]
    assert session["unknown"] == []
    assert first["qr"] == ["https://contoh.go.id/t/1"] and first["cut"] == "partial"
    assert first["barcodes"][0]["data"] == "A042"
    assert second["lines"][-1]["text"] == "Café" and second["lines"][-1]["code_page"] == "cp1252"
    assert second["cut"] == "full"
