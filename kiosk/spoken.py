"""The kiosk reads its screen aloud: the "Dengarkan" button.

Residents who cannot read the screen are the ones the priority rules protect,
so the kiosk can say, in Indonesian, what the screen says: the services and
their waits on the home screen, the chosen service with what to bring and what
the estimate means on the info screen, and the number received on the confirm
screen. The voice is the board's (``display.voice.synthesize_phrase``, espeak-ng,
offline): the kiosk only decides the words.

Synthesis runs on a worker thread (the kiosk's own thread never waits on I/O);
the sound is played from the pygame thread in :meth:`Speaker.poll`.
"""
from __future__ import annotations

import io
import logging
import queue
import threading

import pygame

from broker.vocab import priority_label
from display import words
from display.voice import VoiceError, synthesize_phrase

from . import i18n

log = logging.getLogger(__name__)


def number_text(number: str) -> str:
    """A ticket number as spoken on the board: 'A-023' -> 'A dua puluh tiga'."""
    return " ".join(words.PHRASES[c] for c in words.ticket_clips(number))


def minutes_text(span: tuple[int, int] | None) -> str:
    if span is None:
        return i18n.t("no_counter")
    a, b = span
    return f"perkiraan {words.terbilang(a) if a else 'nol'} sampai {words.terbilang(b)} menit"


def service_text(app, prefix: str, priority: str | None = None) -> str:
    """One service's line as spoken: its name, how many wait and the estimate."""
    svc = app.site.service(prefix)
    s = app.counts.get(prefix, {})
    waiting = int(s.get("waiting") or 0)
    head = f"Layanan {svc.prefix}, {svc.name('id')}"
    if app.cap_reached(prefix):
        return f"{head}: {i18n.t('cap_reached')}"
    span = app.told(prefix, priority)
    ahead = f"{words.terbilang(waiting)} orang menunggu" if waiting else "tanpa antrean"
    return f"{head}: {ahead}, {minutes_text(span)}."


def screen_text(app) -> str:
    """What the current screen says, as Indonesian sentences."""
    scr = app.screen
    if scr == "home" and app.site:
        parts = ["Silakan pilih layanan."]
        parts += [service_text(app, s.prefix) for s in app.site.services]
        parts.append("Lansia, penyandang disabilitas dan ibu hamil dapat memilih prioritas.")
        return " ".join(parts)
    if scr == "info" and app.site:
        svc = app.current_service()
        parts = [service_text(app, svc.prefix, app.priority)]
        if app.priority:
            parts.append(i18n.t("priority_applies", label=priority_label(app.priority)) + ".")
        if app.cutoff(svc.prefix) == "warn":
            parts.append(i18n.t("cutoff_warn"))
        reqs = svc.requirements("id")
        if reqs:
            parts.append("Bawa persyaratan berikut: " + "; ".join(reqs) + ".")
        parts.append("Tekan tombol Ambil nomor untuk mengambil nomor antrean.")
        return " ".join(parts)
    if scr == "confirm" and app.ticket:
        tk = app.ticket["ticket"]
        span = i18n.wait_range(tk.get("est_low_s"), tk.get("est_high_s"))
        parts = [f"Nomor antrean Anda: {number_text(tk['number'])}.",
                 f"Sekali lagi, {number_text(tk['number'])}.",
                 f"{words.terbilang(tk.get('people_ahead') or 0) if tk.get('people_ahead') else 'Tidak ada'}"
                 f" orang di depan Anda, {minutes_text(span)}."]
        if tk.get("priority"):
            parts.append(i18n.t("priority_applies", label=priority_label(tk["priority"])) + ".")
        parts.append("Silakan tunggu nomor Anda dipanggil.")
        return " ".join(parts)
    if scr == "closed":
        if app.closed_reason == "cap":
            return i18n.t("cap_reached")
        if app.closed_reason == "cutoff":
            return i18n.t("cutoff_stop")
        return i18n.t("closed") + ". " + i18n.t("closed_hours", hours=app.hours_text("id"))
    if scr == "error" and app.error_text:
        return app.error_text[0]
    return ""


class Speaker:
    """Synthesises on a worker thread; plays on the pygame thread (``poll``)."""

    def __init__(self, wake=None, espeak: str = "espeak-ng"):
        self.wake, self.espeak = wake, espeak
        self.jobs: queue.Queue = queue.Queue()
        self.ready: queue.Queue = queue.Queue()
        self.spoken: list[str] = []      # texts played, newest last (the kiosk's log of speech)
        self.channel = None
        self._thread = threading.Thread(target=self._run, name="kiosk-voice", daemon=True)
        self._thread.start()

    def say(self, text: str) -> None:
        """Speak ``text`` soon (a newer request replaces one not yet synthesised)."""
        if not text:
            return
        while not self.jobs.empty():
            try:
                self.jobs.get_nowait()
            except queue.Empty:
                break
        self.jobs.put(text)

    def _run(self) -> None:
        while True:
            text = self.jobs.get()
            if text is None:
                return
            try:
                self.ready.put((text, synthesize_phrase(text, espeak=self.espeak)))
            except VoiceError as exc:
                log.error("cannot speak: %s", exc)
            if self.wake:
                self.wake()

    def poll(self) -> None:
        """Play what is ready (the pygame thread): the newest replaces what is playing."""
        while not self.ready.empty():
            text, wav = self.ready.get()
            if not pygame.mixer.get_init():
                log.error("no audio output: %r is not spoken", text[:60])
                continue
            if self.channel is not None:
                self.channel.stop()
            sound = pygame.mixer.Sound(file=io.BytesIO(wav))
            self.channel = sound.play()
            self.spoken.append(text)

    def busy(self) -> bool:
        return self.channel is not None and bool(pygame.mixer.get_init()) and self.channel.get_busy()

    def stop(self) -> None:
        self.jobs.put(None)
        if self.channel is not None and pygame.mixer.get_init():
            self.channel.stop()
