"""A city on one machine: a throwaway CA, the central broker and sites bridged to it.

Used by the city tests and ``lalopa bench --city``. Every broker is a real
Mosquitto on loopback (server/devtools/mosquitto.py); the centre's listener
for the sites speaks TLS with a certificate from a CA made here and thrown
away afterwards. The configs come from the same functions as ``lalopa central
broker-config``, ``add-site`` and ``join``.
"""
from __future__ import annotations

import secrets
import subprocess
from dataclasses import dataclass
from pathlib import Path

from broker.acl import DeviceSpec
from broker.bus import free_port
from server.central import provision
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
