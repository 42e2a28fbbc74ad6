"""Every text of the web pages, Indonesian first, English second, in one place.

Pages call ``t("key")``; the language comes from the session (``id`` by
default, toggled by /lang/en and /lang/id). JavaScript receives the strings it
needs as JSON in the page (``js_strings``).
"""
from __future__ import annotations

from flask import session

from broker.protocol import PRINTER_STATES
from broker.vocab import BUS_ROLES
from server.actions import HANDLERS

LANGS = ("id", "en")

# What each kiosk printer state, device role and counter action is called on the pages.
# The state, role and action words themselves are defined by the bus contract and the
# server; a word added there without a label here stops the server at start (below).
PRINTER_STATE_LABELS: dict[str, tuple[str, str]] = {
    "ok": ("Siap", "Ready"),
    "paper_low": ("Kertas hampir habis", "Paper low"),
    "paper_out": ("Kertas habis", "Out of paper"),
    "offline": ("Printer mati / lepas", "Printer off / unplugged"),
    "unknown": ("Tidak diketahui", "Unknown"),
}
ROLE_LABELS: dict[str, tuple[str, str]] = {
    "server": ("Server", "Server"),
    "kiosk": ("Kiosk", "Kiosk"),
    "display": ("Papan antrean", "Display board"),
    "button": ("Tombol loket", "Counter buttons"),
    "panel": ("Panel loket", "Counter panel"),
}
# The verifier panel's message after an action succeeded ({number}: the ticket, if any).
ACTION_DONE: dict[str, tuple[str, str]] = {
    "next": ("Nomor {number} dipanggil", "Number {number} called"),
    "recall": ("Nomor {number} dipanggil ulang", "Number {number} called again"),
    "start": ("Mulai melayani {number}", "Serving {number}"),
    "finish": ("Nomor {number} selesai dilayani", "Number {number} finished"),
    "no_show": ("Nomor {number} dicatat tidak hadir", "Number {number} marked no-show"),
    "transfer": ("Nomor {number} dialihkan", "Number {number} transferred"),
    "pause": ("Loket istirahat", "Counter paused"),
    "resume": ("Loket dilanjutkan", "Counter resumed"),
    "call_specific": ("Nomor {number} dipanggil", "Number {number} called"),
    "open": ("Loket dibuka", "Counter opened"),
    "close": ("Loket ditutup", "Counter closed"),
    "cancel": ("Nomor {number} dibatalkan", "Number {number} cancelled"),
}
for _words, _labels, _what in ((PRINTER_STATES, PRINTER_STATE_LABELS, "printer state"),
                               (BUS_ROLES, ROLE_LABELS, "role"), (HANDLERS, ACTION_DONE, "action")):
    if set(_words) != set(_labels):
        raise RuntimeError(f"server/web/i18n.py: labels for every {_what}: "
                           f"{sorted(set(_words) ^ set(_labels))}")

