"""Every limit of the HTTP side, in one place (stdlib only: the installer imports it).

The front (server/appliance/nginx.py) and waitress (``lalopa server``) both take
their values from here; docs/SECURITY.md "HTTP" lists each with the test that
proves it.
"""
from __future__ import annotations

MAX_BODY_BYTES = 16 * 1024   # the largest request any route accepts (admin forms are ~4 KiB)

# --- the front (nginx) -------------------------------------------------------------
HEADER_TIMEOUT_S = 10     # a client must finish its request line and headers within this
BODY_TIMEOUT_S = 10       # ... and send some of its body at least this often
SEND_TIMEOUT_S = 30       # a client that stops reading the answer is dropped
KEEPALIVE_S = 15          # an idle kept-alive connection is closed after this
PER_SOURCE_REQUESTS = 8   # requests one address may have in flight at once
# POST /login per address, before any password is checked: a coarse pre-filter only; the
# server's own per-account and per-source limits (server/auth.py) are the real ones.
LOGIN_RATE_PER_MIN = 60
LOGIN_BURST = 20
WORKER_CONNECTIONS = 4096  # idle sockets cost nginx a few KiB each; the header timeout reaps them
STREAM_READ_S = 330       # live pages: the server itself ends each event stream every 300 s

# --- waitress (also when it serves the LAN directly, as in the demo) ----------------
THREADS = 24              # each open live page holds one; see LIVE_* below
CONNECTION_LIMIT = 200    # open sockets waitress keeps; behind the front only nginx connects
CHANNEL_TIMEOUT_S = 30    # an idle connection is closed after this (live pages send every 5 s)

# --- live pages (server-sent events) -------------------------------------------------
LIVE_STREAMS_TOTAL = THREADS - 6   # 6 threads always stay free for kiosks and panels
LIVE_STREAMS_PER_SESSION = 2       # a page and one more tab; further tabs poll instead
LIVE_STREAMS_PER_SOURCE = 4        # one computer, however many sessions it opens
