"""docs/HARDWARE.md lists what an office must buy, and its paper figures hold."""
from __future__ import annotations

import re
from pathlib import Path

from PIL import Image

DOCS = Path(__file__).resolve().parents[2] / "docs"
DOTS_PER_MM = 8  # 203 dpi thermal heads, as the ticket previews are drawn


def test_the_bill_of_materials_is_complete():
    """GIVEN the hardware list WHEN read THEN it gives the Pi Zero 2 W boxes a way onto the wired
    network (it has no Ethernet port) and lists SD cards, power supplies, cases and paper rolls."""
    text = (DOCS / "HARDWARE.md").read_text()
    assert "no Ethernet port" in text and "USB-OTG Ethernet adapter" in text
    assert "Wi-Fi" in text and "Wired or Wi-Fi" in text
    for heading in ("### Power supplies", "### Storage", "### Cases and mounting", "### Paper rolls"):
        assert heading in text, heading
    assert "high-endurance microSD" in text


def test_tickets_per_roll_match_the_ticket_length():
    """GIVEN the rendered ticket previews WHEN their length is measured THEN the tickets-per-roll
    figures in the paper table are that roll length divided by the ticket length (within 10 %)."""
    text = (DOCS / "HARDWARE.md").read_text()
    for width, metres in ((58, 30), (80, 80)):
        height_px = Image.open(DOCS / "kiosk" / f"ticket-{width}mm.png").size[1]
        ticket_m = height_px / DOTS_PER_MM / 1000
        row = re.search(rf"\| {width} mm \| {width} mm × {metres} m[^|]*\| about (\d+) \|", text)
        assert row, f"no paper row for {width} mm"
        stated = int(row.group(1))
        assert abs(stated - metres / ticket_m) <= 0.1 * stated, (width, stated, metres / ticket_m)
