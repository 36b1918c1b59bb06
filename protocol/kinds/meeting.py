"""peernode/meeting@1: a meeting of the circle, with the four-part agenda.

Any member can schedule the next meeting; refs `previous` → the meeting before.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from protocol.kinds.fields import byte_string, integer, nested, submap, text, timestamp
from protocol.kinds.registry import KindSpec, register

MAX_DURATION_MINUTES: Final = 24 * 60
MAX_PLACE_BYTES: Final = 256
MAX_AGENDA_ITEM_BYTES: Final = 4096
MAX_ACTIVITY_TITLE_BYTES: Final = 256
MIN_ACTIVITY_MINUTES: Final = 1
MAX_ACTIVITY_MINUTES: Final = 180


def _check(body: Mapping[str, Any]) -> None:
    timestamp(body, "starts_at")
    integer(body, "duration_minutes", minimum=1, maximum=MAX_DURATION_MINUTES)
    text(body, "place", max_bytes=MAX_PLACE_BYTES, required=False, allow_empty=True)
    byte_string(body, "facilitator", size=32)
    agenda = submap(body, "agenda")
    if agenda is None:
        return
    with nested("body.agenda"):
        for part in ("checkin", "coursework", "plusdelta"):
            text(agenda, part, max_bytes=MAX_AGENDA_ITEM_BYTES, required=False, allow_empty=True)
        activity = submap(agenda, "activity")
    if activity is not None:
        with nested("body.agenda.activity"):
            text(activity, "title", max_bytes=MAX_ACTIVITY_TITLE_BYTES)
            integer(activity, "minutes", minimum=MIN_ACTIVITY_MINUTES, maximum=MAX_ACTIVITY_MINUTES)


SPEC: Final = register(
    KindSpec(
        name="peernode/meeting@1",
        needs_circle=True,
        refs=frozenset({"previous"}),
        check_body=_check,
        summary=(
            "a meeting; body: starts_at, duration_minutes?, place?, facilitator?, agenda?"
            " {checkin?, coursework?, activity? {title, minutes?}, plusdelta?}; refs: previous?"
        ),
    )
)
