"""Regenerate docs/vectors/events.json, the event test vectors of docs/protocol.md.

Run: .venv/bin/python scripts/make_vectors.py  (the output is deterministic).
"""

from __future__ import annotations

import json
from pathlib import Path

from protocol.codec import pack
from protocol.event import SIGNING_CONTEXT, create_event
from protocol.identity import SigningKey

SEED = bytes(range(32))
TIME = 1_767_225_600_000  # 2026-01-01T00:00:00Z


def valid_vectors(key: SigningKey) -> list[dict[str, object]]:
    note = create_event(
        key,
        kind="peernode/note@1",
        circle="lobby",
        body={"text": "Hello, circle!"},
        created_at=TIME,
    )
    cases = [
        ("note", note),
        (
            "profile",
            create_event(
                key,
                kind="peernode/profile@1",
                circle="",
                body={"name": "Ada", "learning": "SQL", "can_help": "Python"},
                created_at=TIME + 1,
            ),
        ),
        (
            "reply",
            create_event(
                key,
                kind="peernode/note@1",
                circle="lobby",
                body={"text": "Welcome!"},
                refs={"reply_to": note.id},
                created_at=TIME + 2,
            ),
        ),
        (
            "unknown-kind",
            create_event(
                key,
                kind="example.org/poll@1",
                circle="lobby",
                body={"question": "Tea or coffee?", "options": ["tea", "coffee"]},
                created_at=TIME + 3,
            ),
        ),
    ]
    return [
        {
            "name": name,
            "content": event.raw[64:].hex(),
            "signature": event.signature.hex(),
            "raw": event.raw.hex(),
            "id": event.id.hex(),
        }
        for name, event in cases
    ]


def invalid_vectors(key: SigningKey) -> list[dict[str, object]]:
    good = create_event(
        key,
        kind="peernode/note@1",
        circle="lobby",
        body={"text": "Hello, circle!"},
        created_at=TIME,
    )
    flipped = bytearray(good.raw)
    flipped[70] ^= 0x01

    def signed(fields: list[object]) -> bytes:
        content = pack(fields)
        return key.sign(SIGNING_CONTEXT + content) + content

    author = key.public_key
    return [
        {"name": "bit-flip-in-content", "raw": bytes(flipped).hex(), "field": "signature"},
        {
            "name": "version-2",
            "raw": signed([2, author, TIME, "peernode/note@1", "lobby", {}, {"text": "x"}]).hex(),
            "field": "version",
        },
        {
            "name": "circle-uppercase",
            "raw": signed([1, author, TIME, "peernode/note@1", "Lobby", {}, {"text": "x"}]).hex(),
            "field": "circle",
        },
        {
            "name": "note-without-text",
            "raw": signed([1, author, TIME, "peernode/note@1", "lobby", {}, {}]).hex(),
            "field": "body.text",
        },
    ]


def main() -> None:
    key = SigningKey.from_seed(SEED)
    document = {
        "seed": SEED.hex(),
        "public_key": key.public_key.hex(),
        "signing_context": SIGNING_CONTEXT.hex(),
        "valid": valid_vectors(key),
        "invalid": invalid_vectors(key),
    }
    out = Path(__file__).resolve().parent.parent / "docs" / "vectors" / "events.json"
    out.write_text(json.dumps(document, indent=2) + "\n")
    print(f"wrote {out.name}")


if __name__ == "__main__":
    main()