STRINGS: dict[str, tuple[str, str]] = {
    "app": ("LALOPA — Pelayanan Loket Cepat", "LALOPA — Fast Counter Service"),
    "login": ("Masuk", "Log in"),
    "logout": ("Keluar", "Log out"),
    "username": ("Nama pengguna", "Username"),
    "password": ("Kata sandi", "Password"),
    "counter": ("Loket", "Counter"),
    "choose_counter": ("Pilih loket", "Choose a counter"),
    "live": ("Pantauan langsung", "Live view"),
    "reports": ("Laporan", "Reports"),
    "admin": ("Administrasi", "Administration"),
    "panel": ("Panel loket", "Counter panel"),
    "language": ("English", "Bahasa Indonesia"),
    "counters": ("Loket", "Counters"),
    "queue": ("Antrean", "Queue"),
    "today": ("Hari ini", "Today"),
    "alerts": ("Peringatan", "Alerts"),
    "devices": ("Perangkat", "Devices"),
    "service": ("Layanan", "Service"),
    "waiting": ("Menunggu", "Waiting"),
    "longest_wait": ("Tunggu terlama", "Longest wait"),
    "est_wait": ("Perkiraan tunggu", "Estimated wait"),
    "issued": ("Diambil", "Issued"),
    "served": ("Dilayani", "Served"),
    "no_show": ("Tidak hadir", "No-show"),
    "mean_wait": ("Rata-rata tunggu", "Mean wait"),
    "p90_wait": ("Tunggu p90", "p90 wait"),
    "mean_service": ("Rata-rata layanan", "Mean service time"),
    "p90_service": ("Layanan p90", "p90 service time"),
    "within_target": ("Dalam target tunggu", "Within target wait"),
    "status": ("Status", "Status"),
    "serving": ("Melayani", "Serving"),
    "called": ("Dipanggil", "Called"),
    "idle": ("Menganggur", "Idle"),
    "paused": ("Istirahat", "Paused"),
    "closed": ("Tutup", "Closed"),
    "open": ("Buka", "Open"),
    "since": ("sejak", "since"),
    "online": ("Daring", "Online"),
    "offline": ("Luring", "Offline"),
    "last_seen": ("Terakhir terlihat", "Last seen"),
    "printer": ("Printer", "Printer"),
    "role": ("Peran", "Role"),
    "device": ("Perangkat", "Device"),
    "no_bridge": ("Jembatan bus (MQTT) tidak berjalan: status perangkat tidak tersedia.",
                  "Bus bridge not running: device health is unavailable."),
    "no_alerts": ("Tidak ada peringatan.", "No alerts."),
    "alert_wait": ("Layanan {service}: nomor antrean menunggu {minutes} menit (target {target}).",
                   "Service {service}: a ticket has waited {minutes} min (target {target})."),
    "alert_idle": ("{counter} menganggur padahal ada {n} orang menunggu.",
                   "{counter} is idle while {n} people wait."),
    "alert_offline": ("Perangkat {device} ({role}) luring.", "Device {device} ({role}) is offline."),
    "alert_paper": ("Printer kiosk {device} kehabisan kertas.", "Kiosk {device} printer is out of paper."),
    "alert_printer": ("Printer kiosk {device} bermasalah: {status}.",
                      "Kiosk {device} printer problem: {status}."),
    "alert_rate_limited": ("Kiosk {device} dibatasi: terlalu banyak permintaan ({n} ditolak, terakhir"
                           " pukul {time}).",
                           "Kiosk {device} rate-limited: too many requests ({n} refused, last at {time})."),
    "kiosk_limit": ("Batas permintaan kiosk", "Kiosk request limit"),
    "kiosk": ("Kiosk", "Kiosk"),
    "allowed": ("Diizinkan", "Allowed"),
    "refused": ("Ditolak", "Refused"),
    "last_refused": ("Terakhir ditolak", "Last refused"),
    "limit_rule": ("Batas: {per_minute} nomor antrean per menit per kiosk, paling banyak {burst}"
                   " sekaligus. Hitungan mulai dari nol saat server dinyalakan ulang.",
                   "Limit: {per_minute} tickets per minute per kiosk, at most {burst} at once."
                   " Counts start from zero when the server restarts."),
    "limit_off": ("Batas permintaan kiosk dimatikan.", "The kiosk request limit is off."),
    "no_kiosk_requests": ("Belum ada permintaan dari kiosk sejak server dinyalakan.",
                          "No kiosk requests since the server started."),
    "connected": ("Tersambung", "Connected"),
    "reconnecting": ("Menyambung ulang…", "Reconnecting…"),
    "updated": ("Diperbarui", "Updated"),
    # panel
    "current_ticket": ("Nomor antrean sekarang", "Current ticket"),
    "none": ("Belum ada", "None"),
    "elapsed": ("Lama", "Elapsed"),
    "next": ("Panggil berikutnya", "Call next"),
    "recall": ("Panggil ulang", "Recall"),
    "start": ("Mulai layani", "Start"),
    "finish": ("Selesai", "Finish"),
    "noshow_btn": ("Tidak hadir", "No-show"),
    "transfer": ("Alihkan", "Transfer"),
    "pause": ("Istirahat", "Pause"),
    "resume": ("Lanjutkan", "Resume"),
    "call_specific": ("Panggil nomor", "Call number"),
    "open_counter": ("Buka loket", "Open counter"),
    "close_counter": ("Tutup loket", "Close counter"),
    "reason": ("Alasan", "Reason"),
    "ticket_number": ("Nomor antrean (mis. A-012)", "Ticket number (e.g. A-012)"),
    "to_service": ("Ke layanan", "To service"),
    "shortcuts": ("Pintasan: N berikutnya, R ulang, S mulai, F selesai, X tidak hadir, P istirahat",
                  "Shortcuts: N next, R recall, S start, F finish, X no-show, P pause"),
    "done_ok": ("Berhasil", "Done"),
    "waiting_list": ("Daftar tunggu", "Waiting list"),
    # reports
    "from": ("Dari", "From"),
    "to": ("Sampai", "To"),
    "show": ("Tampilkan", "Show"),
    "export_csv": ("Unduh CSV", "Download CSV"),
    "export_xlsx": ("Unduh XLSX", "Download XLSX"),
    "totals": ("Ringkasan", "Totals"),
    "per_service": ("Per layanan", "Per service"),
    "per_counter": ("Per loket", "Per counter"),
    "per_verifier": ("Per verifikator", "Per verifier"),
    "per_hour": ("Per jam", "Per hour"),
    "hour": ("Jam", "Hour"),
    "arrivals": ("Kedatangan", "Arrivals"),
    "completions": ("Selesai dilayani", "Completions"),
    "wait_hist": ("Sebaran waktu tunggu (menit)", "Wait-time distribution (minutes)"),
    "service_per_counter": ("Rata-rata waktu layanan per loket (menit)",
                            "Mean service time per counter (minutes)"),
    "verifier": ("Verifikator", "Verifier"),
    "tickets": ("Nomor antrean", "Tickets"),
    "minutes": ("menit", "min"),
    "bad_date": ("Tanggal tidak valid. Gunakan format TTTT-BB-HH.", "Invalid date. Use YYYY-MM-DD."),
    # admin
    "services": ("Layanan", "Services"),
    "users": ("Pengguna", "Users"),
    "settings": ("Pengaturan situs", "Site settings"),
    "running_text": ("Teks berjalan papan", "Board running text"),
    "save": ("Simpan", "Save"),
    "saved": ("Tersimpan dan langsung berlaku.", "Saved and applied immediately."),
    "prefix": ("Awalan", "Prefix"),
    "name_id": ("Nama (Indonesia)", "Name (Indonesian)"),
    "name_en": ("Nama (Inggris)", "Name (English)"),
    "requirements": ("Syarat (satu per baris: Indonesia | English)",
                     "Requirements (one per line: Indonesian | English)"),
    "flow": ("Alur pelayanan (satu per baris: Indonesia | English)",
             "Service flow (one per line: Indonesian | English)"),
    "daily_cap": ("Kuota harian (kosong = tanpa batas)", "Daily cap (empty = no limit)"),
    "counter_services": ("Layanan (awalan, dipisah koma, urutan prioritas)",
                         "Services (prefixes, comma separated, in preference order)"),
    "add_service": ("Tambah layanan", "Add a service"),
    "add_user": ("Tambah pengguna", "Add a user"),
    "disable": ("Nonaktifkan", "Disable"),
    "enable": ("Aktifkan", "Enable"),
    "new_password": ("Kata sandi baru", "New password"),
    "set_password": ("Ganti kata sandi", "Set password"),
    "disabled": ("nonaktif", "disabled"),
    "active": ("aktif", "active"),
    "target_wait": ("Target tunggu (menit)", "Target wait (minutes)"),
    "whatsapp": ("Kontak WhatsApp", "WhatsApp contact"),
    "facility": ("Nama kantor", "Facility name"),
    # errors
    "csrf": ("Sesi formulir kedaluwarsa. Muat ulang halaman lalu coba lagi.",
             "The form session expired. Reload the page and try again."),
    "login_required": ("Silakan masuk terlebih dahulu.", "Please log in first."),
    "forbidden": ("Akun Anda tidak berhak membuka halaman ini.",
                  "Your account may not open this page."),
    "expired": ("Sesi berakhir. Silakan masuk lagi.", "Your session ended. Please log in again."),
    "no_counter": ("Pilih loket untuk panel verifikator.", "Choose a counter for the verifier panel."),
    "counter_bound": ("Akun ini terikat ke loket {counter}; masuk di loket itu.",
                      "This account is bound to counter {counter}; log in at that counter."),
    "streams_full": ("Terlalu banyak halaman langsung terbuka; halaman ini memperbarui secara berkala.",
                     "Too many live pages open; this page polls instead."),
    # satisfaction survey (IKM) report and staffing advice
    "ikm": ("IKM", "Satisfaction (IKM)"),
    "ikm_title": ("Indeks Kepuasan Masyarakat (IKM)", "Community satisfaction index (IKM)"),
    "ikm_weight": ("Bobot tiap unsur 1/9 (PermenPANRB 14/2017). Dengan bobot 0,111 seperti contoh "
                   "perhitungan peraturan: {alt} (nilai tertinggi 99,9).",
                   "Each element weighs 1/9 (PermenPANRB 14/2017). With the weight 0.111 of the "
                   "regulation's worked example: {alt} (highest possible 99.9)."),
    "ikm_grade": ("Mutu pelayanan", "Service quality"),
    "ikm_weakest": ("Unsur terendah", "Weakest element"),
    "ikm_sample": ("Responden {n} dari {pop} yang dilayani; sampel minimum menurut tabel peraturan: {min}.",
                   "{n} respondents of {pop} served; the regulation's table asks for at least {min}."),
    "ikm_sample_short": ("Sampel belum cukup: hasil belum mewakili.",
                         "Sample too small: the result is not yet representative."),
    "ikm_none": ("Belum ada jawaban survei pada periode ini.", "No survey answers in this period."),
    "ikm_element": ("Unsur", "Element"),
    "ikm_nrr": ("Nilai rata-rata (NRR)", "Mean value (NRR)"),
    "ikm_by_month": ("Tren per bulan", "Trend by month"),
    "ikm_by_service": ("Per layanan", "Per service"),
    "ikm_by_counter": ("Per loket", "Per counter"),
    "ikm_respondents": ("Responden", "Respondents"),
    "ikm_population": ("Dilayani", "Served"),
    "ikm_min_sample": ("Sampel minimum", "Minimum sample"),
    "ikm_smiley": ("Tombol smiley di loket (dihitung terpisah)", "Smiley pads at the counters (counted separately)"),
    "ikm_presses": ("Tekanan", "Presses"),
    "ikm_mean": ("Rata-rata (1-4)", "Mean (1-4)"),
    "ikm_comments": ("Pengaduan dan saran", "Complaints and suggestions"),
    "ikm_print": ("Cetak", "Print"),
    "ikm_channels": ("Lewat ponsel: {phone}; lewat tablet di pintu keluar: {exit}.",
                     "By phone: {phone}; at the exit tablet: {exit}."),
    "staffing": ("Kebutuhan loket", "Staffing"),
    "staffing_title": ("Saran jumlah loket per jam", "Counters needed per hour"),
    "staffing_target": ("Target: {share}% warga dipanggil dalam {wait} menit.",
                        "Target: {share}% of residents called within {wait} minutes."),
    "staffing_basis": ("Dari riwayat {days} hari layanan ({start} s.d. {end}).",
                       "From {days} service days of history ({start} to {end})."),
    "staffing_thin": ("Riwayat terlalu sedikit untuk memberi saran (perlu minimal {need} hari layanan "
                      "pada hari itu dan {served} nomor antrean selesai dilayani).",
                      "Too little history to advise (needs at least {need} service days of that weekday "
                      "and {served} served tickets)."),
    "staffing_thin_short": ("riwayat belum cukup", "too little history"),
    "staffing_today": ("Hari ini: saran dan loket yang benar-benar buka", "Today: advice and counters actually open"),
    "staffing_week": ("Rencana mingguan", "Weekly plan"),
    "staffing_advised": ("Saran", "Advised"),
    "staffing_open": ("Buka", "Open"),
    "staffing_arrivals": ("Kedatangan/jam", "Arrivals/hour"),
    "staffing_service": ("Layanan rata-rata (menit)", "Mean service (minutes)"),
    "staffing_abandon": ("Tidak hadir saat dipanggil (riwayat)", "Gone when called (history)"),
    "staffing_sim": ("Simulasi: dipanggil dalam target", "Simulated: called within target"),
}


