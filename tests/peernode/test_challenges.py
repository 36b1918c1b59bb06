"""Challenges, peer review and badges through real nodes on real SQLite homes."""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from peernode.challenges.derive import derive_challenges
from peernode.challenges.insights import insights
from peernode.challenges.model import Criterion
from peernode.challenges.portfolio import open_badges, page, verify_file
from peernode.challenges.text import badge_line, challenge_lines, refused_text
from peernode.circles.report import glance
from peernode.circles.text import helper_line
from peernode.errors import BadInput
from peernode.home import Home
from peernode.node import Node, NodeConfig
from protocol import kinds
from protocol.badge_proof import ProofRefused
from protocol.event import Event, create_event
from protocol.identity import SigningKey

CRITERIA = [
    Criterion("Correct", "Every query returns the rows asked for."),
    Criterion("Explained", "One sentence says why each query is so."),
]
NAMES = ("Ana", "Ben", "Cat", "Dan", "Eve")


@pytest.fixture
async def room(tmp_path: Path) -> AsyncIterator[dict[str, Node]]:
    """Five learners' nodes, each on its own home, all members of circle `sql`."""
    async with AsyncExitStack() as stack:
        nodes = {}
        for name in NAMES:
            node = Node(Home(tmp_path / name.lower()), NodeConfig(watch=False))
            nodes[name] = await stack.enter_async_context(node)
            await nodes[name].create_identity(name)
        await nodes["Ana"].circles.create("sql", name="SQL basics")
        await sync_all(nodes)
        for name in NAMES[1:]:
            await nodes[name].circles.join("sql")
        await sync_all(nodes)
        yield nodes


async def sync_all(nodes: dict[str, Node]) -> None:
    """What gossip does, without the network: every node hands every event to every other."""
    for source in nodes.values():
        raws = await source.raw_events([event_id for _, event_id in await source.time_index()])
        for target in nodes.values():
            if target is not source:
                await target.ingest(raws)


async def write_challenge(node: Node, **rule: object) -> bytes:
    event = await node.challenges.create(
        "sql",
        title="Joins",
        question="Which customers never ordered?",
        tasks=["Load the sample database", "Write three joins"],
        criteria=CRITERIA,
        badge="Join explorer",
        **rule,
    )
    return event.id


async def test_a_badge_from_four_nodes_appears_on_all_and_verifies_from_its_file(
    room: dict[str, Node], tmp_path: Path
) -> None:
    ana, ben, cat, dan = (room[name] for name in NAMES[:4])
    challenge = await write_challenge(ana)
    await sync_all(room)
    await ben.challenges.start(challenge)
    file_id = hashlib.sha256(b"queries.sql").digest()  # a file is named by its event's id
    work = await ben.challenges.submit(challenge, text="# My joins", files=[file_id])
    await sync_all(room)
    await cat.challenges.review(work.id, approve=True, works="Clear", suggestion="Alias them")
    assert await dan.challenges.badges() == []
    await sync_all(room)
    await dan.challenges.review(work.id, approve=True, question="Why LEFT?")
    await sync_all(room)

    seen = [await node.challenges.badges() for node in (ana, ben, cat, dan)]
    assert all(found == seen[0] for found in seen)
    (badge,) = seen[0]
    assert (badge.holder, badge.submission) == (ben.public_key, work.id)
    assert [a.reviewer for a in badge.approvals] == [cat.public_key, dan.public_key]
    state = await ana.challenges.get(challenge)
    assert state.cohort == (ben.public_key,)
    assert state.holders == (ben.public_key,)
    assert state.submissions[0].files == (file_id,)
    shown = "\n".join(challenge_lines(state, lambda key: ana.profile_of(key).name))
    assert "Ben (" in shown
    assert "What works: Clear" in shown
    assert "badge earned" in shown
    assert "Ben (" in badge_line(badge, lambda key: ana.profile_of(key).name)

    numbers = dict(glance(await dan.circles.report("sql")))
    assert numbers["Challenges started"] == "1"
    assert numbers["Submissions"] == "1"
    assert numbers["Reviews given"] == "2"
    assert numbers["Submissions that got feedback"] == "1"
    assert numbers["Badges earned"] == "1"
    assert numbers["Median time to feedback"] != "–"

    proof = await ben.challenges.proof(challenge)  # by the challenge: my badge of it
    written = page(work.id, [*proof.events, *proof.profiles])
    verified, name_of = verify_file(written.encode())
    assert verified.badge == badge
    assert name_of(cat.public_key) == "Cat"
    credential = open_badges(work.id, [*proof.events, *proof.profiles])
    assert credential["credentialSubject"]["id"].endswith(ben.public_key.hex())
    again, _ = verify_file(json.dumps(credential).encode())
    assert again.badge == badge


