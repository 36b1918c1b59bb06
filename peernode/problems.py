"""The protocol's field errors in plain words: one sentence a learner can act on.

The rules of each kind (protocol/kinds) name the field they reject (``body.text``)
and why (``must not be empty``), for programs and other implementations. A person
reads instead "The answer is empty: write something." This module is the one
translation, used by the node when it refuses to sign, by the CLI's error funnel
and by the TUI's forms.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

from peernode.errors import BadInput
from protocol.errors import InvalidEvent, ProtocolError
from protocol.event import check_circle

_KIND_NOUNS: Final = {
    "note": "a note",
    "profile": "a profile",
    "edit": "an edit",
    "delete": "a delete",
    "circle": "a circle's description",
    "join": "joining a circle",
    "leave": "leaving a circle",
    "resource": "a shared resource",
    "meeting": "a meeting",
    "rsvp": "an RSVP",
    "attendance": "saying you were there",
    "checkin": "a check-in",
    "plusdelta": "a plus/delta",
    "question": "a question",
    "answer": "an answer",
    "resolved": "marking a question resolved",
    "challenge": "a challenge",
    "start": "starting a challenge",
    "submission": "a submission",
    "review": "a review",
    "buddy": "pairing as buddies",
}
"""What an event of each kind is, by the short name of the kind ('peernode/x@1' → 'x')."""

_KIND_LABELS: Final = {
    ("note", "text"): "the note",
    ("answer", "text"): "the answer",
    ("question", "text"): "the question's text",
    ("question", "title"): "the question's title",
    ("resource", "title"): "the resource's title",
    ("resource", "url"): "the resource's link",
    ("resource", "description"): "the resource's description",
    ("circle", "name"): "the circle's name",
    ("circle", "description"): "the circle's description",
    ("profile", "name"): "your display name",
    ("rsvp", "answer"): "your answer",
    ("challenge", "question"): "the question that frames the challenge",
    ("challenge", "title"): "the challenge's title",
    ("review", "question"): "your one question",
    ("file", "name"): "the file's name",
    ("file", "mime"): "the file's media type",
    ("file", "blob"): "the file's content id",
    ("file", "size"): "the file's size",
    ("file", "type"): "whether it is a file or a folder",
}
"""A field's name where the kind makes it clearer than `_LABELS` does."""

_LABELS: Final = {
    "text": "the text",
    "title": "the title",
    "name": "the name",
    "topic": "the topic",
    "description": "the description",
    "resources": "the resource links",
    "resources.url": "a resource link's address",
    "resources.title": "a resource link's title",
    "resources.licence": "a resource link's licence",
    "rhythm": "the rhythm",
    "rhythm.cadence": "the cadence",
    "rhythm.duration_minutes": "the length of a meeting in minutes",
    "rhythm.weeks": "the number of weeks",
    "language": "the language",
    "message": "the message",
    "url": "the link",
    "tags": "the tags",
    "licence": "the licence",
    "starts_at": "the start time",
    "duration_minutes": "the length of the meeting in minutes",
    "place": "the place",
    "facilitator": "the facilitator",
    "agenda": "the agenda",
    "agenda.checkin": "the check-in prompt",
    "agenda.coursework": "the coursework",
    "agenda.plusdelta": "the plus/delta prompt",
    "agenda.activity": "the activity",
    "agenda.activity.title": "the activity's title",
    "agenda.activity.minutes": "the activity's length in minutes",
    "answer": "the answer",
    "note": "the note",
    "feeling": "how you feel",
    "working_on": "what you work on",
    "need_help": "where you need help",
    "plus": "what went well (plus)",
    "delta": "what to change (delta)",
    "format": "the note's format",
    "mentions": "the people mentioned",
    "learning": "what you are learning",
    "can_help": "what you can help with",
    "reason": "the reason",
    "circle": "the circle or channel name",
    "created_at": "the time it was written",
    "tasks": "the tasks",
    "criteria": "the criteria",
    "criteria.name": "a criterion's name",
    "criteria.meets": "what meeting a criterion looks like",
    "badge": "the badge",
    "badge.name": "the badge's name",
    "badge.description": "the badge's description",
    "badge.image": "the badge's image",
    "files": "the files",
    "reviews": "the number of approvals a badge needs",
    "reviewers": "who may approve",
    "verdict": "the verdict",
    "meets": "the criteria met",
    "works": "what works",
    "suggestion": "your one suggestion",
    "with": "your buddy",
}
"""A field's name in words, by its path without 'body.' and list positions."""

