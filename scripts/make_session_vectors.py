"""Regenerate docs/vectors/reconcile.json and docs/vectors/link.json: whole sessions, byte by byte.

reconcile.json: reconciliation sessions between two fixed sets of items, every message in
order, with what the initiator learned. link.json: one link between two nodes with fixed
keys, from the first handshake message to the first events stored, every frame with its
plaintext, driven by the real sans-IO engine (protocol/gossip) on a fixed clock.
Run: .venv/bin/python scripts/make_session_vectors.py  (the output is deterministic;
tests/protocol/test_session_vectors.py checks both files against build_*()).
"""

from __future__ import annotations

import hashlib
import json
import random
from collections import deque
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from protocol import wire
from protocol.event import Event, create_event, decode_event
from protocol.gossip import Close, Dial, GossipEngine, Send, SendStored, Verify
from protocol.handshake import (
    DEFAULT_NETWORK_ID,
    HandshakeMessage,
    InfoValue,
    Payload,
    Role,
    SecureChannel,
)
from protocol.identity import SigningKey
from protocol.reconcile import ItemIndex, Reconciler

DOCS = Path(__file__).resolve().parent.parent / "docs" / "vectors"
TIME = 1_767_225_600_000  # 2026-01-01T00:00:00Z
MAX_ROUNDS = 64
LINK_END = 10.0  # seconds of the fixed clock the link session may run


# -- reconciliation ---------------------------------------------------------------------------


def item(n: int) -> tuple[int, bytes]:
    """Item number n: created_at TIME + n seconds, id SHA-256 of n as 4 bytes big-endian."""
    return TIME + 1000 * n, hashlib.sha256(n.to_bytes(4, "big")).digest()


SESSIONS: tuple[tuple[str, str, range | list[int], range | list[int], int], ...] = (
    ("one-extra", "the example of the page: the responder holds one item more", [1, 2], [1, 2, 3],
     65536),
    ("equal", "both hold the same 300 items: the reply is only a header", range(300), range(300),
     64512),
    ("few-differences", "300 items each, 2 only here and 3 only there: buckets, then searches",
     [*range(2, 300), 400, 401], [*range(300), 500, 501, 502], 64512),
    ("split-answer", "a fresh initiator with a 256-byte limit: ids in several messages",
     [], range(20), 256),
)  # fmt: skip


def spans(numbers: range | list[int]) -> list[list[int]]:
    """Item numbers as inclusive spans [first, last], in order: [0, 299] is items 0 to 299."""
    out: list[list[int]] = []
    for n in numbers:
        if out and out[-1][1] == n - 1:
            out[-1][1] = n
        else:
            out.append([n, n])
    return out


def reconcile_session(
    initiator_items: list[tuple[int, bytes]], responder_items: list[tuple[int, bytes]], limit: int
) -> dict[str, Any]:
    """Run one session to its end; every message with its sender, and what was learned."""
    initiator = Reconciler(ItemIndex(initiator_items), max_message_bytes=limit)
    responder = Reconciler(ItemIndex(responder_items), max_message_bytes=limit)
    messages = [{"from": "initiator", "hex": initiator.initiate().hex()}]
    have: list[bytes] = []
    need: list[bytes] = []
    for _ in range(MAX_ROUNDS):
        answer = responder.receive(bytes.fromhex(messages[-1]["hex"])).reply
        assert answer is not None, "the responder always replies"
        messages.append({"from": "responder", "hex": answer.hex()})
        result = initiator.receive(answer)
        have += result.have
        need += result.need
        if result.reply is None:
            break
        messages.append({"from": "initiator", "hex": result.reply.hex()})
    else:
        raise AssertionError("the session did not end")
    return {
        "messages": messages,
        "have": sorted(x.hex() for x in have),
        "need": sorted(x.hex() for x in need),
    }


def build_reconcile() -> dict[str, Any]:
    sessions = []
    for name, about, mine, theirs, limit in SESSIONS:
        ours, peers = [item(n) for n in mine], [item(n) for n in theirs]
        sessions.append(
            {
                "name": name,
                "about": about,
                "limit": limit,
                "initiator_items": spans(mine),
                "responder_items": spans(theirs),
                **reconcile_session(ours, peers, limit),
            }
        )
    return {
        "items": "item n: created_at = 1767225600000 + 1000 n, id = SHA-256(n as 4 bytes BE);"
        " a session's items are inclusive spans [first, last] of n",
        "item_1": [item(1)[0], item(1)[1].hex()],
        "sessions": sessions,
    }


# -- a whole link ------------------------------------------------------------------------------


def _fixed(byte: int) -> bytes:
    return bytes([byte]) * 32


class _Side:
    """One node of the link session: its key, its channel, its engine and its store."""

    def __init__(
        self, role: Role, seed: int, static: int, ephemeral: int, name: str, notes: list[str]
    ) -> None:
        self.role = role
        self.key = SigningKey.from_seed(_fixed(seed))
        self.name = name
        self.info: Mapping[str, InfoValue] = {"name": name, "port": 7420, "spec": wire.SPEC_VERSION}
        self.channel = SecureChannel(
            role,
            self.key,
            DEFAULT_NETWORK_ID,
            now=0.0,
            static_key=_fixed(static),
            ephemeral_key=_fixed(ephemeral),
            info=self.info,
        )
        offset = 0 if role is Role.INITIATOR else 10
        self.store: dict[bytes, Event] = {}
        for n, text in enumerate(notes):
            event = create_event(
                self.key,
                kind="peernode/note@1",
                circle="lobby",
                body={"text": text},
                created_at=TIME + 1000 * (offset + n),
            )
            self.store[event.id] = event
        index = ItemIndex([(e.created_at, e.id) for e in self.store.values()])
        self.engine = GossipEngine(
            self_key=self.key.public_key, index=index, rng=random.Random(seed), now=0.0, name=name
        )
        self.engine.set_listen_port(7420)


