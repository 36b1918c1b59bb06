"""The store's sequence for local API clients: its id, and the events after a number.

Rules of this file:
- `seq` (the events table's rowid) only grows while rows are only added: every
  write takes the write lock, so a later commit always gets higher numbers.
- Deleting rows (forgetting the demo room's learners) frees the highest numbers
  for reuse, and a repair writes a new file: either way the store id changes, so
  a client that saw the old id knows its `after_seq` means nothing any more.
- The id is written when the file is opened for writing and renewed in the same
  transaction that frees numbers, so reading it never writes: a store that has
  become read-only still answers it. (Only a file last written by a peernode older
  than this one, and read-only since, has none: reading it is then a StorageError.)
"""

from __future__ import annotations

import secrets
import sqlite3
from typing import Final

STORE_ID: Final = "store_id"
"""Settings row: the id of this numbering of events (see the rules above)."""


def store_id(db: sqlite3.Connection) -> str:
    """The store id (made here only if the file was never opened for writing)."""
    row = db.execute("SELECT value FROM settings WHERE name = ?", (STORE_ID,)).fetchone()
    if row is not None:
        return str(row[0])
    ensure_store_id(db)
    (value,) = db.execute("SELECT value FROM settings WHERE name = ?", (STORE_ID,)).fetchone()
    return str(value)


def ensure_store_id(db: sqlite3.Connection) -> None:
    """Make the store id if there is none (a write: done when the file opens writable)."""
    if db.execute("SELECT 1 FROM settings WHERE name = ?", (STORE_ID,)).fetchone():
        return  # no write lock taken for nothing at every open
    db.execute(
        "INSERT OR IGNORE INTO settings (name, value) VALUES (?, ?)",
        (STORE_ID, secrets.token_hex(8)),
    )


def renew_store_id(db: sqlite3.Connection) -> None:
    """Numbers may be reused from now on: a new store id, in the caller's transaction."""
    db.execute(
        "INSERT OR REPLACE INTO settings (name, value) VALUES (?, ?)",
        (STORE_ID, secrets.token_hex(8)),
    )


def events_after_sql(
    *, upto: int | None, circle: str | None, kind: str | None, author: bytes | None
) -> tuple[str, list[object]]:
    """The query of events after a seq, filtered; its parameters follow (seq, ..., limit)."""
    where = ["seq > ?"]
    params: list[object] = []
    conditions = (("seq <=", upto), ("circle =", circle), ("kind =", kind), ("author =", author))
    for condition, value in conditions:
        if value is not None:
            where.append(f"{condition} ?")
            params.append(value)
    sql = f"SELECT seq, received_at, raw FROM events WHERE {' AND '.join(where)}"
    return sql + " ORDER BY seq LIMIT ?", params
