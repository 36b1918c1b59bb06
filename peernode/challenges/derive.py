"""A circle's challenges, folded from their signed events: pure functions, no I/O.

Rules of this file:
- What counts (versions, approvals, badges) is protocol.badges' rule, computed from the
  set of events: two nodes holding the same events derive the same challenges.
- Challenge events are never edited or deleted: a challenge changes by a new version, work
  by a revision, a verdict by a newer review. Edits and deletes of them are ignored.
- Lists are in (created_at, id) order, the authors' claims.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from peernode.challenges.model import Challenge, ChallengeVersion, Criterion, Review, Submission
from peernode.circles.derive import order
from peernode.circles.model import ResourceLink
from peernode.circles.versions import current_version
from protocol import badges, kinds
from protocol.event import Event


def derive_challenges(circle: str, events: Iterable[Event]) -> list[Challenge]:
    """The challenges of `circle` from any set of events (others are ignored), oldest first."""
    listed = sorted((e for e in events if e.circle == circle), key=order)
    known = badges.rules(listed)
    assessed = {a.submission: a for a in badges.assess_all(listed)}
    earned = badges.earned(listed)
    index = {event.id: event for event in listed}
    roots = sorted({rule.challenge for rule in known.values()}, key=lambda i: order(index[i]))
    found = []
    for root in roots:
        version_ids = {vid for vid, rule in known.items() if rule.challenge == root}
        versions = tuple(_version(e) for e in listed if e.id in version_ids)
        current = current_version(versions)
        assert current is not None  # the first version is always there
        about = [e for e in listed if e.refs.get("challenge") in version_ids]
        found.append(
            Challenge(
                id=root,
                circle=circle,
                author=versions[0].author,
                versions=versions,
                current=current,
                cohort=_first_seen(e.author for e in about if e.kind == kinds.START),
                buddies=_pairs([e for e in about if e.kind == kinds.BUDDY]),
                submissions=tuple(
                    _submission(e, listed, assessed[e.id])
                    for e in about
                    if e.kind == kinds.SUBMISSION and e.id in assessed
                ),
                holders=tuple(b.holder for b in earned if b.rule.challenge == root),
            )
        )
    return found


def _version(event: Event) -> ChallengeVersion:
    body: Mapping[str, Any] = event.body
    badge: Mapping[str, Any] = body.get("badge") or {}
    return ChallengeVersion(
        id=event.id,
        author=event.author,
        created_at=event.created_at,
        updates=event.refs.get("updates"),
        title=body["title"],
        question=body["question"],
        tasks=tuple(body["tasks"]),
        criteria=tuple(Criterion(c["name"], c["meets"]) for c in body["criteria"]),
        badge_name=badge["name"],
        badge_description=badge.get("description") or "",
        badge_image=badge.get("image"),
        k=body.get("reviews") or kinds.challenges.DEFAULT_REVIEWS,
        reviewers=body.get("reviewers") or kinds.challenges.DEFAULT_REVIEWERS,
        description=body.get("description") or "",
        resources=tuple(
            ResourceLink(r["url"], r.get("title") or "", r.get("licence") or "")
            for r in body.get("resources") or ()
        ),
        files=tuple(body.get("files") or ()),
        forked_from=event.refs.get("forked_from"),
    )


def _first_seen(keys: Iterable[bytes]) -> tuple[bytes, ...]:
    return tuple(dict.fromkeys(keys))


def _pairs(asks: list[Event]) -> tuple[tuple[bytes, bytes], ...]:
    """Learners who asked each other, in the order the second of them asked."""
    asked = set()
    pairs = []
    for event in asks:
        other = event.body["with"]
        if (other, event.author) in asked and (event.author, other) not in asked:
            pairs.append((other, event.author))
        asked.add((event.author, other))
    return tuple(pairs)


def _submission(event: Event, listed: list[Event], assessment: badges.Assessment) -> Submission:
    refused = {r.review: r.code for r in assessment.refused}
    reviews = tuple(
        _review(e, refused.get(e.id))
        for e in listed
        if e.kind == kinds.REVIEW and e.refs.get("submission") == event.id
    )
    return Submission(
        id=event.id,
        author=event.author,
        created_at=event.created_at,
        version=event.refs["challenge"],
        text=event.body.get("text") or "",
        files=tuple(event.body.get("files") or ()),
        previous=event.refs.get("previous"),
        replaced=assessment.replaced,
        reviews=reviews,
        approvals=len(assessment.approvals),
        needed=assessment.rule.k,
        earned=assessment.earned,
    )


def _review(event: Event, refusal: str | None) -> Review:
    body: Mapping[str, Any] = event.body
    return Review(
        id=event.id,
        reviewer=event.author,
        created_at=event.created_at,
        verdict=body["verdict"],
        meets=frozenset(body.get("meets") or ()),
        works=body.get("works") or "",
        question=body.get("question") or "",
        suggestion=body.get("suggestion") or "",
        note=body.get("note") or "",
        refusal=refusal,
    )
