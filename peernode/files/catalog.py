"""The files' own database (home/files.db), apart from the events: what each blob is
(size, chunk size, hash list), which chunks are here and durable, and which are mine.

Rules of this file:
- The have-bitfield lists only chunks already flushed to disk (fdatasync), so after a
  crash a download resumes from what is really there.
- One connection, used from one thread at a time (the lock); callers run it off the
  event loop with asyncio.to_thread.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from peernode.errors import StorageError
from protocol.files import Bitfield, Layout, layout_from_wire
from protocol.files.blob import ChunkRules

SCHEMA_VERSION: Final = 2
"""2 added `data`: the bytes of a small blob, kept here instead of a file under blobs/."""
_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS blobs (
    id BLOB PRIMARY KEY,
    size INTEGER NOT NULL,
    chunk_size INTEGER NOT NULL,
    hashes BLOB NOT NULL,
    have BLOB NOT NULL,
    complete INTEGER NOT NULL DEFAULT 0,
    mine INTEGER NOT NULL DEFAULT 0,
    added_at INTEGER NOT NULL,
    pinned INTEGER NOT NULL DEFAULT 0,
    released_at INTEGER,
    data BLOB
) WITHOUT ROWID;
"""


@dataclass(frozen=True, slots=True)
class BlobRecord:
    """A blob this node knows the layout of, and how much of it is here."""

    layout: Layout
    have: Bitfield
    complete: bool
    mine: bool
    blob: bytes = b""
    """The id (the layout's, computed once)."""
    data: bytes | None = None
    """The whole blob's bytes when it is small enough to be kept in the database."""

    def __post_init__(self) -> None:
        if not self.blob:
            object.__setattr__(self, "blob", self.layout.id)

    @property
    def have_bytes(self) -> int:
        if self.complete:
            return self.layout.size
        return sum(self.layout.chunk_length(index) for index in self.have)


class Catalog:
    """Blob metadata in its own SQLite file."""

    def __init__(self, path: Path) -> None:
        try:
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
            self._upgrade()
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open the files database {path}: {exc}") from exc
        self._lock = threading.Lock()

    def _upgrade(self) -> None:
        """A files.db of schema 1 gains its column. In a write transaction: the service
        and the upkeep (or another process) open it at once, and both adding the column
        failed the second ("duplicate column name")."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            columns = {row[1] for row in self._db.execute("PRAGMA table_info(blobs)")}
            if "data" not in columns:
                self._db.execute("ALTER TABLE blobs ADD COLUMN data BLOB")
            self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            self._db.execute("COMMIT")
        except BaseException:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def get(self, blob: bytes) -> BlobRecord | None:
        with self._lock:
            row = self._db.execute(
                "SELECT size, chunk_size, hashes, have, complete, mine, data FROM blobs"
                " WHERE id = ?",
                (blob,),
            ).fetchone()
        if row is None:
            return None
        size, chunk_size, hashes, have, complete, mine, data = row
        rules = ChunkRules(min_chunk=chunk_size, max_chunk=chunk_size, max_chunks=2**20)
        layout = layout_from_wire(blob, size, chunk_size, hashes, rules)
        bitfield = (
            Bitfield.full(layout.chunks) if complete else Bitfield.from_bytes(layout.chunks, have)
        )
        data = bytes(data) if data is not None and complete else None
        return BlobRecord(layout, bitfield, bool(complete), bool(mine), blob, data)

    def add(self, layout: Layout, *, complete: bool, mine: bool = False) -> None:
        """Record a blob's layout; an existing record keeps what it has (and becomes mine)."""
        empty = Bitfield(layout.chunks).to_bytes()
        with self._lock:
            self._db.execute(
                "INSERT INTO blobs (id, size, chunk_size, hashes, have, complete, mine, added_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET"
                " complete = max(complete, excluded.complete), mine = max(mine, excluded.mine)",
                (
                    layout.id,
                    layout.size,
                    layout.chunk_size,
                    layout.hash_list(),
                    empty,
                    int(complete),
                    int(mine),
                    int(time.time() * 1000),
                ),
            )

    def set_have(self, blob: bytes, have: Bitfield, data: bytes | None = None) -> None:
        """The chunks now durable on disk; or, with `data`, a whole small blob's bytes,
        kept here (in the same write)."""
        with self._lock:
            self._db.execute(
                "UPDATE blobs SET have = ?, complete = ?, data = coalesce(?, data) WHERE id = ?",
                (have.to_bytes(), int(have.complete), data, blob),
            )

    def set_data(self, blob: bytes, data: bytes) -> None:
        """Keep a whole small blob's bytes here (its file can then go)."""
        with self._lock:
            self._db.execute("UPDATE blobs SET data = ? WHERE id = ?", (data, blob))

    def forget(self, blob: bytes) -> None:
        with self._lock:
            self._db.execute("DELETE FROM blobs WHERE id = ?", (blob,))

    def set_pinned(self, blobs: Sequence[bytes], pinned: bool) -> int:
        """Pin or unpin; returns how many of `blobs` are known here."""
        with self._lock:
            cursor = self._db.executemany(
                "UPDATE blobs SET pinned = ? WHERE id = ?", [(int(pinned), b) for b in blobs]
            )
        return cursor.rowcount

    def holdings(self) -> list[Holding]:
        """Every blob known here, for garbage collection."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, size, complete, pinned, released_at FROM blobs"
            ).fetchall()
        return [Holding(bytes(r[0]), r[1], bool(r[2]), bool(r[3]), r[4]) for r in rows]

    def set_released(self, blob: bytes, at: int | None) -> None:
        """Since when nothing keeps the blob (None: something keeps it again)."""
        with self._lock:
            self._db.execute("UPDATE blobs SET released_at = ? WHERE id = ?", (at, blob))

    def used_bytes(self) -> int:
        """The bytes the store holds or has reserved (a download's whole size)."""
        with self._lock:
            (used,) = self._db.execute("SELECT coalesce(sum(size), 0) FROM blobs").fetchone()
        return int(used)


@dataclass(frozen=True, slots=True)
class Holding:
    """What garbage collection needs of a blob: released_at is when it was last found
    kept by nothing (ms), None while something keeps it."""

    blob: bytes
    size: int
    complete: bool
    pinned: bool
    released_at: int | None
