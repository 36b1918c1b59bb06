"""peernode/attendance@1: "I was here", signed by each attendee for a meeting."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from protocol.kinds.fields import text
from protocol.kinds.registry import KindSpec, register

MAX_NOTE_BYTES: Final = 512


def _check(body: Mapping[str, Any]) -> None:
    text(body, "note", max_bytes=MAX_NOTE_BYTES, required=False, allow_empty=True)


SPEC: Final = register(
    KindSpec(
        name="peernode/attendance@1",
        needs_circle=True,
        refs=frozenset({"meeting"}),
        required_refs=frozenset({"meeting"}),
        check_body=_check,
        summary="I attended a meeting; body: note?; refs: meeting",
    )
)
