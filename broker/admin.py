"""``lalopa broker``: add a device to the production broker, write its config.

``add-device`` creates (or resets) the device's broker user with
``mosquitto_passwd -b``, writes its ACL block (idempotent) and prints what the
device needs: user name, password and the ``[bus]`` TOML snippet.
``write-config`` renders ``broker/mosquitto/production.conf`` for one site.

Example::

    lalopa broker write-config --out /etc/mosquitto/conf.d
    lalopa broker write-config --out /etc/mosquitto/conf.d \\
        --persistence-dir /srv/mosquitto --log-dest file:/var/log/mosquitto/lalopa.log
    lalopa broker add-device --role button --device box-05 --counter 5 \\
        --site dinkes-claim --passwd-file /etc/mosquitto/lalopa.passwd \\
        --acl-file /etc/mosquitto/lalopa.acl
"""
from __future__ import annotations

import argparse
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

from .acl import AclError, DeviceSpec, upsert_file

CONF_DIR = Path(__file__).with_name("mosquitto")
DEFAULT_PASSWD = "/etc/mosquitto/lalopa.passwd"
DEFAULT_ACL = "/etc/mosquitto/lalopa.acl"


class AdminError(RuntimeError):
    """A broker admin step failed; the message says what to do."""


def mosquitto_passwd_binary() -> str:
    for candidate in (shutil.which("mosquitto_passwd"), "/usr/bin/mosquitto_passwd"):
        if candidate and Path(candidate).exists():
            return candidate
    raise AdminError("mosquitto_passwd tidak ditemukan / not found: apt-get install mosquitto")


def set_password(passwd_file: Path, username: str, password: str) -> None:
    """Create or update one user in a Mosquitto password file (hashed by mosquitto_passwd)."""
    passwd_file = Path(passwd_file)
    cmd = [mosquitto_passwd_binary()]
    if not passwd_file.exists():
        cmd.append("-c")  # -b alone refuses to create the file
    cmd += ["-b", str(passwd_file), username, password]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    if done.returncode != 0:
        raise AdminError(f"mosquitto_passwd failed: {(done.stderr or done.stdout).strip()}")
    passwd_file.chmod(0o640)


def add_device(spec: DeviceSpec, passwd_file: Path, acl_file: Path,
               password: str | None = None) -> str:
    """Create/refresh the device's user and ACL block; returns its password."""
    spec.check()
    password = password or secrets.token_urlsafe(18)
    set_password(passwd_file, spec.username, password)
    # Same password, no rights: what `lalopa doctor` logs in as (see DeviceSpec).
    set_password(passwd_file, spec.doctor_username, password)
    upsert_file(acl_file, spec)
    return password


def bus_snippet(spec: DeviceSpec, host: str, port: int, password_file: str) -> str:
    """The ``[bus]`` table the device's TOML config needs."""
    return "\n".join([
        f'device_id = "{spec.device}"',
        "",
        "[bus]",
        f'host = "{host}"',
        f"port = {port}",
        f'site = "{spec.site}"',
        f'username = "{spec.username}"',
        f'password_file = "{password_file}"',
        '# tls_ca = "/etc/lalopa/ca.crt"   # only with the TLS listener (port 8883)',
    ])


DEFAULT_PERSISTENCE = "/var/lib/mosquitto/"
DEFAULT_LOG_DEST = ("syslog",)
# What an office needs to see in the log; "information" would log every connection.
LOG_TYPES = ("error", "warning", "notice")


def log_dest_lines(dests: tuple[str, ...] | list[str]) -> str:
    """Mosquitto ``log_dest`` lines from ``syslog``, ``stdout``, ``stderr``, ``none`` or
    ``file:/path`` (Mosquitto opens the file itself, so its user must be able to write it)."""
    lines = []
    for dest in dests:
        kind, _, path = dest.partition(":")
        if kind == "file" and path.startswith("/"):
            lines.append(f"log_dest file {path}")
        elif kind in ("syslog", "stdout", "stderr", "none") and not path:
            lines.append(f"log_dest {kind}")
        else:
            raise ValueError(f"log_dest tidak dikenal / unknown log destination {dest!r}: "
                             "pakai / use syslog, stdout, stderr, none or file:/absolute/path")
    return "\n".join(lines + [f"log_type {t}" for t in LOG_TYPES])


