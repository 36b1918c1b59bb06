"""The session vectors (docs/vectors/reconcile.json, link.json): current, and right on their own."""

from __future__ import annotations

import hashlib
import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from protocol import wire
from protocol.event import decode_event
from protocol.handshake import (
    DEFAULT_NETWORK_ID,
    Established,
    HandshakeMessage,
    Role,
    SecureChannel,
)
from protocol.identity import SigningKey
from protocol.reconcile import ItemIndex, Reconciler
from protocol.reconcile.codec import Mode, decode

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT / "docs" / "vectors"
RECONCILE: dict[str, Any] = json.loads((VECTORS / "reconcile.json").read_text())
LINK: dict[str, Any] = json.loads((VECTORS / "link.json").read_text())
SESSIONS = {session["name"]: session for session in RECONCILE["sessions"]}


def generator() -> ModuleType:
    path = ROOT / "scripts" / "make_session_vectors.py"
    spec = importlib.util.spec_from_file_location("make_session_vectors", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_files_are_what_the_code_makes_today() -> None:
    make = generator()
    assert (VECTORS / "reconcile.json").read_text() == make.render(make.build_reconcile()), (
        "run scripts/make_session_vectors.py"
    )
    assert (VECTORS / "link.json").read_text() == make.render(make.build_link()), (
        "run scripts/make_session_vectors.py"
    )


# -- reconciliation, checked from the rules of docs/protocol-reconcile.md ----------------------


def item(n: int) -> tuple[int, bytes]:
    return 1_767_225_600_000 + 1000 * n, hashlib.sha256(n.to_bytes(4, "big")).digest()


def numbers(spans: list[list[int]]) -> list[int]:
    return [n for first, last in spans for n in range(first, last + 1)]


def fingerprint(ids: list[bytes]) -> bytes:
    """SHA-256(sum of the ids as little-endian integers mod 2^256 || varint count)[:16]."""
    total = sum(int.from_bytes(x, "little") for x in ids) % (1 << 256)
    assert len(ids) < 128  # one varint byte
    return hashlib.sha256(total.to_bytes(32, "little") + bytes([len(ids)])).digest()[:16]


def test_item_rule_is_as_written() -> None:
    ts, first = item(1)
    assert RECONCILE["item_1"] == [ts, first.hex()]


@pytest.mark.parametrize("name", sorted(SESSIONS))
def test_first_message_fingerprints_the_whole_set(name: str) -> None:
    session = SESSIONS[name]
    mine = [item(n)[1] for n in numbers(session["initiator_items"])]
    first = decode(bytes.fromhex(session["messages"][0]["hex"]), max_bytes=1 << 24)
    assert first.limit == session["limit"]
    (whole,) = first.ranges
    assert whole.mode is Mode.FINGERPRINT
    assert whole.count == len(mine)
    if len(mine) < 128:
        assert whole.fingerprint == fingerprint(mine)


@pytest.mark.parametrize("name", sorted(SESSIONS))
def test_a_session_replays_and_finds_the_difference(name: str) -> None:
    session = SESSIONS[name]
    mine = {item(n) for n in numbers(session["initiator_items"])}
    theirs = {item(n) for n in numbers(session["responder_items"])}
    responder = Reconciler(ItemIndex(sorted(theirs)), max_message_bytes=session["limit"])
    have: list[bytes] = []
    need: list[bytes] = []
    messages = session["messages"]
    initiator = Reconciler(ItemIndex(sorted(mine)), max_message_bytes=session["limit"])
    assert initiator.initiate().hex() == messages[0]["hex"]
    for sent, answer in zip(messages[::2], messages[1::2], strict=False):
        reply = responder.receive(bytes.fromhex(sent["hex"])).reply
        assert reply is not None
        assert reply.hex() == answer["hex"]
        assert len(reply) <= session["limit"]
        result = initiator.receive(reply)
        have += result.have
        need += result.need
    assert sorted(x.hex() for x in have) == session["have"]
    assert sorted(x.hex() for x in need) == session["need"]
    # What the initiator learned is exactly the difference of the two sets.
    assert {x for _, x in mine - theirs} == set(have)
    assert {x for _, x in theirs - mine} == set(need)


def test_a_split_answer_stays_within_the_limit_and_hands_the_rest_back() -> None:
    session = SESSIONS["split-answer"]
    for message in session["messages"]:
        data = bytes.fromhex(message["hex"])
        assert len(data) <= session["limit"]
        ranges = decode(data, max_bytes=session["limit"]).ranges
        if message["from"] == "responder" and any(r.mode is Mode.ID_LIST for r in ranges):
            # a cut list, then one fingerprint from the cut up to infinity
            assert ranges[-1].mode is Mode.FINGERPRINT
            assert ranges[-1].upper[1] == b""


# -- the link session, replayed from the keys alone -------------------------------------------


def channel(side: dict[str, Any], role: Role) -> SecureChannel:
    return SecureChannel(
        role,
        SigningKey.from_seed(bytes.fromhex(side["identity_seed"])),
        bytes.fromhex(LINK["network_id"]),
        now=0.0,
        static_key=bytes.fromhex(side["static_private"]),
        ephemeral_key=bytes.fromhex(side["ephemeral_private"]),
        info=side["info"],
    )


def test_the_link_runs_on_the_default_network_with_the_documented_info() -> None:
    assert bytes.fromhex(LINK["network_id"]) == DEFAULT_NETWORK_ID == b"peernode-lan"
    for side in LINK["sides"].values():
        assert side["info"]["spec"] == wire.SPEC_VERSION
        key = SigningKey.from_seed(bytes.fromhex(side["identity_seed"]))
        assert key.public_key.hex() == side["identity"]


def test_the_link_session_replays_frame_by_frame() -> None:
    sides = LINK["sides"]
    channels = {
        "dialer": channel(sides["dialer"], Role.INITIATOR),
        "acceptor": channel(sides["acceptor"], Role.RESPONDER),
    }
    other = {"dialer": "acceptor", "acceptor": "dialer"}
    handshake = [step for step in LINK["steps"] if "handshake" in step]
    assert [step["from"] for step in handshake] == ["dialer", "acceptor", "dialer"]
    assert channels["dialer"].start().hex() == handshake[0]["handshake"]
    established = set()
    for step, following in zip(handshake, [*handshake[1:], None], strict=True):
        events = channels[other[step["from"]]].receive(bytes.fromhex(step["handshake"]))
        sent = [e.data.hex() for e in events if isinstance(e, HandshakeMessage)]
        assert sent == ([] if following is None else [following["handshake"]])
        if any(isinstance(e, Established) for e in events):
            established.add(other[step["from"]])
    assert established == {"dialer", "acceptor"}

    hellos: dict[str, wire.Hello] = {}
    stored: set[str] = set()
    for step in LINK["steps"]:
        if "frame" not in step:
            stored.update(step.get("stored", ()))
            continue
        sender = step["from"]
        assert channels[sender].send(bytes.fromhex(step["plaintext"])).hex() == step["frame"]
        (payload,) = channels[other[sender]].receive(bytes.fromhex(step["frame"]))
        message = wire.decode(payload.data)  # type: ignore[attr-defined]
        assert type(message).__name__ == step["message"]
        if isinstance(message, wire.Hello):
            hellos[sender] = message
        if isinstance(message, wire.Events):
            assert all(decode_event(raw) for raw in message.raws)
    # Hello.listen_port and the handshake info's port name the same port.
    for name, hello in hellos.items():
        assert hello.version == wire.PROTOCOL_VERSION
        assert hello.listen_port == sides[name]["info"]["port"]
    # The first events: each side ends up with the other's.
    written = {
        decode_event(bytes.fromhex(raw)).id.hex() for s in sides.values() for raw in s["events"]
    }
    assert stored == written


def test_the_worked_example_of_the_reconcile_page_is_the_vector() -> None:
    page = (ROOT / "docs" / "protocol-reconcile.md").read_text()
    first, second = (bytes.fromhex(m["hex"]) for m in SESSIONS["one-extra"]["messages"])
    assert f"Message 1, initiator → responder ({len(first)} bytes)" in page
    assert f"Message 2, responder → initiator ({len(second)} bytes)" in page
    assert first[-16:].hex() in page  # the fingerprint
    assert second[-32:].hex() in page  # the missing id
    assert SESSIONS["one-extra"]["need"] == [item(3)[1].hex()]
