"""Event kinds this node understands.

Unknown kinds are valid as long as the envelope is: a node stores and forwards
them and only declines to render them.
"""

from __future__ import annotations

from typing import Final

from protocol.kinds import note, profile
from protocol.kinds.registry import KindSpec, is_known, known_kinds, register, spec_of, validate

NOTE: Final[str] = note.SPEC.name
PROFILE: Final[str] = profile.SPEC.name

__all__ = [
    "NOTE",
    "PROFILE",
    "KindSpec",
    "is_known",
    "known_kinds",
    "register",
    "spec_of",
    "validate",
]
