"""peernode/rsvp@1: will I come to a meeting? My newest answer counts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from protocol.kinds.fields import choice
from protocol.kinds.registry import KindSpec, register

ANSWERS: Final = frozenset({"yes", "no", "maybe"})


def _check(body: Mapping[str, Any]) -> None:
    choice(body, "answer", ANSWERS)


SPEC: Final = register(
    KindSpec(
        name="peernode/rsvp@1",
        needs_circle=True,
        refs=frozenset({"meeting"}),
        required_refs=frozenset({"meeting"}),
        check_body=_check,
        summary="my answer to a meeting; body: answer (yes|no|maybe); refs: meeting",
    )
)
