"""Tell systemd we are ready and alive, without a dependency.

``notify("READY=1")`` after start-up, ``notify("WATCHDOG=1")`` from the main
loop about every ``WatchdogSec/2`` (see :func:`watchdog_interval`). Outside
systemd (no ``$NOTIFY_SOCKET``) both are no-ops that return False.
"""
from __future__ import annotations

import os
import socket
import time


def notify(state: str) -> bool:
    """Send one sd_notify datagram; True when it was delivered."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):  # abstract namespace socket: '@' means a leading NUL
        address = "\0" + address[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
        sock.connect(address)
        sock.sendall(state.encode())
    return True


def watchdog_interval() -> float | None:
    """Seconds between WATCHDOG=1 pings (half of WatchdogSec), or None when off."""
    usec = os.environ.get("WATCHDOG_USEC")
    pid = os.environ.get("WATCHDOG_PID")
    if not usec or (pid and pid != str(os.getpid())):
        return None
    return int(usec) / 2_000_000


def serve(server, alive=None) -> None:
    """Run a waitress server's loop here, pinging the watchdog between rounds.

    ``alive()`` (the bridge's: is the bus still moving?) is asked before each
    ping; while it says False no ping goes out, and systemd restarts the
    server when WatchdogSec runs out.

    The pings come from this main loop on purpose, not from a helper thread that
    would live on while the loop hangs: if the loop hangs, the pings stop and
    systemd restarts the server.
    """
    from waitress import wasyncore
    socket_map = getattr(server, "_map", None)
    if socket_map is None:
        socket_map = server.map
    interval = watchdog_interval()
    last = 0.0
    try:
        while _listening(server, socket_map):  # our SIGTERM handler calls server.close()
            wasyncore.loop(timeout=min(1.0, interval or 1.0), map=socket_map,
                           use_poll=server.adj.asyncore_use_poll, count=1)
            if interval and time.monotonic() - last >= interval and (alive is None or alive()):
                notify("WATCHDOG=1")
                last = time.monotonic()
    except (SystemExit, KeyboardInterrupt):
        pass
    notify("STOPPING=1")
    # Idle keep-alive connections (a kiosk's session) must not hold the exit.
    wasyncore.close_all(socket_map)
    server.task_dispatcher.shutdown()


def _listening(server, socket_map) -> bool:
    fileno = getattr(server, "_fileno", None)
    return fileno in socket_map if hasattr(server, "_fileno") else bool(socket_map)
