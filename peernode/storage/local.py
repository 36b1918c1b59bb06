"""Local-only events: those that never leave this node (the demo room's).

Rules of this file:
- An event is local when it is posted in a local channel or signed by a local
  author. The rule is kept in the database (two small tables), so it holds for
  every process that opens it, for events stored before the rule and after,
  and across a crash.
- The reads that hand events to the network (the reconciliation index, the
  events a peer asks for, the ids offered after a post) filter by it: the
  network has no read that could bypass it.
- A rule is never dropped: an event kept from the demo room stays local.
- Events of a blocked author (moderation.py) are kept back the same way, for
  as long as the block lasts.
"""

from __future__ import annotations

import contextlib
import sqlite3
from dataclasses import dataclass

from peernode.storage.moderation import BLOCKED_AUTHORS
from peernode.storage.schema import Transaction

SHARED: str = (
    "circle NOT IN (SELECT channel FROM local_channels)"
    " AND author NOT IN (SELECT author FROM local_authors)"
    f" AND author NOT IN ({BLOCKED_AUTHORS})"
)
"""SQL condition on the events table: the event may leave this node."""
_LOCAL_IDS: str = (
    "SELECT id FROM events WHERE circle IN (SELECT channel FROM local_channels)"
    " UNION SELECT id FROM events WHERE author IN (SELECT author FROM local_authors)"
    f" UNION SELECT id FROM events WHERE author IN ({BLOCKED_AUTHORS})"
)
"""The ids of the local events, found through the channel and author indexes."""


@dataclass(frozen=True, slots=True)
class LocalRules:
    """The channels and authors whose events stay on this node."""

    channels: frozenset[str] = frozenset()
    authors: frozenset[bytes] = frozenset()


def keep_local(db: sqlite3.Connection, rules: LocalRules) -> None:
    """From now on (and for what is stored already), these events never leave the node."""
    with Transaction(db):
        db.executemany(
            "INSERT OR IGNORE INTO local_channels (channel) VALUES (?)",
            [(channel,) for channel in rules.channels],
        )
        db.executemany(
            "INSERT OR IGNORE INTO local_authors (author) VALUES (?)",
            [(author,) for author in rules.authors],
        )


def local_rules(db: sqlite3.Connection) -> LocalRules:
    """The rules recorded in `db` (none when it has no such tables: a damaged or old file)."""
    channels: list[object] = []
    authors: list[object] = []
    with contextlib.suppress(sqlite3.Error):
        channels = [row[0] for row in db.execute("SELECT channel FROM local_channels")]
        authors = [row[0] for row in db.execute("SELECT author FROM local_authors")]
    return LocalRules(
        frozenset(value for value in channels if isinstance(value, str)),
        frozenset(value for value in authors if isinstance(value, bytes)),
    )


def shared_condition(db: sqlite3.Connection) -> str:
    """SHARED when some events are local, else "" (most homes: the reads stay plain)."""
    (any_rule,) = db.execute(
        "SELECT EXISTS (SELECT 1 FROM local_channels) OR EXISTS (SELECT 1 FROM local_authors)"
        f" OR EXISTS ({BLOCKED_AUTHORS})"
    ).fetchone()
    return SHARED if any_rule else ""


def local_ids(db: sqlite3.Connection) -> set[bytes]:
    """The ids of every local event (few: the demo room's), to leave out of a long read."""
    return {row[0] for row in db.execute(_LOCAL_IDS)}
