"""The rehearsal's machinery: one cached Debian image, a private bridge, booted hosts.

Everything here runs as root on the machine that rehearses. The state of one
run lives under ``RUN`` (overlays, logs, pid files), the caches under
``CACHE``. :func:`teardown` removes every container, mount, bridge and
process a run (or an earlier killed run) left behind, so it is called both
before and after a run.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("LALOPA_REHEARSAL_CACHE", "/var/cache/lalopa-rehearsal"))
RUN = Path("/run/lalopa-rehearsal")
BRIDGE = "lalopa-rh0"
# A private /24 that exists only on the bridge; nothing routes beyond it.
NET = "10.231.57"
HOST_ADDR = f"{NET}.1"
STICK = "/media/usb"          # the "USB stick" every host sees (credentials, the release)
WHEELS_IN_HOST = "/opt/wheelhouse"
HELPERS_IN_HOST = "/opt/rehearsal"   # this directory: the printer host, on-host helpers

# Debian's own packages for every host (one image; each host boots a copy-on-write overlay).
PACKAGES = [
    # udev as on Raspberry Pi OS (it also creates the groups input and render)
    "systemd", "systemd-sysv", "udev", "dbus", "dbus-user-session", "libpam-systemd", "iproute2",
    "iputils-ping", "procps", "psmisc", "less", "sudo", "git", "ca-certificates", "curl",
    "python3", "python3-venv",
    # what `lalopa install` asks apt for, per role (hosts have no network: present beforehand)
    "mosquitto", "mosquitto-clients", "sqlite3", "espeak-ng", "libusb-1.0-0", "nginx-light",
    # headless screens: sway on a pixman renderer, grim for screenshots
    "sway", "grim", "libwayland-egl1", "xwayland", "fonts-dejavu-core",
    # time: the server serves the clock to the LAN, devices follow it
    "chrony",
    # the rehearsal's own: a clock that reads 2001 for one command (doctor's clock check),
    # and the board's "speakers": a PulseAudio null sink recorded to a file (no sound card)
    "faketime", "pulseaudio", "pulseaudio-utils", "libasound2-plugins",
]


@dataclass(frozen=True)
class Host:
    name: str       # container and host name
    kind: str       # server | kiosk | board | box | printer
    last: int       # last octet of its address
    device: str = ""    # the device name the guide's fill-ins use
    counter: int = 0    # button boxes: the counter they call for

    @property
    def addr(self) -> str:
        return f"{NET}.{self.last}"


HOSTS = [
    Host("server", "server", 10),
    Host("kiosk", "kiosk", 21, device="kiosk-1"),
    Host("board", "board", 31, device="board-1"),
    Host("box-01", "box", 41, device="box-01", counter=1),
    Host("box-02", "box", 42, device="box-02", counter=2),
    Host("printer", "printer", 50),
]
BY_NAME = {h.name: h for h in HOSTS}


def log(msg: str) -> None:
    print(f"[rehearsal {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def sh(cmd: list[str] | str, *, check: bool = True, timeout: float = 120, **kw):
    """Run a command on this machine, bounded in time; output captured."""
    return subprocess.run(cmd, check=check, timeout=timeout, text=True,
                          capture_output=kw.pop("capture", True), shell=isinstance(cmd, str), **kw)


# -- host tools ---------------------------------------------------------------

HOST_TOOLS = {"mmdebstrap": "mmdebstrap", "systemd-nspawn": "systemd-container",
              "nsenter": "util-linux", "ip": "iproute2", "git": "git"}


def ensure_host_tools() -> None:
    missing = sorted({pkg for cmd, pkg in HOST_TOOLS.items() if shutil.which(cmd) is None})
    if missing:
        log(f"installing host tools: {' '.join(missing)}")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        sh(["apt-get", "update", "-qq"], timeout=300, env=env)
        sh(["apt-get", "install", "-y", "-qq", *missing], timeout=600, env=env)


# -- caches: the base image and the wheelhouse ----------------------------------

def debian_mirrors() -> list[str]:
    """The Debian archive lines this machine's apt uses (same mirror for the image)."""
    lines: list[str] = []
    for f in sorted(Path("/etc/apt/sources.list.d").glob("*.sources")):
        for stanza in f.read_text().split("\n\n"):
            fields = dict(re.findall(r"^(\w[\w-]*):\s*(.*)$", stanza, re.M))
            uri = fields.get("URIs", "")
            if fields.get("Types", "deb").split()[0] != "deb" or "/debian" not in uri:
                continue
            for suite in fields.get("Suites", "").split():
                if suite.startswith("bookworm"):
                    lines.append(f"deb {uri.split()[0]} {suite} {fields.get('Components', 'main')}")
    legacy = Path("/etc/apt/sources.list")
    if legacy.exists():
        for ln in legacy.read_text().splitlines():
            parts = ln.split()
            if len(parts) >= 4 and parts[0] == "deb" and "/debian" in parts[1] \
                    and parts[2].startswith("bookworm"):
                lines.append(" ".join(parts))
    return lines or ["deb http://deb.debian.org/debian bookworm main",
                     "deb http://deb.debian.org/debian bookworm-updates main",
                     "deb http://deb.debian.org/debian-security bookworm-security main"]


