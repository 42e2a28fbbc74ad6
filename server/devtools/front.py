"""Run the real HTTP front (nginx, production config) and the real server on loopback.

Used by the hostile HTTP tests: ``lalopa server`` exactly as the systemd unit
starts it behind the front (waitress on 127.0.0.1, trusting only the front's
X-Forwarded-For), and nginx with the config ``lalopa install`` writes, rendered
by :func:`server.appliance.nginx.render` with private ports and temp dirs, as a
non-daemon child.

Example::

    with Site(tmp_path) as site:
        requests.get(site.url + "/healthz")
"""
from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from broker.bus import free_port
from server.appliance.nginx import Paths, render
from server.config import EXAMPLE_SITE


class NginxNotFound(RuntimeError):
    """nginx is not installed (``make deps`` or ``apt-get install nginx``)."""


def nginx_binary() -> str:
    for candidate in (shutil.which("nginx"), "/usr/sbin/nginx"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise NginxNotFound("nginx is not installed: run 'make deps' or 'apt-get install nginx'")


def _wait_listening(port: int, proc: subprocess.Popen, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited: {log.read_text()[-3000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {port} after {timeout} s: {log.read_text()[-2000:]}")


def _stop(proc: subprocess.Popen | None) -> None:
    if proc is not None and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


class Site:
    """``lalopa server`` (waitress) behind nginx, both on free 127.0.0.1 ports.

    ``front=False`` serves waitress directly on :attr:`port` (what the demo does).
    ``url`` is where clients go; :meth:`token` makes a device token in the database."""

    def __init__(self, workdir: Path, front: bool = True, site_file: str = str(EXAMPLE_SITE)):
        self.dir = Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.front = front
        self.db = self.dir / "lalopa.db"
        self.site_file = site_file
        self.app_port = free_port()
        self.port = free_port() if front else self.app_port
        self.url = f"http://127.0.0.1:{self.port}"
        self.server: subprocess.Popen | None = None
        self.nginx: subprocess.Popen | None = None

    def lalopa(self, *args: str) -> str:
        out = subprocess.run([sys.executable, "-m", "server.devtools.front", *args],
                             capture_output=True, text=True, check=True, timeout=60)
        return out.stdout.strip()

    def token(self, device: str, role: str, counter: int | None = None) -> str:
        extra = ["--counter", str(counter)] if counter is not None else []
        return self.lalopa("token", "add", "--db", str(self.db), "--device", device,
                           "--role", role, *extra)

    def user(self, username: str, role: str, password: str, counter: int | None = None) -> None:
        pw = self.dir / f"pw-{username}"
        pw.write_text(password)
        extra = ["--counter", str(counter)] if counter is not None else []
        self.lalopa("user", "add", "--db", str(self.db), "--username", username, "--role", role,
                    "--password-file", str(pw), *extra)

    def start(self) -> "Site":
        self.lalopa("db", "init", "--db", str(self.db))
        args = ["server", "--site", self.site_file, "--db", str(self.db),
                "--host", "127.0.0.1", "--port", str(self.app_port)]
        if self.front:
            args += ["--trusted-proxy", "127.0.0.1"]
        log = self.dir / "server.log"
        with open(log, "ab") as out:
            self.server = subprocess.Popen([sys.executable, "-m", "server.devtools.front", *args],
                                           stdout=out, stderr=subprocess.STDOUT,
                                           stdin=subprocess.DEVNULL)
        _wait_listening(self.app_port, self.server, log, 30)
        if self.front:
            self._start_nginx()
        return self

    def _start_nginx(self) -> None:
        temp = self.dir / "nginx"
        temp.mkdir(exist_ok=True)
        # Started as root, nginx would switch its workers to another user who cannot
        # enter the test's private directories: a test front stays the user it is.
        user = getpass.getuser() if os.geteuid() == 0 else None
        conf = self.dir / "nginx.conf"
        conf.write_text(render(listen=f"127.0.0.1:{self.port}", upstream=f"127.0.0.1:{self.app_port}",
                               paths=Paths(pid=str(temp / "nginx.pid"),
                                           error_log=str(temp / "error.log"),
                                           temp=str(temp), user=user)))
        log = temp / "error.log"
        self.nginx = subprocess.Popen([nginx_binary(), "-p", str(temp), "-c", str(conf),
                                       "-e", str(log), "-g", "daemon off;"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL)
        _wait_listening(self.port, self.nginx, log, 15)

    def stop(self) -> None:
        _stop(self.nginx)
        _stop(self.server)
        self.nginx = self.server = None

    def __enter__(self) -> "Site":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def main(argv: list[str]) -> int:
    """``python -m server.devtools.front server|token|user|db ...``: the CLI, as a child."""
    from server import cli
    command, rest = argv[0], argv[1:]
    if command == "user":
        from server.auth import user_main
        return user_main(rest)
    return {"server": cli.server_main, "token": cli.token_main, "db": cli.db_main}[command](rest)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
