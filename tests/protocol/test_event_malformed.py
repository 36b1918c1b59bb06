"""Malformed and hostile bytes: each is refused with a precise error, and none is stored."""

from __future__ import annotations

import datetime
from typing import Any

import msgpack
import pytest

from peernode.home import Home
from peernode.node import Node, NodeConfig
from protocol import kinds
from protocol.codec import pack
from protocol.errors import DecodeError, InvalidEvent, RemoteProtocolError
from protocol.event import SIGNING_CONTEXT, create_event, decode_event
from protocol.identity import SigningKey

KEY = SigningKey.from_seed(b"\x11" * 32)
ID = b"\x22" * 32
NOW = datetime.datetime(2024, 5, 1, tzinfo=datetime.UTC)


def envelope(**changes: Any) -> list[Any]:
    fields: dict[str, Any] = {
        "version": 1,
        "author": KEY.public_key,
        "created_at": 1_700_000_000_000,
        "kind": kinds.NOTE,
        "circle": "lobby",
        "refs": {},
        "body": {"text": "hello"},
    }
    fields.update(changes)
    return list(fields.values())


def signed(content: bytes, key: SigningKey = KEY) -> bytes:
    """A correct signature over `content`: only the rule under test can fail."""
    return key.sign(SIGNING_CONTEXT + content) + content


VALID = signed(pack(envelope()))

# (label, raw, expected field) for events that are well-formed msgpack but break a rule.
ENVELOPE_CASES: list[tuple[str, bytes, str]] = [
    ("content is a map", signed(pack({"a": 1})), "content"),
    ("content is an int", signed(pack(7)), "content"),
    ("six elements", signed(pack(envelope()[:6])), "content"),
    ("eight elements", signed(pack([*envelope(), None])), "content"),
    *[
        (f"version {value!r}", signed(pack(envelope(version=value))), "version")
        for value in (0, 2, -1, "1", 1.0, True, None, b"\x01")
    ],
    *[
        (f"author {label}", signed(pack(envelope(author=value))), "author")
        for label, value in [
            ("31 bytes", KEY.public_key[:31]),
            ("33 bytes", KEY.public_key + b"\x00"),
            ("str", KEY.public_key.hex()[:32]),
            ("int", 5),
            ("nil", None),
        ]
    ],
    *[
        (f"created_at {value!r}", signed(pack(envelope(created_at=value))), "created_at")
        for value in (-1, 2**53, 2**64 - 1, -(2**63), 1.5, 1e12, "1", True, None)
    ],
    *[
        (f"kind {value!r}", signed(pack(envelope(kind=value))), "kind")
        for value in (
            "note",
            "peernode/note",
            "Peernode/note@1",
            "peernode/note@0",
            "peernode/note@01",
            "peernode/note@1234567",
            "peer node/note@1",
            "peernode/note@1\n",
            "a/" + "b" * 61 + "@1",
            "",
            b"peernode/note@1",
            1,
        )
    ],
    *[
        (f"circle {value!r}", signed(pack(envelope(circle=value))), "circle")
        for value in ("Lobby", "-x", "a b", "é", "x" * 65, b"lobby", None, 3)
    ],
    ("refs is a list", signed(pack(envelope(refs=[]))), "refs"),
    ("refs bad name", signed(pack(envelope(refs={"Reply": ID}))), "refs"),
    ("refs empty name", signed(pack(envelope(refs={"": ID}))), "refs"),
    ("refs too many", signed(pack(envelope(refs={f"r{i}": ID for i in range(17)}))), "refs"),
    ("refs short id", signed(pack(envelope(refs={"reply_to": ID[:31]}))), "refs.reply_to"),
    ("refs hex id", signed(pack(envelope(refs={"reply_to": ID.hex()}))), "refs.reply_to"),
    ("body is a list", signed(pack(envelope(body=[]))), "body"),
    ("body is a str", signed(pack(envelope(body="hello"))), "body"),
    ("body is nil", signed(pack(envelope(body=None))), "body"),
]


def _replace_once(data: bytes, old: bytes, new: bytes) -> bytes:
    assert data.count(old) == 1
    return data.replace(old, new)


def _nested_list(levels: int) -> bytes:
    return b"\x91" * levels + b"\x00"


def _signed_body_value(value_bytes: bytes) -> bytes:
    """An otherwise valid unknown-kind event whose body.v is the raw msgpack given."""
    content = pack(envelope(kind="test/raw@1", body={"v": "PLACEHOLDER"}))
    return signed(_replace_once(content, pack("PLACEHOLDER"), value_bytes))


