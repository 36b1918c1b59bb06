"""Forgetting authors: temporary ones (the demo room's), dropped with their events.

Rules of this file:
- Nothing forgotten leaves a tombstone: a peer that still holds the events may
  send them again.
- Who is temporary is recorded in the database with the pid that holds them, so
  a process that dies before forgetting them leaves a note the next one acts on.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Sequence
from typing import Final, Protocol

from peernode.process import alive
from peernode.storage.schema import Transaction
from peernode.storage.sequence import renew_store_id
from protocol.kinds import PROFILE

TEMPORARY_AUTHORS: Final = "temporary_authors"
"""Settings row: "<pid> <key hex>,<key hex>,..." of authors to forget (see TemporaryAuthors)."""


def forget_authors(
    db: sqlite3.Connection,
    authors: Sequence[bytes],
    keep_referenced_by: bytes | None,
    profile_kind: str,
) -> int:
    """Delete the events of `authors` and forget them as peers; returns how many events.

    Kept: events that events of `keep_referenced_by` refer to, directly or through
    a chain of refs (the note replied to, its parent, ...), and the `profile_kind`
    events of the authors of those, so they still have a name.
    """
    if not authors:
        return 0
    marks = ",".join("?" * len(authors))
    with Transaction(db):
        kept: set[bytes] = set()
        if keep_referenced_by is not None:
            kept = {
                row[0]
                for row in db.execute(
                    "WITH RECURSIVE kept(id) AS ("
                    " SELECT r.target FROM refs AS r JOIN events AS e ON e.id = r.source"
                    " WHERE e.author = ?"
                    " UNION SELECT r.target FROM refs AS r JOIN kept ON r.source = kept.id"
                    ") SELECT id FROM kept",
                    (keep_referenced_by,),
                )
            }
        rows = db.execute(
            f"SELECT id, author, kind FROM events WHERE author IN ({marks})", list(authors)
        ).fetchall()
        named = {author for event_id, author, _ in rows if event_id in kept}
        drop = [
            (event_id,)
            for event_id, author, kind in rows
            if event_id not in kept and not (kind == profile_kind and author in named)
        ]
        db.executemany("DELETE FROM refs WHERE source = ?", drop)
        db.executemany("DELETE FROM events WHERE id = ?", drop)
        db.execute(f"DELETE FROM peers WHERE key IN ({marks})", list(authors))
        if drop:
            renew_store_id(db)  # the freed sequence numbers may be given again
    return len(drop)


class SettingsStore(Protocol):
    """What TemporaryAuthors needs of the async store (AsyncStore builds on the Store,
    which uses this module: hence a protocol rather than an import)."""

    async def setting(self, name: str) -> str | None: ...

    async def set_setting(self, name: str, value: str) -> None: ...

    async def forget_authors(
        self, authors: Sequence[bytes], keep_referenced_by: bytes | None, profile_kind: str
    ) -> int: ...


class TemporaryAuthors:
    """The authors this home holds temporarily, and the process that holds them."""

    def __init__(self, store: SettingsStore) -> None:
        self._store = store

    async def hold(self, authors: Iterable[bytes]) -> None:
        """Note `authors` as held by this process (with those it holds already)."""
        _, held = await self._read()
        await self._write(os.getpid(), held | set(authors))

    async def forget(
        self, authors: Iterable[bytes], *, keep_referenced_by: bytes | None = None
    ) -> int:
        """Drop `authors`' events and peers (see forget_authors) and the note that they
        are held; returns how many events went."""
        gone = set(authors)
        forgotten = await self._store.forget_authors(list(gone), keep_referenced_by, PROFILE)
        pid, held = await self._read()
        if held & gone:
            await self._write(pid, held - gone)
        return forgotten

    async def left_over(self) -> set[bytes]:
        """Authors held by a process that died without forgetting them (or by an earlier
        node of this process); empty while a live process, a demo running, holds them."""
        pid, held = await self._read()
        if pid is None or (pid != os.getpid() and alive(pid)):
            return set()
        return held

    async def _write(self, pid: int | None, keys: set[bytes]) -> None:
        value = f"{pid} {','.join(sorted(key.hex() for key in keys))}" if keys else ""
        await self._store.set_setting(TEMPORARY_AUTHORS, value)

    async def _read(self) -> tuple[int | None, set[bytes]]:
        """(the pid that holds them, the keys); (None, empty) when none are held."""
        value = await self._store.setting(TEMPORARY_AUTHORS)
        pid, _, keys = (value or "").partition(" ")
        try:
            return int(pid), {bytes.fromhex(key) for key in keys.split(",") if key}
        except ValueError:  # empty, or not ours to read: nothing held
            return None, set()
