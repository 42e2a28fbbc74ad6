"""``lalopa doctor``: check one device for real and say plainly what is wrong.

The config is read by the role's own loader (what will run is what is checked);
then, per role: the server answers over HTTP and accepts the kiosk's token (a
read-only call), the broker accepts the device's log-in, the secret files are
readable by the service user, the printer is a printer (not a file) and answers,
the board's audio device opens, the box's GPIO, the clock and the disk. Each
check prints one line, ``[OK]``, ``[PERINGATAN]`` (warning) or ``[GAGAL]``
(failed), then what was found and what to do, Indonesian first, then English.
The exit code is 1 when any check failed.

The doctor never speaks on the bus as the device: it logs in with the device's
user name and password under its own client id, with no last will and no
presence message, and publishes nothing, so the dashboard never lists it.

Example::

    lalopa doctor --role kiosk                 # reads /etc/lalopa/kiosk.toml
"""
from __future__ import annotations

import argparse
import grp
import hashlib
import json
import os
import pwd
import shutil
import socket
import stat
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from .install import EXAMPLES, SERVER_BUS_PASSWORD_FILE, SERVICE_USER
from .roleconfig import BROKER_PORT, SERVER_HTTP_PORT

OK, WARN, FAIL = "OK", "PERINGATAN", "GAGAL"
ROLES = tuple(EXAMPLES)
DEFAULT_CONFIG = {role: f"/etc/lalopa/{name}" for role, (_example, name) in EXAMPLES.items()}


@dataclass(frozen=True)
class Verdict:
    """One check's result: a level, then what was found and what to do (ID, then EN)."""

    check: str
    level: str
    id_text: str
    en_text: str

    @property
    def message(self) -> str:
        return f"{self.id_text} / {self.en_text}"

    def line(self) -> str:
        return f"[{self.level}] {self.check}: {self.message}"


@dataclass
class Device:
    """What the doctor needs from a role's loaded config."""

    role: str
    device_id: str
    bus: dict
    loaded: object = None
    extra: dict = field(default_factory=dict)


# ------------------------------------------------------------------ config

def load_device(role: str, path: Path) -> Device:
    """Load ``path`` with the role's own loader; raises its error, whose text says what to fix."""
    if role == "kiosk":
        from kiosk.config import load_config
        cfg = load_config(path)
        return Device(role, cfg.device_id, asdict(cfg.bus), cfg)
    if role == "display":
        from display.config import load
        cfg = load(path)
        return Device(role, cfg.device_id, dict(cfg.bus), cfg)
    if role == "button":
        from firmware.config import load_config as load_box
        cfg = load_box(path)
        return Device(role, cfg.device_id, dict(cfg.bus), cfg)
    from server.config import load_site
    site = load_site(path)
    # The server's own broker log-in, as lalopa-server.service passes it.
    bus = {"host": "127.0.0.1", "port": BROKER_PORT, "site": site.site_id,
           "username": "server", "password_file": SERVER_BUS_PASSWORD_FILE, "tls_ca": ""}
    return Device(role, "server", bus, site)


def check_config(role: str, path: Path) -> tuple[Verdict, Device | None]:
    if not path.exists():
        return Verdict("config", FAIL, f"{path} tidak ada. Jalankan: sudo lalopa install --role {role}",
                       f"{path} does not exist. Run: sudo lalopa install --role {role}"), None
    from server.errors import ConfigError as SiteConfigError
    try:
        device = load_device(role, path)
    except (ValueError, OSError, SiteConfigError) as exc:  # every loader's error names the bad key
        return Verdict("config", FAIL, f"{path} salah: {exc}. Perbaiki lalu ulangi",
                       f"{path} is wrong: {exc}. Fix it and run the doctor again"), None
    return Verdict("config", OK, f"{path} terbaca (perangkat {device.device_id})",
                   f"{path} loaded (device {device.device_id})"), device


# ------------------------------------------------------------------ HTTP

def _get(url: str, token: str | None, timeout: float) -> tuple[int, bytes]:
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read(65536)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(65536)


