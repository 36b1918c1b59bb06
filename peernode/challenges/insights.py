"""A circle's challenges in numbers, for the insights report: pure, from derived challenges.

Definitions (docs/challenges.md): a review is *feedback* when someone other than the
submitter wrote it; time to feedback runs from a submission to its first feedback;
"reviews received" counts submissions that got feedback at all.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from peernode.challenges.model import Challenge


@dataclass(frozen=True, slots=True)
class Insights:
    """The headline numbers of a circle's challenges."""

    challenges: int
    started: int
    """Starts: learners who said they are on a challenge, once per challenge."""
    submissions: int
    reviews_given: int
    submissions_reviewed: int
    median_feedback_ms: int | None
    badges: int


def insights(challenges: Sequence[Challenge]) -> Insights:
    """Count what the circle's learners did with its challenges."""
    submissions = [s for c in challenges for s in c.submissions]
    waits = []
    given = 0
    for submission in submissions:
        feedback = [r for r in submission.reviews if r.reviewer != submission.author]
        given += len(feedback)
        if feedback:
            waits.append(max(0, min(r.created_at for r in feedback) - submission.created_at))
    return Insights(
        challenges=len(challenges),
        started=sum(len(c.cohort) for c in challenges),
        submissions=len(submissions),
        reviews_given=given,
        submissions_reviewed=len(waits),
        median_feedback_ms=round(statistics.median(waits)) if waits else None,
        badges=sum(len(c.holders) for c in challenges),
    )