async def test_what_never_counts(room: dict[str, Node]) -> None:
    ana, ben, cat, dan = (room[name] for name in NAMES[:4])
    challenge = await write_challenge(ana)
    await sync_all(room)
    work = await ben.challenges.submit(challenge, text="v1")
    await sync_all(room)
    with pytest.raises(BadInput, match="your own work"):
        await ben.challenges.review(work.id, approve=True)
    # Signed anyway, around the service: the rule still refuses it.
    await ben.publish(
        kinds.REVIEW, circle="sql", body={"verdict": "approve"}, refs={"submission": work.id}
    )
    await cat.challenges.review(work.id, approve=True)
    await cat.challenges.review(work.id, approve=True)  # twice: one reviewer, one approval
    await sync_all(room)
    assert await ana.challenges.badges() == []
    submission = (await ana.challenges.get(challenge)).submissions[0]
    assert submission.approvals == 1
    assert [r.refusal for r in submission.reviews] == ["self-review", "duplicate-reviewer", None]

    await ben.challenges.submit(challenge, text="v2")  # a revision replaces v1
    await sync_all(room)
    with pytest.raises(BadInput, match="newer revision"):
        await dan.challenges.review(work.id, approve=True)
    await dan.publish(
        kinds.REVIEW, circle="sql", body={"verdict": "approve"}, refs={"submission": work.id}
    )
    await sync_all(room)
    assert await ana.challenges.badges() == []
    first, second = (await ana.challenges.get(challenge)).submissions
    assert (first.replaced, second.previous) == (True, first.id)
    assert {r.refusal for r in first.reviews} >= {"older-revision"}


async def test_under_holders_only_the_author_and_holders_approve(room: dict[str, Node]) -> None:
    ana, ben, cat, eve = room["Ana"], room["Ben"], room["Cat"], room["Eve"]
    challenge = await write_challenge(ana, k=1, reviewers="holders")
    await sync_all(room)
    ben_work = await ben.challenges.submit(challenge, text="mine")
    await sync_all(room)
    with pytest.raises(BadInput, match="only holders"):
        await eve.challenges.review(ben_work.id, approve=True)
    await eve.publish(
        kinds.REVIEW, circle="sql", body={"verdict": "approve"}, refs={"submission": ben_work.id}
    )
    await sync_all(room)
    assert await ana.challenges.badges() == []
    await ana.challenges.review(ben_work.id, approve=True)
    await sync_all(room)
    cat_work = await cat.challenges.submit(challenge, text="mine too")
    await sync_all(room)
    await ben.challenges.review(cat_work.id, approve=True)  # ben holds it now: a mentor
    await sync_all(room)
    holders = [badge.holder for badge in await eve.challenges.badges()]
    assert holders == [ben.public_key, cat.public_key]
    assert (await eve.challenges.get(challenge)).mentors() == (ana.public_key, *holders)
    proof = await cat.challenges.proof(cat_work.id)
    assert ben_work.id in {event.id for event in proof.events}  # ben's own proof rides along
    verified, _ = verify_file(page(cat_work.id, proof.events).encode())
    assert verified.badge.holder == cat.public_key