def check_server_http(base_url: str, timeout: float = 5.0) -> Verdict:
    url = base_url.rstrip("/") + "/healthz"
    try:
        status, _ = _get(url, None, timeout)
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return Verdict("server", FAIL,
                       f"server {base_url} tidak terjangkau ({reason}). Periksa kabel jaringan, alamat "
                       "server di [server] url (sudo lalopa install --server ALAMAT) dan bahwa "
                       "lalopa-server berjalan di server",
                       f"server {base_url} is unreachable ({reason}). Check the network cable, the "
                       "server address in [server] url (sudo lalopa install --server ADDRESS) and that "
                       "lalopa-server runs on the server")
    if status != 200:
        return Verdict("server", FAIL, f"server {base_url} menjawab {status}: periksa "
                       "journalctl -u lalopa-server di server",
                       f"server {base_url} answered {status}: check journalctl -u lalopa-server "
                       "on the server")
    return Verdict("server", OK, f"server {base_url} menjawab", f"server {base_url} answers")


def check_status_base(base_url: str, timeout: float = 5.0) -> Verdict:
    """The site's ``status_base_url`` (the address printed in the ticket's QR) answers."""
    url = base_url.rstrip("/") + "/healthz"
    try:
        status, _ = _get(url, None, timeout)
    except (OSError, ValueError) as exc:
        status, why = None, str(getattr(exc, "reason", exc))
    if status == 200:
        return Verdict("status page", OK, f"alamat QR {base_url} menjawab", f"QR address {base_url} answers")
    why = f"menjawab {status}" if status is not None else f"tidak terjangkau ({why})"
    why_en = f"answered {status}" if status is not None else "is unreachable"
    return Verdict("status page", FAIL,
                   f"alamat QR {base_url} (status_base_url di berkas situs) {why}: warga yang memindai "
                   "tiket tidak akan melihat antreannya. Periksa alamat dan penerusan ke server ini",
                   f"QR address {base_url} (status_base_url in the site file) {why_en}: residents who "
                   "scan a ticket will not see their queue. Check the address and its forwarding to this server")


def check_token(base_url: str, token: str, device_id: str, role: str,
                timeout: float = 5.0) -> Verdict:
    """An authenticated read-only call: does the server know this token, for this role?"""
    fix_id = (f"di server jalankan: lalopa token add --role {role} --device {device_id} --out "
              f"{device_id}.token, salin berkasnya ke sini, lalu sudo lalopa install --role {role} "
              f"--token-file {device_id}.token")
    fix_en = (f"on the server run: lalopa token add --role {role} --device {device_id} --out "
              f"{device_id}.token, copy the file here, then sudo lalopa install --role {role} "
              f"--token-file {device_id}.token")
    if not token:
        return Verdict("token", FAIL, f"tidak ada token: {fix_id}", f"no token: {fix_en}")
    try:
        status, body = _get(base_url.rstrip("/") + "/api/v1/whoami", token, timeout)
    except (OSError, ValueError):
        return Verdict("token", FAIL, "token tidak bisa diperiksa: server tidak terjangkau (lihat di atas)",
                       "the token cannot be checked: the server is unreachable (see above)")
    if status in (401, 403):
        return Verdict("token", FAIL, f"server menolak token ini: {fix_id}",
                       f"the server refuses this token: {fix_en}")
    try:
        who = json.loads(body) if status == 200 else {}
    except ValueError:
        who = {}
    if who.get("role") != role:
        return Verdict("token", FAIL, f"server menjawab {status} untuk token ini (peran "
                       f"{who.get('role')!r}, bukan {role!r}): {fix_id}",
                       f"the server answered {status} for this token (role {who.get('role')!r}, "
                       f"not {role!r}): {fix_en}")
    return Verdict("token", OK, f"server menerima token ({who.get('id')})",
                   f"the server accepts the token ({who.get('id')})")


# ------------------------------------------------------------------ broker

def doctor_client_id(site: str, device: str) -> str:
    """The doctor's own client id: never the device's, so the device is not kicked off.

    (A production broker replaces it by the user name, which is the doctor's own
    too: see :func:`broker.acl.doctor_username`.)
    """
    full = f"lalopa-doctor-{site}-{device}-{os.getpid()}"
    return full if len(full) <= 64 else f"{full[:55]}-{hashlib.sha1(full.encode()).hexdigest()[:8]}"


