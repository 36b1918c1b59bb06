"""Rules of the core kinds (note, profile, edit, delete): every bad field is named; newer
fields pass."""

from __future__ import annotations

from typing import Any

import msgpack
import pytest

from protocol import kinds
from protocol.codec import pack
from protocol.errors import InvalidEvent, LocalProtocolError
from protocol.event import SIGNING_CONTEXT, create_event, decode_event
from protocol.identity import SigningKey
from protocol.kinds.core import (
    MAX_NOTE_MENTIONS,
    MAX_NOTE_TEXT_BYTES,
    MAX_PROFILE_ABOUT_BYTES,
    MAX_PROFILE_NAME_BYTES,
)

KEY = SigningKey.from_seed(b"\x05" * 32)
ID = b"\x06" * 32
T = {"target": ID}


def remote(kind: str, circle: str, body: Any, refs: Any = None) -> bytes:
    """Signed bytes as another client might send them, bypassing create_event's checks."""
    content = pack([1, KEY.public_key, 1_000, kind, circle, refs or {}, body])
    return KEY.sign(SIGNING_CONTEXT + content) + content


def note(circle: str = "lobby", refs: Any = None, **body: Any) -> bytes:
    return remote(kinds.NOTE, circle, body, refs)


def profile(circle: str = "", refs: Any = None, **body: Any) -> bytes:
    return remote(kinds.PROFILE, circle, body, refs)


def edit(circle: str = "sql", refs: Any = T, **body: Any) -> bytes:
    return remote(kinds.EDIT, circle, body, refs)


def delete(circle: str = "sql", refs: Any = T, **body: Any) -> bytes:
    return remote(kinds.DELETE, circle, body, refs)


