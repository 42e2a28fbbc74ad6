"""Voice for call announcements: one natural phrase per call, or a site's recorded clips.

A call is spoken as ONE sentence synthesised whole by espeak-ng
(``espeak-ng -v id``): "Nomor antrean A dua puluh tiga, silakan menuju loket
lima." Speaking the sentence at once keeps espeak's own rhythm and intonation
(word clips glued together sound like "lima. belas.") and is shorter. Phrases
are kept loaded in a small least-recently-used cache (``PHRASE_CACHE``: the
recalls and repeats of the last minutes), and the next one is synthesised in
the background while the current one plays (:meth:`ClipLibrary.prefetch`).

A site may drop recorded clips (one per word, ``words.PHRASES``, each
``<clip>.wav``) into a voice-pack folder. When the pack holds every clip an
announcement needs, the recorded voice is used, clip after clip, as before;
when any clip is missing, the whole sentence comes from espeak-ng (one voice
per sentence, never a mix). The chime is synthesised in code, so it works with
no files at all.

An announcement is ONE pygame Sound (chime, then the speech, then its
repeats): ``Channel.queue`` holds only one Sound and timers overlap or leave
gaps when lengths change.

Public API for any device that speaks (the kiosk's "read the screen aloud"
button too)::

    wav = synthesize_phrase("Silakan ambil nomor antrean Anda.")   # WAV bytes
    channel = speak("Silakan ambil nomor antrean Anda.")             # plays now

``synthesize_phrase`` needs no pygame; ``speak`` needs ``pygame.mixer`` to be
initialised and returns the Channel playing (None when it cannot speak).

Example (the board)::

    lib = ClipLibrary(cache_dir="~/.cache/lalopa/voice", voice_pack=None)
    sound, missing = lib.announcement(["chime", "nomor-antrean", "huruf-a", "lima"],
                                      "Nomor antrean A lima, silakan menuju loket satu.")
"""
from __future__ import annotations

import array
import collections
import io
import logging
import math
import os
import shutil
import subprocess
import tempfile
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pygame

from .words import PHRASES

log = logging.getLogger(__name__)

CHIME = "chime"
# espeak-ng words per minute for whole phrases: 180 says "Nomor antrean A dua puluh
# tiga, silakan menuju loket lima." in about 3.5 s, still clearly (the default 175
# of espeak-ng is about as fast; the word clips use espeak_speed, 150).
ESPEAK_SPEED = 180
# Distinct phrases kept loaded (about 0.3 MB each at 22 kHz): a call, its recall and
# the next calls prefetched; older ones are synthesised again if ever needed.
PHRASE_CACHE = 24
MAX_PHRASE_CHARS = 400  # a screen's worth of text read aloud; longer is cut


class VoiceError(RuntimeError):
    """espeak-ng is missing or could not say the phrase."""


def synthesize_phrase(text: str, *, espeak: str = "espeak-ng", voice: str = "id",
                      speed: int = ESPEAK_SPEED, timeout: float = 20.0) -> bytes:
    """The WAV bytes of ``text`` spoken as one sentence by espeak-ng.

    The text goes in on stdin (a phrase starting with "-" is never read as an
    option). Raises :class:`VoiceError` when espeak-ng is missing or fails.
    """
    exe = shutil.which(espeak) if espeak else None
    if not exe:
        raise VoiceError(f"espeak-ng ({espeak!r}) is not installed")
    text = " ".join(str(text).split())[:MAX_PHRASE_CHARS]
    if not text:
        raise VoiceError("nothing to say")
    # -w writes a complete WAV header (on --stdout the sizes are left open).
    fd, tmp = tempfile.mkstemp(suffix=".wav")
    os.close(fd)
    try:
        subprocess.run([exe, "-v", voice, "-s", str(int(speed)), "-w", tmp, "--stdin"],
                       input=text.encode("utf-8"), check=True, timeout=timeout, capture_output=True)
        return Path(tmp).read_bytes()
    except (OSError, subprocess.SubprocessError) as exc:
        raise VoiceError(f"espeak-ng could not say {text[:60]!r}: {exc}") from exc
    finally:
        Path(tmp).unlink(missing_ok=True)


def speak(text: str, *, volume: float = 1.0, espeak: str = "espeak-ng", voice: str = "id",
          speed: int = ESPEAK_SPEED) -> "pygame.mixer.Channel | None":
    """Say ``text`` (Indonesian) now on a free mixer channel; None when it cannot.

    ``pygame.mixer`` must be initialised. Synthesis takes a fraction of a second;
    call it from the thread that owns pygame.
    """
    if not pygame.mixer.get_init():
        log.warning("no audio output: %r is not spoken", text[:60])
        return None
    try:
        sound = _trimmed(pygame.mixer.Sound(file=io.BytesIO(
            synthesize_phrase(text, espeak=espeak, voice=voice, speed=speed))))
    except (VoiceError, pygame.error) as exc:
        log.warning("%s", exc)
        return None
    sound.set_volume(volume)
    channel = pygame.mixer.find_channel()
    if channel is not None:
        channel.play(sound)
    return channel
