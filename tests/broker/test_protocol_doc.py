"""docs/PROTOCOL.md and broker/protocol.py must describe the same bus."""
import json
import re
from pathlib import Path

import pytest

from broker.protocol import ROOT, TOPICS, ProtocolError, decode, encode, sample_payloads

DOC = Path(__file__).resolve().parents[2] / "docs" / "PROTOCOL.md"


def sections() -> dict[str, str]:
    parts = re.split(r"(?m)^## ", DOC.read_text())
    return {part.splitlines()[0].strip(): part for part in parts[1:]}


@pytest.mark.parametrize("spec", TOPICS, ids=lambda s: s.name)
def test_every_topic_has_a_matching_section(spec):
    """GIVEN a TOPICS entry WHEN its doc section is read THEN topic, payload, QoS and retain agree."""
    body = sections().get(spec.name)
    assert body is not None, f"PROTOCOL.md has no '## {spec.name}' section"
    assert f"- topic: `{ROOT}/<site>/{spec.pattern}`" in body
    assert f"- payload: `{spec.payload.__name__}`" in body
    assert f"- publisher: {spec.publishers}\n" in body
    assert f"- subscribers: {spec.subscribers}\n" in body
    assert f"- QoS {spec.qos}, retained: {'yes' if spec.retained else 'no'}" in body
    if spec.notes:
        assert f"- notes: {spec.notes}\n" in body


@pytest.mark.parametrize("spec", TOPICS, ids=lambda s: s.name)
def test_every_json_sample_decodes_and_equals_the_code_sample(spec):
    """GIVEN a section's JSON sample WHEN decoded with the topic's class THEN it equals sample_payloads()."""
    body = sections()[spec.name]
    blocks = re.findall(r"```json\n(.*?)```", body, re.S)
    assert len(blocks) == 1, f"'{spec.name}' needs exactly one JSON sample"
    msg = decode(spec.payload, blocks[0].encode())
    assert msg == sample_payloads()[spec.name]
    assert decode(spec.payload, encode(msg)) == msg


def test_topic_table_lists_every_topic_and_nothing_else():
    """GIVEN the topic table WHEN its rows are read THEN they are exactly the TOPICS patterns."""
    rows = re.findall(r"(?m)^\| `([^`]+)` \| `(\w+)` \|", DOC.read_text())
    assert rows == [(s.pattern, s.payload.__name__) for s in TOPICS]


def test_doc_sections_are_not_orphans():
    """GIVEN every section that carries a JSON sample THEN it names a TOPICS entry."""
    names = {s.name for s in TOPICS}
    with_samples = {n for n, body in sections().items() if "```json" in body}
    assert with_samples == names


@pytest.mark.parametrize("payload, reason", [
    (b"\xff\xfe", "not UTF-8 JSON"),
    (b"[1,2]", "JSON object"),
    (b'{"v":2,"id":"a","counter":1,"action":"next","device":"b","sent_at_ms":1}', "version"),
    (b'{"v":1,"id":"a","counter":1,"action":"explode","device":"b","sent_at_ms":1}', "action"),
    (b'{"v":1,"id":"a","counter":true,"action":"next","device":"b","sent_at_ms":1}', "bool"),
    (b'{"v":1,"id":"a","action":"next","device":"b","sent_at_ms":1}', "missing field 'counter'"),
    (b'{"v":1,"pad":"' + b"x" * 3000 + b'"}', "exceeds"),
])
def test_malformed_commands_are_rejected_with_a_reason(payload, reason):
    """GIVEN a broken command payload WHEN decoded THEN ProtocolError names the reason."""
    from broker.protocol import CounterCommand
    with pytest.raises(ProtocolError) as err:
        decode(CounterCommand, payload)
    assert reason in err.value.reason


def test_samples_are_json_objects_with_version():
    """GIVEN every sample WHEN encoded THEN it is a compact JSON object with v=1."""
    for name, msg in sample_payloads().items():
        data = json.loads(encode(msg))
        assert data["v"] == 1, name
