"""Serve a Flask app on 127.0.0.1 in a background thread (tests and screenshots).

Production serves with waitress (``lalopa server``); this uses werkzeug's
threaded server, which streams server-sent events without buffering.
"""
from __future__ import annotations

import threading

from werkzeug.serving import WSGIRequestHandler, make_server


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):  # tests and screenshots need no access log
        pass


class ThreadedServer:
    """``with ThreadedServer(app) as url: ...`` — a real HTTP server on a free loopback port."""

    def __init__(self, app, host: str = "127.0.0.1", port: int = 0):
        self._server = make_server(host, port, app, threaded=True,
                                   request_handler=_QuietHandler)
        self._server.daemon_threads = True  # open event streams must not block shutdown
        self.url = f"http://{host}:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="web-test-server",
                                        daemon=True)

    def __enter__(self) -> str:
        self._thread.start()
        return self.url

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)
        self._server.server_close()
