"""Messages between linked peers: msgpack arrays ``[type, ...fields]``, strictly checked."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, Final, TypeAlias

from protocol.codec import pack, unpack
from protocol.errors import DecodeError, LocalProtocolError
from protocol.identity import PUBLIC_KEY_BYTES, SIGNATURE_BYTES
from protocol.limits import MAX_EVENT_BYTES

PROTOCOL_VERSION: Final = 1
"""The major version: Hello.version, the TXT record's `v`, the `peernode/1` prologue."""
SPEC_MINOR: Final = 1
"""1.1 added files: the `peernode/file@1` kind and the bulk path (docs/protocol-files.md)."""
SPEC_VERSION: Final = f"{PROTOCOL_VERSION}.{SPEC_MINOR}"
"""The spec a node follows, announced as `spec` in the handshake info and the TXT record."""


def spec_minor(announced: object) -> int:
    """The minor version of a `spec` value a peer announced ("1.1" -> 1); 0 for none, for
    another major version or for anything garbled (such a peer is taken for a 1.0 one)."""
    if not isinstance(announced, str):
        return 0
    major, dot, minor = announced.partition(".")
    if major != str(PROTOCOL_VERSION) or not dot or not minor.isdigit() or len(minor) > 6:
        return 0
    return int(minor)


MAX_DECODE_BYTES: Final = 1 << 20
"""Largest message the decoder accepts. One message is one frame of the secure channel, whose
plaintext limit (65,519 bytes by default) is lower: senders keep every message within it, and
with the id and payload limits below every message but Events always fits."""
MIN_FRAME_BYTES: Final = MAX_EVENT_BYTES + 16
"""Smallest frame limit `events_frames` accepts: one largest event must fit."""
ID_BYTES: Final = 32
MAX_IDS: Final = 1024
"""Most ids in one IHave, Want, Graft or Offer (about 35 KiB encoded)."""
MAX_NAME_BYTES: Final = 64
MAX_HOST_BYTES: Final = 253
MAX_PEERS: Final = 32
"""Most addresses in one Shuffle or ShuffleReply."""
MAX_TTL: Final = 16
MAX_RECONCILE_PAYLOAD: Final = 63 * 1024
"""Largest reconciliation message carried by Reconcile: with its header it fits a 64 KiB frame."""
MAX_SESSION: Final = 2**32 - 1
MAX_U64: Final = 2**64 - 1
MAX_COUNT: Final = 2**53 - 1
# A raw event is longer than its signature, so a frame can never hold more than this many;
# the decoder refuses longer arrays before allocating them.
_MAX_ARRAY: Final = MAX_DECODE_BYTES // (SIGNATURE_BYTES + 2)
# Arrays plus their elements in one message: an Events frame counts its raws and 4 more, a
# Shuffle of 32 peers 135. Without a cap, 1 MiB of empty arrays decoded into 64 MiB of lists.
_MAX_ITEMS: Final = _MAX_ARRAY + 64


class MessageType(IntEnum):
    HELLO = 0
    EVENTS = 1
    IHAVE = 2
    WANT = 3
    PRUNE = 4
    GRAFT = 5
    RECONCILE = 6
    RECONCILE_DONE = 7
    OFFER = 8
    JOIN = 16
    FORWARD_JOIN = 17
    NEIGHBOR = 18
    NEIGHBOR_REPLY = 19
    DISCONNECT = 20
    SHUFFLE = 21
    SHUFFLE_REPLY = 22
    PING = 30
    PONG = 31


@dataclass(frozen=True, slots=True)
class PeerAddress:
    """Where a peer listens. `key` may be b"" for a manually given peer (never sent on the wire)."""

    key: bytes
    host: str
    port: int


@dataclass(frozen=True, slots=True)
class Hello:
    version: int
    name: str
    listen_port: int | None
    event_count: int


@dataclass(frozen=True, slots=True)
class Events:
    raws: list[bytes]


@dataclass(frozen=True, slots=True)
class IHave:
    ids: list[bytes]


@dataclass(frozen=True, slots=True)
class Want:
    ids: list[bytes]


@dataclass(frozen=True, slots=True)
class Prune:
    pass


@dataclass(frozen=True, slots=True)
class Graft:
    ids: list[bytes]


@dataclass(frozen=True, slots=True)
class Reconcile:
    session: int
    payload: bytes


