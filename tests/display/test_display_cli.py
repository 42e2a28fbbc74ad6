"""The board's config file and the ``lalopa display`` command."""
from pathlib import Path

import pytest

from broker.cli import main as lalopa
from display.config import DisplayConfigError, from_dict, load

EXAMPLE = Path(__file__).resolve().parents[2] / "display" / "example.toml"


def test_example_config_loads_with_demo_defaults():
    """GIVEN the shipped example THEN it loads: board-1 on 127.0.0.1:1883, site dinkes-claim."""
    cfg = load(EXAMPLE)
    assert (cfg.device_id, cfg.bus["host"], cfg.bus["port"], cfg.bus["site"]) == \
        ("board-1", "127.0.0.1", 1883, "dinkes-claim")
    assert cfg.voice["reading"] == "number" and cfg.voice["repeat"] == 1


@pytest.mark.parametrize("data, needle", [
    ({"voice": {"reading": "words"}}, "reading"),
    ({"voice": {"repeat": 9}}, "repeat"),
    ({"voice": {"volum": 1.0}}, "volum"),
    ({"bus": {"port": "1883"}}, "port"),
    ({"bus": {"site": "Bad Site"}}, "site"),
    ({"screen": {}}, "screen"),
])
def test_bad_config_is_refused_with_a_clear_message(data, needle):
    """GIVEN a config with a mistake THEN DisplayConfigError names the key, Indonesian first."""
    with pytest.raises(DisplayConfigError) as err:
        from_dict(data)
    assert needle in str(err.value) and " / " in str(err.value)


def test_validate_config_command(capsys, tmp_path):
    """GIVEN the example and a broken file WHEN 'lalopa display run --validate-config'
    THEN 0 for the example, 1 with an error message for the broken one."""
    assert lalopa(["display", "run", "--config", str(EXAMPLE), "--validate-config"]) == 0
    broken = tmp_path / "bad.toml"
    broken.write_text("[voice]\nreading = 'shout'\n")
    assert lalopa(["display", "run", "--config", str(broken), "--validate-config"]) == 1
    assert "reading" in capsys.readouterr().err


def test_screenshots_command_writes_the_four_scenes(tmp_path):
    """GIVEN the screenshots command WHEN run THEN idle, call, busy-16 and offline PNGs exist
    at 1920x1080, 1366x768 and portrait 1080x1920."""
    import pygame
    assert lalopa(["display", "screenshots", "--out", str(tmp_path)]) == 0
    for scene in ("idle", "call", "busy-16", "offline"):
        assert pygame.image.load(str(tmp_path / f"{scene}.png")).get_size() == (1920, 1080)
        assert pygame.image.load(str(tmp_path / f"{scene}-1366x768.png")).get_size() == (1366, 768)
        assert pygame.image.load(str(tmp_path / f"{scene}-portrait.png")).get_size() == (1080, 1920)


def test_docs_name_every_clip_and_setting():
    """GIVEN docs/DISPLAY.md THEN it names every voice clip and every setting (no drift)."""
    from display.config import SETTINGS
    from display.words import all_clip_names
    doc = (Path(__file__).resolve().parents[2] / "docs" / "DISPLAY.md").read_text()
    for clip in all_clip_names() + ["chime"]:
        assert f"`{clip}`" in doc, clip
    for table, keys in SETTINGS.items():
        for key in keys:
            assert f"`[{table}] {key}`" in doc, f"[{table}] {key}"


def test_screenshots_show_the_example_site():
    """GIVEN the example site file THEN the screenshot scenes carry its facility name, services
    and running text, and the built-in copy (for a board-only install) has not drifted from it."""
    from display.screenshots import EXAMPLE_SITE, SiteLook, example_site, sample_snapshot
    from server.config import load_site
    site = load_site(EXAMPLE_SITE)
    look = example_site()
    snap = sample_snapshot(7, look=look)
    assert snap.facility == site.facility
    assert [s.prefix for s in snap.services] == [s.prefix for s in site.services]
    assert [s.name_id for s in snap.services] == [s.name_id for s in site.services]
    assert snap.running_text == site.running_text
    assert SiteLook() == look
