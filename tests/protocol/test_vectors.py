"""The published test vectors (docs/vectors/events.json) against this implementation."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from protocol.codec import unpack
from protocol.errors import InvalidEvent, RemoteProtocolError
from protocol.event import SIGNING_CONTEXT, create_event, decode_event
from protocol.identity import SigningKey, fingerprint, verify_signature
from protocol.limits import MAX_EVENT_BYTES

VECTORS_PATH = Path(__file__).resolve().parents[2] / "docs" / "vectors" / "events.json"
VECTORS: dict[str, Any] = json.loads(VECTORS_PATH.read_text(encoding="utf-8"))
KEY = SigningKey.from_seed(bytes.fromhex(VECTORS["seed"]))


def by_name(group: str) -> dict[str, dict[str, Any]]:
    return {vector["name"]: vector for vector in VECTORS[group]}


VALID = by_name("valid")
INVALID = by_name("invalid")


def test_key_and_context() -> None:
    assert KEY.public_key.hex() == VECTORS["public_key"]
    assert SIGNING_CONTEXT.hex() == VECTORS["signing_context"]
    assert len(VALID) >= 4
    assert len(INVALID) >= 4


@pytest.mark.parametrize("name", sorted(VALID))
def test_valid_vector(name: str) -> None:
    vector = VALID[name]
    content = bytes.fromhex(vector["content"])
    signature = bytes.fromhex(vector["signature"])
    raw = bytes.fromhex(vector["raw"])

    assert raw == signature + content
    assert hashlib.sha256(content).hexdigest() == vector["id"]
    assert verify_signature(KEY.public_key, signature, SIGNING_CONTEXT + content)

    event = decode_event(raw)

    assert event.id.hex() == vector["id"]
    assert event.author == KEY.public_key
    assert event.raw == raw

    # Signing the same fields with the seed reproduces the vector byte for byte.
    _, _, created_at, kind, circle, refs, body = unpack(content, max_bytes=MAX_EVENT_BYTES)
    again = create_event(KEY, kind=kind, circle=circle, refs=refs, body=body, created_at=created_at)
    assert again.raw.hex() == vector["raw"]


@pytest.mark.parametrize("name", sorted(INVALID))
def test_invalid_vector(name: str) -> None:
    vector = INVALID[name]

    with pytest.raises(RemoteProtocolError) as info:
        decode_event(bytes.fromhex(vector["raw"]))

    if "field" in vector:
        assert isinstance(info.value, InvalidEvent)
        assert info.value.field == vector["field"]


PROTOCOL_MD = (Path(__file__).resolve().parents[2] / "docs" / "protocol.md").read_text()


def test_the_byte_counts_written_in_the_spec_are_those_of_the_vector() -> None:
    note = VALID["note"]
    content = bytes.fromhex(note["content"])
    assert f"content ({len(content)} bytes):\n  `{note['content']}`" in PROTOCOL_MD


def test_the_fingerprint_vector_of_the_spec() -> None:
    key = bytes.fromhex(VECTORS["public_key"])
    digest = hashlib.sha256(key).hexdigest()
    row = f"| `{key.hex()}` | `{digest}` | `{fingerprint(key)}` | `{fingerprint(key)[:9]}` |"
    assert row in PROTOCOL_MD
    assert fingerprint(key) == "kzdv-vj2u-mndu-yauf"
