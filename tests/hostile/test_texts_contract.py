"""The text contract (broker/texts.py) and the settings registry (broker/settings.py).

* every text at its limit, in the widest characters allowed, fits every bus payload
  it travels in, so a text the admin form accepts can never stop a call;
* the rules refuse NUL, controls, surrogates, bidi overrides, unprintable ticket text;
* every LALOPA_* setting is read through its declaration, checked at start (an
  invalid value is an error naming the variable), and docs/SETTINGS.md is the
  declaration's own table.
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings as hsettings
from hypothesis import strategies as st

from broker import protocol as P
from broker import settings, texts
from broker.vocab import PRIORITIES

REPO = Path(__file__).resolve().parents[2]
WIDE = "\U0001F600"      # four UTF-8 bytes: the widest character a text may hold
LATIN = "\u00e9"         # two bytes: the widest a printed text may hold
RECENT_CALLS = 10        # the board snapshot carries the day's 10 latest calls (QueueService.board)


def _at_limit(rule: texts.TextRule) -> str:
    return (LATIN if rule.printed else WIDE) * rule.max_len if rule.charset is None else "1" * rule.max_len


def test_every_text_at_its_limit_fits_every_payload():
    """GIVEN every text at its limit in its widest allowed characters, on the most counters and
    services a site may have WHEN the board, a counter's state, a call and a command are encoded
    THEN none exceeds its payload limit (before: a 61-character name made the encoder refuse
    every call of its counter)."""
    name = texts.clean(texts.COUNTER_NAME, _at_limit(texts.COUNTER_NAME))
    ticket = P.TicketRef(number="A-0123", service="A", status="called", priority=PRIORITIES[1],
                         since="2026-11-23T08:41:07+07:00")
    call = P.CallEvent(seq=2**53, kind="recall", ticket="A-0123", service="A", counter=P.MAX_COUNTER_NUMBER,
                       counter_name=name, at="2026-11-23T08:41:07+07:00", priority=PRIORITIES[1],
                       recall_count=999)
    board = P.BoardSnapshot(
        site="a" * 48, facility=_at_limit(texts.FACILITY), service_day="2026-11-23",
        server_time_ms=2**53, tz="America/Argentina/ComodRivadavia", seq=2**53,
        counters=tuple(P.CounterSlot(counter=P.MAX_COUNTER_NUMBER - n, name=name, status="paused",
                                     ticket=ticket) for n in range(texts.MAX_COUNTERS)),
        recent=(call,) * RECENT_CALLS,
        services=tuple(P.ServiceInfo(prefix=chr(65 + i), name_id=_at_limit(texts.SERVICE_NAME_ID),
                                     name_en=_at_limit(texts.SERVICE_NAME_EN), waiting=10**6)
                       for i in range(texts.MAX_SERVICES)),
        running_text=_at_limit(texts.RUNNING_TEXT))
    state = P.CounterState(counter=P.MAX_COUNTER_NUMBER, name=name, status="paused", waiting=10**6,
                           server_time_ms=2**53, ticket=ticket, pause_reason=_at_limit(texts.REASON),
                           last_command=P.CommandResult(id="x" * 64, ok=False, code="c" * 64))
    command = P.CounterCommand(id="x" * 64, counter=P.MAX_COUNTER_NUMBER, action="no_show",
                               device="d" * 64, sent_at_ms=2**53, reason=_at_limit(texts.REASON))
    for msg in (board, state, call, command):
        assert P.decode(type(msg), P.encode(msg)) == msg


@pytest.mark.parametrize("value,problem", [
    ("Loket\x005", "U+0000"), ("Loket\x1b[31m", "U+001B"), ("Loket \ud800", "U+D800"),
    ("Dinas \u202eKesehatan", "U+202E"), ("Loket \ue000", "U+E000"), ("x" + "\u0301" * 4, "too many accents"),
    ("L" * 61, "at most 60 characters"), ("   ", "must not be empty"), (5, "must be text"),
])
def test_counter_name_refusals_say_why_in_both_languages(value, problem):
    """GIVEN a counter name breaking one rule WHEN cleaned THEN TextError names the problem (EN)
    and carries an Indonesian message too."""
    with pytest.raises(texts.TextError) as err:
        texts.clean(texts.COUNTER_NAME, value)
    assert problem in err.value.message_en and err.value.message_id.startswith("Nama loket:")


def test_whitespace_is_normalised_and_printed_texts_stay_printable():
    """GIVEN texts with tabs, line breaks and typographic characters WHEN cleaned THEN whitespace is
    one space; a printed text with a character the ticket cannot print is refused."""
    assert texts.clean(texts.COUNTER_NAME, " Loket\t\n 5\u2003 ") == "Loket 5"
    assert texts.clean(texts.SERVICE_NAME_ID, "Verifikasi \u201cKlaim\u201d \u2014 \u00e9") == \
        "Verifikasi \u201cKlaim\u201d \u2014 \u00e9"
    with pytest.raises(texts.TextError, match="cannot print"):
        texts.clean(texts.SERVICE_NAME_ID, "Klaim \U0001F600")
    assert texts.clean(texts.SERVICE_NAME_EN, "Claim \U0001F600") == "Claim \U0001F600"
    with pytest.raises(texts.TextError, match="digits"):
        texts.clean(texts.WHATSAPP, "wa.me/62812")


@hsettings(max_examples=200, deadline=None)
@given(value=st.text(max_size=300))
def test_a_clean_text_is_displayed_unchanged_and_decodes_on_the_bus(value):
    """GIVEN any text WHEN it passes the contract THEN renderers show it unchanged and the bus
    decoder accepts it; WHEN it fails THEN TextError (never another exception)."""
    try:
        text = texts.clean(texts.RUNNING_TEXT, value)
    except texts.TextError:
        return
    assert texts.displayable(text) == text
    assert texts.clean(texts.RUNNING_TEXT, text) == text
    assert P.decode(P.PrinterStatus, P.encode(P.PrinterStatus(kiosk="k", status="ok"))).kiosk == "k"
    assert P._text(text, texts.RUNNING_TEXT, "running_text", "board") == text


# -- settings ------------------------------------------------------------------

RUNTIME = ("server", "kiosk", "display", "firmware", "broker")


def test_every_lalopa_environment_read_goes_through_the_declaration():
    """GIVEN the runtime packages WHEN searched for os.environ reads of LALOPA_* names THEN there
    are none outside broker/settings.py, and every LALOPA_* name the code mentions is declared or
    is an app.config key."""
    direct = re.compile(r"""(environ\.get\(|environ\[|getenv\()\s*["']LALOPA_""")
    offenders = [str(p.relative_to(REPO)) for pkg in RUNTIME for p in (REPO / pkg).rglob("*.py")
                 if "devtools" not in p.parts and p.name != "settings.py" and direct.search(p.read_text())]
    assert offenders == []


def test_settings_doc_is_generated_from_the_declaration():
    """GIVEN docs/SETTINGS.md WHEN its table is compared with settings.markdown_table() THEN equal."""
    doc = (REPO / "docs" / "SETTINGS.md").read_text()
    table = doc.split("<!-- settings:start -->\n")[1].split("<!-- settings:end -->")[0]
    assert table == settings.markdown_table()


@pytest.mark.parametrize("name,value,form", [
    ("LALOPA_KIOSK_BURST", "many", "a whole number of at least 1"),
    ("LALOPA_KIOSK_RATE_PER_MIN", "-3", "a whole number of at least 0"),
    ("LALOPA_SSE_MAX_STREAMS", "0", "a whole number of at least 1"),
    ("LALOPA_DEBUG", "perhaps", "1/0, true/false"),
])
def test_an_invalid_setting_stops_the_server_naming_the_variable(tmp_path, name, value, form):
    """GIVEN an invalid LALOPA_* value WHEN 'lalopa server' starts THEN it exits 1 with a message
    naming the variable and the expected form (before: the kiosk rate limit silently fell back
    to its default)."""
    env = {"PATH": "/usr/bin:/bin", name: value}
    proc = subprocess.run([sys.executable, "-m", "broker.cli", "server", "--validate-config"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1, proc.stderr
    assert name in proc.stderr and form in proc.stderr


def test_an_invalid_rate_limit_is_an_error_not_the_default(monkeypatch):
    """GIVEN LALOPA_KIOSK_RATE_PER_MIN=abc WHEN the server builds its kiosk limiter THEN it raises
    SettingError naming the variable (before: the default 30/min, silently)."""
    from flask import Flask

    from server import ratelimit
    monkeypatch.setenv("LALOPA_KIOSK_RATE_PER_MIN", "abc")
    with pytest.raises(settings.SettingError, match="LALOPA_KIOSK_RATE_PER_MIN"):
        ratelimit.limiter(Flask("t"))
    monkeypatch.setenv("LALOPA_KIOSK_RATE_PER_MIN", "12")
    assert ratelimit.limiter(Flask("t")).per_second == 12 / 60


def test_protocol_doc_states_the_text_contract_and_the_decoder_bounds():
    """GIVEN docs/PROTOCOL.md WHEN read THEN its texts table is broker.texts' own, and it states
    the nesting bound, the integer version and the site's counts."""
    doc = (REPO / "docs" / "PROTOCOL.md").read_text()
    table = doc.split("<!-- texts:start -->\n")[1].split("<!-- texts:end -->")[0]
    assert table == texts.markdown_table()
    assert f"nests at most {P.MAX_DEPTH} levels" in doc and "`1.0`, `true` and `\"1\"` are refused" in doc
    assert f"at most {texts.MAX_SERVICES} services and {texts.MAX_COUNTERS} counters" in doc


@pytest.mark.parametrize("reason,problem", [("istirahat\x00", "U+0000"), ("R" * 201, "at most 200"),
                                            ("\u202eistirahat", "U+202E")])
def test_api_and_bus_refuse_a_reason_that_breaks_the_contract(tmp_path, reason, problem):
    """GIVEN a panel token WHEN a pause is posted with a reason holding a NUL, a bidi override or
    201 characters THEN 400 with the problem in Indonesian and English and the counter stays open;
    the same reason in a bus command is refused by the decoder."""
    from server.app import create_app
    from server.devtools.benchlib.site import always_open_site
    from server.queue import QueueService

    svc = QueueService(str(tmp_path / "q.db"), always_open_site("t"))
    client = create_app({"LALOPA_QUEUE": svc, "LALOPA_DB": str(tmp_path / "q.db"), "TESTING": True,
                         "LALOPA_WEB": False}).test_client()
    auth = {"Authorization": f"Bearer {svc.create_device_token('panel-5', 'panel')}"}
    assert client.post("/api/v1/counters/5/actions", json={"action": "open", "command_id": "c1"},
                       headers=auth).status_code == 200
    r = client.post("/api/v1/counters/5/actions", headers=auth,
                    json={"action": "pause", "command_id": "c2", "reason": reason})
    err = r.get_json()["error"]
    assert r.status_code == 400 and problem in err["message_en"] and err["message_id"].startswith("Alasan:")
    assert svc.counter_state(5)["status"] == "open"
    svc.close()
    command = P.CounterCommand(id="b:1", counter=5, action="pause", device="b", sent_at_ms=1, reason="ok")
    raw = P.encode(command).replace(b'"ok"', P.json.dumps(reason).encode())
    with pytest.raises(P.ProtocolError):
        P.decode(P.CounterCommand, raw)


def test_every_setting_named_in_docs_and_units_is_declared():
    """GIVEN the docs, the README and the systemd units WHEN they name a LALOPA_* variable THEN it is
    one the programs declare (a documented name that nothing reads would mislead the technician)."""
    places = [*(REPO / "docs").glob("*.md"), REPO / "README.md", *(REPO / "systemd").rglob("*")]
    named = {m for p in places if p.is_file() for m in re.findall(r"LALOPA_[A-Z_]+[A-Z]", p.read_text())}
    assert named - set(settings.BY_NAME) == set()
