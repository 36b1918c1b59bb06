"""Small text helpers of the widgets (clock, counts, width); times and people are in
peernode.text, one text for the CLI and the TUI. No widgets here."""

from __future__ import annotations

from collections.abc import Callable

Clock = Callable[[], int]
"""Returns the wall-clock time in ms since the Unix epoch (injectable for tests)."""


def clip(text: str, width: int) -> str:
    """One line of at most `width` characters, with an ellipsis when cut."""
    line = " ".join(text.split())
    return line if len(line) <= width else line[: max(0, width - 1)] + "…"
