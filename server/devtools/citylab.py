"""A city on one machine: a throwaway CA, the central broker and sites bridged to it.

Used by the city tests and ``lalopa bench --city``. Every broker is a real
Mosquitto on loopback (server/devtools/mosquitto.py); the centre's listener
for the sites speaks TLS with a certificate from a CA made here and thrown
away afterwards. The configs come from the same functions as ``lalopa central
broker-config``, ``add-site`` and ``join``.
"""
from __future__ import annotations

import os
import secrets
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from broker.acl import DeviceSpec
from broker.bus import free_port
from server.central import provision
from server.devtools.benchlib.site import site_toml
from server.devtools.mosquitto import Mosquitto


@dataclass(frozen=True)
class Certs:
    ca: Path
    cert: Path
    key: Path


def make_ca(directory: Path) -> Certs:
    """A CA and a server certificate for 127.0.0.1/localhost, made with openssl, no passphrase."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    ca_key, ca, key, csr, cert = (d / n for n in ("ca.key", "ca.crt", "server.key", "server.csr",
                                                   "server.crt"))
    ext = d / "san.cnf"
    ext.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")

    def run(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)
    run("req", "-new", "-x509", "-days", "2", "-nodes", "-newkey", "rsa:2048", "-keyout", str(ca_key),
        "-out", str(ca), "-subj", "/CN=LALOPA test city CA")
    run("req", "-new", "-nodes", "-newkey", "rsa:2048", "-keyout", str(key), "-out", str(csr),
        "-subj", "/CN=lalopa-central")
    run("x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key), "-CAcreateserial",
        "-out", str(cert), "-days", "2", "-extfile", str(ext))
    for p in (ca_key, key):
        p.chmod(0o600)
    return Certs(ca, cert, key)


class CentralBroker(Mosquitto):
    """The centre's Mosquitto: TLS listener for sites, loopback listener for the central role."""

    def __init__(self, directory: Path, certs: Certs):
        super().__init__(anonymous=False, persistence=True)
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.tls_port = free_port()
        self.certs = certs
        self.passwd, self.acl = self.dir / "passwd", self.dir / "acl"
        self.central_password = secrets.token_urlsafe(12)
        provision.add_central_user(self.passwd, self.acl, self.central_password)
        self.production_config = provision.render_central(
            tls_port=self.tls_port, bind="127.0.0.1", local_port=self.port,
            passwd_file=str(self.passwd), acl_file=str(self.acl), cafile=str(certs.ca),
            certfile=str(certs.cert), keyfile=str(certs.key), persistence_dir=str(self.dir),
            log_dest=("stdout",))

    def add_site(self, site: str) -> str:
        """Provision a site as ``lalopa central add-site`` does; reloads the broker if running."""
        password = secrets.token_urlsafe(12)
        provision.add_site(site, self.passwd, self.acl, password)
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(1)  # SIGHUP: re-read passwd and acl, keep clients
        return password


def site_broker(directory: Path, site: str, central: CentralBroker, password: str) -> Mosquitto:
    """A site's production broker (server + uplink users) bridged to ``central`` over TLS. Not started."""
    devices = [DeviceSpec("server", "server-1", site), DeviceSpec("server", "uplink", site)]
    broker = Mosquitto.production(Path(directory), devices=devices)
    broker.extra_config = provision.render_bridge(
        site=site, host="127.0.0.1", port=central.tls_port, password=password,
        cafile=str(central.certs.ca))
    return broker


class LinkProxy:
    """A loopback TCP relay standing for one site's wide-area link; :meth:`cut` drops it.

    The site's bridge connects here instead of to the centre, so a test can
    cut exactly one site's link (open connections are reset, new ones refused)
    and restore it, while every broker keeps running."""

    def __init__(self, target_port: int, host: str = "127.0.0.1"):
        self.host, self.target_port = host, target_port
        self.port = free_port()
        self._lock = threading.Lock()
        self._socks: list = []
        self._server = None
        self.restore()

    def restore(self) -> None:
        srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind((self.host, self.port))
        srv.listen(16)
        self._server = srv
        threading.Thread(target=self._accept, args=(srv,), daemon=True).start()

    def _accept(self, srv) -> None:
        while True:
            try:
                client, _ = srv.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection((self.host, self.target_port), timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._socks += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src, dst) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self) -> None:
        if self._server is not None:
            # shutdown() wakes the thread blocked in accept(); close() alone would
            # leave the port bound until that call returns.
            try:
                self._server.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._server.close()
            self._server = None
        with self._lock:
            socks, self._socks = self._socks, []
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def close(self) -> None:
        self.cut()


