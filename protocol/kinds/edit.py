"""peernode/edit@1: new values for fields of one of my own events.

The body holds the replacement fields (nil removes an optional field). Whether
they suit the target's kind, and whether the editor is its author, is checked
when the edit is applied, since it needs the target event.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from protocol.errors import InvalidEvent
from protocol.kinds.fields import field_count
from protocol.kinds.registry import KindSpec, register

MAX_FIELDS: Final = 64


def _check(body: Mapping[str, Any]) -> None:
    if not body:
        raise InvalidEvent("body", "an edit must change at least one field")
    field_count(body, max_fields=MAX_FIELDS)


SPEC: Final = register(
    KindSpec(
        name="peernode/edit@1",
        needs_circle=True,
        refs=frozenset({"target"}),
        required_refs=frozenset({"target"}),
        check_body=_check,
        summary="new field values for my event; body: the fields (1..64); refs: target",
    )
)
