"""Every rule of every known kind, broken on purpose, reads as one plain sentence."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from peernode.problems import describe, explain, field_label
from protocol.errors import InvalidEvent, LocalProtocolError
from protocol.kinds.registry import KindSpec, known_kinds, validate

BAD_VALUES: tuple[Any, ...] = (
    5,
    True,
    "",
    "   ",
    "x" * 40_000,
    "zzz",
    "no spaces allowed",
    -1,
    10**6,
    b"short",
    {},
    [],
    [5],
    [""],
    ["t" * 40],
    ["a\x01b"],
    ["tag"] * 100,
    [{}],
    [{"url": "not a url"}],
    [{"url": 5}],
)
"""Values that break some rule of some field: wrong types, empty, too long, out of range."""

RAW = re.compile(r"body|refs\.|\[\d|_|@\d|peernode/")
"""What a learner must never read in an error: field paths, kind names, snake_case."""


def body_fields(spec: KindSpec) -> list[str]:
    """The field names a kind's summary lists ('body: text, format?, ...'), at any depth."""
    body = spec.summary.partition("body:")[2].partition("; refs")[0]
    body = re.sub(r"\([^)]*\)", "", body)  # '(yes|no|maybe)', '(one at least)'
    return sorted(set(re.findall(r"[a-z_]+", body)) - {"the", "fields"})


GOOD_GUESSES: tuple[Any, ...] = (
    "ok",
    1000,
    "yes",
    "https://example.org",
    bytes(32),
    ["ok"],
    [{"name": "ok", "meets": "ok"}] * 2,
    {"name": "ok"},
    "approve",
    "file",
    b"\x01" + bytes(32),  # a version 1 blob id (docs/protocol-files.md)
)
"""Values tried, in order, for a required field until the kind accepts one."""


def minimal_body(spec: KindSpec, refs: dict[str, bytes], circle: str) -> dict[str, Any]:
    """A body the kind accepts, found by filling what its rules say is missing."""
    body: dict[str, Any] = {}
    for _ in range(60):
        try:
            validate(kind=spec.name, circle=circle, refs=refs, body=body)
            return body
        except InvalidEvent as exc:
            if exc.field == "body" and "at least one of" in exc.reason:
                body[exc.reason.rpartition(" of ")[2].split(", ")[0]] = "ok"
                continue
            if exc.field == "body" and "edit" in exc.reason:
                body["title"] = "ok"
                continue
            name = exc.field.removeprefix("body.").split("[")[0]
            tried = body.get(name)
            guesses = (
                GOOD_GUESSES[GOOD_GUESSES.index(tried) + 1 :] if name in body else GOOD_GUESSES
            )
            body[name] = guesses[0]
    raise AssertionError(f"no body found that {spec.name} accepts")


