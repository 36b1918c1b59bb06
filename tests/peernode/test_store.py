"""The SQLite store, on real database files."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from peernode.errors import StorageError
from peernode.storage import MIGRATIONS, LocalRules, Store, salvage_from
from protocol import kinds
from protocol.event import Event, create_event, load_verified
from protocol.identity import SigningKey

ANA = SigningKey.from_seed(b"\x01" * 32)
BEN = SigningKey.from_seed(b"\x02" * 32)
T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z: a claim a set clock could make


def note(
    text: str,
    created_at: int,
    circle: str = "lobby",
    key: SigningKey = ANA,
    reply_to: bytes | None = None,
) -> Event:
    return create_event(
        key,
        kind=kinds.NOTE,
        circle=circle,
        body={"text": text},
        refs={"reply_to": reply_to} if reply_to else None,
        created_at=created_at,
    )


def profile(name: str, created_at: int, key: SigningKey = ANA) -> Event:
    return create_event(
        key, kind=kinds.PROFILE, circle="", body={"name": name}, created_at=created_at
    )


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "peernode.db"


@pytest.fixture
def store(db_path: Path) -> Iterator[Store]:
    store = Store(db_path)
    yield store
    store.close()


def texts(store: Store, **query: object) -> list[str]:
    return [load_verified(row.raw).body["text"] for row in store.feed(**query)]  # type: ignore[arg-type]


# -- inserts ---------------------------------------------------------------------


def test_insert_is_idempotent(store: Store) -> None:
    first = note("one", 1)

    assert store.insert_events([first], received_at=10) == [first]
    assert store.insert_events([first], received_at=11) == []
    assert store.count() == 1
    assert store.feed()[0].received_at == 10  # the first arrival is kept


def test_a_batch_with_duplicates_inside_stores_each_once(store: Store) -> None:
    a, b, c = note("a", 1), note("b", 2), note("c", 3)
    store.insert_events([b], received_at=1)

    new = store.insert_events([a, b, a, c, c, a], received_at=2)

    assert new == [a, c]
    assert store.count() == 3
    assert store.known_ids([a.id, b.id, c.id, b"\x00" * 32]) == {a.id, b.id, c.id}
    assert store.has(a.id)
    assert not store.has(b"\x00" * 32)
    assert sorted(store.raw_by_ids([a.id, c.id, b"\x09" * 32])) == sorted([a.raw, c.raw])


def test_known_ids_works_beyond_one_query_chunk(store: Store) -> None:
    events = [note(f"n{i}", i) for i in range(1200)]
    store.insert_events(events[:700], received_at=1)
    assert store.known_ids([event.id for event in events]) == {e.id for e in events[:700]}
    assert len(store.raw_by_ids([event.id for event in events])) == 700


def test_empty_insert(store: Store) -> None:
    assert store.insert_events([], received_at=1) == []
    assert store.count() == 0


def test_a_failed_batch_stores_nothing(store: Store) -> None:
    good = note("good", 1)

    class Broken:  # an object missing the fields an Event has
        id = b"\x01" * 32

    with pytest.raises(AttributeError):
        store.insert_events([good, Broken()], received_at=1)  # type: ignore[list-item]
    assert store.count() == 0
    assert store.insert_events([good], received_at=1) == [good]


def test_refs_table(store: Store) -> None:
    root = note("question", 1)
    reply = note("answer", 2, key=BEN, reply_to=root.id)
    other = note("unrelated", 3)
    store.insert_events([root, reply, other, reply], received_at=5)

    assert store.referring(root.id) == [reply.raw]
    assert store.referring(root.id, "reply_to") == [reply.raw]
    assert store.referring(root.id, "edit_of") == []
    assert store.referring(other.id) == []
    # The refs of a duplicate are not recorded twice.
    with closing(sqlite3.connect(store.path)) as db:
        assert db.execute("SELECT count(*) FROM refs").fetchone() == (1,)


# -- feed --------------------------------------------------------------------------


def test_feed_orders_by_time_then_id_and_pages_backwards(store: Store) -> None:
    events = [note(f"n{i}", T0 + i) for i in range(10)]
    # Arrival order must not matter; arrival after the claims, so they are shown as claimed.
    store.insert_events(list(reversed(events)), received_at=T0 + 60_000)

    assert texts(store) == [f"n{i}" for i in range(10)]
    assert texts(store, limit=3) == ["n7", "n8", "n9"]

    oldest_shown = load_verified(store.feed(limit=3)[0].raw)
    cursor = (oldest_shown.created_at, oldest_shown.created_at, oldest_shown.id)
    page = store.feed(limit=3, before=cursor)
    assert [load_verified(r.raw).body["text"] for r in page] == ["n4", "n5", "n6"]
    assert store.feed(limit=3, before=(T0, T0, events[0].id)) == []
    assert len(store.feed(limit=100)) == 10


def test_feed_before_breaks_ties_by_id(store: Store) -> None:
    same_time = sorted((note(f"t{i}", T0) for i in range(4)), key=lambda e: e.id)
    store.insert_events(same_time, received_at=T0 + 1)

    rows = store.feed(before=(T0, T0, same_time[2].id))

    assert [row.raw for row in rows] == [same_time[0].raw, same_time[1].raw]


def test_feed_by_circle_and_kind(store: Store) -> None:
    store.insert_events(
        [
            note("a1", 1, "algebra"),
            note("b1", 2, "biology"),
            note("a2", 3, "algebra"),
            profile("Ana", 4),
        ],
        received_at=1,
    )

    assert texts(store, channel="algebra") == ["a1", "a2"]
    assert texts(store, channel="nowhere") == []
    assert len(store.feed(kinds=[kinds.PROFILE])) == 1
    assert len(store.feed(kinds=[kinds.NOTE, kinds.PROFILE])) == 4
    assert store.count_in_channel("algebra") == 2
    assert store.count_in_channel("") == 1


def test_circles(store: Store) -> None:
    store.insert_events(
        [note("a1", T0 + 10, "algebra"), note("b1", T0 + 5, "biology")],
        received_at=T0 + 100,
    )
    # A claim after its arrival counts as its arrival (see peernode.clock).
    store.insert_events([note("a2", T0 + 9_000, "algebra")], received_at=T0 + 300)
    store.insert_events([profile("Ana", T0 + 99)], received_at=T0 + 400)

    summary = [(c.channel, c.events, c.last_at) for c in store.channels()]

    assert summary == [("algebra", 2, T0 + 300), ("biology", 1, T0 + 5)]  # no "" circle


def test_latest_profile_per_author(store: Store) -> None:
    store.insert_events(
        [
            profile("Ana v2", 20),
            profile("Ana v1", 10),
            profile("Ben v1", 15, key=BEN),
            profile("Ana v3", 30),
            note("not a profile", 40),
        ],
        received_at=1,
    )

    latest = {load_verified(raw).body["name"] for raw in store.latest_of_kind(kinds.PROFILE)}
    assert latest == {"Ana v3", "Ben v1"}
    (ana,) = store.latest_of_kind(kinds.PROFILE, ANA.public_key)
    assert load_verified(ana).body["name"] == "Ana v3"
    assert store.latest_of_kind(kinds.PROFILE, b"\x07" * 32) == []


def test_latest_profile_tie_on_time_is_broken_by_id(store: Store) -> None:
    pair = [profile("first", 50), profile("second", 50)]
    store.insert_events(pair, received_at=1)

    (raw,) = store.latest_of_kind(kinds.PROFILE, ANA.public_key)

    assert raw == max(pair, key=lambda event: event.id).raw


def test_local_events_are_in_no_read_that_hands_events_to_peers(
    store: Store, tmp_path: Path
) -> None:
    shared = [note("real", T0), profile("Ana", T0 + 1)]
    before = note("in the demo channel before the rule", T0 + 2, circle="demo")
    store.insert_events([*shared, before], received_at=T0)
    store.keep_local(LocalRules(channels=frozenset({"demo"}), authors=frozenset({BEN.public_key})))
    after = [
        note("in the demo channel after the rule", T0 + 3, circle="demo"),
        note("by a local author, elsewhere", T0 + 4, key=BEN),
        profile("Ben (demo)", T0 + 5, key=BEN),
    ]
    store.insert_events(after, received_at=T0)
    every = [*shared, before, *after]
    ids = [event.id for event in every]

    assert [event_id for _, event_id in store.time_index()] == [event.id for event in shared]
    assert sorted(store.shared_raw_by_ids(ids)) == sorted(event.raw for event in shared)
    assert store.shared_ids(ids) == {event.id for event in shared}
    # The node's own reads still see them all.
    assert len(store.raw_by_ids(ids)) == len(every)
    assert texts(store, channel="demo") == [
        "in the demo channel before the rule",
        "in the demo channel after the rule",
    ]

    # Another process, and a repaired copy, keep the rule.
    with closing(Store(store.path)) as other:
        assert other.shared_ids(ids) == {event.id for event in shared}
    with closing(Store(tmp_path / "repaired.db")) as repaired:
        salvage_from(repaired, store.path)
        assert len(repaired.raw_by_ids(ids)) == len(every)
        assert repaired.shared_ids(ids) == {event.id for event in shared}


def test_time_index_and_after_seq(store: Store) -> None:
    first = [note("x", 30), note("y", 10)]
    store.insert_events(first, received_at=1)
    mark = store.max_seq()
    later = [note("z", 20), note("w", 5)]
    store.insert_events(later, received_at=2)

    assert [created for created, _ in store.time_index()] == [5, 10, 20, 30]
    after = store.after_seq(mark)
    assert [row.raw for row in after] == [event.raw for event in later]  # arrival order
    assert all(row.seq > mark for row in after)
    assert [row.raw for row in store.after_seq(mark, limit=1)] == [later[0].raw]
    assert store.after_seq(store.max_seq()) == []
    assert store.max_seq() == mark + 2


def test_settings(store: Store) -> None:
    assert store.setting("theme") is None
    store.set_setting("theme", "dark")
    store.set_setting("theme", "light")
    assert store.setting("theme") == "light"


# -- the database file -------------------------------------------------------------


def test_wal_mode_and_full_sync(store: Store, db_path: Path) -> None:
    with closing(sqlite3.connect(db_path)) as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    # synchronous is per connection: read the store's own.
    assert store._db.execute("PRAGMA synchronous").fetchone() == (2,)  # FULL
    assert store.integrity_check() == "ok"


def test_schema_version_and_reopen_does_not_migrate_again(db_path: Path) -> None:
    store = Store(db_path)
    assert store.schema_version == len(MIGRATIONS)
    store.insert_events([note("kept", 1)], received_at=1)
    store.close()

    # Re-running migration 1 would fail ("table events already exists") or wipe data.
    reopened = Store(db_path)
    try:
        assert reopened.schema_version == len(MIGRATIONS)
        assert reopened.count() == 1
    finally:
        reopened.close()


def test_concurrent_first_opens_migrate_once(db_path: Path) -> None:
    errors: list[BaseException] = []
    start = threading.Barrier(6)

    def open_store() -> None:
        start.wait()
        try:
            Store(db_path).close()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_store) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    store = Store(db_path)
    try:
        assert store.schema_version == len(MIGRATIONS)
    finally:
        store.close()


def test_newer_schema_is_a_clear_error(db_path: Path) -> None:
    Store(db_path).close()
    with closing(sqlite3.connect(db_path)) as db:
        db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")

    with pytest.raises(StorageError, match="newer peernode") as info:
        Store(db_path)
    assert "\n" not in str(info.value)
    assert str(db_path) in str(info.value)


def test_not_a_database_is_a_clear_error(db_path: Path) -> None:
    db_path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StorageError, match="cannot open the database"):
        Store(db_path)


def test_unopenable_path_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="cannot open the database"):
        Store(tmp_path / "missing-dir" / "peernode.db")


def test_data_version_changes_when_another_connection_writes(store: Store, db_path: Path) -> None:
    before = store.data_version()
    store.insert_events([note("mine", 1)], received_at=1)
    assert store.data_version() == before  # our own commits do not count

    other = Store(db_path)
    try:
        other.insert_events([note("theirs", 2)], received_at=1)
    finally:
        other.close()

    assert store.data_version() != before
    assert store.count() == 2
