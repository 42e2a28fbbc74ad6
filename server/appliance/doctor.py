"""``lalopa doctor``: check one device and say plainly what is wrong.

Checks: configuration (parse and required keys), broker reachability and
credentials (a real BusClient connect with a timeout), the kiosk printer (is
the configured backend reachable), the button's GPIO pin factory, clock
synchronisation and disk space. Each check prints one verdict, Indonesian
first: OK, PERINGATAN (WARNING) or GAGAL (FAILED), with what to do. The exit
code is 1 when any check failed.

Example::

    lalopa doctor --role kiosk --config /etc/lalopa/kiosk.toml
"""
from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

OK, WARN, FAIL = "OK", "PERINGATAN (WARNING)", "GAGAL (FAILED)"
DEFAULT_CONFIG = {"server": "/etc/lalopa/site.toml", "kiosk": "/etc/lalopa/kiosk.toml",
                  "display": "/etc/lalopa/display.toml", "button": "/etc/lalopa/button.toml"}


@dataclass(frozen=True)
class Verdict:
    """One check's result: a level, what was found and what to do."""

    check: str
    level: str
    message: str

    def line(self) -> str:
        return f"[{self.level}] {self.check}: {self.message}"


def check_config(role: str, path: Path) -> tuple[Verdict, dict | None]:
    if not path.exists():
        return Verdict("config", FAIL, f"{path} tidak ada / does not exist. "
                       f"Jalankan / run: sudo lalopa install --role {role}"), None
    try:
        data = tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        return Verdict("config", FAIL, f"{path} tidak valid / is not valid TOML: {exc}"), None
    if role == "server":
        from server.config import load_site  # a broken install fails here, loud
        try:
            load_site(path)
        except Exception as exc:  # the site loader names the bad key
            return Verdict("config", FAIL, f"{path}: {exc}"), None
        return Verdict("config", OK, f"{path} terbaca / parsed"), data
    missing = [k for k in ("device_id", "bus") if k not in data]
    missing += [f"bus.{k}" for k in ("host", "port", "site") if k not in data.get("bus", {})]
    if missing:
        return Verdict("config", FAIL, f"{path}: kunci hilang / missing keys: "
                       + ", ".join(missing)), data
    return Verdict("config", OK, f"{path} terbaca / parsed (device {data['device_id']})"), data


def check_broker(role: str, bus: dict, device: str, timeout: float = 5.0) -> Verdict:
    from broker.bus import BusClient
    password = None
    if bus.get("password_file"):
        try:
            password = Path(bus["password_file"]).read_text().strip()
        except OSError as exc:
            return Verdict("broker", FAIL, f"kata sandi tidak terbaca / cannot read password: {exc}")
    client = BusClient(site=bus["site"], role="server" if role == "server" else role,
                       device=f"doctor-{device}"[:40], host=bus["host"], port=int(bus["port"]),
                       username=bus.get("username"), password=password, tls_ca=bus.get("tls_ca"))
    errors: list[str] = []
    client.client.on_connect_fail = lambda *a: errors.append("connect failed")
    client.start()
    try:
        if client.connected.wait(timeout):
            return Verdict("broker", OK, f"terhubung / connected to {bus['host']}:{bus['port']}")
    finally:
        client.stop()
    return Verdict("broker", FAIL, f"tidak bisa terhubung ke / cannot connect to "
                   f"{bus['host']}:{bus['port']} dalam / within {timeout:.0f}s. Periksa jaringan, "
                   f"mosquitto, nama pengguna dan kata sandi / check network, mosquitto, "
                   f"username and password")


def check_printer(cfg: dict) -> Verdict:
    p = cfg.get("printer", {})
    backend = p.get("backend", "none")
    if backend == "network":
        try:
            with socket.create_connection((p["host"], int(p.get("port", 9100))), timeout=3):
                return Verdict("printer", OK, f"printer jaringan / network printer {p['host']} menjawab / answers")
        except (OSError, KeyError) as exc:
            return Verdict("printer", FAIL, f"printer {p.get('host')} tidak terjangkau / unreachable "
                           f"({exc}). Periksa kabel dan daya / check cable and power")
    if backend == "usb":
        found = list(Path("/dev/usb").glob("lp*")) if Path("/dev/usb").exists() else []
        try:
            import usb.core
            dev = usb.core.find(idVendor=int(p["vendor_id"]), idProduct=int(p["product_id"]))
            found += [dev] if dev is not None else []
        except Exception:  # no pyusb/libusb: the device node check above still counts
            pass
        if found:
            return Verdict("printer", OK, "printer USB terpasang / USB printer present")
        return Verdict("printer", FAIL, "printer USB tidak ditemukan / USB printer not found: "
                       "colokkan dan nyalakan / plug it in and switch it on")
    if backend == "serial":
        dev = Path(p.get("devfile", "/dev/ttyUSB0"))
        level = OK if dev.exists() else FAIL
        return Verdict("printer", level, f"{dev} {'ada / present' if dev.exists() else 'tidak ada / missing'}")
    if backend == "file":
        parent = Path(p.get("path", "/tmp/x")).parent
        level = OK if os.access(parent, os.W_OK) else FAIL
        return Verdict("printer", WARN if level == OK else FAIL,
                       f"backend 'file' (uji / testing only) ke / to {p.get('path')}")
    return Verdict("printer", WARN, f"tidak ada printer / no printer (backend '{backend}'): "
                   "tiket tidak dicetak / tickets are not printed")


