"""Run a real, private Mosquitto on a free loopback port.

Used by the test fixtures, ``make demo`` and ``lalopa bench``: the bus is never
faked. The development config listens on 127.0.0.1 only and allows anonymous
clients; extra config lines (password file, ACL file, ...) turn it into the
production shape for ACL tests.

Example::

    with Mosquitto() as broker:
        print(broker.port)
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from broker.bus import free_port


class MosquittoNotFound(RuntimeError):
    """The mosquitto binary is not installed (``apt-get install mosquitto``)."""


def mosquitto_binary() -> str:
    for candidate in (shutil.which("mosquitto"), "/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise MosquittoNotFound("mosquitto is not installed: run 'make deps' or 'apt-get install mosquitto'")


class Mosquitto:
    """A Mosquitto process with its own temp dir, port and config."""

    def __init__(self, port: int | None = None, *, anonymous: bool = True,
                 extra_config: str = "", persistence: bool = False):
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.anonymous = anonymous
        self.extra_config = extra_config
        self.persistence = persistence
        self.dir = Path(tempfile.mkdtemp(prefix="lalopa-mosquitto-"))
        self.proc: subprocess.Popen | None = None
        self.production_config: str | None = None  # set by Mosquitto.production()
        self.credentials: dict[str, tuple[str, str]] = {}  # device -> (user, password)
        # Soft limit of open files for the broker process, as systemd's
        # LimitNOFILE sets it on a site (None: inherit this process's).
        self.nofile: int | None = None

    @classmethod
    def production(cls, tmpdir=None, devices=(), port: int | None = None) -> "Mosquitto":
        """The production config (auth + ACL + persistence) on a loopback port.

        ``devices`` are :class:`broker.acl.DeviceSpec`; each gets its user and
        ACL block through the same code as ``lalopa broker add-device``, and
        its ``(username, password)`` lands in :attr:`credentials`. Not started.
        """
        from broker.admin import add_device, render_production

        broker = cls(port, anonymous=False, persistence=True)
        if tmpdir is not None:
            broker.dir = Path(tmpdir)
            broker.dir.mkdir(parents=True, exist_ok=True)
        passwd, acl = broker.dir / "passwd", broker.dir / "acl"
        for spec in devices:
            broker.credentials[spec.device] = (spec.username, add_device(spec, passwd, acl))
        broker.production_config = render_production(
            port=broker.port, bind=broker.host, passwd_file=str(passwd), acl_file=str(acl),
            persistence_dir=f"{broker.dir}/", log_dest=("stdout",))
        return broker

    @property
    def config_path(self) -> Path:
        return self.dir / "mosquitto.conf"

    @property
    def log_path(self) -> Path:
        return self.dir / "mosquitto.log"

    def write_config(self) -> Path:
        if self.production_config is not None:
            # Started as root, Mosquitto drops to user 'mosquitto', which cannot
            # enter root's private temp dirs; a test broker stays root instead.
            stay = "user root\n" if os.geteuid() == 0 else ""
            self.config_path.write_text(f"{stay}{self.production_config}\n{self.extra_config}\n")
            return self.config_path
        lines = [
            "per_listener_settings false",
            f"listener {self.port} {self.host}",
            f"allow_anonymous {'true' if self.anonymous else 'false'}",
            f"persistence {'true' if self.persistence else 'false'}",
            f"persistence_location {self.dir}/",
            "log_dest stdout",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "max_queued_messages 1000",
            self.extra_config,
        ]
        self.config_path.write_text("\n".join(lines) + "\n")
        return self.config_path

    def start(self, timeout: float = 10.0) -> "Mosquitto":
        self.write_config()
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([mosquitto_binary(), "-c", str(self.config_path)],
                                     stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, preexec_fn=self._limits)
        log.close()
        self._wait_ready(timeout)
        return self

    def _limits(self) -> None:
        if self.nofile is not None:
            import resource
            _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
            soft = self.nofile if hard == resource.RLIM_INFINITY else min(self.nofile, hard)
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mosquitto exited: {self.log_path.read_text()[-2000:]}")
            try:
                with socket.create_connection((self.host, self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.02)
        raise TimeoutError(f"mosquitto did not listen on {self.port} within {timeout}s")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def kill(self) -> None:
        """Stop abruptly, as in a power cut of the broker's Pi."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        self.proc = None

    def restart(self, down_s: float = 0.0) -> None:
        self.stop()
        time.sleep(down_s)
        self.start()

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> "Mosquitto":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.cleanup()


def wait_for(predicate, timeout: float = 5.0, bus=None) -> bool:
    """Poll ``predicate`` until true or ``timeout``; runs ``bus``'s handlers meanwhile."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if bus is not None:
            bus.dispatch(timeout=0.05)
        else:
            time.sleep(0.02)
        if predicate():
            return True
    return False
