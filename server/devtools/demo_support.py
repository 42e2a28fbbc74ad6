"""Small pieces ``lalopa demo`` is built from: child processes, TOML writing, JSON lines."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import urllib.request
from pathlib import Path

TOKEN_RE = re.compile(r"[A-Za-z0-9_\-.~+/=]{16,}")


class Child:
    """One component as a subprocess in its own process group, logging to a file.

    Its own group means Ctrl-C in the terminal reaches only the demo, which
    then stops each group in order: SIGTERM, wait, SIGKILL.
    """

    def __init__(self, name: str, argv: list[str], log_path: Path, *, env: dict, cwd: Path):
        self.name, self.argv, self.log_path, self.env, self.cwd = name, argv, log_path, env, cwd
        self.proc: subprocess.Popen | None = None
        self.exit_code: int | None = None

    def start(self) -> "Child":
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, env=self.env, cwd=self.cwd,
                                         start_new_session=True)
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, grace_s: float = 5.0) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self._signal(signal.SIGTERM)
            try:
                self.proc.wait(grace_s)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL)
                self.proc.wait(grace_s)
        self.exit_code = self.proc.returncode
        return self.exit_code

    def _signal(self, sig: int) -> None:
        try:
            os.killpg(self.proc.pid, sig)  # the group: the child and anything it started
        except ProcessLookupError:
            pass


def token_from_output(text: str) -> str | None:
    """The token printed by ``lalopa token add``: the last long token-like word."""
    words = [w for line in text.splitlines() for w in line.split() if TOKEN_RE.fullmatch(w)]
    return words[-1] if words else None


def get_json(url: str, token: str | None = None, timeout: float = 3.0) -> dict:
    """GET a JSON answer from the demo's server; on any failure ``{"error": ...}``."""
    req = urllib.request.Request(url)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return json.loads(resp.read())
    except (OSError, ValueError) as exc:
        return {"error": str(exc)}


def json_lines(path: Path) -> list[dict]:
    """The JSON-object lines of a log or .jsonl file (other lines skipped; missing file: [])."""
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    found = []
    for line in text.splitlines():
        if line.startswith("{"):
            try:
                value = json.loads(line)
            except ValueError:
                continue   # a line cut off mid-write, or a log line that looks like JSON
            if isinstance(value, dict):
                found.append(value)
    return found


def merge(base: dict, overrides: dict) -> dict:
    """Deep-merge ``overrides`` into a copy of ``base`` (tables merge, values replace)."""
    out = dict(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def dump_toml(data: dict, prefix: str = "") -> str:
    """Write the TOML subset our config files use: scalars, arrays, tables, arrays of tables."""
    lines = [f"{_key(k)} = {_value(v)}" for k, v in data.items()
             if not isinstance(v, dict) and not _is_table_array(v)]
    for key, value in data.items():
        name = f"{prefix}{_key(key)}"
        if isinstance(value, dict):
            lines += ["", f"[{name}]", dump_toml(value, name + ".").rstrip("\n")]
        elif _is_table_array(value):
            for item in value:
                lines += ["", f"[[{name}]]", dump_toml(item, name + ".").rstrip("\n")]
    return "\n".join(line for line in lines if line is not None).strip("\n") + "\n"


def _is_table_array(value) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _value(key)


def _value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'"{escaped}"'
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")
