"""The study-circle kinds (docs/protocol-circles.md): one table of specs and their body rules."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Set
from typing import Any, Final

from protocol.kinds.fields import (
    at_least_one,
    byte_string,
    choice,
    integer,
    nested,
    one_of,
    short_strings,
    submap,
    submaps,
    text,
    timestamp,
    url,
)
from protocol.kinds.registry import BodyRule, KindSpec, register

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

# -- compact body rules -------------------------------------------------------------------

_Rule = Callable[[Mapping[str, Any]], object]
"""Checks part of a body and raises InvalidEvent naming the field; rules run in order."""


def _text(name: str, max_bytes: int) -> _Rule:
    """A required, non-blank text."""
    return lambda body: text(body, name, max_bytes=max_bytes)


def _optional_text(name: str, max_bytes: int) -> _Rule:
    """A text that may be absent or empty."""
    return lambda body: text(body, name, max_bytes=max_bytes, required=False, allow_empty=True)


def _some_text(names: tuple[str, ...], max_bytes: int) -> _Rule:
    """Optional texts of which at least one is not blank."""

    def check(body: Mapping[str, Any]) -> None:
        for name in names:
            text(body, name, max_bytes=max_bytes, required=False, allow_empty=True)
        at_least_one(body, names)

    return check


def _url(name: str) -> _Rule:
    return lambda body: url(body, name, max_bytes=MAX_URL_BYTES)


def _tags(name: str) -> _Rule:
    return lambda body: short_strings(body, name, max_items=MAX_TAGS, max_chars=MAX_TAG_CHARS)


def _integer(name: str, minimum: int, maximum: int) -> _Rule:
    """An optional integer in [minimum, maximum]."""
    return lambda body: integer(body, name, minimum=minimum, maximum=maximum)


def _timestamp(name: str) -> _Rule:
    return lambda body: timestamp(body, name)


def _public_key(name: str) -> _Rule:
    """An optional Ed25519 public key (32 bytes)."""
    return lambda body: byte_string(body, name, size=32)


def _choice(name: str, choices: frozenset[str]) -> _Rule:
    """A required one of `choices`."""
    return lambda body: choice(body, name, choices)


def _one_of(name: str, choices: frozenset[str], default: str) -> _Rule:
    """One of `choices`, `default` when absent."""
    return lambda body: one_of(body, name, choices, default=default)


def _map(name: str, *rules: _Rule) -> _Rule:
    """An optional map whose fields follow `rules`, named by their full path."""

    def check(body: Mapping[str, Any]) -> None:
        value = submap(body, name)
        if value is not None:
            with nested(f"body.{name}"):
                _run(rules, value)

    return check


def _maps(name: str, max_items: int, *rules: _Rule) -> _Rule:
    """An optional list of maps (all checked to be maps first), each following `rules`."""

    def check(body: Mapping[str, Any]) -> None:
        for index, item in enumerate(submaps(body, name, max_items=max_items)):
            with nested(f"body.{name}[{index}]"):
                _run(rules, item)

    return check


def _run(rules: tuple[_Rule, ...], body: Mapping[str, Any]) -> None:
    for rule in rules:
        rule(body)


def _all(*rules: _Rule) -> BodyRule:
    return lambda body: _run(rules, body)


_RESOURCE_LINK: Final = (
    _url("url"),
    _optional_text("title", MAX_TITLE_BYTES),
    _optional_text("licence", MAX_LICENCE_BYTES),
)


def check_resource_link(item: Mapping[str, Any]) -> None:
    """{url, title?, licence?}: a link in a circle's description."""
    _run(_RESOURCE_LINK, item)


# -- the table ----------------------------------------------------------------------------


def _circle_kind(
    name: str,
    *rules: _Rule,
    summary: str,
    required: Set[str] = frozenset(),
    optional: Set[str] = frozenset(),
) -> KindSpec:
    """A kind that belongs to a circle, with its body rules and its refs."""
    return KindSpec(
        name=name,
        needs_circle=True,
        refs=frozenset(required | optional),
        required_refs=frozenset(required),
        check_body=_all(*rules),
        summary=summary,
    )


