"""``lalopa install``: provision a Raspberry Pi OS machine for one role.

Every file goes under ``--root`` (``/`` on a real Pi) and every system command
(useradd, apt-get, python -m venv, pip, systemctl, udevadm) goes through one
:class:`Runner`. The runner executes only when the root is ``/`` and
``--no-exec`` is not given; otherwise it records the plan, so a temporary root
shows exactly what would happen. Each action prints one line
(created / updated / unchanged / ran / would run) and a second run changes
nothing and says so.

Example::

    sudo lalopa install --role kiosk --device kiosk-1 --server 192.168.1.10 \\
        --printer network:192.168.1.50 --token-file kiosk-1.token \\
        --mqtt-password-file kiosk-1.mqtt-password
    lalopa install --role server --root /tmp/stage      # plan only, files in /tmp/stage
"""
from __future__ import annotations

import argparse
import grp
import hashlib
import json
import os
import shlex
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .roleconfig import (RoleConfigError, ServerAddress, bus_password_file, installed_config,
                         parse_printer, parse_server, token_file)
from .screen import SCREEN_APT, SCREEN_GROUPS, SCREEN_ROLES, sway_config, sway_config_path

ROLES = ("server", "kiosk", "display", "button")
REPO = Path(__file__).resolve().parents[2]
UNITS = REPO / "systemd"
SERVICE_USER = "lalopa"
VENV = "/opt/lalopa/venv"
LEDGER = "/var/lib/lalopa-install/ledger.json"
# The guide's `lalopa ...` commands find the venv's script here.
PATH_LINK = "/usr/local/bin/lalopa"
# The server's own broker password, as lalopa-server.service passes it (--mqtt-password-file).
SERVER_BUS_PASSWORD_FILE = "/etc/lalopa/mqtt-password"
# Secrets: root may write, the service user's group may read, nobody else sees them.
SECRET_MODE = 0o640
BROKER_PASSWD = "/etc/mosquitto/lalopa.passwd"
BROKER_ACL = "/etc/mosquitto/lalopa.acl"

# apt packages per role (python3-lgpio so the button venv can see lgpio).
# Raspberry Pi OS's archive only: on plain Debian the install goes on without them.
PI_ONLY = {"python3-lgpio"}
APT = {
    "server": ["python3-venv", "mosquitto", "mosquitto-clients", "sqlite3", "nginx"],
    "kiosk": ["python3-venv", "libusb-1.0-0", *SCREEN_APT],
    "display": ["python3-venv", "espeak-ng", *SCREEN_APT],
    "button": ["python3-venv", "python3-lgpio"],
}
EXAMPLES = {  # role -> (example shipped in the repo, installed name)
    "server": ("server/sites/example.toml", "site.toml"),
    "kiosk": ("kiosk/example.toml", "kiosk.toml"),
    "display": ("display/example.toml", "display.toml"),
    "button": ("firmware/example.toml", "button.toml"),
}
SYSTEM_UNITS = {
    "server": ["lalopa-server.service", "lalopa-backup.service", "lalopa-backup.timer"],
    "button": ["lalopa-button.service"],
    **{role: [unit] for role, (unit, _cmd, _cfg) in SCREEN_ROLES.items()},
}
# Thermal receipt printers seen at Indonesian sites: Epson, Winbond/Xprinter,
# STM-based "POS-58", ICS Advent, NXP-based. Group lp lets the kiosk's service user print.
PRINTER_UDEV = """# LALOPA: let group lp (the kiosk's service user) use USB receipt printers.
SUBSYSTEM=="usb", ENV{DEVTYPE}=="usb_device", ATTR{idVendor}=="04b8", MODE="0660", GROUP="lp"
SUBSYSTEM=="usb", ENV{DEVTYPE}=="usb_device", ATTR{idVendor}=="0416", MODE="0660", GROUP="lp"
SUBSYSTEM=="usb", ENV{DEVTYPE}=="usb_device", ATTR{idVendor}=="0483", MODE="0660", GROUP="lp"
SUBSYSTEM=="usb", ENV{DEVTYPE}=="usb_device", ATTR{idVendor}=="0fe6", MODE="0660", GROUP="lp"
SUBSYSTEM=="usb", ENV{DEVTYPE}=="usb_device", ATTR{idVendor}=="1fc9", MODE="0660", GROUP="lp"
SUBSYSTEM=="usbmisc", KERNEL=="lp[0-9]*", MODE="0660", GROUP="lp"
"""


