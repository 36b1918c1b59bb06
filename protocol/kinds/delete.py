"""peernode/delete@1: withdraw one of my own events (the delete itself stays, a tombstone)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from protocol.kinds.fields import text
from protocol.kinds.registry import KindSpec, register

MAX_REASON_BYTES: Final = 512


def _check(body: Mapping[str, Any]) -> None:
    text(body, "reason", max_bytes=MAX_REASON_BYTES, required=False, allow_empty=True)


SPEC: Final = register(
    KindSpec(
        name="peernode/delete@1",
        needs_circle=True,
        refs=frozenset({"target"}),
        required_refs=frozenset({"target"}),
        check_body=_check,
        summary="withdraw my event; body: reason?; refs: target",
    )
)
