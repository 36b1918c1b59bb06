"""Verifying a badge proof: signed events in, the badge or the precise reason it fails out.

Rules of this file:
- Nothing but the bytes given is consulted: no store, no network, no clock.
- Every event's signature and kind rules are checked before any is used; one bad event
  fails the whole proof, naming it (a proof is one claim, not a bag to pick from).
- Then the badge rule (protocol.badges) decides, over exactly those events.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from protocol.badges import Assessment, Badge, assess_all
from protocol.errors import DecodeError, InvalidEvent, RemoteProtocolError
from protocol.event import Event, decode_event, event_id
from protocol.kinds.challenges import SUBMISSION

MAX_PROOF_EVENTS: Final = 1024
"""Events one proof may hold: a challenge's versions, the work, k reviews, mentors' proofs."""

CODES: Final = (
    "too-many-events",
    "bad-event",
    "duplicate-event",
    "missing-submission",
    "missing-challenge",
    "too-few-approvals",
)
"""Why a proof fails, as the spec and the test vectors name it."""


class ProofRefused(RemoteProtocolError):
    """A badge proof that does not prove the badge; `code` is one of CODES.

    event: the id of the event at fault (for bad-event, as its bytes would have it).
    position: its position in the proof. detail: the protocol's reason, for bad-event.
    assessment: for too-few-approvals, what counted and what did not.
    """

    def __init__(
        self,
        code: str,
        *,
        event: bytes = b"",
        position: int | None = None,
        detail: str = "",
        assessment: Assessment | None = None,
    ) -> None:
        super().__init__(f"{code}{': ' + detail if detail else ''}")
        self.code = code
        self.event = event
        self.position = position
        self.detail = detail
        self.assessment = assessment


@dataclass(frozen=True, slots=True)
class Verified:
    """A proof that holds: the badge, and the events it rests on (by id)."""

    badge: Badge
    events: dict[bytes, Event]


def verify_proof(raws: Sequence[bytes], submission: bytes) -> Verified:
    """Check every event of a proof, then that `submission` earned its badge by the rule."""
    if len(raws) > MAX_PROOF_EVENTS:
        raise ProofRefused("too-many-events", detail=f"{len(raws)}, at most {MAX_PROOF_EVENTS}")
    events: dict[bytes, Event] = {}
    for position, raw in enumerate(raws):
        try:
            event = decode_event(raw)
        except (InvalidEvent, DecodeError) as exc:
            raise ProofRefused(
                "bad-event", event=event_id(raw), position=position, detail=str(exc)
            ) from exc
        if event.id in events:
            raise ProofRefused("duplicate-event", event=event.id, position=position)
        events[event.id] = event
    if submission not in events or events[submission].kind != SUBMISSION:
        raise ProofRefused("missing-submission", event=submission)
    assessment = next((a for a in assess_all(events.values()) if a.submission == submission), None)
    if assessment is None:
        challenge = events[submission].refs.get("challenge", b"")
        raise ProofRefused("missing-challenge", event=challenge)
    if assessment.earned_at is None:
        raise ProofRefused("too-few-approvals", event=submission, assessment=assessment)
    badge = Badge(
        holder=assessment.holder,
        rule=assessment.rule,
        submission=submission,
        earned_at=assessment.earned_at,
        approvals=assessment.approvals[: assessment.rule.k],
        depth=assessment.depth,
    )
    return Verified(badge, events)