async def test_a_forged_badge_file_fails_with_a_precise_reason(room: dict[str, Node]) -> None:
    ana, ben, cat, dan = (room[name] for name in NAMES[:4])
    challenge = await write_challenge(ana)
    await sync_all(room)
    work = await ben.challenges.submit(challenge, text="mine")
    await sync_all(room)
    await cat.challenges.review(work.id, approve=True, works="Tidy")
    await dan.challenges.review(work.id, approve=True, works="Short")
    await sync_all(room)
    proof = await ben.challenges.proof(work.id)
    written = page(work.id, proof.events)
    approval = next(e for e in proof.events if e.author == dan.public_key)
    at = approval.raw.index(b"Short")
    forged_raw = approval.raw[:at] + b"Lousy" + approval.raw[at + 5 :]
    forged = written.replace(approval.raw.hex(), forged_raw.hex())
    with pytest.raises(ProofRefused) as info:
        verify_file(forged.encode())
    position = [e.id for e in proof.events].index(approval.id)
    assert (info.value.code, info.value.position) == ("bad-event", position)
    said = refused_text(info.value, lambda key: "x")
    assert f"event {position + 1}" in said
    assert "signature" in said


async def test_writing_rules_and_buddies(room: dict[str, Node], tmp_path: Path) -> None:
    ana, ben, cat = room["Ana"], room["Ben"], room["Cat"]
    async with Node(Home(tmp_path / "stranger"), NodeConfig(watch=False)) as stranger:
        await stranger.create_identity("Stranger")
        with pytest.raises(BadInput, match="no circle sql"):
            await write_challenge(stranger)
    challenge = await write_challenge(ana)
    await sync_all(room)
    with pytest.raises(BadInput, match="only its author"):
        await ben.challenges.update(challenge, title="Mine now")
    await ana.challenges.update(challenge, k=3)
    await ben.challenges.start(challenge)
    with pytest.raises(BadInput, match="already"):
        await ben.challenges.start(challenge)
    await cat.challenges.start(challenge)
    await sync_all(room)
    suggested = (await ben.challenges.get(challenge)).suggested_buddies()
    assert suggested == ((ben.public_key, cat.public_key),)
    with pytest.raises(BadInput, match="nobody on this challenge is 'Dan'"):
        await ben.challenges.buddy(challenge, "Dan")
    await ben.challenges.buddy(challenge, "cat")  # by name, as a person says it
    await sync_all(room)
    assert (await cat.challenges.get(challenge)).buddies == ()
    await cat.challenges.buddy(challenge, ben.public_key)
    work = await ben.challenges.submit(challenge, text="mine")
    await sync_all(room)
    with pytest.raises(BadInput, match="every criterion"):
        await cat.challenges.review(work.id, approve=True, meets=[0])
    with pytest.raises(BadInput, match="criteria 1 to 2"):
        await cat.challenges.review(work.id, approve=False, meets=[5])
    state = await ana.challenges.get(challenge)
    assert state.buddies == ((ben.public_key, cat.public_key),)
    assert state.suggested_buddies() == ()
    assert (state.current.k, len(state.versions)) == (3, 2)
    assert state.submissions[0].needed == 3  # the version it answers decides


async def test_holders_are_listed_as_mentors_who_can_help(room: dict[str, Node]) -> None:
    ana, ben, cat, dan = (room[name] for name in NAMES[:4])
    challenge = await write_challenge(ana, k=1)
    await sync_all(room)
    work = await ben.challenges.submit(challenge, text="mine")
    await sync_all(room)
    assert [h.key for h in await dan.circles.who_can_help("sql", "customers")] == []
    await cat.challenges.review(work.id, approve=True)
    await sync_all(room)
    (helper,) = await dan.circles.who_can_help("sql", "customers ordered")
    assert (helper.key, helper.badges) == (ben.public_key, ("Join explorer",))
    assert "holds “Join explorer”" in helper_line(helper)
    assert await ben.circles.who_can_help("sql", "joins", asker=ben.public_key) == []


