"""The notes a feed holds: a bounded window of consecutive entries, and their threads."""

from __future__ import annotations

from bisect import bisect_right, insort
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from peernode.feed_text import folded, parent_of
from peernode.views import FeedEntry
from tui.feed.pager import Key, key_of

MAX_WINDOW: Final = 400
"""Most notes held at once; paging further drops notes from the other end."""


@dataclass(frozen=True, slots=True)
class Row:
    """An event in display order: `depth` levels under its parent, if that is loaded."""

    entry: FeedEntry
    depth: int
    orphan: bool  # a reply (an answer) whose parent (question) is not in the window


def thread(entries: Iterable[FeedEntry]) -> list[Row]:
    """Replies, answers and resolutions follow their parent (indented); everything else
    keeps time order. RSVPs and attendance have no rows: their meeting's card shows them."""
    entries = [entry for entry in entries if not folded(entry)]
    present = {entry.event.id for entry in entries}
    children: dict[bytes, list[FeedEntry]] = {}
    roots: list[FeedEntry] = []
    for entry in entries:
        parent = parent_of(entry)
        if parent is not None and parent in present and parent != entry.event.id:
            children.setdefault(parent, []).append(entry)
        else:
            roots.append(entry)
    rows: list[Row] = []
    stack = [(root, 0) for root in reversed(roots)]
    while stack:
        entry, depth = stack.pop()
        orphan = depth == 0 and parent_of(entry) is not None
        rows.append(Row(entry, depth, orphan))
        for child in reversed(children.get(entry.event.id, [])):
            stack.append((child, depth + 1))
    return rows


class FeedWindow:
    """Consecutive entries of one channel, oldest first, at most `limit` of them."""

    def __init__(self, limit: int = MAX_WINDOW) -> None:
        self.limit = limit
        self.entries: list[FeedEntry] = []
        self._keys: list[Key] = []
        self.at_oldest = True
        self.at_newest = True

    def reset(self, entries: list[FeedEntry], *, at_oldest: bool, at_newest: bool) -> None:
        self.entries = sorted(entries, key=key_of)[-self.limit :]
        self._keys = [key_of(entry) for entry in self.entries]
        self.at_oldest = at_oldest and len(self.entries) == len(entries)
        self.at_newest = at_newest

    @property
    def oldest(self) -> Key | None:
        return self._keys[0] if self._keys else None

    @property
    def newest(self) -> Key | None:
        return self._keys[-1] if self._keys else None

    def add_older(self, entries: list[FeedEntry], *, at_oldest: bool) -> None:
        oldest = self.oldest
        fresh = [e for e in entries if oldest is None or key_of(e) < oldest]
        self.entries[:0] = fresh
        self._keys[:0] = [key_of(e) for e in fresh]
        self.at_oldest = at_oldest
        if len(self.entries) > self.limit:
            del self.entries[self.limit :], self._keys[self.limit :]
            self.at_newest = False

    def add_newer(self, entries: list[FeedEntry], *, at_newest: bool) -> None:
        newest = self.newest
        fresh = [e for e in entries if newest is None or key_of(e) > newest]
        self.entries.extend(fresh)
        self._keys.extend(key_of(e) for e in fresh)
        self.at_newest = at_newest
        self._trim_oldest()

    def add_live(self, entry: FeedEntry) -> bool:
        """Insert a just-stored entry if it falls inside the window; True if it did."""
        key = key_of(entry)
        index = bisect_right(self._keys, key)
        if index and self._keys[index - 1] == key:
            return False
        if (not self.at_oldest and index == 0) or (not self.at_newest and index == len(self._keys)):
            return False
        insort(self._keys, key)
        self.entries.insert(index, entry)
        self._trim_oldest()
        return True

    def _trim_oldest(self) -> None:
        extra = len(self.entries) - self.limit
        if extra > 0:
            del self.entries[:extra], self._keys[:extra]
            self.at_oldest = False
