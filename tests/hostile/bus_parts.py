"""Parts of the bus hostility tests: an office on a real broker, and its attackers.

``Office`` is the server as a site runs it: the real QueueService (SQLite in
tmp), the real Bridge logged in with the server's own credential, the Flask
app for ``/healthz``, counter boxes that press and wait for their
acknowledgement (the retained counter state naming their command), and a
display board that records every call. All on a real Mosquitto started with
the production config and per-device credentials (``Mosquitto.production``).

The attackers speak raw MQTT 5 over a socket, as fast as the socket takes it,
in a separate process (``python bus_parts.py flood ...``), like a laptop on
the LAN: they do not share the server's interpreter.
"""
from __future__ import annotations

import os
import socket
import statistics
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

from broker.acl import DeviceSpec
from broker.bus import BusClient
from broker.protocol import CallEvent, CounterCommand, CounterState, decode, encode

HERE = Path(__file__).resolve()
BOXES = (1, 2, 3, 4)


def devices(site: str) -> list[DeviceSpec]:
    # 'probe-1' reads like the server (a second server user), to look at what the broker holds.
    return ([DeviceSpec("server", "server-1", site), DeviceSpec("server", "probe-1", site),
             DeviceSpec("display", "board-1", site),
             DeviceSpec("display", "board-2", site), DeviceSpec("kiosk", "kiosk-1", site)]
            + [DeviceSpec("button", f"box-{n:02d}", site, counter=n) for n in BOXES])


# -- raw MQTT 5 --------------------------------------------------------------

def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _str(value) -> bytes:
    raw = value.encode() if isinstance(value, str) else value
    return struct.pack("!H", len(raw)) + raw


def connect_packet(client_id: str, user: str, password: str, keepalive: int = 60) -> bytes:
    body = _str("MQTT") + bytes([5, 0xC2]) + struct.pack("!H", keepalive) + b"\x00"
    body += _str(client_id) + _str(user) + _str(password)
    return b"\x10" + _varint(len(body)) + body


def publish_packet(topic: str, payload: bytes, retain: bool = False) -> bytes:
    body = _str(topic) + b"\x00" + payload  # QoS 0, no properties
    return bytes([0x30 | (1 if retain else 0)]) + _varint(len(body)) + body