# (label, raw, words the message must contain) for bytes that are not bounded msgpack.
DECODE_CASES: list[tuple[str, bytes, str]] = [
    ("array32 bomb", signed(b"\xdd\xff\xff\xff\xff"), "max_array_len"),
    ("map32 bomb", signed(b"\xdf\xff\xff\xff\xff"), "max_map_len"),
    ("str32 bomb", signed(b"\xdb\xff\xff\xff\xff"), "malformed"),
    ("bin32 bomb", signed(b"\xc6\xff\xff\xff\xff"), "malformed"),
    ("array16 bomb", signed(b"\xdc\xff\xff"), "max_array_len"),
    ("bomb inside body", _signed_body_value(b"\xdd\xff\xff\xff\xff"), "max_array_len"),
    ("huge str inside body", _signed_body_value(b"\xdb\x00\x10\x00\x00abc"), "malformed"),
    ("60k-deep nesting", signed(_nested_list(60_000)), "nesting"),
    ("17 levels", _signed_body_value(_nested_list(15)), "nesting deeper than 16"),
    ("duplicate body key", _signed_body_value(b"\x82\xa1a\x01\xa1a\x02"), "duplicate"),
    (
        "duplicate envelope body key",
        signed(_replace_once(pack(envelope(body={"text": "x", "tixt": "y"})), b"tixt", b"text")),
        "duplicate",
    ),
    ("bytes map key", _signed_body_value(b"\x81\xc4\x01a\x01"), "keys must be strings"),
    ("int map key", _signed_body_value(b"\x81\x01\x01"), "map key"),
    ("trailing nil", signed(pack(envelope()) + b"\xc0"), "trailing"),
    ("trailing garbage", signed(pack(envelope()) + b"\x00\x00\x00"), "trailing"),
    ("fixext", _signed_body_value(b"\xd4\x05\x00"), "max_ext_len"),
    ("empty ext8", _signed_body_value(b"\xc7\x00\x05"), "extension"),
    ("timestamp ext", _signed_body_value(msgpack.packb(NOW, datetime=True)), "ext"),
    ("ext in envelope", signed(pack(envelope(body=msgpack.ExtType(1, b"x")))), "ext"),
    ("non-UTF-8 text", signed(_replace_once(pack(envelope()), b"hello", b"hel\xff\xfe")), "UTF-8"),
    ("non-UTF-8 key", _signed_body_value(b"\x81\xa2\xc3\x28\x01"), "UTF-8"),
    ("lone surrogate", _signed_body_value(b"\xa3\xed\xb2\x80"), "UTF-8"),
    ("reserved byte", signed(b"\xc1"), "malformed"),
    ("array header only", b"\x00" * 64 + b"\x97", "truncated"),
]

# Valid prefix lengths of a real event: everything shorter than the whole.
TRUNCATIONS = list(range(len(VALID)))


@pytest.mark.parametrize(
    ("label", "raw", "field"), ENVELOPE_CASES, ids=[c[0] for c in ENVELOPE_CASES]
)
def test_envelope_rule_breaks_name_the_field(label: str, raw: bytes, field: str) -> None:
    with pytest.raises(InvalidEvent) as info:
        decode_event(raw)
    assert info.value.field == field, label
    assert str(info.value).startswith(f"{field}: ")


@pytest.mark.parametrize(("label", "raw", "words"), DECODE_CASES, ids=[c[0] for c in DECODE_CASES])
def test_malformed_msgpack_is_a_decode_error(label: str, raw: bytes, words: str) -> None:
    with pytest.raises(DecodeError, match=words):
        decode_event(raw)


def test_truncated_at_every_length_is_rejected() -> None:
    for length in TRUNCATIONS:
        with pytest.raises(RemoteProtocolError) as info:
            decode_event(VALID[:length])
        if length <= 64:
            assert isinstance(info.value, InvalidEvent)
            assert info.value.field == "event"
        else:
            assert isinstance(info.value, DecodeError)
            assert "truncated" in str(info.value)
    assert decode_event(VALID).raw == VALID


def test_deep_nesting_beyond_the_size_limit_is_refused_by_size() -> None:
    with pytest.raises(InvalidEvent) as info:
        decode_event(signed(_nested_list(100_000)))
    assert info.value.field == "event"


def test_a_decode_error_leaves_no_state_behind() -> None:
    for _, raw, _ in DECODE_CASES:
        with pytest.raises(DecodeError):
            decode_event(raw)
        assert decode_event(VALID).raw == VALID


def _all_bad() -> list[bytes]:
    return [
        *(raw for _, raw, _ in ENVELOPE_CASES),
        *(raw for _, raw, _ in DECODE_CASES),
        *(VALID[:length] for length in TRUNCATIONS),
        signed(_nested_list(100_000)),
    ]


async def test_nothing_malformed_is_stored(home: Home) -> None:
    bad = _all_bad()
    assert len(set(bad)) == len(bad)

    async with Node(home, NodeConfig(watch=False)) as node:
        result = await node.ingest(bad)

        assert result.new == []
        assert result.duplicates == 0
        assert sorted(rejected.raw for rejected in result.rejected) == sorted(bad)
        assert await node.event_count() == 0
        reasons = {rejected.raw: rejected.reason for rejected in result.rejected}
        for label, raw, field in ENVELOPE_CASES:
            assert reasons[raw].startswith(f"{field}: "), label

        # A good event in the same kind of batch still gets through.
        good = await node.ingest([VALID, *bad[:5]])
        assert [event.raw for event in good.new] == [VALID]
        assert await node.event_count() == 1


async def test_a_forged_copy_does_not_shadow_the_genuine_event(home: Home) -> None:
    genuine = create_event(KEY, kind=kinds.NOTE, circle="c", body={"text": "x"}, created_at=1)
    forged = signed(genuine.raw[64:], SigningKey.from_seed(b"\x33" * 32))

    async with Node(home, NodeConfig(watch=False)) as node:
        result = await node.ingest([forged, genuine.raw, genuine.raw])

        assert [event.id for event in result.new] == [genuine.id]
        assert [rejected.raw for rejected in result.rejected] == [forged]
        assert result.duplicates == 1
        assert await node.event_count() == 1
