"""Event kinds this node understands.

Unknown kinds are valid as long as the envelope is: a node stores and forwards
them and only declines to render them.
"""

from __future__ import annotations

from typing import Final

from protocol.kinds import (
    answer,
    attendance,
    checkin,
    circle,
    delete,
    edit,
    join,
    leave,
    meeting,
    note,
    plusdelta,
    profile,
    question,
    resolved,
    resource,
    rsvp,
)
from protocol.kinds.registry import KindSpec, is_known, known_kinds, register, spec_of, validate

NOTE: Final[str] = note.SPEC.name
PROFILE: Final[str] = profile.SPEC.name
CIRCLE: Final[str] = circle.SPEC.name
JOIN: Final[str] = join.SPEC.name
LEAVE: Final[str] = leave.SPEC.name
RESOURCE: Final[str] = resource.SPEC.name
MEETING: Final[str] = meeting.SPEC.name
RSVP: Final[str] = rsvp.SPEC.name
ATTENDANCE: Final[str] = attendance.SPEC.name
CHECKIN: Final[str] = checkin.SPEC.name
PLUSDELTA: Final[str] = plusdelta.SPEC.name
QUESTION: Final[str] = question.SPEC.name
ANSWER: Final[str] = answer.SPEC.name
RESOLVED: Final[str] = resolved.SPEC.name
EDIT: Final[str] = edit.SPEC.name
DELETE: Final[str] = delete.SPEC.name

CIRCLE_KINDS: Final[frozenset[str]] = frozenset(
    {
        CIRCLE,
        JOIN,
        LEAVE,
        RESOURCE,
        MEETING,
        RSVP,
        ATTENDANCE,
        CHECKIN,
        PLUSDELTA,
        QUESTION,
        ANSWER,
        RESOLVED,
        EDIT,
        DELETE,
    }
)
"""The kinds of study circles (everything in a circle but notes)."""

__all__ = [
    "ANSWER",
    "ATTENDANCE",
    "CHECKIN",
    "CIRCLE",
    "CIRCLE_KINDS",
    "DELETE",
    "EDIT",
    "JOIN",
    "LEAVE",
    "MEETING",
    "NOTE",
    "PLUSDELTA",
    "PROFILE",
    "QUESTION",
    "RESOLVED",
    "RESOURCE",
    "RSVP",
    "KindSpec",
    "is_known",
    "known_kinds",
    "register",
    "spec_of",
    "validate",
]
