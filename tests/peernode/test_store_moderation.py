"""The learner's moderation in the database: the feed leaves it out, the network reads keep
blocked authors back, a repair keeps it, and the migration lists the authors held before."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from peernode.storage import MIGRATIONS, Store, salvage_from
from protocol import kinds
from protocol.event import Event, create_event
from protocol.identity import SigningKey

ANA = SigningKey.from_seed(b"\x01" * 32)
BEN = SigningKey.from_seed(b"\x02" * 32)


def note(text: str, at: int, key: SigningKey) -> Event:
    return create_event(key, kind=kinds.NOTE, circle="lobby", body={"text": text}, created_at=at)


def test_feed_leaves_out_muted_people_and_hidden_events(tmp_path: Path) -> None:
    ana, ben, other = note("a", 1, ANA), note("b", 2, BEN), note("c", 3, ANA)
    with closing(Store(tmp_path / "db")) as store:
        store.insert_events([ana, ben, other], received_at=10)
        store.set_moderation(BEN.public_key, "mute", 5)
        store.hide_event(other.id, 6)

        assert [row.raw for row in store.feed(visible=True)] == [ana.raw]
        assert len(store.feed()) == 3  # only the visible read filters
        assert store.shared_ids([ben.id]) == {ben.id}  # muted: still passed on
        store.set_moderation(BEN.public_key, "block", 7)
        assert store.shared_ids([ben.id]) == set()
        assert ben.id not in {event_id for _, event_id in store.time_index()}
        assert store.moderation().blocked == {BEN.public_key: 7}


def test_a_repair_keeps_the_moderation(tmp_path: Path) -> None:
    with closing(Store(tmp_path / "old.db")) as old:
        old.insert_events([note("a", 1, ANA)], received_at=10)
        old.set_moderation(BEN.public_key, "block", 5)
        old.hide_event(b"\x07" * 32, 6)
    with closing(Store(tmp_path / "new.db")) as repaired:
        salvage_from(repaired, tmp_path / "old.db")
        kept = repaired.moderation()

    assert kept.blocked == {BEN.public_key: 5}
    assert kept.hidden == {b"\x07" * 32: 6}


def test_authors_held_before_the_migration_stay_familiar(tmp_path: Path) -> None:
    path = tmp_path / "older.db"
    with closing(sqlite3.connect(path, isolation_level=None)) as db:
        for script in MIGRATIONS[:4]:
            db.executescript(script)
        db.execute("PRAGMA user_version = 4")
        event = note("from before", 1, BEN)
        db.execute(
            "INSERT INTO events (id, author, created_at, kind, circle, received_at, raw)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (event.id, event.author, 1, event.kind, event.circle, 1, event.raw),
        )

    with closing(Store(path)) as store:
        assert store.held_authors() == {BEN.public_key}
