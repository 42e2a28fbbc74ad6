"""Calls spoken as one natural phrase by espeak-ng, short enough to be heard in time.

Real espeak-ng, real pygame mixer (SDL dummy audio): the Sounds are the ones the
board plays; their lengths are what a resident hears.
"""
import io
import wave

import pygame
import pytest

from display.announcer import Announcer, call_phrase
from display.voice import PHRASE_CACHE, ClipLibrary, speak, synthesize_phrase
from display_testkit import call

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def mixer():
    pygame.mixer.pre_init(22050, -16, 1, 1024)
    pygame.init()
    yield
    pygame.quit()


def test_a_call_is_one_sentence_synthesised_once_and_cached(mixer, tmp_path):
    # GIVEN a board without a voice pack
    lib = ClipLibrary(tmp_path / "cache", None, chime_ms=700)
    ann = Announcer(lib)
    text = call_phrase("A-023", 5)
    # WHEN the same call's announcement is built twice
    snd, missing = lib.announcement(ann.clips_for("A-023", 5), text)
    again, _ = lib.announcement(ann.clips_for("A-023", 5), text)
    # THEN it is the chime and the sentence spoken whole (one synthesis, kept loaded):
    # at most 4 s of speech, 5 s with the chime; no word clip was written to the cache
    assert missing == []
    assert lib.phrase(text) is lib.phrase(text)
    assert snd.get_raw() == again.get_raw()
    assert 1.5 < lib.phrase(text).get_length() <= 4.0, lib.phrase(text).get_length()
    assert snd.get_length() <= 5.0, snd.get_length()
    assert not (tmp_path / "cache").exists() or not list((tmp_path / "cache").glob("*.wav"))


def test_phrase_cache_is_bounded(mixer, tmp_path):
    # GIVEN a library WHEN more distinct phrases than the bound are spoken
    lib = ClipLibrary(tmp_path / "cache", None)
    for n in range(PHRASE_CACHE + 6):
        assert lib.phrase(f"loket {n}") is not None
    # THEN only the most recent PHRASE_CACHE stay loaded, the newest among them
    assert len(lib._phrases) == PHRASE_CACHE
    assert f"loket {PHRASE_CACHE + 5}" in lib._phrases and "loket 0" not in lib._phrases
    lib.close()


def test_burst_of_sixteen_calls_is_all_heard_within_forty_seconds(mixer, tmp_path):
    # GIVEN sixteen counters calling at once at opening
    lib = ClipLibrary(tmp_path / "cache", None)
    ann = Announcer(lib)
    for n in range(1, 17):
        ann.pending.append(_announcement(ann, n))
    # WHEN the board plays them one after another, each shaped as it starts
    lengths = []
    while ann.pending:
        a = ann.pending.popleft()
        ann._shape(a)
        snd, missing = lib.announcement(a.clips, a.text)
        assert missing == []
        lengths.append(snd.get_length())
    # THEN each call waiting behind others is under 4 s (short form, no chime), the last
    # (alone by then) is the full form with its chime, and it ends within 40 s of the presses
    assert max(lengths[:-1]) <= 4.0, lengths
    assert lengths[-1] <= 5.0, lengths
    assert sum(lengths) <= 40.0, f"{sum(lengths):.1f} s of speech for 16 calls"
    lib.close()


def _announcement(ann, n):
    from display.announcer import Announcement
    c = call(100 + n, f"{'ABCD'[n % 4]}-{n + 20:03d}", n)
    return Announcement(seq=c.seq, ticket=c.ticket, counter=c.counter, kind=c.kind,
                        clips=ann.clips_for(c.ticket, c.counter), queued_at=0.0)


def test_any_phrase_can_be_synthesised_and_spoken(mixer):
    # GIVEN the public API WHEN an arbitrary phrase (even one starting with "-") is said
    wav = synthesize_phrase("-- Silakan ambil nomor antrean Anda.")
    # THEN it is a WAV of speech, and speak() plays it on a mixer channel
    with wave.open(io.BytesIO(wav)) as w:
        assert w.getnframes() / w.getframerate() > 1.0
    channel = speak("Terima kasih.")
    assert channel is not None and channel.get_busy()
    channel.stop()
