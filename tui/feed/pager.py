"""Paging a circle's feed both ways, and the checks the TUI runs on what a learner types."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from peernode.clock import ShownKey
from peernode.errors import BadInput, NodeError
from peernode.net import config as network_config
from peernode.node import Node
from peernode.views import FeedEntry
from protocol import kinds
from protocol.errors import LocalProtocolError
from protocol.event import check_draft

PAGE: Final = 100
"""Notes loaded at a time; the feed keeps a few pages, never the whole circle."""

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
    """Pages through one circle's feed in both directions, `size` entries at a time."""

    def __init__(self, node: Node, size: int = PAGE) -> None:
        self._node = node
        self.size = size

    async def newest(self, circle: str) -> Page:
        rows = await self._node.feed(circle, limit=self.size + 1)
        return Page(rows[-self.size :], at_oldest=len(rows) <= self.size, at_newest=True)

    async def older(self, circle: str, before: Key) -> Page:
        rows = await self._node.feed(circle, limit=self.size + 1, before=before)
        return Page(rows[-self.size :], at_oldest=len(rows) <= self.size, at_newest=False)

    async def oldest(self, circle: str) -> Page:
        page = await self.newer(circle, BEFORE_ALL)
        return Page(page.entries, at_oldest=True, at_newest=page.at_newest)

    async def newer(self, circle: str, after: Key) -> Page:
        """The entries just after `after` (at most `size` of them)."""
        rows = await self._node.feed(circle, limit=self.size + 1, after=after)
        return Page(rows[: self.size], at_oldest=False, at_newest=len(rows) <= self.size)


class CannotConnect(Exception):
    """Connecting to a peer by address failed; the message says why in plain words."""


async def connect(node: Node, host: str, port: int) -> None:
    """Ask the node to link to a peer at host:port."""
    try:
        await node.connect(host, port)
    except (NodeError, OSError) as exc:
        raise CannotConnect(f"could not link to {host}:{port}: {exc}") from exc


def parse_address(text: str) -> tuple[str, int]:
    """'HOST:PORT' or '[IPv6]:PORT' -> (host, port); ValueError with a plain message."""
    try:
        return network_config.parse_address(text.strip())
    except BadInput as exc:
        raise ValueError(str(exc)) from None


def circle_problem(name: str) -> str | None:
    """Why `name` cannot be a circle, or None if it can (the protocol's own rules)."""
    if not name:
        return "a circle needs a name"
    try:
        check_draft(
            author=bytes(32), kind=kinds.NOTE, circle=name, body={"text": "x"}, created_at=0
        )
    except LocalProtocolError as exc:
        return str(exc)
    return None
