"""``lalopa central``: the city's centre, and a site's side of the city link.

At the centre::

    lalopa central broker-config --out /etc/mosquitto/conf.d --cafile ... --certfile ... --keyfile ...
    lalopa central add-site --site pkm-sukajadi --name "Puskesmas Sukajadi" \\
        --cluster A=dewasa-lansia --cluster B=ibu-anak --dsn postgresql://lalopa@/lalopa
    lalopa central serve --dsn postgresql://lalopa@/lalopa --mqtt-password-file /etc/lalopa/central.password
    lalopa central add-viewer --dsn postgresql://lalopa@/lalopa --name dinkes-kepala

At a site (one command, with the password and CA the centre handed over)::

    lalopa central join --site pkm-sukajadi --centre kota.example:8883 \\
        --password-file /etc/lalopa/city.password --ca /etc/lalopa/city-ca.crt
    lalopa central uplink --db /var/lib/lalopa/lalopa.db --site pkm-sukajadi \\
        --mqtt-password-file /etc/lalopa/uplink.password
"""
from __future__ import annotations

import argparse
import grp
import logging
import os
import secrets
import signal
import sys
import threading
import time
from pathlib import Path

from broker.admin import DEFAULT_ACL, DEFAULT_PASSWD, AdminError
from broker.acl import AclError
from server.appliance.install import SERVICE_USER

log = logging.getLogger("lalopa.central")
CENTRAL_PASSWD = "/etc/mosquitto/lalopa-central.passwd"
CENTRAL_ACL = "/etc/mosquitto/lalopa-central.acl"


def _secret(path: str | None) -> str | None:
    if not path:
        return None
    return Path(path).read_text().strip()


