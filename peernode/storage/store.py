"""The event store: the reads and writes of a node's SQLite database.

Rules of this file (and of storage/, the only package that speaks SQL):
- One Store object per thread; the node runs it on a single worker thread
  (see async_store.py) so database work never blocks the event loop.
- Opened by connection.py: WAL with synchronous=FULL, so once insert_events()
  returns, the rows survive a crash of the process or of the machine.
- Inserts are idempotent on the event id and batched in one transaction.
- Every sqlite3 error leaves a public method as a StorageError (see faults.py).
- An event's wire field `circle` is its channel: the feed it is posted in (a study
  circle's events are in the channel of the circle's slug).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from peernode.clock import ShownKey, shown_at
from peernode.storage import declined as declined_
from peernode.storage import moderation as moderation_
from peernode.storage.connection import open_database
from peernode.storage.faults import map_errors_of_public_methods
from peernode.storage.forgetting import forget_authors
from peernode.storage.local import (
    LocalRules,
    keep_local,
    local_ids,
    local_rules,
    shared_condition,
)
from peernode.storage.moderation import MODERATED, NOT_HIDDEN, Level, Moderation
from peernode.storage.schema import Transaction, schema_version
from peernode.storage.sequence import events_after_sql, store_id
from protocol.event import Event


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
class ChannelCount:
    """A channel's number of events and the newest shown_at among them.

    A channel is the `circle` field of an event: the feed it is posted in (a study
    circle's events are in the channel of the circle's slug)."""

    channel: str
    events: int
    last_at: int


@map_errors_of_public_methods
class Store:
    """A node's SQLite database.

    check: run PRAGMA quick_check at open, so a damaged file is found at start-up.
    When the disk is full or the database read-only, it still opens for reading
    and `unwritable` says why writes will fail.
    """

    def __init__(self, path: Path, *, check: bool = False) -> None:
        self.path = path
        self._db, unwritable = open_database(path, check=check)
        self.unwritable: str | None = unwritable
        """Why writes are known to fail since the open (disk full, read-only), or None."""

    def close(self) -> None:
        self._db.close()

    # -- schema ---------------------------------------------------------------

    @property
    def schema_version(self) -> int:
        return schema_version(self._db)

    def _transaction(self) -> Transaction:
        return Transaction(self._db)

    # -- writes -----------------------------------------------------------------

    def insert_events(self, events: Sequence[Event], received_at: int) -> list[Event]:
        """Store events not yet stored; returns those that were new, in input order."""
        return [event for _, event in self.insert_events_seq(events, received_at)]

    def insert_events_seq(
        self, events: Sequence[Event], received_at: int
    ) -> list[tuple[int, Event]]:
        """As insert_events, with the local sequence number given to each new one."""
        return self.insert_rows([(event, received_at) for event in events])

    def insert_rows(self, rows: Sequence[tuple[Event, int]]) -> list[tuple[int, Event]]:
        """Store (event, received_at) pairs not yet stored, each with its own arrival time
        (a salvage keeps the old ones); returns the new ones with their sequence numbers."""
        if not rows:
            return []
        inserted: list[tuple[int, Event]] = []
        with self._transaction():
            cursor = self._db.cursor()
            for event, received_at in rows:
                cursor.execute(
                    "INSERT OR IGNORE INTO events"
                    " (id, author, created_at, kind, circle, received_at, shown_at, raw)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        event.id,
                        event.author,
                        event.created_at,
                        event.kind,
                        event.circle,
                        received_at,
                        shown_at(event.created_at, received_at),
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

    def keep_peers(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """Add (key, name, host, port, last_seen, events_exchanged) rows of peers not known yet."""
        with self._transaction():
            self._db.executemany(
                "INSERT OR IGNORE INTO peers (key, name, host, port, last_seen, events_exchanged)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )

    def set_setting(self, name: str, value: str) -> None:
        self._db.execute(
            "INSERT INTO settings (name, value) VALUES (?, ?)"
            " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            (name, value),
        )

    def keep_settings(self, rows: Sequence[tuple[str, str]]) -> None:
        """Add (name, value) settings not set yet."""
        with self._transaction():
            self._db.executemany("INSERT OR IGNORE INTO settings (name, value) VALUES (?, ?)", rows)

    def keep_local(self, rules: LocalRules) -> None:
        """Events in these channels or by these authors never leave this node (local.py)."""
        keep_local(self._db, rules)

    def forget_authors(
        self, authors: Sequence[bytes], keep_referenced_by: bytes | None, profile_kind: str
    ) -> int:
        """Delete the events of `authors` and forget them as peers (see forgetting.py)."""
        return forget_authors(self._db, authors, keep_referenced_by, profile_kind)

    # -- reads ------------------------------------------------------------------

    def local_rules(self) -> LocalRules:
        return local_rules(self._db)

    # -- moderation (moderation.py) -----------------------------------------------------

    def set_moderation(self, key: bytes, level: Level, since: int) -> None:
        moderation_.set_level(self._db, key, level, since)

    def clear_moderation(self, key: bytes, level: Level) -> bool:
        return moderation_.clear_level(self._db, key, level)

    def hide_event(self, event_id: bytes, since: int) -> None:
        moderation_.hide(self._db, event_id, since)

    def unhide_event(self, event_id: bytes) -> bool:
        return moderation_.unhide(self._db, event_id)

    def moderation(self) -> Moderation:
        return moderation_.moderation(self._db)

    def held_authors(self) -> set[bytes]:
        return moderation_.held_authors(self._db)

    def carry_moderation(self, old: sqlite3.Connection) -> None:
        """Keep the moderation and held authors of a damaged database (salvage.py)."""
        moderation_.carry_over(old, self._db)

    # -- declined events (declined.py) ---------------------------------------------------

    def remember_declined(self, rows: Sequence[tuple[bytes, bytes]], until: int, cap: int) -> None:
        declined_.remember(self._db, rows, until, cap)

    def declined(self, now: int, limit: int) -> list[tuple[bytes, bytes]]:
        return declined_.current(self._db, now, limit)

    def forget_declined(self, authors: Iterable[bytes] | None = None) -> None:
        """Of these authors (None: of everyone)."""
        if authors is None:
            declined_.forget_all(self._db)
        else:
            declined_.forget_authors(self._db, authors)

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
        return [raw for _, raw in self._by_ids(ids, "")]

    def shared_raw_by_ids(self, ids: Sequence[bytes]) -> list[bytes]:
        """As raw_by_ids, but only events that may leave this node (see local.py)."""
        return [raw for _, raw in self._by_ids(ids, shared_condition(self._db))]

    def shared_ids(self, ids: Sequence[bytes]) -> set[bytes]:
        """Those of `ids` stored and allowed to leave this node (see local.py)."""
        return {event_id for event_id, _ in self._by_ids(ids, shared_condition(self._db))}

    def _by_ids(self, ids: Sequence[bytes], condition: str) -> list[tuple[bytes, bytes]]:
        """(id, raw) of those of `ids` held that meet the SQL `condition` ("": all)."""
        also = f" AND {condition}" if condition else ""
        found: list[tuple[bytes, bytes]] = []
        for chunk in _chunks(ids, 500):
            marks = ",".join("?" * len(chunk))
            found.extend(
                self._db.execute(f"SELECT id, raw FROM events WHERE id IN ({marks}){also}", chunk)
            )
        return found

    def time_index(self) -> Iterator[tuple[int, bytes]]:
        """(created_at, id) in order of every event that may leave this node: the
        reconciliation index (local-only events are not in it, see local.py)."""
        rows = self._db.execute("SELECT created_at, id FROM events ORDER BY created_at, id")
        # Leaving out a small set of ids as the index is read costs far less than a
        # condition SQLite checks on every row.
        if local := local_ids(self._db):
            yield from (row for row in rows if row[1] not in local)
        else:
            yield from rows

    def feed(
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
        """Events ordered by (shown_at, created_at, id), newest last.

        With `limit`, the newest `limit` events before the key `before`, or with
        `after`, the oldest `limit` after it: how a long feed is paged.
        visible: leave out muted and blocked people's events and hidden ones.
        """
        where: list[str] = [MODERATED, NOT_HIDDEN] if visible else []
        params: list[object] = []
        if channel is not None:
            where.append("circle = ?")
            params.append(channel)
        if kinds:
            where.append(f"kind IN ({','.join('?' * len(kinds))})")
            params.extend(kinds)
        if exclude_kinds:
            where.append(f"kind NOT IN ({','.join('?' * len(exclude_kinds))})")
            params.extend(exclude_kinds)
        if before is not None:
            where.append("(shown_at, created_at, id) < (?, ?, ?)")
            params.extend(before)
        if after is not None:
            where.append("(shown_at, created_at, id) > (?, ?, ?)")
            params.extend(after)
        sql = "SELECT seq, received_at, raw FROM events"
        if where:
            sql += " WHERE " + " AND ".join(where)
        # Walk from the end the page is anchored to, then put it newest last.
        newest_first = after is None
        sql += (
            " ORDER BY shown_at DESC, created_at DESC, id DESC"
            if newest_first
            else " ORDER BY shown_at, created_at, id"
        )
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        rows = self._db.execute(sql, params).fetchall()
        if newest_first:
            rows.reverse()
        return [StoredEvent(seq, received_at, raw) for seq, received_at, raw in rows]

    def count_in_channel(self, channel: str) -> int:
        (count,) = self._db.execute(
            "SELECT count(*) FROM events WHERE circle = ?", (channel,)
        ).fetchone()
        return int(count)

    def channels(self) -> list[ChannelCount]:
        rows = self._db.execute(
            "SELECT circle, count(*), max(shown_at) FROM events"
            " WHERE circle != '' GROUP BY circle ORDER BY circle"
        )
        return [ChannelCount(channel, count, last) for channel, count, last in rows]

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

    def events_after(
        self,
        seq: int,
        limit: int,
        *,
        upto: int | None = None,
        circle: str | None = None,
        kind: str | None = None,
        author: bytes | None = None,
    ) -> list[StoredEvent]:
        """As after_seq, up to seq `upto`, only the events of that channel, kind and author
        (those given)."""
        sql, params = events_after_sql(upto=upto, circle=circle, kind=kind, author=author)
        rows = self._db.execute(sql, [seq, *params, limit])
        return [StoredEvent(s, r, raw) for s, r, raw in rows]

    def event_row(self, event_id: bytes) -> StoredEvent | None:
        """The event of this id as stored, if held."""
        row = self._db.execute(
            "SELECT seq, received_at, raw FROM events WHERE id = ?", (event_id,)
        ).fetchone()
        return None if row is None else StoredEvent(*row)

    def store_id(self) -> str:
        """The id of this numbering of events (see sequence.py)."""
        return store_id(self._db)

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

    def checkpoint(self) -> None:
        """Copy the WAL into the database file and empty it (before moving the file)."""
        self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()

    # -- channels -----------------------------------------------------------------------

    def channel_raw(self, channel: str, kinds: Sequence[str] | None = None) -> list[bytes]:
        """The bytes of a channel's events (only `kinds` if given), oldest claim first."""
        return [row.raw for row in self.channel_rows(channel, kinds)]

    def channel_rows(self, channel: str, kinds: Sequence[str] | None = None) -> list[StoredEvent]:
        """A channel's events (only `kinds` if given) as stored, oldest claim first."""
        sql = "SELECT seq, received_at, raw FROM events WHERE circle = ?"
        params: list[object] = [channel]
        if kinds is not None:
            sql += f" AND kind IN ({','.join('?' * len(kinds))})"
            params.extend(kinds)
        sql += " ORDER BY created_at, id"
        return [StoredEvent(*row) for row in self._db.execute(sql, params)]

    def raw_by_id_prefix(self, prefix: str, limit: int = 2) -> list[bytes]:
        """Events whose id, in hex, starts with `prefix` (hex digits only); at most `limit`."""
        low = bytes.fromhex((prefix + "0" * 64)[:64])
        high = bytes.fromhex((prefix + "f" * 64)[:64])
        rows = self._db.execute(
            "SELECT raw FROM events WHERE id BETWEEN ? AND ? ORDER BY id LIMIT ?",
            (low, high, limit),
        )
        return [row[0] for row in rows]


def _chunks(items: Sequence[bytes], size: int) -> Iterable[Sequence[bytes]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
