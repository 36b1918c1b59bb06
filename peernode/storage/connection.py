"""Opening the database: WAL and full sync, migrated, and still readable when it cannot write.

Rules of this file:
- WAL with synchronous=FULL: once a write returns, it survives a crash of the
  process or of the machine.
- A database that cannot be written (disk full, read-only) still opens for reading,
  and the open says why writes will fail.
- Every error leaves as a StorageError saying it happened at open.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Final

from peernode.errors import DiskFull, ReadOnlyStorage, StorageError, StorageUnwritable
from peernode.storage.faults import (
    DISK_FULL_MESSAGE,
    at_open,
    damaged,
    one_line,
    read_only_file_system,
    read_only_message,
    read_only_place,
    storage_error,
    uri,
)
from peernode.storage.schema import MIGRATIONS, migrate, schema_version
from peernode.storage.sequence import ensure_store_id

BUSY_TIMEOUT_MS: Final = 10_000


def open_database(path: Path, *, check: bool = False) -> tuple[sqlite3.Connection, str | None]:
    """The connection, and why writes are known to fail (None: they work).

    check: run PRAGMA quick_check (every page's structure; about 0.15 s for 70 MB)
    so a damaged file is found at start-up, not half-way through a sync.
    """
    unwritable: str | None = None
    try:
        db = _open(path)
    except sqlite3.Error as exc:
        error = storage_error(exc, path)
        if not isinstance(error, StorageUnwritable) and not (
            path.exists() and read_only_place(path)
        ):
            raise at_open(error, exc, path) from exc
        try:
            db, unwritable = _open_degraded(path, error)
        except sqlite3.Error as again:
            raise at_open(storage_error(again, path), again, path) from again
    if check:
        try:
            problems = [row[0] for row in db.execute("PRAGMA quick_check(3)")]
        except sqlite3.Error as exc:
            db.close()
            raise at_open(storage_error(exc, path), exc, path) from exc
        if problems != ["ok"]:
            db.close()
            raise damaged(path, one_line(problems[0]), at_open=True)
    return db, unwritable


def _connect(target: str | Path, *, as_uri: bool = False) -> sqlite3.Connection:
    return sqlite3.connect(target, uri=as_uri, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)


def _configure(db: sqlite3.Connection, path: Path) -> None:
    db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = FULL")
    db.execute("PRAGMA foreign_keys = ON")
    migrate(db, path)


def _open(path: Path) -> sqlite3.Connection:
    db = _connect(path)
    try:
        _configure(db, path)
        ensure_store_id(db)  # now, so a store that turns read-only can still say it
    except BaseException:
        db.close()
        raise
    return db


def _open_degraded(path: Path, why: StorageError) -> tuple[sqlite3.Connection, str]:
    """Open an existing database for reading when a normal open cannot write.

    Disk full: the WAL index (-shm) cannot grow, so keep it in this process's
    memory (locking_mode EXCLUSIVE, set before the first read); other processes
    wait for this one meanwhile. Writes work again once space is freed.
    Read-only: mode=ro, or immutable=1 where not even the -shm can be made
    (a read-only file system); writes fail with ReadOnlyStorage.
    """
    if isinstance(why, DiskFull):
        db = _connect(path)
        try:
            db.execute("PRAGMA locking_mode = EXCLUSIVE")
            _configure(db, path)
        except BaseException:
            db.close()
            raise
        return db, DISK_FULL_MESSAGE
    last: sqlite3.Error | None = None
    attempts = [{"mode": "ro"}]
    if read_only_file_system(path):
        # Nobody can write it there, so SQLite may skip locks and the -shm; a WAL
        # left beside it is not read (its newest commits are not shown).
        attempts.append({"mode": "ro", "immutable": "1"})
    for params in attempts:
        db = _connect(uri(path, **params), as_uri=True)
        try:
            if schema_version(db) < len(MIGRATIONS):
                raise ReadOnlyStorage(f"{path} needs an upgrade of its tables but is read-only")
            migrate(db, path)  # only checks the version: nothing to do
        except sqlite3.Error as exc:
            db.close()
            last = exc
            continue
        except BaseException:
            db.close()
            raise
        return db, read_only_message(path)
    assert last is not None
    raise last
