"""Hostile bytes against every MQTT payload parser in broker/protocol.py.

The contract: ``decode`` raises nothing but ProtocolError, whatever arrives;
every valid sample survives encode -> decode unchanged; oversized payloads are
refused before parsing.
"""
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from broker import protocol
from broker.protocol import ProtocolError, decode, encode, sample_payloads

KINDS = sorted({spec.payload for spec in protocol.TOPICS}, key=lambda k: k.__name__)
FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-2**70, max_value=2**70)
    | st.floats(allow_nan=False) | st.text(max_size=80),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner, max_size=6),
    max_leaves=20)


def _decode_or_protocol_error(kind, payload: bytes):
    try:
        return decode(kind, payload)
    except ProtocolError:
        return None


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.__name__)
@FUZZ
@given(payload=st.binary(max_size=3000))
def test_random_bytes_only_raise_protocol_error(kind, payload):
    """GIVEN arbitrary bytes WHEN decoded as any payload kind THEN only ProtocolError can escape."""
    _decode_or_protocol_error(kind, payload)


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.__name__)
@FUZZ
@given(value=json_values)
def test_random_json_only_raises_protocol_error(kind, value):
    """GIVEN any JSON document WHEN decoded THEN the result is a valid message or ProtocolError."""
    msg = _decode_or_protocol_error(kind, json.dumps(value).encode())
    assert msg is None or isinstance(msg, kind)


def _mutations(sample: dict):
    """Strategy: the sample with one field replaced by a random JSON value, or removed."""
    keys = sorted(sample)
    replace = st.tuples(st.sampled_from(keys), json_values).map(
        lambda kv: {**sample, kv[0]: kv[1]})
    drop = st.sampled_from(keys).map(lambda k: {x: y for x, y in sample.items() if x != k})
    return replace | drop


@pytest.mark.parametrize("name", sorted(sample_payloads()))
@FUZZ
@given(data=st.data())
def test_mutated_valid_sample_only_raises_protocol_error(name, data):
    """GIVEN a valid sample with one field mutated (wrong type, missing, huge)
    WHEN decoded THEN it is either a valid message that re-encodes identically or ProtocolError."""
    msg = sample_payloads()[name]
    kind = type(msg)
    mutated = data.draw(_mutations(msg.to_dict()))
    decoded = _decode_or_protocol_error(kind, json.dumps(mutated).encode())
    if decoded is not None:
        assert decode(kind, encode(decoded)) == decoded


@pytest.mark.parametrize("name", sorted(sample_payloads()))
def test_valid_samples_round_trip(name):
    """GIVEN each topic's sample payload WHEN encoded and decoded THEN it is unchanged."""
    msg = sample_payloads()[name]
    assert decode(type(msg), encode(msg)) == msg


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.__name__)
def test_oversized_payload_refused_before_parsing(kind):
    """GIVEN a payload one byte over the kind's limit (valid JSON otherwise)
    WHEN decoded THEN ProtocolError names the size."""
    padding = kind.MAX_BYTES
    payload = json.dumps({"v": 1, "pad": "x" * padding}).encode()
    with pytest.raises(ProtocolError, match="exceeds"):
        decode(kind, payload)


@FUZZ
@given(text=st.text(min_size=1, max_size=5000))
def test_command_reason_never_exceeds_limits(text):
    """GIVEN a counter command whose reason is any text WHEN encoded THEN it encodes within
    the size limit or is refused with ProtocolError, and decodes back when it encodes."""
    cmd = protocol.CounterCommand(id="box-1:1", counter=1, action="pause", device="box-1",
                                  sent_at_ms=1, reason=text)
    try:
        raw = encode(cmd)
    except ProtocolError:
        return
    assert len(raw) <= protocol.CounterCommand.MAX_BYTES
    try:
        assert decode(protocol.CounterCommand, raw).reason == text
    except ProtocolError as exc:
        assert "reason" in exc.reason  # over the 200-character field limit


@pytest.mark.parametrize("bad", [b"", b"\xff\xfe", b"[]", b"null", b"1", b'"v"',
                                 b'{"v": true}', b'{"v": 2}', b'{"v": 1.0}', b"{" * 2000,
                                 b'{"v":1,"id":"\\ud800"}'])
@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.__name__)
def test_known_nasty_payloads(kind, bad):
    """GIVEN classic nasty payloads (empty, not UTF-8, deep nesting, lone surrogate, bool version)
    WHEN decoded THEN ProtocolError."""
    with pytest.raises(ProtocolError):
        decode(kind, bad)
