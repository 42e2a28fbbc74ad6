"""The board read from 3-5 m: "Silakan menuju", the counter names and the date are drawn
large and near white on a 1920x1080 board (the real renderer under SDL dummy)."""
import pygame
import pytest

from broker.protocol import CallEvent
from display import render
from display.app import BoardApp
from display.config import DisplayConfig
from display.screenshots import _at, example_site, sample_snapshot

# Heights in pixels of a 1080-line board. On a 43" TV one pixel is about 0.5 mm, so 44 px
# is a line of text about 22 mm tall: readable across a waiting room (before: 26-40 px).
MIN_LABEL_PX = 44
MIN_DATE_PX = 40
MIN_CONTRAST = 7.0   # WCAG AAA for text


def _luminance(rgb) -> float:
    def chan(c):
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (chan(c) for c in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a, b) -> float:
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


@pytest.fixture
def drawn(monkeypatch):
    """Every text the board draws for a call on a busy 1080p board: text -> (height, colour)."""
    seen: dict[str, tuple[int, tuple]] = {}
    real_fit = render.Renderer.fit

    def fit(self, s, max_w, max_h, color=render.TEXT, bold=True):
        surf = real_fit(self, s, max_w, max_h, color, bold)
        seen[s] = (surf.get_height(), tuple(color))
        return surf
    monkeypatch.setattr(render.Renderer, "fit", fit)
    cfg = DisplayConfig()
    cfg.voice["enabled"] = False
    app = BoardApp(cfg, size=(1920, 1080), use_bus=False, monotonic=lambda: 1000.0).open()
    try:
        app.state.set_online(True)
        app.state.apply_snapshot(sample_snapshot(16, seq=88, look=example_site()), retained=True)
        app.state.apply_call(CallEvent(seq=89, kind="call", ticket="A-089", service="A", counter=5,
                                       counter_name="Loket 5", at=_at(41)))
        app.monotonic = lambda: 1000.0 + 10.0   # past the flash: the panel's normal colours
        app.state.monotonic = app.monotonic
        app.state.dirty.add("all")
        app.draw()
    finally:
        app.close()
    return seen


def test_please_go_to_is_large_and_bright(drawn):
    """GIVEN a call on a 1080p board WHEN drawn THEN "Silakan menuju / Please go to" is at least
    44 px tall and near white on the call panel (contrast at least 7:1)."""
    height, colour = drawn["SILAKAN MENUJU / Please go to"]
    assert height >= MIN_LABEL_PX, height
    assert contrast(colour, render.PANEL) >= MIN_CONTRAST


def test_counter_names_are_large_and_bright(drawn):
    """GIVEN 16 counter tiles WHEN drawn THEN each plain counter name ("Loket 12") is at least
    44 px tall, with at least 7:1 contrast on its tile."""
    names = {s: v for s, v in drawn.items() if s.startswith("Loket ") and "Prioritas" not in s}
    assert len(names) >= 10
    for name, (height, colour) in names.items():
        assert height >= MIN_LABEL_PX, (name, height)
        assert contrast(colour, render.PANEL) >= MIN_CONTRAST, name


def test_date_is_large_and_bright(drawn):
    """GIVEN the header clock WHEN drawn THEN the date (day, date, month, year) is at least
    40 px tall with at least 7:1 contrast on the header."""
    date = next(s for s in drawn if s.startswith(render.DAYS))
    height, colour = drawn[date]
    assert height >= MIN_DATE_PX, (date, height)
    assert contrast(colour, render.HEADER) >= MIN_CONTRAST