def _key(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:12]


def base_image() -> Path:
    """The cached Bookworm root file system; built once per package list."""
    mirrors = debian_mirrors()
    target = CACHE / f"base-{_key(*PACKAGES, *mirrors, 'v4')}"
    if (target / ".complete").exists():
        log(f"base image: cached {target}")
        return target
    for stale in CACHE.glob("base-*.partial"):
        shutil.rmtree(stale, ignore_errors=True)
    partial = target.with_name(target.name + ".partial")
    log(f"base image: building {target.name} with mmdebstrap ({len(PACKAGES)} packages)")
    t0 = time.monotonic()
    CACHE.mkdir(parents=True, exist_ok=True)
    sh(["mmdebstrap", "--variant=minbase", "--include=" + ",".join(PACKAGES),
        # keep apt's lists: the guide's own `apt-get install` then finds everything installed
        "--skip=cleanup/apt/lists", "bookworm", str(partial), *mirrors], timeout=900)
    _prepare_base(partial)
    (partial / ".complete").write_text(time.strftime("%F %T\n"))
    partial.rename(target)
    log(f"base image: built in {time.monotonic() - t0:.0f} s")
    return target


def _prepare_base(root: Path) -> None:
    """What every booted host shares: networkd, pip from the wheelhouse, no network waits."""
    (root / "etc/pip.conf").write_text(
        "# The rehearsal's hosts have no index: every package comes from the wheelhouse.\n"
        f"[global]\nno-index = true\nfind-links = {WHEELS_IN_HOST}\n"
        "disable-pip-version-check = true\n")
    wants = root / "etc/systemd/system/multi-user.target.wants"
    wants.mkdir(parents=True, exist_ok=True)
    link = wants / "systemd-networkd.service"
    if not link.exists():
        link.symlink_to("/lib/systemd/system/systemd-networkd.service")
    # Raspberry Pi OS has a group gpio owning /dev/gpiochip*; Debian has none.
    if "\ngpio:" not in "\n" + (root / "etc/group").read_text():
        sh(["chroot", str(root), "groupadd", "--system", "gpio"])
    # Containers have no consoles to log in on.
    for unit in ("console-getty.service", "getty@.service"):
        (root / f"etc/systemd/system/{unit}").unlink(missing_ok=True)
        (root / f"etc/systemd/system/{unit}").symlink_to("/dev/null")


