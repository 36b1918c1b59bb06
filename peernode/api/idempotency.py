"""Idempotency keys kept in the home (api_keys.db), so a retry after a restart posts once.

Rules of this file:
- Bounded: the newest `per_token` keys of each token, each for `keep_ms`; older ones
  are deleted as new ones come.
- Keys are filed under the token's digest, not its name: a token removed and made
  again under the same name never gets the old one's answers.
- Opened at the first post with a key: a node that is never posted to never writes it.
- It is a memory of answers, not data: a damaged file is set aside and started anew.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Final, TypeVar

from peernode.api.limits import Remembered
from peernode.clock import now_ms
from peernode.errors import StorageDamaged
from peernode.storage.faults import storage_error

T = TypeVar("T")
KEYS_FILE: Final = "api_keys.db"
_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS answers (
    token TEXT NOT NULL,
    key TEXT NOT NULL,
    request BLOB NOT NULL,
    status INTEGER NOT NULL,
    response BLOB NOT NULL,
    at INTEGER NOT NULL,
    PRIMARY KEY (token, key)
);
CREATE INDEX IF NOT EXISTS answers_by_age ON answers (token, at);
"""


class KeyBook:
    """The idempotency keys of every token and the answers they got (blocking calls:
    the publisher runs them in a thread)."""

    def __init__(
        self,
        path: Path,
        *,
        per_token: int,
        keep_ms: int,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self._path = path
        self._per_token = per_token
        self._keep_ms = keep_ms
        self._clock = clock
        self._db: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def get(self, token: str, key: str) -> Remembered | None:
        """The answer `key` got for `token`, unless it is older than `keep_ms`."""
        with self._lock:
            row = self._run(
                lambda db: db.execute(
                    "SELECT request, status, response FROM answers"
                    " WHERE token = ? AND key = ? AND at > ?",
                    (token, key, self._clock() - self._keep_ms),
                ).fetchone()
            )
        return Remembered(bytes(row[0]), int(row[1]), bytes(row[2])) if row else None

    def put(self, token: str, key: str, answer: Remembered) -> None:
        """Remember `answer`; forget what has expired and what is beyond the bound."""
        now = self._clock()

        def write(db: sqlite3.Connection) -> None:
            with db:
                db.execute(
                    "INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?, ?, ?)",
                    (token, key, answer.request, answer.status, answer.response, now),
                )
                db.execute("DELETE FROM answers WHERE at <= ?", (now - self._keep_ms,))
                db.execute(
                    "DELETE FROM answers WHERE token = ? AND rowid NOT IN (SELECT rowid FROM"
                    " answers WHERE token = ? ORDER BY at DESC, rowid DESC LIMIT ?)",
                    (token, token, self._per_token),
                )

        with self._lock:
            self._run(write)

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        try:
            return work(self._open())
        except sqlite3.Error as exc:
            raise storage_error(exc, self._path) from exc

    def _open(self) -> sqlite3.Connection:
        if self._db is None:
            try:
                self._db = _connect(self._path)
            except sqlite3.DatabaseError as exc:
                if not isinstance(storage_error(exc, self._path), StorageDamaged):
                    raise
                self._path.replace(self._path.with_name(self._path.name + ".damaged"))
                with contextlib.suppress(FileNotFoundError):
                    self._path.with_name(self._path.name + "-wal").unlink()
                self._db = _connect(self._path)
        return self._db


def _connect(path: Path) -> sqlite3.Connection:
    path.touch(mode=0o600, exist_ok=True)  # it files answers under token digests
    db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")  # a key is remembered before the answer leaves
        db.executescript(_SCHEMA)
    except sqlite3.Error:
        db.close()
        raise
    return db
