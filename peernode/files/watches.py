"""Peers watching a blob this node is fetching: each learns the chunks it gains, batched.

Rules of this file:
- A watch is a request the peer made (Watch); its Haves are the only answers, and they
  go on the link's urgent queue, the first one too, so they arrive in order.
- At most one Have per blob per `interval`: a burst of flushes makes one message.
- A whole blob ends its watches (a FULL Have is the last answer); so does a Cancel or
  the link closing.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from protocol.files import Bitfield
from protocol.files.messages import Have, Holding, encode

if TYPE_CHECKING:
    from peernode.net.link import Link

_Watcher = tuple["Link", int]
"""A link and the request number of its Watch."""


class Watches:
    """Who watches which blob, and the newest have-bitfield each still has to hear."""

    def __init__(self, interval: float) -> None:
        self._interval = interval
        self._by_blob: dict[bytes, set[_Watcher]] = {}
        self._news: dict[bytes, Bitfield] = {}
        self._timers: dict[bytes, asyncio.TimerHandle] = {}
        self._last: dict[bytes, float] = {}
        self.told = 0
        """Haves sent to watchers after their first."""

    def count(self, link: Link) -> int:
        """The watches `link` holds open."""
        return sum(1 for watchers in self._by_blob.values() for w in watchers if w[0] is link)

    def start(self, blob: bytes, link: Link, request: int, have: Have) -> None:
        """Answer a Watch with what is held now; keep it while that is partial."""
        link.send_nowait(encode(have))
        if have.holding is Holding.PARTIAL:
            self._by_blob.setdefault(blob, set()).add((link, request))

    def cancel(self, link: Link, request: int) -> bool:
        """Forget the watch `request` of `link`; False if it is not one."""
        for blob, watchers in list(self._by_blob.items()):
            if (link, request) in watchers:
                watchers.discard((link, request))
                self._forget_if_unwatched(blob)
                return True
        return False

    def link_closed(self, link: Link) -> None:
        for blob, watchers in list(self._by_blob.items()):
            watchers -= {watcher for watcher in watchers if watcher[0] is link}
            self._forget_if_unwatched(blob)

    def gained(self, blob: bytes, have: Bitfield) -> None:
        """The chunks of `blob` durable here now; its watchers hear it within `interval`."""
        if blob not in self._by_blob:
            return
        self._news[blob] = Bitfield(have.size, have)
        if blob in self._timers:
            return
        loop = asyncio.get_running_loop()
        delay = max(0.0, self._last.get(blob, 0.0) + self._interval - loop.time())
        if have.complete:
            delay = 0.0  # the last word: its watchers can ask for everything now
        self._timers[blob] = loop.call_later(delay, self._tell, blob)

    def close(self) -> None:
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        self._by_blob.clear()
        self._news.clear()

    def _tell(self, blob: bytes) -> None:
        self._timers.pop(blob, None)
        have = self._news.pop(blob, None)
        watchers = self._by_blob.get(blob, set())
        if have is None or not watchers:
            return
        self._last[blob] = asyncio.get_running_loop().time()
        for link, request in watchers:
            self.told += 1
            if have.complete:
                link.send_nowait(encode(Have(request, Holding.FULL, b"")))
            else:
                link.send_nowait(encode(Have(request, Holding.PARTIAL, have.to_bytes())))
        if have.complete:
            del self._by_blob[blob]
            self._forget_if_unwatched(blob)

    def _forget_if_unwatched(self, blob: bytes) -> None:
        if self._by_blob.get(blob):
            return
        self._by_blob.pop(blob, None)
        self._news.pop(blob, None)
        self._last.pop(blob, None)
        if (timer := self._timers.pop(blob, None)) is not None:
            timer.cancel()
