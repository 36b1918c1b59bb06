"""peernode/checkin@1: the check-in of the meeting agenda, one per learner."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from protocol.kinds.fields import at_least_one, text
from protocol.kinds.registry import KindSpec, register

MAX_FIELD_BYTES: Final = 1024
FIELDS: Final = ("feeling", "working_on", "need_help")


def _check(body: Mapping[str, Any]) -> None:
    for name in FIELDS:
        text(body, name, max_bytes=MAX_FIELD_BYTES, required=False, allow_empty=True)
    at_least_one(body, FIELDS)


SPEC: Final = register(
    KindSpec(
        name="peernode/checkin@1",
        needs_circle=True,
        refs=frozenset({"meeting"}),
        required_refs=frozenset({"meeting"}),
        check_body=_check,
        summary=(
            "my check-in; body: feeling?, working_on?, need_help? (one at least); refs: meeting"
        ),
    )
)
