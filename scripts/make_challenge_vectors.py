"""Regenerate docs/vectors/challenges.json, the test vectors of docs/protocol-challenges.md.

One valid event per challenge kind, invalid ones naming the rejected field, and badge
proofs: sets of events with the submission they claim a badge for, and what a verifier
must say (the badge, or the code of why not and the codes of the reviews refused).
Run: .venv/bin/python scripts/make_challenge_vectors.py  (the output is deterministic;
tests/protocol/test_kinds_challenges.py checks the file against build()).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from protocol.badge_proof import ProofRefused, verify_proof
from protocol.codec import pack
from protocol.event import SIGNING_CONTEXT, Event, create_event
from protocol.identity import SigningKey

TIME = 1_767_225_600_000  # 2026-01-01T00:00:00Z
CIRCLE = "sql-basics"
OUT = Path(__file__).resolve().parent.parent / "docs" / "vectors" / "challenges.json"
PEOPLE = {"ana": 1, "ben": 2, "cat": 3, "dan": 4, "eve": 5}
"""Who signs, by the byte their seed repeats: ana writes the challenges, ben learns."""


def key(name: str) -> SigningKey:
    return SigningKey.from_seed(bytes([PEOPLE[name]]) * 32)


CRITERIA = [
    {"name": "Correct joins", "meets": "Every query returns the rows the task asks for."},
    {"name": "Explained", "meets": "Each query has a sentence saying why it is written so."},
]


def challenge_body(title: str, **rule: Any) -> dict[str, Any]:
    return {
        "title": title,
        "question": "Which customers never ordered anything?",
        "description": "Find out with joins, on the open sample database.",
        "resources": [{"url": "https://example.org/joins", "title": "Joins, visually"}],
        "files": [bytes(range(32))],
        "tasks": ["Load the sample database.", "Write three queries with joins."],
        "criteria": CRITERIA,
        "badge": {"name": "Join explorer", "description": "Answers questions with joins."},
        **rule,
    }


def review_body(verdict: str) -> dict[str, Any]:
    return {
        "verdict": verdict,
        "meets": [0, 1] if verdict == "approve" else [0],
        "works": "The anti-join is neat.",
        "question": "Why LEFT and not NOT EXISTS?",
        "suggestion": "Name the columns you select.",
    }


def events() -> dict[str, Event]:
    """Every event of the vectors by name, in an order where every ref points backwards."""
    made: dict[str, Event] = {}

    def add(name: str, who: str, kind: str, body: dict[str, Any], **refs: str) -> None:
        made[name] = create_event(
            key(who),
            kind=f"peernode/{kind}@1",
            circle=CIRCLE,
            body=body,
            refs={ref: made[target].id for ref, target in refs.items()},
            created_at=TIME + 60_000 * len(made),
        )

    add("challenge", "ana", "challenge", challenge_body("Joins", reviews=2, reviewers="members"))
    add("challenge-v2", "ana", "challenge", challenge_body("Joins, again"), updates="challenge")
    add("start", "ben", "start", {"message": "I'm on it"}, challenge="challenge")
    add("buddy-ben", "ben", "buddy", {"with": key("cat").public_key}, challenge="challenge")
    add("buddy-cat", "cat", "buddy", {"with": key("ben").public_key}, challenge="challenge")
    add("submission", "ben", "submission", {"text": "# My joins\n..."}, challenge="challenge-v2")
    add("review-cat", "cat", "review", review_body("approve"), submission="submission")
    add("review-dan", "dan", "review", review_body("approve"), submission="submission")
    add("review-ben", "ben", "review", review_body("approve"), submission="submission")
    add("review-cat-again", "cat", "review", review_body("approve"), submission="submission")
    add(
        "revision",
        "ben",
        "submission",
        {"text": "v2"},
        challenge="challenge",
        previous="submission",
    )
    add("challenge-k3", "ana", "challenge", challenge_body("Joins, k=3", reviews=3))
    add("submission-k3", "ben", "submission", {"text": "mine"}, challenge="challenge-k3")
    add("review-k3-cat", "cat", "review", review_body("approve"), submission="submission-k3")
    add("review-k3-dan", "dan", "review", review_body("approve"), submission="submission-k3")
    add("mentored", "ana", "challenge", challenge_body("Mentored", reviews=1, reviewers="holders"))
    add("mentored-ben", "ben", "submission", {"text": "first"}, challenge="mentored")
    add("mentored-ben-ana", "ana", "review", review_body("approve"), submission="mentored-ben")
    add("mentored-dan", "dan", "submission", {"text": "second"}, challenge="mentored")
    add("mentored-dan-ben", "ben", "review", review_body("approve"), submission="mentored-dan")
    add("mentored-eve", "eve", "submission", {"text": "third"}, challenge="mentored")
    add("mentored-eve-cat", "cat", "review", review_body("approve"), submission="mentored-eve")
    return made


BASE = ["challenge", "challenge-v2", "submission"]
MENTORED = ["mentored", "mentored-ben", "mentored-ben-ana"]
PROOFS: list[tuple[str, list[str], str, str, list[str]]] = [
    # (name, events, the submission claimed, the result, the codes of the reviews refused)
    ("valid", [*BASE, "review-cat", "review-dan"], "submission", "earned", []),
    ("valid-mentor", [*MENTORED, "mentored-dan", "mentored-dan-ben"], "mentored-dan", "earned", []),
    (
        "self-review",
        [*BASE, "review-cat", "review-ben"],
        "submission",
        "too-few-approvals",
        ["self-review"],
    ),
    (
        "duplicate-reviewer",
        [*BASE, "review-cat", "review-cat-again"],
        "submission",
        "too-few-approvals",
        ["duplicate-reviewer"],
    ),
    (
        "older-revision",
        [*BASE, "review-cat", "review-dan", "revision"],
        "submission",
        "too-few-approvals",
        ["older-revision", "older-revision"],
    ),
    (
        "not-a-holder",
        ["mentored", "mentored-eve", "mentored-eve-cat"],
        "mentored-eve",
        "too-few-approvals",
        ["not-a-holder"],
    ),
    (
        "mentor-without-proof",
        ["mentored", "mentored-dan", "mentored-dan-ben"],
        "mentored-dan",
        "too-few-approvals",
        ["not-a-holder"],
    ),
    (
        "wrong-k",
        ["challenge-k3", "submission-k3", "review-k3-cat", "review-k3-dan"],
        "submission-k3",
        "too-few-approvals",
        [],
    ),
    (
        "missing-challenge",
        ["challenge-v2", "submission", "review-cat", "review-dan"],
        "submission",
        "missing-challenge",
        [],
    ),
    ("forged", [*BASE, "review-cat", "review-dan"], "submission", "bad-event", []),
]
"""Each proof and what a verifier must find; build() checks protocol.badges agrees."""


def forge(event: Event) -> bytes:
    """The event with one byte of its content changed and its signature kept."""
    raw = bytearray(event.raw)
    at = raw.rindex(b"The anti-join")
    raw[at] ^= 0x20  # "the anti-join": still valid msgpack, no longer what was signed
    return bytes(raw)


def proof_vector(
    made: dict[str, Event], case: tuple[str, list[str], str, str, list[str]]
) -> dict[str, Any]:
    name, names, claimed, result, refused = case
    raws = [made[n].raw for n in names]
    if name == "forged":
        raws[-1] = forge(made[names[-1]])
    vector: dict[str, Any] = {
        "name": name,
        "events": [raw.hex() for raw in raws],
        "submission": made[claimed].id.hex(),
        "result": result,
        "refused": refused,
    }
    try:
        verified = verify_proof(raws, made[claimed].id)
    except ProofRefused as exc:
        codes = [r.code for r in exc.assessment.refused] if exc.assessment else []
        if (exc.code, codes) != (result, refused):
            raise AssertionError(f"{name}: the rule says {exc.code} {codes}") from exc
        return vector if exc.position is None else vector | {"position": exc.position}
    badge = verified.badge
    assert result == "earned", name
    vector |= {
        "holder": badge.holder.hex(),
        "challenge": badge.rule.challenge.hex(),
        "badge": badge.rule.badge_name,
        "earned_at": badge.earned_at,
        "approved_by": [approval.reviewer.hex() for approval in badge.approvals],
    }
    return vector


def invalid_vectors() -> list[dict[str, object]]:
    signer = key("ana")

    def signed(kind: str, body: dict[str, Any], refs: dict[str, bytes] | None = None) -> str:
        content = pack([1, signer.public_key, TIME, f"peernode/{kind}@1", CIRCLE, refs or {}, body])
        return (signer.sign(SIGNING_CONTEXT + content) + content).hex()

    challenge = {"challenge": bytes(32)}
    one_criterion = {**challenge_body("x"), "criteria": CRITERIA[:1]}
    cases = [
        ("challenge-one-criterion", "challenge", one_criterion, None, "body.criteria"),
        (
            "challenge-k-zero",
            "challenge",
            {**challenge_body("x"), "reviews": 0},
            None,
            "body.reviews",
        ),
        (
            "challenge-bad-reviewers",
            "challenge",
            {**challenge_body("x"), "reviewers": "anyone"},
            None,
            "body.reviewers",
        ),
        ("submission-empty", "submission", {"text": " "}, challenge, "body"),
        (
            "review-bad-verdict",
            "review",
            {"verdict": "maybe"},
            {"submission": bytes(32)},
            "body.verdict",
        ),
        (
            "review-criterion-out-of-range",
            "review",
            {"verdict": "approve", "meets": [6]},
            {"submission": bytes(32)},
            "body.meets[0]",
        ),
        ("buddy-without-key", "buddy", {"message": "hi"}, challenge, "body.with"),
    ]
    return [
        {"name": name, "raw": signed(kind, body, refs), "field": field}
        for name, kind, body, refs, field in cases
    ]


def build() -> dict[str, Any]:
    made = events()
    return {
        "circle": CIRCLE,
        "public_keys": {name: key(name).public_key.hex() for name in PEOPLE},
        "valid": [
            {"name": name, "kind": event.kind, "raw": event.raw.hex(), "id": event.id.hex()}
            for name, event in made.items()
        ],
        "invalid": invalid_vectors(),
        "proofs": [proof_vector(made, case) for case in PROOFS],
    }


def render() -> str:
    return json.dumps(build(), indent=2) + "\n"


def main() -> None:
    OUT.write_text(render())
    print(f"wrote {OUT.name}")


if __name__ == "__main__":
    main()
