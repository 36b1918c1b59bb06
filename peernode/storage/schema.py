"""The database's tables, the migrations between their versions, and its transactions."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from typing import Final

from peernode.errors import StorageError

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
    # Events that never leave this node (the demo room's): those posted in a local
    # channel or signed by a local author. See local.py.
    """
    CREATE TABLE local_channels (channel TEXT PRIMARY KEY) WITHOUT ROWID;
    CREATE TABLE local_authors (author BLOB PRIMARY KEY) WITHOUT ROWID;
    """,
    # The learner's own moderation (muted or blocked people, events hidden for
    # oneself) and the authors held before admission by relationship, who stay
    # familiar (see moderation.py and peernode/admission.py).
    """
    CREATE TABLE moderation (
        key   BLOB PRIMARY KEY,
        level TEXT NOT NULL CHECK (level IN ('mute', 'block')),
        since INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE hidden_events (id BLOB PRIMARY KEY, since INTEGER NOT NULL) WITHOUT ROWID;
    CREATE TABLE held_authors (author BLOB PRIMARY KEY) WITHOUT ROWID;
    INSERT INTO held_authors (author) SELECT DISTINCT author FROM events;
    """,
    # Events declined by admission or a block, so a restart does not fetch them all
    # again (see declined.py); `until` is when each is forgotten (ms).
    """
    CREATE TABLE declined (
        id     BLOB PRIMARY KEY,
        author BLOB NOT NULL,
        until  INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX declined_by_until ON declined (until, id);
    CREATE INDEX declined_by_author ON declined (author);
    """,
)


def schema_version(db: sqlite3.Connection) -> int:
    (version,) = db.execute("PRAGMA user_version").fetchone()
    return int(version)


def migrate(db: sqlite3.Connection, path: Path) -> None:
    """Bring the tables up to the newest version; refuse a file from a newer peernode."""
    while schema_version(db) < len(MIGRATIONS):
        with Transaction(db):
            # Read again under the write lock: another process may have
            # migrated between our check and BEGIN IMMEDIATE.
            version = schema_version(db)
            if version >= len(MIGRATIONS):
                break
            for statement in _split_sql(MIGRATIONS[version]):
                db.execute(statement)
            db.execute(f"PRAGMA user_version = {version + 1}")
    if (version := schema_version(db)) > len(MIGRATIONS):
        raise StorageError(
            f"{path} was written by a newer peernode (schema "
            f"{version}, this one knows {len(MIGRATIONS)}); upgrade peernode"
        )


class Transaction:
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
