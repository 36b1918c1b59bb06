"""Regenerate docs/vectors/circles.json, the test vectors of docs/protocol-circles.md.

One valid event per study-circle kind, plus invalid ones naming the rejected field.
Run: .venv/bin/python scripts/make_circle_vectors.py  (the output is deterministic;
tests/protocol/test_kinds_circles.py checks the file against build()).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from protocol.codec import pack
from protocol.event import SIGNING_CONTEXT, Event, create_event
from protocol.identity import SigningKey

SEED = bytes(range(32))
TIME = 1_767_225_600_000  # 2026-01-01T00:00:00Z
CIRCLE = "sql-basics"
OUT = Path(__file__).resolve().parent.parent / "docs" / "vectors" / "circles.json"


def valid_events(key: SigningKey) -> list[tuple[str, Event]]:
    """(name, event) for each kind, in an order where every ref points backwards."""
    made: dict[str, Event] = {}

    def add(name: str, kind: str, body: dict[str, Any], refs: dict[str, str] | None = None) -> None:
        made[name] = create_event(
            key,
            kind=f"peernode/{kind}@1",
            circle=CIRCLE,
            body=body,
            refs={ref: made[target].id for ref, target in (refs or {}).items()},
            created_at=TIME + len(made),
        )

    add(
        "circle",
        "circle",
        {
            "name": "SQL basics",
            "topic": "databases",
            "description": "Six evenings with an open course.",
            "resources": [
                {
                    "url": "https://example.org/sql-course",
                    "title": "Open SQL course",
                    "licence": "CC-BY-4.0",
                }
            ],
            "rhythm": {"cadence": "weekly", "duration_minutes": 120, "weeks": 6},
            "language": "en",
        },
    )
    add("join", "join", {"message": "Hi all!"})
    add("leave", "leave", {"message": "Moving away, thanks!"})
    add(
        "resource",
        "resource",
        {
            "url": "https://example.org/joins.pdf",
            "title": "Joins cheat sheet",
            "description": "One page.",
            "tags": ["sql", "joins"],
            "licence": "CC0-1.0",
        },
    )
    add(
        "meeting",
        "meeting",
        {
            "starts_at": TIME + 7 * 24 * 3600 * 1000,
            "duration_minutes": 120,
            "place": "Library, room 2",
            "facilitator": key.public_key,
            "agenda": {
                "checkin": "How are you?",
                "coursework": "Chapter 2",
                "activity": {"title": "Join puzzles", "minutes": 20},
                "plusdelta": "One plus, one delta",
            },
        },
    )
    add("rsvp", "rsvp", {"answer": "yes"}, {"meeting": "meeting"})
    add("attendance", "attendance", {}, {"meeting": "meeting"})
    add(
        "checkin",
        "checkin",
        {"feeling": "tired", "working_on": "joins", "need_help": "outer joins"},
        {"meeting": "meeting"},
    )
    add(
        "plusdelta",
        "plusdelta",
        {"plus": "the puzzles", "delta": "start on time"},
        {"meeting": "meeting"},
    )
    add(
        "question",
        "question",
        {"title": "LEFT or RIGHT join?", "text": "When would I use each?", "tags": ["joins"]},
    )
    add(
        "answer",
        "answer",
        {"text": "Use LEFT; RIGHT is the same, mirrored."},
        {"question": "question"},
    )
    add("resolved", "resolved", {"note": "Thanks!"}, {"question": "question", "answer": "answer"})
    add("edit", "edit", {"title": "LEFT or RIGHT outer join?"}, {"target": "question"})
    add("delete", "delete", {"reason": "posted twice"}, {"target": "resource"})
    return list(made.items())


def invalid_vectors(key: SigningKey) -> list[dict[str, object]]:
    def signed(kind: str, body: dict[str, Any], refs: dict[str, bytes] | None = None) -> str:
        content = pack([1, key.public_key, TIME, f"peernode/{kind}@1", CIRCLE, refs or {}, body])
        return (key.sign(SIGNING_CONTEXT + content) + content).hex()

    meeting = {"meeting": bytes(32)}
    agenda = {"activity": {"title": "x", "minutes": 181}}
    link = {"url": "https://e.org", "title": "x"}
    cases = [
        ("circle-bad-cadence", "circle", {"name": "x", "rhythm": {"cadence": "daily"}}, None),
        ("resource-url-without-scheme", "resource", {"url": "example.org", "title": "x"}, None),
        ("resource-tag-too-long", "resource", {**link, "tags": ["t" * 33]}, None),
        ("meeting-activity-too-long", "meeting", {"starts_at": TIME, "agenda": agenda}, None),
        ("rsvp-bad-answer", "rsvp", {"answer": "perhaps"}, meeting),
        ("checkin-empty", "checkin", {}, meeting),
        ("answer-with-target-ref", "answer", {"text": "x"}, {"target": bytes(32)}),
    ]
    fields = [
        "body.rhythm.cadence",
        "body.url",
        "body.tags[0]",
        "body.agenda.activity.minutes",
        "body.answer",
        "body",
        "refs.target",
    ]
    return [
        {"name": name, "raw": signed(kind, body, refs), "field": field}
        for (name, kind, body, refs), field in zip(cases, fields, strict=True)
    ]


OTHER_SEED = bytes(range(32, 64))
LAST_MS = 2**53 - 1  # the latest created_at an event may claim


def version_vectors(key: SigningKey) -> dict[str, Any]:
    """Circle versions and, for sets of them, which is current and who the creator is
    (docs/protocol-circles.md, rule 3): the `updates` chain decides, not the times."""
    other = SigningKey.from_seed(OTHER_SEED)
    made: dict[str, Event] = {}

    def version(name: str, signer: SigningKey, at: int, updates: str | None = None) -> None:
        made[name] = create_event(
            signer,
            kind="peernode/circle@1",
            circle=CIRCLE,
            body={"name": name},
            refs={"updates": made[updates].id} if updates else None,
            created_at=at,
        )

    version("created", key, TIME)
    version("backdated", other, 0)
    version("future", other, LAST_MS, updates="created")
    version("fixed", key, TIME + 1, updates="future")
    version("concurrent", other, TIME + 2, updates="created")
    scenarios = [
        (["created", "backdated"], "created"),
        (["created", "future"], "future"),
        (["created", "backdated", "future", "fixed"], "fixed"),
        (["created", "future", "fixed", "concurrent"], "concurrent"),
    ]
    return {
        "other_public_key": other.public_key.hex(),
        "events": [
            {"name": name, "raw": event.raw.hex(), "id": event.id.hex()}
            for name, event in made.items()
        ],
        "scenarios": [
            {"events": names, "current": current, "creator": key.public_key.hex()}
            for names, current in scenarios
        ],
    }


def build() -> dict[str, Any]:
    key = SigningKey.from_seed(SEED)
    return {
        "seed": SEED.hex(),
        "public_key": key.public_key.hex(),
        "circle": CIRCLE,
        "valid": [
            {
                "name": name,
                "kind": event.kind,
                "raw": event.raw.hex(),
                "id": event.id.hex(),
            }
            for name, event in valid_events(key)
        ],
        "invalid": invalid_vectors(key),
        "versions": version_vectors(key),
    }


def render() -> str:
    return json.dumps(build(), indent=2) + "\n"


def main() -> None:
    OUT.write_text(render())
    print(f"wrote {OUT.name}")


if __name__ == "__main__":
    main()