def check_gpio() -> Verdict:
    try:
        from gpiozero import Device
        factory = Device._default_pin_factory()
    except Exception as exc:
        return Verdict("gpio", FAIL, f"pin factory tidak bisa dimuat / cannot load: {exc}. "
                       "Pasang / install python3-lgpio; pengguna di grup / user in group gpio")
    name = type(factory).__name__
    factory.close()
    if name.startswith("Mock"):
        return Verdict("gpio", WARN, f"{name}: tombol tiruan / simulated buttons "
                       "(GPIOZERO_PIN_FACTORY=mock)")
    return Verdict("gpio", OK, f"pin factory {name}")


def check_clock() -> Verdict:
    try:
        out = subprocess.run(["timedatectl", "show", "-p", "NTPSynchronized", "--value"],
                             capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return Verdict("clock", WARN, "timedatectl tidak tersedia / not available: "
                       "sinkronisasi jam tidak diketahui / clock sync unknown")
    value = out.stdout.strip()
    if value == "yes":
        return Verdict("clock", OK, "jam tersinkron / clock synchronised (NTP)")
    if value == "no":
        return Verdict("clock", WARN, "jam belum tersinkron / clock not synchronised: periksa "
                       "NTP atau RTC / check NTP or the RTC (the server stamps all times)")
    return Verdict("clock", WARN, "status NTP tidak diketahui / NTP status unknown "
                   f"({' '.join((out.stderr or value).split())[:100]})")


def check_disk(path: Path, warn_mb: int = 500, fail_mb: int = 100) -> Verdict:
    while not path.exists() and path != path.parent:
        path = path.parent
    free_mb = shutil.disk_usage(path).free // (1024 * 1024)
    if free_mb < fail_mb:
        return Verdict("disk", FAIL, f"sisa / free {free_mb} MB di / on {path}: hapus cadangan "
                       "lama / delete old backups")
    level = WARN if free_mb < warn_mb else OK
    return Verdict("disk", level, f"sisa / free {free_mb} MB di / on {path}")


def _server_bus(site: dict) -> dict:
    """The server's own broker login, as the installed unit passes it."""
    bus = {"host": "127.0.0.1", "port": 1883, "site": site.get("site_id", "lalopa")}
    if Path("/etc/lalopa/mqtt-password").exists():
        bus.update(username="server", password_file="/etc/lalopa/mqtt-password")
    return bus


def run_checks(role: str, config: Path, broker_timeout: float = 5.0) -> list[Verdict]:
    verdict, cfg = check_config(role, config)
    verdicts = [verdict]
    if cfg and verdict.level == OK:
        bus = cfg.get("bus") or _server_bus(cfg)
        verdicts.append(check_broker(role, bus, str(cfg.get("device_id", role)), broker_timeout))
        if role == "kiosk":
            verdicts.append(check_printer(cfg))
    if role == "button":
        verdicts.append(check_gpio())
    verdicts.append(check_clock())
    verdicts.append(check_disk(Path("/var/lib/lalopa") if role == "server" else Path("/")))
    return verdicts


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="lalopa doctor", description=__doc__.split("\n\n")[0])
    p.add_argument("--role", choices=sorted(DEFAULT_CONFIG), default="server")
    p.add_argument("--config", help="config file (default /etc/lalopa/<role>.toml)")
    p.add_argument("--broker-timeout", type=float, default=5.0)
    args = p.parse_args(argv)
    verdicts = run_checks(args.role, Path(args.config or DEFAULT_CONFIG[args.role]),
                          args.broker_timeout)
    for v in verdicts:
        print(v.line())
    failed = [v for v in verdicts if v.level == FAIL]
    print(f"Hasil / result: {'GAGAL / FAILED' if failed else 'OK'} "
          f"({len(failed)} gagal / failed, "
          f"{sum(v.level == WARN for v in verdicts)} peringatan / warnings)")
    sys.stdout.flush()
    return 1 if failed else 0