STRINGS.update({f"printer_{k}": v for k, v in PRINTER_STATE_LABELS.items()})
STRINGS.update({f"role_{k}": v for k, v in ROLE_LABELS.items()})
STRINGS.update({f"did_{k}": v for k, v in ACTION_DONE.items()})
PRINTER_KEYS = tuple(f"printer_{k}" for k in PRINTER_STATE_LABELS)
ROLE_KEYS = tuple(f"role_{k}" for k in ROLE_LABELS)
ACTION_KEYS = tuple(f"did_{k}" for k in ACTION_DONE)


def lang() -> str:
    """The session's language (Indonesian unless the user chose English)."""
    value = session.get("lang", "id")
    return value if value in LANGS else "id"


def t(key: str, **fmt) -> str:
    """The text for ``key`` in the session's language, formatted with ``fmt``."""
    pair = STRINGS.get(key, (key, key))
    text = pair[1] if lang() == "en" else pair[0]
    return text.format(**fmt) if fmt else text


def both(key: str, **fmt) -> str:
    """Indonesian first, English second (for errors that must reach everyone)."""
    ind, eng = STRINGS[key]
    return f"{ind.format(**fmt)} / {eng.format(**fmt)}"


def label(kind: str, word: str, lang_code: str | None = None) -> str:
    """The page word for a printer state (``printer``) or a role (``role``); an unknown word
    is shown as it is."""
    pair = STRINGS.get(f"{kind}_{word}")
    if pair is None:
        return str(word)
    return pair[1] if (lang_code or lang()) == "en" else pair[0]


def js_strings(keys: tuple[str, ...]) -> dict[str, str]:
    return {k: t(k) for k in keys}
