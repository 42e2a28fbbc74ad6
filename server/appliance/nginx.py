"""The HTTP front: nginx in front of waitress, rendered from one place.

Why a front at all: waitress reads a whole request (headers and up to
``max_request_body_size`` of body) into a channel per connection and has one
fixed ``connection_limit`` for everybody, so one laptop with a hundred idle or
slowly typed connections takes every channel and the kiosks wait. nginx is
event driven: an idle or slow connection costs it a few kilobytes and no
thread, it drops a connection whose headers or body stall
(``client_header_timeout`` / ``client_body_timeout``), it refuses a body over
``client_max_body_size`` from its Content-Length before reading it (and stops a
chunked body the moment it passes the limit), and it caps how many requests one
source address may have in flight (``limit_conn``). waitress then sees only
complete, small requests from 127.0.0.1, and every waitress thread stays free
for real work.

The same text runs in production (``lalopa install --role server`` writes it to
/etc/nginx/nginx.conf: the server Pi is an appliance and nginx serves nothing
else) and in the tests (:func:`render` with private paths and ports, run by
``server.devtools.front``).
"""
from __future__ import annotations

from dataclasses import dataclass

from server.httplimits import (BODY_TIMEOUT_S, HEADER_TIMEOUT_S, KEEPALIVE_S, LOGIN_BURST,
                               LOGIN_RATE_PER_MIN, MAX_BODY_BYTES, PER_SOURCE_REQUESTS,
                               SEND_TIMEOUT_S, STREAM_READ_S, WORKER_CONNECTIONS)

PUBLIC_PORT = 8080      # the port every kiosk, board and browser already uses
APP_PORT = 8081         # waitress, bound to 127.0.0.1 only behind the front


@dataclass
class Paths:
    """Where nginx keeps its pid, log and temp files (production: Debian's)."""

    pid: str = "/run/nginx.pid"
    error_log: str = "/var/log/nginx/error.log"
    temp: str = "/var/lib/nginx"
    user: str | None = "www-data"   # None: stay the user that started nginx (tests)


def render(listen: str = f"0.0.0.0:{PUBLIC_PORT}", upstream: str = f"127.0.0.1:{APP_PORT}",
           paths: Paths | None = None) -> str:
    """The whole nginx.conf for the front (main context, events and http)."""
    p = paths or Paths()
    user = f"user {p.user};\n" if p.user else ""
    proxy = (
        "            proxy_pass http://lalopa_app;\n"
        "            proxy_http_version 1.1;\n"
        '            proxy_set_header Connection "";\n'
        "            proxy_set_header Host $http_host;\n"
        # Replace, never append: a client cannot smuggle a forged address past the front.
        "            proxy_set_header X-Forwarded-For $remote_addr;\n"
        "            proxy_set_header X-Forwarded-Proto $scheme;\n"
        "            proxy_connect_timeout 5s;\n")
    return f"""# LALOPA HTTP front, rendered by server/appliance/nginx.py: edit there, not here.
{user}worker_processes 1;
worker_rlimit_nofile {WORKER_CONNECTIONS * 2 + 64};
pid {p.pid};
error_log {p.error_log} warn;

events {{
    worker_connections {WORKER_CONNECTIONS};
}}

http {{
    access_log off;
    server_tokens off;
    default_type application/octet-stream;
    client_body_temp_path {p.temp}/body;
    proxy_temp_path {p.temp}/proxy;
    fastcgi_temp_path {p.temp}/fastcgi;
    uwsgi_temp_path {p.temp}/uwsgi;
    scgi_temp_path {p.temp}/scgi;

    client_header_buffer_size 1k;
    large_client_header_buffers 4 8k;
    client_header_timeout {HEADER_TIMEOUT_S}s;
    client_body_timeout {BODY_TIMEOUT_S}s;
    send_timeout {SEND_TIMEOUT_S}s;
    keepalive_timeout {KEEPALIVE_S}s;
    reset_timedout_connection on;
    lingering_time 5s;           # after a refusal, drain an unwanted body for 5 s at most
    # Refused from Content-Length before a byte of body is read; a chunked body is cut
    # off with 413 as soon as it passes the limit. Kept in memory, never spooled to disk.
    client_max_body_size {MAX_BODY_BYTES};
    client_body_buffer_size {MAX_BODY_BYTES};

    limit_conn_zone $binary_remote_addr zone=lalopa_source:1m;
    limit_conn lalopa_source {PER_SOURCE_REQUESTS};
    limit_conn_status 429;
    # only POSTs count (an empty key is not limited): reading the form is free
    map $request_method $lalopa_login_key {{
        POST $binary_remote_addr;
        default "";
    }}
    limit_req_zone $lalopa_login_key zone=lalopa_login:1m rate={LOGIN_RATE_PER_MIN}r/m;
    limit_req_status 429;

    upstream lalopa_app {{
        server {upstream};
        keepalive 8;
    }}

    server {{
        listen {listen};

        location / {{
{proxy}            proxy_read_timeout 60s;
        }}
        location = /login {{
            limit_req zone=lalopa_login burst={LOGIN_BURST} nodelay;
{proxy}            proxy_read_timeout 60s;
        }}
        # Live pages: pass each event through at once (no buffering), keep the stream open.
        location ~ /events$ {{
{proxy}            proxy_buffering off;
            proxy_cache off;
            proxy_read_timeout {STREAM_READ_S}s;
        }}
    }}
}}
"""
