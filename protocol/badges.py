"""The badge rule: from a set of signed events, who earned which badge, when, approved by whom.

Rules of this file (docs/protocol-challenges.md, "The badge rule"):
- A challenge is its first version (no `updates` ref); a later version counts only when
  its `updates` chain reaches the first one and every link is signed by the same author.
  The badge's identity is the first version's id.
- A submission counts for the challenge version its `challenge` ref names, which must be
  in the set; that version's `reviews` (k) and `reviewers` rule apply. A submission is
  replaced by a revision: a submission of the same author whose `previous` names it.
- Each reviewer's newest review of a submission (by created_at, then id) is their verdict.
  An approval counts when: it is that newest verdict, the reviewer is not the submitter,
  the submission is not replaced, both are in the challenge's circle, and under `holders`
  the reviewer holds the badge (the challenge's author holds it from the start).
- The badge is earned when k distinct reviewers' approvals count; earned_at is the
  created_at of the k-th of them in (created_at, id) order. A learner earns a challenge's
  badge once: by their earliest earning submission.
- Holders are the least fixpoint: only approvals by proven holders make new holders,
  so no ring of learners can approve itself into a badge nobody gave them.
- Pure: the same set of events gives the same badges on every node and in every verifier.
  Times are the authors' claims; nothing here reads a clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Final

from protocol.event import Event
from protocol.kinds.challenges import (
    CHALLENGE,
    DEFAULT_REVIEWERS,
    DEFAULT_REVIEWS,
    REVIEW,
    SUBMISSION,
)

REFUSALS: Final = {
    "self-review": "the submitter reviewed their own work",
    "duplicate-reviewer": "the reviewer reviewed it again, and only their newest review counts",
    "older-revision": "it is a review of a submission that a newer revision replaces",
    "not-a-holder": "the reviewer does not hold the badge, and only holders may approve",
    "revise": "the verdict is revise, not approve",
    "other-circle": "the review is in another circle than the submission",
}
"""Why a review does not count, by code: the codes the test vectors name."""


@dataclass(frozen=True, slots=True)
class Rule:
    """A challenge version's rule: the badge, k and who may approve."""

    challenge: bytes
    """The id of the challenge's first version: the badge's identity."""
    version: bytes
    author: bytes
    circle: str
    badge_name: str
    badge_description: str
    criteria: tuple[str, ...]
    k: int
    reviewers: str


@dataclass(frozen=True, slots=True)
class Approval:
    """A review that counts toward a badge."""

    review: bytes
    reviewer: bytes
    at: int


@dataclass(frozen=True, slots=True)
class Refused:
    """A review of the submission that does not count, and why (a code of REFUSALS)."""

    review: bytes
    reviewer: bytes
    code: str


@dataclass(frozen=True, slots=True)
class Assessment:
    """What the events say of one submission: the approvals that count, and those that do not."""

    submission: bytes
    holder: bytes
    rule: Rule
    approvals: tuple[Approval, ...]
    refused: tuple[Refused, ...]
    replaced: bool = False
    """A revision replaces it: no approval of it counts."""
    depth: int = 0
    """The round of holders it was earned in: its approvers hold from earlier rounds."""

    @property
    def earned(self) -> bool:
        return len(self.approvals) >= self.rule.k

    @property
    def earned_at(self) -> int | None:
        return self.approvals[self.rule.k - 1].at if self.earned else None


@dataclass(frozen=True, slots=True)
class Badge:
    """A badge earned: who, which, when, approved by whom (the first k approvals)."""

    holder: bytes
    rule: Rule
    submission: bytes
    earned_at: int
    approvals: tuple[Approval, ...]
    depth: int = 0


def _order(event: Event) -> tuple[int, bytes]:
    return (event.created_at, event.id)


def rules(events: Iterable[Event]) -> dict[bytes, Rule]:
    """Every challenge version in `events` whose chain reaches its first version, by id."""
    versions = {event.id: event for event in events if event.kind == CHALLENGE}
    found: dict[bytes, Rule] = {}
    for version in versions.values():
        root = _root(version, versions)
        if root is not None:
            found[version.id] = _rule(version, root)
    return found


