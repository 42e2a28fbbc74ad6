"""docs/SECURITY.md's HTTP limits agree with the code, and every test it names exists."""
from __future__ import annotations

import ast
import re
from pathlib import Path

from server import auth, httplimits as h
from server.web.security import ABSOLUTE_S, IDLE_S

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "SECURITY.md"


def http_section() -> str:
    text = DOC.read_text()
    start = text.index("## HTTP")
    end = text.find("\n## ", start + 1)
    return text[start:] if end < 0 else text[start:end]


def test_every_http_limit_in_the_doc_is_the_codes():
    """GIVEN the limits in server/httplimits.py and server/auth.py WHEN SECURITY.md's HTTP
    section is read THEN it states each value."""
    doc = http_section()
    window_min = auth.WINDOW_MS // 60000
    expected = [
        f"{h.HEADER_TIMEOUT_S} s (`client_header_timeout`)",
        f"{h.BODY_TIMEOUT_S} s (`client_body_timeout`)",
        f"| idle kept-alive connection closed after | {h.KEEPALIVE_S} s |",
        f"{h.PER_SOURCE_REQUESTS} (`limit_conn`",
        f"{h.WORKER_CONNECTIONS} (`worker_connections`)",
        f"| request body | {h.MAX_BODY_BYTES // 1024} KiB",
        f"{h.CHANNEL_TIMEOUT_S} s (`channel_timeout`",
        f"{h.CONNECTION_LIMIT} (`connection_limit`)",
        f"{h.LIVE_STREAMS_TOTAL} in all (`threads − 6`), {h.LIVE_STREAMS_PER_SESSION} per session, "
        f"{h.LIVE_STREAMS_PER_SOURCE} per address",
        f"{h.LOGIN_RATE_PER_MIN}/min, burst {h.LOGIN_BURST}",
        f"{auth.MAX_PER_ACCOUNT_SOURCE} per {window_min} min",
        f"{auth.MAX_PER_SOURCE} per {window_min} min",
        f"{auth.MAX_PER_ACCOUNT} per {window_min} min",
        f"| password checks at once | {auth.CHECKS_AT_ONCE} (argon2id",
        f"waiting over {auth.CHECK_WAIT_S:g} s gets 429 + `Retry-After: {auth.BUSY_RETRY_S}`",
        f"ends {IDLE_S // 60} min after the last request and {ABSOLUTE_S // 3600} h after log-in",
    ]
    missing = [e for e in expected if e not in doc]
    assert not missing, missing


def test_every_test_the_doc_names_exists():
    """GIVEN the tests SECURITY.md's HTTP section names WHEN the test files are parsed THEN each
    exists."""
    files = list((ROOT / "tests" / "hostile").glob("test_http_*.py")) + [
        ROOT / "tests" / "web" / "test_web_auth.py"]
    functions = {n.name for f in files for n in ast.walk(ast.parse(f.read_text()))
                 if isinstance(n, ast.FunctionDef)}
    named = set(re.findall(r"\b(test_\w+?)(?:\[|`|\b)", http_section())) - {"test_http_docs"}
    named = {n for n in named if not n.startswith(("test_http_", "test_web_"))}
    assert len(named) >= 10
    assert not named - functions, sorted(named - functions)