_ITEMS: Final = {
    "tags": "tag",
    "mentions": "person mentioned",
    "resources": "resource link",
    "tasks": "task",
    "criteria": "criterion",
    "files": "file",
    "meets": "criterion met",
}
"""One item of a list field, for 'tag 3 is too long'."""

_REFS: Final = {
    "reply_to": "the note it replies to",
    "updates": "the version it replaces",
    "previous": "the meeting before",
    "meeting": "the meeting",
    "question": "the question",
    "answer": "the answer that helped",
    "target": "the event it changes",
    "challenge": "the challenge",
    "submission": "the submission",
    "forked_from": "the challenge it forks",
}
"""What each reference points to."""

_GOT: Final = {"a map": "a group of fields", "bytes": "raw bytes", "a boolean": "true or false"}
"""A value's type, as the protocol names it, in words."""


def kind_noun(kind: str | None) -> str:
    """'peernode/question@1' → 'a question'; an unknown kind → 'this event'."""
    short = (kind or "").rpartition("/")[2].partition("@")[0]
    return _KIND_NOUNS.get(short, "this event")


def field_label(field: str, kind: str | None = None) -> str:
    """'body.agenda.activity.title' → "the activity's title"; never the raw path."""
    path = field.removeprefix("body.").removeprefix("refs.")
    if field.startswith("refs."):
        return _REFS.get(path, "another event that way")
    item = re.fullmatch(r"(?P<list>[a-z_]+)\[(?P<index>\d+)\]", path)
    if item and item["list"] in _ITEMS:
        return f"{_ITEMS[item['list']]} {int(item['index']) + 1}"
    path = re.sub(r"\[\d+\]", "", path)
    short = (kind or "").rpartition("/")[2].partition("@")[0]
    label = _KIND_LABELS.get((short, path)) or _LABELS.get(path)
    if label is None:  # a field of a newer version: its last name, in words
        label = "the " + path.rpartition(".")[2].replace("_", " ")
    return label


def _names(text: str) -> str:
    """'plus, delta' → 'what went well (plus) or what to change (delta)'."""
    return " or ".join(_LABELS.get(name.strip(), name.strip()) for name in text.split(","))


_Say = Callable[[re.Match[str], str, str], str]
"""(the reason matched, the field's label, what the event is) → the sentence."""

