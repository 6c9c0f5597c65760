"""The canonical form is RFC 8785 (JCS): checked against the RFC's own examples and by properties."""

from __future__ import annotations

import json
import math
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.audit.canonical import canonical_bytes, canonical_json, format_number
from app.audit.entry import compute_hash, parse_line, seal

# RFC 8785 appendix B: IEEE-754 bit patterns and the text every JCS implementation must produce.
RFC_NUMBERS = [
    ("0000000000000000", "0"),
    ("8000000000000000", "0"),
    ("0000000000000001", "5e-324"),
    ("8000000000000001", "-5e-324"),
    ("7fefffffffffffff", "1.7976931348623157e+308"),
    ("ffefffffffffffff", "-1.7976931348623157e+308"),
    ("4340000000000000", "9007199254740992"),
    ("c340000000000000", "-9007199254740992"),
    ("4430000000000000", "295147905179352830000"),
    ("44b52d02c7e14af5", "9.999999999999997e+22"),
    ("44b52d02c7e14af6", "1e+23"),
    ("44b52d02c7e14af7", "1.0000000000000001e+23"),
    ("444b1ae4d6e2ef4e", "999999999999999700000"),
    ("444b1ae4d6e2ef4f", "999999999999999900000"),
    ("444b1ae4d6e2ef50", "1e+21"),
    ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"),
    ("3eb0c6f7a0b5ed8d", "0.000001"),
    ("41b3de4355555553", "333333333.3333332"),
    ("41b3de4355555554", "333333333.33333325"),
    ("41b3de4355555555", "333333333.3333333"),
    ("41b3de4355555556", "333333333.3333334"),
    ("41b3de4355555557", "333333333.33333343"),
    ("becbf647612f3696", "-0.0000033333333333333333"),
    ("43143ff3c1cb0959", "1424953923781206.2"),
]


@pytest.mark.parametrize(("bits", "expected"), RFC_NUMBERS)
def test_numbers_are_written_as_ecmascript_does(bits: str, expected: str) -> None:
    (value,) = struct.unpack(">d", bytes.fromhex(bits))
    assert format_number(value) == expected


def test_price_steps_are_not_written_in_python_exponent_form() -> None:
    assert format_number(0.00001) == "0.00001"  # Python's repr says 1e-05
    assert format_number(1.0) == "1"
    assert format_number(1e16) == "10000000000000000"


def test_the_rfc_example_object() -> None:
    text = (
        '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],'
        ' "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",'
        ' "literals": [null, true, false]}'
    )
    expected = (
        '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    )
    assert canonical_json(json.loads(text)) == expected


def test_keys_sort_by_utf16_code_units_as_the_rfc_says() -> None:
    data = json.loads('{"\\u20ac":1,"\\r":2,"\\ufb33":3,"1":4,"\\ud83d\\ude00":5,"\\u0080":6,"\\u00f6":7}')
    # The emoji (a surrogate pair, 0xD83D...) sorts before U+FB33, unlike code point order.
    assert [value for value in json.loads(canonical_json(data)).values()] == [2, 4, 6, 7, 1, 5, 3]


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_numbers_have_no_canonical_form(bad: float) -> None:
    with pytest.raises(ValueError, match="no JSON form"):
        canonical_json({"x": bad})


def test_integers_beyond_double_precision_are_read_as_doubles() -> None:
    assert canonical_json(2**53 - 1) == "9007199254740991"
    assert canonical_json(2**68) == "295147905179352830000"
    assert canonical_json(json.loads("295147905179352830000")) == "295147905179352830000"


def test_lone_surrogates_are_refused() -> None:
    with pytest.raises(UnicodeEncodeError):
        canonical_bytes({"x": "\ud800"})


json_scalars = st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text()
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@given(json_values)
def test_without_floats_it_is_sorted_compact_json(value: object) -> None:
    # Keys whose UTF-16 and code point orders agree (no astral characters) sort the same in both.
    text = canonical_json(value)
    if all(ord(ch) < 0x10000 for ch in text):
        assert text == json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_every_finite_double_round_trips(value: float) -> None:
    text = format_number(value)
    assert float(text) == value
    assert canonical_json(json.loads(text)) == text  # and reading it back gives the same text


def test_a_golden_entry_hash() -> None:
    """A fixed vector for verifiers written elsewhere: this body must hash to this value."""
    entry = seal(
        seq=1,
        time="2025-01-02T03:04:05.000006Z",
        actor="api:alice",
        action="order.intent",
        account="5001@Sim-Demo",
        payload={"client_id": "c-1", "symbol": "EURUSD", "volume": 0.1, "price": 1.00001, "note": "€"},
        prev="0" * 64,
    )
    assert (
        entry.to_line()
        == (
            '{"account":"5001@Sim-Demo","action":"order.intent","actor":"api:alice",'
            f'"hash":"{entry.hash}","payload":{{"client_id":"c-1","note":"€","price":1.00001,'
            '"symbol":"EURUSD","volume":0.1},"prev":"' + "0" * 64 + '","seq":1,'
            '"time":"2025-01-02T03:04:05.000006Z","v":1}\n'
        ).encode()
    )
    assert entry.hash == GOLDEN_HASH
    assert compute_hash(parse_line(entry.to_line()[:-1]).body()) == GOLDEN_HASH


# Also computed independently: sha256 of json.dumps(body, sort_keys=True, separators=(",", ":"),
# ensure_ascii=False) — the same bytes here, as the body has no number that Python writes differently.
GOLDEN_HASH = "b30616e0b1caab71f54b9133d2c0242a05dd7cefa8b6925451b4ab6ea8b9c54c"


any_json = st.recursive(
    json_scalars | st.floats(allow_nan=False, allow_infinity=False) | st.integers(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@given(any_json)
def test_reading_a_canonical_text_back_gives_the_same_text(value: object) -> None:
    """What the verifier relies on: parse the stored line, re-encode, get the very same bytes."""
    text = canonical_json(value)
    assert canonical_json(json.loads(text)) == text


@given(
    payload=st.dictionaries(st.text(max_size=8), any_json, max_size=5),
    account=st.none() | st.text(max_size=20),
    actor=st.text(min_size=1, max_size=10),
    seq=st.integers(1, 2**53 - 1),
)
def test_the_hand_assembled_entry_text_is_the_canonical_text(
    payload: dict[str, object], account: str | None, actor: str, seq: int
) -> None:
    entry = seal(
        seq=seq,
        time="2025-01-02T03:04:05.000006Z",
        actor=actor,
        action="order.intent",
        account=account,
        payload=payload,
        prev="f" * 64,
    )
    body, line = entry.encode()
    assert body == canonical_bytes(entry.body())
    assert line == canonical_bytes(entry.to_json()) + b"\n"
    assert entry.hash == compute_hash(entry.body())
