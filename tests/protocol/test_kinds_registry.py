"""The registry of kinds: lookups by name, and unknown kinds pass whole."""

from __future__ import annotations

from typing import Any

import msgpack
import pytest

from protocol import kinds
from protocol.codec import pack
from protocol.event import SIGNING_CONTEXT, decode_event
from protocol.identity import SigningKey

KEY = SigningKey.from_seed(b"\x05" * 32)
ID = b"\x06" * 32


def remote(kind: str, circle: str, body: Any, refs: Any = None) -> bytes:
    """Signed bytes as another client might send them, bypassing create_event's checks."""
    content = pack([1, KEY.public_key, 1_000, kind, circle, refs or {}, body])
    return KEY.sign(SIGNING_CONTEXT + content) + content


UNKNOWN = [
    ("unknown kind, no circle", remote("chess.club/move@2", "", {"move": "e4"})),
    ("unknown kind, any refs", remote("x/y@1", "c", {}, {"game": ID, "prev": ID})),
    ("unknown kind, odd body", remote("x/y@999999", "", {"": [1, {"a": None}], "b": 1.5})),
    ("newer note version", remote("peernode/note@2", "", {"title": 1})),
]


@pytest.mark.parametrize(("label", "raw"), UNKNOWN, ids=[case[0] for case in UNKNOWN])
def test_unknown_kinds_are_accepted_and_kept_whole(label: str, raw: bytes) -> None:
    event = decode_event(raw)
    assert event.raw == raw
    fields: list[Any] = msgpack.unpackb(raw[64:], raw=False)
    assert dict(event.body) == fields[6]


def test_registry() -> None:
    names = [spec.name for spec in kinds.known_kinds()]
    assert names == sorted(names)
    assert {kinds.NOTE, kinds.PROFILE} <= set(names)
    assert kinds.is_known(kinds.NOTE)
    assert not kinds.is_known("peernode/note@2")
    note_spec = kinds.spec_of(kinds.NOTE)
    assert note_spec is not None
    assert note_spec.needs_circle
    assert note_spec.refs == frozenset({"reply_to"})
    profile_spec = kinds.spec_of(kinds.PROFILE)
    assert profile_spec is not None
    assert not profile_spec.needs_circle
    assert profile_spec.refs == frozenset()
    assert kinds.spec_of("x/y@1") is None
    with pytest.raises(ValueError, match="twice"):
        kinds.register(note_spec)


def test_known_kind_flag() -> None:
    assert decode_event(remote(kinds.NOTE, "lobby", {"text": "x"})).known_kind
    assert not decode_event(remote("x/y@1", "", {})).known_kind