_SENTENCES: Final[tuple[tuple[str, str, _Say], ...]] = (
    # (field pattern, reason pattern, sentence); the first match wins.
    ("refs", r"is required on \S+", lambda m, f, k: f"{_up(k)} needs {f}: say which one."),
    (
        "refs",
        r"not allowed on \S+ \(allowed: .*\)",
        lambda m, f, k: f"{_up(k)} cannot point to {f}: leave it out.",
    ),
    ("refs", r"must be a \d+-byte event id", lambda m, f, k: f"{_up(f)} is not a whole event id."),
    (
        "",
        r"\S+ events belong to a circle",
        lambda m, f, k: f"{_up(k)} belongs in a circle: name one.",
    ),
    (
        "",
        r"\S+ events belong to no circle; must be empty",
        lambda m, f, k: f"{_up(k)} belongs to no circle: leave the circle out.",
    ),
    ("", r"is required(?: \((?P<choices>.*)\))?", lambda m, f, k: _missing(m, f)),
    ("", r"must not be empty", lambda m, f, k: f"{_up(f)} is empty: write something."),
    (
        "",
        r"must be a non-empty string",
        lambda m, f, k: f"{_up(f)} must be a few words of text: write some or leave it out.",
    ),
    (
        "",
        r"is (?P<n>\d+) bytes, the limit is (?P<m>\d+)",
        lambda m, f, k: f"{_up(f)} is too long ({m['n']} bytes, at most {m['m']}): shorten it.",
    ),
    (
        "",
        r"is (?P<n>\d+) chars, the limit is (?P<m>\d+)",
        lambda m, f, k: (
            f"{_up(f)} is too long ({m['n']} characters, at most {m['m']}): shorten it."
        ),
    ),
    ("", r"must be a string(?:, got (?P<got>.+))?", lambda m, f, k: _wrong(f, "text", m)),
    (
        "",
        r"must be an integer(?:, got (?P<got>.+))?",
        lambda m, f, k: _wrong(f, "a whole number", m),
    ),
    ("", r"must be a map(?:, got (?P<got>.+))?", lambda m, f, k: _wrong(f, "a group of fields", m)),
    ("", r"must be a list(?:, got (?P<got>.+))?", lambda m, f, k: _wrong(f, "a list", m)),
    (
        "",
        r"is not valid UTF-8 text",
        lambda m, f, k: f"{_up(f)} holds characters that are not text: type it again.",
    ),
    ("", r"must be one of (?P<c>.+)", lambda m, f, k: f"{_up(f)} must be one of: {m['c']}."),
    (
        "",
        r"must be (?P<n>\d+) bytes",
        lambda m, f, k: f"{_up(f)} is not a whole key: give all of it, or a name.",
    ),
    (
        "starts_at|created_at",
        r"must be between (?P<a>\d+) and (?P<b>\d+)",
        lambda m, f, k: f"{_up(f)} must be a real date, after 1970.",
    ),
    (
        "",
        r"must be between (?P<a>-?\d+) and (?P<b>\d+)",
        lambda m, f, k: f"{_up(f)} must be between {m['a']} and {m['b']}.",
    ),
    (
        "",
        r"must be a URL with a scheme and no spaces",
        lambda m, f, k: (
            f"{_up(f)} must be a full address with no spaces, like https://example.org."
        ),
    ),
    (
        "",
        r"must not contain control characters",
        lambda m, f, k: f"{_up(f)} must be one line, without control characters.",
    ),
    (
        "",
        r"at most (?P<m>\d+) items, got (?P<n>\d+)",
        lambda m, f, k: f"{_up(f)}: at most {m['m']}, and there are {m['n']}; remove some.",
    ),
    (
        "",
        r"needs at least (?P<m>\d+), got (?P<n>\d+)",
        lambda m, f, k: f"{_up(f)}: at least {m['m']}, and there are {m['n']}; add some.",
    ),
    (
        "",
        r"needs at least one of (?P<names>.+)",
        lambda m, f, k: f"Write at least one thing: {_names(m['names'])}.",
    ),
    (
        "",
        r"an edit must change at least one field",
        lambda m, f, k: "An edit must change at least one thing: say what to change.",
    ),
    (
        "",
        r"at most (?P<m>\d+) fields, got (?P<n>\d+)",
        lambda m, f, k: f"An edit changes at most {m['m']} things at once, not {m['n']}: split it.",
    ),
    (
        "circle",
        r"must be a string of at most (?P<m>\d+) chars",
        lambda m, f, k: f"A circle or channel name has at most {m['m']} characters: shorten it.",
    ),
    (
        "circle",
        r"must be lowercase letters, .*",
        lambda m, f, k: (
            "A circle or channel name is lowercase letters, digits, '.', '-' or '_',"
            " starting with a letter or digit, like sql-basics."
        ),
    ),
    (
        "mime",
        r"must be a lower-case media type.*",
        lambda m, f, k: f"{_up(f)} must look like text/plain or application/pdf.",
    ),
    (
        "blob",
        r"must be a version \d+ blob id",
        lambda m, f, k: f"{_up(f)} is from a newer version of peernode: update to fetch it.",
    ),
    (
        "name",
        r"(?P<why>.+ (?:is not a name|holds .+|ends with a dot or a space|is a reserved device"
        r" name on Windows|is not valid text)|a name is at most \d+ bytes)",
        lambda m, f, k: f"{_up(f)} cannot be used on every laptop ({m['why']}): rename it.",
    ),
    (
        "kind",
        r"\S+ is not a kind this node knows",
        lambda m, f, k: "This node does not know that kind of event, so it cannot change it.",
    ),
)


