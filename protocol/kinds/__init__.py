"""Event kinds this node understands; unknown kinds pass (stored, forwarded, not rendered)."""

from __future__ import annotations

from typing import Final

from protocol.kinds.circles import (
    ANSWER,
    ATTENDANCE,
    CHECKIN,
    CIRCLE,
    JOIN,
    LEAVE,
    MEETING,
    PLUSDELTA,
    QUESTION,
    RESOLVED,
    RESOURCE,
    RSVP,
)
from protocol.kinds.core import DELETE, EDIT, NOTE, PROFILE
from protocol.kinds.files import FILE
from protocol.kinds.registry import KindSpec, is_known, known_kinds, register, spec_of, validate

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
    "FILE",
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