@dataclass(frozen=True, slots=True)
class ReconcileDone:
    """Sent by the initiator when its session ends; `differences` = have + need it found."""

    session: int
    differences: int


@dataclass(frozen=True, slots=True)
class Offer:
    """Ids the sender holds and the receiver lacks (found by reconciliation): Want them."""

    ids: list[bytes]


@dataclass(frozen=True, slots=True)
class Join:
    pass


@dataclass(frozen=True, slots=True)
class ForwardJoin:
    peer: PeerAddress
    ttl: int


@dataclass(frozen=True, slots=True)
class Neighbor:
    high_priority: bool


@dataclass(frozen=True, slots=True)
class NeighborReply:
    accepted: bool


@dataclass(frozen=True, slots=True)
class Disconnect:
    pass


@dataclass(frozen=True, slots=True)
class Shuffle:
    origin: PeerAddress | None
    peers: list[PeerAddress]
    ttl: int


@dataclass(frozen=True, slots=True)
class ShuffleReply:
    peers: list[PeerAddress]


@dataclass(frozen=True, slots=True)
class Ping:
    nonce: int


@dataclass(frozen=True, slots=True)
class Pong:
    nonce: int


Message: TypeAlias = (
    Hello
    | Events
    | IHave
    | Want
    | Prune
    | Graft
    | Reconcile
    | ReconcileDone
    | Offer
    | Join
    | ForwardJoin
    | Neighbor
    | NeighborReply
    | Disconnect
    | Shuffle
    | ShuffleReply
    | Ping
    | Pong
)


# -- encoding ------------------------------------------------------------------------------


def encode(msg: Message) -> bytes:
    """Encode one message; raises LocalProtocolError if it breaks a limit (our bug)."""
    data = pack(_fields(msg))
    if len(data) > MAX_DECODE_BYTES:
        raise LocalProtocolError(f"message is {len(data)} bytes, the limit is {MAX_DECODE_BYTES}")
    return data


def check(msg: Message) -> None:
    """Raise LocalProtocolError unless `msg` would pass the peer's decode (for tests and
    debugging: `encode` only checks the frame size, to stay cheap on the hot path)."""
    try:
        decode(encode(msg))
    except DecodeError as exc:
        raise LocalProtocolError(f"invalid message: {exc}") from exc


def _fields(msg: Message) -> list[Any]:
    match msg:
        case Hello(version, name, listen_port, event_count):
            return [MessageType.HELLO, version, name, listen_port, event_count]
        case Events(raws):
            return [MessageType.EVENTS, list(raws)]
        case IHave(ids) | Want(ids) | Graft(ids) | Offer(ids):
            return [_TYPE_OF[type(msg)], list(ids)]
        case Prune() | Join() | Disconnect():
            return [_TYPE_OF[type(msg)]]
        case Reconcile(session, payload):
            return [MessageType.RECONCILE, session, payload]
        case ReconcileDone(session, differences):
            return [MessageType.RECONCILE_DONE, session, differences]
        case ForwardJoin(peer, ttl):
            return [MessageType.FORWARD_JOIN, _address(peer), ttl]
        case Neighbor(high_priority):
            return [MessageType.NEIGHBOR, high_priority]
        case NeighborReply(accepted):
            return [MessageType.NEIGHBOR_REPLY, accepted]
        case Shuffle(origin, peers, ttl):
            first = None if origin is None else _address(origin)
            return [MessageType.SHUFFLE, first, [_address(p) for p in peers], ttl]
        case ShuffleReply(peers):
            return [MessageType.SHUFFLE_REPLY, [_address(p) for p in peers]]
        case Ping(nonce) | Pong(nonce):
            return [_TYPE_OF[type(msg)], nonce]
    raise LocalProtocolError(f"not a wire message: {msg!r}")


def _address(peer: PeerAddress) -> list[Any]:
    if not valid_address(peer):
        raise LocalProtocolError(f"not a sendable address: {peer!r}")
    return [peer.key, peer.host, peer.port]


def valid_address(peer: PeerAddress) -> bool:
    """True if `peer` passes the checks a receiver applies to addresses (key, host, port)."""
    host = peer.host
    return (
        len(peer.key) == PUBLIC_KEY_BYTES
        and 0 < len(host) <= MAX_HOST_BYTES
        and host.isascii()
        and host.isprintable()
        and " " not in host
        and _is_int(peer.port)
        and 1 <= peer.port <= 65535
    )


