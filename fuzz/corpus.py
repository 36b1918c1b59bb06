"""Seed corpus: valid messages of every type, made with the real encoders.

`seeds(name)` gives the seeds of one target (deterministic, cached). To look at them or to
hand them to another engine: ``python -m fuzz.corpus DIR`` writes DIR/<target>/<n>.bin.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any, Final

from zeroconf import IPVersion
from zeroconf.asyncio import AsyncServiceInfo
from zeroconf.const import _FLAGS_AA, _FLAGS_QR_RESPONSE

from fuzz import targets as t
from peernode.net.discovery import PROTOCOL_VERSION, SERVICE_TYPE
from protocol import codec, kinds, wire
from protocol.event import Event, create_event, decode_event
from protocol.handshake import InfoValue, _encode_payload  # the real payload encoder
from protocol.identity import SigningKey
from protocol.noise import public_bytes
from protocol.reconcile import ItemIndex, Reconciler

__all__ = ["all_seeds", "seeds"]

_VECTORS: Final = Path(__file__).resolve().parent.parent / "docs" / "vectors"
_TIME: Final = 1_767_225_600_000


def _vector_raws() -> list[tuple[bytes, bool]]:
    """(raw, valid) events of docs/vectors: one valid event of every kind, plus broken ones."""
    out: list[tuple[bytes, bool]] = []
    for name in ("events.json", "circles.json"):
        path = _VECTORS / name
        if not path.exists():
            continue
        data = json.loads(path.read_text())
        for item in data.get("valid", []):
            if "raw" in item:
                out.append((bytes.fromhex(item["raw"]), True))
            elif "content" in item and "signature" in item:
                out.append((bytes.fromhex(item["signature"] + item["content"]), True))
        for item in data.get("invalid", []):
            if "raw" in item:
                out.append((bytes.fromhex(item["raw"]), False))
    return out


@cache
def events_by(author: SigningKey) -> tuple[Event, ...]:
    """One valid event of every kind we have an example of, re-signed by `author`."""
    made: list[Event] = [
        create_event(
            author,
            kind=kinds.NOTE,
            circle="lobby",
            body={"text": "Hello, *circle*! ✓", "format": "markdown", "mentions": [b"\x01" * 32]},
            created_at=_TIME,
            refs={"reply_to": b"\x02" * 32},
        ),
        create_event(
            author,
            kind=kinds.PROFILE,
            circle="",
            body={"name": "Ada", "learning": "SQL", "can_help": "Python"},
            created_at=_TIME + 1,
        ),
        create_event(
            author,
            kind="example.org/unknown@7",
            circle="c",
            body={"nested": [[1, 2.5, None, True], {"k": b"v"}], "n": -(2**63)},
            created_at=_TIME + 2,
        ),
    ]
    for raw, valid in _vector_raws():
        if not valid:
            continue
        event = decode_event(raw)
        made.append(
            create_event(
                author,
                kind=event.kind,
                circle=event.circle,
                body=dict(event.body),
                refs=dict(event.refs),
                created_at=event.created_at,
            )
        )
    return tuple(made)


def _wire_messages() -> list[wire.Message]:
    ids = [hashlib.sha256(bytes([i])).digest() for i in range(5)]
    peer = wire.PeerAddress(b"\x07" * 32, "192.168.1.20", 7000)
    peer6 = wire.PeerAddress(b"\x08" * 32, "fe80::1%eth0", 65535)
    raws = [e.raw for e in events_by(t.FUZZ_AUTHOR)]
    reconcile = Reconciler(t.LOCAL_INDEX, max_message_bytes=wire.MAX_RECONCILE_PAYLOAD)
    return [
        wire.Hello(wire.PROTOCOL_VERSION, "Ada's laptop ✓", 7000, 1234),
        wire.Hello(wire.PROTOCOL_VERSION, "", None, 0),
        wire.Events(raws[:3]),
        wire.Events(raws),
        wire.IHave(ids),
        wire.Want(ids[:1]),
        wire.Prune(),
        wire.Graft(ids[:2]),
        wire.Reconcile(7, reconcile.initiate()),
        wire.ReconcileDone(7, 3),
        wire.Offer(ids),
        wire.Join(),
        wire.ForwardJoin(peer, 3),
        wire.Neighbor(True),
        wire.NeighborReply(False),
        wire.Disconnect(),
        wire.Shuffle(peer, [peer, peer6], 4),
        wire.Shuffle(None, [], 0),
        wire.ShuffleReply([peer6]),
        wire.Ping(2**64 - 1),
        wire.Pong(0),
    ]


def _msgpack_values() -> list[Any]:
    return [
        None,
        True,
        0,
        -1,
        2**64 - 1,
        -(2**63),
        1.5,
        "",
        "é" * 40,
        b"",
        b"\x00" * 300,
        [],
        [[[[]]]],
        {},
        {"a": {"b": [1, "x", b"y", None]}},
        list(range(20)),
        {str(i): i for i in range(20)},
    ]


def _handshake_payloads() -> list[bytes]:
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

    out = []
    cases: tuple[tuple[SigningKey, bytes, dict[str, InfoValue]], ...] = (
        (t.RESPONDER_ID, t.RESPONDER_STATIC, {"name": "fuzz-responder"}),
        (t.INITIATOR_ID, t.INITIATOR_STATIC, {"name": "fuzz-initiator", "port": 7000}),
        (t.RESPONDER_ID, t.RESPONDER_STATIC, {}),
        (t.INITIATOR_ID, t.INITIATOR_STATIC, {"a": True, "b": -5, "c": "x" * 128}),
    )
    for identity, static, info in cases:
        static_public = public_bytes(X25519PrivateKey.from_private_bytes(static))
        payload = _encode_payload(identity, static_public, dict(info))
        direction = b"\x00" if identity is t.RESPONDER_ID else b"\x01"
        out.append(direction + payload)
    return out


def _frames() -> list[bytes]:
    plaintexts = [b"", b"x", *(wire.encode(m) for m in _wire_messages()[:6]), b"\xaa" * 65519]
    frames = []
    for plaintext in plaintexts:
        sender = t.established_responder()  # a fresh one each time: nonce 0 for a new initiator
        frames.append(sender.send(plaintext))
    return frames


def _session(our_limit: int, their_limit: int, we_initiate: bool, peer: ItemIndex) -> bytes:
    """The peer's side of one honest session with LOCAL_INDEX, as the reconcile target reads it."""
    ours = Reconciler(t.LOCAL_INDEX, max_message_bytes=our_limit)
    theirs = Reconciler(peer, max_message_bytes=their_limit)
    sent: list[bytes] = []
    message = theirs.receive(ours.initiate()).reply if we_initiate else theirs.initiate()
    while message is not None and len(sent) < t.MAX_RECONCILE_MESSAGES:
        sent.append(message)
        reply = ours.receive(message).reply
        if reply is None or theirs.done:
            break
        message = theirs.receive(reply).reply
    flags = (t.RECONCILE_LIMITS.index(our_limit) << 1) | int(we_initiate)
    return bytes((flags,)) + t.join_frames(sent)


