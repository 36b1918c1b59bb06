"""peernode/profile@1: who a learner is; the newest one by its author wins."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from protocol.kinds.fields import text
from protocol.kinds.registry import KindSpec, register

MAX_NAME_BYTES: Final = 64
MAX_ABOUT_BYTES: Final = 512


def _check(body: Mapping[str, Any]) -> None:
    text(body, "name", max_bytes=MAX_NAME_BYTES)
    text(body, "learning", max_bytes=MAX_ABOUT_BYTES, required=False, allow_empty=True)
    text(body, "can_help", max_bytes=MAX_ABOUT_BYTES, required=False, allow_empty=True)


SPEC: Final = register(
    KindSpec(
        name="peernode/profile@1",
        needs_circle=False,
        refs=frozenset(),
        check_body=_check,
        summary="a learner's profile; body: name, learning?, can_help?",
    )
)