@dataclass
class Runner:
    """The one door for system commands: executes, or records the plan."""

    execute: bool
    plan: list[list[str]] = field(default_factory=list)

    def run(self, cmd: list[str]) -> None:
        self.plan.append(cmd)
        if self.execute:
            subprocess.run(cmd, check=True)


class Installer:
    """Brings one role's files and services to the wanted state under ``root``."""

    def __init__(self, role: str, root: Path, runner: Runner, *,
                 token: str | None = None, mqtt_password: str | None = None,
                 source: str | None = None, out=print, device: str | None = None,
                 server: ServerAddress | None = None, counter: int | None = None,
                 printer: dict | None = None):
        self.role, self.root, self.runner = role, root, runner
        self.token, self.out = token, out
        self.mqtt_password = mqtt_password
        self.device, self.server, self.counter, self.printer = device, server, counter, printer
        self.source = source or str(REPO)
        self.changes = 0
        self.units_changed = False
        self.ledger = self._load_ledger()

    # -- primitives ---------------------------------------------------------

    def path(self, absolute: str) -> Path:
        return self.root / absolute.lstrip("/")

    def report(self, verb: str, what: str) -> None:
        if verb != "unchanged":
            self.changes += 1
        self.out(f"{verb:10} {what}")

    def write(self, target: str, content: str, mode: int = 0o644, keep: bool = False) -> bool:
        """Write ``content`` unless identical; ``keep`` never overwrites (local edits)."""
        p = self.path(target)
        if p.exists() and (keep or p.read_text() == content):
            if (p.stat().st_mode & 0o777) != mode:
                p.chmod(mode)
                self.report("updated", f"{target} (mode {mode:o})")
            else:
                self.report("unchanged", target)
            return False
        verb = "updated" if p.exists() else "created"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(content)
        p.chmod(mode)
        self.report(verb, target)
        return True

    def command(self, key: str, cmd: list[str], done: bool = False) -> None:
        """Run ``cmd`` once per ``key`` (the ledger remembers), unless ``done``."""
        if done or self.ledger.get(key) == _digest(cmd):
            self.report("unchanged", key)
            return
        self.runner.run(cmd)
        self.report("ran" if self.runner.execute else "would run", shlex.join(cmd))
        self.ledger[key] = _digest(cmd)

    def _load_ledger(self) -> dict:
        p = self.path(LEDGER)
        return json.loads(p.read_text()) if p.exists() else {}

    def save_ledger(self) -> None:
        # On a real root with --no-exec nothing ran: remembering it would lie.
        if not self.runner.execute and self.root == Path("/"):
            return
        p = self.path(LEDGER)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(json.dumps(self.ledger, indent=1, sort_keys=True) + "\n")

    # -- steps --------------------------------------------------------------

    def install(self) -> int:
        self.packages()
        self.service_user()
        self.venv()
        self.path_link()
        self.config()
        self.credentials()
        if self.role == "kiosk":
            self.printer_udev()
        if self.role == "server":
            self.mosquitto()
            self.front()
        self.units()
        self.enable()
        self.save_ledger()
        self.out("nothing changed: already installed" if self.changes == 0
                 else f"{self.changes} change(s)")
        return self.changes

    def packages(self) -> None:
        wanted = [p for p in APT[self.role] if p not in PI_ONLY or self._apt_knows(p)]
        for p in APT[self.role]:
            if p not in wanted:
                self.out(f"{'missing':10} {p}: hanya di Raspberry Pi OS / only in Raspberry Pi "
                         "OS; without it the buttons work only on mock pins")
        missing = [p for p in wanted if not self._dpkg_installed(p)]
        self.command("apt " + " ".join(wanted),
                     ["apt-get", "install", "-y", "--no-install-recommends", *wanted],
                     done=not missing)

    def _apt_knows(self, package: str) -> bool:
        """Does this machine's apt archive have ``package`` (plans assume it does)?"""
        if not self.runner.execute:
            return True
        return subprocess.run(["apt-cache", "show", package], capture_output=True).returncode == 0

    def _dpkg_installed(self, package: str) -> bool:
        status = self.path("/var/lib/dpkg/status")
        if not status.exists():
            return False
        return f"Package: {package}\nStatus: install ok installed" in status.read_text()

    def service_user(self) -> None:
        # Every role, screens included, runs as the service user: nobody logs in on an appliance.
        passwd = self.path("/etc/passwd")
        exists = passwd.exists() and any(
            line.startswith(SERVICE_USER + ":") for line in passwd.read_text().splitlines())
        self.command(f"user {SERVICE_USER}",
                     ["useradd", "--system", "--user-group", "--home-dir", "/var/lib/lalopa",
                      "--shell", "/usr/sbin/nologin", SERVICE_USER], done=exists)
        if self.role == "button":
            self.command(f"group gpio for {SERVICE_USER}",
                         ["usermod", "-aG", "gpio", SERVICE_USER])
        if self.role in SCREEN_GROUPS:
            self.command(f"groups for {SERVICE_USER}",
                         ["usermod", "-aG", SCREEN_GROUPS[self.role], SERVICE_USER])

    def venv(self) -> None:
        cmd = ["python3", "-m", "venv"]
        if self.role == "button":  # apt's lgpio lives in the system site-packages
            cmd.append("--system-site-packages")
        self.command(f"venv {VENV}", cmd + [VENV],
                     done=self.path(VENV + "/bin/python").exists())
        extra = {"server": "server", "kiosk": "kiosk", "display": "display", "button": "button"}
        self.command(f"pip lalopa[{extra[self.role]}]",
                     [VENV + "/bin/pip", "install", "--upgrade",
                      f"{self.source}[{extra[self.role]}]"])

    def path_link(self) -> None:
        """/usr/local/bin/lalopa -> the venv's script, so `sudo lalopa ...` is found."""
        link, target = self.path(PATH_LINK), VENV + "/bin/lalopa"
        if link.is_symlink() and os.readlink(link) == target:
            self.report("unchanged", PATH_LINK)
            return
        verb = "updated" if link.is_symlink() or link.exists() else "created"
        link.parent.mkdir(parents=True, exist_ok=True)
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(target)
        self.report(verb, f"{PATH_LINK} -> {target}")

    def config(self) -> None:
        example, name = EXAMPLES[self.role]
        target = f"/etc/lalopa/{name}"
        p = self.path(target)
        # The site's own edits win: only the keys given to the installer are set.
        text = p.read_text() if p.exists() else (REPO / example).read_text()
        if self.role == "server":
            self.write(target, text, 0o644, keep=True)
            return
        login = bool(self.mqtt_password) or self.path(bus_password_file(self.role)).exists()
        text = installed_config(self.role, text, device=self.device, server=self.server,
                                counter=self.counter, printer=self.printer, bus_login=login)
        self.write(target, text, 0o644)
        self._config_todos(target, tomllib.loads(text))

    def _config_todos(self, target: str, data: dict) -> None:
        """Name what the installed config still lacks, and the option that sets it."""
        if data.get("bus", {}).get("host", "127.0.0.1") in ("127.0.0.1", "localhost"):
            self.out(f"{'todo':10} {target}: alamat server belum diisi / server address not set: "
                     "re-run with --server 192.168.1.10 (the server's address)")
        if self.role == "kiosk" and data.get("printer", {}).get("backend", "none") == "none":
            self.out(f"{'todo':10} {target}: printer belum diisi / no printer set (tickets are "
                     "not printed): re-run with --printer network:IP or --printer usb:VID:PID")

    def credentials(self) -> None:
        self.path("/etc/lalopa").mkdir(parents=True, exist_ok=True)
        if self.role == "server":
            return self._server_broker_user()
        secrets_ = []
        mqtt = bus_password_file(self.role)
        secrets_.append(self._secret(mqtt, self.mqtt_password, "MQTT password",
                                     f"on the server run 'lalopa broker add-device --role "
                                     f"{self.role} --device ID --site SITE --password-out "
                                     f"ID.mqtt-password', then re-run with --mqtt-password-file"))
        token = token_file(self.role)
        if token:  # only the kiosk talks HTTP with a device token
            secrets_.append(self._secret(token, self.token, "device token",
                                         "on the server run 'lalopa token add --role kiosk "
                                         "--device ID --out ID.token', then re-run with "
                                         "--token-file ID.token"))
        self._group_owned([f for f in secrets_ if f])

    def _secret(self, target: str, value: str | None, what: str, howto: str) -> str | None:
        """Write a secret handed to us (0640), keep an existing one, or say what to do."""
        if value:
            self.write(target, value.strip() + "\n", SECRET_MODE)
        elif self.path(target).exists():
            self.write(target, "", SECRET_MODE, keep=True)
        else:
            self.out(f"{'todo':10} {target} ({what}): {howto}")
            return None
        return target

    def _server_broker_user(self) -> None:
        """The server's own broker log-in, made by `lalopa broker add-device`."""
        site = self._configured_site_id()
        target = SERVER_BUS_PASSWORD_FILE
        cmd = [VENV + "/bin/lalopa", "broker", "add-device", "--role", "server",
               "--device", "server", "--site", site, "--passwd-file", BROKER_PASSWD,
               "--acl-file", BROKER_ACL, "--password-out", target]
        exists = self.path(target).exists()
        if not exists and self.ledger.get("broker user server") != _digest(cmd):
            # add-device writes it 0600 root: its owner and mode are set again after it.
            self._forget_owner([target])
        self.command("broker user server", cmd, done=exists)
        self._group_owned([target])

    def _configured_site_id(self) -> str:
        p = self.path("/etc/lalopa/site.toml")
        try:
            return tomllib.loads(p.read_text()).get("site_id", "dinkes-claim")
        except (OSError, tomllib.TOMLDecodeError):
            return "dinkes-claim"

    def _group_owned(self, files: list[str]) -> None:
        """Secrets are root:lalopa 0640: the services (run as lalopa) read them, nobody else."""
        present = [f for f in files if self.path(f).exists() or not self.runner.execute]
        if not present:
            return
        if not all(self._secret_ok(f) for f in present):
            self._forget_owner(present)
        self.command(f"owner {' '.join(present)}", ["chown", f"root:{SERVICE_USER}", *present])
        self.command(f"mode {' '.join(present)}", ["chmod", f"{SECRET_MODE:04o}", *present])

    def _forget_owner(self, files: list[str]) -> None:
        for key in (f"owner {' '.join(files)}", f"mode {' '.join(files)}"):
            self.ledger.pop(key, None)

    def _secret_ok(self, target: str) -> bool:
        """Mode 0640 and (on a real system) group lalopa; a missing file is judged later."""
        p = self.path(target)
        if not p.exists():
            return True
        st = p.stat()
        if (st.st_mode & 0o777) != SECRET_MODE:
            return False
        if self.root != Path("/"):
            return True
        try:
            return st.st_gid == grp.getgrnam(SERVICE_USER).gr_gid
        except KeyError:
            return False

    def printer_udev(self) -> None:
        if self.write("/etc/udev/rules.d/60-lalopa-printer.rules", PRINTER_UDEV):
            self.ledger.pop("udev reload", None)
        # udevd reads the rules when it starts; only a running one must be told. A
        # container has none, and `udevadm control` then fails.
        if self.runner.execute and not self.path("/run/udev/control").exists():
            self.report("unchanged", "udev reload (udevd not running: rules apply when it starts)")
            return
        self.command("udev reload", ["udevadm", "control", "--reload-rules"])

    def mosquitto(self) -> None:
        from broker.admin import render_production  # stdlib-only: fine before the venv exists
        conf = render_production(port=1883, bind="0.0.0.0", passwd_file=BROKER_PASSWD,
                                 acl_file=BROKER_ACL)
        main_conf = self.path("/etc/mosquitto/mosquitto.conf")
        conf, clashes = fit_debian_main_conf(conf, main_conf.read_text() if main_conf.exists() else "")
        for line in clashes:
            self.out(f"{'todo':10} /etc/mosquitto/mosquitto.conf: comment out '{line}' "
                     "(our conf.d/lalopa.conf defines the listeners)")
        changed = self.write("/etc/mosquitto/conf.d/lalopa.conf", conf)
        changed |= self.write("/etc/systemd/system/mosquitto.service.d/lalopa.conf",
                              (UNITS / "mosquitto.service.d/lalopa.conf").read_text())
        if changed:
            self.ledger.pop("restart mosquitto", None)
        self.units_changed |= changed
        # add-device (above) made these; mosquitto reads them as group mosquitto, 0640.
        self.command("broker files owner", ["chown", "root:mosquitto", BROKER_PASSWD, BROKER_ACL])
        self.command("broker files mode", ["chmod", "0640", BROKER_PASSWD, BROKER_ACL])

    def front(self) -> None:
        """nginx in front of waitress (server/appliance/nginx.py says why), on port 8080."""
        from server.appliance.nginx import render  # stdlib-only, like broker.admin
        if self.write("/etc/nginx/nginx.conf", render()):
            self.ledger.pop("restart nginx", None)

    def units(self) -> None:
        changed = self.write("/etc/systemd/journald.conf.d/lalopa.conf",
                             (UNITS / "journald.conf.d/lalopa.conf").read_text())
        if changed:
            self.ledger.pop("restart journald", None)
        self.command("restart journald", ["systemctl", "restart", "systemd-journald"])
        for unit in SYSTEM_UNITS.get(self.role, []):
            self.units_changed |= self.write(f"/etc/systemd/system/{unit}",
                                             (UNITS / unit).read_text())
        if self.role in SCREEN_ROLES:
            self.screen()
        if self.units_changed:
            self.ledger.pop("daemon-reload", None)
            self.command("daemon-reload", ["systemctl", "daemon-reload"])
        else:
            self.report("unchanged", "daemon-reload (no unit changed)")

    def screen(self) -> None:
        """sway's config for this screen role (screen.py); a change restarts the screen."""
        if self.write(sway_config_path(self.role), sway_config(self.role, venv=VENV)):
            self.ledger.pop("restart screen", None)
        self.command("restart screen", ["systemctl", "try-restart", SCREEN_ROLES[self.role][0]])

    def enable(self) -> None:
        if self.role == "server":
            self.command("restart mosquitto", ["systemctl", "restart", "mosquitto.service"])
            self.command("restart nginx", ["systemctl", "restart", "nginx.service"])
            self.command("enable nginx", ["systemctl", "enable", "nginx.service"])
        units = SYSTEM_UNITS.get(self.role, [])
        enable = [u for u in units if not u.startswith("lalopa-backup.service")]
        if enable:
            self.command("enable " + " ".join(enable), ["systemctl", "enable", "--now", *enable])


