"""The typed bodies of the file and challenge actions (the same rules as models.py).

The node's own JSON of these values (`to_json`, `badge_json`) is converted into these
types, so what the API answers is checked against the document it publishes.
"""

from __future__ import annotations

import msgspec

from peernode.api.models import EventOut

# -- files ------------------------------------------------------------------------------


class FileOut(msgspec.Struct):
    """A file or folder shared with a circle; presence: here, partial or missing."""

    id: str
    circle: str
    name: str
    title: str
    type: str
    size: int
    mime: str | None
    blob: str
    author: str
    author_name: str
    created_at: int
    have_bytes: int
    presence: str


class FileList(msgspec.Struct):
    files: list[FileOut]


class FetchOut(msgspec.Struct):
    """Where a file's fetch stands: bytes here of size, bytes a second, peers it comes
    from; error: why the last fetch failed ("" if it did not)."""

    file: FileOut
    have_bytes: int
    size: int
    rate: float
    sources: int
    done: bool
    error: str


class NewFetch(msgspec.Struct, forbid_unknown_fields=True):
    """Fetch a file in the background; in_order: first parts first (a video plays sooner)."""

    in_order: bool = False


class NewShare(msgspec.Struct, forbid_unknown_fields=True):
    """Share the file or folder at `path` (absolute, on this machine) with the circle."""

    path: str
    title: str = ""
    description: str = ""
    licence: str = ""
    tags: list[str] = msgspec.field(default_factory=list)


class SharedOut(msgspec.Struct):
    file: FileOut


# -- challenges -------------------------------------------------------------------------


class CriterionOut(msgspec.Struct):
    name: str
    meets: str


class BadgeInfo(msgspec.Struct):
    name: str
    description: str
    image: str | None


class LinkOut(msgspec.Struct):
    url: str
    title: str
    licence: str


class VersionOut(msgspec.Struct):
    """One version of a challenge as its author wrote it."""

    id: str
    author: str
    created_at: int
    updates: str | None
    title: str
    question: str
    description: str
    tasks: list[str]
    criteria: list[CriterionOut]
    badge: BadgeInfo
    reviews: int
    reviewers: str
    resources: list[LinkOut]
    files: list[str]
    forked_from: str | None


class ReviewOut(msgspec.Struct):
    """A review; counts: it counts toward the badge (else refusal says why not)."""

    id: str
    reviewer: str
    created_at: int
    verdict: str
    meets: list[int]
    works: str
    question: str
    suggestion: str
    note: str
    counts: bool
    refusal: str | None


class SubmissionOut(msgspec.Struct):
    """A learner's work; replaced: a newer revision replaces it."""

    id: str
    author: str
    created_at: int
    version: str
    text: str
    files: list[str]
    previous: str | None
    replaced: bool
    reviews: list[ReviewOut]
    approvals: int
    needed: int
    earned: bool


class ChallengeOut(msgspec.Struct):
    """A challenge: its current version, who is on it, their work, who holds its badge."""

    id: str
    circle: str
    author: str
    current: VersionOut
    versions: list[str]
    cohort: list[str]
    buddies: list[list[str]]
    submissions: list[SubmissionOut]
    holders: list[str]


class ChallengeList(msgspec.Struct):
    challenges: list[ChallengeOut]


class NewStart(msgspec.Struct, forbid_unknown_fields=True):
    message: str = ""


class NewSubmission(msgspec.Struct, forbid_unknown_fields=True):
    """Work for a challenge: text (Markdown) and ids of files shared with the circle."""

    text: str = ""
    files: list[str] = msgspec.field(default_factory=list)


class NewReview(msgspec.Struct, forbid_unknown_fields=True):
    """A verdict on a submission; meets: criteria met, counted from 0 (approving: all
    unless named)."""

    approve: bool
    meets: list[int] | None = None
    works: str = ""
    question: str = ""
    suggestion: str = ""
    note: str = ""


class Approval(msgspec.Struct):
    reviewer: str
    review: str
    at: int


class BadgeOut(msgspec.Struct):
    """A badge the events here prove."""

    holder: str
    badge: str
    description: str
    challenge: str
    version: str
    circle: str
    submission: str
    earned_at: int
    reviews: int
    reviewers: str
    approved_by: list[Approval]


class BadgeList(msgspec.Struct):
    badges: list[BadgeOut]


class ProofObject(msgspec.Struct):
    """What a verifier reads (docs/protocol-challenges.md): the signed events as hex."""

    format: str
    submission: str
    events: list[str]


class ProofOut(msgspec.Struct):
    """A badge and the signed events that prove it, with their authors' profiles
    (received_at is 0 in these: what counts is what they sign)."""

    badge: BadgeOut
    events: list[EventOut]
    proof: ProofObject