def broker_login(bus: dict, password: str | None, timeout: float) -> tuple[str, str]:
    """Log in and out, publishing nothing: ("ok"|"refused"|"unreachable", detail)."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
    client = mqtt.Client(CallbackAPIVersion.VERSION2,
                         client_id=doctor_client_id(bus["site"], bus.get("username") or "anon"),
                         protocol=MQTTProtocolVersion.MQTTv5)
    if bus.get("username"):
        # The device's password under the doctor's own user name: logging in as
        # the device itself would cut the running device off the broker.
        from broker.acl import doctor_username
        client.username_pw_set(doctor_username(bus["username"]), password)
    if bus.get("tls_ca"):
        import ssl
        client.tls_set(ca_certs=bus["tls_ca"], tls_version=ssl.PROTOCOL_TLS_CLIENT)
    answer: dict = {}
    done = threading.Event()

    def on_connect(_c, _u, _flags, reason_code, _props):
        answer["rc"] = reason_code
        done.set()
    client.on_connect = on_connect
    try:
        client.connect(bus["host"], int(bus["port"]), keepalive=10)
    except (OSError, ValueError) as exc:
        return "unreachable", str(exc)
    client.loop_start()
    try:
        if not done.wait(timeout):
            return "unreachable", f"no answer within {timeout:.0f} s"
        rc = answer["rc"]
        return ("refused" if rc.is_failure else "ok"), str(rc)
    finally:
        client.disconnect()
        client.loop_stop()


def check_broker(role: str, device: Device, timeout: float = 5.0) -> Verdict:
    bus = device.bus
    where = f"{bus['host']}:{bus['port']}"
    password = None
    if bus.get("password_file"):
        try:
            password = Path(bus["password_file"]).expanduser().read_text().strip()
        except OSError as exc:
            return Verdict("broker", FAIL,
                           f"kata sandi broker {bus['password_file']} tidak terbaca ({exc.strerror}). "
                           f"Salin berkas dari server lalu: sudo lalopa install --role {role} "
                           "--mqtt-password-file BERKAS",
                           f"broker password {bus['password_file']} cannot be read ({exc.strerror}). "
                           f"Copy the file from the server, then: sudo lalopa install --role {role} "
                           "--mqtt-password-file FILE")
    outcome, detail = broker_login(bus, password, timeout)
    if outcome == "ok":
        return Verdict("broker", OK, f"broker {where} menerima log-in {bus.get('username') or '(anonim)'}",
                       f"broker {where} accepts the log-in {bus.get('username') or '(anonymous)'}")
    if outcome == "refused":
        return Verdict("broker", FAIL,
                       f"broker {where} menolak log-in {bus.get('username')!r} ({detail}). Di server "
                       f"jalankan: lalopa broker add-device --role {role} --device {device.device_id} "
                       f"--password-out {device.device_id}.mqtt-password, salin berkasnya, lalu "
                       f"sudo lalopa install --role {role} --mqtt-password-file BERKAS",
                       f"broker {where} refuses the log-in {bus.get('username')!r} ({detail}). On the "
                       f"server run: lalopa broker add-device --role {role} --device {device.device_id} "
                       f"--password-out {device.device_id}.mqtt-password, copy the file, then "
                       f"sudo lalopa install --role {role} --mqtt-password-file FILE")
    return Verdict("broker", FAIL,
                   f"broker {where} tidak terjangkau ({detail}). Periksa jaringan, alamat server "
                   "di [bus] host dan bahwa mosquitto berjalan di server",
                   f"broker {where} is unreachable ({detail}). Check the network, the server "
                   "address in [bus] host and that mosquitto runs on the server")


# ------------------------------------------------------------------ secrets

def readable_by(path: Path, user: str) -> bool:
    """Could ``user`` (with its groups) open ``path`` for reading, directories included?"""
    pw = pwd.getpwnam(user)
    gids = {pw.pw_gid} | {g.gr_gid for g in grp.getgrall() if user in g.gr_mem}

    def allowed(st: os.stat_result, bits: tuple[int, int, int]) -> bool:
        if pw.pw_uid == 0:
            return True
        if st.st_uid == pw.pw_uid:
            return bool(st.st_mode & bits[0])
        if st.st_gid in gids:
            return bool(st.st_mode & bits[1])
        return bool(st.st_mode & bits[2])
    path = Path(os.path.abspath(path))
    for parent in reversed(path.parents):
        if not allowed(parent.stat(), (stat.S_IXUSR, stat.S_IXGRP, stat.S_IXOTH)):
            return False
    return allowed(path.stat(), (stat.S_IRUSR, stat.S_IRGRP, stat.S_IROTH))


def check_secret_readable(what: str, path: str, user: str = SERVICE_USER) -> Verdict:
    p = Path(path).expanduser()
    fix_id = f"jalankan: sudo chown root:{user} {p} && sudo chmod 0640 {p}"
    fix_en = f"run: sudo chown root:{user} {p} && sudo chmod 0640 {p}"
    try:
        pwd.getpwnam(user)
    except KeyError:
        return Verdict(what, WARN, f"pengguna layanan {user!r} tidak ada di mesin ini: akses "
                       f"{p} tidak diperiksa. Jalankan: sudo lalopa install",
                       f"the service user {user!r} does not exist here: access to {p} is not "
                       "checked. Run: sudo lalopa install")
    if not p.exists():
        return Verdict(what, FAIL, f"{p} tidak ada; salin dari server lalu sudo lalopa install",
                       f"{p} does not exist; copy it from the server, then sudo lalopa install")
    if not readable_by(p, user):
        return Verdict(what, FAIL, f"{p} tidak bisa dibaca oleh pengguna {user} (layanan akan "
                       f"gagal terus): {fix_id}",
                       f"{p} cannot be read by the user {user} (the service would fail over and "
                       f"over): {fix_en}")
    return Verdict(what, OK, f"{p} bisa dibaca oleh {user}", f"{p} is readable by {user}")


# ------------------------------------------------------------------ printer

SET_PRINTER_ID = ("pasang printer: sudo lalopa install --role kiosk --printer network:ALAMAT_IP "
                  "atau --printer usb:VID:PID")
SET_PRINTER_EN = ("set the printer: sudo lalopa install --role kiosk --printer network:IP_ADDRESS "
                  "or --printer usb:VID:PID")


def check_printer(conf) -> Verdict:
    """``conf`` is the kiosk's :class:`kiosk.config.PrinterConf`."""
    b = conf.backend
    if b == "none":
        return Verdict("printer", WARN, "tidak ada printer: tiket tidak dicetak, layar meminta warga "
                       f"mencatat atau memfoto nomornya; {SET_PRINTER_ID}",
                       "no printer: no ticket is printed, the screen asks residents to note or "
                       f"photograph their number; {SET_PRINTER_EN}")
    if b == "dummy":
        return Verdict("printer", FAIL, f"printer 'dummy' hanya untuk uji, tidak mencetak; {SET_PRINTER_ID}",
                       f"the 'dummy' printer is for tests and prints nothing; {SET_PRINTER_EN}")
    if b == "file" and not conf.on_paper:
        return Verdict("printer", FAIL, f"tiket ditulis ke berkas {conf.path}, bukan ke kertas; "
                       f"{SET_PRINTER_ID}",
                       f"tickets are written into the file {conf.path}, not onto paper; {SET_PRINTER_EN}")
    if b == "network":
        try:
            with socket.create_connection((conf.host, conf.port), timeout=conf.timeout_s):
                pass
        except OSError as exc:
            return Verdict("printer", FAIL, f"printer jaringan {conf.host}:{conf.port} tidak terjangkau "
                           f"({exc.strerror or exc}). Periksa daya, kabel dan alamat IP printer",
                           f"network printer {conf.host}:{conf.port} is unreachable "
                           f"({exc.strerror or exc}). Check its power, cable and IP address")
        return Verdict("printer", OK, f"printer jaringan {conf.host}:{conf.port} menjawab",
                       f"network printer {conf.host}:{conf.port} answers")
    if b == "usb":
        if _usb_present(conf.vendor_id, conf.product_id):
            return Verdict("printer", OK, f"printer USB {conf.vendor_id:04x}:{conf.product_id:04x} "
                           "terpasang", f"USB printer {conf.vendor_id:04x}:{conf.product_id:04x} present")
        return Verdict("printer", FAIL, f"printer USB {conf.vendor_id:04x}:{conf.product_id:04x} tidak "
                       "ditemukan: colokkan dan nyalakan; periksa dengan lsusb",
                       f"USB printer {conf.vendor_id:04x}:{conf.product_id:04x} not found: plug it in "
                       "and switch it on; check with lsusb")
    dev = Path(conf.devfile if b == "serial" else conf.path)
    if dev.exists() and os.access(dev, os.W_OK):
        return Verdict("printer", OK, f"printer {dev} ada", f"printer {dev} present")
    return Verdict("printer", FAIL, f"printer {dev} tidak ada atau tidak bisa ditulis: colokkan dan "
                   "nyalakan printer", f"printer {dev} is missing or not writable: plug the printer "
                   "in and switch it on")