def test_insights_count_feedback_from_others_only() -> None:
    ana, ben, cat = (SigningKey.from_seed(bytes([n]) * 32) for n in (1, 2, 3))

    def ev(key: SigningKey, kind: str, body: dict[str, object], at: int, **refs: bytes) -> Event:
        return create_event(key, kind=kind, circle="sql", body=body, refs=refs, created_at=at)

    rubric = [c.to_json() for c in CRITERIA]
    on = ev(ana, kinds.CHALLENGE, {"title": "t", "question": "q", "tasks": ["x"],
            "criteria": rubric, "badge": {"name": "B"}, "reviews": 1}, 0)  # fmt: skip
    first = ev(ben, kinds.SUBMISSION, {"text": "a"}, 1_000, challenge=on.id)
    second = ev(cat, kinds.SUBMISSION, {"text": "b"}, 2_000, challenge=on.id)
    events = [
        on,
        ev(ben, kinds.START, {}, 500, challenge=on.id),
        first,
        second,
        ev(ben, kinds.REVIEW, {"verdict": "approve"}, 1_500, submission=first.id),  # self
        ev(cat, kinds.REVIEW, {"verdict": "revise"}, 4_000, submission=first.id),
        ev(ben, kinds.REVIEW, {"verdict": "approve"}, 12_000, submission=second.id),
    ]
    found = insights(derive_challenges("sql", events))
    assert (found.started, found.submissions, found.reviews_given) == (1, 2, 2)
    assert found.submissions_reviewed == 2
    assert found.median_feedback_ms == (3_000 + 10_000) // 2
    assert found.badges == 1


def test_every_order_of_the_same_events_gives_the_same_challenges() -> None:
    ana, ben, cat, dan = (SigningKey.from_seed(bytes([n]) * 32) for n in (1, 2, 3, 4))

    def ev(key: SigningKey, kind: str, body: dict[str, object], at: int, **refs: bytes) -> Event:
        return create_event(key, kind=kind, circle="sql", body=body, refs=refs, created_at=at)

    rubric = [c.to_json() for c in CRITERIA]
    first = ev(ana, kinds.CHALLENGE, {"title": "t", "question": "q", "tasks": ["x"],
               "criteria": rubric, "badge": {"name": "B"}, "reviewers": "holders"}, 0)  # fmt: skip
    second = ev(ana, kinds.CHALLENGE, {**first.body, "reviews": 1}, 1, updates=first.id)
    work = ev(ben, kinds.SUBMISSION, {"text": "a"}, 2, challenge=second.id)
    revision = ev(ben, kinds.SUBMISSION, {"text": "b"}, 3, challenge=second.id, previous=work.id)
    other = ev(dan, kinds.SUBMISSION, {"text": "c"}, 4, challenge=first.id)
    events = [
        first,
        second,
        work,
        revision,
        other,
        ev(ben, kinds.START, {}, 1, challenge=first.id),
        ev(ben, kinds.BUDDY, {"with": cat.public_key}, 2, challenge=first.id),
        ev(cat, kinds.BUDDY, {"with": ben.public_key}, 3, challenge=second.id),
        ev(ana, kinds.REVIEW, {"verdict": "approve"}, 5, submission=revision.id),
        ev(ben, kinds.REVIEW, {"verdict": "approve"}, 6, submission=other.id),
        ev(cat, kinds.REVIEW, {"verdict": "approve"}, 7, submission=other.id),
        ev(ana, kinds.REVIEW, {"verdict": "approve"}, 8, submission=other.id),
    ]
    expected = derive_challenges("sql", events)
    (challenge,) = expected
    assert challenge.holders == (ben.public_key, dan.public_key)
    assert challenge.buddies == ((ben.public_key, cat.public_key),)
    assert [s.replaced for s in challenge.submissions] == [True, False, False]
    for seed in range(5):
        shuffled = events[:]
        random.Random(seed).shuffle(shuffled)
        assert derive_challenges("sql", shuffled) == expected


async def test_challenge_events_are_neither_edited_nor_deleted(room: dict[str, Node]) -> None:
    ana, ben = room["Ana"], room["Ben"]
    challenge = await write_challenge(ana)
    await sync_all(room)
    work = await ben.challenges.submit(challenge, text="mine")
    with pytest.raises(BadInput, match="proof of badges"):
        await ben.delete(work.id)
    with pytest.raises(BadInput, match="submit again, a revision replaces it"):
        await ben.edit(work.id, {"text": "changed"})
