"""Events this node chose not to store (admission, blocks), remembered across restarts.

Rules of this file:
- Only ids and their authors are kept, each with the time (ms) after which it is
  forgotten: strangers' budgets are daily, so what was declined today may fit another day.
- Bounded: at most `cap` ids, those forgotten soonest go first.
- An author who becomes familiar (or is unblocked) has their rows dropped: their events
  are fetched again.
- Nothing here is ever sent or shown: it only spares fetching and verifying again.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence

from peernode.storage.schema import Transaction


def remember(
    db: sqlite3.Connection, rows: Sequence[tuple[bytes, bytes]], until: int, cap: int
) -> None:
    """Remember (id, author) rows as declined until `until` (ms), keeping at most `cap`."""
    with Transaction(db):
        db.executemany(
            "INSERT INTO declined (id, author, until) VALUES (?, ?, ?)"
            " ON CONFLICT (id) DO UPDATE SET until = max(until, excluded.until)",
            [(event_id, author, until) for event_id, author in rows],
        )
        (count,) = db.execute("SELECT count(*) FROM declined").fetchone()
        if count > cap:
            db.execute(
                "DELETE FROM declined WHERE id IN"
                " (SELECT id FROM declined ORDER BY until, id LIMIT ?)",
                (count - cap,),
            )


def current(db: sqlite3.Connection, now: int, limit: int) -> list[tuple[bytes, bytes]]:
    """(id, author) of what is still declined at `now` (the expired are deleted), those
    forgotten soonest first: at most `limit`, the ones forgotten last."""
    with Transaction(db):
        db.execute("DELETE FROM declined WHERE until <= ?", (now,))
    rows = db.execute(
        "SELECT id, author FROM (SELECT id, author, until FROM declined"
        " ORDER BY until DESC, id DESC LIMIT ?) ORDER BY until, id",
        (limit,),
    ).fetchall()
    return [(bytes(event_id), bytes(author)) for event_id, author in rows]


def forget_authors(db: sqlite3.Connection, authors: Iterable[bytes]) -> None:
    """These authors' events may be stored now (they became familiar, or were unblocked)."""
    with Transaction(db):
        db.executemany("DELETE FROM declined WHERE author = ?", [(a,) for a in authors])


def forget_all(db: sqlite3.Connection) -> None:
    with Transaction(db):
        db.execute("DELETE FROM declined")
