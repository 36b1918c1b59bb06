"""peernode/resolved@1: the asker marks a question resolved (and what helped).

Only the question's author's resolved events count; that is a rule of the
circle state (it needs the question), not of this event alone.
"""

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
        name="peernode/resolved@1",
        needs_circle=True,
        refs=frozenset({"question", "answer"}),
        required_refs=frozenset({"question"}),
        check_body=_check,
        summary="my question is resolved; body: note?; refs: question, answer?",
    )
)
