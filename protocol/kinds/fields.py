"""Field checkers shared by the kinds: each names the field it rejects and why."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from protocol.errors import InvalidEvent


def text(
    body: Mapping[str, Any],
    name: str,
    *,
    max_bytes: int,
    required: bool = True,
    allow_empty: bool = False,
) -> str | None:
    """A UTF-8 string field of at most `max_bytes` encoded bytes."""
    value = body.get(name)
    if value is None:
        if required:
            raise InvalidEvent(f"body.{name}", "is required")
        return None
    if not isinstance(value, str):
        raise InvalidEvent(f"body.{name}", f"must be a string, got {_type_name(value)}")
    if not allow_empty and not value.strip():
        raise InvalidEvent(f"body.{name}", "must not be empty")
    try:
        size = len(value.encode("utf-8"))
    except UnicodeEncodeError:
        raise InvalidEvent(f"body.{name}", "is not valid UTF-8 text") from None
    if size > max_bytes:
        raise InvalidEvent(f"body.{name}", f"is {size} bytes, the limit is {max_bytes}")
    return value


def one_of(body: Mapping[str, Any], name: str, choices: frozenset[str], default: str) -> str:
    value = body.get(name, default)
    if not isinstance(value, str) or value not in choices:
        raise InvalidEvent(f"body.{name}", f"must be one of {', '.join(sorted(choices))}")
    return str(value)


def byte_strings(body: Mapping[str, Any], name: str, *, size: int, max_items: int) -> list[bytes]:
    """An optional list of fixed-size byte strings (keys, ids)."""
    value = body.get(name)
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidEvent(f"body.{name}", f"must be a list, got {_type_name(value)}")
    if len(value) > max_items:
        raise InvalidEvent(f"body.{name}", f"at most {max_items} items, got {len(value)}")
    for index, item in enumerate(value):
        if not isinstance(item, bytes) or len(item) != size:
            raise InvalidEvent(f"body.{name}[{index}]", f"must be {size} bytes")
    return value


def _type_name(value: object) -> str:
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a float",
        bytes: "bytes",
        str: "a string",
        list: "a list",
        dict: "a map",
    }.get(type(value), type(value).__name__)
