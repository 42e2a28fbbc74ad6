"""docs/SECURITY.md's bus limits agree with the code, and every test it names exists."""
from __future__ import annotations

import ast
import re
from pathlib import Path

from broker.admin import render_production
from broker.bus import STALL_S
from server.bridge import BUS_DEAD_S, BUS_PROBE_S
from server.intake import COMMAND_FLOOD, COMMAND_RATE, STATUS_FLOOD

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "SECURITY.md"


def bus_section() -> str:
    text = DOC.read_text()
    return text[text.index("## Bus"):text.index("## HTTP")]


def _g(value: float) -> str:
    return f"{value:g}"


def test_every_bus_limit_in_the_doc_is_the_codes():
    """GIVEN the limits in code and config WHEN SECURITY.md's bus section is read THEN it states each value."""
    doc = bus_section()
    conf = render_production()
    drop_in = (ROOT / "systemd" / "mosquitto.service.d" / "lalopa.conf").read_text()
    expected = [
        f"more than {COMMAND_FLOOD.messages} messages in {_g(COMMAND_FLOOD.window_s)} s on one counter's "
        f"command topic pauses that topic for {_g(COMMAND_FLOOD.pause_s)} s",
        f"more than {STATUS_FLOOD.messages} messages in {_g(STATUS_FLOOD.window_s)} s",
        f"pauses that filter for {_g(STATUS_FLOOD.pause_s)} s",
        f"{_g(COMMAND_RATE.per_s)} a second, bursts of {COMMAND_RATE.burst}",
        f"unacknowledged for {_g(STALL_S)} s",
        f"after {_g(BUS_DEAD_S)} s without an acknowledgement while the broker is reachable",
        f"after {_g(BUS_PROBE_S)} s without a publish (`BUS_PROBE_S`)",
    ]
    for line in re.findall(r"(?m)^(LimitNOFILE=\S+)", drop_in):
        expected.append(f"`{line}`")
    for key in ("max_connections", "max_packet_size", "max_queued_messages", "max_inflight_messages",
                "use_username_as_clientid", "queue_qos0_messages"):
        values = re.findall(rf"(?m)^{key} (\S+)", conf)
        assert values, f"production.conf has no {key}"
        expected += [f"{key} {v}" for v in values]
    missing = [e for e in expected if e not in doc]
    assert not missing, missing


def test_every_test_the_doc_names_exists():
    """GIVEN the tests SECURITY.md's bus section names WHEN the test files are parsed THEN each exists."""
    named = re.findall(r"`(test_bus_\w+\.py)(?:::(\w+))?`", bus_section())
    assert len(named) >= 8
    for path, name in named:
        source = ROOT / "tests" / "hostile" / path
        assert source.exists(), path
        if name:
            functions = {n.name for n in ast.walk(ast.parse(source.read_text()))
                         if isinstance(n, ast.FunctionDef)}
            assert name in functions, f"{path}::{name}"
