"""Hard limits of the wire format, enforced before any other work is done."""

from __future__ import annotations

from typing import Final

MAX_EVENT_BYTES: Final = 60 * 1024
"""Largest encoded event (signature + content) a node accepts or creates: 60 KiB,
so that one event always fits in one Noise transport message (65,535 bytes)."""

MAX_DEPTH: Final = 16
"""Deepest nesting of arrays and maps inside an event's content."""

MAX_ARRAY_LEN: Final = 4096
MAX_MAP_LEN: Final = 1024
MAX_REFS: Final = 16
MAX_KIND_CHARS: Final = 64
MAX_CIRCLE_CHARS: Final = 64

MAX_TIMESTAMP_MS: Final = 2**53 - 1
"""Largest creation time, so any language's double can hold it exactly."""
