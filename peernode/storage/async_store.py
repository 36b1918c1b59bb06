"""The store on its own thread, so SQLite never blocks the event loop."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import ParamSpec, TypeVar

from peernode.clock import ShownKey
from peernode.storage.local import LocalRules
from peernode.storage.moderation import Level, Moderation
from peernode.storage.store import ChannelCount, KnownPeer, Store, StoredEvent
from protocol.event import Event

P = ParamSpec("P")
T = TypeVar("T")


class AsyncStore:
    """Runs every call of one Store on one worker thread, in submission order.

    Each method is the Store method of the same name, awaited (see store.py).
    check: see Store (a quick check of every page at open).
    """

    def __init__(self, path: Path, *, check: bool = False) -> None:
        self._path = path
        self._check = check
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="peernode-db")
        self._store: Store | None = None

    async def __aenter__(self) -> AsyncStore:
        self._store = await self._run(functools.partial(Store, self._path, check=self._check))
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._store is not None:
            await self._run(self._store.close)
            self._store = None
        self._executor.shutdown(wait=True)

    @property
    def unwritable(self) -> str | None:
        """Why writes are known to fail since the open (disk full, read-only), or None."""
        return self._open_store().unwritable

    # -- writes ---------------------------------------------------------------------

    async def insert_events_seq(
        self, events: Sequence[Event], received_at: int
    ) -> list[tuple[int, Event]]:
        """Store the events not yet stored; the new ones, with their sequence numbers."""
        return await self._run(self._open_store().insert_events_seq, events, received_at)

    async def remember_peer(
        self, key: bytes, name: str, host: str, port: int, last_seen: int
    ) -> None:
        await self._run(self._open_store().remember_peer, key, name, host, port, last_seen)

    async def add_exchanged(self, counts: dict[bytes, int], last_seen: int) -> None:
        await self._run(self._open_store().add_exchanged, counts, last_seen)

    async def set_setting(self, name: str, value: str) -> None:
        await self._run(self._open_store().set_setting, name, value)

    async def keep_local(self, rules: LocalRules) -> None:
        await self._run(self._open_store().keep_local, rules)

    async def forget_authors(
        self, authors: Sequence[bytes], keep_referenced_by: bytes | None, profile_kind: str
    ) -> int:
        store = self._open_store()
        return await self._run(store.forget_authors, authors, keep_referenced_by, profile_kind)

    async def set_moderation(self, key: bytes, level: Level, since: int) -> None:
        await self._run(self._open_store().set_moderation, key, level, since)

    async def clear_moderation(self, key: bytes, level: Level) -> bool:
        return await self._run(self._open_store().clear_moderation, key, level)

    async def hide_event(self, event_id: bytes, since: int) -> None:
        await self._run(self._open_store().hide_event, event_id, since)

    async def unhide_event(self, event_id: bytes) -> bool:
        return await self._run(self._open_store().unhide_event, event_id)

    async def remember_declined(
        self, rows: Sequence[tuple[bytes, bytes]], until: int, cap: int
    ) -> None:
        await self._run(self._open_store().remember_declined, rows, until, cap)

    async def forget_declined(self, authors: Iterable[bytes] | None = None) -> None:
        await self._run(self._open_store().forget_declined, authors)

    # -- reads ----------------------------------------------------------------------

    async def declined(self, now: int, limit: int) -> list[tuple[bytes, bytes]]:
        return await self._run(self._open_store().declined, now, limit)

    async def moderation(self) -> Moderation:
        return await self._run(self._open_store().moderation)

    async def held_authors(self) -> set[bytes]:
        return await self._run(self._open_store().held_authors)

    async def setting(self, name: str) -> str | None:
        return await self._run(self._open_store().setting, name)

    async def count(self) -> int:
        return await self._run(self._open_store().count)

    async def known_ids(self, ids: Sequence[bytes]) -> set[bytes]:
        return await self._run(self._open_store().known_ids, ids)

    async def raw_by_ids(self, ids: Sequence[bytes]) -> list[bytes]:
        return await self._run(self._open_store().raw_by_ids, ids)

    async def shared_raw_by_ids(self, ids: Sequence[bytes]) -> list[bytes]:
        return await self._run(self._open_store().shared_raw_by_ids, ids)

    async def shared_ids(self, ids: Sequence[bytes]) -> set[bytes]:
        return await self._run(self._open_store().shared_ids, ids)

    async def raw_by_id_prefix(self, prefix: str, limit: int = 2) -> list[bytes]:
        return await self._run(self._open_store().raw_by_id_prefix, prefix, limit)

    async def time_index(self) -> list[tuple[int, bytes]]:
        """(created_at, id) of every event that may leave this node, in order, read whole
        on the database thread."""
        store = self._open_store()
        return await self._run(lambda: list(store.time_index()))

    async def feed(
        self,
        channel: str | None = None,
        *,
        limit: int | None = None,
        before: ShownKey | None = None,
        after: ShownKey | None = None,
        kinds: Sequence[str] | None = None,
        exclude_kinds: Sequence[str] | None = None,
        visible: bool = False,
    ) -> list[StoredEvent]:
        return await self._run(
            self._open_store().feed,
            channel,
            limit=limit,
            before=before,
            after=after,
            kinds=kinds,
            exclude_kinds=exclude_kinds,
            visible=visible,
        )

    async def channel_raw(self, channel: str, kinds: Sequence[str] | None = None) -> list[bytes]:
        return await self._run(self._open_store().channel_raw, channel, kinds)

    async def channel_rows(
        self, channel: str, kinds: Sequence[str] | None = None
    ) -> list[StoredEvent]:
        return await self._run(self._open_store().channel_rows, channel, kinds)

    async def channels(self) -> list[ChannelCount]:
        return await self._run(self._open_store().channels)

    async def latest_of_kind(self, kind: str, author: bytes | None = None) -> list[bytes]:
        return await self._run(self._open_store().latest_of_kind, kind, author)

    async def referring(self, target: bytes, name: str | None = None) -> list[bytes]:
        return await self._run(self._open_store().referring, target, name)

    async def referring_any(self, targets: Sequence[bytes], name: str) -> list[bytes]:
        return await self._run(self._open_store().referring_any, targets, name)

    async def after_seq(self, seq: int, limit: int = 1000) -> list[StoredEvent]:
        return await self._run(self._open_store().after_seq, seq, limit)

    async def events_after(
        self,
        seq: int,
        limit: int,
        *,
        upto: int | None = None,
        circle: str | None = None,
        kind: str | None = None,
        author: bytes | None = None,
    ) -> list[StoredEvent]:
        return await self._run(
            self._open_store().events_after,
            seq,
            limit,
            upto=upto,
            circle=circle,
            kind=kind,
            author=author,
        )

    async def event_row(self, event_id: bytes) -> StoredEvent | None:
        return await self._run(self._open_store().event_row, event_id)

    async def store_id(self) -> str:
        return await self._run(self._open_store().store_id)

    async def max_seq(self) -> int:
        return await self._run(self._open_store().max_seq)

    async def data_version(self) -> int:
        return await self._run(self._open_store().data_version)

    async def known_peers(self, limit: int = 256) -> list[KnownPeer]:
        return await self._run(self._open_store().known_peers, limit)

    # -- the thread -----------------------------------------------------------------

    def _open_store(self) -> Store:
        if self._store is None:
            raise RuntimeError("AsyncStore is not open")
        return self._store

    async def _run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run `fn` (a bound method of the Store) on the database thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args, **kwargs))
