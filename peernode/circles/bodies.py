"""The bodies of circle events: built from value types, and read back field by field."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol


class HasBody(Protocol):
    """A value type that writes itself as an event body part (ResourceLink, Rhythm, Agenda
    of peernode.circles.model, which builds on this module: hence a protocol, not an import)."""

    def to_body(self) -> dict[str, Any]: ...


def compact(body: Mapping[str, Any]) -> dict[str, Any]:
    """`body` without its empty optional fields (None, "", empty lists and maps)."""
    return {name: value for name, value in body.items() if value not in (None, "", [], (), {})}


def text_field(body: Mapping[str, Any] | None, name: str) -> str:
    """The string field `name` of `body`, or "" when it is missing or not a string."""
    value = (body or {}).get(name)
    return value if isinstance(value, str) else ""


def circle_body(
    *,
    name: str,
    topic: str = "",
    description: str = "",
    resources: Sequence[HasBody] = (),
    rhythm: HasBody | None = None,
    language: str = "",
) -> dict[str, Any]:
    """The body of a circle event (a circle's description)."""
    return compact(
        {
            "name": name,
            "topic": topic,
            "description": description,
            "resources": [link.to_body() for link in resources],
            "rhythm": rhythm.to_body() if rhythm else None,
            "language": language,
        }
    )


def meeting_body(
    *,
    starts_at: int,
    duration_minutes: int | None = None,
    place: str = "",
    facilitator: bytes | None = None,
    agenda: HasBody | None = None,
) -> dict[str, Any]:
    """The body of a meeting event."""
    return compact(
        {
            "starts_at": starts_at,
            "duration_minutes": duration_minutes,
            "place": place,
            "facilitator": facilitator,
            "agenda": agenda.to_body() if agenda else None,
        }
    )