def _root(version: Event, versions: Mapping[bytes, Event]) -> Event | None:
    """The first version of `version`'s chain, or None if a link is missing or not the author's."""
    seen: set[bytes] = set()
    current = version
    while "updates" in current.refs:
        if current.id in seen:
            return None
        seen.add(current.id)
        earlier = versions.get(current.refs["updates"])
        if earlier is None or earlier.author != version.author or earlier.circle != version.circle:
            return None
        current = earlier
    return current


def _rule(version: Event, root: Event) -> Rule:
    body: Mapping[str, Any] = version.body
    badge: Mapping[str, Any] = body.get("badge") or {}
    return Rule(
        challenge=root.id,
        version=version.id,
        author=root.author,
        circle=version.circle,
        badge_name=str(badge.get("name", "")),
        badge_description=str(badge.get("description") or ""),
        criteria=tuple(str(item.get("name", "")) for item in body.get("criteria") or ()),
        k=int(body.get("reviews") or DEFAULT_REVIEWS),
        reviewers=str(body.get("reviewers") or DEFAULT_REVIEWERS),
    )


def assess_all(events: Iterable[Event]) -> list[Assessment]:
    """Every submission of a known challenge version, assessed against the fixpoint of holders.

    Holders grow in rounds; a submission is settled in the first round it earns, so its
    approvals rely only on holders of earlier rounds (its proof is grounded).
    """
    listed = sorted(events, key=_order)
    known = rules(listed)
    submissions = [
        e
        for e in listed
        if e.kind == SUBMISSION
        and e.refs["challenge"] in known
        and known[e.refs["challenge"]].circle == e.circle
    ]
    replaced = _replaced(submissions, known)
    reviews: dict[bytes, list[Event]] = {}
    for event in listed:
        if event.kind == REVIEW:
            reviews.setdefault(event.refs["submission"], []).append(event)
    holders: dict[bytes, set[bytes]] = {rule.challenge: {rule.author} for rule in known.values()}
    settled: dict[bytes, Assessment] = {}
    latest: dict[bytes, Assessment] = {}
    pending = submissions  # round 0 assesses all; later rounds what new holders approved
    for depth in range(len(submissions) + 1):
        for s in pending:
            rule = known[s.refs["challenge"]]
            latest[s.id] = _assess(s, rule, reviews.get(s.id, []), replaced, holders)
        newly = [replace(latest[s.id], depth=depth) for s in pending if latest[s.id].earned]
        settled.update((a.submission, a) for a in newly)
        grown: dict[bytes, set[bytes]] = {}
        for assessment in newly:
            have = holders[assessment.rule.challenge]
            if assessment.holder not in have:
                grown.setdefault(assessment.rule.challenge, set()).add(assessment.holder)
            have.add(assessment.holder)
        pending = [
            s
            for s in submissions
            if s.id not in settled and _approved_by_new(s, known, reviews, grown)
        ]
        if not pending:
            break
    return [settled.get(s.id) or latest[s.id] for s in submissions]


def _approved_by_new(
    submission: Event,
    known: Mapping[bytes, Rule],
    reviews: Mapping[bytes, list[Event]],
    grown: Mapping[bytes, set[bytes]],
) -> bool:
    """Whether new holders approved this work, under `holders`: only then can it change."""
    rule = known[submission.refs["challenge"]]
    new = grown.get(rule.challenge, set())
    return rule.reviewers == "holders" and any(
        r.author in new and r.body.get("verdict") == "approve"
        for r in reviews.get(submission.id, ())
    )


def _replaced(submissions: list[Event], known: Mapping[bytes, Rule]) -> set[bytes]:
    """Submissions a revision by the same author, for the same challenge, replaces."""
    by_id = {s.id: s for s in submissions}
    replaced = set()
    for revision in submissions:
        earlier = by_id.get(revision.refs.get("previous", b""))
        if (
            earlier is not None
            and earlier.author == revision.author
            and known[earlier.refs["challenge"]].challenge
            == known[revision.refs["challenge"]].challenge
        ):
            replaced.add(earlier.id)
    return replaced