SPECS: Final = tuple(
    register(spec)
    for spec in (
        _circle_kind(
            CIRCLE,
            _text("name", MAX_CIRCLE_NAME_BYTES),
            _optional_text("topic", MAX_CIRCLE_TOPIC_BYTES),
            _optional_text("description", MAX_CIRCLE_DESCRIPTION_BYTES),
            _maps("resources", MAX_CIRCLE_RESOURCES, *_RESOURCE_LINK),
            _map(
                "rhythm",
                _one_of("cadence", CADENCES, default="weekly"),
                _integer("duration_minutes", 1, MAX_DURATION_MINUTES),
                _integer("weeks", 1, MAX_WEEKS),
            ),
            _optional_text("language", MAX_CIRCLE_LANGUAGE_BYTES),
            optional={"updates"},
            summary=(
                "a circle's description (circle = its slug); body: name, topic?, description?,"
                " resources?, rhythm?, language?; refs: updates?"
            ),
        ),
        _circle_kind(
            JOIN,
            _optional_text("message", MAX_MESSAGE_BYTES),
            summary="I join this circle; body: message?",
        ),
        _circle_kind(
            LEAVE,
            _optional_text("message", MAX_MESSAGE_BYTES),
            summary="I leave this circle; body: message?",
        ),
        _circle_kind(
            RESOURCE,
            _url("url"),
            _text("title", MAX_TITLE_BYTES),
            _optional_text("description", MAX_RESOURCE_DESCRIPTION_BYTES),
            _tags("tags"),
            _optional_text("licence", MAX_LICENCE_BYTES),
            summary="a shared link; body: url, title, description?, tags?, licence?",
        ),
        _circle_kind(
            MEETING,
            _timestamp("starts_at"),
            _integer("duration_minutes", 1, MAX_DURATION_MINUTES),
            _optional_text("place", MAX_PLACE_BYTES),
            _public_key("facilitator"),
            _map(  # in the order of a meeting, which is the order its rules are checked in
                "agenda",
                _optional_text("checkin", MAX_AGENDA_PART_BYTES),
                _optional_text("coursework", MAX_AGENDA_PART_BYTES),
                _map(
                    "activity",
                    _text("title", MAX_ACTIVITY_TITLE_BYTES),
                    _integer("minutes", MIN_ACTIVITY_MINUTES, MAX_ACTIVITY_MINUTES),
                ),
                _optional_text("plusdelta", MAX_AGENDA_PART_BYTES),
            ),
            optional={"previous"},
            summary=(
                "a meeting; body: starts_at, duration_minutes?, place?, facilitator?,"
                " agenda? {checkin?, coursework?, activity? {title, minutes?}, plusdelta?};"
                " refs: previous?"
            ),
        ),
        _circle_kind(
            RSVP,
            _choice("answer", RSVP_ANSWERS),
            required={"meeting"},
            summary="my answer to a meeting; body: answer (yes|no|maybe); refs: meeting",
        ),
        _circle_kind(
            ATTENDANCE,
            _optional_text("note", MAX_NOTE_FIELD_BYTES),
            required={"meeting"},
            summary="I attended a meeting; body: note?; refs: meeting",
        ),
        _circle_kind(
            CHECKIN,
            _some_text(CHECKIN_FIELDS, MAX_REFLECTION_BYTES),
            required={"meeting"},
            summary=(
                "my check-in; body: feeling?, working_on?, need_help? (one at least); refs: meeting"
            ),
        ),
        _circle_kind(
            PLUSDELTA,
            _some_text(PLUSDELTA_FIELDS, MAX_REFLECTION_BYTES),
            required={"meeting"},
            summary="my plus/delta; body: plus?, delta? (one at least); refs: meeting",
        ),
        _circle_kind(
            QUESTION,
            _text("title", MAX_TITLE_BYTES),
            _optional_text("text", MAX_TEXT_BYTES),
            _tags("tags"),
            summary="a question; body: title, text?, tags?",
        ),
        _circle_kind(
            ANSWER,
            _text("text", MAX_TEXT_BYTES),
            required={"question"},
            summary="an answer; body: text; refs: question",
        ),
        _circle_kind(
            RESOLVED,
            _optional_text("note", MAX_NOTE_FIELD_BYTES),
            required={"question"},
            optional={"answer"},
            summary="my question is resolved; body: note?; refs: question, answer?",
        ),
    )
)
"""The study-circle kinds' specs, registered on import."""