def _usb_present(vendor: int, product: int) -> bool:
    """Look in sysfs, which needs neither libusb nor root."""
    for dev in Path("/sys/bus/usb/devices").glob("*"):
        try:
            vid = int((dev / "idVendor").read_text(), 16)
            pid = int((dev / "idProduct").read_text(), 16)
        except (OSError, ValueError):
            continue
        if (vid, pid) == (vendor, product):
            return True
    return False


# ------------------------------------------------------------------ audio

# Opened in a child process: SDL may block or crash on a broken sound stack, and the
# doctor must still print its other lines.
_AUDIO_PROBE = """
import os, sys
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
import pygame
try:
    pygame.mixer.init(22050, -16, 1, 1024)
except pygame.error as exc:
    print("ERR", exc)
    sys.exit(1)
print("OK", pygame.mixer.get_driver())
pygame.mixer.quit()
"""
SILENT_DRIVERS = ("dummy", "disk", "diskaudio")


def check_audio(voice: dict, timeout: float = 15.0) -> Verdict:
    """Open the audio device as the board does (SDL, driver from SDL_AUDIODRIVER or SDL's own)."""
    if not voice.get("enabled", True):
        return Verdict("audio", WARN, "suara dimatikan di [voice] enabled: panggilan tidak diucapkan",
                       "voice is off in [voice] enabled: calls are not announced")
    driver = os.environ.get("SDL_AUDIODRIVER", "")
    if driver in SILENT_DRIVERS:
        return Verdict("audio", FAIL, f"SDL_AUDIODRIVER={driver}: tidak ada suara. Hapus variabel itu "
                       "agar papan memakai perangkat suara",
                       f"SDL_AUDIODRIVER={driver}: no sound. Remove that variable so the board uses "
                       "the sound device")
    try:
        out = subprocess.run([sys.executable, "-c", _AUDIO_PROBE], capture_output=True, text=True,
                             timeout=timeout)
        answer = (out.stdout.strip().splitlines() or [""])[-1]
    except subprocess.TimeoutExpired:
        answer = f"ERR no answer within {timeout:.0f} s"
    if answer.startswith("OK"):
        name = answer[2:].strip()
        return Verdict("audio", OK, f"perangkat suara terbuka ({name})", f"audio device opens ({name})")
    detail = answer[3:].strip() if answer.startswith("ERR") else "pygame did not start"
    return Verdict("audio", FAIL,
                   f"perangkat suara tidak bisa dibuka ({detail}). Colokkan speaker (HDMI atau jack), "
                   "periksa dengan aplay -l, dan pastikan pengguna lalopa di grup audio",
                   f"the audio device does not open ({detail}). Connect the speakers (HDMI or jack), "
                   "check with aplay -l, and make sure the user lalopa is in the group audio")