def _up(text: str) -> str:
    return text[:1].upper() + text[1:]


def _missing(match: re.Match[str], label: str) -> str:
    choices = match["choices"]
    return f"{_up(label)} is missing: give {'one of ' + choices if choices else 'it'}."


def _wrong(label: str, wanted: str, match: re.Match[str]) -> str:
    got = f", not {_GOT.get(match['got'], match['got'])}" if match["got"] else ""
    return f"{_up(label)} must be {wanted}{got}."


def describe(field: str, reason: str, kind: str | None = None) -> str | None:
    """The sentence for a field error of the protocol, or None when the reason is unknown."""
    path = field.removeprefix("body.")
    for where, pattern, say in _SENTENCES:
        if where == "refs" and not field.startswith("refs."):
            continue
        if where and where != "refs" and not re.fullmatch(where, path):
            continue
        match = re.fullmatch(pattern, reason)
        if match:
            return say(match, field_label(field, kind), kind_noun(kind))
    return None


_WHOLE_EVENT: Final = re.compile(r"event is (?P<n>\d+) bytes encoded, the limit is (?P<m>\d+)")


def explain(error: BaseException, kind: str | None = None) -> str:
    """One sentence for a person about `error`: protocol errors in plain words, others as is.

    `kind` is the kind of the event being made, when known (it names fields better). The
    node's own errors are for people already (the node explained them with the kind)."""
    if not isinstance(error, ProtocolError):
        return str(error)
    invalid = _invalid_in(error)
    if invalid is not None:
        sentence = describe(invalid.field, invalid.reason, kind)
        if sentence is not None:
            return sentence
        return f"{_up(field_label(invalid.field, kind))} is not accepted: {invalid.reason}."
    if whole := _WHOLE_EVENT.fullmatch(str(error)):
        return f"This is too big to share ({whole['n']} bytes, at most {whole['m']}): shorten it."
    if str(error).startswith("content: "):
        return "This cannot be signed: it holds values other than text, numbers, lists and maps."
    return str(error)


def check_channel_name(name: str) -> None:
    """BadInput (one sentence) when `name` cannot name a circle or channel: for those who
    take a name before work that would be lost if the event then failed its rules."""
    try:
        check_circle(name)
    except InvalidEvent as exc:
        raise BadInput(explain(exc)) from None


def _invalid_in(error: BaseException | None) -> InvalidEvent | None:
    """The InvalidEvent `error` is or was raised from, if any."""
    seen = 0
    while error is not None and seen < 8:  # a cause chain is short; never loop forever
        if isinstance(error, InvalidEvent):
            return error
        error = error.__cause__
        seen += 1
    return None


_INSTEAD: Final = {
    "circle": "propose a new version with an update",
    "rsvp": "answer again, your newest answer counts",
    "join": "leave or join again, your latest choice counts",
    "leave": "leave or join again, your latest choice counts",
    "profile": "publish a new profile",
    "challenge": "write a new version with 'challenge update'",
    "submission": "submit again, a revision replaces it",
    "review": "review again, your newest review counts",
    "start": "it only says you are on the challenge",
    "buddy": "ask again, or ask someone else",
}
"""What to do instead of editing an event of a kind that is replaced, not edited."""


def not_editable(kind: str) -> str:
    """Why an event of `kind` cannot be edited, and what to do instead."""
    short = kind.rpartition("/")[2].partition("@")[0]
    instead = _INSTEAD.get(short, "delete it and make a new one instead")
    return f"{_up(kind_noun(kind))} cannot be edited: {instead}."
