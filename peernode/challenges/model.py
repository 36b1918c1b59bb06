"""A learning challenge's value types: frozen data derived from its events, with its JSON.

peernode.challenges.derive computes them from events (the badge rule itself is
protocol.badges), peernode.challenges.text writes them for people. Times are ms since
the Unix epoch, as the authors claim them; keys and ids are bytes (hex only in JSON).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from peernode.circles.bodies import compact
from peernode.circles.model import ResourceLink
from protocol.badges import Badge
from protocol.kinds import challenges as challenge_kinds

MIN_CRITERIA: Final = challenge_kinds.MIN_CRITERIA
MAX_CRITERIA: Final = challenge_kinds.MAX_CRITERIA
MAX_TASKS: Final = challenge_kinds.MAX_TASKS
DEFAULT_REVIEWS: Final = challenge_kinds.DEFAULT_REVIEWS
MAX_REVIEWS: Final = challenge_kinds.MAX_REVIEWS
CHALLENGE_KINDS: Final = challenge_kinds.CHALLENGE_KINDS
"""The kinds of challenges, submissions, reviews, starts and buddies (what screens follow)."""
SUBMISSION_KIND: Final = challenge_kinds.SUBMISSION
REVIEWER_RULES: Final = ("members", "holders")
"""Who may approve: any circle member (the default), or holders of the badge (mentors)."""


@dataclass(frozen=True, slots=True)
class Criterion:
    """One line of a challenge's rubric: its name and what meeting it looks like."""

    name: str
    meets: str

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "meets": self.meets}


@dataclass(frozen=True, slots=True)
class ChallengeVersion:
    """One version of a challenge, as its author wrote it."""

    id: bytes
    author: bytes
    created_at: int
    updates: bytes | None
    title: str
    question: str
    tasks: tuple[str, ...]
    criteria: tuple[Criterion, ...]
    badge_name: str
    badge_description: str = ""
    badge_image: bytes | None = None
    """The id of the badge's image file (peernode/file@1), if it has one."""
    k: int = DEFAULT_REVIEWS
    reviewers: str = "members"
    description: str = ""
    resources: tuple[ResourceLink, ...] = ()
    files: tuple[bytes, ...] = ()
    forked_from: bytes | None = None

    def fields(self) -> dict[str, Any]:
        """What `challenge_body` takes, as this version says it."""
        return {
            "title": self.title,
            "question": self.question,
            "tasks": self.tasks,
            "criteria": self.criteria,
            "badge": self.badge_name,
            "badge_description": self.badge_description,
            "badge_image": self.badge_image,
            "k": self.k,
            "reviewers": self.reviewers,
            "description": self.description,
            "resources": self.resources,
            "files": self.files,
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id.hex(),
            "author": self.author.hex(),
            "created_at": self.created_at,
            "updates": self.updates.hex() if self.updates else None,
            "title": self.title,
            "question": self.question,
            "description": self.description,
            "tasks": list(self.tasks),
            "criteria": [criterion.to_json() for criterion in self.criteria],
            "badge": {
                "name": self.badge_name,
                "description": self.badge_description,
                "image": self.badge_image.hex() if self.badge_image else None,
            },
            "reviews": self.k,
            "reviewers": self.reviewers,
            "resources": [link.to_json() for link in self.resources],
            "files": [file.hex() for file in self.files],
            "forked_from": self.forked_from.hex() if self.forked_from else None,
        }


@dataclass(frozen=True, slots=True)
class Review:
    """A peer's review of a submission, and whether the badge rule counts it."""

    id: bytes
    reviewer: bytes
    created_at: int
    verdict: str
    meets: frozenset[int]
    works: str = ""
    question: str = ""
    suggestion: str = ""
    note: str = ""
    refusal: str | None = None
    """Why it does not count toward the badge (a code of protocol.badges.REFUSALS), or None."""

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id.hex(),
            "reviewer": self.reviewer.hex(),
            "created_at": self.created_at,
            "verdict": self.verdict,
            "meets": sorted(self.meets),
            "works": self.works,
            "question": self.question,
            "suggestion": self.suggestion,
            "note": self.note,
            "counts": self.refusal is None and self.verdict == "approve",
            "refusal": self.refusal,
        }


