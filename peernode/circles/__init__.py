"""The study circle: value types, event bodies, the state fold, queries and its text.

Import-light: the node's service (peernode.circles.service) and the insights
report (peernode.circles.report) are modules of their own, not part of this surface.
"""

from peernode.circles.bodies import circle_body, compact, meeting_body
from peernode.circles.derive import (
    EDITABLE_KINDS,
    NotEditable,
    apply_edits_and_deletes,
    derive_state,
    edited_body,
    order,
    summarize,
)
from peernode.circles.model import (
    Activity,
    Agenda,
    Answer,
    CheckIn,
    CircleState,
    CircleSummary,
    CircleVersion,
    Helper,
    Meeting,
    Member,
    PlusDelta,
    Question,
    ResourceLink,
    Rhythm,
    Rsvp,
    SharedResource,
    words,
)
from peernode.circles.proposals import MeetingProposal, propose_meeting
from peernode.circles.queries import suggest_facilitators, tags_match, who_can_help, words_match

__all__ = [
    "EDITABLE_KINDS",
    "Activity",
    "Agenda",
    "Answer",
    "CheckIn",
    "CircleState",
    "CircleSummary",
    "CircleVersion",
    "Helper",
    "Meeting",
    "MeetingProposal",
    "Member",
    "NotEditable",
    "PlusDelta",
    "Question",
    "ResourceLink",
    "Rhythm",
    "Rsvp",
    "SharedResource",
    "apply_edits_and_deletes",
    "circle_body",
    "compact",
    "derive_state",
    "edited_body",
    "meeting_body",
    "order",
    "propose_meeting",
    "suggest_facilitators",
    "summarize",
    "tags_match",
    "who_can_help",
    "words",
    "words_match",
]
