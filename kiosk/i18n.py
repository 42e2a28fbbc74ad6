"""Every string a resident sees, Indonesian first and English second.

Screens look strings up by key and language (priority words live with the other
shared vocabulary in :mod:`broker.vocab`); ``both(key)`` gives the
"Indonesia / English" pair used on error screens, where a person who does not
read the current language must still understand what happened.
"""
from __future__ import annotations

from broker.texts import wait_minutes

LANGS = ("id", "en")

STRINGS: dict[str, tuple[str, str]] = {
    "title": ("Ambil nomor antrean", "Take a queue number"),
    "choose_service": ("Silakan pilih layanan", "Please choose a service"),
    "waiting": ("{n} menunggu", "{n} waiting"),
    "est_wait": ("perkiraan {m} menit", "about {m} min"),
    "est_range": ("perkiraan {a}\u2013{b} menit", "about {a}\u2013{b} min"),
    "est_none": ("tanpa antrean", "no queue"),
    "no_counter": ("belum ada loket yang melayani", "no counter is serving this yet"),
    "no_counter_long": ("Belum ada loket yang melayani layanan ini. Nomor tetap dapat diambil; perkiraan waktu"
                        " tunggu belum dapat dihitung.",
                        "No counter is serving this yet. You can still take a number; the wait cannot be"
                        " estimated yet."),
    "cutoff_warn": ("Perkiraan Anda dipanggil setelah jam tutup layanan: mungkin tidak terlayani hari ini.",
                    "You would probably be called after the service closes: you may not be served today."),
    "cutoff_stop": ("Nomor untuk layanan ini tidak dapat diambil lagi hari ini: perkiraan dipanggil melewati"
                    " jam tutup. Silakan datang kembali pada hari kerja berikutnya.",
                    "No more numbers for this service today: the call would come after closing time."
                    " Please come back on the next working day."),
    "priority_applies": ("Prioritas berlaku: Anda dipanggil lebih dulu ({label})",
                         "Priority applies: you will be called sooner ({label})"),
    "speak": ("Dengarkan", "Listen"),
    "priority": ("Prioritas:", "Priority:"),
    "lang_toggle": ("English", "Bahasa Indonesia"),
    "requirements": ("Persyaratan", "Requirements"),
    "flow": ("Alur pelayanan", "Service flow"),
    "take": ("Ambil nomor", "Take number"),
    "back": ("Kembali", "Back"),
    "issuing": ("Sedang mengambil nomor... mohon tunggu", "Getting your number... please wait"),
    "your_number": ("Nomor antrean Anda", "Your queue number"),
    "people_ahead": ("{n} orang di depan Anda", "{n} people ahead of you"),
    "printing": ("Mencetak tiket...", "Printing ticket..."),
    "printed": ("Silakan ambil tiket Anda", "Please take your ticket"),
    "no_printer": ("Tiket tidak dicetak di sini: catat atau foto nomor Anda di layar ini.",
                   "No ticket is printed here: note or photograph your number on this screen."),
    "print_failed": ("Tiket tidak dapat dicetak. Nomor Anda tetap berlaku: catat atau foto layar ini.",
                     "The ticket could not be printed. Your number is still valid: note it or photograph this screen."),
    "print_unknown": ("Printer tidak menjawab. Jika tiket tidak keluar, nomor Anda tetap berlaku: catat atau foto layar ini.",
                      "The printer did not answer. If no ticket came out, your number is still valid: note it or photograph this screen."),
    "paper_out": ("Kertas printer habis. Nomor Anda tetap berlaku: catat atau foto layar ini.",
                  "The printer is out of paper. Your number is still valid: note it or photograph this screen."),
    "reprint": ("Cetak ulang", "Reprint"),
    "done": ("Selesai", "Done"),
    "server_down": ("Server antrean tidak dapat dihubungi. Anda BELUM mendapat nomor. Silakan coba lagi atau hubungi petugas.",
                    "The queue server cannot be reached. You have NOT received a number. Please try again or ask the staff."),
    "server_error": ("Terjadi kesalahan. Nomor belum diambil. Silakan hubungi petugas.",
                     "Something went wrong. No number was issued. Please ask the staff."),
    "retry": ("Coba lagi", "Try again"),
    "closed": ("Layanan sedang tutup", "The service is closed"),
    "closed_hours": ("Jam layanan: {hours}", "Opening hours: {hours}"),
    "cap_reached": ("Kuota nomor antrean hari ini untuk layanan ini sudah habis.",
                    "Today's queue numbers for this service have run out."),
    "loading": ("Menghubungkan ke server antrean...", "Connecting to the queue server..."),
    "contact": ("Kontak WhatsApp: {wa}", "WhatsApp contact: {wa}"),
    # ticket (printed; ASCII-normalised later)
    "t_number": ("NOMOR ANTREAN", "QUEUE NUMBER"),
    "t_ahead": ("Di depan Anda: {n} orang", "Ahead of you: {n} people"),
    "t_wait": ("Perkiraan tunggu: {a}-{b} menit", "Estimated wait: {a}-{b} min"),
    "t_no_counter": ("Belum ada loket yang melayani", "No counter is serving this yet"),
    "t_bring": ("Bawa persyaratan berikut:", "Please bring:"),
    "t_scan": ("Pindai untuk cek status antrean", "Scan to check your queue status"),
    "t_contact": ("Kontak WhatsApp:", "WhatsApp contact:"),
    "t_footer": ("Terima kasih. Mohon tunggu nomor Anda dipanggil.",
                 "Thank you. Please wait for your number to be called."),
}


def t(key: str, lang: str = "id", **kw) -> str:
    """The string ``key`` in ``lang`` ("id" or "en"), formatted with ``kw``."""
    pair = STRINGS[key]
    text = pair[1] if lang == "en" else pair[0]
    return text.format(**kw) if kw else text


def both(key: str, **kw) -> tuple[str, str]:
    """Indonesian and English, for messages everyone must understand."""
    return t(key, "id", **kw), t(key, "en", **kw)


#: The printed range in whole minutes (one rounding for kiosk, ticket and status page).
wait_range = wait_minutes


def minutes(est_wait_s: int | None) -> int | None:
    """Seconds to whole minutes, rounded up (a 30 s wait is "1 minute")."""
    if est_wait_s is None:
        return None
    return max(0, (int(est_wait_s) + 59) // 60)
