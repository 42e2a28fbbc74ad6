"""The box's config file, blink patterns and optional 7-segment display."""
from __future__ import annotations

from pathlib import Path

import pytest

from broker.protocol import CommandResult
from firmware import lamps
from firmware.config import ButtonConfigError, load_config, parse_config

from boxkit import PINS, run_until, tap

pytestmark = pytest.mark.timeout(20)
REPO = Path(__file__).resolve().parents[2]


def test_example_config_loads_with_documented_pins():
    """GIVEN the shipped example
    WHEN it is loaded
    THEN counter 1, box-01 and the documented BCM pins come out."""
    cfg = load_config(REPO / "firmware" / "example.toml")
    assert (cfg.device_id, cfg.counter) == ("box-01", 1)
    assert cfg.pins == {"next": 17, "recall": 27, "skip": 22, "pause": 23}
    assert (cfg.leds["green"], cfg.leds["yellow"], cfg.leds["red"], cfg.buzzer["pin"]) == (5, 6, 13, 19)
    assert cfg.bus == {"host": "127.0.0.1", "port": 1883, "site": "dinkes-claim", "username": None,
                       "password_file": None, "tls_ca": None}


@pytest.mark.parametrize("data, words", [
    ({"pins": {"nxet": 17}}, "kunci tidak dikenal / unknown key"),
    ({"pins": {"next": 5}}, "pin dipakai dua kali: 5 / pin used twice: 5"),
    ({"counter": 0}, "nomor loket 1..999"),
    ({"timing": {"cooldown_s": "1"}}, "harus float / must be float"),
    ({"display": {"enabled": True, "segments": [1, 2, 3]}}, "harus 7 pin"),
    ({"device_id": "box 01"}, "device_id"),
])
def test_bad_config_says_what_to_fix_in_both_languages(data, words):
    """GIVEN a config with one mistake
    WHEN it is parsed
    THEN a ButtonConfigError names the key, in Indonesian then English."""
    with pytest.raises(ButtonConfigError) as err:
        parse_config(data, "box.toml")
    assert words in str(err.value)
    assert str(err.value).startswith("box.toml: ")


def test_unreadable_and_invalid_files_are_reported(tmp_path):
    """GIVEN a missing file and a broken TOML file
    WHEN they are loaded
    THEN each gives one plain error line."""
    with pytest.raises(ButtonConfigError, match="tidak bisa dibaca / cannot be read"):
        load_config(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("counter = = 1\n")
    with pytest.raises(ButtonConfigError, match="bukan TOML yang valid / not valid TOML"):
        load_config(bad)


def test_overlay_wins_then_falls_back_to_base():
    """GIVEN a lamp steadily on
    WHEN a two-blink signal plays
    THEN the lamp follows the signal, then returns to on, and says when it next changes."""
    lamp = lamps.Lamp()
    lamp.set_base(lamps.ON, 0.0)
    lamp.signal(lamps.REFUSED, 10.0)
    assert lamp.next_change(10.0) == pytest.approx(0.4)
    assert lamp.next_change(11.2) == pytest.approx(0.2)  # the signal's end
    assert [lamp.level(10.0 + t) for t in (0.0, 0.5, 0.8, 1.2, 1.5)] == [True, False, True, False, True]
    assert lamp.overlay is None  # time only moves forward: the finished signal is dropped


def test_display_shows_number_then_waiting_count(make_box, server, mock_factory, clock):
    """GIVEN a box with a 4-digit 7-segment display (gpiozero LEDMultiCharDisplay)
    WHEN its counter serves A-023 with 14 waiting
    THEN the display shows A023, then '- 14' after alternate_s, and '----' offline."""
    display = {"enabled": True, "segments": [24, 25, 8, 7, 12, 16, 20], "digits": [4, 18, 26, 21],
               "alternate_s": 3.0}
    clock.now = 3000.0  # the start of an alternation phase
    server.state(ticket="A-023", waiting=14)
    box = make_box(display=display)
    assert run_until(box, lambda: box.state is not None)
    assert box.panel.display.value == ("A", "0", "2", "3")
    clock.advance(3.0)
    box.step(0)
    assert box.panel.display.value == ("-", " ", "1", "4")
    box.bus.stop()
    box.step(0)
    assert box.panel.display.value == ("-", "-", "-", "-")


def test_skip_sends_no_show_and_ignores_presses_while_waiting(make_box, server, mock_factory, clock):
    """GIVEN a box with a command still waiting for its acknowledgement
    WHEN SKIP was pressed and then, after the cooldown but before the ack, RECALL
    THEN only the 'no_show' goes out; after the ack RECALL works again."""
    server.state(ticket="A-005")
    box = make_box()
    assert run_until(box, lambda: box.state is not None)
    tap(mock_factory, PINS["skip"])
    assert run_until(box, lambda: server.commands, others=[server.bus])
    clock.advance(1.5)
    tap(mock_factory, PINS["recall"])
    run_until(box, lambda: False, 0.4, others=[server.bus])
    assert [c.action for c in server.commands] == ["no_show"]
    server.state(last=CommandResult(id=server.commands[0].id, ok=True))
    assert run_until(box, lambda: box.pending is None, others=[server.bus])
    tap(mock_factory, PINS["recall"])
    assert run_until(box, lambda: len(server.commands) == 2, others=[server.bus])
    assert server.commands[1].action == "recall"


def test_keyboard_keys_drive_the_mock_pins(make_box, server, mock_factory, clock):
    """GIVEN a box on mock pins with hold_s = 0.2 s and the keyboard stand-in
    WHEN 'N' (hold NEXT) is typed, then, after the cooldown, 'r'
    THEN a 'finish' and then a 'recall' command go out through gpiozero's real callbacks."""
    from firmware.keys import KeyDriver

    box = make_box(timing={"hold_s": 0.2})
    keys = KeyDriver(box)
    assert keys.key("N") is True
    assert run_until(box, lambda: server.commands, others=[server.bus])
    server.state(last=CommandResult(id=server.commands[0].id, ok=True))
    assert run_until(box, lambda: box.pending is None, others=[server.bus])
    clock.advance(1.5)
    keys.key("r")
    assert run_until(box, lambda: len(server.commands) == 2, others=[server.bus])
    assert [c.action for c in server.commands] == ["finish", "recall"]
    assert keys.key("q") is False
    box.step(0)
    assert box._stopping