def events_frames(raws: Sequence[bytes], max_frame_bytes: int = MAX_DECODE_BYTES) -> list[bytes]:
    """Split raw events into encoded Events frames of at most `max_frame_bytes` each, in order."""
    if not MIN_FRAME_BYTES <= max_frame_bytes <= MAX_DECODE_BYTES:
        raise LocalProtocolError(
            f"max_frame_bytes must be in {MIN_FRAME_BYTES}..{MAX_DECODE_BYTES}"
        )
    frames: list[bytes] = []
    batch: list[bytes] = []
    size = 0  # bytes of the batch's elements, headers excluded
    for raw in raws:
        if not SIGNATURE_BYTES < len(raw) <= MAX_EVENT_BYTES:
            raise LocalProtocolError(f"an event of {len(raw)} bytes cannot be sent")
        item = _bin_header(len(raw)) + len(raw)
        if batch and _frame_size(len(batch) + 1, size + item) > max_frame_bytes:
            frames.append(encode(Events(batch)))
            batch, size = [], 0
        batch.append(raw)
        size += item
    if batch:
        frames.append(encode(Events(batch)))
    return frames


def _bin_header(length: int) -> int:
    return 2 if length < 0x100 else 3 if length < 0x10000 else 5


def _frame_size(count: int, items: int) -> int:
    # fixarray(2) + fixint type + array header + items
    return 2 + (1 if count < 16 else 3 if count < 0x10000 else 5) + items


# -- decoding ------------------------------------------------------------------------------


def decode(data: bytes) -> Message:
    """Decode one received message or raise DecodeError saying which field is wrong."""
    value = unpack(
        data,
        max_bytes=MAX_DECODE_BYTES,
        max_array_len=_MAX_ARRAY,
        max_map_len=0,
        max_items=_MAX_ITEMS,
    )
    if not isinstance(value, list) or not value:
        raise DecodeError("a message must be a non-empty msgpack array")
    code = value[0]
    if not _is_int(code):
        raise DecodeError("message type must be an integer")
    try:
        kind = MessageType(code)
    except ValueError:
        raise DecodeError(f"unknown message type {code}") from None
    arity, parse = _PARSERS[kind]
    if len(value) != arity + 1:
        raise DecodeError(f"{kind.name} takes {arity} fields, got {len(value) - 1}")
    return parse(value[1:])


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _int(value: object, what: str, low: int, high: int) -> int:
    if not _is_int(value):
        raise DecodeError(f"{what} must be an integer")
    assert isinstance(value, int)
    if not low <= value <= high:
        raise DecodeError(f"{what} must be in {low}..{high}, got {value}")
    return value


def _bool(value: object, what: str) -> bool:
    if not isinstance(value, bool):
        raise DecodeError(f"{what} must be a boolean")
    return value


def _list(value: object, what: str, most: int) -> list[Any]:
    if not isinstance(value, list):
        raise DecodeError(f"{what} must be an array")
    if len(value) > most:
        raise DecodeError(f"{what} has {len(value)} items, at most {most}")
    return value


def _ids(value: object, what: str) -> list[bytes]:
    ids = _list(value, what, MAX_IDS)
    for i, item in enumerate(ids):
        if not isinstance(item, bytes) or len(item) != ID_BYTES:
            raise DecodeError(f"{what}[{i}] must be a {ID_BYTES}-byte id")
    return ids


def _text(value: object, what: str, most: int) -> str:
    if not isinstance(value, str):
        raise DecodeError(f"{what} must be a string")
    if len(value.encode()) > most:
        raise DecodeError(f"{what} is longer than {most} UTF-8 bytes")
    return value


def _peer(value: object, what: str) -> PeerAddress:
    fields = _list(value, what, 3)
    if len(fields) != 3:
        raise DecodeError(f"{what} must be [key, host, port]")
    key, host, port = fields
    if not isinstance(key, bytes) or len(key) != PUBLIC_KEY_BYTES:
        raise DecodeError(f"{what}.key must be {PUBLIC_KEY_BYTES} bytes")
    host = _text(host, f"{what}.host", MAX_HOST_BYTES)
    address = PeerAddress(key, host, _int(port, f"{what}.port", 1, 65535))
    if not valid_address(address):
        raise DecodeError(f"{what}.host must be non-empty printable ASCII without spaces")
    return address


def _peers(value: object, what: str) -> list[PeerAddress]:
    items = _list(value, what, MAX_PEERS)
    return [_peer(item, f"{what}[{i}]") for i, item in enumerate(items)]