def _assess(
    submission: Event,
    rule: Rule,
    reviews: list[Event],
    replaced: set[bytes],
    holders: Mapping[bytes, set[bytes]],
) -> Assessment:
    """Which reviews of `submission` (oldest first) count toward its badge."""
    newest = {review.author: review for review in reviews}  # oldest first: the last one wins
    is_replaced = submission.id in replaced
    approvals: list[Approval] = []
    refused: list[Refused] = []
    for review in reviews:
        code = _refusal(review, submission, rule, newest, is_replaced, holders[rule.challenge])
        if code is None:
            approvals.append(Approval(review.id, review.author, review.created_at))
        else:
            refused.append(Refused(review.id, review.author, code))
    return Assessment(
        submission=submission.id,
        holder=submission.author,
        rule=rule,
        approvals=tuple(approvals),
        refused=tuple(refused),
        replaced=is_replaced,
    )


def _refusal(
    review: Event,
    submission: Event,
    rule: Rule,
    newest: Mapping[bytes, Event],
    replaced: bool,
    holders: set[bytes],
) -> str | None:
    """The REFUSALS code of why `review` does not count, or None when it does."""
    if review.author == submission.author:
        return "self-review"
    if newest[review.author].id != review.id:
        return "duplicate-reviewer"
    if review.circle != submission.circle:
        return "other-circle"
    if review.body.get("verdict") != "approve":
        return "revise"
    if replaced:
        return "older-revision"
    if rule.reviewers == "holders" and review.author not in holders:
        return "not-a-holder"
    return None


def earned(events: Iterable[Event]) -> list[Badge]:
    """Every badge the events prove: one per (holder, challenge), the earliest, oldest first."""
    first: dict[tuple[bytes, bytes], Badge] = {}
    for assessment in assess_all(events):
        when = assessment.earned_at
        if when is None:
            continue
        badge = Badge(
            holder=assessment.holder,
            rule=assessment.rule,
            submission=assessment.submission,
            earned_at=when,
            approvals=assessment.approvals[: assessment.rule.k],
            depth=assessment.depth,
        )
        key = (badge.holder, badge.rule.challenge)
        if key not in first or _rank(badge) < _rank(first[key]):
            first[key] = badge
    return sorted(first.values(), key=lambda b: (b.earned_at, b.submission))


def _rank(badge: Badge) -> tuple[int, int, bytes]:
    """Of one learner's badges for a challenge, the one that counts: the lowest round, then
    the earliest (so a mentor's proof never leans on a badge that leans back on it)."""
    return (badge.depth, badge.earned_at, badge.submission)


def proof_events(events: Iterable[Event], submission: bytes) -> list[Event]:
    """The events that prove the badge earned by `submission`, oldest first ([] if none).

    The chain of challenge versions, the submission, the counted approvals and, under
    `holders`, the proofs of each approving reviewer's own badge (the author's needs none).
    """
    listed = list(events)
    by_id = {event.id: event for event in listed}
    badges = {badge.submission: badge for badge in earned(listed)}
    held = {(badge.holder, badge.rule.challenge): badge for badge in badges.values()}
    needed: set[bytes] = set()
    pending = [submission] if submission in badges else []
    while pending:
        badge = badges[pending.pop()]
        if badge.submission in needed:
            continue
        needed |= {badge.submission, *(a.review for a in badge.approvals)}
        needed |= _chain(by_id, badge.rule.version)
        if badge.rule.reviewers == "holders":
            for approval in badge.approvals:
                mentor = held.get((approval.reviewer, badge.rule.challenge))
                if mentor is not None and approval.reviewer != badge.rule.author:
                    pending.append(mentor.submission)
    return sorted((by_id[i] for i in needed), key=_order)


def _chain(by_id: Mapping[bytes, Event], version: bytes) -> set[bytes]:
    """A challenge version and every version before it in its `updates` chain."""
    chain = set()
    current: Event | None = by_id.get(version)
    while current is not None and current.id not in chain:
        chain.add(current.id)
        current = by_id.get(current.refs.get("updates", b""))
    return chain
