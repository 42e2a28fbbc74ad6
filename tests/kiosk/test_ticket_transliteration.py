"""The ticket says what it means: characters outside the printer's code page are written
out in ASCII the way a person would, never as "?"."""
import pytest

from broker import texts
from kiosk.ticket import TicketData, render_ticket


@pytest.mark.parametrize("given, printed", [
    ("\u00bd jam", "1/2 jam"),
    ("\u2713 KK asli", "v KK asli"),
    ("\u00bc, \u00be", "1/4, 3/4"),
    ("3\u00d74 cm", "3x4 cm"),
    ("25\u00b0C", "25 derajat C"),
    ("\u2116 5", "No. 5"),
    ("Stra\u00dfe \u00e6", "Strasse ae"),
    ("m\u00b2", "m2"),
    ("\u00ab\u00a0kutip\u00a0\u00bb", '" kutip "'),
])
def test_symbols_are_written_out(given, printed):
    assert texts.to_ascii(given) == printed


def test_no_question_marks_for_what_the_printer_lacks():
    """GIVEN text with an emoji and CJK WHEN printed THEN they are left out, never '?'."""
    assert "?" not in texts.to_ascii("Antre \U0001F600 \u65e5\u672c")
    assert texts.to_ascii("Siapa? \u00bfQu\u00e9?") == "Siapa? ?Que?"   # a real '?' stays


def test_the_site_file_refuses_what_cannot_be_printed_and_accepts_what_can():
    with pytest.raises(texts.TextError):
        texts.clean(texts.REQUIREMENT_ID, "Bawa KK \U0001F600")
    assert texts.clean(texts.REQUIREMENT_ID, "\u2713 Bawa \u00bd lembar") == "\u2713 Bawa \u00bd lembar"


def test_a_requirement_with_symbols_prints_them_written_out():
    tk = TicketData(facility="Dinkes", number="A-001", service_name="Verifikasi", issued_at="2026-11-23T08:00:00+07:00",
                    people_ahead=0, est_wait_s=60, est_low_s=0, est_high_s=240, status_url="",
                    requirements=("\u2713 Fotokopi KK \u00bd halaman",))
    out = render_ticket(tk, 58)
    assert b"[ ] v Fotokopi KK 1/2 halaman" in out and b"?" not in out