def wheelhouse() -> Path:
    """Wheels of every dependency of every role, built on this machine once per pyproject."""
    pyproject = (REPO / "pyproject.toml").read_text()
    target = CACHE / f"wheels-{_key(pyproject, sys.version.split()[0], 'v2')}"
    if (target / ".complete").exists():
        log(f"wheelhouse: cached {target}")
        return target
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    log("wheelhouse: pip wheel of the project with all extras")
    t0 = time.monotonic()
    # The build backend too: hosts build the project from source with no index.
    project = tomllib.loads(pyproject)
    build = project["build-system"]["requires"]
    # The printer host decodes QR images with zxing-cpp (a test dependency of the project).
    printer = [r for r in project["project"]["optional-dependencies"]["test"]
               if r.startswith(("zxing-cpp", "pillow"))]
    sh([sys.executable, "-m", "pip", "wheel", "-q", "--wheel-dir", str(partial),
        f"{REPO}[server,kiosk,display,button]", *build, *printer, "pillow", "wheel", "pip"],
       timeout=900)
    for own in partial.glob("lalopa-*.whl"):   # the hosts build the project from its source
        own.unlink()
    (partial / ".complete").write_text(time.strftime("%F %T\n"))
    partial.rename(target)
    log(f"wheelhouse: built in {time.monotonic() - t0:.0f} s")
    return target


def source_snapshot(dest: Path, head: bool = False) -> Path:
    """A git repository of the working tree as it is now (tracked + new, not ignored
    files), or with ``head`` of the last commit only."""
    dest.mkdir(parents=True)
    if head:
        archive = subprocess.run(["git", "-C", str(REPO), "archive", "HEAD"], check=True,
                                 capture_output=True, timeout=120).stdout
        subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True, timeout=120)
    else:
        files = sh(["git", "-C", str(REPO), "ls-files", "-z", "--cached", "--others",
                    "--exclude-standard"]).stdout.split("\0")
        for rel in filter(None, files):
            src = REPO / rel
            if src.is_file():
                out = dest / rel
                out.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, out)
    env = dict(os.environ, GIT_AUTHOR_NAME="rehearsal", GIT_AUTHOR_EMAIL="rehearsal@localhost",
               GIT_COMMITTER_NAME="rehearsal", GIT_COMMITTER_EMAIL="rehearsal@localhost")
    sh(["git", "init", "-q", str(dest)])
    sh(["git", "-C", str(dest), "add", "-A"])
    sh(["git", "-C", str(dest), "commit", "-q", "-m", "rehearsal snapshot"], env=env)
    return dest


# -- the bridge and the hosts ----------------------------------------------------

def bridge_up() -> None:
    sh(["ip", "link", "add", BRIDGE, "type", "bridge"])
    sh(["ip", "addr", "add", f"{HOST_ADDR}/24", "dev", BRIDGE])
    sh(["ip", "link", "set", BRIDGE, "up"])


def host_dir(host: Host) -> Path:
    return RUN / "hosts" / host.name


def prepare_host(host: Host, base: Path) -> Path:
    """An overlay of the base image with this host's name and address."""
    d = host_dir(host)
    for sub in ("upper", "work", "root"):
        (d / sub).mkdir(parents=True, exist_ok=True)
    sh(["mount", "-t", "overlay", "overlay", "-o",
        f"lowerdir={base},upperdir={d / 'upper'},workdir={d / 'work'}", str(d / "root")])
    root = d / "root"
    (root / "etc/hostname").write_text(host.name + "\n")
    hosts = "127.0.0.1 localhost\n" + "".join(f"{h.addr} {h.name}\n" for h in HOSTS)
    (root / "etc/hosts").write_text(hosts)
    (root / "etc/systemd/network").mkdir(parents=True, exist_ok=True)
    (root / "etc/systemd/network/10-host0.network").write_text(
        f"[Match]\nName=host0\n\n[Network]\nAddress={host.addr}/24\nLinkLocalAddressing=no\n"
        "IPv6AcceptRA=no\n")
    (root / "etc/machine-id").write_text(hashlib.md5(host.name.encode()).hexdigest() + "\n")
    return root


def boot(host: Host, stick: Path, wheels: Path) -> int:
    """Boot the host with systemd as PID 1 on the bridge; returns systemd-nspawn's pid."""
    d = host_dir(host)
    logf = open(d / "console.log", "ab")
    proc = subprocess.Popen(
        ["systemd-nspawn", "--boot", "--register=no", "--keep-unit", "--quiet",
         f"--machine={host.name}", "-D", str(d / "root"), f"--network-bridge={BRIDGE}",
         "--console=read-only", f"--bind={stick}:{STICK}", f"--bind-ro={wheels}:{WHEELS_IN_HOST}",
         f"--bind-ro={Path(__file__).resolve().parent}:{HELPERS_IN_HOST}",
         "--capability=CAP_NET_ADMIN"],
        stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT, start_new_session=True)
    (d / "nspawn.pid").write_text(str(proc.pid))
    host_procs[proc.pid] = proc
    return proc.pid


