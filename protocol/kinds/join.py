"""peernode/join@1: I take part in this (open) circle from now on."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from protocol.kinds.fields import text
from protocol.kinds.registry import KindSpec, register

MAX_MESSAGE_BYTES: Final = 512


def check_membership(body: Mapping[str, Any]) -> None:
    """The body of join and leave: an optional short message."""
    text(body, "message", max_bytes=MAX_MESSAGE_BYTES, required=False, allow_empty=True)


SPEC: Final = register(
    KindSpec(
        name="peernode/join@1",
        needs_circle=True,
        refs=frozenset(),
        check_body=check_membership,
        summary="I join this circle; body: message?",
    )
)
