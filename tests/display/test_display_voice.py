"""Voice clips: espeak-ng cache, site voice pack, chime, one concatenated Sound."""
import logging
import shutil

import pygame
import pytest

from display_testkit import write_tone
from display.announcer import Announcer
from display.voice import ClipLibrary, make_chime, silence

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def mixer():
    pygame.mixer.pre_init(22050, -16, 1, 1024)
    pygame.init()
    assert pygame.mixer.get_init() == (22050, -16, 1)
    yield
    pygame.quit()


def test_chime_is_made_in_code(mixer):
    """GIVEN no files at all WHEN the chime is made THEN it lasts as configured and is not silent."""
    chime = make_chime(400)
    assert chime.get_length() == pytest.approx(0.4, abs=0.01)
    assert max(chime.get_raw()) > 0


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")
def test_espeak_fills_the_cache_once(mixer, tmp_path):
    """GIVEN an empty cache and espeak-ng WHEN a word clip is needed
    THEN espeak-ng writes <clip>.wav into the cache, it loads as speech, and it is reused."""
    lib = ClipLibrary(tmp_path / "cache")
    snd = lib.sound("lima")
    assert (tmp_path / "cache" / "lima.wav").is_file()
    assert 0.1 < snd.get_length() < 2.0
    mtime = (tmp_path / "cache" / "lima.wav").stat().st_mtime_ns
    assert ClipLibrary(tmp_path / "cache").path_for("lima").stat().st_mtime_ns == mtime


def test_voice_pack_clip_wins_and_missing_fall_back(mixer, tmp_path):
    """GIVEN a voice pack with only 'lima' and a cache holding 'dua'
    WHEN clips are looked up THEN the pack's 'lima' is used and 'dua' comes from the cache."""
    pack, cache = tmp_path / "pack", tmp_path / "cache"
    pack.mkdir()
    cache.mkdir()
    write_tone(pack / "lima.wav", ms=100)
    write_tone(cache / "dua.wav", ms=50)
    lib = ClipLibrary(cache, pack, espeak=None)
    assert lib.path_for("lima") == pack / "lima.wav"
    assert lib.path_for("dua") == cache / "dua.wav"


def test_without_espeak_the_chime_still_plays_and_one_warning(mixer, tmp_path, caplog):
    """GIVEN no espeak-ng and no clips WHEN two announcements are built
    THEN each Sound holds the chime, the words are reported missing, and one clear warning is logged."""
    lib = ClipLibrary(tmp_path / "cache", espeak="no-such-espeak-binary", chime_ms=200)
    with caplog.at_level(logging.WARNING, logger="display.voice"):
        snd, missing = lib.build(["chime", "nomor-antrean", "huruf-a", "lima"])
        snd2, _ = lib.build(["chime", "dua"])
    assert snd.get_length() == pytest.approx(0.2, abs=0.02)
    assert missing == ["nomor-antrean", "huruf-a", "lima"]
    warnings = [r for r in caplog.records if "espeak-ng is not installed" in r.getMessage()]
    assert len(warnings) == 1


def test_announcement_is_one_sound_of_its_clips_and_pauses(mixer, tmp_path):
    """GIVEN a pack of known clip lengths WHEN an announcement is built
    THEN it is one Sound whose raw bytes are the clips and pauses back to back."""
    pack = tmp_path / "pack"
    pack.mkdir()
    for name, ms in (("nomor-antrean", 100), ("huruf-a", 50), ("lima", 60), ("silakan-menuju-loket", 120)):
        write_tone(pack / f"{name}.wav", ms=ms)
    lib = ClipLibrary(tmp_path / "cache", pack, espeak=None, chime_ms=100, gap_ms=20, phrase_gap_ms=50)
    clips = ["chime", "nomor-antrean", "huruf-a", "lima", "silakan-menuju-loket", "lima"]
    snd, missing = lib.build(clips)
    assert missing == []
    parts = [lib.sound(c).get_raw() for c in clips]
    pauses = [silence(ms) for ms in (50, 50, 20, 50, 50)]
    expected = b"".join(p + q for p, q in zip(parts, pauses + [b""]))
    assert snd.get_raw() == expected


def test_silent_board_logs_calls_without_sound(mixer):
    """GIVEN an announcer without a voice (voice disabled)
    WHEN calls are queued THEN each is logged in order at once and nothing waits on audio."""
    from display_testkit import call
    ann = Announcer(None)
    ann.enqueue(call(1, "A-001", 1))
    ann.enqueue(call(2, "A-002", 2))
    assert [a.ticket for a in ann.log] == ["A-001", "A-002"]
    assert ann.idle
