"""Parts for the hostile HTTP tests: raw sockets from chosen loopback addresses, figures.

The attacker binds its sockets to 127.0.0.9 and legitimate clients to 127.0.0.1, so
per-source limits of the front can tell them apart on one machine.
"""
from __future__ import annotations

import http.client
import json
import socket
import statistics
import time

ATTACKER = "127.0.0.9"
CLIENT = "127.0.0.1"


def figure(capsys, text: str) -> None:
    """Show a measured figure in the test output (also when the test passes)."""
    with capsys.disabled():
        print(f"\n  [figure] {text}")


def raw(port: int, source: str = ATTACKER, timeout: float = 5.0) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout, source_address=(source, 0))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def request(port: int, method: str, path: str, body=None, headers=None, source: str = CLIENT,
            timeout: float = 10.0) -> tuple[int, dict, bytes]:
    """One HTTP request on a fresh connection from ``source``: (status, headers, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout,
                                      source_address=(source, 0))
    try:
        data = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
        hdrs = dict(headers or {})
        if isinstance(body, (dict, list)):
            hdrs.setdefault("Content-Type", "application/json")
        conn.request(method, path, body=data, headers=hdrs)
        resp = conn.getresponse()
        headers = {k.lower(): v for k, v in resp.getheaders()}
        cookies = resp.msg.get_all("Set-Cookie") or []
        if cookies:  # one per line: an Expires date has a comma in it
            headers["set-cookie"] = "\n".join(cookies)
        return resp.status, headers, resp.read()
    finally:
        conn.close()


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) >= 2 else max(values)


def read_status(s: socket.socket, timeout: float) -> int | None:
    """The status code of the first answer on ``s``, or None if it closed or stayed silent."""
    s.settimeout(timeout)
    try:
        head = s.recv(64)
    except (socket.timeout, OSError):
        return None
    if not head.startswith(b"HTTP/1."):
        return None
    return int(head.split()[1])


def wait_closed(s: socket.socket, timeout: float) -> bool:
    """True when the peer closed ``s`` (EOF or reset) within ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        s.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            if s.recv(4096) == b"":
                return True
        except socket.timeout:
            return False
        except OSError:
            return True
    return False
