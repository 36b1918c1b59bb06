"""The learning-challenge kinds (docs/protocol-challenges.md): a table of specs and rules."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from protocol.errors import InvalidEvent
from protocol.kinds import rules
from protocol.kinds.circles import MAX_TEXT_BYTES, RESOURCE_LINK
from protocol.kinds.fields import (
    at_least_one,
    byte_string,
    byte_strings,
    integer,
    nested,
    submap,
    submaps,
    type_name,
)
from protocol.kinds.registry import register

CHALLENGE: Final = "peernode/challenge@1"
"""A learning challenge; the newest version in its `updates` chain is its state.

Only the author of the first version may write a newer one (refs `updates` → the
version it replaces); anyone else writes a fork (refs `forked_from`).
"""
START: Final = "peernode/start@1"
"""I'm on this challenge (refs `challenge` → any version of it)."""
SUBMISSION: Final = "peernode/submission@1"
"""My work for a challenge; a revision refs `previous` → the submission it replaces."""
REVIEW: Final = "peernode/review@1"
"""A peer's review of one submission: per criterion meets / not yet, prompts, a verdict."""
BUDDY: Final = "peernode/buddy@1"
"""I pair with this learner on a challenge; two buddy events naming each other are a pair."""

CHALLENGE_KINDS: Final = frozenset({CHALLENGE, START, SUBMISSION, REVIEW, BUDDY})

# -- limits: text sizes are in UTF-8 bytes ------------------------------------------------

MAX_CHALLENGE_TITLE_BYTES: Final = 256
MAX_QUESTION_BYTES: Final = 1024
"""Of the question that frames a challenge."""
MAX_DESCRIPTION_BYTES: Final = 8 * 1024
MAX_RESOURCES: Final = 64
MAX_FILES: Final = 32
"""File ids (peernode/file@1) a challenge or a submission refers to."""
FILE_ID_BYTES: Final = 32
MAX_TASKS: Final = 16
MAX_TASK_BYTES: Final = 1024
MIN_CRITERIA: Final = 2
MAX_CRITERIA: Final = 6
MAX_CRITERION_NAME_BYTES: Final = 256
MAX_CRITERION_MEETS_BYTES: Final = 1024
"""Of what "meets it" looks like."""
MAX_BADGE_NAME_BYTES: Final = 128
MAX_BADGE_DESCRIPTION_BYTES: Final = 1024
DEFAULT_REVIEWS: Final = 2
"""k: how many peer approvals a badge needs, when a challenge does not say."""
MAX_REVIEWS: Final = 16
REVIEWER_RULES: Final = frozenset({"members", "holders"})
"""Who may approve: any circle member, or holders of the challenge's badge (mentors)."""
DEFAULT_REVIEWERS: Final = "members"
MAX_MESSAGE_BYTES: Final = 512
"""Of a start's or a buddy's message."""
VERDICTS: Final = frozenset({"approve", "revise"})
PROMPTS: Final = ("works", "question", "suggestion")
"""The prompts that make feedback specific: what works, one question, one suggestion."""
MAX_PROMPT_BYTES: Final = 2048
"""Of each prompt's answer and of a review's note."""


def _texts(name: str, *, max_items: int, max_bytes: int) -> rules.Rule:
    """A required, non-empty list of non-blank texts."""

    def check(body: Mapping[str, Any]) -> None:
        value = body.get(name)
        if not value:
            raise InvalidEvent(f"body.{name}", "is required")
        if not isinstance(value, list):
            raise InvalidEvent(f"body.{name}", f"must be a list, got {type_name(value)}")
        if len(value) > max_items:
            raise InvalidEvent(f"body.{name}", f"at most {max_items} items, got {len(value)}")
        for index, item in enumerate(value):
            _item(f"body.{name}[{index}]", item, rules.text("item", max_bytes))

    return check


def _item(where: str, value: object, check: rules.Rule) -> None:
    """Check one item of a list as the field `item`, naming the item in its error."""
    try:
        check({"item": value})
    except InvalidEvent as exc:
        raise InvalidEvent(where, exc.reason) from None


def _at_least(name: str, minimum: int, maximum: int) -> rules.Rule:
    """A list of `minimum` to `maximum` maps (each checked by `rules.maps`)."""

    def check(body: Mapping[str, Any]) -> None:
        count = len(submaps(body, name, max_items=maximum))
        if count < minimum:
            raise InvalidEvent(f"body.{name}", f"needs at least {minimum}, got {count}")

    return check


