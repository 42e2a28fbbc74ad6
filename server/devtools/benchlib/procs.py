"""Real processes for the benchmark: start a ``lalopa`` CLI, wait for it, read /proc."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK")


def lalopa(*args: str, env: dict | None = None, log: Path | None = None) -> subprocess.Popen:
    """Start ``lalopa <args>`` with this interpreter (the console script's own entry point)."""
    full_env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy",
                "GPIOZERO_PIN_FACTORY": "mock", "PYGAME_HIDE_SUPPORT_PROMPT": "1",
                "PYTHONUNBUFFERED": "1", **(env or {})}
    out = open(log, "ab") if log else subprocess.DEVNULL
    return subprocess.Popen([sys.executable, "-c", "import sys; from broker.cli import main;"
                             " sys.exit(main(sys.argv[1:]))", *args],
                            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=full_env)


def run_lalopa(*args: str, timeout: float = 30) -> str:
    """Run a short ``lalopa`` command and return its stdout; raise on failure."""
    out = subprocess.run([sys.executable, "-c", "import sys; from broker.cli import main;"
                          " sys.exit(main(sys.argv[1:]))", *args],
                         capture_output=True, text=True, timeout=timeout)
    if out.returncode != 0:
        raise RuntimeError(f"lalopa {' '.join(args)} failed: {out.stderr.strip()[-300:]}")
    return out.stdout


def wait_port(port: int, proc: subprocess.Popen | None = None, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


def stop(proc: subprocess.Popen, timeout: float = 5) -> None:
    """SIGTERM, then SIGKILL if it does not go."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)


def rss_mb(pid: int) -> float:
    """Resident set size from /proc/<pid>/status (VmRSS), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process from /proc/<pid>/stat, in seconds."""
    raw = Path(f"/proc/{pid}/stat").read_text()
    fields = raw[raw.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # fields 14 and 15 of stat(5)


def idle_cpu_percent(pid: int, seconds: float) -> float:
    """Share of one core the process used over ``seconds`` of wall time."""
    c0, t0 = cpu_seconds(pid), time.monotonic()
    time.sleep(seconds)
    return 100.0 * (cpu_seconds(pid) - c0) / (time.monotonic() - t0)
