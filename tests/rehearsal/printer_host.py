"""The rehearsal's network receipt printer: a port-9100 listener that decodes every job.

Each TCP connection is one session, as with a real LAN receipt printer: the bytes
are decoded as they arrive (:mod:`escpos_decode`), status queries are answered at
once from the printer's state (so the kiosk's check before a job and its
confirmation after it work as with a real printer), and when the connection
closes one JSON line is appended to the log file: the receipts (text lines, QR
payloads, images, cut), the status queries and their replies, and every unknown
command. The harness reads that file.

The printer's state (paper ok / low / out, offline, silent) comes from the command
line and, if ``--state-file`` is given, from that JSON file, read again for every
new connection, so a test can run out of paper without restarting the printer.

Run on the printer host (stdlib, Pillow and zxing-cpp only)::

    python3 printer_host.py --bind 0.0.0.0 --port 9100 --log /var/log/lalopa-printer/jobs.jsonl

In tests it binds 127.0.0.1 on a free port: ``PrinterHost(log, port=0).start()``.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import socket
import sys
import threading
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from escpos_decode import Decoder, PrinterState  # noqa: E402  (a script next to its decoder)

#: A real printer drops a connection that has been idle this long; so do we, so a kiosk
#: that vanished mid-job never keeps a thread forever.
IDLE_TIMEOUT_S = 60.0


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


class PrinterHost:
    """A threaded port-9100 printer that logs one decoded JSON line per connection."""

    def __init__(self, log: str | Path, *, bind: str = "127.0.0.1", port: int = 9100,
                 state: PrinterState | None = None, state_file: str | Path | None = None):
        self.log = Path(log)
        self.state = state or PrinterState()
        self.state_file = Path(state_file) if state_file else None
        self.sock = socket.create_server((bind, port))   # SO_REUSEADDR on POSIX
        self.port = self.sock.getsockname()[1]
        self._lock = threading.Lock()
        self._count = 0
        self._threads: list[threading.Thread] = []

    def start(self) -> "PrinterHost":
        threading.Thread(target=self.serve, name="printer-accept", daemon=True).start()
        return self

    def serve(self) -> None:
        while True:
            try:
                conn, peer = self.sock.accept()
            except OSError:
                return   # closed
            with self._lock:
                self._count += 1
                number = self._count
            t = threading.Thread(target=self._session, args=(conn, peer, number),
                                 name=f"printer-{number}", daemon=True)
            self._threads.append(t)
            t.start()

    def close(self) -> None:
        """Stop accepting, and wait for open sessions to be logged."""
        self.sock.close()
        for t in self._threads:
            t.join(IDLE_TIMEOUT_S)

    def current_state(self) -> PrinterState:
        if self.state_file is None or not self.state_file.exists():
            return self.state
        try:
            wanted = json.loads(self.state_file.read_text())
            return dataclasses.replace(self.state, **wanted)
        except (ValueError, TypeError) as exc:
            print(f"printer host: state file ignored ({exc})", file=sys.stderr)
            return self.state

    def _session(self, conn: socket.socket, peer, number: int) -> None:
        state = self.current_state()
        decoder = Decoder(state)
        opened, ended_by = _now(), "peer closed"
        conn.settimeout(IDLE_TIMEOUT_S)
        with conn:
            while True:
                try:
                    chunk = conn.recv(65536)
                except socket.timeout:
                    ended_by = "idle timeout"
                    break
                except OSError as exc:
                    ended_by = f"error: {exc}"
                    break
                if not chunk:
                    break
                reply = decoder.feed(chunk)
                if reply:
                    try:
                        conn.sendall(reply)
                    except OSError as exc:
                        ended_by = f"error: {exc}"
                        break
        session = decoder.close()
        record = {"connection": number, "peer": f"{peer[0]}:{peer[1]}", "opened_at": opened,
                  "closed_at": _now(), "ended_by": ended_by,
                  "printer": dataclasses.asdict(state),
                  "kind": "job" if session["receipts"] else "status", **session}
        self._append(record)

    def _append(self, record: dict) -> None:
        line = json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n"
        with self._lock:
            self.log.parent.mkdir(parents=True, exist_ok=True)
            with self.log.open("a", encoding="utf-8") as f:
                f.write(line)
                f.flush()
                os.fsync(f.fileno())


def read_log(path: str | Path) -> list[dict]:
    """Every logged session, oldest first."""
    p = Path(path)
    if not p.exists():
        return []
    return [json.loads(line) for line in p.read_text(encoding="utf-8").splitlines() if line]


def _notify_ready() -> None:
    """sd_notify READY=1 when run as a Type=notify unit (abstract sockets start with @)."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return
    if address.startswith("@"):
        address = "\0" + address[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
        s.connect(address)
        s.sendall(b"READY=1")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="LALOPA rehearsal: a port-9100 receipt printer "
                                             "that decodes ESC/POS into a JSON-lines log")
    ap.add_argument("--bind", default="127.0.0.1", help="0.0.0.0 on the printer host")
    ap.add_argument("--port", type=int, default=9100)
    ap.add_argument("--log", required=True, help="JSON lines, one per connection")
    ap.add_argument("--paper", choices=("ok", "low", "out"), default="ok")
    ap.add_argument("--offline", action="store_true", help="answer status queries as offline")
    ap.add_argument("--silent", action="store_true", help="never answer status queries")
    ap.add_argument("--state-file", help="JSON like {\"paper\": \"low\"}, read per connection")
    args = ap.parse_args(argv)
    state = PrinterState(paper=args.paper, online=not args.offline, silent=args.silent)
    host = PrinterHost(args.log, bind=args.bind, port=args.port, state=state,
                       state_file=args.state_file)
    print(f"printer host listening on {args.bind}:{host.port}, log {args.log}", flush=True)
    _notify_ready()
    try:
        host.serve()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