BAD = [
    # notes
    ("note without text", note(), "body.text"),
    ("note text nil", note(text=None), "body.text"),
    ("note text int", note(text=5), "body.text"),
    ("note text bytes", note(text=b"hi"), "body.text"),
    ("note text empty", note(text=""), "body.text"),
    ("note text blank", note(text=" \n\t "), "body.text"),
    ("note text too long", note(text="é" * (MAX_NOTE_TEXT_BYTES // 2) + "x"), "body.text"),
    ("note format unknown", note(text="x", format="html"), "body.format"),
    ("note format int", note(text="x", format=1), "body.format"),
    ("note format list", note(text="x", format=["plain"]), "body.format"),
    ("note format map", note(text="x", format={}), "body.format"),
    ("note mentions not list", note(text="x", mentions=ID), "body.mentions"),
    (
        "note mentions too many",
        note(text="x", mentions=[ID] * (MAX_NOTE_MENTIONS + 1)),
        "body.mentions",
    ),
    ("note mention short", note(text="x", mentions=[ID, ID[:31]]), "body.mentions[1]"),
    ("note mention str", note(text="x", mentions=[ID.hex()]), "body.mentions[0]"),
    ("note without circle", note(circle="", text="x"), "circle"),
    ("note edit_of ref", note(text="x", refs={"edit_of": ID}), "refs.edit_of"),
    ("note unknown ref", note(text="x", refs={"reply_to": ID, "quote": ID}), "refs.quote"),
    # profiles
    ("profile without name", profile(), "body.name"),
    ("profile name empty", profile(name=""), "body.name"),
    ("profile name blank", profile(name="   "), "body.name"),
    ("profile name int", profile(name=7), "body.name"),
    ("profile name too long", profile(name="é" * 32 + "x"), "body.name"),
    ("profile learning int", profile(name="a", learning=1), "body.learning"),
    ("profile learning too long", profile(name="a", learning="x" * 513), "body.learning"),
    ("profile can_help list", profile(name="a", can_help=["x"]), "body.can_help"),
    ("profile can_help too long", profile(name="a", can_help="ü" * 257), "body.can_help"),
    ("profile in a circle", profile(circle="lobby", name="a"), "circle"),
    ("profile with reply_to", profile(name="a", refs={"reply_to": ID}), "refs.reply_to"),
    # edit, delete
    ("edit empty", edit(), "body"),
    ("edit too many fields", edit(**{f"f{i}": 1 for i in range(65)}), "body"),
    ("edit question ref", edit(refs={"question": ID}, x=1), "refs.question"),
    ("delete reason too long", delete(reason="x" * 513), "body.reason"),
    ("delete without circle", delete(circle=""), "circle"),
]


@pytest.mark.parametrize(("label", "raw", "field"), BAD, ids=[case[0] for case in BAD])
def test_bad_field_is_rejected_by_name(label: str, raw: bytes, field: str) -> None:
    with pytest.raises(InvalidEvent) as info:
        decode_event(raw)
    assert info.value.field == field
    assert str(info.value).startswith(f"{field}: ")


@pytest.mark.parametrize(("label", "raw", "field"), BAD, ids=[case[0] for case in BAD])
def test_creating_the_same_is_a_local_error_naming_the_field(
    label: str, raw: bytes, field: str
) -> None:
    fields = decode_fields(raw)
    with pytest.raises(LocalProtocolError) as info:
        create_event(
            KEY, kind=fields[3], circle=fields[4], refs=fields[5], body=fields[6], created_at=1
        )
    assert str(info.value).startswith(f"{field}: ")


def decode_fields(raw: bytes) -> list[Any]:
    fields: list[Any] = msgpack.unpackb(raw[64:], raw=False)
    return fields


GOOD = [
    ("note minimal", note(text="x")),
    ("note at the text limit", note(text="é" * (MAX_NOTE_TEXT_BYTES // 2))),
    ("note plain", note(text="x", format="plain")),
    # nil counts as absent in every optional field, of every known kind
    ("note format nil", note(text="x", format=None)),
    ("note mentions nil", note(text="x", mentions=None)),
    ("profile about nil", profile(name="a", learning=None, can_help=None)),
    ("note markdown", note(text="# x", format="markdown")),
    ("note mentions", note(text="x", mentions=[ID] * MAX_NOTE_MENTIONS)),
    ("note empty mentions", note(text="x", mentions=[])),
    ("note reply", note(text="x", refs={"reply_to": ID})),
    ("note newer fields", note(text="x", lang="en", attachments=[{"sha": ID}], v2=None)),
    ("profile minimal", profile(name="a")),
    (
        "profile at the limits",
        profile(name="é" * (MAX_PROFILE_NAME_BYTES // 2), learning="x" * 512),
    ),
    ("profile empty about", profile(name="a", learning="", can_help="")),
    ("profile newer fields", profile(name="a", avatar=b"\x89PNG", pronouns="they")),
    ("edit at the field limit", edit(**{f"f{i}": 1 for i in range(64)})),
]


@pytest.mark.parametrize(("label", "raw"), GOOD, ids=[case[0] for case in GOOD])
def test_valid_events_with_newer_fields_are_accepted_and_kept_whole(label: str, raw: bytes) -> None:
    event = decode_event(raw)
    assert event.raw == raw
    assert dict(event.body) == decode_fields(raw)[6]


def test_limits_match_the_documented_numbers() -> None:
    assert (
        MAX_NOTE_TEXT_BYTES,
        MAX_NOTE_MENTIONS,
        MAX_PROFILE_NAME_BYTES,
        MAX_PROFILE_ABOUT_BYTES,
    ) == (
        32 * 1024,
        32,
        64,
        512,
    )


# The order of docs/protocol.md "Rules of the known kinds": circle, refs in the order they
# are written, missing required refs, then the body fields in the order of the table.
ORDER = [
    ("circle before refs", note(circle="", refs={"bad": ID}), "circle"),
    ("circle before body", profile(circle="lobby", name=5), "circle"),
    ("refs before body", note(refs={"bad": ID}, text=5), "refs.bad"),
    ("refs as written", note(refs={"zz": ID, "aa": ID}), "refs.zz"),
    ("extra ref before missing ref", edit(refs={"bad": ID}), "refs.bad"),
    ("missing ref before body", edit(refs={}), "refs.target"),
    ("text before format", note(text=5, format="html"), "body.text"),
    ("format before mentions", note(text="x", format="html", mentions=5), "body.format"),
    ("name before learning", profile(name="", learning=5), "body.name"),
    ("learning before can_help", profile(name="a", learning=5, can_help=5), "body.learning"),
]


@pytest.mark.parametrize(("label", "raw", "field"), ORDER, ids=[case[0] for case in ORDER])
def test_the_first_broken_rule_in_the_documented_order_wins(
    label: str, raw: bytes, field: str
) -> None:
    with pytest.raises(InvalidEvent) as info:
        decode_event(raw)
    assert info.value.field == field
