"""peernode/resource@1: a link a member shares with the circle."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from protocol.kinds.fields import short_strings, text, url
from protocol.kinds.registry import KindSpec, register

MAX_URL_BYTES: Final = 2048
MAX_TITLE_BYTES: Final = 256
MAX_DESCRIPTION_BYTES: Final = 4096
MAX_TAGS: Final = 16
MAX_TAG_CHARS: Final = 32
MAX_LICENCE_BYTES: Final = 128


def _check(body: Mapping[str, Any]) -> None:
    url(body, "url", max_bytes=MAX_URL_BYTES)
    text(body, "title", max_bytes=MAX_TITLE_BYTES)
    text(body, "description", max_bytes=MAX_DESCRIPTION_BYTES, required=False, allow_empty=True)
    short_strings(body, "tags", max_items=MAX_TAGS, max_chars=MAX_TAG_CHARS)
    text(body, "licence", max_bytes=MAX_LICENCE_BYTES, required=False, allow_empty=True)


SPEC: Final = register(
    KindSpec(
        name="peernode/resource@1",
        needs_circle=True,
        refs=frozenset(),
        check_body=_check,
        summary="a shared link; body: url, title, description?, tags?, licence?",
    )
)