host_procs: dict[int, subprocess.Popen] = {}    # nspawn pid -> its process (to reap it)


def _pids(f: Path) -> list[int]:
    try:
        return [int(x) for x in f.read_text().split()]
    except (OSError, ValueError):
        return []


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _is_container_init(pid: int) -> bool:
    """Is ``pid`` still the PID 1 of a container (not a reused pid)?"""
    try:
        m = re.search(r"^NSpid:\s+(.*)$", Path(f"/proc/{pid}/status").read_text(), re.M)
    except OSError:
        return False
    return bool(m) and len(m[1].split()) > 1 and m[1].split()[-1] == "1"


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def leader(host: Host) -> int:
    """The pid (on this machine) of the host's PID 1."""
    nspawn = int((host_dir(host) / "nspawn.pid").read_text())
    for pid in _descendants(nspawn):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        m = re.search(r"^NSpid:\s+(.*)$", status, re.M)
        if m and m[1].split()[-1] == "1" and len(m[1].split()) > 1:
            return pid
    raise RuntimeError(f"{host.name}: no PID 1 found (is it booted?)")


def _descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        try:
            kids = [int(k) for k in Path(f"/proc/{p}/task/{p}/children").read_text().split()]
        except OSError:
            kids = []
        out += kids
        todo += kids
    return out


CLEAN_ENV = ["env", "-i", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
             "HOME=/root", "LANG=C.UTF-8", "TERM=dumb", "USER=root", "LOGNAME=root"]


def run_in(host: Host, script: str, *, timeout: float = 120, check: bool = True,
           user: str | None = None) -> subprocess.CompletedProcess:
    """Run a bash script inside the booted host, as root (or ``user``), in a clean login env."""
    enter = ["nsenter", "-t", str(leader(host)), "-m", "-u", "-i", "-n", "-p", "-C", "-r"]
    # As a technician's login would: /etc/environment read, in the home directory.
    script = "set -a; . /etc/environment 2>/dev/null || true; set +a\ncd ~ 2>/dev/null || cd /\n" + script
    cmd = [*enter, *CLEAN_ENV, "/bin/bash", "-eo", "pipefail", "-c", script]
    if user:
        cmd = [*enter, *CLEAN_ENV, "runuser", "-u", user, "--",
               "/bin/bash", "-eo", "pipefail", "-c", script]
    t0 = time.monotonic()
    try:
        res = subprocess.run(cmd, text=True, capture_output=True, timeout=timeout)
        _record(host, script, res.returncode, res.stdout + res.stderr, time.monotonic() - t0)
    except subprocess.TimeoutExpired as exc:
        _record(host, script, "timeout", _text(exc.stdout) + _text(exc.stderr), timeout)
        raise RehearsalFailed(f"{host.name}: timed out after {timeout:.0f} s:\n{script}\n"
                              f"--- output ---\n{_text(exc.stdout)}{_text(exc.stderr)}") from None
    if check and res.returncode != 0:
        raise RehearsalFailed(f"{host.name}: exit {res.returncode}:\n{script}\n"
                              f"--- output ---\n{res.stdout}{res.stderr}")
    return res


LOGS = Path(os.environ.get("LALOPA_REHEARSAL_LOGS", "/tmp/lalopa-rehearsal-logs"))
_log_lock = threading.Lock()


def _record(host: Host, script: str, code, output: str, took: float) -> None:
    """Every command of the run and its output, per host, kept after the run."""
    with _log_lock:
        LOGS.mkdir(parents=True, exist_ok=True)
        with open(LOGS / f"{host.name}.log", "a") as f:
            f.write(f"\n===== {time.strftime('%H:%M:%S')} exit {code} in {took:.1f} s\n"
                    f"{script}\n----- output\n{output}")


def _text(b) -> str:
    return b.decode(errors="replace") if isinstance(b, bytes) else (b or "")


