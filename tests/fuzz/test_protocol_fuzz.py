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


# -- nesting and version (issue 14, defect 5) ---------------------------------

@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.__name__)
@pytest.mark.parametrize("opener,closer", [("[", "]"), ('{"a":', "}")])
def test_deep_nesting_under_the_size_limit_is_a_protocol_error(kind, opener, closer):
    """GIVEN a payload nested thousands deep that is still under the kind's size limit
    WHEN decoded THEN it is refused as ProtocolError (never RecursionError)."""
    depth = max(1, (kind.MAX_BYTES - 40) // (len(opener) + len(closer)))
    payload = ('{"v":1,"x":' + opener * depth + "1" + closer * depth + "}").encode()
    assert len(payload) <= kind.MAX_BYTES
    with pytest.raises(ProtocolError, match="nested"):
        decode(kind, payload)


@FUZZ
@given(depth=st.integers(min_value=getattr(protocol, "MAX_DEPTH", 8) + 1, max_value=400),
       brackets=st.lists(st.sampled_from(["[", "{"]), min_size=1, max_size=4),
       noise=st.text(alphabet='"\\[]{}ab', max_size=30))
def test_any_nesting_beyond_the_bound_is_refused(depth, brackets, noise):
    """GIVEN nesting beyond MAX_DEPTH, with strings holding bracket and quote noise
    WHEN decoded THEN ProtocolError, never RecursionError."""
    opener = "".join(('{"k":' if b == "{" else "[") for b in brackets)
    closer = "".join(("}" if b == "{" else "]") for b in reversed(brackets))
    reps = depth // len(brackets) + 1
    inner = json.dumps(noise)
    payload = '{"v":1,"x":' + opener * reps + inner + closer * reps + "}"
    with pytest.raises(ProtocolError):
        decode(protocol.BoardSnapshot, payload.encode())


def test_brackets_inside_strings_do_not_count_as_nesting():
    """GIVEN a valid board whose running text is full of brackets and escaped quotes
    WHEN decoded THEN it is accepted: only structure counts towards the depth."""
    board = sample_payloads()["board snapshot"]
    text = '[[[[{{{{ \\" ]]]] "[{' * 20
    msg = protocol.BoardSnapshot(**{**board.__dict__, "running_text": text[:1000]})
    assert decode(protocol.BoardSnapshot, encode(msg)).running_text == text[:1000]


@pytest.mark.parametrize("name", sorted(sample_payloads()))
@pytest.mark.parametrize("version", [1.0, True, "1", 1.5, [1], None, 2, 0])
def test_only_the_integer_version_is_accepted(name, version):
    """GIVEN a valid sample whose "v" is 1.0, true, "1" or another non-integer / other version
    WHEN decoded THEN it is refused as ProtocolError."""
    msg = sample_payloads()[name]
    data = {**msg.to_dict(), "v": version}
    with pytest.raises(ProtocolError, match="version"):
        decode(type(msg), json.dumps(data).encode())


@FUZZ
@given(version=json_values.filter(lambda v: not (type(v) is int and v == 1)))
def test_fuzzed_versions_other_than_integer_one_are_refused(version):
    """GIVEN any JSON value for "v" other than the integer 1 WHEN decoded THEN ProtocolError."""
    data = {**sample_payloads()["call event"].to_dict(), "v": version}
    with pytest.raises(ProtocolError):
        decode(protocol.CallEvent, json.dumps(data).encode())
