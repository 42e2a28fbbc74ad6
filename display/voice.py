"""Voice clips for call announcements: a site's voice pack, else espeak-ng.

One clip per word (``words.PHRASES``), each a WAV file named ``<clip>.wav``.
A site may drop recorded clips into a voice-pack folder; every clip missing
there comes from the cache, which espeak-ng (``espeak-ng -v id``) fills on
first use. The chime is synthesised in code, so it works with no files at all.

An announcement is built as ONE pygame Sound by concatenating the raw samples
of its clips: ``Channel.queue`` holds only one Sound and
timers overlap or leave gaps when clip lengths change.

Example::

    lib = ClipLibrary(cache_dir="~/.cache/lalopa/voice", voice_pack=None)
    sound = lib.build(["chime", "nomor-antrean", "huruf-a", "lima"])
"""
from __future__ import annotations

import array
import logging
import math
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pygame

from .words import PHRASES

log = logging.getLogger(__name__)

CHIME = "chime"
# Clip names after which a longer pause sounds natural (end of a phrase).
PHRASE_ENDS = ("nomor-antrean", "silakan-menuju-loket")


class ClipLibrary:
    """Finds, synthesises and loads clips; builds announcement Sounds.

    ``gap_ms`` separates words, ``phrase_gap_ms`` phrases and repeats; tests
    shrink them (and the chime) so a burst of calls plays in seconds.
    """

    def __init__(self, cache_dir: str | Path, voice_pack: str | Path | None = None, *,
                 espeak: str = "espeak-ng", espeak_voice: str = "id", espeak_speed: int = 150,
                 chime_ms: int = 1200, gap_ms: int = 60, phrase_gap_ms: int = 300):
        self.cache_dir = Path(cache_dir).expanduser()
        self.voice_pack = Path(voice_pack).expanduser() if voice_pack else None
        self.espeak = shutil.which(espeak) if espeak else None
        self.espeak_voice, self.espeak_speed = espeak_voice, espeak_speed
        self.chime_ms, self.gap_ms, self.phrase_gap_ms = chime_ms, gap_ms, phrase_gap_ms
        self._sounds: dict[str, pygame.mixer.Sound | None] = {}
        self._warned_espeak = False

    # -- files ------------------------------------------------------------

    def path_for(self, name: str) -> Path | None:
        """The WAV for a clip: voice pack first, then the cache (synthesised if needed)."""
        if self.voice_pack is not None:
            pack = self.voice_pack / f"{name}.wav"
            if pack.is_file():
                return pack
        cached = self.cache_dir / f"{name}.wav"
        if cached.is_file() or self.synthesize(name):
            return cached
        return None

    def synthesize(self, name: str) -> bool:
        """Write the cache clip for ``name`` with espeak-ng; False if impossible."""
        text = PHRASES.get(name)
        if text is None:
            return False
        if not self.espeak:
            self._warn_no_espeak()
            return False
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        # Write to a temp name and rename: a power cut never leaves half a clip.
        fd, tmp = tempfile.mkstemp(suffix=".wav", dir=self.cache_dir)
        os.close(fd)
        cmd = [self.espeak, "-v", self.espeak_voice, "-s", str(self.espeak_speed), "-w", tmp, text]
        try:
            subprocess.run(cmd, check=True, timeout=20, capture_output=True)
            os.replace(tmp, self.cache_dir / f"{name}.wav")
            return True
        except (OSError, subprocess.SubprocessError) as exc:
            log.warning("espeak-ng could not say %r: %s", text, exc)
            Path(tmp).unlink(missing_ok=True)
            return False

    def prepare(self, names=None) -> int:
        """Synthesise every missing default clip (first run); returns how many exist."""
        return sum(1 for name in (names or PHRASES) if self.path_for(name) is not None)

    def _warn_no_espeak(self) -> None:
        if not self._warned_espeak:
            self._warned_espeak = True
            log.warning("espeak-ng is not installed: calls are shown and the chime plays, "
                        "but words without a voice-pack clip are silent "
                        "(install it with 'apt-get install espeak-ng')")

    # -- sounds (pygame thread) -------------------------------------------

    def sound(self, name: str) -> pygame.mixer.Sound | None:
        """The loaded, silence-trimmed clip, or None when it cannot be had."""
        if name not in self._sounds:
            self._sounds[name] = self._load(name)
        return self._sounds[name]

    def _load(self, name: str) -> pygame.mixer.Sound | None:
        if name == CHIME:
            pack = self.voice_pack / "chime.wav" if self.voice_pack else None
            if pack is not None and pack.is_file():
                return _trimmed(pygame.mixer.Sound(str(pack)))
            return make_chime(self.chime_ms)
        path = self.path_for(name)
        if path is None:
            return None
        try:
            return _trimmed(pygame.mixer.Sound(str(path)))
        except (pygame.error, OSError) as exc:
            log.warning("voice clip %s is unreadable (%s); it is skipped", path, exc)
            return None

    def build(self, clips: list[str]) -> tuple[pygame.mixer.Sound, list[str]]:
        """One Sound for the clip sequence; returns it and the clips that were missing.

        ``"|"`` in the list marks a pause between repeats. Pauses go only
        between clips that exist, so a missing word leaves no hole.
        """
        present: list[tuple[str, bytes]] = []
        missing: list[str] = []
        for name in clips:
            snd = None if name == "|" else self.sound(name)
            if name == "|":
                present.append(("|", b""))
            elif snd is None:
                missing.append(name)
            else:
                present.append((name, snd.get_raw()))
        parts: list[bytes] = []
        for i, (name, raw) in enumerate(present):
            parts.append(raw)
            nxt = present[i + 1][0] if i + 1 < len(present) else None
            if nxt is not None and name != "|":
                parts.append(silence(self._pause_ms(name, nxt)))
        return pygame.mixer.Sound(buffer=b"".join(parts) or silence(10)), missing

    def _pause_ms(self, name: str, nxt: str) -> int:
        long_pause = name == CHIME or name in PHRASE_ENDS or nxt in ("|", "silakan-menuju-loket")
        return self.phrase_gap_ms if long_pause else self.gap_ms


