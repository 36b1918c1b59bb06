"""Link messages: every type round-trips, every field is checked, nothing hostile crashes decode."""

from __future__ import annotations

import contextlib
import itertools
import struct
from typing import Any

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol import wire
from protocol.codec import pack
from protocol.errors import DecodeError, LocalProtocolError, RemoteProtocolError
from protocol.event import create_event, event_id
from protocol.identity import SigningKey
from protocol.limits import MAX_EVENT_BYTES

KEY = bytes(range(32))
ID = bytes(32)
ADDR = wire.PeerAddress(KEY, "192.168.1.20", 7000)
RAW = b"\x01" * 64 + b"\x97\x01"  # shaped like an event: signature, then content

SAMPLES: list[wire.Message] = [
    wire.Hello(1, "Ada's laptop", 7000, 12),
    wire.Hello(1, "", None, 0),
    wire.Events([RAW, RAW + b"x"]),
    wire.IHave([ID, b"\xff" * 32]),
    wire.Want([ID]),
    wire.Prune(),
    wire.Graft([ID]),
    wire.Graft([]),
    wire.Reconcile(7, b"\x01\x02"),
    wire.ReconcileDone(7, 3),
    wire.Offer([ID] * 3),
    wire.Join(),
    wire.ForwardJoin(ADDR, 6),
    wire.Neighbor(True),
    wire.NeighborReply(False),
    wire.Disconnect(),
    wire.Shuffle(ADDR, [ADDR, wire.PeerAddress(ID, "fe80::1%eth0", 1)], 6),
    wire.Shuffle(None, [], 0),
    wire.ShuffleReply([ADDR]),
    wire.Ping(2**64 - 1),
    wire.Pong(0),
]


@pytest.mark.parametrize("msg", SAMPLES, ids=lambda m: type(m).__name__)
def test_round_trip(msg: wire.Message) -> None:
    data = wire.encode(msg)
    assert wire.decode(data) == msg
    wire.check(msg)
    assert msgpack.unpackb(data)[0] == wire._TYPE_OF.get(type(msg), msgpack.unpackb(data)[0])


def test_every_type_has_a_sample() -> None:
    assert {type(m) for m in SAMPLES} == set(wire.Message.__args__)


def test_type_codes_are_the_documented_ones() -> None:
    assert wire.encode(wire.Prune()) == b"\x91\x04"
    assert wire.encode(wire.Neighbor(True)) == b"\x92\x12\xc3"
    assert wire.encode(wire.Want([ID]))[:4] == b"\x92\x03\x91\xc4"


def bad(fields: list[Any]) -> bytes:
    return pack(fields)


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "truncated"),
        (pack({"a": 1}), "declared length"),  # maps are refused outright
        (pack([]), "non-empty"),
        (pack(["x"]), "type must be an integer"),
        (pack([True]), "type must be an integer"),
        (pack([99]), "unknown message type 99"),
        (pack([4, 1]), "PRUNE takes 0 fields"),
        (bad([0, 1, "x" * 65, None, 0]), "Hello.name"),
        (bad([0, 1, "é" * 33, None, 0]), "Hello.name"),
        (bad([0, 1, "", 0, 0]), "Hello.listen_port"),
        (bad([0, 1, "", 65536, 0]), "Hello.listen_port"),
        (bad([0, 1, "", None, -1]), "Hello.event_count"),
        (bad([0, True, "", None, 0]), "Hello.version"),
        (bad([1, [b"short"]]), "Events.raws[0]"),
        (bad([1, ["text" * 30]]), "Events.raws[0] must be bytes"),
        (bad([1, [b"x" * (MAX_EVENT_BYTES + 1)]]), "Events.raws[0]"),
        (bad([2, [b"x" * 31]]), "IHave.ids[0]"),
        (bad([3, [ID] * (wire.MAX_IDS + 1)]), "Want.ids has 1025 items"),
        (bad([3, ID]), "Want.ids must be an array"),
        (bad([6, 2**32, b"x"]), "Reconcile.session"),
        (bad([6, 1, b""]), "Reconcile.payload"),
        (bad([6, 1, b"x" * (wire.MAX_RECONCILE_PAYLOAD + 1)]), "Reconcile.payload"),
        (bad([17, [KEY, "h", 1], 17]), "ForwardJoin.ttl"),
        (bad([17, [KEY[:31], "h", 1], 1]), "ForwardJoin.peer.key"),
        (bad([17, [KEY, "", 1], 1]), "ForwardJoin.peer.host"),
        (bad([17, [KEY, "a b", 1], 1]), "ForwardJoin.peer.host"),
        (bad([17, [KEY, "h" * 254, 1], 1]), "ForwardJoin.peer.host"),
        (bad([17, [KEY, "h", 0], 1]), "ForwardJoin.peer.port"),
        (bad([17, [KEY, "h"], 1]), "ForwardJoin.peer must be"),
        (bad([18, 1]), "Neighbor.high_priority must be a boolean"),
        (bad([21, None, [[KEY, "h", 1]] * 33, 1]), "Shuffle.peers has 33"),
        (bad([30, -1]), "Ping.nonce"),
    ],
)
def test_bad_fields_are_named(data: bytes, words: str) -> None:
    with pytest.raises(DecodeError, match=None) as info:
        wire.decode(data)
    assert words in str(info.value)