# Clip names after which a longer pause sounds natural (end of a phrase).
PHRASE_ENDS = ("nomor-antrean", "silakan-menuju-loket")


class ClipLibrary:
    """Finds, synthesises and loads clips; builds announcement Sounds.

    ``gap_ms`` separates words, ``phrase_gap_ms`` phrases and repeats; tests
    shrink them (and the chime) so a burst of calls plays in seconds.
    """

    def __init__(self, cache_dir: str | Path, voice_pack: str | Path | None = None, *,
                 espeak: str = "espeak-ng", espeak_voice: str = "id", espeak_speed: int = 150,
                 chime_ms: int = 700, gap_ms: int = 60, phrase_gap_ms: int = 300,
                 espeak_speed_phrase: int = ESPEAK_SPEED):
        self.cache_dir = Path(cache_dir).expanduser()
        self.voice_pack = Path(voice_pack).expanduser() if voice_pack else None
        self.espeak = shutil.which(espeak) if espeak else None
        self.espeak_voice, self.espeak_speed = espeak_voice, espeak_speed
        self.chime_ms, self.gap_ms, self.phrase_gap_ms = chime_ms, gap_ms, phrase_gap_ms
        self._sounds: dict[str, pygame.mixer.Sound | None] = {}
        self._warned_espeak = False
        self.phrase_speed = espeak_speed_phrase
        # Phrase texts -> loaded Sounds, least recently used first (bounded: PHRASE_CACHE).
        self._phrases: collections.OrderedDict[str, pygame.mixer.Sound] = collections.OrderedDict()
        # Phrase texts -> WAV bytes being synthesised in the background (bounded too).
        self._pending: collections.OrderedDict[str, Future] = collections.OrderedDict()
        self._pending_lock = threading.Lock()
        self._worker: ThreadPoolExecutor | None = None

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

    # -- whole phrases -----------------------------------------------------

    def covers(self, clips: list[str]) -> bool:
        """True when the voice pack holds every spoken clip of ``clips`` (recorded voice wins)."""
        if self.voice_pack is None:
            return False
        return all((self.voice_pack / f"{name}.wav").is_file() for name in clips if name not in ("|", CHIME))

    def prefetch(self, text: str) -> None:
        """Start synthesising ``text`` in the background (no pygame there: bytes only)."""
        if not self.espeak or text in self._phrases:
            return
        with self._pending_lock:
            if text in self._pending:
                return
            if self._worker is None:
                self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="voice")
            self._pending[text] = self._worker.submit(
                synthesize_phrase, text, espeak=self.espeak, voice=self.espeak_voice, speed=self.phrase_speed)
            while len(self._pending) > PHRASE_CACHE:
                self._pending.popitem(last=False)

    def phrase(self, text: str) -> pygame.mixer.Sound | None:
        """The whole sentence spoken by espeak-ng, trimmed and cached; None when impossible."""
        snd = self._phrases.get(text)
        if snd is not None:
            self._phrases.move_to_end(text)
            return snd
        if not self.espeak:
            self._warn_no_espeak()
            return None
        self.prefetch(text)
        with self._pending_lock:
            future = self._pending.pop(text, None)
        try:
            wav = future.result() if future is not None else synthesize_phrase(
                text, espeak=self.espeak, voice=self.espeak_voice, speed=self.phrase_speed)
            snd = _trimmed(pygame.mixer.Sound(file=io.BytesIO(wav)))
        except (VoiceError, pygame.error) as exc:
            log.warning("%s", exc)
            return None
        self._phrases[text] = snd
        while len(self._phrases) > PHRASE_CACHE:
            self._phrases.popitem(last=False)
        return snd

    def announcement(self, clips: list[str], text: str) -> tuple[pygame.mixer.Sound, list[str]]:
        """One Sound for a call: the pack's recorded clips when it holds them all, else the
        chime (when ``clips`` starts with it) and ``text`` spoken whole, once per repeat
        (``"|"`` in ``clips`` separates repeats). Returns it and what was missing."""
        if self.covers(clips):
            return self.build(clips)
        parts: list[bytes] = []
        if clips and clips[0] == CHIME:
            chime = self.sound(CHIME)
            parts += [chime.get_raw(), silence(self.phrase_gap_ms)]
        speech = self.phrase(text)
        if speech is None:
            return pygame.mixer.Sound(buffer=b"".join(parts) or silence(10)), ["phrase"]
        for i in range(clips.count("|") + 1):
            parts += ([silence(self.phrase_gap_ms)] if i else []) + [speech.get_raw()]
        return pygame.mixer.Sound(buffer=b"".join(parts)), []

    def close(self) -> None:
        """Stop the background synthesis (pending phrases are dropped)."""
        if self._worker is not None:
            self._worker.shutdown(wait=False, cancel_futures=True)
            self._worker = None

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
