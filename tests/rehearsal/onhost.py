"""Helpers the rehearsal runs inside a booted host, with the host's own LALOPA venv.

    python onhost.py stream --config /etc/lalopa/kiosk.toml --count 40 --pace 0.25 --out F
    python onhost.py verify --config /etc/lalopa/kiosk.toml --acked F
    python onhost.py dashboard --server URL --username U --password-file F

``stream`` issues tickets the way the kiosk does (the kiosk's own ServerClient,
one request id per ticket, the same id on every retry) and appends each ticket
the server ACKNOWLEDGED to ``--out`` the moment the answer arrives. ``verify``
asks the server for each of them afterwards: every acknowledged ticket must
still exist with the same number, and no number may appear twice.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import time
import uuid

from kiosk.client import ServerClient, ServerRefused, ServerUnreachable
from kiosk.config import load_config


def client(config_path: str) -> ServerClient:
    cfg = load_config(config_path)
    return ServerClient(cfg.server.url, cfg.token(), connect_timeout_s=2.0, read_timeout_s=4.0,
                        attempts=1)


def stream(args) -> int:
    c = client(args.config)
    service = c.site().services[0].prefix
    # A kiosk's pace (its rate limit refuses faster): one ticket every --pace seconds.
    for _ in range(args.count):
        request_id = f"rehearsal-{uuid.uuid4()}"
        deadline = time.monotonic() + 90       # a killed server is back well within this
        while True:
            try:
                body = c.issue(service, None, request_id)
                break
            except ServerRefused as exc:
                if exc.status != 429 or time.monotonic() > deadline:   # only "too fast" waits
                    raise
                time.sleep(2.0)
            except ServerUnreachable:
                if time.monotonic() > deadline:
                    print(f"server unreachable for 90 s (request {request_id})", file=sys.stderr)
                    return 1
                time.sleep(0.5)
        with open(args.out, "a") as f:
            f.write(json.dumps({"request_id": request_id, "number": body["ticket"]["number"],
                                "token": body["ticket"]["token"]}) + "\n")
            f.flush()
        time.sleep(args.pace)
    return 0


def verify(args) -> int:
    c = client(args.config)
    acked = [json.loads(ln) for ln in open(args.acked) if ln.strip()]
    lost, wrong = [], []
    for t in acked:
        status, body = c._request("GET", f"/api/v1/tickets/{t['token']}")
        if status != 200:
            lost.append(t["number"])
        elif body.get("number") != t["number"]:
            wrong.append((t["number"], body.get("number")))
    numbers = [t["number"] for t in acked]
    twice = sorted({n for n in numbers if numbers.count(n) > 1})
    if lost or wrong or twice:
        print(f"lost {lost}, changed {wrong}, issued twice {twice}")
        return 1
    print(f"all {len(acked)} acknowledged tickets kept their numbers "
          f"({numbers[0]}..{numbers[-1]}), none issued twice")
    return 0


def dashboard(args) -> int:
    """Log in as the supervisor and print the live dashboard's devices and alerts (JSON)."""
    import requests
    session = requests.Session()
    password = open(args.password_file).read().strip()
    form = session.get(f"{args.server}/login", timeout=10).text   # as a browser: form first
    csrf = re.search(r'name="csrf_token" value="([^"]*)"', form)
    resp = session.post(f"{args.server}/login", timeout=10, data={
        "username": args.username, "password": password, "csrf_token": csrf[1] if csrf else ""})
    state = session.get(f"{args.server}/dashboard/state.json", timeout=10)
    if state.status_code != 200:
        print(f"dashboard: log-in answered {resp.status_code} at {resp.url}, "
              f"state.json {state.status_code}", file=sys.stderr)
        return 1
    body = state.json()
    print(json.dumps({"devices": body.get("devices"), "alerts": body.get("alerts")}))
    return 0


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="onhost")
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("stream")
    s.add_argument("--config", required=True)
    s.add_argument("--count", type=int, default=40)
    s.add_argument("--pace", type=float, default=0.25)
    s.add_argument("--out", required=True)
    v = sub.add_parser("verify")
    v.add_argument("--config", required=True)
    v.add_argument("--acked", required=True)
    d = sub.add_parser("dashboard")
    d.add_argument("--server", required=True)
    d.add_argument("--username", required=True)
    d.add_argument("--password-file", required=True)
    args = ap.parse_args(argv)
    return {"stream": stream, "verify": verify, "dashboard": dashboard}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