class _LinkSession:
    def __init__(self) -> None:
        self.dialer = _Side(Role.INITIATOR, 0x11, 0x33, 0x55, "Ada", ["Hello, circle!"])
        self.acceptor = _Side(
            Role.RESPONDER, 0x22, 0x44, 0x66, "Ben", ["Hi Ada!", "Shall we meet on Monday?"]
        )
        self.steps: list[dict[str, Any]] = []
        self.queue: deque[tuple[_Side, bytes]] = deque()  # (receiver, frame), in send order
        self.now = 0.0

    def other(self, side: _Side) -> _Side:
        return self.acceptor if side is self.dialer else self.dialer

    def who(self, side: _Side) -> str:
        return "dialer" if side is self.dialer else "acceptor"

    def handshake(self) -> None:
        """Messages 1 to 3; each side is established once it has read or sent the last one."""
        dialer, acceptor = self.dialer, self.acceptor
        message = dialer.channel.start()
        for sender, receiver in ((dialer, acceptor), (acceptor, dialer), (dialer, acceptor)):
            self.steps.append({"from": self.who(sender), "handshake": message.hex()})
            out = [
                e.data for e in receiver.channel.receive(message) if isinstance(e, HandshakeMessage)
            ]
            message = out[0] if out else b""
        assert dialer.channel.remote_identity == acceptor.key.public_key
        assert acceptor.channel.remote_identity == dialer.key.public_key

    def send(self, side: _Side, plaintext: bytes) -> None:
        frame = side.channel.send(plaintext)
        message = wire.decode(plaintext)
        self.steps.append(
            {
                "from": self.who(side),
                "message": type(message).__name__,
                "plaintext": plaintext.hex(),
                "frame": frame.hex(),
            }
        )
        self.queue.append((self.other(side), frame))

    def pump(self, side: _Side) -> None:
        for action in side.engine.actions():
            if isinstance(action, Send):
                self.send(side, action.data)
            elif isinstance(action, SendStored):
                raws = [side.store[i].raw for i in action.ids if i in side.store]
                for frame in wire.events_frames(raws, side.engine.config.max_frame_bytes):
                    self.send(side, frame)
            elif isinstance(action, Verify):
                events = [decode_event(raw) for raw in action.raws]
                new = [e for e in events if e.id not in side.store]
                side.store.update((e.id, e) for e in new)
                self.steps.append({"at": self.who(side), "stored": sorted(e.id.hex() for e in new)})
                side.engine.stored(action.peer, new, self.now)
                self.pump(side)
            elif isinstance(action, Dial | Close):
                raise AssertionError(f"unexpected {action!r} in the link session")

    def run(self) -> list[dict[str, Any]]:
        self.handshake()
        dialer, acceptor = self.dialer, self.acceptor
        acceptor.engine.link_up(
            dialer.key.public_key,
            self.now,
            outbound=False,
            address=wire.PeerAddress(dialer.key.public_key, "192.168.1.20", 7420),
        )
        dialer.engine.link_up(
            acceptor.key.public_key,
            self.now,
            outbound=True,
            address=wire.PeerAddress(acceptor.key.public_key, "192.168.1.21", 7420),
        )
        self.pump(acceptor)
        self.pump(dialer)
        while not self.synced():
            if self.queue:
                receiver, frame = self.queue.popleft()
                (payload,) = receiver.channel.receive(frame)
                assert isinstance(payload, Payload)
                receiver.engine.receive(self.other(receiver).key.public_key, payload.data, self.now)
                self.pump(receiver)
                continue
            self.next_timer()
        return self.steps

    def synced(self) -> bool:
        return not self.queue and self.dialer.store.keys() == self.acceptor.store.keys()

    def next_timer(self) -> None:
        timers = [
            t for t in (s.engine.get_timer() for s in (self.dialer, self.acceptor)) if t is not None
        ]
        if not timers or min(timers) > LINK_END:
            raise AssertionError("the link session did not sync")
        self.now = max(self.now, min(timers))
        for side in (self.dialer, self.acceptor):
            timer = side.engine.get_timer()
            if timer is not None and timer <= self.now:
                side.engine.handle_timer(self.now)
                self.pump(side)


def build_link() -> dict[str, Any]:
    session = _LinkSession()
    steps = session.run()
    sides = {}
    for label, side, host in (
        ("dialer", session.dialer, "192.168.1.20"),
        ("acceptor", session.acceptor, "192.168.1.21"),
    ):
        sides[label] = {
            "identity_seed": _fixed(0x11 if side.role is Role.INITIATOR else 0x22).hex(),
            "identity": side.key.public_key.hex(),
            "static_private": _fixed(0x33 if side.role is Role.INITIATOR else 0x44).hex(),
            "ephemeral_private": _fixed(0x55 if side.role is Role.INITIATOR else 0x66).hex(),
            "info": dict(side.info),
            "host": host,
            "events": sorted(
                e.raw.hex() for e in side.store.values() if e.author == side.key.public_key
            ),
        }
    return {
        "network_id": DEFAULT_NETWORK_ID.hex(),
        "url": "ws://192.168.1.21:7420/peernode/1",
        "sides": sides,
        "steps": steps,
    }


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=1) + "\n"


def main() -> None:
    for name, build in (("reconcile.json", build_reconcile), ("link.json", build_link)):
        (DOCS / name).write_text(render(build()))
        print(f"wrote {name}")


if __name__ == "__main__":
    main()