def _file_ids(name: str, max_items: int) -> rules.Rule:
    return lambda body: byte_strings(body, name, size=FILE_ID_BYTES, max_items=max_items)


def _badge(body: Mapping[str, Any]) -> None:
    """{name, description?, image? (a file id)}: the badge a challenge leads to."""
    badge = submap(body, "badge", required=True)
    assert badge is not None
    with nested("body.badge"):
        rules.text("name", MAX_BADGE_NAME_BYTES)(badge)
        rules.optional_text("description", MAX_BADGE_DESCRIPTION_BYTES)(badge)
        byte_string(badge, "image", size=FILE_ID_BYTES)


def _criterion_index(body: Mapping[str, Any]) -> None:
    integer(body, "item", minimum=0, maximum=MAX_CRITERIA - 1, required=True)


def _meets(body: Mapping[str, Any]) -> None:
    """The indexes of the criteria the reviewer says are met (the others are "not yet")."""
    value = body.get("meets")
    if value is None:
        return
    if not isinstance(value, list):
        raise InvalidEvent("body.meets", f"must be a list, got {type_name(value)}")
    if len(value) > MAX_CRITERIA:
        raise InvalidEvent("body.meets", f"at most {MAX_CRITERIA} items, got {len(value)}")
    for index, item in enumerate(value):
        _item(f"body.meets[{index}]", item, _criterion_index)


def _some_work(body: Mapping[str, Any]) -> None:
    """A submission holds text, files, or both."""
    if not body.get("files"):
        at_least_one(body, ("text",))


SPECS: Final = tuple(
    register(spec)
    for spec in (
        rules.circle_kind(
            CHALLENGE,
            rules.text("title", MAX_CHALLENGE_TITLE_BYTES),
            rules.text("question", MAX_QUESTION_BYTES),
            rules.optional_text("description", MAX_DESCRIPTION_BYTES),
            rules.maps("resources", MAX_RESOURCES, *RESOURCE_LINK),
            _file_ids("files", MAX_FILES),
            _texts("tasks", max_items=MAX_TASKS, max_bytes=MAX_TASK_BYTES),
            _at_least("criteria", MIN_CRITERIA, MAX_CRITERIA),
            rules.maps(
                "criteria",
                MAX_CRITERIA,
                rules.text("name", MAX_CRITERION_NAME_BYTES),
                rules.text("meets", MAX_CRITERION_MEETS_BYTES),
            ),
            _badge,
            rules.integer("reviews", 1, MAX_REVIEWS),
            rules.one_of("reviewers", REVIEWER_RULES, default=DEFAULT_REVIEWERS),
            optional={"updates", "forked_from"},
            summary=(
                "a learning challenge; body: title, question, description?, resources?, files?,"
                " tasks (1..16), criteria (2..6) {name, meets}, badge {name, description?,"
                " image?}, reviews? (k, default 2), reviewers? (members|holders);"
                " refs: updates?, forked_from?"
            ),
        ),
        rules.circle_kind(
            START,
            rules.optional_text("message", MAX_MESSAGE_BYTES),
            required={"challenge"},
            summary="I'm on this challenge; body: message?; refs: challenge",
        ),
        rules.circle_kind(
            SUBMISSION,
            rules.optional_text("text", MAX_TEXT_BYTES),
            _file_ids("files", MAX_FILES),
            _some_work,
            required={"challenge"},
            optional={"previous"},
            summary=(
                "my work for a challenge; body: text? (Markdown), files? (ids; one of the two"
                " at least); refs: challenge, previous?"
            ),
        ),
        rules.circle_kind(
            REVIEW,
            rules.choice("verdict", VERDICTS),
            _meets,
            *(rules.optional_text(prompt, MAX_PROMPT_BYTES) for prompt in PROMPTS),
            rules.optional_text("note", MAX_PROMPT_BYTES),
            required={"submission"},
            summary=(
                "a review; body: verdict (approve|revise), meets? (criterion indexes),"
                " works?, question?, suggestion?, note?; refs: submission"
            ),
        ),
        rules.circle_kind(
            BUDDY,
            lambda body: byte_string(body, "with", size=32, required=True),
            rules.optional_text("message", MAX_MESSAGE_BYTES),
            required={"challenge"},
            summary="I pair with this learner on a challenge; body: with (a key), message?;"
            " refs: challenge",
        ),
    )
)
"""The learning-challenge kinds' specs, registered on import."""
