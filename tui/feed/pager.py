"""Paging a channel's feed both ways, a page of notes at a time."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from peernode.node import Node
from peernode.views import FeedEntry, ShownKey

PAGE: Final = 100
"""Notes loaded at a time; the feed keeps a few pages, never the whole channel."""

Key = ShownKey
"""The feed's order: (shown_at, created_at, id), the claim bounded by its arrival."""

BEFORE_ALL: Final[Key] = (-1, -1, b"")
"""A key older than every event."""


def key_of(entry: FeedEntry) -> Key:
    return entry.key


@dataclass(frozen=True, slots=True)
class Page:
    """Consecutive feed entries (newest last) and whether they reach either end."""

    entries: list[FeedEntry]
    at_oldest: bool
    at_newest: bool


class FeedPager:
    """Pages through one channel's feed in both directions, `size` entries at a time."""

    def __init__(self, node: Node, size: int = PAGE) -> None:
        self._node = node
        self.size = size

    async def newest(self, channel: str) -> Page:
        rows = await self._node.feed(channel, limit=self.size + 1)
        return Page(rows[-self.size :], at_oldest=len(rows) <= self.size, at_newest=True)

    async def older(self, channel: str, before: Key) -> Page:
        rows = await self._node.feed(channel, limit=self.size + 1, before=before)
        return Page(rows[-self.size :], at_oldest=len(rows) <= self.size, at_newest=False)

    async def oldest(self, channel: str) -> Page:
        page = await self.newer(channel, BEFORE_ALL)
        return Page(page.entries, at_oldest=True, at_newest=page.at_newest)

    async def newer(self, channel: str, after: Key) -> Page:
        """The entries just after `after` (at most `size` of them)."""
        rows = await self._node.feed(channel, limit=self.size + 1, after=after)
        return Page(rows[: self.size], at_oldest=False, at_newest=len(rows) <= self.size)