def broken(spec: KindSpec, base: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Bodies that break the kind's rules, one field at a time, nested maps included."""
    names = body_fields(spec)
    yield {}
    for name in names:
        for value in BAD_VALUES:
            yield {**base, name: value}
        for inner in names:  # the field as a map holding a bad field
            for value in (5, "", {}, "x" * 5000, -1):
                yield {**base, name: {inner: value}}
                yield {**base, name: {inner: {"title": "ok", "minutes": value}}}


def errors_of(spec: KindSpec) -> Iterator[InvalidEvent]:
    """Every InvalidEvent the kind's rules raise for the broken bodies, circles and refs."""
    good_refs = {name: bytes(32) for name in spec.required_refs}
    circle = "sql" if spec.needs_circle else ""
    cases: list[tuple[str, dict[str, bytes], dict[str, Any]]] = [
        ("" if spec.needs_circle else "sql", good_refs, {}),
        (circle, {}, {}),
        (circle, {**good_refs, "nonsense": bytes(32)}, {}),
    ]
    base = minimal_body(spec, good_refs, circle)
    cases += [(circle, good_refs, body) for body in broken(spec, base)]
    for where, refs, body in cases:
        try:
            validate(kind=spec.name, circle=where, refs=refs, body=body)
        except InvalidEvent as exc:
            yield exc


def all_errors() -> list[tuple[str, InvalidEvent]]:
    """One of each (kind, field, reason) the walk finds."""
    found = {
        (spec.name, exc.field, exc.reason): exc for spec in known_kinds() for exc in errors_of(spec)
    }
    return [(kind, exc) for (kind, _, _), exc in sorted(found.items())]


def test_the_walk_breaks_every_rule_of_every_kind() -> None:
    found = all_errors()
    reasons = {re.sub(r"\d+", "N", exc.reason.split(" on ")[0]) for _, exc in found}
    kinds_broken = {kind for kind, _ in found}

    assert kinds_broken == {spec.name for spec in known_kinds()}
    for expected in (
        "is required",
        "must not be empty",
        "must be a string, got an integer",
        "is N bytes, the limit is N",
        "must be an integer, got a string",
        "must be between N and N",
        "must be one of maybe, no, yes",
        "must be N bytes",
        "must be a URL with a scheme and no spaces",
        "must be a non-empty string",
        "is N chars, the limit is N",
        "must not contain control characters",
        "must be a map, got an integer",
        "must be a list, got an integer",
        "at most N items, got N",
        "needs at least one of plus, delta",
        "needs at least one of feeling, working_on, need_help",
        "an edit must change at least one field",
        "not allowed",
        "is required (maybe, no, yes)",
    ):
        assert expected in reasons, expected


@pytest.mark.parametrize(("kind", "error"), all_errors(), ids=lambda v: str(v)[:60])
def test_each_broken_rule_reads_as_one_plain_sentence(kind: str, error: InvalidEvent) -> None:
    sentence = describe(error.field, error.reason, kind)

    assert sentence is not None, f"no sentence for {error}"
    assert not RAW.search(sentence), sentence
    assert sentence[0].isupper(), sentence
    assert sentence.endswith("."), sentence
    assert "\n" not in sentence


@pytest.mark.parametrize(
    ("kind", "field", "reason", "sentence"),
    [
        (
            "peernode/plusdelta@1",
            "body",
            "needs at least one of plus, delta",
            "Write at least one thing: what went well (plus) or what to change (delta).",
        ),
        (
            "peernode/answer@1",
            "body.text",
            "must not be empty",
            "The answer is empty: write something.",
        ),
        (
            "peernode/meeting@1",
            "body.agenda.activity.minutes",
            "must be between 1 and 180",
            "The activity's length in minutes must be between 1 and 180.",
        ),
        (
            "peernode/question@1",
            "body.tags[2]",
            "is 40 chars, the limit is 32",
            "Tag 3 is too long (40 characters, at most 32): shorten it.",
        ),
        (
            "peernode/rsvp@1",
            "refs.meeting",
            "is required on peernode/rsvp@1",
            "An RSVP needs the meeting: say which one.",
        ),
    ],
)
def test_sentences_say_what_to_do(kind: str, field: str, reason: str, sentence: str) -> None:
    assert describe(field, reason, kind) == sentence


def test_a_field_of_a_newer_version_is_named_in_words() -> None:
    assert field_label("body.some_new_field") == "the some new field"
    assert field_label("refs.whatever") == "another event that way"


def test_explain_follows_the_cause_and_keeps_other_errors() -> None:
    wrapped = LocalProtocolError("body.title: is required")
    wrapped.__cause__ = InvalidEvent("body.title", "is required")
    assert explain(wrapped, "peernode/question@1") == "The question's title is missing: give it."
    too_big = LocalProtocolError("event is 70000 bytes encoded, the limit is 65536")
    assert explain(too_big) == "This is too big to share (70000 bytes, at most 65536): shorten it."
    assert explain(ValueError("as it was")) == "as it was"
    unknown = InvalidEvent("body.colour", "must be blue")
    assert explain(unknown) == "The colour is not accepted: must be blue."