@pytest.mark.parametrize(
    "data",
    [
        b"\x92\x01\xdd\xff\xff\xff\xff",  # Events with an array declared 4 G long
        b"\x93\x06\x01\xc6\x7f\xff\xff\xff",  # Reconcile with bin32 declared 2 GiB long
        b"\x95\x00\x01\xdb\xff\xff\xff\xff",  # Hello with str32 declared 4 GiB long
        b"\xdd\x00\x01\x00\x00" + b"\xc0" * 10,  # array32 longer than the frame can hold
        b"\x92\x01" + b"\x91" * 40 + b"\xc0",  # deep nesting
    ],
)
def test_huge_declared_lengths_are_refused(data: bytes) -> None:
    with pytest.raises(DecodeError):
        wire.decode(data)


def test_oversized_frame_refused_both_ways() -> None:
    big = [b"e" * MAX_EVENT_BYTES] * (wire.MAX_DECODE_BYTES // MAX_EVENT_BYTES + 1)
    with pytest.raises(LocalProtocolError):
        wire.encode(wire.Events(big))
    with pytest.raises(DecodeError, match="limit"):
        wire.decode(pack([1, big]))


def test_address_without_key_is_never_sent() -> None:
    with pytest.raises(LocalProtocolError):
        wire.encode(wire.ForwardJoin(wire.PeerAddress(b"", "h", 1), 1))
    with pytest.raises(LocalProtocolError):
        wire.check(wire.Hello(1, "x" * 65, None, 0))


def test_events_frames_split_in_order_within_the_limit() -> None:
    key = SigningKey.from_seed(bytes(32))
    raws = [
        create_event(
            key,
            kind="peernode/note@1",
            circle="lobby",
            body={"text": "x" * (1 + i * 97)},
            created_at=i,
        ).raw
        for i in range(300)
    ]
    limit = wire.MIN_FRAME_BYTES
    frames = wire.events_frames(raws, limit)
    assert len(frames) > 1
    assert all(len(f) <= limit for f in frames)
    out = [raw for f in frames for raw in _events(f)]
    assert out == raws
    assert [event_id(r) for r in out] == [event_id(r) for r in raws]
    assert wire.events_frames([]) == []


def _events(frame: bytes) -> list[bytes]:
    msg = wire.decode(frame)
    assert isinstance(msg, wire.Events)
    return msg.raws


@given(st.lists(st.integers(min_value=65, max_value=MAX_EVENT_BYTES), min_size=1, max_size=40))
@settings(max_examples=40, deadline=None)
def test_events_frames_pack_tightly(sizes: list[int]) -> None:
    raws = [bytes([i % 256]) * size for i, size in enumerate(sizes)]
    limit = wire.MIN_FRAME_BYTES * 2
    frames = wire.events_frames(raws, limit)
    assert [r for f in frames for r in _events(f)] == raws
    for first, second in itertools.pairwise(frames):
        assert len(first) <= limit
        # greedy: the next frame's first event would not have fitted
        assert len(first) + len(_events(second)[0]) + 3 > limit
    assert len(frames[-1]) <= limit


def test_events_frames_refuses_bad_input() -> None:
    with pytest.raises(LocalProtocolError):
        wire.events_frames([b"x" * (MAX_EVENT_BYTES + 1)])
    with pytest.raises(LocalProtocolError):
        wire.events_frames([RAW], max_frame_bytes=1000)


@given(st.binary(max_size=300))
@settings(max_examples=400, deadline=None)
def test_random_bytes_never_crash(data: bytes) -> None:
    with contextlib.suppress(RemoteProtocolError):
        wire.decode(data)


plain = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-5, max_value=2**33)
    | st.binary(max_size=40)
    | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4),
    max_leaves=8,
)


@given(st.integers(min_value=0, max_value=32), st.lists(plain, max_size=5))
@settings(max_examples=200, deadline=None)
def test_random_shaped_messages_never_crash(code: int, fields: list[Any]) -> None:
    data = pack([code, *fields])
    try:
        msg = wire.decode(data)
    except RemoteProtocolError:
        return
    assert wire.decode(wire.encode(msg)) == msg  # whatever decodes re-encodes the same


@given(
    st.lists(st.binary(min_size=32, max_size=32), max_size=50),
    st.text(max_size=20).filter(lambda s: len(s.encode()) <= 64),
    st.one_of(st.none(), st.integers(1, 65535)),
)
@settings(max_examples=100, deadline=None)
def test_round_trip_random_fields(ids: list[bytes], name: str, port: int | None) -> None:
    for msg in (wire.IHave(ids), wire.Offer(ids), wire.Hello(1, name, port, len(ids))):
        assert wire.decode(wire.encode(msg)) == msg


def test_truncations_of_valid_messages_are_refused() -> None:
    for msg in SAMPLES:
        data = wire.encode(msg)
        for cut in range(len(data)):
            with pytest.raises(DecodeError):
                wire.decode(data[:cut])
        with pytest.raises(DecodeError):
            wire.decode(data + b"\x00")


def test_frame_size_formula_matches_msgpack() -> None:
    for count in (1, 15, 16, 300):
        raws = [b"\x05" * 70] * count
        expected = len(pack([1, raws]))
        assert wire._frame_size(count, count * (wire._bin_header(70) + 70)) == expected
    assert struct.calcsize(">I") == 4


@pytest.mark.parametrize(
    ("announced", "minor"),
    [
        ("1.1", 1),
        ("1.0", 0),
        ("1.12", 12),
        (None, 0),
        (1.1, 0),
        ("2.3", 0),
        ("1.", 0),
        ("1.x", 0),
        ("1.-1", 0),
        ("1.1234567", 0),
    ],
)
def test_the_announced_minor_version_is_read_strictly(announced: object, minor: int) -> None:
    assert wire.spec_minor(announced) == minor
