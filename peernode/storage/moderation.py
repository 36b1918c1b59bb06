"""The learner's own moderation, kept in the database: muted and blocked people, hidden events.

Rules of this file:
- A person is muted (hidden from every list here) or blocked (hidden, and their
  events neither stored nor forwarded, their links dropped); one level per key.
- Hidden events are hidden for this learner only: nothing leaves the node.
- Everything here is local: no event is signed, no peer is told.
- held_authors lists the authors whose events were held before admission by
  relationship existed (filled by the migration): they stay familiar.
"""

from __future__ import annotations

import contextlib
import sqlite3
from dataclasses import dataclass
from typing import Final, Literal

from peernode.storage.schema import Transaction

Level = Literal["mute", "block"]

MODERATED: Final = "author NOT IN (SELECT key FROM moderation)"
"""SQL condition on the events table: the author is neither muted nor blocked."""
NOT_HIDDEN: Final = "id NOT IN (SELECT id FROM hidden_events)"
"""SQL condition on the events table: the learner did not hide the event."""
BLOCKED_AUTHORS: Final = "SELECT key FROM moderation WHERE level = 'block'"
"""The keys of blocked people, as a subquery."""


@dataclass(frozen=True, slots=True)
class Moderation:
    """What the learner muted, blocked and hid, with when (ms)."""

    muted: dict[bytes, int]
    blocked: dict[bytes, int]
    hidden: dict[bytes, int]

    @property
    def unseen_people(self) -> frozenset[bytes]:
        """Muted or blocked: hidden from every list."""
        return frozenset(self.muted) | frozenset(self.blocked)


def set_level(db: sqlite3.Connection, key: bytes, level: Level, since: int) -> None:
    with Transaction(db):
        db.execute(
            "INSERT INTO moderation (key, level, since) VALUES (?, ?, ?)"
            " ON CONFLICT (key) DO UPDATE SET level = excluded.level, since = excluded.since",
            (key, level, since),
        )


def clear_level(db: sqlite3.Connection, key: bytes, level: Level) -> bool:
    """Undo a mute or a block; False when `key` had not that level."""
    with Transaction(db):
        cursor = db.execute("DELETE FROM moderation WHERE key = ? AND level = ?", (key, level))
    return cursor.rowcount > 0


def hide(db: sqlite3.Connection, event_id: bytes, since: int) -> None:
    with Transaction(db):
        db.execute(
            "INSERT OR IGNORE INTO hidden_events (id, since) VALUES (?, ?)", (event_id, since)
        )


def unhide(db: sqlite3.Connection, event_id: bytes) -> bool:
    """Show a hidden event again; False when it was not hidden."""
    with Transaction(db):
        cursor = db.execute("DELETE FROM hidden_events WHERE id = ?", (event_id,))
    return cursor.rowcount > 0


def moderation(db: sqlite3.Connection) -> Moderation:
    people = db.execute("SELECT key, level, since FROM moderation").fetchall()
    hidden = db.execute("SELECT id, since FROM hidden_events").fetchall()
    return Moderation(
        muted={key: since for key, level, since in people if level == "mute"},
        blocked={key: since for key, level, since in people if level == "block"},
        hidden={event_id: since for event_id, since in hidden},
    )


def held_authors(db: sqlite3.Connection) -> set[bytes]:
    """Authors held before admission by relationship: familiar ever since."""
    return {row[0] for row in db.execute("SELECT author FROM held_authors")}


def carry_over(old: sqlite3.Connection, db: sqlite3.Connection) -> None:
    """Copy what still reads of `old`'s moderation and held authors into `db` (a salvage)."""
    people: list[tuple[object, ...]] = []
    hidden: list[tuple[object, ...]] = []
    held: list[tuple[object, ...]] = []
    with contextlib.suppress(sqlite3.Error):  # an old or damaged file: keep what reads
        people = old.execute("SELECT key, level, since FROM moderation").fetchall()
        hidden = old.execute("SELECT id, since FROM hidden_events").fetchall()
        held = old.execute("SELECT author FROM held_authors").fetchall()
    with Transaction(db):
        db.executemany(
            "INSERT OR IGNORE INTO moderation (key, level, since) VALUES (?, ?, ?)",
            [row for row in people if row[1] in ("mute", "block") and isinstance(row[0], bytes)],
        )
        db.executemany(
            "INSERT OR IGNORE INTO hidden_events (id, since) VALUES (?, ?)",
            [row for row in hidden if isinstance(row[0], bytes)],
        )
        db.executemany(
            "INSERT OR IGNORE INTO held_authors (author) VALUES (?)",
            [row for row in held if isinstance(row[0], bytes)],
        )
