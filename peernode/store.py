"""The event store: the only module that speaks SQL.

Rules of this file:
- One Store object per thread; the node runs it on a single worker thread
  (see async_store.py) so database work never blocks the event loop.
- WAL with synchronous=FULL: once insert_events() returns, the rows survive
  a crash of the process or of the machine.
- Inserts are idempotent on the event id and batched in one transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from peernode.errors import StorageError
from protocol.event import Event

BUSY_TIMEOUT_MS: Final = 10_000

# Each entry moves the schema from version N to N+1; never edit a released one.
MIGRATIONS: Final[tuple[str, ...]] = (
    """
    CREATE TABLE events (
        seq         INTEGER PRIMARY KEY,   -- local arrival order
        id          BLOB NOT NULL UNIQUE,
        author      BLOB NOT NULL,
        created_at  INTEGER NOT NULL,
        kind        TEXT NOT NULL,
        circle      TEXT NOT NULL,
        received_at INTEGER NOT NULL,
        raw         BLOB NOT NULL
    );
    CREATE INDEX events_by_time ON events (created_at, id);
    CREATE INDEX events_by_circle ON events (circle, created_at, id);
    CREATE INDEX events_by_author_kind ON events (author, kind, created_at);
    CREATE TABLE refs (
        source  BLOB NOT NULL,
        name    TEXT NOT NULL,
        target  BLOB NOT NULL,
        PRIMARY KEY (source, name)
    ) WITHOUT ROWID;
    CREATE INDEX refs_by_target ON refs (target, name);
    CREATE TABLE settings (
        name  TEXT PRIMARY KEY,
        value TEXT NOT NULL
    ) WITHOUT ROWID;
    """,
    """
    CREATE TABLE peers (
        key              BLOB PRIMARY KEY,
        name             TEXT NOT NULL DEFAULT '',
        host             TEXT NOT NULL,
        port             INTEGER NOT NULL,
        last_seen        INTEGER NOT NULL,
        events_exchanged INTEGER NOT NULL DEFAULT 0
    ) WITHOUT ROWID;
    """,
)


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event as stored: its bytes plus where and when this node got it."""

    seq: int
    received_at: int
    raw: bytes


@dataclass(frozen=True, slots=True)
class KnownPeer:
    """A peer this node has linked with before: reconnected at start-up."""

    key: bytes
    name: str
    host: str
    port: int
    last_seen: int
    events_exchanged: int


@dataclass(frozen=True, slots=True)
class CircleCount:
    circle: str
    events: int
    last_at: int


