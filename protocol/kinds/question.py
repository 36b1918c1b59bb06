"""peernode/question@1: a request for help; anyone answers, the asker marks what helped."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from protocol.kinds.fields import short_strings, text
from protocol.kinds.registry import KindSpec, register

MAX_TITLE_BYTES: Final = 256
MAX_TEXT_BYTES: Final = 32 * 1024
MAX_TAGS: Final = 16
MAX_TAG_CHARS: Final = 32


def _check(body: Mapping[str, Any]) -> None:
    text(body, "title", max_bytes=MAX_TITLE_BYTES)
    text(body, "text", max_bytes=MAX_TEXT_BYTES, required=False, allow_empty=True)
    short_strings(body, "tags", max_items=MAX_TAGS, max_chars=MAX_TAG_CHARS)


SPEC: Final = register(
    KindSpec(
        name="peernode/question@1",
        needs_circle=True,
        refs=frozenset(),
        check_body=_check,
        summary="a question; body: title, text?, tags?",
    )
)
