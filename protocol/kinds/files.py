"""The file kind (docs/protocol-files.md): a file or folder shared with a circle, by blob id."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from protocol.errors import InvalidEvent
from protocol.files.blob import BLOB_ID_BYTES, BLOB_VERSION
from protocol.files.paths import BadPath, check_name
from protocol.kinds.circles import (
    MAX_LICENCE_BYTES,
    MAX_RESOURCE_DESCRIPTION_BYTES,
    MAX_TAG_CHARS,
    MAX_TAGS,
    MAX_TITLE_BYTES,
)
from protocol.kinds.fields import byte_string, choice, integer, short_strings, text
from protocol.kinds.registry import KindSpec, register

FILE: Final = "peernode/file@1"
"""A file or a folder shared with a circle; its bytes travel on the bulk path by blob id."""

FILE_TYPES: Final = frozenset({"file", "folder"})
"""A folder's blob is its manifest (docs/protocol-files.md)."""
MAX_FILE_SIZE: Final = 2**53 - 1
MAX_MIME_BYTES: Final = 127
_MIME_RE: Final = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*")


def _name(body: Mapping[str, Any]) -> None:
    name = text(body, "name", max_bytes=255)
    assert name is not None
    try:
        check_name(name)
    except BadPath as exc:
        raise InvalidEvent("body.name", str(exc)) from None


def _mime(body: Mapping[str, Any]) -> None:
    mime = text(body, "mime", max_bytes=MAX_MIME_BYTES, required=False)
    if mime is not None and not _MIME_RE.fullmatch(mime):
        raise InvalidEvent("body.mime", "must be a lower-case media type such as text/plain")


def _blob(body: Mapping[str, Any]) -> None:
    blob = byte_string(body, "blob", size=BLOB_ID_BYTES, required=True)
    if blob is not None and blob[0] != BLOB_VERSION:
        raise InvalidEvent("body.blob", f"must be a version {BLOB_VERSION} blob id")


def check_file_body(body: Mapping[str, Any]) -> None:
    """name, size, type, blob; mime?, title?, description?, licence?, tags?"""
    _name(body)
    integer(body, "size", minimum=0, maximum=MAX_FILE_SIZE, required=True)
    choice(body, "type", FILE_TYPES)
    _blob(body)
    _mime(body)
    text(body, "title", max_bytes=MAX_TITLE_BYTES, required=False, allow_empty=True)
    text(
        body,
        "description",
        max_bytes=MAX_RESOURCE_DESCRIPTION_BYTES,
        required=False,
        allow_empty=True,
    )
    text(body, "licence", max_bytes=MAX_LICENCE_BYTES, required=False, allow_empty=True)
    short_strings(body, "tags", max_items=MAX_TAGS, max_chars=MAX_TAG_CHARS)


SPEC: Final = register(
    KindSpec(
        name=FILE,
        needs_circle=True,
        refs=frozenset(),
        check_body=check_file_body,
        summary=(
            "a shared file or folder; body: name, size, type (file|folder), blob, mime?,"
            " title?, description?, licence?, tags?"
        ),
    )
)
"""Registered on import (protocol.kinds imports this module)."""
