"""Learning challenges: value types, the fold of their events, badge files and their text.

The badge rule itself is protocol.badges (shared with any verifier); the node's service
(peernode.challenges.service) is a module of its own, not part of this surface.
"""

from peernode.challenges.derive import derive_challenges
from peernode.challenges.model import (
    REVIEWER_RULES,
    Challenge,
    ChallengeVersion,
    Criterion,
    Review,
    Submission,
    badge_json,
)

__all__ = [
    "REVIEWER_RULES",
    "Challenge",
    "ChallengeVersion",
    "Criterion",
    "Review",
    "Submission",
    "badge_json",
    "derive_challenges",
]
