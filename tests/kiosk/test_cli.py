"""Configuration and the ``lalopa kiosk`` commands."""
from pathlib import Path

import pytest
from PIL import Image

from kiosk.cli import main
from kiosk.config import ConfigError, load_config, parse_config

EXAMPLE = Path(__file__).resolve().parents[2] / "kiosk" / "example.toml"


def test_example_config_is_valid():
    """GIVEN the shipped example WHEN loaded THEN it matches the demo defaults."""
    cfg = load_config(EXAMPLE)
    assert cfg.device_id == "kiosk-1" and cfg.server.url == "http://127.0.0.1:8080"
    assert (cfg.bus.host, cfg.bus.port, cfg.bus.site) == ("127.0.0.1", 1883, "dinkes-claim")
    assert cfg.printer.profile_name == "POS-5890"


@pytest.mark.parametrize("data, words", [
    ({"printer": {"backend": "laser"}}, "backend"),
    ({"printer": {"paper": 76}}, "58 or 80"),
    ({"printer": {"timeout": 3}}, "unknown keys: timeout"),
    ({"screen": {"inactivity_s": "30"}}, "inactivity_s must be float"),
    ({"extra": 1}, "unknown top-level"),
])
def test_bad_config_is_refused(data, words):
    """GIVEN a typo or wrong type WHEN parsed THEN ConfigError names the key."""
    with pytest.raises(ConfigError, match=words):
        parse_config(data)


def test_token_env_wins_over_file(tmp_path, monkeypatch):
    """GIVEN a token file and LALOPA_KIOSK_TOKEN WHEN read THEN the environment wins."""
    token_file = tmp_path / "tok"
    token_file.write_text("from-file\n")
    cfg = parse_config({"server": {"token_file": str(token_file)}})
    monkeypatch.delenv("LALOPA_KIOSK_TOKEN", raising=False)
    assert cfg.token() == "from-file"
    monkeypatch.setenv("LALOPA_KIOSK_TOKEN", "from-env")
    assert cfg.token() == "from-env"


@pytest.mark.parametrize("paper, width", [(58, 384 + 24), (80, 576 + 24)])
def test_preview_ticket_offline(tmp_path, paper, width):
    """GIVEN no server WHEN preview-ticket runs with --offline THEN a PNG of the paper width exists."""
    out = tmp_path / "t.png"
    assert main(["preview-ticket", "--config", str(EXAMPLE), "--out", str(out),
                 "--paper", str(paper), "--offline"]) == 0
    assert Image.open(out).width == width


def test_preview_ticket_uses_server_site(tmp_path, real_server, monkeypatch):
    """GIVEN the real server WHEN preview-ticket runs THEN it succeeds with the server's site data."""
    cfg = tmp_path / "k.toml"
    cfg.write_text(EXAMPLE.read_text().replace("http://127.0.0.1:8080", real_server.url))
    monkeypatch.setenv("LALOPA_KIOSK_TOKEN", real_server.token)
    out = tmp_path / "t.png"
    assert main(["preview-ticket", "--config", str(cfg), "--out", str(out)]) == 0
    assert Image.open(out).height > 800


def test_run_without_token_is_refused(tmp_path, monkeypatch, capsys):
    """GIVEN no token anywhere WHEN `kiosk run` starts THEN it exits 2 with a clear message."""
    cfg = tmp_path / "k.toml"
    cfg.write_text('device_id = "kiosk-1"\n')
    monkeypatch.delenv("LALOPA_KIOSK_TOKEN", raising=False)
    assert main(["run", "--config", str(cfg)]) == 2
    assert "LALOPA_KIOSK_TOKEN" in capsys.readouterr().err


SCREENS = ("loading", "home", "info", "issuing", "confirm-printing", "confirm-printed",
           "confirm-failed", "error", "closed")


def test_screenshots_command_writes_every_screen(tmp_path):
    """GIVEN the screenshots command (the real server in-process, the real kiosk driven by taps)
    WHEN run THEN every screen exists as a PNG at 800x480 and 1920x1080, and both ticket
    previews exist at their paper widths."""
    import pygame
    assert main(["screenshots", "--out", str(tmp_path)]) == 0
    for screen in SCREENS:
        for w, h in ((800, 480), (1920, 1080)):
            path = tmp_path / f"{screen}-{w}x{h}.png"
            assert path.exists(), f"missing {path.name}; got {sorted(p.name for p in tmp_path.iterdir())}"
            assert pygame.image.load(str(path)).get_size() == (w, h)
    for paper, width in ((58, 384 + 24), (80, 576 + 24)):
        assert Image.open(tmp_path / f"ticket-{paper}mm.png").width == width
    expected = {f"{s}-{w}x{h}.png" for s in SCREENS for w, h in ((800, 480), (1920, 1080))}
    assert {p.name for p in tmp_path.glob("*.png")} == expected | {"ticket-58mm.png", "ticket-80mm.png"}