# Options Mosquitto refuses to see twice ("Duplicate ... value") that Debian's
# own /etc/mosquitto/mosquitto.conf already sets before including conf.d/.
_SINGLE_VALUED = ("persistence", "persistence_location", "persistence_file", "pid_file",
                  "autosave_interval", "user")


def fit_debian_main_conf(drop_in: str, main_conf: str) -> tuple[str, list[str]]:
    """Drop our lines the main file already sets; return the main file's clashing listeners."""
    def active(text: str) -> list[str]:
        return [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("#")]
    main_keys = {ln.split()[0] for ln in active(main_conf)}
    kept = [ln for ln in drop_in.splitlines()
            if not (ln.strip() and not ln.lstrip().startswith("#")
                    and ln.split()[0] in _SINGLE_VALUED and ln.split()[0] in main_keys)]
    clashes = [ln for ln in active(main_conf) if ln.split()[0] in ("listener", "port")]
    return "\n".join(kept) + "\n", clashes


def _digest(cmd: list[str]) -> str:
    return hashlib.sha256("\0".join(cmd).encode()).hexdigest()[:16]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="lalopa install", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Siapkan Raspberry Pi ini untuk satu peran / provision this Raspberry Pi "
                    "for one role (server, kiosk, display, button).",
        epilog="examples:\n"
               "  sudo python3 -m server.appliance.install --role server\n"
               "  sudo lalopa install --role kiosk --device kiosk-1 --server 192.168.1.10 \\\n"
               "       --printer network:192.168.1.50 --token-file kiosk-1.token \\\n"
               "       --mqtt-password-file kiosk-1.mqtt-password\n"
               "  lalopa install --role display --root /tmp/stage   (plan only)")
    p.add_argument("--role", required=True, choices=ROLES)
    p.add_argument("--root", default="/", help="install under this directory (default /)")
    p.add_argument("--dry-run", "--no-exec", dest="no_exec", action="store_true",
                   help="record system commands instead of running them")
    p.add_argument("--token-file", help="kiosk token from 'lalopa token add' on the server")
    p.add_argument("--mqtt-password-file",
                   help="this device's broker password from 'lalopa broker add-device'")
    p.add_argument("--source", help="what pip installs (default: this checkout)")
    p.add_argument("--server", metavar="ADDRESS",
                   help="the server's address as devices reach it, e.g. 192.168.1.10 "
                        "(kiosk, display, button; written into the role's config)")
    p.add_argument("--device", metavar="ID",
                   help="this device's id, also its broker user (e.g. kiosk-1, board-1, box-05)")
    p.add_argument("--counter", type=int, help="button: the counter (loket) number of this box")
    p.add_argument("--printer", metavar="SPEC",
                   help="kiosk: network:IP[:PORT], usb:VID:PID (hex, from lsusb), "
                        "serial:/dev/ttyUSB0, file:/dev/usb/lp0 or none")
    return p


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    root = Path(args.root).resolve()
    execute = root == Path("/") and not args.no_exec
    if execute and os.geteuid() != 0:
        print("lalopa install: jalankan dengan sudo / run it with sudo", file=sys.stderr)
        return 1
    token = Path(args.token_file).read_text() if args.token_file else None
    mqtt = Path(args.mqtt_password_file).read_text() if args.mqtt_password_file else None
    try:
        server = parse_server(args.server) if args.server else None
        printer = parse_printer(args.printer) if args.printer else None
    except RoleConfigError as exc:
        print(f"lalopa install: {exc}", file=sys.stderr)
        return 2
    runner = Runner(execute=execute)
    installer = Installer(args.role, root, runner, token=token, mqtt_password=mqtt, source=args.source,
                          device=args.device, server=server, counter=args.counter, printer=printer)
    try:
        installer.install()
    except subprocess.CalledProcessError as exc:
        print(f"lalopa install: GAGAL / FAILED: {shlex.join(exc.cmd)} exited {exc.returncode}",
              file=sys.stderr)
        installer.save_ledger()
        return 1
    return 0


if __name__ == "__main__":  # first install, before the venv exists: python3 -m server.appliance.install
    sys.exit(main(sys.argv[1:]))
