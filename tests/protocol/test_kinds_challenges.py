"""The learning-challenge kinds, the badge rule, proofs, and the published test vectors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from protocol import kinds
from protocol.badge_proof import CODES, MAX_PROOF_EVENTS, ProofRefused, verify_proof
from protocol.badges import REFUSALS, assess_all, earned, proof_events, rules
from protocol.errors import InvalidEvent, LocalProtocolError
from protocol.event import Event, create_event, decode_event
from protocol.identity import SigningKey
from tests.support.scripts import load_script

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT / "docs" / "vectors" / "challenges.json"
ANA, BEN, CAT, DAN, EVE = (SigningKey.from_seed(bytes([n]) * 32) for n in range(1, 6))
CRITERIA = [{"name": "a", "meets": "a done"}, {"name": "b", "meets": "b done"}]


def ev(key: SigningKey, kind: str, body: dict[str, Any], at: int, **refs: Event) -> Event:
    return create_event(
        key,
        kind=kind,
        circle="sql",
        body=body,
        refs={name: target.id for name, target in refs.items()},
        created_at=at,
    )


def challenge(key: SigningKey = ANA, at: int = 1, **body: Any) -> Event:
    fields = {"title": "t", "question": "q?", "tasks": ["do"], "criteria": CRITERIA}
    return ev(key, kinds.CHALLENGE, {**fields, "badge": {"name": "B"}, **body}, at)


def submit(key: SigningKey, on: Event, at: int = 2, **refs: Event) -> Event:
    return ev(key, kinds.SUBMISSION, {"text": "mine"}, at, challenge=on, **refs)


def review(key: SigningKey, of: Event, at: int, verdict: str = "approve") -> Event:
    return ev(key, kinds.REVIEW, {"verdict": verdict}, at, submission=of)


# -- kinds ----------------------------------------------------------------------------------


def test_a_full_challenge_round_trips() -> None:
    made = challenge(reviews=3, reviewers="holders", files=[bytes(32)], description="d")
    assert decode_event(made.raw).body["reviews"] == 3


@pytest.mark.parametrize(
    ("kind", "body", "refs", "field"),
    [
        (kinds.CHALLENGE, {"title": "t", "question": "q"}, {}, "body.tasks"),
        (kinds.CHALLENGE, {"title": "t", "question": "q", "tasks": [""]}, {}, "body.tasks[0]"),
        (kinds.SUBMISSION, {"files": [b"short"]}, {"challenge": bytes(32)}, "body.files[0]"),
        (kinds.SUBMISSION, {"text": "x"}, {}, "refs.challenge"),
        (
            kinds.REVIEW,
            {"verdict": "approve", "meets": "all"},
            {"submission": bytes(32)},
            "body.meets",
        ),
        (kinds.START, {}, {"submission": bytes(32)}, "refs.submission"),
    ],
)
def test_broken_events_name_the_field(
    kind: str, body: dict[str, Any], refs: dict[str, bytes], field: str
) -> None:
    with pytest.raises(LocalProtocolError, match=field.replace("[", r"\[").replace("]", r"\]")):
        create_event(ANA, kind=kind, circle="sql", body=body, refs=refs, created_at=1)


def test_a_submission_of_files_alone_is_work() -> None:
    on = challenge()
    made = ev(BEN, kinds.SUBMISSION, {"files": [bytes(32)]}, 2, challenge=on)
    assert made.body["files"] == [bytes(32)]


# -- the badge rule -------------------------------------------------------------------------


def test_k_distinct_approvals_earn_the_badge_at_the_kth() -> None:
    on = challenge()
    work = submit(BEN, on)
    found = earned([on, work, review(CAT, work, 5), review(DAN, work, 9)])
    assert [(b.holder, b.earned_at, b.rule.badge_name) for b in found] == [(BEN.public_key, 9, "B")]
    assert [a.reviewer for a in found[0].approvals] == [CAT.public_key, DAN.public_key]


def test_the_newest_verdict_of_a_reviewer_counts() -> None:
    on = challenge()
    work = submit(BEN, on)
    approve_then_revise = [review(CAT, work, 3), review(CAT, work, 4, "revise")]
    assert earned([on, work, *approve_then_revise, review(DAN, work, 5)]) == []
    revise_then_approve = [review(CAT, work, 3, "revise"), review(CAT, work, 4)]
    assert len(earned([on, work, *revise_then_approve, review(DAN, work, 5)])) == 1


def test_a_version_by_someone_else_is_not_the_challenge() -> None:
    first = challenge()
    lowered = challenge(BEN, at=2, reviews=1)  # a challenge of his own: fine
    hijack = ev(BEN, kinds.CHALLENGE, {**first.body, "reviews": 1}, 3, updates=first)
    assert set(rules([first, lowered, hijack])) == {first.id, lowered.id}
    work = submit(BEN, hijack, at=4)
    assert earned([first, hijack, work, review(CAT, work, 5)]) == []


def test_the_rule_of_the_version_named_applies() -> None:
    first = challenge(reviews=1)
    second = ev(ANA, kinds.CHALLENGE, {**first.body, "reviews": 2}, 2, updates=first)
    on_first, on_second = submit(BEN, first, at=3), submit(CAT, second, at=4)
    found = earned(
        [first, second, on_first, on_second, review(DAN, on_first, 5), review(DAN, on_second, 6)]
    )
    assert [(b.holder, b.rule.challenge) for b in found] == [(BEN.public_key, first.id)]


def test_holders_are_a_least_fixpoint_no_ring_approves_itself() -> None:
    on = challenge(reviews=1, reviewers="holders")
    ben, cat = submit(BEN, on, at=2), submit(CAT, on, at=3)
    ring = [on, ben, cat, review(CAT, ben, 4), review(BEN, cat, 5)]
    assert earned(ring) == []
    grounded = [*ring, review(ANA, ben, 6)]
    assert {b.holder for b in earned(grounded)} == {BEN.public_key, CAT.public_key}


def test_a_mentor_proof_is_grounded_and_verifies_alone() -> None:
    on = challenge(reviews=1, reviewers="holders")
    ben, cat = submit(BEN, on, at=2), submit(CAT, on, at=3)
    # cat's approval of ben comes first, but cat holds only thanks to ben: the proof of
    # ben's badge must rest on ana's approval, not on cat's.
    everything = [on, ben, cat, review(CAT, ben, 4), review(ANA, ben, 5), review(BEN, cat, 6)]
    for badge in earned(everything):
        proof = proof_events(everything, badge.submission)
        assert verify_proof([e.raw for e in proof], badge.submission).badge.holder == badge.holder
    cat_proof = proof_events(everything, cat.id)
    assert ben.id in {e.id for e in cat_proof}


def test_a_badge_is_earned_once_per_learner() -> None:
    on = challenge(reviews=1)
    one, two = submit(BEN, on, at=2), submit(BEN, on, at=3)
    found = earned([on, one, two, review(CAT, two, 4), review(CAT, one, 5)])
    assert [b.submission for b in found] == [two.id]


def test_every_refusal_code_is_explained() -> None:
    on = challenge()
    work = submit(BEN, on)
    codes = {r.code for a in assess_all([on, work, review(BEN, work, 3)]) for r in a.refused}
    assert codes == {"self-review"}
    assert codes <= set(REFUSALS)


# -- proofs ---------------------------------------------------------------------------------


def test_a_proof_with_too_many_events_is_refused_before_decoding() -> None:
    with pytest.raises(ProofRefused) as info:
        verify_proof([b"x"] * (MAX_PROOF_EVENTS + 1), bytes(32))
    assert info.value.code == "too-many-events"


def test_a_proof_naming_a_review_is_missing_its_submission() -> None:
    on = challenge()
    work = submit(BEN, on)
    approval = review(CAT, work, 3)
    with pytest.raises(ProofRefused) as info:
        verify_proof([on.raw, work.raw, approval.raw], approval.id)
    assert info.value.code == "missing-submission"


def test_a_proof_with_an_event_twice_is_refused() -> None:
    on = challenge()
    with pytest.raises(ProofRefused) as info:
        verify_proof([on.raw, on.raw], on.id)
    assert (info.value.code, info.value.position) == ("duplicate-event", 1)


# -- vectors --------------------------------------------------------------------------------


def test_vectors_file_is_what_the_generator_makes() -> None:
    generated = load_script("make_challenge_vectors").render()
    assert VECTORS.read_text() == generated, "run scripts/make_challenge_vectors.py"


def test_vectors_decode_and_cover_every_kind() -> None:
    document = json.loads(VECTORS.read_text())
    seen = set()
    for vector in document["valid"]:
        event = decode_event(bytes.fromhex(vector["raw"]))
        assert event.id.hex() == vector["id"]
        seen.add(event.kind)
    assert seen == set(kinds.CHALLENGE_KINDS)
    for vector in document["invalid"]:
        with pytest.raises(InvalidEvent) as info:
            decode_event(bytes.fromhex(vector["raw"]))
        assert info.value.field == vector["field"], vector["name"]


EXPECTED = {
    "valid": ("earned", []),
    "valid-mentor": ("earned", []),
    "self-review": ("too-few-approvals", ["self-review"]),
    "duplicate-reviewer": ("too-few-approvals", ["duplicate-reviewer"]),
    "older-revision": ("too-few-approvals", ["older-revision", "older-revision"]),
    "not-a-holder": ("too-few-approvals", ["not-a-holder"]),
    "mentor-without-proof": ("too-few-approvals", ["not-a-holder"]),
    "wrong-k": ("too-few-approvals", []),
    "missing-challenge": ("missing-challenge", []),
    "forged": ("bad-event", []),
}
"""What each proof must give, written here apart from the generator that checks it too."""


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_proof_vectors(name: str) -> None:
    document = json.loads(VECTORS.read_text())
    vector = next(v for v in document["proofs"] if v["name"] == name)
    assert (vector["result"], vector["refused"]) == EXPECTED[name]
    raws = [bytes.fromhex(raw) for raw in vector["events"]]
    submission = bytes.fromhex(vector["submission"])
    if vector["result"] != "earned":
        with pytest.raises(ProofRefused) as info:
            verify_proof(raws, submission)
        assert info.value.code == vector["result"] in CODES
        refused = info.value.assessment.refused if info.value.assessment else ()
        assert [r.code for r in refused] == vector["refused"]
        return
    badge = verify_proof(raws, submission).badge
    assert badge.holder.hex() == vector["holder"]
    assert badge.earned_at == vector["earned_at"]
    assert [a.reviewer.hex() for a in badge.approvals] == vector["approved_by"]


def test_the_spec_lists_the_vectors_and_the_codes() -> None:
    document = json.loads(VECTORS.read_text())
    spec = (ROOT / "docs" / "protocol-challenges.md").read_text()
    for vector in document["valid"]:
        assert f"| {vector['name']} | `{vector['id']}` |" in spec
    for vector in document["invalid"]:
        assert f"(`{vector['field']}`)" in spec
    for code in [*CODES, *REFUSALS]:
        assert f"`{code}`" in spec


def test_a_holder_by_a_members_version_may_approve_under_a_holders_version() -> None:
    first = challenge(reviews=1)  # members
    second = ev(ANA, kinds.CHALLENGE, {**first.body, "reviewers": "holders"}, 2, updates=first)
    ben_work, dan_work = submit(BEN, first, at=3), submit(DAN, second, at=4)
    # Dan's approval by Ben comes first in time; Ben holds the badge only by Cat's approval.
    found = earned(
        [first, second, ben_work, dan_work, review(BEN, dan_work, 5), review(CAT, ben_work, 6)]
    )
    assert {b.holder: b.depth for b in found} == {BEN.public_key: 0, DAN.public_key: 1}


def test_many_submissions_are_assessed_in_few_rounds() -> None:
    on = challenge(reviews=1, reviewers="holders")
    works = [submit(BEN if n % 2 else CAT, on, at=n + 2) for n in range(200)]
    reviews = [review(ANA, work, 300 + n) for n, work in enumerate(works)]
    found = earned([on, *works, *reviews])
    assert {b.holder for b in found} == {BEN.public_key, CAT.public_key}