class Store:
    """A node's SQLite database."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        except sqlite3.DatabaseError as exc:
            raise StorageError(f"cannot open the database {path}: {exc}") from exc
        try:
            self._db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = FULL")
            self._db.execute("PRAGMA foreign_keys = ON")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise StorageError(f"cannot open the database {path}: {exc}") from exc
        except BaseException:
            self._db.close()
            raise

    def close(self) -> None:
        self._db.close()

    # -- schema ---------------------------------------------------------------

    @property
    def schema_version(self) -> int:
        (version,) = self._db.execute("PRAGMA user_version").fetchone()
        return int(version)

    def _migrate(self) -> None:
        while self.schema_version < len(MIGRATIONS):
            with self._transaction():
                # Read again under the write lock: another process may have
                # migrated between our check and BEGIN IMMEDIATE.
                version = self.schema_version
                if version >= len(MIGRATIONS):
                    break
                for statement in _split_sql(MIGRATIONS[version]):
                    self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version = {version + 1}")
        if self.schema_version > len(MIGRATIONS):
            raise StorageError(
                f"{self.path} was written by a newer peernode (schema "
                f"{self.schema_version}, this one knows {len(MIGRATIONS)}); upgrade peernode"
            )

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)

    # -- writes -----------------------------------------------------------------

    def insert_events(self, events: Sequence[Event], received_at: int) -> list[Event]:
        """Store events not yet stored; returns those that were new, in input order."""
        return [event for _, event in self.insert_events_seq(events, received_at)]

    def insert_events_seq(
        self, events: Sequence[Event], received_at: int
    ) -> list[tuple[int, Event]]:
        """As insert_events, with the local sequence number given to each new one."""
        if not events:
            return []
        inserted: list[tuple[int, Event]] = []
        with self._transaction():
            cursor = self._db.cursor()
            for event in events:
                cursor.execute(
                    "INSERT OR IGNORE INTO events"
                    " (id, author, created_at, kind, circle, received_at, raw)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        event.id,
                        event.author,
                        event.created_at,
                        event.kind,
                        event.circle,
                        received_at,
                        event.raw,
                    ),
                )
                if cursor.rowcount == 1:
                    inserted.append((cursor.lastrowid or 0, event))
            cursor.executemany(
                "INSERT OR IGNORE INTO refs (source, name, target) VALUES (?, ?, ?)",
                [
                    (event.id, name, target)
                    for _, event in inserted
                    for name, target in event.refs.items()
                ],
            )
        return inserted

    def remember_peer(self, key: bytes, name: str, host: str, port: int, last_seen: int) -> None:
        self._db.execute(
            "INSERT INTO peers (key, name, host, port, last_seen) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (key) DO UPDATE SET name = excluded.name, host = excluded.host,"
            " port = excluded.port, last_seen = excluded.last_seen",
            (key, name, host, port, last_seen),
        )

    def add_exchanged(self, counts: dict[bytes, int], last_seen: int) -> None:
        with self._transaction():
            self._db.executemany(
                "UPDATE peers SET events_exchanged = events_exchanged + ?, last_seen = ?"
                " WHERE key = ?",
                [(count, last_seen, key) for key, count in counts.items()],
            )

    def known_peers(self, limit: int = 256) -> list[KnownPeer]:
        rows = self._db.execute(
            "SELECT key, name, host, port, last_seen, events_exchanged FROM peers"
            " ORDER BY last_seen DESC LIMIT ?",
            (limit,),
        )
        return [KnownPeer(*row) for row in rows]

    def set_setting(self, name: str, value: str) -> None:
        self._db.execute(
            "INSERT INTO settings (name, value) VALUES (?, ?)"
            " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            (name, value),
        )

    # -- reads ------------------------------------------------------------------

    def setting(self, name: str) -> str | None:
        row = self._db.execute("SELECT value FROM settings WHERE name = ?", (name,)).fetchone()
        return None if row is None else str(row[0])

    def count(self) -> int:
        (count,) = self._db.execute("SELECT count(*) FROM events").fetchone()
        return int(count)

    def has(self, event_id: bytes) -> bool:
        row = self._db.execute("SELECT 1 FROM events WHERE id = ?", (event_id,)).fetchone()
        return row is not None

    def known_ids(self, ids: Sequence[bytes]) -> set[bytes]:
        """Those of `ids` already stored."""
        found: set[bytes] = set()
        for chunk in _chunks(ids, 500):
            marks = ",".join("?" * len(chunk))
            found.update(
                row[0]
                for row in self._db.execute(f"SELECT id FROM events WHERE id IN ({marks})", chunk)
            )
        return found

    def raw_by_ids(self, ids: Sequence[bytes]) -> list[bytes]:
        """The stored bytes of those ids we hold, in no particular order."""
        found: list[bytes] = []
        for chunk in _chunks(ids, 500):
            marks = ",".join("?" * len(chunk))
            found.extend(
                row[0]
                for row in self._db.execute(f"SELECT raw FROM events WHERE id IN ({marks})", chunk)
            )
        return found

    def time_index(self) -> Iterator[tuple[int, bytes]]:
        """(created_at, id) of every event in order: the reconciliation index."""
        yield from self._db.execute("SELECT created_at, id FROM events ORDER BY created_at, id")

    def feed(
        self,
        circle: str | None = None,
        *,
        limit: int | None = None,
        before: tuple[int, bytes] | None = None,
        after: tuple[int, bytes] | None = None,
        kinds: Sequence[str] | None = None,
        exclude_kinds: Sequence[str] | None = None,
    ) -> list[StoredEvent]:
        """Events ordered by (created_at, id), newest last.

        With `limit`, the newest `limit` events older than `before`, or with
        `after`, the oldest `limit` newer than it: how a long feed is paged.
        """
        where: list[str] = []
        params: list[object] = []
        if circle is not None:
            where.append("circle = ?")
            params.append(circle)
        if kinds:
            where.append(f"kind IN ({','.join('?' * len(kinds))})")
            params.extend(kinds)
        if exclude_kinds:
            where.append(f"kind NOT IN ({','.join('?' * len(exclude_kinds))})")
            params.extend(exclude_kinds)
        if before is not None:
            where.append("(created_at, id) < (?, ?)")
            params.extend(before)
        if after is not None:
            where.append("(created_at, id) > (?, ?)")
            params.extend(after)
        sql = "SELECT seq, received_at, raw FROM events"
        if where:
            sql += " WHERE " + " AND ".join(where)
        # Walk from the end the page is anchored to, then put it newest last.
        newest_first = after is None
        sql += " ORDER BY created_at DESC, id DESC" if newest_first else " ORDER BY created_at, id"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        rows = self._db.execute(sql, params).fetchall()
        if newest_first:
            rows.reverse()
        return [StoredEvent(seq, received_at, raw) for seq, received_at, raw in rows]

    def count_in(self, circle: str) -> int:
        (count,) = self._db.execute(
            "SELECT count(*) FROM events WHERE circle = ?", (circle,)
        ).fetchone()
        return int(count)

    def circles(self) -> list[CircleCount]:
        rows = self._db.execute(
            "SELECT circle, count(*), max(created_at) FROM events"
            " WHERE circle != '' GROUP BY circle ORDER BY circle"
        )
        return [CircleCount(circle, count, last) for circle, count, last in rows]

    def latest_of_kind(self, kind: str, author: bytes | None = None) -> list[bytes]:
        """The newest event of `kind` per author (ties broken by id)."""
        sql = (
            "SELECT raw FROM events AS e WHERE kind = ? {author}"
            " AND NOT EXISTS (SELECT 1 FROM events AS n WHERE n.kind = e.kind"
            " AND n.author = e.author AND (n.created_at, n.id) > (e.created_at, e.id))"
        )
        if author is None:
            rows = self._db.execute(sql.format(author=""), (kind,))
        else:
            rows = self._db.execute(sql.format(author="AND author = ?"), (kind, author))
        return [row[0] for row in rows]

    def referring(self, target: bytes, name: str | None = None) -> list[bytes]:
        """Events whose refs point at `target` (replies, edits, ...)."""
        sql = "SELECT e.raw FROM refs JOIN events AS e ON e.id = refs.source WHERE refs.target = ?"
        params: list[object] = [target]
        if name is not None:
            sql += " AND refs.name = ?"
            params.append(name)
        sql += " ORDER BY e.created_at, e.id"
        return [row[0] for row in self._db.execute(sql, params)]

    def referring_any(self, targets: Sequence[bytes], name: str) -> list[bytes]:
        """Events whose ref `name` points at any of `targets` (edits, deletes, ...)."""
        found: list[bytes] = []
        for chunk in _chunks(targets, 500):
            marks = ",".join("?" * len(chunk))
            found.extend(
                row[0]
                for row in self._db.execute(
                    "SELECT e.raw FROM refs JOIN events AS e ON e.id = refs.source"
                    f" WHERE refs.name = ? AND refs.target IN ({marks})",
                    (name, *chunk),
                )
            )
        return found

    def after_seq(self, seq: int, limit: int = 1000) -> list[StoredEvent]:
        """Events stored after local sequence number `seq`, oldest first."""
        rows = self._db.execute(
            "SELECT seq, received_at, raw FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
            (seq, limit),
        )
        return [StoredEvent(s, r, raw) for s, r, raw in rows]

    def max_seq(self) -> int:
        (seq,) = self._db.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()
        return int(seq)

    def data_version(self) -> int:
        """Changes whenever another connection (a CLI command) commits."""
        (version,) = self._db.execute("PRAGMA data_version").fetchone()
        return int(version)

    def integrity_check(self) -> str:
        (result,) = self._db.execute("PRAGMA integrity_check").fetchone()
        return str(result)

    # -- study circles --------------------------------------------------------------

    def circle_raw(self, circle: str, kinds: Sequence[str] | None = None) -> list[bytes]:
        """The bytes of a circle's events (only `kinds` if given), oldest first."""
        sql = "SELECT raw FROM events WHERE circle = ?"
        params: list[object] = [circle]
        if kinds is not None:
            sql += f" AND kind IN ({','.join('?' * len(kinds))})"
            params.extend(kinds)
        sql += " ORDER BY created_at, id"
        return [row[0] for row in self._db.execute(sql, params)]

    def raw_by_id_prefix(self, prefix: str, limit: int = 2) -> list[bytes]:
        """Events whose id, in hex, starts with `prefix` (hex digits only); at most `limit`."""
        low = bytes.fromhex((prefix + "0" * 64)[:64])
        high = bytes.fromhex((prefix + "f" * 64)[:64])
        rows = self._db.execute(
            "SELECT raw FROM events WHERE id BETWEEN ? AND ? ORDER BY id LIMIT ?",
            (low, high, limit),
        )
        return [row[0] for row in rows]

    # -- forgetting -----------------------------------------------------------------

    def forget_authors(
        self, authors: Sequence[bytes], keep_referenced_by: bytes | None, profile_kind: str
    ) -> int:
        """Delete the events of `authors` and forget them as peers; returns how many events.

        Kept: events that events of `keep_referenced_by` refer to, directly or through
        a chain of refs (the note replied to, its parent, ...), and the `profile_kind`
        events of the authors of those, so they still have a name.
        """
        if not authors:
            return 0
        marks = ",".join("?" * len(authors))
        with self._transaction():
            kept: set[bytes] = set()
            if keep_referenced_by is not None:
                kept = {
                    row[0]
                    for row in self._db.execute(
                        "WITH RECURSIVE kept(id) AS ("
                        " SELECT r.target FROM refs AS r JOIN events AS e ON e.id = r.source"
                        " WHERE e.author = ?"
                        " UNION SELECT r.target FROM refs AS r JOIN kept ON r.source = kept.id"
                        ") SELECT id FROM kept",
                        (keep_referenced_by,),
                    )
                }
            rows = self._db.execute(
                f"SELECT id, author, kind FROM events WHERE author IN ({marks})", list(authors)
            ).fetchall()
            named = {author for event_id, author, _ in rows if event_id in kept}
            drop = [
                (event_id,)
                for event_id, author, kind in rows
                if event_id not in kept and not (kind == profile_kind and author in named)
            ]
            self._db.executemany("DELETE FROM refs WHERE source = ?", drop)
            self._db.executemany("DELETE FROM events WHERE id = ?", drop)
            self._db.execute(f"DELETE FROM peers WHERE key IN ({marks})", list(authors))
        return len(drop)


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any exception."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self._db.execute("COMMIT")
        else:
            self._db.execute("ROLLBACK")


def _split_sql(script: str) -> list[str]:
    return [part.strip() for part in script.split(";") if part.strip()]


def _chunks(items: Sequence[bytes], size: int) -> Iterable[Sequence[bytes]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
