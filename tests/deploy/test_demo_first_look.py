"""What a first-time user of `lalopa demo` sees: every service is served, the board and the
kiosk windows side by side, and an admin password that really works only once."""
from __future__ import annotations

import tomllib

import pytest

from server.auth import AuthError, UserStore
from server.db import Database
from server.devtools import demo as demo_mod
from server.devtools.demo import Demo
from server.devtools.simulate import pick_counters

pytestmark = pytest.mark.timeout(60)


def test_the_demos_simulated_counters_serve_every_service():
    """GIVEN the example site and the demo's default number of simulated counters WHEN the
    simulator picks its counters THEN together they serve every service (B included), and
    no more counters than asked."""
    site = tomllib.loads(demo_mod.SITE_EXAMPLE.read_text())
    default = demo_mod.build_parser().parse_args([]).counters
    chosen = pick_counters(site["counters"], default)
    assert len(chosen) == default
    served = {s for c in site["counters"] if c["number"] in chosen for s in c["services"]}
    assert served == {s["prefix"] for s in site["services"]}
    first_choice = {c["services"][0] for c in site["counters"] if c["number"] in chosen}
    assert first_choice == served  # each service is some chosen counter's first choice
    assert pick_counters(site["counters"], None) == [c["number"] for c in site["counters"]]


def test_board_and_kiosk_windows_do_not_cover_each_other(tmp_path):
    """GIVEN the demo with a screen WHEN it places the board and the kiosk THEN their windows
    sit side by side within a 1920-pixel-wide desktop; headless, there are no windows."""
    shown = Demo(tmp_path, headless=False, duration=None, speed=60, seed=1, counters=6)
    rects = []
    for role in ("display", "kiosk"):
        args, env = shown.window(role)
        w, h = map(int, args[args.index("--windowed") + 1].split("x"))
        x, y = map(int, env["SDL_VIDEO_WINDOW_POS"].split(","))
        rects.append((x, y, x + w, y + h))
    (ax0, ay0, ax1, ay1), (bx0, by0, bx1, by1) = rects
    assert ax1 <= bx0 or bx1 <= ax0 or ay1 <= by0 or by1 <= ay0, rects
    assert max(ax1, bx1) <= 1920
    headless = Demo(tmp_path, headless=True, duration=None, speed=60, seed=1, counters=6)
    assert headless.window("kiosk") == ([], {})


def test_the_demo_admin_password_works_once(tmp_path):
    """GIVEN the admin log-in the demo prints WHEN it is used THEN the first log-in succeeds and
    a second one with the same password is refused; a password the admin then sets works."""
    demo = Demo(tmp_path, headless=True, duration=None, speed=60, seed=1, counters=6)
    demo.prepare()
    assert demo.run_once("db", "init", "--db", str(demo.db)).returncode == 0
    username, password = demo.make_admin()
    db = Database(str(demo.db))
    try:
        users = UserStore(db)
        first = users.authenticate(username, password, ip="127.0.0.1")
        assert first["role"] == "admin"
        with pytest.raises(AuthError) as refused:
            users.authenticate(username, password, ip="127.0.0.1")
        assert refused.value.code == "bad_login"
        users.set_password(first["id"], "kata-sandi-saya-sendiri")
        assert users.authenticate(username, "kata-sandi-saya-sendiri", ip="127.0.0.1")["id"] == first["id"]
        assert users.authenticate(username, "kata-sandi-saya-sendiri", ip="127.0.0.1")["id"] == first["id"]
    finally:
        db.close()