def _reconcile_seeds() -> list[bytes]:
    peer = ItemIndex(t.PEER_ITEMS)
    empty = ItemIndex()
    out = []
    for our_limit in t.RECONCILE_LIMITS:
        for we_initiate in (False, True):
            out.append(_session(our_limit, wire.MAX_RECONCILE_PAYLOAD, we_initiate, peer))
            out.append(_session(our_limit, 256, we_initiate, peer))
        out.append(_session(our_limit, 1024, False, empty))
    return out


def _mdns_packet(
    label: str,
    properties: dict[str, str] | None,
    addresses: list[str],
    port: int = 7000,
) -> bytes:
    from zeroconf._protocol.outgoing import DNSOutgoing

    info = AsyncServiceInfo(
        SERVICE_TYPE,
        f"{label}.{SERVICE_TYPE}",
        port=port,
        properties=properties,
        server=f"{label}.local.",
        parsed_addresses=addresses,
    )
    out = DNSOutgoing(_FLAGS_QR_RESPONSE | _FLAGS_AA)
    out.add_answer_at_time(info.dns_pointer(), 0)
    out.add_answer_at_time(info.dns_service(), 0)
    if properties is not None:
        out.add_answer_at_time(info.dns_text(), 0)
    for record in info.dns_addresses(version=IPVersion.All):
        out.add_answer_at_time(record, 0)
    packets: list[bytes] = out.packets()
    return packets[0]


def _discovery_seeds() -> list[bytes]:
    key = hashlib.sha256(b"peer").hexdigest()
    txt = {"v": PROTOCOL_VERSION, "k": key, "n": "Ada ✓"}
    return [
        _mdns_packet("ada-abcd1234", txt, ["192.168.1.20"]),
        _mdns_packet("bob-00000000", txt, ["192.168.1.21", "fe80::1", "127.0.0.1"], port=65535),
        _mdns_packet("loop", txt, ["127.0.0.1"]),
        _mdns_packet("six", txt, ["2001:db8::1"]),
        _mdns_packet("notxt", None, ["10.0.0.1"]),
        _mdns_packet("oldver", {"v": "0", "k": key}, ["10.0.0.2"]),
        _mdns_packet("badkey", {"v": "1", "k": "zz"}, ["10.0.0.3"]),
        _mdns_packet("many", txt, [f"10.1.0.{i}" for i in range(1, 20)]),
    ]


@cache
def _all() -> dict[str, tuple[bytes, ...]]:
    events = events_by(t.FUZZ_AUTHOR)
    vectors = [raw for raw, _ in _vector_raws()]
    wire_data = [wire.encode(m) for m in _wire_messages()]
    values = [codec.pack(v) for v in _msgpack_values()]
    low_order = [bytes(32), (1).to_bytes(32, "little"), b"\xff" * 32, b"\xe0\xeb\x7a\x7c" * 8]
    return {
        "codec": (*(e.raw[64:] for e in events), *values, *wire_data),
        "event": (*(e.raw for e in events), *vectors),
        "event_signed": tuple(e.raw[64:] for e in events),
        "wire": tuple(wire_data),
        "handshake_msg1": (t.MSG1, *low_order),
        "handshake_msg2": (t.MSG2, t.MSG2[:32] + bytes(len(t.MSG2) - 32), *low_order),
        "handshake_msg3": (t.MSG3,),
        "handshake_payload": tuple(_handshake_payloads()),
        "frame": tuple(_frames()),
        "reconcile": tuple(_reconcile_seeds()),
        "discovery": tuple(_discovery_seeds()),
    }


def seeds(name: str) -> tuple[bytes, ...]:
    """The seed inputs of target `name`."""
    return _all()[name]


def all_seeds() -> dict[str, tuple[bytes, ...]]:
    return dict(_all())


def write(directory: Path) -> dict[str, int]:
    counts = {}
    for name, items in _all().items():
        folder = directory / name
        folder.mkdir(parents=True, exist_ok=True)
        for i, item in enumerate(items):
            (folder / f"seed-{i:03d}.bin").write_bytes(item)
        counts[name] = len(items)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("directory", type=Path)
    args = parser.parse_args()
    for name, count in write(args.directory).items():
        print(f"{name:18} {count:4d} seeds")


if __name__ == "__main__":
    main()
