"""The core kinds: notes, profiles, and the edit and delete of one's own events."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from protocol.errors import InvalidEvent
from protocol.kinds.fields import byte_strings, field_count, one_of, text
from protocol.kinds.registry import KindSpec, register

NOTE: Final = "peernode/note@1"
"""What a member writes while learning, in Markdown."""
PROFILE: Final = "peernode/profile@1"
"""Who a learner is; the newest one by its author wins."""
EDIT: Final = "peernode/edit@1"
"""New values for fields of one of my own events.

The body holds the replacement fields (nil removes an optional field). Whether
they suit the target's kind, and whether the editor is its author, is checked
when the edit is applied, since it needs the target event.
"""
DELETE: Final = "peernode/delete@1"
"""Withdraw one of my own events (the delete itself stays, a tombstone)."""

MAX_NOTE_TEXT_BYTES: Final = 32 * 1024
MAX_NOTE_MENTIONS: Final = 32
NOTE_FORMATS: Final = frozenset({"markdown", "plain"})
MAX_PROFILE_NAME_BYTES: Final = 64
MAX_PROFILE_ABOUT_BYTES: Final = 512
"""Each of a profile's `learning` and `can_help`."""
MAX_EDIT_FIELDS: Final = 64
MAX_DELETE_REASON_BYTES: Final = 512


def _check_note(body: Mapping[str, Any]) -> None:
    text(body, "text", max_bytes=MAX_NOTE_TEXT_BYTES)
    one_of(body, "format", NOTE_FORMATS, default="markdown")
    byte_strings(body, "mentions", size=32, max_items=MAX_NOTE_MENTIONS)


def _check_profile(body: Mapping[str, Any]) -> None:
    text(body, "name", max_bytes=MAX_PROFILE_NAME_BYTES)
    text(body, "learning", max_bytes=MAX_PROFILE_ABOUT_BYTES, required=False, allow_empty=True)
    text(body, "can_help", max_bytes=MAX_PROFILE_ABOUT_BYTES, required=False, allow_empty=True)


def _check_edit(body: Mapping[str, Any]) -> None:
    if not body:
        raise InvalidEvent("body", "an edit must change at least one field")
    field_count(body, max_fields=MAX_EDIT_FIELDS)


def _check_delete(body: Mapping[str, Any]) -> None:
    text(body, "reason", max_bytes=MAX_DELETE_REASON_BYTES, required=False, allow_empty=True)


SPECS: Final = tuple(
    register(spec)
    for spec in (
        KindSpec(
            name=NOTE,
            needs_circle=True,
            refs=frozenset({"reply_to"}),
            check_body=_check_note,
            summary="a note in a circle; body: text, format?, mentions?; refs: reply_to?",
        ),
        KindSpec(
            name=PROFILE,
            needs_circle=False,
            refs=frozenset(),
            check_body=_check_profile,
            summary="a learner's profile; body: name, learning?, can_help?",
        ),
        KindSpec(
            name=EDIT,
            needs_circle=True,
            refs=frozenset({"target"}),
            required_refs=frozenset({"target"}),
            check_body=_check_edit,
            summary="new field values for my event; body: the fields (1..64); refs: target",
        ),
        KindSpec(
            name=DELETE,
            needs_circle=True,
            refs=frozenset({"target"}),
            required_refs=frozenset({"target"}),
            check_body=_check_delete,
            summary="withdraw my event; body: reason?; refs: target",
        ),
    )
)
"""The core kinds' specs, registered on import."""
