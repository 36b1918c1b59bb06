"""The study-circle kinds (docs/protocol-circles.md): one table of specs and their body rules."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from protocol.kinds import rules
from protocol.kinds.fields import short_strings, url
from protocol.kinds.registry import register

CIRCLE: Final = "peernode/circle@1"
"""A circle's description; the newest one is the circle's state.

The event's `circle` field is the circle's slug. Any member may publish a newer
version (refs `updates` → the version it replaces); every version is kept.
"""
JOIN: Final = "peernode/join@1"
"""I take part in this (open) circle from now on."""
LEAVE: Final = "peernode/leave@1"
"""I no longer take part in this circle."""
RESOURCE: Final = "peernode/resource@1"
"""A link a member shares with the circle."""
MEETING: Final = "peernode/meeting@1"
"""A meeting of the circle, with the four-part agenda.

Any member can schedule the next meeting; refs `previous` → the meeting before.
"""
RSVP: Final = "peernode/rsvp@1"
"""Will I come to a meeting? My newest answer counts."""
ATTENDANCE: Final = "peernode/attendance@1"
"""An "I was here", signed by each attendee for a meeting."""
CHECKIN: Final = "peernode/checkin@1"
"""The check-in of the meeting agenda, one per learner."""
PLUSDELTA: Final = "peernode/plusdelta@1"
"""One thing that went well, one thing to change."""
QUESTION: Final = "peernode/question@1"
"""A request for help; anyone answers, the asker marks what helped."""
ANSWER: Final = "peernode/answer@1"
"""An answer to a question."""
RESOLVED: Final = "peernode/resolved@1"
"""The asker marks a question resolved (and what helped).

Only the question's author's resolved events count; that is a rule of the
circle state (it needs the question), not of this event alone.
"""

# -- limits: text sizes are in UTF-8 bytes ------------------------------------------------

MAX_CIRCLE_NAME_BYTES: Final = 128
MAX_CIRCLE_TOPIC_BYTES: Final = 256
MAX_CIRCLE_DESCRIPTION_BYTES: Final = 8 * 1024
MAX_CIRCLE_RESOURCES: Final = 64
MAX_CIRCLE_LANGUAGE_BYTES: Final = 35
CADENCES: Final = frozenset({"weekly", "biweekly", "monthly", "other"})
"""A circle rhythm's cadence; "weekly" when absent."""
MAX_WEEKS: Final = 520
"""How many weeks a circle's rhythm may plan."""
MAX_DURATION_MINUTES: Final = 24 * 60
"""Of a meeting, and of the meetings a circle's rhythm plans."""

MAX_URL_BYTES: Final = 2048
MAX_TITLE_BYTES: Final = 256
"""Of a link in a circle's description, a resource, a question."""
MAX_LICENCE_BYTES: Final = 128
MAX_RESOURCE_DESCRIPTION_BYTES: Final = 4096
MAX_TAGS: Final = 16
"""Of a resource or a question."""
MAX_TAG_CHARS: Final = 32

MAX_MESSAGE_BYTES: Final = 512
"""Of a join's or a leave's message."""

MAX_PLACE_BYTES: Final = 256
AGENDA_PARTS: Final = ("checkin", "coursework", "plusdelta")
"""The agenda's text parts; its fourth part, the activity, is a map."""
MAX_AGENDA_PART_BYTES: Final = 4096
MAX_ACTIVITY_TITLE_BYTES: Final = 256
MIN_ACTIVITY_MINUTES: Final = 1
MAX_ACTIVITY_MINUTES: Final = 180

RSVP_ANSWERS: Final = frozenset({"yes", "no", "maybe"})
MAX_NOTE_FIELD_BYTES: Final = 512
"""Of the `note` of an attendance or a resolved."""
CHECKIN_FIELDS: Final = ("feeling", "working_on", "need_help")
PLUSDELTA_FIELDS: Final = ("plus", "delta")
MAX_REFLECTION_BYTES: Final = 1024
"""Of each field of a check-in or a plus/delta."""

MAX_TEXT_BYTES: Final = 32 * 1024
"""Of a question's or an answer's text."""

# -- rules of the circle kinds -----------------------------------------------------------


def _url(name: str) -> rules.Rule:
    return lambda body: url(body, name, max_bytes=MAX_URL_BYTES)


def _tags(name: str) -> rules.Rule:
    return lambda body: short_strings(body, name, max_items=MAX_TAGS, max_chars=MAX_TAG_CHARS)


RESOURCE_LINK: Final = (
    _url("url"),
    rules.optional_text("title", MAX_TITLE_BYTES),
    rules.optional_text("licence", MAX_LICENCE_BYTES),
)


def check_resource_link(item: Mapping[str, Any]) -> None:
    """{url, title?, licence?}: a link in a circle's description."""
    rules.run(RESOURCE_LINK, item)


