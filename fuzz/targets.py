"""One fuzz target per decoder that takes bytes from the network.

Each target is a function ``(data: bytes) -> object`` that feeds `data` to the decoder the way
the node does. It may raise only the exceptions listed in its `Target.allowed` (the decoder's
documented error type); anything else escaping it is a finding, and so is a violated
invariant (raised as `InvariantViolation`). Time and memory are checked by `fuzz.harness`.

All keys are fixed, so every target is deterministic and the seeds in `fuzz.corpus` stay
valid: the handshake targets use the `ephemeral_key` hook meant for test vectors.
"""

from __future__ import annotations

import asyncio
import hashlib
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Final

from zeroconf import IPVersion, ServiceStateChange
from zeroconf._cache import DNSCache
from zeroconf._dns import DNSPointer
from zeroconf._protocol.incoming import DNSIncoming

from peernode.net.discovery import SERVICE_TYPE, Discovery, PeerHint
from protocol import codec, wire
from protocol.errors import RemoteProtocolError
from protocol.event import SIGNING_CONTEXT, Event, decode_event, event_id
from protocol.handshake import (
    Established,
    HandshakeMessage,
    Payload,
    Role,
    SecureChannel,
    prologue,
)
from protocol.identity import PUBLIC_KEY_BYTES, SigningKey
from protocol.limits import MAX_EVENT_BYTES
from protocol.noise import HandshakeState
from protocol.reconcile import ItemIndex, Reconciler

__all__ = ["TARGETS", "InvariantViolation", "Target"]


class InvariantViolation(AssertionError):
    """A decoder accepted input but returned something inconsistent."""


def _require(condition: bool, what: str) -> None:
    if not condition:
        raise InvariantViolation(what)


# -- fixed identities and keys ---------------------------------------------------------------

FUZZ_AUTHOR: Final = SigningKey.from_seed(bytes(range(100, 132)))
"""The author of `event_signed` inputs: a hostile peer signs whatever content it likes."""

NETWORK: Final = b"fuzz-network"
INITIATOR_ID: Final = SigningKey.from_seed(b"\x11" * 32)
RESPONDER_ID: Final = SigningKey.from_seed(b"\x22" * 32)
INITIATOR_STATIC: Final = hashlib.sha256(b"initiator static").digest()
RESPONDER_STATIC: Final = hashlib.sha256(b"responder static").digest()
INITIATOR_EPHEMERAL: Final = hashlib.sha256(b"initiator ephemeral").digest()
RESPONDER_EPHEMERAL: Final = hashlib.sha256(b"responder ephemeral").digest()


def initiator() -> SecureChannel:
    return SecureChannel(
        Role.INITIATOR,
        INITIATOR_ID,
        NETWORK,
        now=0.0,
        static_key=INITIATOR_STATIC,
        ephemeral_key=INITIATOR_EPHEMERAL,
        info={"name": "fuzz-initiator", "port": 7000},
    )


def responder() -> SecureChannel:
    return SecureChannel(
        Role.RESPONDER,
        RESPONDER_ID,
        NETWORK,
        now=0.0,
        static_key=RESPONDER_STATIC,
        ephemeral_key=RESPONDER_EPHEMERAL,
        info={"name": "fuzz-responder"},
    )


def _noise(role: Role) -> HandshakeState:
    """A hostile peer's own Noise state, with the same keys as the honest channels."""
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

    static, ephemeral = (
        (INITIATOR_STATIC, INITIATOR_EPHEMERAL)
        if role is Role.INITIATOR
        else (RESPONDER_STATIC, RESPONDER_EPHEMERAL)
    )
    return HandshakeState(
        role,
        X25519PrivateKey.from_private_bytes(static),
        prologue=prologue(NETWORK),
        ephemeral_key=X25519PrivateKey.from_private_bytes(ephemeral),
    )


def _only_message(events: list[Any]) -> bytes:
    messages = [e.data for e in events if isinstance(e, HandshakeMessage)]
    assert len(messages) == 1, events
    return messages[0]


MSG1: Final = initiator().start()
MSG2: Final = _only_message(responder().receive(MSG1))
MSG3: Final = _only_message((lambda i: (i.start(), i.receive(MSG2))[1])(initiator()))


def established_initiator() -> SecureChannel:
    channel = initiator()
    channel.start()
    channel.receive(MSG2)
    return channel