REPO = Path(__file__).resolve().parents[2]


def lalopa(*args: str, **kw) -> subprocess.CompletedProcess:
    """Run one ``lalopa`` command as an operator would; raises with its stderr on failure."""
    done = subprocess.run([sys.executable, "-m", "broker.cli", *args], capture_output=True, text=True,
                          timeout=60, cwd=REPO, **kw)
    if done.returncode != 0:
        raise RuntimeError(f"lalopa {' '.join(args[:2])} failed: {done.stderr[-1500:]}")
    return done


class CitySite:
    """One real site on this machine: its broker (bridged to the centre through a LinkProxy),
    its server and its uplink, each provisioned with the documented commands."""

    def __init__(self, directory: Path, site: str, central: CentralBroker, dsn: str,
                 name: str | None = None, env: dict | None = None):
        self.dir, self.site, self.central = Path(directory), site, central
        self.dir.mkdir(parents=True, exist_ok=True)
        self.env = dict(os.environ, PYTHONUNBUFFERED="1", **(env or {}))
        self.procs: dict[str, subprocess.Popen] = {}
        # The centre: one command (credential, ACL, record); the broker re-reads its files.
        pw_file = self.dir / "city.password"
        lalopa("central", "add-site", "--site", site, "--name", name or site, "--dsn", dsn,
               "--cluster", "A=dewasa-lansia", "--cluster", "B=lintas-klaster",
               "--passwd-file", str(central.passwd), "--acl-file", str(central.acl),
               "--password-out", str(pw_file))
        if central.proc and central.proc.poll() is None:
            central.proc.send_signal(1)
        self.link = LinkProxy(central.tls_port)
        self.broker = Mosquitto.production(self.dir / "broker", devices=[DeviceSpec("server", "server-1", site)])
        bdir = self.broker.dir
        # The site: one command (bridge config, uplink user).
        lalopa("central", "join", "--site", site, "--centre", f"127.0.0.1:{self.link.port}",
               "--password-file", str(pw_file), "--ca", str(central.certs.ca), "--out", str(bdir / "conf.d"),
               "--passwd-file", str(bdir / "passwd"), "--acl-file", str(bdir / "acl"),
               "--uplink-password-out", str(self.dir / "uplink.password"))
        self.broker.extra_config = (bdir / "conf.d" / "lalopa-city.conf").read_text()
        (self.dir / "server.password").write_text(self.broker.credentials["server-1"][1] + "\n")
        self.site_file = self.dir / "site.toml"
        self.site_file.write_text(site_toml(site))
        self.db = self.dir / "lalopa.db"
        self.http_port = free_port()
        self.tokens = {}

    def start(self) -> "CitySite":
        from server.devtools.demo_support import token_from_output
        self.broker.start()
        for device, role in (("kiosk-1", "kiosk"), ("panel-1", "panel")):
            out = lalopa("token", "add", "--db", str(self.db), "--device", device, "--role", role)
            self.tokens[role] = token_from_output(out.stdout)
        self._spawn("server", "server", "--site", str(self.site_file), "--db", str(self.db),
                    "--port", str(self.http_port), "--mqtt-host", "127.0.0.1",
                    "--mqtt-port", str(self.broker.port), "--mqtt-user", "server-1",
                    "--mqtt-password-file", str(self.dir / "server.password"))
        self._spawn("uplink", "central", "uplink", "--db", str(self.db), "--site", self.site,
                    "--mqtt-port", str(self.broker.port),
                    "--mqtt-password-file", str(self.dir / "uplink.password"))
        return self

    def _spawn(self, name: str, *args: str) -> None:
        log = open(self.dir / f"{name}.log", "ab")
        self.procs[name] = subprocess.Popen([sys.executable, "-m", "broker.cli", *args], cwd=REPO,
                                            env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL)
        log.close()

    def api(self):
        from server.devtools.simulate import Api
        return Api(f"http://127.0.0.1:{self.http_port}", self.tokens["kiosk"], self.tokens["panel"])

    def wait_http(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.procs["server"].poll() is None:
            try:
                with socket.create_connection(("127.0.0.1", self.http_port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.1)
        raise TimeoutError(f"{self.site}: server did not listen: {(self.dir / 'server.log').read_text()[-1500:]}")

    def head(self) -> int:
        conn = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True)
        try:
            return conn.execute("SELECT COALESCE(MAX(id), 0) FROM events").fetchone()[0]
        finally:
            conn.close()

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        self.link.close()
        self.broker.cleanup()
