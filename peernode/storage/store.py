"""The event store: the only module that speaks SQL.

Rules of this file:
- One Store object per thread; the node runs it on a single worker thread
  (see async_store.py) so database work never blocks the event loop.
- WAL with synchronous=FULL: once insert_events() returns, the rows survive
  a crash of the process or of the machine.
- Inserts are idempotent on the event id and batched in one transaction.
- Every sqlite3 error leaves as a StorageError with a plain message: DiskFull
  or ReadOnlyStorage (writes stop, reads go on), StorageDamaged (corrupt file:
  `peernode repair`, which uses salvage_from below), else StorageError.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import os
import sqlite3
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, TypeVar

from peernode.clock import ShownKey, shown_at
from peernode.errors import (
    DiskFull,
    ReadOnlyStorage,
    StorageDamaged,
    StorageError,
    StorageUnwritable,
)
from protocol.errors import RemoteProtocolError
from protocol.event import Event, decode_event

BUSY_TIMEOUT_MS: Final = 10_000
SALVAGE_CHUNK: Final = 500

DISK_FULL_MESSAGE: Final = (
    "the disk is full: peernode cannot save new events until space is freed; reading still works"
)
# Extended result code: the -shm file could not grow (ENOSPC), an open on a full disk.
_SQLITE_IOERR_SHMSIZE: Final = sqlite3.SQLITE_IOERR | (19 << 8)
# Below this much free space an I/O error is taken for a full disk.
_NEARLY_FULL_BYTES: Final = 256 * 1024

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
    # shown_at: the display time, peernode.clock.shown_at() of the claim and the
    # arrival: received_at when the claim is later or before 2000-01-01 (an unset
    # clock), else created_at. Lists order by (shown_at, created_at, id);
    # events_by_time stays the reconciliation order.
    """
    ALTER TABLE events ADD COLUMN shown_at INTEGER NOT NULL DEFAULT 0;
    UPDATE events SET shown_at = CASE WHEN created_at < 946684800000 THEN received_at
        ELSE min(created_at, received_at) END;
    DROP INDEX events_by_circle;
    CREATE INDEX events_by_circle ON events (circle, shown_at, created_at, id);
    CREATE INDEX events_by_shown ON events (shown_at, created_at, id);
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
class ChannelCount:
    """A channel's number of events and the newest shown_at among them.

    A channel is the `circle` field of an event: the feed it is posted in (a study
    circle's events are in the channel of the circle's slug)."""

    channel: str
    events: int
    last_at: int


@dataclass(frozen=True, slots=True)
class Salvage:
    """What salvage_from() got out of a damaged database."""

    read: int  # event rows that still read
    stored: int  # of those, verified and new here
    invalid: int  # read, but failed decode_event (damaged bytes)
    unreadable: int  # row numbers whose page did not read
    peers: int  # known peers kept
    complete: bool  # every part of the events table read without error


def storage_error(exc: sqlite3.Error, path: Path) -> StorageError:
    """The StorageError, with a plain message, for an sqlite3 error on the database at `path`."""
    code = getattr(exc, "sqlite_errorcode", None)
    primary = None if code is None else code & 0xFF
    if (
        primary == sqlite3.SQLITE_FULL
        or code == _SQLITE_IOERR_SHMSIZE
        or (primary == sqlite3.SQLITE_IOERR and _nearly_full(path))
    ):
        return DiskFull(DISK_FULL_MESSAGE)
    if primary == sqlite3.SQLITE_READONLY:
        return ReadOnlyStorage(_read_only_message(path))
    if primary in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB) or (
        # Text where this schema only ever stores blobs: a damaged type byte.
        code is None and str(exc).startswith("Could not decode to UTF-8")
    ):
        return damaged(path, str(exc)[:80])
    return StorageError(f"cannot use the database {path}: {exc}")


def check_file(path: Path) -> str | None:
    """What is wrong with the database file at `path` (None: its pages check out).

    Opened read-only, so a damaged file is left exactly as it is (no checkpoint
    of its WAL into it on close).
    """
    try:
        db = sqlite3.connect(_uri(path, mode="ro"), uri=True, isolation_level=None)
    except sqlite3.Error as exc:
        return str(exc)
    try:
        problems = [str(row[0]) for row in db.execute("PRAGMA quick_check(3)")]
    except sqlite3.Error as exc:
        return str(exc)
    finally:
        db.close()
    return None if problems == ["ok"] else _one_line("; ".join(problems))


