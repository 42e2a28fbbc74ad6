"""The board's footprint stays flat however many calls the day brings.

The real renderer draws a real BoardState under SDL dummy video, call after call;
the rendered-text cache must stay within its bound (a screen's worth of pixels
), not grow until a count is reached and then be thrown away.
"""
import pygame

from display import render
from display.state import BoardState
from display_testkit import call, snapshot

SIZE = (1920, 1080)


def _draw_calls(renderer, state, site_id, first, n):
    for seq in range(first, first + n):
        counter = seq % 16 + 1
        ticket = f"{'ABCD'[seq % 4]}-{seq % 1000:03d}"
        state.apply_call(call(seq, ticket, counter))
        renderer.draw(state, state.take_dirty())


def test_text_cache_stays_within_its_bound_through_many_calls(site_id):
    # GIVEN a 1080p board that has drawn its first calls
    pygame.display.init()
    pygame.font.init()
    try:
        surface = pygame.Surface(SIZE)
        renderer = render.Renderer(surface)
        state = BoardState()
        state.apply_snapshot(snapshot(site_id, 1, serving={1: "A-001"}), retained=True)
        renderer.draw(state, state.take_dirty())
        _draw_calls(renderer, state, site_id, 2, 50)
        bound = render.TEXT_CACHE_SCREENS * SIZE[0] * SIZE[1] * 4
        # WHEN 700 more calls are drawn (past the old 600-entry clear point)
        peak = 0
        for first in range(52, 752, 50):
            _draw_calls(renderer, state, site_id, first, 50)
            held = sum(render._surface_bytes(s) for s in renderer._text_cache.values())
            peak = max(peak, held)
        # THEN the cache never held more than its bound, and its count is bounded too
        assert peak <= bound, f"text cache peaked at {peak / 1e6:.1f} MB > bound {bound / 1e6:.1f} MB"
        assert len(renderer._text_cache) <= render.TEXT_CACHE_ENTRIES
        assert renderer.text_cache_bytes == held
    finally:
        pygame.display.quit()
