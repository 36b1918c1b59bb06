"""The demo room's events on the learner's node: kept local, held, then forgotten."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from peernode.errors import StorageError
from peernode.health import WriteHealth
from peernode.networking import Networking
from peernode.profiles import ProfileBook
from peernode.storage import AsyncStore, LocalRules, TemporaryAuthors
from peernode.stream import EventStream

__all__ = ["Forgetting"]

log = logging.getLogger(__name__)


class Forgetting:
    """Local-only rules and temporary authors, and forgetting those authors' events
    with everything that remembers them (the stream's numbers, profiles, gossip)."""

    def __init__(
        self,
        store: AsyncStore,
        stream: EventStream,
        profiles: ProfileBook,
        health: WriteHealth,
        networking: Networking,
    ) -> None:
        self._store = store
        self._temporary = TemporaryAuthors(store)
        self._stream = stream
        self._profiles = profiles
        self._health = health
        self._networking = networking

    async def keep_local(self, channels: Iterable[str], authors: Iterable[bytes]) -> None:
        """Events posted in `channels` or signed by `authors` never leave this node: not
        offered, pushed or sent to any peer, now or later, by this process or another
        (see peernode.storage.local)."""
        await self._store.keep_local(LocalRules(frozenset(channels), frozenset(authors)))

    async def hold(self, authors: Iterable[bytes]) -> None:
        """These authors' events are temporary: forget() drops them, and if this process
        dies first, the next node opened on this home does."""
        await self._temporary.hold(authors)

    async def forget(self, authors: Iterable[bytes], *, keep_referenced_by: bytes | None) -> int:
        """Drop every event of `authors` and forget them as peers (the demo room's
        clean-up); returns how many events went. Kept: what events of
        `keep_referenced_by` refer to, directly or through a chain of refs (a reply's
        parent, its parent, ...), and the profiles of those events' authors.

        Nothing leaves a tombstone: a peer that still holds the events can send them
        again. Networking restarts if it runs, so gossip forgets them too.
        """
        was_online = self._networking.online
        await self._networking.stop()
        async with self._stream.renumbering():
            forgotten = await self._temporary.forget(authors, keep_referenced_by=keep_referenced_by)
        await self._profiles.load(self._store)
        if was_online:
            await self._networking.start()
        return forgotten

    async def forget_leftovers(self, keeper: bytes | None) -> None:
        """Forget temporary authors whose process died without forgetting them (a crash
        during the demo), so their events neither stay nor reach real peers."""
        held = await self._temporary.left_over()
        if not held:
            return  # nothing left over, or a live process (a demo running) still holds them
        try:
            forgotten = await self.forget(held, keep_referenced_by=keeper)
        except StorageError as exc:  # read-only or full: they go at a later start
            self._health.failed(exc)
            return
        log.info("forgot %d events of a demo room that did not close", forgotten)
