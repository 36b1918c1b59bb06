"""Small text helpers shared by the widgets: times, keys, names. No widgets here."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Final

from protocol.identity import fingerprint

Clock = Callable[[], int]
"""Returns the wall-clock time in ms since the Unix epoch (injectable for tests)."""

SHORT_FINGERPRINT: Final = 9
"""Characters of a fingerprint shown next to a name: two groups, e.g. 'abcd-efgh'."""


def short_fingerprint(key: bytes) -> str:
    return fingerprint(key)[:SHORT_FINGERPRINT] if key else "no key"


def relative_time(then_ms: int, now_ms: int) -> str:
    """'just now', '3 min ago', '5 h ago', '2 days ago', then a date."""
    seconds = (now_ms - then_ms) // 1000
    if seconds < -60:
        return "ahead of your clock"
    if seconds < 45:
        return "just now"
    minutes = max(1, round(seconds / 60))
    if minutes < 60:
        return f"{minutes} min ago"
    hours = seconds // 3600
    if hours < 24:
        return f"{hours} h ago"
    days = seconds // 86400
    if days < 7:
        return "1 day ago" if days == 1 else f"{days} days ago"
    return datetime.fromtimestamp(then_ms / 1000).strftime("%Y-%m-%d")


def plural(count: int, word: str) -> str:
    return f"{count:,} {word}" if count == 1 else f"{count:,} {word}s"


def clip(text: str, width: int) -> str:
    """One line of at most `width` characters, with an ellipsis when cut."""
    line = " ".join(text.split())
    return line if len(line) <= width else line[: max(0, width - 1)] + "…"