@dataclass(frozen=True, slots=True)
class Submission:
    """A learner's work for a challenge, with its reviews."""

    id: bytes
    author: bytes
    created_at: int
    version: bytes
    """The challenge version it answers (its rule applies)."""
    text: str
    files: tuple[bytes, ...]
    previous: bytes | None
    replaced: bool
    """A newer revision of the author's replaces it: its reviews no longer count."""
    reviews: tuple[Review, ...]
    approvals: int
    """Approvals that count toward the badge."""
    needed: int
    earned: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id.hex(),
            "author": self.author.hex(),
            "created_at": self.created_at,
            "version": self.version.hex(),
            "text": self.text,
            "files": [file.hex() for file in self.files],
            "previous": self.previous.hex() if self.previous else None,
            "replaced": self.replaced,
            "reviews": [review.to_json() for review in self.reviews],
            "approvals": self.approvals,
            "needed": self.needed,
            "earned": self.earned,
        }


@dataclass(frozen=True, slots=True)
class Challenge:
    """A challenge with everything about it: versions, cohort, buddies, work and holders."""

    id: bytes
    """Its first version's id: the challenge's and its badge's identity."""
    circle: str
    author: bytes
    versions: tuple[ChallengeVersion, ...]
    current: ChallengeVersion
    cohort: tuple[bytes, ...]
    """Who said they are on it, first to start first."""
    buddies: tuple[tuple[bytes, bytes], ...]
    """Pairs who asked each other."""
    submissions: tuple[Submission, ...]
    holders: tuple[bytes, ...]
    """Who holds its badge, first to earn first: the mentors (with the author)."""

    def version(self, version_id: bytes) -> ChallengeVersion:
        """The version of this id (the current one if it is not one of them)."""
        return next((v for v in self.versions if v.id == version_id), self.current)

    def file_ids(self) -> tuple[bytes, ...]:
        """The shared files it and the work for it name, each once."""
        named = [*self.current.files, *(f for s in self.submissions for f in s.files)]
        return tuple(dict.fromkeys(named))

    def suggested_buddies(self) -> tuple[tuple[bytes, bytes], ...]:
        """Learners on it with no buddy and no badge yet, paired in the order they started."""
        paired = {key for pair in self.buddies for key in pair}
        free = [k for k in self.cohort if k not in paired and k not in self.holders]
        return tuple(zip(free[0::2], free[1::2], strict=False))

    def mentors(self) -> tuple[bytes, ...]:
        """Who holds its badge: those who earned it, and its author when only holders
        approve (they hold it from the start)."""
        first = (self.author,) if self.current.reviewers == "holders" else ()
        return tuple(dict.fromkeys((*first, *self.holders)))

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id.hex(),
            "circle": self.circle,
            "author": self.author.hex(),
            "current": self.current.to_json(),
            "versions": [version.id.hex() for version in self.versions],
            "cohort": [key.hex() for key in self.cohort],
            "buddies": [[a.hex(), b.hex()] for a, b in self.buddies],
            "submissions": [submission.to_json() for submission in self.submissions],
            "holders": [key.hex() for key in self.holders],
        }


def challenge_body(
    *,
    title: str,
    question: str,
    tasks: Sequence[str],
    criteria: Sequence[Criterion],
    badge: str,
    badge_description: str = "",
    badge_image: bytes | None = None,
    k: int = DEFAULT_REVIEWS,
    reviewers: str = "members",
    description: str = "",
    resources: Sequence[ResourceLink] = (),
    files: Sequence[bytes] = (),
) -> dict[str, Any]:
    """The body of a challenge event (empty optional fields left out)."""
    return compact(
        {
            "title": title,
            "question": question,
            "description": description,
            "resources": [link.to_body() for link in resources],
            "files": list(files),
            "tasks": list(tasks),
            "criteria": [c.to_json() for c in criteria],
            "badge": compact(
                {"name": badge, "description": badge_description, "image": badge_image}
            ),
            "reviews": k,
            "reviewers": reviewers,
        }
    )


def badge_json(badge: Badge) -> dict[str, Any]:
    """A badge earned, as `--json` prints it."""
    rule = badge.rule
    return {
        "holder": badge.holder.hex(),
        "badge": rule.badge_name,
        "description": rule.badge_description,
        "challenge": rule.challenge.hex(),
        "version": rule.version.hex(),
        "circle": rule.circle,
        "submission": badge.submission.hex(),
        "earned_at": badge.earned_at,
        "reviews": rule.k,
        "reviewers": rule.reviewers,
        "approved_by": [
            {"reviewer": a.reviewer.hex(), "review": a.review.hex(), "at": a.at}
            for a in badge.approvals
        ],
    }