# ------------------------------------------------------------------ GPIO, clock, disk

def check_gpio() -> Verdict:
    try:
        from gpiozero import Device as GpioDevice
        factory = GpioDevice._default_pin_factory()
    except Exception as exc:  # gpiozero raises many kinds when no backend loads
        return Verdict("gpio", FAIL, f"pin factory tidak bisa dimuat ({exc}). Pasang python3-lgpio; "
                       "pengguna lalopa di grup gpio",
                       f"the pin factory cannot load ({exc}). Install python3-lgpio; put the user "
                       "lalopa in the group gpio")
    name = type(factory).__name__
    factory.close()
    if name.startswith("Mock"):
        return Verdict("gpio", WARN, f"{name}: tombol tiruan (GPIOZERO_PIN_FACTORY=mock)",
                       f"{name}: simulated buttons (GPIOZERO_PIN_FACTORY=mock)")
    return Verdict("gpio", OK, f"pin factory {name}", f"pin factory {name}")


def build_time() -> float:
    """When this software was built or installed: the clock can never be earlier."""
    return max(Path(__file__).stat().st_mtime, Path(__file__).with_name("install.py").stat().st_mtime)


def ntp_synchronised() -> str:
    """"yes", "no" or "unknown", from timedatectl."""
    try:
        out = subprocess.run(["timedatectl", "show", "-p", "NTPSynchronized", "--value"],
                             capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    value = out.stdout.strip()
    return value if out.returncode == 0 and value in ("yes", "no") else "unknown"


def check_clock(now: float | None = None, built: float | None = None,
                synced: str | None = None) -> Verdict:
    now = time.time() if now is None else now
    built = build_time() if built is None else built
    shown = datetime.fromtimestamp(now, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    build_day = datetime.fromtimestamp(built, timezone.utc).strftime("%Y-%m-%d")
    if now < built - 86400:
        return Verdict("clock", FAIL,
                       f"jam menunjukkan {shown}, lebih awal dari tanggal perangkat lunak ini "
                       f"({build_day}): jam belum disetel. Sambungkan ke server waktu (NTP) atau "
                       "pasang RTC berbaterai, atau setel: sudo timedatectl set-time 'YYYY-MM-DD HH:MM'",
                       f"the clock says {shown}, earlier than this software ({build_day}): the clock "
                       "is not set. Connect a time server (NTP) or fit a battery-backed RTC, or set "
                       "it: sudo timedatectl set-time 'YYYY-MM-DD HH:MM'")
    synced = ntp_synchronised() if synced is None else synced
    rtc = Path("/sys/class/rtc/rtc0").exists()
    if synced == "yes":
        return Verdict("clock", OK, f"jam {shown}, tersinkron (NTP)", f"clock {shown}, synchronised (NTP)")
    state_id = "belum tersinkron" if synced == "no" else "status sinkronisasi tidak diketahui"
    state_en = "not synchronised" if synced == "no" else "synchronisation state unknown"
    return Verdict("clock", WARN,
                   f"jam {shown}, {state_id}{', ada RTC' if rtc else ', tanpa RTC'}. Server memberi "
                   "waktu semua tiket: periksa NTP (timedatectl) atau RTC berbaterai di server",
                   f"clock {shown}, {state_en}{', RTC present' if rtc else ', no RTC'}. The server "
                   "stamps every ticket: check NTP (timedatectl) or a battery-backed RTC on the server")


def check_disk(path: Path, warn_mb: int = 500, fail_mb: int = 100) -> Verdict:
    while not path.exists() and path != path.parent:
        path = path.parent
    free_mb = shutil.disk_usage(path).free // (1024 * 1024)
    if free_mb < fail_mb:
        return Verdict("disk", FAIL, f"sisa {free_mb} MB di {path}: hapus cadangan lama",
                       f"{free_mb} MB free on {path}: delete old backups")
    return Verdict("disk", WARN if free_mb < warn_mb else OK, f"sisa {free_mb} MB di {path}",
                   f"{free_mb} MB free on {path}")


# ------------------------------------------------------------------ run

def run_checks(role: str, config: Path, broker_timeout: float = 5.0,
               http_timeout: float = 5.0) -> list[Verdict]:
    verdict, device = check_config(role, config)
    verdicts = [verdict]
    if device is not None:
        if role == "kiosk":
            cfg = device.loaded
            verdicts.append(check_server_http(cfg.server.url, http_timeout))
            try:
                token = cfg.token()
            except ValueError:
                token = ""
            verdicts.append(check_token(cfg.server.url, token, cfg.device_id, "kiosk", http_timeout))
            if cfg.server.token_file:
                verdicts.append(check_secret_readable("token file", cfg.server.token_file))
        if role == "server":
            verdicts.append(check_server_http(f"http://127.0.0.1:{SERVER_HTTP_PORT}", http_timeout))
            if device.loaded.status_base_url:
                verdicts.append(check_status_base(device.loaded.status_base_url, http_timeout))
        verdicts.append(check_broker(role, device, broker_timeout))
        if device.bus.get("password_file"):
            verdicts.append(check_secret_readable("broker password", device.bus["password_file"]))
        if role == "kiosk":
            verdicts.append(check_printer(device.loaded.printer))
        if role == "display":
            verdicts.append(check_audio(device.loaded.voice))
    if role == "button":
        verdicts.append(check_gpio())
    verdicts.append(check_clock())
    verdicts.append(check_disk(Path("/var/lib/lalopa") if role == "server" else Path("/")))
    return verdicts


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(
        prog="lalopa doctor",
        description="Periksa perangkat ini / check this device: config, server, token, broker, "
                    "printer, audio, GPIO, clock, disk.")
    p.add_argument("--role", choices=ROLES, default="server")
    p.add_argument("--config", help="config file (default /etc/lalopa/<role>.toml)")
    p.add_argument("--broker-timeout", type=float, default=5.0)
    p.add_argument("--http-timeout", type=float, default=5.0)
    args = p.parse_args(argv)
    verdicts = run_checks(args.role, Path(args.config or DEFAULT_CONFIG[args.role]),
                          args.broker_timeout, args.http_timeout)
    for v in verdicts:
        print(v.line())
    failed = sum(v.level == FAIL for v in verdicts)
    warned = sum(v.level == WARN for v in verdicts)
    print(f"Hasil / result: {'GAGAL / FAILED' if failed else 'OK'} "
          f"({failed} gagal / failed, {warned} peringatan / warnings)")
    sys.stdout.flush()
    return 1 if failed else 0