def _format() -> tuple[int, int, int]:
    freq, size, channels = pygame.mixer.get_init()
    return freq, abs(size) // 8, channels


def silence(ms: int) -> bytes:
    """Raw silence in the mixer's format."""
    freq, width, channels = _format()
    return bytes(int(freq * ms / 1000) * width * channels)


def make_chime(ms: int = 1200, volume: float = 0.5) -> pygame.mixer.Sound:
    """A two-tone 'ding-dong' (E5 then C5) with a soft decay, made in code."""
    freq, width, channels = _format()
    half = max(1, int(freq * ms / 2000))
    samples = array.array("h")
    for tone in (659.25, 523.25):
        for i in range(half):
            env = math.exp(-4.0 * i / half) * min(1.0, i / (freq * 0.005 + 1))
            value = int(32767 * volume * env * math.sin(2 * math.pi * tone * i / freq))
            samples.extend([value] * channels)
    return pygame.mixer.Sound(buffer=_convert(samples, width))


def _convert(samples: array.array, width: int) -> bytes:
    if width == 2:
        return samples.tobytes()
    if width == 1:  # unsigned 8 bit
        return bytes((s >> 8) + 128 for s in samples)
    if width == 4:  # 32-bit float mixers
        return array.array("f", (s / 32768 for s in samples)).tobytes()
    raise ValueError(f"unsupported mixer sample width {width}")


def _trimmed(snd: pygame.mixer.Sound, threshold: int = 400) -> pygame.mixer.Sound:
    """Cut leading and trailing silence (espeak pads every word) for 16-bit mixers."""
    freq, width, channels = _format()
    if width != 2:
        return snd
    data = array.array("h", snd.get_raw())
    if not data:
        return snd
    start = next((i for i, v in enumerate(data) if abs(v) > threshold), None)
    if start is None:
        return snd
    end = next(i for i in range(len(data) - 1, -1, -1) if abs(data[i]) > threshold)
    pad = int(freq * 0.015) * channels
    start = max(0, start - pad) // channels * channels
    end = min(len(data), end + 1 + pad)
    end -= (end - start) % channels
    return pygame.mixer.Sound(buffer=data[start:end].tobytes())
