"""peernode/note@1: what a member writes while learning, in Markdown."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from protocol.kinds.fields import byte_strings, one_of, text
from protocol.kinds.registry import KindSpec, register

MAX_TEXT_BYTES: Final = 32 * 1024
MAX_MENTIONS: Final = 32
FORMATS: Final = frozenset({"markdown", "plain"})


def _check(body: Mapping[str, Any]) -> None:
    text(body, "text", max_bytes=MAX_TEXT_BYTES)
    one_of(body, "format", FORMATS, default="markdown")
    byte_strings(body, "mentions", size=32, max_items=MAX_MENTIONS)


SPEC: Final = register(
    KindSpec(
        name="peernode/note@1",
        needs_circle=True,
        refs=frozenset({"reply_to"}),
        check_body=_check,
        summary="a note in a circle; body: text, format?, mentions?; refs: reply_to?",
    )
)