def render_production(port: int = 1883, bind: str = "0.0.0.0",
                      passwd_file: str = DEFAULT_PASSWD, acl_file: str = DEFAULT_ACL,
                      persistence_dir: str = DEFAULT_PERSISTENCE,
                      log_dest: tuple[str, ...] | list[str] = DEFAULT_LOG_DEST) -> str:
    """``production.conf`` with the site's paths filled in."""
    if not persistence_dir.startswith("/"):
        raise ValueError(f"persistence dir harus path absolut / must be an absolute path: "
                         f"{persistence_dir!r}")
    # Mosquitto appends the file name to persistence_location as it stands.
    persistence_dir = persistence_dir.rstrip("/") + "/"
    log_lines = log_dest_lines(log_dest)
    text = (CONF_DIR / "production.conf").read_text()
    for key, value in {"@PORT@": str(port), "@BIND@": bind, "@PASSWD_FILE@": passwd_file,
                       "@ACL_FILE@": acl_file, "@PERSISTENCE_DIR@": persistence_dir,
                       "@LOG_LINES@": log_lines}.items():
        text = text.replace(key, value)
    return text


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="lalopa broker", description="Mosquitto tools for LALOPA")
    sub = p.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("add-device", help="create a device's broker user and ACL entry")
    a.add_argument("--role", required=True, choices=["button", "display", "kiosk", "panel", "server"])
    a.add_argument("--device", required=True)
    a.add_argument("--counter", type=int)
    a.add_argument("--site", required=True)
    a.add_argument("--passwd-file", default=DEFAULT_PASSWD)
    a.add_argument("--acl-file", default=DEFAULT_ACL)
    a.add_argument("--broker-host", default="127.0.0.1", help="host the device connects to")
    a.add_argument("--broker-port", type=int, default=1883)
    a.add_argument("--password-out", help="also write the password to this file (mode 0600)")
    w = sub.add_parser("write-config", help="write the production mosquitto.conf")
    w.add_argument("--out", required=True, help="directory to write lalopa.conf into")
    w.add_argument("--port", type=int, default=1883)
    w.add_argument("--bind", default="0.0.0.0")
    w.add_argument("--passwd-file", default=DEFAULT_PASSWD)
    w.add_argument("--acl-file", default=DEFAULT_ACL)
    w.add_argument("--persistence-dir", default=DEFAULT_PERSISTENCE,
                   help="where Mosquitto keeps mosquitto.db (default %(default)s); "
                        "writable by the mosquitto user")
    w.add_argument("--log-dest", action="append", metavar="DEST",
                   help="syslog (default), stdout, stderr, none or file:/path; repeat for several")
    return p


def _cmd_add(args) -> int:
    spec = DeviceSpec(role=args.role, device=args.device, site=args.site, counter=args.counter)
    password = add_device(spec, Path(args.passwd_file), Path(args.acl_file))
    pw_path = args.password_out or f"/etc/lalopa/{args.device}.password"
    if args.password_out:
        out = Path(args.password_out)
        out.write_text(password + "\n")
        out.chmod(0o600)
    print(f"username: {spec.username}")
    print(f"password: {password}")
    print(f"# Simpan kata sandi di {pw_path} pada perangkat / store the password in {pw_path}")
    print("# Reload the broker: sudo systemctl reload mosquitto (or kill -HUP)")
    print(bus_snippet(spec, args.broker_host, args.broker_port, pw_path))
    return 0


def _cmd_write_config(args) -> int:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    target = out / "lalopa.conf"
    target.write_text(render_production(args.port, args.bind, args.passwd_file, args.acl_file,
                                        persistence_dir=args.persistence_dir,
                                        log_dest=args.log_dest or DEFAULT_LOG_DEST))
    print(f"wrote {target}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _cmd_add(args) if args.cmd == "add-device" else _cmd_write_config(args)
    except (AclError, AdminError, ValueError, OSError) as exc:
        print(f"lalopa broker: gagal / failed: {exc}", file=sys.stderr)
        return 1
