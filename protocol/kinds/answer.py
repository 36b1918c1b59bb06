"""peernode/answer@1: an answer to a question."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from protocol.kinds.fields import text
from protocol.kinds.registry import KindSpec, register

MAX_TEXT_BYTES: Final = 32 * 1024


def _check(body: Mapping[str, Any]) -> None:
    text(body, "text", max_bytes=MAX_TEXT_BYTES)


SPEC: Final = register(
    KindSpec(
        name="peernode/answer@1",
        needs_circle=True,
        refs=frozenset({"question"}),
        required_refs=frozenset({"question"}),
        check_body=_check,
        summary="an answer; body: text; refs: question",
    )
)