def established_responder() -> SecureChannel:
    channel = responder()
    channel.receive(MSG1)
    channel.receive(MSG3)
    return channel


# -- reconciliation fixtures ---------------------------------------------------------------


def _item(i: int) -> tuple[int, bytes]:
    digest = hashlib.sha256(i.to_bytes(4, "big")).digest()
    # Clusters of equal timestamps exercise the id-prefix bounds.
    return 1_700_000_000_000 + (i // 3) * 1000, digest


SHARED_ITEMS: Final = 2000
LOCAL_INDEX: Final = ItemIndex([_item(i) for i in range(SHARED_ITEMS + 60)])
"""What the fuzzed node holds: 2,000 items shared with the seed peer, 60 of its own."""
LOCAL_IDS: Final = frozenset(LOCAL_INDEX.ids(0, len(LOCAL_INDEX)))
PEER_ITEMS: Final = [_item(i) for i in range(SHARED_ITEMS)] + [
    _item(i) for i in range(10_000, 10_045)
]
RECONCILE_LIMITS: Final = (wire.MAX_RECONCILE_PAYLOAD, 256, 1024, 4096)
"""Our max_message_bytes, picked by bits 1-2 of the flags byte (the node uses the first)."""
MAX_RECONCILE_MESSAGES: Final = 16


def split_frames(data: bytes, most: int = MAX_RECONCILE_MESSAGES) -> Iterator[bytes]:
    """Messages prefixed with a 2-byte big-endian length; a short last one takes the rest."""
    pos, count = 0, 0
    while pos < len(data) and count < most:
        size = int.from_bytes(data[pos : pos + 2], "big")
        yield data[pos + 2 : pos + 2 + size]
        pos += 2 + size
        count += 1


def join_frames(messages: list[bytes]) -> bytes:
    return b"".join(len(m).to_bytes(2, "big") + m for m in messages)


# -- discovery fixtures --------------------------------------------------------------------

OWN_KEY: Final = hashlib.sha256(b"fuzz discovery own key").digest()
MAX_DISCOVERY_NAMES: Final = 8


class _FakeZeroconf:
    """Just enough of Zeroconf for AsyncServiceInfo.async_request: a cache and no network.

    With Discovery's resolve_timeout at 0, a service whose records are not all in the cache
    "times out" at once instead of sending a query.
    """

    started = True
    loop = None

    def __init__(self, cache: DNSCache) -> None:
        self.cache = cache

    def async_add_listener(self, listener: object, question: object) -> None:
        return None

    def async_remove_listener(self, listener: object) -> None:
        return None


class _FakeAsyncZeroconf:
    def __init__(self, zeroconf: _FakeZeroconf) -> None:
        self.zeroconf = zeroconf


_LOOP: asyncio.AbstractEventLoop | None = None


def _loop() -> asyncio.AbstractEventLoop:
    global _LOOP
    if _LOOP is None or _LOOP.is_closed():
        _LOOP = asyncio.new_event_loop()
    return _LOOP


def close_loop() -> None:
    """Close the event loop the discovery target runs on (a new one is made when needed)."""
    global _LOOP
    if _LOOP is not None and not _LOOP.is_closed():
        _LOOP.close()
    _LOOP = None


def _service_names(records: list[Any]) -> list[str]:
    """What zeroconf's browser would report for these records, as Discovery receives it."""
    names: list[str] = []
    suffix = "." + SERVICE_TYPE
    for record in records:
        if isinstance(record, DNSPointer) and record.name.lower() == SERVICE_TYPE:
            name = record.alias  # a PTR of our type: "service added"
        elif record.name.endswith(suffix):
            name = record.name  # SRV, TXT, ... of an instance: "service updated"
        else:
            continue
        if name not in names:
            names.append(name)
    return names[:MAX_DISCOVERY_NAMES]


async def _discover(data: bytes) -> list[PeerHint]:
    incoming = DNSIncoming(data)
    records = incoming.answers() if incoming.valid else []
    cache = DNSCache()
    cache.async_add_records(records)
    zeroconf = _FakeZeroconf(cache)
    found: list[PeerHint] = []
    discovery = Discovery(
        public_key=OWN_KEY,
        port=7000,
        name="fuzz",
        on_found=found.append,
        ip_version=IPVersion.All,
        resolve_timeout=0.0,
    )
    discovery._azc = _FakeAsyncZeroconf(zeroconf)  # type: ignore[assignment]
    for name in _service_names(records):
        # The browser's handler: it swallows and logs what _handle_change raises itself.
        discovery._handle_change(name, ServiceStateChange.Added)
    tasks = list(discovery._resolving.values())
    for result in await asyncio.gather(*tasks, return_exceptions=True):
        if isinstance(result, BaseException):
            raise result  # a resolution task died: asyncio would log it as never retrieved
    return found


# -- the targets ---------------------------------------------------------------------------


def _check_event(event: Event, raw: bytes) -> None:
    _require(event.raw == raw, "Event.raw is not the bytes received")
    _require(event.id == event_id(raw), "Event.id differs from event_id(raw)")
    _require(len(event.author) == PUBLIC_KEY_BYTES, "author is not a public key")


ROUND_TRIP_MAX: Final = 8192
"""Inputs up to this size must round-trip (larger ones are the bombs: decoding is the test)."""


def fuzz_codec(data: bytes) -> None:
    """protocol.codec.unpack with the event limits: what we accept we can encode again."""
    value = codec.unpack(data, max_bytes=MAX_EVENT_BYTES)
    if len(data) > ROUND_TRIP_MAX:
        return
    again = codec.pack(value)
    del value  # so the peak measured is one decode's, not two
    _require(codec.pack(codec.unpack(again, max_bytes=MAX_EVENT_BYTES)) == again, "no round trip")


def fuzz_event(data: bytes) -> None:
    """decode_event and event_id on raw received bytes (signature || content)."""
    event_id(data)
    _check_event(decode_event(data), data)


def fuzz_event_signed(data: bytes) -> None:
    """decode_event on content a hostile author signed: gets past the signature check."""
    content = data[:MAX_EVENT_BYTES]
    raw = FUZZ_AUTHOR.sign(SIGNING_CONTEXT + content) + content
    _check_event(decode_event(raw), raw)


def fuzz_wire(data: bytes) -> None:
    """protocol.wire.decode of one link message; what we accept we can send again."""
    message = wire.decode(data)
    _require(wire.decode(wire.encode(message)) == message, "decode(encode(m)) != m")


def fuzz_handshake_msg1(data: bytes) -> None:
    """The responder's SecureChannel.receive of handshake message 1 (-> e)."""
    events = responder().receive(data)
    _require(len(events) == 1 and isinstance(events[0], HandshakeMessage), "msg1 reply")


def fuzz_handshake_msg2(data: bytes) -> None:
    """The initiator's SecureChannel.receive of handshake message 2 (<- e, ee, s, es)."""
    channel = initiator()
    channel.start()
    _check_established(channel.receive(data), channel)


def fuzz_handshake_msg3(data: bytes) -> None:
    """The responder's SecureChannel.receive of handshake message 3 (-> s, se)."""
    channel = responder()
    channel.receive(MSG1)
    _check_established(channel.receive(data), channel)


def fuzz_handshake_payload(data: bytes) -> None:
    """The identity payload inside messages 2 and 3, correctly encrypted by a hostile peer.

    Bit 0 of the first byte picks the direction (0: message 2 to the initiator, 1: message
    3 to the responder); the rest is the plaintext payload.
    """
    if not data:
        return
    payload = data[1:2048]
    if data[0] & 1 == 0:
        channel = initiator()
        hostile = _noise(Role.RESPONDER)
        hostile.read_message(channel.start())
        events = channel.receive(hostile.write_message(payload))
    else:
        channel = responder()
        hostile = _noise(Role.INITIATOR)
        hostile.write_message(b"")
        hostile.read_message(_only_message(channel.receive(MSG1)))
        events = channel.receive(hostile.write_message(payload))
    _check_established(events, channel)


def fuzz_frame(data: bytes) -> None:
    """An established channel's SecureChannel.receive of a transport frame."""
    channel = established_initiator()
    events = channel.receive(data)
    _require(len(events) == 1 and isinstance(events[0], Payload), "frame gives one Payload")


def _check_established(events: list[Any], channel: SecureChannel) -> None:
    done = [e for e in events if isinstance(e, Established)]
    _require(len(done) == 1, "a handshake message that passes establishes the channel")
    _require(len(done[0].remote_identity) == PUBLIC_KEY_BYTES, "remote identity size")
    _require(channel.remote_identity == done[0].remote_identity, "remote identity differs")


def fuzz_reconcile(data: bytes) -> None:
    """Reconciler.receive for a whole session: flags byte, then length-prefixed messages.

    Flags bit 0: we are the initiator (we send initiate() first); bits 1-2: our
    max_message_bytes from RECONCILE_LIMITS. Our index holds LOCAL_INDEX.
    """
    if not data:
        return
    limit = RECONCILE_LIMITS[(data[0] >> 1) & 3]
    reconciler = Reconciler(LOCAL_INDEX, max_message_bytes=limit)
    if data[0] & 1:
        reconciler.initiate()
    for message in split_frames(data[1:]):
        result = reconciler.receive(message)
        _require(result.reply is None or len(result.reply) <= limit, "reply above our limit")
        for event_id_ in (*result.have, *result.need):
            _require(len(event_id_) == 32, "learned id is not 32 bytes")
        _require(LOCAL_IDS.issuperset(result.have), "'have' holds an id we do not hold")
        if result.reply is None:
            break


_BIDI: Final = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _unsafe_in_name(char: str) -> bool:
    """What docs/discovery.md promises a received display name is free of."""
    return unicodedata.category(char) == "Cc" or char in _BIDI


def fuzz_discovery(data: bytes) -> str:
    """An mDNS packet through zeroconf's parser and cache into Discovery's resolve path.

    The services the packet announces go to Discovery._handle_change, are resolved from the
    cache by the real _resolve/_resolve_once, and end in hint_from_record and on_found.
    """
    hints = _loop().run_until_complete(_discover(data))
    for hint in hints:
        _require(hint.key_hint is not None and len(hint.key_hint) == 32, "key hint")
        _require(0 < hint.port < 65536, "port")
        _require(0 < len(hint.addresses) <= 16, "addresses")
        _require(not any(_unsafe_in_name(c) for c in hint.name), "control or bidi in the name")
    # What the mutator's feedback tells apart, as no exception is allowed here.
    return f"{len(hints)} hints, addresses {sorted({len(h.addresses) for h in hints})}"


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    func: Callable[[bytes], object]
    """Raises for a rejected input; may return a str describing an accepted one."""
    allowed: tuple[type[BaseException], ...]
    """Exceptions that are a documented rejection, not a finding."""
    max_len: int
    """Largest input worth generating (the decoder refuses anything longer unread)."""
    decoder: str


_REMOTE: Final = (RemoteProtocolError,)

TARGETS: Final[dict[str, Target]] = {
    t.name: t
    for t in (
        Target("codec", fuzz_codec, _REMOTE, MAX_EVENT_BYTES + 64, "protocol.codec.unpack"),
        Target("event", fuzz_event, _REMOTE, MAX_EVENT_BYTES + 64, "protocol.event.decode_event"),
        Target(
            "event_signed",
            fuzz_event_signed,
            _REMOTE,
            MAX_EVENT_BYTES,
            "protocol.event.decode_event (validly signed content)",
        ),
        Target("wire", fuzz_wire, _REMOTE, 1 << 17, "protocol.wire.decode"),
        Target(
            "handshake_msg1",
            fuzz_handshake_msg1,
            _REMOTE,
            1100,
            "SecureChannel.receive (message 1)",
        ),
        Target(
            "handshake_msg2",
            fuzz_handshake_msg2,
            _REMOTE,
            1100,
            "SecureChannel.receive (message 2)",
        ),
        Target(
            "handshake_msg3",
            fuzz_handshake_msg3,
            _REMOTE,
            1100,
            "SecureChannel.receive (message 3)",
        ),
        Target(
            "handshake_payload",
            fuzz_handshake_payload,
            _REMOTE,
            1100,
            "SecureChannel.receive (decrypted identity payload)",
        ),
        Target("frame", fuzz_frame, _REMOTE, 65600, "SecureChannel.receive (transport frame)"),
        Target(
            "reconcile",
            fuzz_reconcile,
            _REMOTE,
            1 << 17,
            "protocol.reconcile.Reconciler.receive",
        ),
        Target(
            "discovery",
            fuzz_discovery,
            (),
            9000,
            "peernode.net.discovery (mDNS packet -> hint_from_record)",
        ),
    )
}
"""Every target by name. `discovery` allows no exception: it must return a hint or None."""
