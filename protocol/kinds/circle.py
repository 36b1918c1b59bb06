"""peernode/circle@1: a study circle's description; the newest one is the circle's state.

The event's `circle` field is the circle's slug. Any member may publish a newer
version (refs `updates` → the version it replaces); every version is kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from protocol.kinds.fields import integer, nested, one_of, submap, submaps, text, url
from protocol.kinds.registry import KindSpec, register

MAX_NAME_BYTES: Final = 128
MAX_TOPIC_BYTES: Final = 256
MAX_DESCRIPTION_BYTES: Final = 8 * 1024
MAX_RESOURCES: Final = 64
MAX_URL_BYTES: Final = 2048
MAX_TITLE_BYTES: Final = 256
MAX_LICENCE_BYTES: Final = 128
MAX_LANGUAGE_BYTES: Final = 35
MAX_DURATION_MINUTES: Final = 24 * 60
MAX_WEEKS: Final = 520
CADENCES: Final = frozenset({"weekly", "biweekly", "monthly", "other"})


def check_resource_link(item: Mapping[str, Any]) -> None:
    """{url, title?, licence?}: a link in a circle's description."""
    url(item, "url", max_bytes=MAX_URL_BYTES)
    text(item, "title", max_bytes=MAX_TITLE_BYTES, required=False, allow_empty=True)
    text(item, "licence", max_bytes=MAX_LICENCE_BYTES, required=False, allow_empty=True)


def _check(body: Mapping[str, Any]) -> None:
    text(body, "name", max_bytes=MAX_NAME_BYTES)
    text(body, "topic", max_bytes=MAX_TOPIC_BYTES, required=False, allow_empty=True)
    text(body, "description", max_bytes=MAX_DESCRIPTION_BYTES, required=False, allow_empty=True)
    for index, item in enumerate(submaps(body, "resources", max_items=MAX_RESOURCES)):
        with nested(f"body.resources[{index}]"):
            check_resource_link(item)
    rhythm = submap(body, "rhythm")
    if rhythm is not None:
        with nested("body.rhythm"):
            one_of(rhythm, "cadence", CADENCES, default="weekly")
            integer(rhythm, "duration_minutes", minimum=1, maximum=MAX_DURATION_MINUTES)
            integer(rhythm, "weeks", minimum=1, maximum=MAX_WEEKS)
    text(body, "language", max_bytes=MAX_LANGUAGE_BYTES, required=False, allow_empty=True)


SPEC: Final = register(
    KindSpec(
        name="peernode/circle@1",
        needs_circle=True,
        refs=frozenset({"updates"}),
        check_body=_check,
        summary=(
            "a circle's description (circle = its slug); body: name, topic?, description?,"
            " resources?, rhythm?, language?; refs: updates?"
        ),
    )
)
