"""Facts about the machine a benchmark ran on, so figures are never read without context."""
from __future__ import annotations

import os
import platform
import sqlite3
import subprocess
from datetime import datetime, timezone


def cpu_model() -> str:
    """The CPU model from /proc/cpuinfo (x86 "model name", ARM "Model"/"Hardware")."""
    try:
        text = open("/proc/cpuinfo", encoding="utf-8").read()
    except OSError:
        return platform.processor() or "unknown"
    for key in ("model name", "Model", "Hardware", "cpu model"):
        for line in text.splitlines():
            if line.split(":")[0].strip() == key:
                return line.split(":", 1)[1].strip()
    return platform.machine()


def mem_total_mb() -> int | None:
    try:
        for line in open("/proc/meminfo", encoding="utf-8"):
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) // 1024
    except OSError:
        pass
    return None


def usable_cores() -> int:
    """CPUs this process may run on (a container may allow fewer than the host has)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def mosquitto_version() -> str:
    from server.devtools.mosquitto import mosquitto_binary
    try:
        out = subprocess.run([mosquitto_binary(), "-h"], capture_output=True, text=True, timeout=5)
    except Exception as exc:  # reported, never fatal
        return f"unknown ({exc.__class__.__name__})"
    first = (out.stdout or out.stderr).splitlines()
    return first[0].strip() if first else "unknown"


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def machine_facts() -> dict[str, str]:
    """Ordered name -> value pairs for the report header."""
    mem = mem_total_mb()
    return {
        "Date (UTC)": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M"),
        "CPU": cpu_model(),
        "Cores (usable / online)": f"{usable_cores()} / {os.cpu_count()}",
        "RAM": f"{mem} MB" if mem else "unknown",
        "OS / arch": f"{platform.system()} {platform.release()} / {platform.machine()}",
        "Python": platform.python_version(),
        "SQLite": sqlite3.sqlite_version,
        "Mosquitto": mosquitto_version(),
        "Load average at start": load_average(),
    }
