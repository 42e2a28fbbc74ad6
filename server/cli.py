"""``lalopa server|db|token|user``: command-line entry points (each takes argv).

Domain errors (ConfigError, QueueError) become one-line messages and exit
codes here, at the edge; ``LALOPA_DEBUG=1`` re-raises them with a traceback.
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import time

from broker import settings
from server import httplimits
from server.config import EXAMPLE_SITE, load_site
from server.errors import ConfigError, QueueError

log = logging.getLogger("lalopa.server")


def _fail(message: str) -> int:
    if sys.exc_info()[0] is not None and settings.get("LALOPA_DEBUG"):
        raise
    print(f"lalopa: {message}", file=sys.stderr)
    return 1


# ----------------------------------------------------------------- server

def server_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="lalopa server", description="Run the queue server.")
    p.add_argument("--site", default=settings.get("LALOPA_SITE") or str(EXAMPLE_SITE),
                   help="site TOML file (default: $LALOPA_SITE or the example site)")
    p.add_argument("--db", default=settings.get("LALOPA_DB"), help="SQLite database file")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--threads", type=int, default=httplimits.THREADS,
                   help="waitress worker threads; each open live page (dashboard, panel) "
                        "holds one, and 6 stay free for the API")
    p.add_argument("--trusted-proxy", metavar="ADDR",
                   help="the HTTP front's address (127.0.0.1 behind nginx): only its "
                        "X-Forwarded-For/-Proto are believed, and they name the client")
    p.add_argument("--validate-config", action="store_true", help="check the site file and exit 0/1")
    p.add_argument("--mqtt-host", help="start the MQTT bridge to this broker")
    p.add_argument("--mqtt-port", type=int, default=1883)
    p.add_argument("--mqtt-user")
    p.add_argument("--mqtt-password-file")
    p.add_argument("--mqtt-tls-ca", help="CA certificate for the broker's TLS listener")
    return p


def server_main(argv: list[str]) -> int:
    problem = settings.check_at_start("lalopa server")
    if problem:
        print(problem, file=sys.stderr)
        return 1
    args = server_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        site = load_site(args.site)
    except ConfigError as exc:
        return _fail(str(exc))
    if args.validate_config:
        print(f"{args.site}: ok ({len(site.services)} services, {len(site.counters)} counters)")
        return 0
    import waitress  # imported here: a button box never needs the web stack

    from server.app import create_app
    try:
        app = create_app({"LALOPA_SITE": args.site, "LALOPA_DB": args.db,
                          "LALOPA_SSE_MAX_STREAMS": max(1, args.threads - 6)})
    except QueueError as exc:
        return _fail(str(exc))
    svc = app.extensions["lalopa.queue"]
    site = svc.site  # the file with the admin's stored edits: the bridge must not keep the file's copy
    bridge = _start_bridge(app, svc, site, args)
    server = waitress.create_server(app, **waitress_options(args))
    signal.signal(signal.SIGTERM, lambda *_: server.close())
    print(f"lalopa server: {site.facility} on http://{args.host}:{server.effective_port}",
          file=sys.stderr, flush=True)
    _notify_ready()
    try:
        from server.systemd import serve
        # server.run() plus WATCHDOG=1 pings from this main loop, while the bus moves
        serve(server, alive=getattr(bridge, "alive", None))
    except (KeyboardInterrupt, OSError):
        pass
    finally:
        if bridge is not None and hasattr(bridge, "stop"):
            bridge.stop()
        svc.close()
    return 0


def waitress_options(args) -> dict:
    """waitress's own limits (server/httplimits.py), also when it faces the LAN directly.

    A body over the limit is refused from its Content-Length (or as soon as a chunked
    body passes it) instead of being read and spooled to disk up to waitress's 1 GiB
    default; idle connections are closed after CHANNEL_TIMEOUT_S instead of 120 s."""
    options = dict(host=args.host, port=args.port, threads=args.threads,
                   max_request_body_size=httplimits.MAX_BODY_BYTES,
                   inbuf_overflow=httplimits.MAX_BODY_BYTES,
                   connection_limit=httplimits.CONNECTION_LIMIT,
                   channel_timeout=httplimits.CHANNEL_TIMEOUT_S, ident="lalopa")
    if args.trusted_proxy:
        options.update(trusted_proxy=args.trusted_proxy, trusted_proxy_count=1,
                       trusted_proxy_headers={"x-forwarded-for", "x-forwarded-proto"},
                       clear_untrusted_proxy_headers=True)
    return options


def _start_bridge(app, svc, site, args):
    """The bus bridge when ``--mqtt-host`` is given; a missing bridge stops the start."""
    if not args.mqtt_host:
        return None
    from server.bridge import start_bridge
    return start_bridge(app, svc, site, args)


def _notify_ready() -> None:
    from server.systemd import notify
    try:
        notify("READY=1")
    except OSError:  # the notify socket went away: systemd's start timeout reports it
        pass


# ----------------------------------------------------------------- db

def db_main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="lalopa db", description="Database tools.")
    sub = p.add_subparsers(dest="cmd", required=True)
    for name, text in (("init", "create the database or apply new migrations"),
                       ("migrate", "same as init")):
        sub.add_parser(name, help=text).add_argument("--db", required=True)
    b = sub.add_parser("backup", help="online backup (safe while the server runs)")
    b.add_argument("--db", required=True)
    b.add_argument("--out", required=True)
    args = p.parse_args(argv)
    from server import db
    try:
        if args.cmd == "backup":
            if not os.path.exists(args.db):
                return _fail(f"{args.db}: no such database")
            started = time.monotonic()
            db.backup(args.db, args.out)
            print(f"backed up {args.db} to {args.out} in {time.monotonic() - started:.2f} s")
            return 0
        conn = db.connect(args.db)
        applied = db.migrate(conn)
        conn.close()
        print(f"{args.db}: applied {', '.join(applied)}" if applied else f"{args.db}: up to date")
        return 0
    except Exception as exc:  # sqlite3 errors, disk full: one line for the operator
        return _fail(f"{args.cmd} failed: {exc}")


# ----------------------------------------------------------------- token

def token_main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="lalopa token", description="Device tokens.")
    sub = p.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("add", help="create or replace a device's token and print it")
    a.add_argument("--device", required=True)
    a.add_argument("--out", metavar="FILE",
                   help="also write the token to FILE (mode 0640), to copy to the device and "
                        "hand to `lalopa install --token-file FILE`")
    a.add_argument("--role", required=True, help="kiosk, panel, display, button or admin")
    a.add_argument("--counter", type=int,
                   help="bind a panel or button token to this counter (default: any counter)")
    r = sub.add_parser("revoke", help="revoke a device's token")
    r.add_argument("--device", required=True)
    sub.add_parser("list", help="list devices")
    for sp in (a, r, sub.choices["list"]):
        sp.add_argument("--db", required=True)
    args = p.parse_args(argv)
    from server import devices
    from server.db import Database
    database = Database(args.db)
    now = int(time.time() * 1000)
    try:
        if args.cmd == "add":
            if args.out and os.path.isdir(args.out):
                return _fail(f"--out {args.out} adalah folder / is a directory: name a file")
            token = database.write(lambda c: devices.add(c, args.device, args.role, now,
                                                         args.counter))
            print(token)
            if args.out:
                _write_secret(args.out, token)
                print(f"# token ditulis ke / written to {args.out}: salin ke perangkat / copy it to "
                      f"the device, then: sudo lalopa install --role {args.role} --token-file "
                      f"{os.path.basename(args.out)}", file=sys.stderr)
        elif args.cmd == "revoke":
            if not database.write(lambda c: devices.revoke(c, args.device, now)):
                return _fail(f"no active token for device {args.device!r}")
            print(f"revoked {args.device}")
        else:
            for d in devices.listing(database.read()):
                state = "revoked" if d["revoked_ms"] else "active"
                bound = f"loket {d['counter']}" if d["counter"] is not None else "-"
                print(f"{d['id']:<20} {d['role']:<8} {bound:<10} {state}")
        return 0
    except QueueError as exc:
        return _fail(exc.message_en)
    finally:
        database.close()


def _write_secret(path: str, value: str) -> None:
    """``value`` into ``path``, created 0640 (never readable by others, even for a moment)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640)
    with os.fdopen(fd, "w") as fh:
        fh.write(value + "\n")
    os.chmod(path, 0o640)  # an existing file keeps its old mode through os.open


# ----------------------------------------------------------------- user

def user_main(argv: list[str]) -> int:
    """Staff accounts live in server/auth.py."""
    from server.auth import user_main as auth_user_main
    return auth_user_main(argv)
