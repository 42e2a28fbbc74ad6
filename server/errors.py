"""Queue errors: one root, a stable ``code`` each, plain text in Indonesian and English.

The HTTP API and the MQTT bridge turn these into ``{"error": {...}}`` payloads;
nothing in the queue changes when one is raised (the write transaction rolls back).
"""
from __future__ import annotations


class QueueError(Exception):
    """Root of every queue error. ``status`` is the HTTP status the API uses."""

    code = "queue_error"
    status = 400
    message_id = "Terjadi kesalahan pada antrean."
    message_en = "Something went wrong in the queue."

    def __init__(self, message_en: str | None = None, message_id: str | None = None, **detail):
        self.message_en = message_en or type(self).message_en
        self.message_id = message_id or type(self).message_id
        self.detail = detail
        super().__init__(self.message_en)

    def to_dict(self) -> dict:
        body = {"code": self.code, "message_id": self.message_id, "message_en": self.message_en}
        if self.detail:
            body["detail"] = self.detail
        return body


def define(name: str, code: str, status: int, msg_id: str, msg_en: str,
           base: type[QueueError] = QueueError) -> type[QueueError]:
    """One refusal: its class, stable code, HTTP status and default texts (ID, EN)."""
    return type(name, (base,), {"code": code, "status": status,
                                "message_id": msg_id, "message_en": msg_en})



BadRequest = define("BadRequest", "bad_request", 400,
                    "Permintaan tidak valid.", "The request is not valid.")
UnknownService = define("UnknownService", "unknown_service", 404,
                        "Layanan tidak dikenal.", "Unknown service.")
ServiceClosed = define("ServiceClosed", "service_closed", 409,
                       "Layanan sedang tutup. Silakan datang kembali pada jam buka.",
                       "The service is closed. Please come back during opening hours.")
DailyCapReached = define("DailyCapReached", "daily_cap_reached", 409,
                         "Kuota nomor antrean hari ini sudah habis. Silakan datang besok.",
                         "Today's quota of queue numbers is used up. Please come tomorrow.")
PastClosing = define("PastClosing", "past_closing", 409,
                     "Perkiraan waktu dipanggil melewati jam tutup layanan. Silakan datang kembali"
                     " pada hari kerja berikutnya.",
                     "The estimated time of the call is after the service closes. Please come back"
                     " on the next working day.")
NothingWaiting = define("NothingWaiting", "nothing_waiting", 409,
                        "Tidak ada nomor antrean yang menunggu.", "Nobody is waiting.")
NoCurrentTicket = define("NoCurrentTicket", "no_current_ticket", 409,
                         "Loket ini belum memanggil nomor antrean.",
                         "This counter has no current ticket.")
InvalidTransition = define("InvalidTransition", "invalid_transition", 409,
                           "Tindakan ini tidak dapat dilakukan pada status sekarang.",
                           "This action is not possible in the current state.")
UnknownCounter = define("UnknownCounter", "unknown_counter", 404,
                        "Loket tidak dikenal.", "Unknown counter.")
CounterDoesNotServe = define("CounterDoesNotServe", "counter_does_not_serve", 409,
                             "Loket ini tidak melayani layanan tersebut.",
                             "This counter does not serve that service.")
UnknownTicket = define("UnknownTicket", "unknown_ticket", 404,
                       "Nomor antrean tidak ditemukan.", "Ticket not found.")
Unauthorized = define("Unauthorized", "unauthorized", 401,
                      "Akses ditolak: token tidak valid.", "Access denied: invalid token.")
Forbidden = define("Forbidden", "forbidden", 403,
                   "Perangkat ini tidak berhak melakukan tindakan ini.",
                   "This device may not do that.")
# Same stable code as Forbidden (a client handles both alike); the message names the counter.
CounterNotAllowed = define("CounterNotAllowed", "forbidden", 403,
                           "Perangkat ini terikat ke loket lain.",
                           "This device is bound to another counter.")
IdempotencyConflict = define("IdempotencyConflict", "idempotency_conflict", 409,
                             "ID permintaan sudah dipakai untuk permintaan lain.",
                             "The request id was already used for a different request.")

# 409, not 507: the kiosk shows a 4xx's message to the resident and does not retry,
# and retrying cannot help until someone frees space (see tests/faults/test_disk_full.py).
StorageFull = define("StorageFull", "storage_full", 409,
                     "Penyimpanan server penuh, nomor antrean tidak dapat dibuat. "
                     "Silakan hubungi petugas.",
                     "The server's storage is full, so no queue number can be issued. "
                     "Please call a staff member.")


class ConfigError(Exception):
    """A site file is invalid: names the file, the key path and what is wrong."""

    def __init__(self, file: str, path: str, problem: str):
        self.file, self.path, self.problem = file, path, problem
        super().__init__(f"{file}: {path}: {problem}" if path else f"{file}: {problem}")