def _write_secret(path: str, value: str, for_service: bool = False) -> None:
    """Write a password file 0600. One that a LALOPA service reads (``for_service``:
    the centre's and the uplink's own broker passwords) becomes root:lalopa 0640 when
    run as root on a machine with the service user, so the unit running as ``lalopa``
    can open it and nobody else can."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value + "\n")
    os.chmod(path, 0o600)
    if for_service and os.geteuid() == 0:
        try:
            gid = grp.getgrnam(SERVICE_USER).gr_gid
        except KeyError:
            return  # no service user here (yet): the file stays root-only
        os.chown(path, 0, gid)
        os.chmod(path, 0o640)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="lalopa central", description="The city's centre and the city link.")
    sub = p.add_subparsers(dest="cmd", required=True)

    s = sub.add_parser("serve", help="ingest every site into PostgreSQL and serve the city dashboard")
    s.add_argument("--dsn", required=True, help="PostgreSQL connection, e.g. postgresql://lalopa@/lalopa")
    s.add_argument("--mqtt-host", default="127.0.0.1")
    s.add_argument("--mqtt-port", type=int, default=1884, help="the central broker's loopback listener")
    s.add_argument("--mqtt-user", default="central")
    s.add_argument("--mqtt-password-file")
    s.add_argument("--host", default="127.0.0.1", help="dashboard address (default loopback)")
    s.add_argument("--port", type=int, default=8090)

    b = sub.add_parser("broker-config", help="write the central Mosquitto's config and its own user")
    b.add_argument("--out", required=True, help="directory to write lalopa-central.conf into")
    b.add_argument("--tls-port", type=int, default=8883)
    b.add_argument("--bind", default="0.0.0.0")
    b.add_argument("--local-port", type=int, default=1884)
    b.add_argument("--cafile", required=True)
    b.add_argument("--certfile", required=True)
    b.add_argument("--keyfile", required=True)
    b.add_argument("--passwd-file", default=CENTRAL_PASSWD)
    b.add_argument("--acl-file", default=CENTRAL_ACL)
    b.add_argument("--persistence-dir", default="/var/lib/mosquitto/")
    b.add_argument("--central-password-out", default="/etc/lalopa/central.password")

    a = sub.add_parser("add-site", help="at the centre: a site's credential, ACL and record")
    a.add_argument("--site", required=True)
    a.add_argument("--name", required=True, help="the site's name on the dashboard")
    a.add_argument("--tz", default="Asia/Jakarta")
    a.add_argument("--target-wait-min", type=int, default=30)
    a.add_argument("--cluster", action="append", default=[], metavar="PREFIX=CLUSTER",
                   help="the service cluster of a service prefix; repeat per service")
    a.add_argument("--dsn", required=True)
    a.add_argument("--passwd-file", default=CENTRAL_PASSWD)
    a.add_argument("--acl-file", default=CENTRAL_ACL)
    a.add_argument("--password-out", help="write the site's password here (mode 0600) to hand over")
    a.add_argument("--centre", default="CENTRE-HOST:8883", help="how sites reach the centre (for the printed command)")

    v = sub.add_parser("add-viewer", help="at the centre: a person who may open the city dashboard")
    v.add_argument("--dsn", required=True)
    v.add_argument("--name", required=True)
    v.add_argument("--password-file", help="read the password from this file (default: generate one)")

    j = sub.add_parser("join", help="at a site: bridge the site's broker to the centre, add the uplink user")
    j.add_argument("--site", required=True)
    j.add_argument("--centre", required=True, metavar="HOST:PORT")
    j.add_argument("--password-file", required=True, help="the site's password from 'add-site'")
    j.add_argument("--ca", required=True, help="the centre's CA certificate")
    j.add_argument("--out", default="/etc/mosquitto/conf.d", help="where the bridge config goes")
    j.add_argument("--passwd-file", default=DEFAULT_PASSWD, help="the site broker's password file")
    j.add_argument("--acl-file", default=DEFAULT_ACL, help="the site broker's ACL file")
    j.add_argument("--uplink-password-out", default="/etc/lalopa/uplink.password")

    u = sub.add_parser("uplink", help="at a site: send the event log to the centre (runs beside the server)")
    u.add_argument("--db", required=True, help="the site server's SQLite database")
    u.add_argument("--site", required=True)
    u.add_argument("--mqtt-host", default="127.0.0.1")
    u.add_argument("--mqtt-port", type=int, default=1883)
    u.add_argument("--mqtt-user", default="uplink")
    u.add_argument("--mqtt-password-file")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from server.central.provision import ProvisionError
    from server.central.store import CentralError
    try:
        return {"serve": _serve, "broker-config": _broker_config, "add-site": _add_site,
                "add-viewer": _add_viewer, "join": _join, "uplink": _uplink}[args.cmd](args)
    except (ProvisionError, CentralError, AclError, AdminError, OSError, ValueError) as exc:
        print(f"lalopa central {args.cmd}: gagal / failed: {exc}", file=sys.stderr)
        return 1


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    return stop


def _serve(args) -> int:
    import waitress

    from server.central.ingest import Centre
    from server.central.store import Store
    from server.central.web import create_app
    store = Store(args.dsn)
    centre = Centre(store, host=args.mqtt_host, port=args.mqtt_port, username=args.mqtt_user,
                    password=_secret(args.mqtt_password_file))
    stop = _stop_on_signals()
    http = waitress.create_server(create_app(args.dsn), host=args.host, port=args.port, threads=8,
                                  ident="lalopa-central")
    web = threading.Thread(target=http.run, name="city-dashboard", daemon=True)
    web.start()
    centre.start()
    print(f"lalopa central: dashboard on http://{args.host}:{http.effective_port}", file=sys.stderr,
          flush=True)
    try:
        centre.run(stop)
    finally:
        centre.stop()
        http.close()
        store.close()
    return 0


def _broker_config(args) -> int:
    from server.central import provision
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(18)
    provision.add_central_user(Path(args.passwd_file), Path(args.acl_file), password)
    _write_secret(args.central_password_out, password, for_service=True)
    target = out / "lalopa-central.conf"
    target.write_text(provision.render_central(
        tls_port=args.tls_port, bind=args.bind, local_port=args.local_port, passwd_file=args.passwd_file,
        acl_file=args.acl_file, cafile=args.cafile, certfile=args.certfile, keyfile=args.keyfile,
        persistence_dir=args.persistence_dir))
    print(f"wrote {target}; the centre's own password is in {args.central_password_out}")
    return 0


def _add_site(args) -> int:
    from server.central import provision
    from server.central.store import Store
    provision.check_site(args.site)
    clusters = {}
    for item in args.cluster:
        prefix, sep, cluster = item.partition("=")
        if not sep or not prefix:
            raise ValueError(f"--cluster {item!r}: pakai / use PREFIX=CLUSTER, e.g. A=ibu-anak")
        clusters[prefix] = cluster
    store = Store(args.dsn)
    try:
        store.add_site(args.site, args.name, tz=args.tz, target_wait_min=args.target_wait_min,
                       clusters=clusters, now_ms=int(time.time() * 1000))
    finally:
        store.close()
    password = secrets.token_urlsafe(18)
    provision.add_site(args.site, Path(args.passwd_file), Path(args.acl_file), password)
    if args.password_out:
        _write_secret(args.password_out, password)
    print(f"site: {args.site}\npassword: {password}")
    print("# Muat ulang broker pusat / reload the central broker: sudo systemctl reload mosquitto")
    print("# Serahkan kata sandi dan ca.crt ke situs, lalu jalankan di situs / hand the password and "
          "ca.crt to the site, then run there:")
    print(f"sudo lalopa central join --site {args.site} --centre {args.centre} "
          f"--password-file /etc/lalopa/city.password --ca /etc/lalopa/city-ca.crt")
    return 0


def _add_viewer(args) -> int:
    from server.central.store import Store
    from server.central.viewers import add_viewer
    store = Store(args.dsn)
    try:
        password = add_viewer(store, args.name, _secret(args.password_file))
    finally:
        store.close()
    print(f"viewer: {args.name.strip().lower()}")
    if not args.password_file:
        print(f"password: {password}")
    return 0


def _join(args) -> int:
    from server.central import provision
    host, sep, port = args.centre.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"--centre {args.centre!r}: pakai / use HOST:PORT")
    if not Path(args.ca).exists():
        raise ValueError(f"--ca {args.ca}: berkas tidak ada / no such file")
    text = provision.render_bridge(site=args.site, host=host, port=int(port),
                                   password=_secret(args.password_file), cafile=str(Path(args.ca).resolve()))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    target = out / "lalopa-city.conf"
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640)  # it holds the site's password
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    uplink_pw = secrets.token_urlsafe(18)
    provision.add_uplink(args.site, Path(args.passwd_file), Path(args.acl_file), uplink_pw)
    _write_secret(args.uplink_password_out, uplink_pw, for_service=True)
    print(f"wrote {target} (bridge to {args.centre}); uplink user 'uplink', password in "
          f"{args.uplink_password_out}")
    print("# Muat ulang broker situs / restart the site's broker: sudo systemctl restart mosquitto")
    print("# Lalu jalankan pengirim / then run the uplink: lalopa central uplink --db DB "
          f"--site {args.site} --mqtt-password-file {args.uplink_password_out}")
    return 0


def _uplink(args) -> int:
    from broker.bus import BusClient
    from server.central.uplink import Uplink
    bus = BusClient(site=args.site, role="server", device=args.mqtt_user, host=args.mqtt_host,
                    port=args.mqtt_port, username=args.mqtt_user,
                    password=_secret(args.mqtt_password_file), max_queued=2000)
    uplink = Uplink(args.db, bus)
    stop = _stop_on_signals()
    bus.start()
    print(f"lalopa central uplink: {args.site} from {args.db}", file=sys.stderr, flush=True)
    try:
        uplink.run(stop)
    finally:
        bus.stop()
        uplink.close()
    return 0