def login(port: int, user: str, password: str, client_id: str = "attacker") -> socket.socket:
    """A raw socket logged in to the broker; asserts CONNACK success."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(connect_packet(client_id, user, password))
    ack = sock.recv(64)
    assert ack[:1] == b"\x20" and ack[3] == 0, f"login refused: {ack!r}"
    return sock


def flood(port: int, user: str, password: str, topic: str, seconds: float,
          commands_for: int | None = None, per_s: float = 0.0) -> int:
    """Publish QoS 0 messages on ``topic`` for ``seconds``; returns how many.

    Junk at full speed by default; with ``commands_for`` well-formed, fresh,
    unique commands for that counter (at ``per_s`` a second, or full speed)."""
    sock = login(port, user, password)
    stop = threading.Event()

    def drain():  # read whatever the broker sends, so our socket never blocks it
        sock.settimeout(0.3)
        while not stop.is_set():
            try:
                if not sock.recv(65536):
                    return
            except socket.timeout:
                continue
            except OSError:
                return
    threading.Thread(target=drain, daemon=True).start()
    junk = publish_packet(topic, b"\xff" * 48) * 200
    sent, n, end = 0, 0, time.monotonic() + seconds
    while time.monotonic() < end:
        if commands_for is None:
            batch, count = junk, 200
        else:
            count = 1 if per_s else 100
            now_ms = int(time.time() * 1000)
            batch = b"".join(publish_packet(topic, encode(CounterCommand(
                id=f"{user}:burst:{n + i}", counter=commands_for, action="next", device=user,
                sent_at_ms=now_ms))) for i in range(count))
            n += count
        try:
            sock.sendall(batch)
        except OSError:
            break
        sent += count
        if per_s:
            time.sleep(1.0 / per_s)
    stop.set()
    sock.close()
    return sent


class Flooder:
    """``flood`` in a child process (another 'machine'); ``.sent`` after ``join``."""

    def __init__(self, port, user, password, topic, seconds, commands_for=None, per_s=0.0):
        args = [sys.executable, str(HERE), "flood", str(port), user, password, topic, str(seconds),
                str(commands_for or 0), str(per_s)]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     cwd=str(HERE.parents[2]))
        self.sent = None

    def join(self, timeout: float = 60) -> int:
        out, err = self.proc.communicate(timeout=timeout)
        assert self.proc.returncode == 0, err
        self.sent = int(out.strip().splitlines()[-1])
        return self.sent

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)


class SocketHolder:
    """A child process holding ``n`` idle TCP connections to the broker (no CONNECT)
    until :meth:`close`. (In its own process: paho's select() cannot watch a
    socket numbered 1024 or above, so the holder must not share our table.)"""

    def __init__(self, port: int, n: int, timeout: float = 30):
        self.proc = subprocess.Popen([sys.executable, str(HERE), "hold", str(port), str(n)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, cwd=str(HERE.parents[2]))
        line = self.proc.stdout.readline().strip()
        assert line.startswith("holding"), line + self.proc.stderr.read()
        self.held = int(line.split()[1])

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def open_files(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def wait_accepted(pid: int, at_least: int, timeout: float = 15) -> int:
    """Wait until process ``pid`` has ``at_least`` open files or stops opening
    more for 2 s (the broker has accepted what it can); returns the count."""
    last, stable_since, deadline = -1, time.monotonic(), time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = open_files(pid)
        if now >= at_least:
            return now
        if now != last:
            last, stable_since = now, time.monotonic()
        elif time.monotonic() - stable_since >= 2.0:
            break
        time.sleep(0.05)
    return last


def hold(port: int, n: int) -> None:
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n + 64:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(n + 64, hard), hard))
    import selectors
    socks, sel = [], selectors.EpollSelector()  # select() stops at socket 1023
    for _ in range(n):  # all at once, like a script would
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", port))
        sel.register(s, selectors.EVENT_WRITE)
        socks.append(s)
    pending, deadline = set(socks), time.monotonic() + 30
    while pending and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=1):
            if key.fileobj in pending and key.fileobj.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                pending.discard(key.fileobj)
                sel.unregister(key.fileobj)
    print(f"holding {n - len(pending)}", flush=True)
    sys.stdin.read()  # until the test closes our stdin
    for s in socks:
        s.close()


# -- the office -----------------------------------------------------------------

# As firmware/example.toml: one press per second at most, and none while the
# last one waits for its acknowledgement (up to 3 s, then the box shows an error).
COOLDOWN_S, ACK_TIMEOUT_S = 1.0, 3.0


class Box:
    """A counter box: presses ``next`` and waits for its acknowledgement, like the firmware."""

    def __init__(self, broker, site: str, counter: int):
        self.counter = counter
        self.device = f"box-{counter:02d}"
        user, password = broker.credentials[self.device]
        self.bus = BusClient(site=site, role="button", device=self.device, port=broker.port,
                             username=user, password=password)
        self.sent: dict[str, float] = {}
        self.acked: dict[str, float] = {}
        self.results: dict[str, tuple[bool, str | None]] = {}
        self.unsent: set[str] = set()
        self._n = 0
        self.bus.subscribe(self.bus.topics.counter_state(counter), self._on_state)

    def _on_state(self, msg) -> None:
        if not msg.payload:
            return
        last = decode(CounterState, msg.payload).last_command
        if last and last.id in self.sent and last.id not in self.acked:
            self.acked[last.id] = time.monotonic()
            self.results[last.id] = (last.ok, last.code)

    def busy(self) -> bool:
        """The firmware ignores a press now (cooldown, or the last press still pending)."""
        if not self.sent:
            return False
        last, at = next(reversed(self.sent.items()))
        age = time.monotonic() - at
        return age < COOLDOWN_S or (last not in self.acked and age < ACK_TIMEOUT_S)

    def press(self, clock_ms: int) -> str:
        self._n += 1
        cmd_id = f"{self.device}:press:{self._n}"
        self.sent[cmd_id] = time.monotonic()
        info = self.bus.publish_command(CounterCommand(id=cmd_id, counter=self.counter, action="next",
                                                       device=self.device, sent_at_ms=clock_ms))
        if info is None:
            self.unsent.add(cmd_id)
        return cmd_id

    def missing(self) -> str:
        """What became of presses never acknowledged, for a failure message."""
        lost = [c for c in self.sent if c not in self.acked]
        return (f"{self.device}: {len(lost)} unacknowledged {lost[:3]}, not sent (box offline) "
                f"{len(self.unsent)}, box reconnects {self.bus.recoveries}") if lost else ""

    def latencies(self) -> list[float]:
        return [self.acked[c] - t for c, t in self.sent.items() if c in self.acked]


class Office:
    """Server (queue + bridge + app), counter boxes and board-2, on one production broker."""

    def __init__(self, tmp_path, broker, site: str, tickets: int = 300, boxes=BOXES,
                 bus_kw: dict | None = None, bridge_kw: dict | None = None):
        from server.app import create_app
        from server.bridge import Bridge
        from server.devtools.benchlib.site import always_open_site
        from server.queue import QueueService

        self.broker, self.site_id = broker, site
        self.svc = QueueService(str(tmp_path / "q.db"), always_open_site(site))
        for i in range(tickets):
            self.svc.issue("A", request_id=f"r{i}", device="kiosk-1")
        user, password = broker.credentials["server-1"]
        self.bridge = Bridge(self.svc, self.svc.site, {"host": "127.0.0.1", "port": broker.port,
                                                       "username": user, "password": password,
                                                       **(bus_kw or {})}, **(bridge_kw or {}))
        self.app = create_app({"LALOPA_QUEUE": self.svc, "LALOPA_DB": str(tmp_path / "q.db"),
                               "TESTING": True, "LALOPA_WEB": False})
        self.app.extensions["lalopa.bridge"] = self.bridge
        self.http = self.app.test_client()
        self.calls: list[tuple[float, CallEvent]] = []
        user, password = broker.credentials["board-2"]
        self.board = BusClient(site=site, role="display", device="board-2", port=broker.port,
                               username=user, password=password)
        self.board.subscribe(self.board.topics.call,
                             lambda m: self.calls.append((time.monotonic(), decode(CallEvent, m.payload))))
        # A box whose credential an attacker uses is not started: the broker keeps one
        # session per user, so the two would only take turns kicking each other.
        self.boxes = {n: Box(broker, site, n) for n in boxes}
        self._stop = threading.Event()
        self._pump = threading.Thread(target=self._dispatch, daemon=True)

    def start(self) -> "Office":
        try:
            return self._start()
        except BaseException:
            self.stop()  # nothing it started may outlive a failed start
            raise

    def _start(self) -> "Office":
        self.bridge.start()
        for bus in [self.board] + [b.bus for b in self.boxes.values()]:
            bus.start()
            assert bus.connected.wait(5), f"{bus.device} could not log in"
        self._pump.start()
        deadline = time.monotonic() + 10
        while self.bridge.stats["full_republish"] < 1 or not self.bridge.health()["ok"]:
            assert time.monotonic() < deadline, "the bridge never came up"
            time.sleep(0.05)
        time.sleep(0.3)  # subscriptions settle
        return self

    def _dispatch(self) -> None:
        while not self._stop.is_set():
            self.board.dispatch(timeout=0.02)
            for box in self.boxes.values():
                box.bus.dispatch(timeout=0)

    def now_ms(self) -> int:
        return self.svc.clock.epoch_ms()

    def healthz(self) -> int:
        return self.http.get("/healthz").status_code

    def press_rounds(self, counters, seconds: float, gap_s: float = 0.5, during=None) -> None:
        """Press ``next`` on each of ``counters`` in turn every ``gap_s`` for ``seconds``;
        ``during()`` runs between presses."""
        end = time.monotonic() + seconds
        i = 0
        while time.monotonic() < end:
            box = self.boxes[counters[i % len(counters)]]
            if not box.busy():
                box.press(self.now_ms())
            i += 1
            stop_at = time.monotonic() + gap_s
            while time.monotonic() < stop_at:
                if during is not None:
                    during()
                time.sleep(0.05)

    def wait_acked(self, counters, timeout: float = 10) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(len(self.boxes[n].acked) == len(self.boxes[n].sent) for n in counters):
                return True
            time.sleep(0.05)
        return False

    def missing(self) -> str:
        lines = [b.missing() for b in self.boxes.values()]
        return "; ".join(x for x in lines if x) + f"; bridge stats {dict(self.bridge.stats)}; " \
            f"health {self.bridge.health()}"

    def calls_of(self, counter: int) -> list[CallEvent]:
        return [c for _, c in self.calls if c.counter == counter]

    def stop(self) -> None:
        self._stop.set()
        if self._pump.is_alive():
            self._pump.join(5)
        for box in self.boxes.values():
            box.bus.stop()
        self.board.stop()
        self.bridge.stop()
        self.svc.close()


def p99(values: list[float]) -> float:
    if not values:
        return float("inf")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))]


def figures(values: list[float]) -> str:
    if not values:
        return "no samples"
    return (f"n={len(values)} median={statistics.median(values) * 1000:.0f} ms "
            f"p99={p99(values) * 1000:.0f} ms max={max(values) * 1000:.0f} ms")


if __name__ == "__main__":
    if sys.argv[1] == "hold":
        hold(int(sys.argv[2]), int(sys.argv[3]))
    elif sys.argv[1] == "flood":
        port, user, password, topic, seconds, counter, per_s = sys.argv[2:9]
        print(flood(int(port), user, password, topic, float(seconds),
                    commands_for=int(counter) or None, per_s=float(per_s)))