def _hello(f: list[Any]) -> Message:
    version = _int(f[0], "Hello.version", 0, 0xFFFF)
    name = _text(f[1], "Hello.name", MAX_NAME_BYTES)
    port = None if f[2] is None else _int(f[2], "Hello.listen_port", 1, 65535)
    return Hello(version, name, port, _int(f[3], "Hello.event_count", 0, MAX_COUNT))


def _events(f: list[Any]) -> Message:
    raws = _list(f[0], "Events.raws", _MAX_ARRAY)
    for i, raw in enumerate(raws):
        if not isinstance(raw, bytes):
            raise DecodeError(f"Events.raws[{i}] must be bytes")
        if not SIGNATURE_BYTES < len(raw) <= MAX_EVENT_BYTES:
            raise DecodeError(f"Events.raws[{i}] is {len(raw)} bytes, outside the event limits")
    return Events(raws)


def _reconcile(f: list[Any]) -> Message:
    session = _int(f[0], "Reconcile.session", 0, MAX_SESSION)
    payload = f[1]
    if not isinstance(payload, bytes) or not payload:
        raise DecodeError("Reconcile.payload must be non-empty bytes")
    if len(payload) > MAX_RECONCILE_PAYLOAD:
        raise DecodeError(f"Reconcile.payload is longer than {MAX_RECONCILE_PAYLOAD} bytes")
    return Reconcile(session, payload)


def _shuffle(f: list[Any]) -> Message:
    origin = None if f[0] is None else _peer(f[0], "Shuffle.origin")
    peers = _peers(f[1], "Shuffle.peers")
    return Shuffle(origin, peers, _int(f[2], "Shuffle.ttl", 0, MAX_TTL))


_Parser: TypeAlias = Callable[[list[Any]], Message]

_PARSERS: Final[dict[MessageType, tuple[int, _Parser]]] = {
    MessageType.HELLO: (4, _hello),
    MessageType.EVENTS: (1, _events),
    MessageType.IHAVE: (1, lambda f: IHave(_ids(f[0], "IHave.ids"))),
    MessageType.WANT: (1, lambda f: Want(_ids(f[0], "Want.ids"))),
    MessageType.PRUNE: (0, lambda f: Prune()),
    MessageType.GRAFT: (1, lambda f: Graft(_ids(f[0], "Graft.ids"))),
    MessageType.RECONCILE: (2, _reconcile),
    MessageType.RECONCILE_DONE: (
        2,
        lambda f: ReconcileDone(
            _int(f[0], "ReconcileDone.session", 0, MAX_SESSION),
            _int(f[1], "ReconcileDone.differences", 0, MAX_COUNT),
        ),
    ),
    MessageType.OFFER: (1, lambda f: Offer(_ids(f[0], "Offer.ids"))),
    MessageType.JOIN: (0, lambda f: Join()),
    MessageType.FORWARD_JOIN: (
        2,
        lambda f: ForwardJoin(
            _peer(f[0], "ForwardJoin.peer"), _int(f[1], "ForwardJoin.ttl", 0, MAX_TTL)
        ),
    ),
    MessageType.NEIGHBOR: (1, lambda f: Neighbor(_bool(f[0], "Neighbor.high_priority"))),
    MessageType.NEIGHBOR_REPLY: (1, lambda f: NeighborReply(_bool(f[0], "NeighborReply.accepted"))),
    MessageType.DISCONNECT: (0, lambda f: Disconnect()),
    MessageType.SHUFFLE: (3, _shuffle),
    MessageType.SHUFFLE_REPLY: (1, lambda f: ShuffleReply(_peers(f[0], "ShuffleReply.peers"))),
    MessageType.PING: (1, lambda f: Ping(_int(f[0], "Ping.nonce", 0, MAX_U64))),
    MessageType.PONG: (1, lambda f: Pong(_int(f[0], "Pong.nonce", 0, MAX_U64))),
}

_TYPE_OF: Final[dict[type, MessageType]] = {
    IHave: MessageType.IHAVE,
    Want: MessageType.WANT,
    Graft: MessageType.GRAFT,
    Offer: MessageType.OFFER,
    Prune: MessageType.PRUNE,
    Join: MessageType.JOIN,
    Disconnect: MessageType.DISCONNECT,
    Ping: MessageType.PING,
    Pong: MessageType.PONG,
}