class RehearsalFailed(AssertionError):
    """One check of the site failed; the message says what and where."""


def wait_until(what: str, probe, timeout: float, every: float = 1.0):
    """Poll ``probe()`` until it returns something truthy; fail naming ``what``."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = probe()
            if last:
                return last
        except (RehearsalFailed, RuntimeError, subprocess.TimeoutExpired) as exc:
            last = exc
        time.sleep(every)
    raise RehearsalFailed(f"timed out after {timeout:.0f} s waiting for {what} (last: {last})")


def wait_booted(host: Host, timeout: float = 90) -> None:
    def probe():
        res = run_in(host, "systemctl is-system-running || true", timeout=15, check=False)
        state = res.stdout.strip()
        return state if state in ("running", "degraded") else None
    wait_until(f"{host.name} to finish booting", probe, timeout)
    # Remember PID 1 (every boot of the host): teardown kills it if it will not power off.
    with open(host_dir(host) / "leaders", "a") as f:
        f.write(f"{leader(host)}\n")


def reboot(host: Host, stick: Path, wheels: Path, timeout: float = 60) -> None:
    """`systemctl reboot` inside; nspawn exits (133) and the host is booted again."""
    nspawn = _pids(host_dir(host) / "nspawn.pid")[0]
    run_in(host, "systemctl reboot", check=False, timeout=15)
    deadline = time.monotonic() + timeout
    while b"systemd-nspawn" in _cmdline(nspawn):
        if nspawn in host_procs and host_procs[nspawn].poll() is not None:
            break                                   # exited; reaped just now
        if time.monotonic() > deadline:
            raise RehearsalFailed(f"{host.name}: did not shut down within {timeout:.0f} s")
        time.sleep(0.2)
    boot(host, stick, wheels)
    wait_booted(host)


# -- teardown (also of an earlier killed run) -------------------------------------

def teardown() -> None:
    """Power off every host of this run (or of a killed one), then remove all traces."""
    hosts = RUN / "hosts"
    nspawns, leaders = [], []
    for d in sorted(hosts.iterdir()) if hosts.exists() else []:
        nspawns += [p for p in _pids(d / "nspawn.pid") if b"systemd-nspawn" in _cmdline(p)]
        leaders += [p for p in _pids(d / "leaders") if _is_container_init(p)]
    for pid in nspawns:                        # nspawn asks each host's systemd to power off
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + 20
    # (An nspawn that exited is a zombie until reaped: its cmdline is empty, not gone.)
    while time.monotonic() < deadline and any(b"systemd-nspawn" in _cmdline(p) for p in nspawns):
        time.sleep(0.2)
    # What did not power off in time: killing a container's PID 1 ends its whole
    # pid namespace; then nspawn itself.
    stuck = [p for p in nspawns if b"systemd-nspawn" in _cmdline(p)]
    if stuck:
        log(f"teardown: {len(stuck)} host(s) did not power off within 20 s: killed")
    for pid in leaders:
        if _is_container_init(pid):
            _signal(pid, signal.SIGKILL)
    for pid in nspawns:
        if b"systemd-nspawn" in _cmdline(pid):
            _signal(pid, signal.SIGKILL)
    for proc in host_procs.values():
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
    host_procs.clear()
    mounts = [ln.split()[1] for ln in Path("/proc/mounts").read_text().splitlines()
              if ln.split()[1].startswith(str(RUN))]
    for m in sorted(mounts, key=len, reverse=True):
        subprocess.run(["umount", "-l", m], capture_output=True, timeout=30)
    for host in HOSTS:                         # host ends of veths whose peer outlived a run
        if Path(f"/sys/class/net/vb-{host.name}").exists():
            subprocess.run(["ip", "link", "del", f"vb-{host.name}"], capture_output=True, timeout=30)
    if Path(f"/sys/class/net/{BRIDGE}").exists():
        subprocess.run(["ip", "link", "del", BRIDGE], capture_output=True, timeout=30)
    shutil.rmtree(RUN, ignore_errors=True)


def fresh_logs() -> None:
    shutil.rmtree(LOGS, ignore_errors=True)
    LOGS.mkdir(parents=True)