# -- the table ----------------------------------------------------------------------------


SPECS: Final = tuple(
    register(spec)
    for spec in (
        rules.circle_kind(
            CIRCLE,
            rules.text("name", MAX_CIRCLE_NAME_BYTES),
            rules.optional_text("topic", MAX_CIRCLE_TOPIC_BYTES),
            rules.optional_text("description", MAX_CIRCLE_DESCRIPTION_BYTES),
            rules.maps("resources", MAX_CIRCLE_RESOURCES, *RESOURCE_LINK),
            rules.map_of(
                "rhythm",
                rules.one_of("cadence", CADENCES, default="weekly"),
                rules.integer("duration_minutes", 1, MAX_DURATION_MINUTES),
                rules.integer("weeks", 1, MAX_WEEKS),
            ),
            rules.optional_text("language", MAX_CIRCLE_LANGUAGE_BYTES),
            optional={"updates"},
            summary=(
                "a circle's description (circle = its slug); body: name, topic?, description?,"
                " resources?, rhythm?, language?; refs: updates?"
            ),
        ),
        rules.circle_kind(
            JOIN,
            rules.optional_text("message", MAX_MESSAGE_BYTES),
            summary="I join this circle; body: message?",
        ),
        rules.circle_kind(
            LEAVE,
            rules.optional_text("message", MAX_MESSAGE_BYTES),
            summary="I leave this circle; body: message?",
        ),
        rules.circle_kind(
            RESOURCE,
            _url("url"),
            rules.text("title", MAX_TITLE_BYTES),
            rules.optional_text("description", MAX_RESOURCE_DESCRIPTION_BYTES),
            _tags("tags"),
            rules.optional_text("licence", MAX_LICENCE_BYTES),
            summary="a shared link; body: url, title, description?, tags?, licence?",
        ),
        rules.circle_kind(
            MEETING,
            rules.timestamp("starts_at"),
            rules.integer("duration_minutes", 1, MAX_DURATION_MINUTES),
            rules.optional_text("place", MAX_PLACE_BYTES),
            rules.public_key("facilitator"),
            rules.map_of(  # in the order of a meeting, which is the order its rules are checked in
                "agenda",
                rules.optional_text("checkin", MAX_AGENDA_PART_BYTES),
                rules.optional_text("coursework", MAX_AGENDA_PART_BYTES),
                rules.map_of(
                    "activity",
                    rules.text("title", MAX_ACTIVITY_TITLE_BYTES),
                    rules.integer("minutes", MIN_ACTIVITY_MINUTES, MAX_ACTIVITY_MINUTES),
                ),
                rules.optional_text("plusdelta", MAX_AGENDA_PART_BYTES),
            ),
            optional={"previous"},
            summary=(
                "a meeting; body: starts_at, duration_minutes?, place?, facilitator?,"
                " agenda? {checkin?, coursework?, activity? {title, minutes?}, plusdelta?};"
                " refs: previous?"
            ),
        ),
        rules.circle_kind(
            RSVP,
            rules.choice("answer", RSVP_ANSWERS),
            required={"meeting"},
            summary="my answer to a meeting; body: answer (yes|no|maybe); refs: meeting",
        ),
        rules.circle_kind(
            ATTENDANCE,
            rules.optional_text("note", MAX_NOTE_FIELD_BYTES),
            required={"meeting"},
            summary="I attended a meeting; body: note?; refs: meeting",
        ),
        rules.circle_kind(
            CHECKIN,
            rules.some_text(CHECKIN_FIELDS, MAX_REFLECTION_BYTES),
            required={"meeting"},
            summary=(
                "my check-in; body: feeling?, working_on?, need_help? (one at least); refs: meeting"
            ),
        ),
        rules.circle_kind(
            PLUSDELTA,
            rules.some_text(PLUSDELTA_FIELDS, MAX_REFLECTION_BYTES),
            required={"meeting"},
            summary="my plus/delta; body: plus?, delta? (one at least); refs: meeting",
        ),
        rules.circle_kind(
            QUESTION,
            rules.text("title", MAX_TITLE_BYTES),
            rules.optional_text("text", MAX_TEXT_BYTES),
            _tags("tags"),
            summary="a question; body: title, text?, tags?",
        ),
        rules.circle_kind(
            ANSWER,
            rules.text("text", MAX_TEXT_BYTES),
            required={"question"},
            summary="an answer; body: text; refs: question",
        ),
        rules.circle_kind(
            RESOLVED,
            rules.optional_text("note", MAX_NOTE_FIELD_BYTES),
            required={"question"},
            optional={"answer"},
            summary="my question is resolved; body: note?; refs: question, answer?",
        ),
    )
)
"""The study-circle kinds' specs, registered on import."""
