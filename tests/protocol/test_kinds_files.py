"""The file kind's rules (protocol/kinds/files.py)."""

from __future__ import annotations

from typing import Any

import pytest

from protocol import kinds
from protocol.errors import InvalidEvent
from protocol.files import layout_of

BODY: dict[str, Any] = {
    "name": "week1.pdf",
    "size": 5,
    "type": "file",
    "blob": layout_of(b"hello").id,
    "mime": "application/pdf",
    "title": "Week 1 slides",
    "licence": "CC BY 4.0",
    "tags": ["slides"],
}


def check(body: dict[str, Any], circle: str = "sql-basics") -> None:
    kinds.validate(kind=kinds.FILE, circle=circle, refs={}, body=body)


def test_a_full_file_body_is_valid_and_needs_a_circle() -> None:
    check(BODY)
    check({key: BODY[key] for key in ("name", "size", "type", "blob")})
    with pytest.raises(InvalidEvent, match="circle"):
        check(BODY, circle="")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": "../x"}, "body.name"),
        ({"name": "a/b"}, "body.name"),
        ({"name": "CON"}, "body.name"),
        ({"size": -1}, "body.size"),
        ({"size": "5"}, "body.size"),
        ({"type": "link"}, "body.type"),
        ({"blob": b"\x01" * 32}, "body.blob"),
        ({"blob": b"\x02" + bytes(32)}, "body.blob"),
        ({"mime": "Not A Type"}, "body.mime"),
        ({"tags": ["a\nb"]}, "body.tags[0]"),
    ],
)
def test_bad_fields_are_named(change: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidEvent) as caught:
        check({**BODY, **change})
    assert caught.value.field == field


def test_required_fields() -> None:
    for name in ("name", "size", "type", "blob"):
        with pytest.raises(InvalidEvent) as caught:
            check({key: value for key, value in BODY.items() if key != name})
        assert caught.value.field == f"body.{name}"
