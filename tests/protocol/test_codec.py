"""Bounded msgpack: every limit is enforced exactly, and nothing but plain data decodes."""

from __future__ import annotations

import contextlib
from typing import Any

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.codec import pack, unpack
from protocol.errors import DecodeError
from protocol.limits import MAX_ARRAY_LEN, MAX_DEPTH, MAX_MAP_LEN

LIMIT = 1 << 16

plain = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False)
    | st.text(st.characters(codec="utf-8"), max_size=50)
    | st.binary(max_size=50),
    lambda inner: (
        st.lists(inner, max_size=6)
        | st.dictionaries(st.text(st.characters(codec="utf-8"), max_size=10), inner, max_size=6)
    ),
    max_leaves=30,
)


def _depth(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max((_depth(item) for item in value), default=0)
    if isinstance(value, dict):
        return 1 + max((_depth(item) for item in value.values()), default=0)
    return 0


@settings(max_examples=100, deadline=None, database=None)
@given(plain)
def test_plain_values_round_trip(value: Any) -> None:
    data = pack(value)
    if _depth(value) > MAX_DEPTH:
        with pytest.raises(DecodeError, match="nesting"):
            unpack(data, max_bytes=LIMIT)
    else:
        assert unpack(data, max_bytes=LIMIT) == value


@settings(max_examples=300, deadline=None, database=None)
@given(st.binary(max_size=64))
def test_arbitrary_bytes_decode_or_raise_decode_error(data: bytes) -> None:
    # Any other exception (TypeError, RecursionError, ...) escapes and fails the test.
    with contextlib.suppress(DecodeError):
        unpack(data, max_bytes=LIMIT)


def _nested(levels: int) -> Any:
    value: Any = 1
    for _ in range(levels):
        value = [value]
    return value


def test_depth_limit_is_exact() -> None:
    assert unpack(pack(_nested(MAX_DEPTH)), max_bytes=LIMIT) == _nested(MAX_DEPTH)
    with pytest.raises(DecodeError, match=f"deeper than {MAX_DEPTH}"):
        unpack(pack(_nested(MAX_DEPTH + 1)), max_bytes=LIMIT)
    maps: Any = 1
    for _ in range(MAX_DEPTH + 1):
        maps = {"k": maps}
    with pytest.raises(DecodeError, match="deeper"):
        unpack(pack(maps), max_bytes=LIMIT)


def test_length_limits_are_exact() -> None:
    assert len(unpack(pack([0] * MAX_ARRAY_LEN), max_bytes=LIMIT)) == MAX_ARRAY_LEN
    with pytest.raises(DecodeError, match="max_array_len"):
        unpack(pack([0] * (MAX_ARRAY_LEN + 1)), max_bytes=LIMIT)
    big_map = {str(i): 0 for i in range(MAX_MAP_LEN)}
    assert unpack(pack(big_map), max_bytes=LIMIT) == big_map
    with pytest.raises(DecodeError, match="max_map_len"):
        unpack(pack({**big_map, "one more": 0}), max_bytes=LIMIT)


def test_size_limit_is_exact() -> None:
    data = pack(b"x" * 100)
    assert unpack(data, max_bytes=len(data)) == b"x" * 100
    with pytest.raises(DecodeError, match=f"{len(data)} bytes, the limit is {len(data) - 1}"):
        unpack(data, max_bytes=len(data) - 1)


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "truncated"),
        (b"\x92\x01", "truncated"),
        (b"\xdd\xff\xff\xff\xff", "max_array_len"),
        (b"\xdf\xff\xff\xff\xff", "max_map_len"),
        (b"\xdb\xff\xff\xff\xff", "malformed"),
        (b"\xc6\xff\xff\xff\xff", "malformed"),
        (b"\x91" * 2000 + b"\x00", "nesting"),
        (b"\xc0\xc0", "trailing"),
        (b"\x82\xa1a\x01\xa1a\x02", "duplicate"),
        (b"\x81\xc4\x01a\x01", "keys must be strings"),
        (b"\x81\x01\x01", "map key"),
        (b"\x81\xc0\x01", "map key"),
        (b"\xd4\x01\x00", "max_ext_len"),
        (b"\xc7\x00\x01", "extension type 1"),
        (b"\xc7\x00\xff", "timestamp"),
        (b"\xa2\xff\xfe", "UTF-8"),
        (b"\xc1", "malformed"),
    ],
)
def test_malformed_input(data: bytes, words: str) -> None:
    with pytest.raises(DecodeError, match=words):
        unpack(data, max_bytes=LIMIT)


def test_bytes_and_text_stay_distinct() -> None:
    value = {"text": "abc", "bin": b"abc"}
    assert unpack(pack(value), max_bytes=LIMIT) == value
    assert pack(b"abc") != pack("abc")


def test_pack_matches_msgpack_standard_encoding() -> None:
    value = [1, -1, 2**40, "é", b"\x00", {"k": [None, True, 1.5]}]
    assert pack(value) == msgpack.packb(value, use_bin_type=True)
