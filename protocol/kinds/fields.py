"""Field checkers shared by the kinds: each names the field it rejects and why.

Rule of every checker here: an optional field sent as nil counts as absent, and a required
one sent as nil is missing (docs/protocol.md, "Rules of the known kinds").
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Final

from protocol.errors import InvalidEvent
from protocol.limits import MAX_TIMESTAMP_MS


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
        raise InvalidEvent(f"body.{name}", f"must be a string, got {type_name(value)}")
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
    """One of a fixed set of strings, `default` when absent (nil counts as absent)."""
    value = body.get(name)
    if value is None:
        return default
    if not isinstance(value, str) or value not in choices:
        raise InvalidEvent(f"body.{name}", f"must be one of {', '.join(sorted(choices))}")
    return str(value)


def byte_strings(body: Mapping[str, Any], name: str, *, size: int, max_items: int) -> list[bytes]:
    """An optional list of fixed-size byte strings (keys, ids)."""
    value = _optional_list(body, name, max_items=max_items)
    for index, item in enumerate(value):
        if not isinstance(item, bytes) or len(item) != size:
            raise InvalidEvent(f"body.{name}[{index}]", f"must be {size} bytes")
    return value


def type_name(value: object) -> str:
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a float",
        bytes: "bytes",
        str: "a string",
        list: "a list",
        dict: "a map",
    }.get(type(value), type(value).__name__)


_URL_RE: Final = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s\x00-\x1f\x7f]+")


def integer(
    body: Mapping[str, Any], name: str, *, minimum: int, maximum: int, required: bool = False
) -> int | None:
    """An integer field within [minimum, maximum] (booleans are not integers)."""
    value = body.get(name)
    if value is None:
        if required:
            raise InvalidEvent(f"body.{name}", "is required")
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidEvent(f"body.{name}", f"must be an integer, got {type_name(value)}")
    if not minimum <= value <= maximum:
        raise InvalidEvent(f"body.{name}", f"must be between {minimum} and {maximum}")
    return value


def timestamp(body: Mapping[str, Any], name: str, *, required: bool = True) -> int | None:
    """Milliseconds since the Unix epoch, as created_at."""
    return integer(body, name, minimum=0, maximum=MAX_TIMESTAMP_MS, required=required)


def choice(
    body: Mapping[str, Any], name: str, choices: frozenset[str], *, required: bool = True
) -> str | None:
    """One of a fixed set of strings, with no default."""
    value = body.get(name)
    if value is None:
        if required:
            raise InvalidEvent(f"body.{name}", f"is required ({', '.join(sorted(choices))})")
        return None
    if not isinstance(value, str) or value not in choices:
        raise InvalidEvent(f"body.{name}", f"must be one of {', '.join(sorted(choices))}")
    return value


def byte_string(
    body: Mapping[str, Any], name: str, *, size: int, required: bool = False
) -> bytes | None:
    """One fixed-size byte string (a key, an id)."""
    value = body.get(name)
    if value is None:
        if required:
            raise InvalidEvent(f"body.{name}", "is required")
        return None
    if not isinstance(value, bytes) or len(value) != size:
        raise InvalidEvent(f"body.{name}", f"must be {size} bytes")
    return value


def url(body: Mapping[str, Any], name: str, *, max_bytes: int, required: bool = True) -> str | None:
    """A URL or URI with a scheme (https:, magnet:, ...) and no spaces or control chars."""
    value = text(body, name, max_bytes=max_bytes, required=required)
    if value is not None and not _URL_RE.fullmatch(value):
        raise InvalidEvent(f"body.{name}", "must be a URL with a scheme and no spaces")
    return value


def short_strings(
    body: Mapping[str, Any], name: str, *, max_items: int, max_chars: int
) -> list[str]:
    """An optional list of short, non-blank, single-line strings (tags)."""
    value = _optional_list(body, name, max_items=max_items)
    for index, item in enumerate(value):
        where = f"body.{name}[{index}]"
        if not isinstance(item, str) or not item.strip():
            raise InvalidEvent(where, "must be a non-empty string")
        if len(item) > max_chars:
            raise InvalidEvent(where, f"is {len(item)} chars, the limit is {max_chars}")
        if any(ord(char) < 0x20 or ord(char) == 0x7F for char in item):
            raise InvalidEvent(where, "must not contain control characters")
        try:
            item.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidEvent(where, "is not valid UTF-8 text") from None
    return value


def submap(
    body: Mapping[str, Any], name: str, *, required: bool = False
) -> Mapping[str, Any] | None:
    """A nested map; check its fields inside `nested(f"body.{name}")`."""
    value = body.get(name)
    if value is None:
        if required:
            raise InvalidEvent(f"body.{name}", "is required")
        return None
    if not isinstance(value, dict):
        raise InvalidEvent(f"body.{name}", f"must be a map, got {type_name(value)}")
    return value


def submaps(body: Mapping[str, Any], name: str, *, max_items: int) -> list[Mapping[str, Any]]:
    """An optional list of maps; check each inside `nested(f"body.{name}[i]")`."""
    value = _optional_list(body, name, max_items=max_items)
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            raise InvalidEvent(f"body.{name}[{index}]", f"must be a map, got {type_name(item)}")
    return value


@contextmanager
def nested(path: str) -> Iterator[None]:
    """Name errors of a nested map's fields by their full path.

    The helpers above name fields ``body.x``; inside ``nested("body.rhythm")``
    that becomes ``body.rhythm.x``.
    """
    try:
        yield
    except InvalidEvent as exc:
        if not exc.field.startswith("body."):
            raise
        raise InvalidEvent(f"{path}.{exc.field[len('body.') :]}", exc.reason) from None


def at_least_one(body: Mapping[str, Any], names: tuple[str, ...]) -> None:
    """At least one of the (already checked, optional) text fields is not blank."""
    if not any(isinstance(body.get(name), str) and body[name].strip() for name in names):
        raise InvalidEvent("body", f"needs at least one of {', '.join(names)}")


def field_count(body: Mapping[str, Any], *, max_fields: int) -> None:
    """At most `max_fields` fields in the body."""
    if len(body) > max_fields:
        raise InvalidEvent("body", f"at most {max_fields} fields, got {len(body)}")


def _optional_list(body: Mapping[str, Any], name: str, *, max_items: int) -> list[Any]:
    """The list field `name` ([] when absent), checked for type and length only."""
    value = body.get(name)
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidEvent(f"body.{name}", f"must be a list, got {type_name(value)}")
    if len(value) > max_items:
        raise InvalidEvent(f"body.{name}", f"at most {max_items} items, got {len(value)}")
    return value
