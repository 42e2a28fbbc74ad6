"""The fonts LALOPA ships (DejaVu Sans), so every Pi image renders alike.

Display and kiosk both load fonts by path from here; never ``SysFont``
(it scans with fc-list and differs between images).
"""
from pathlib import Path

FONT_DIR = Path(__file__).resolve().parent / "assets" / "fonts"
REGULAR = FONT_DIR / "DejaVuSans.ttf"
BOLD = FONT_DIR / "DejaVuSans-Bold.ttf"
CONDENSED_BOLD = FONT_DIR / "DejaVuSansCondensed-Bold.ttf"


def font_path(bold: bool = False, condensed: bool = False) -> str:
    """Path of the shipped font for the given weight."""
    if condensed:
        return str(CONDENSED_BOLD)
    return str(BOLD if bold else REGULAR)