def _one_line(report: str, limit: int = 160) -> str:
    """A quick_check report as one short line (its rows hold newlines and a banner)."""
    text = " ".join(report.replace("*** in database main ***", "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def damaged(path: Path, detail: str, *, at_open: bool = False) -> StorageDamaged:
    where = f"cannot open the database {path}: it is" if at_open else f"the database {path} is"
    return StorageDamaged(
        f"{where} damaged ({detail}); run 'peernode repair' to set it aside,"
        " keep the events that still read and fetch the rest from peers"
    )


def _at_open(error: StorageError, exc: sqlite3.Error, path: Path) -> StorageError:
    """An error at open says so; disk full and read-only speak for themselves."""
    if isinstance(error, StorageDamaged):
        return damaged(path, str(exc), at_open=True)
    if type(error) is StorageError:
        return StorageError(f"cannot open the database {path}: {exc}")
    return error


def _read_only_message(path: Path) -> str:
    return (
        f"the database {path} is read-only: peernode cannot save new events until it is"
        " writable again; reading still works"
    )


def _nearly_full(path: Path) -> bool:
    try:
        stat = os.statvfs(path.parent)
    except OSError:
        return False
    return stat.f_bavail * stat.f_frsize < _NEARLY_FULL_BYTES


def _read_only_file_system(path: Path) -> bool:
    try:
        return bool(os.statvfs(path.parent).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def _read_only_place(path: Path) -> bool:
    """The file (or, for a new one, its directory) cannot be written by this process."""
    if _read_only_file_system(path):
        return True
    target = path if path.exists() else path.parent
    return not os.access(target, os.W_OK)


def _uri(path: Path, **params: str) -> str:
    query = "&".join(f"{name}={value}" for name, value in params.items())
    return f"file:{urllib.parse.quote(str(path.absolute()))}" + (f"?{query}" if query else "")


F = TypeVar("F", bound=Callable[..., Any])


def _mapping_errors(method: F) -> F:
    """Wrap a Store method so sqlite3 errors leave it as StorageError (see storage_error)."""
    if inspect.isgeneratorfunction(method):

        @functools.wraps(method)
        def generator(self: Store, *args: Any, **kwargs: Any) -> Any:
            try:
                yield from method(self, *args, **kwargs)
            except sqlite3.Error as exc:
                raise storage_error(exc, self.path) from exc

        return generator  # type: ignore[return-value]

    @functools.wraps(method)
    def plain(self: Store, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.Error as exc:
            raise storage_error(exc, self.path) from exc

    return plain  # type: ignore[return-value]


S = TypeVar("S", bound=type)


def _map_errors_of_public_methods(cls: S) -> S:
    for name, value in list(vars(cls).items()):
        if not name.startswith("_") and inspect.isfunction(value):
            setattr(cls, name, _mapping_errors(value))
    return cls


@_map_errors_of_public_methods
class Store:
    """A node's SQLite database.

    check: run PRAGMA quick_check at open (every page's structure; about 0.15 s for
    70 MB) so a damaged file is found at start-up, not half-way through a sync.
    When the disk is full or the database read-only, it still opens for reading
    (see _open_degraded) and `unwritable` says why writes will fail.
    """

    def __init__(self, path: Path, *, check: bool = False) -> None:
        self.path = path
        self.unwritable: str | None = None
        try:
            self._db = self._open()
        except sqlite3.Error as exc:
            error = storage_error(exc, path)
            if not isinstance(error, StorageUnwritable) and not (
                path.exists() and _read_only_place(path)
            ):
                raise _at_open(error, exc, path) from exc
            try:
                self._db = self._open_degraded(error)
            except sqlite3.Error as again:
                raise _at_open(storage_error(again, path), again, path) from again
        if check:
            try:
                problems = [row[0] for row in self._db.execute("PRAGMA quick_check(3)")]
            except sqlite3.Error as exc:
                self._db.close()
                raise _at_open(storage_error(exc, path), exc, path) from exc
            if problems != ["ok"]:
                self._db.close()
                raise damaged(path, _one_line(problems[0]), at_open=True)

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        try:
            db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = FULL")
            db.execute("PRAGMA foreign_keys = ON")
            self._migrate(db)
        except BaseException:
            db.close()
            raise
        return db

    def _open_degraded(self, why: StorageError) -> sqlite3.Connection:
        """Open an existing database for reading when a normal open cannot write.

        Disk full: the WAL index (-shm) cannot grow, so keep it in this process's
        memory (locking_mode EXCLUSIVE, set before the first read); other processes
        wait for this one meanwhile. Writes work again once space is freed.
        Read-only: mode=ro, or immutable=1 where not even the -shm can be made
        (a read-only file system); writes fail with ReadOnlyStorage.
        """
        if isinstance(why, DiskFull):
            db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
            try:
                db.execute("PRAGMA locking_mode = EXCLUSIVE")
                db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
                db.execute("PRAGMA journal_mode = WAL")
                db.execute("PRAGMA synchronous = FULL")
                db.execute("PRAGMA foreign_keys = ON")
                self._migrate(db)
            except BaseException:
                db.close()
                raise
            self.unwritable = DISK_FULL_MESSAGE
            return db
        last: sqlite3.Error | None = None
        attempts = [{"mode": "ro"}]
        if _read_only_file_system(self.path):
            # Nobody can write it there, so SQLite may skip locks and the -shm; a WAL
            # left beside it is not read (its newest commits are not shown).
            attempts.append({"mode": "ro", "immutable": "1"})
        for params in attempts:
            db = sqlite3.connect(
                _uri(self.path, **params),
                uri=True,
                timeout=BUSY_TIMEOUT_MS / 1000,
                isolation_level=None,
            )
            try:
                if self._schema_version(db) < len(MIGRATIONS):
                    raise ReadOnlyStorage(
                        f"{self.path} needs an upgrade of its tables but is read-only"
                    )
                self._migrate(db)  # only checks the version: nothing to do
            except sqlite3.Error as exc:
                db.close()
                last = exc
                continue
            except BaseException:
                db.close()
                raise
            self.unwritable = _read_only_message(self.path)
            return db
        assert last is not None
        raise last

    def close(self) -> None:
        self._db.close()

    def unwritable_reason(self) -> str | None:
        """Why writes are known to fail since the open (disk full, read-only), or None."""
        return self.unwritable

    # -- schema ---------------------------------------------------------------

    @property
    def schema_version(self) -> int:
        return self._schema_version(self._db)

    @staticmethod
    def _schema_version(db: sqlite3.Connection) -> int:
        (version,) = db.execute("PRAGMA user_version").fetchone()
        return int(version)

    def _migrate(self, db: sqlite3.Connection) -> None:
        while self._schema_version(db) < len(MIGRATIONS):
            with _Transaction(db):
                # Read again under the write lock: another process may have
                # migrated between our check and BEGIN IMMEDIATE.
                version = self._schema_version(db)
                if version >= len(MIGRATIONS):
                    break
                for statement in _split_sql(MIGRATIONS[version]):
                    db.execute(statement)
                db.execute(f"PRAGMA user_version = {version + 1}")
        if (version := self._schema_version(db)) > len(MIGRATIONS):
            raise StorageError(
                f"{self.path} was written by a newer peernode (schema "
                f"{version}, this one knows {len(MIGRATIONS)}); upgrade peernode"
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
        return self._insert([(event, received_at) for event in events])

    def _insert(self, rows: Sequence[tuple[Event, int]]) -> list[tuple[int, Event]]:
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
        before: ShownKey | None = None,
        after: ShownKey | None = None,
        kinds: Sequence[str] | None = None,
        exclude_kinds: Sequence[str] | None = None,
    ) -> list[StoredEvent]:
        """Events ordered by (shown_at, created_at, id), newest last.

        With `limit`, the newest `limit` events before the key `before`, or with
        `after`, the oldest `limit` after it: how a long feed is paged.
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

    def count_in(self, circle: str) -> int:
        (count,) = self._db.execute(
            "SELECT count(*) FROM events WHERE circle = ?", (circle,)
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

    # -- repair -------------------------------------------------------------------------

    def salvage_from(self, damaged: Path) -> Salvage:
        """Copy into this store what still reads from the damaged database `damaged`.

        The damaged file is opened read-only and never written. Every event row
        that reads is verified again with decode_event (damaged bytes fail it) and
        the good ones are stored with their old received_at, in their old order;
        known peers and settings are kept too, so the node can re-sync the rest.
        """
        try:
            old = sqlite3.connect(_uri(damaged, mode="ro"), uri=True, isolation_level=None)
        except sqlite3.Error:
            return Salvage(0, 0, 0, 0, 0, complete=False)
        try:
            reader = _SalvageReader(old)
            read = stored = invalid = 0
            batch: list[tuple[Event, int]] = []
            for received_at, raw in reader.events():
                read += 1
                try:
                    if not isinstance(raw, bytes):
                        raise TypeError(type(raw).__name__)
                    event = decode_event(raw)
                except (RemoteProtocolError, TypeError, ValueError):
                    invalid += 1
                    continue
                batch.append((event, received_at if isinstance(received_at, int) else 0))
                if len(batch) >= SALVAGE_CHUNK:
                    stored += len(self._insert(batch))
                    batch = []
            stored += len(self._insert(batch))
            peers = self._salvage_peers(old)
            self._salvage_settings(old)
        finally:
            old.close()
        return Salvage(read, stored, invalid, reader.unreadable, peers, reader.complete)

    def _salvage_peers(self, old: sqlite3.Connection) -> int:
        rows: list[tuple[Any, ...]] = []
        with contextlib.suppress(sqlite3.Error):
            for row in old.execute(
                "SELECT key, name, host, port, last_seen, events_exchanged FROM peers"
            ):
                types = (bytes, str, str, int, int, int)
                if all(isinstance(value, kind) for value, kind in zip(row, types, strict=True)):
                    rows.append(row)
        with self._transaction():
            self._db.executemany(
                "INSERT OR IGNORE INTO peers (key, name, host, port, last_seen, events_exchanged)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )
        return len(rows)

    def _salvage_settings(self, old: sqlite3.Connection) -> None:
        rows: list[tuple[Any, ...]] = []
        with contextlib.suppress(sqlite3.Error):
            for name, value in old.execute("SELECT name, value FROM settings"):
                if isinstance(name, str) and isinstance(value, str):
                    rows.append((name, value))
        with self._transaction():
            self._db.executemany("INSERT OR IGNORE INTO settings (name, value) VALUES (?, ?)", rows)

    # -- study circles --------------------------------------------------------------

    def circle_raw(self, circle: str, kinds: Sequence[str] | None = None) -> list[bytes]:
        """The bytes of a circle's events (only `kinds` if given), oldest claim first."""
        return [row.raw for row in self.circle_rows(circle, kinds)]

    def circle_rows(self, circle: str, kinds: Sequence[str] | None = None) -> list[StoredEvent]:
        """A circle's events (only `kinds` if given) as stored, oldest claim first."""
        sql = "SELECT seq, received_at, raw FROM events WHERE circle = ?"
        params: list[object] = [circle]
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


class _SalvageReader:
    """Reads the events table of a damaged database around the pages that fail.

    Walks rows in seq order in chunks; where a chunk fails, looks rows up one seq
    at a time (a lookup reads only the pages on its own path) until one reads,
    then goes back to chunks. `hi`, the highest seq, bounds the walk; when even
    that cannot be read it is estimated from the file size.
    """

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db
        self.unreadable = 0
        self.complete = True

    def events(self) -> Iterator[tuple[Any, Any]]:
        """(received_at, raw) of each row that reads, in seq order."""
        hi = self._highest_seq()
        pos = 0
        while True:
            got = 0
            try:
                rows = self._db.execute(
                    "SELECT seq, received_at, raw FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
                    (pos, SALVAGE_CHUNK),
                )
                for seq, received_at, raw in rows:
                    got += 1
                    if isinstance(seq, int) and seq > pos:
                        pos = seq
                        yield received_at, raw
            except sqlite3.Error:
                self.complete = False
            else:
                if got == SALVAGE_CHUNK:
                    continue
                if pos >= hi:
                    return
                self.complete = False  # the walk ended early: step over the gap
            # Step over a failing page one seq at a time, until a row reads again.
            while pos < hi:
                pos += 1
                try:
                    row = self._db.execute(
                        "SELECT received_at, raw FROM events WHERE seq = ?", (pos,)
                    ).fetchone()
                except sqlite3.Error:
                    self.unreadable += 1
                    continue
                if row is not None:
                    yield row[0], row[1]
                    break
            else:
                return

    def _highest_seq(self) -> int:
        highest = 0
        for sql in (
            "SELECT max(seq) FROM events",
            "SELECT max(seq) FROM events INDEXED BY events_by_time",
        ):
            try:
                (value,) = self._db.execute(sql).fetchone()
            except sqlite3.Error:
                self.complete = False
                continue
            if isinstance(value, int):
                highest = max(highest, value)
        if highest == 0 and not self.complete:
            try:
                (pages,) = self._db.execute("PRAGMA page_count").fetchone()
                (size,) = self._db.execute("PRAGMA page_size").fetchone()
                highest = int(pages) * int(size) // 64  # no row is smaller than that
            except sqlite3.Error:
                highest = 0
        return highest


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any exception.

    A failed COMMIT (disk full, I/O error) may or may not have rolled back already;
    either way the connection leaves here with no transaction open, so the next
    write can succeed once the cause is gone.
    """

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            try:
                self._db.execute("COMMIT")
            except BaseException:
                self._rollback()
                raise
        else:
            self._rollback()

    def _rollback(self) -> None:
        if self._db.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                self._db.execute("ROLLBACK")


def _split_sql(script: str) -> list[str]:
    return [part.strip() for part in script.split(";") if part.strip()]


def _chunks(items: Sequence[bytes], size: int) -> Iterable[Sequence[bytes]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
