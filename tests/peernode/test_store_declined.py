"""Declined events kept in SQLite: bounded, forgotten when they expire, cleared on demand."""

from __future__ import annotations

from pathlib import Path

from peernode.storage import Store

AUTHOR, OTHER = b"a" * 32, b"o" * 32


def ids(start: int, count: int) -> list[bytes]:
    return [n.to_bytes(32, "big") for n in range(start, start + count)]


def rows(start: int, count: int, author: bytes = AUTHOR) -> list[tuple[bytes, bytes]]:
    return [(event_id, author) for event_id in ids(start, count)]


def held(store: Store, now: int, limit: int = 100) -> list[bytes]:
    return [event_id for event_id, _ in store.declined(now, limit)]


def test_declined_ids_survive_reopening_and_expire(tmp_path: Path) -> None:
    path = tmp_path / "peernode.db"
    store = Store(path)
    store.remember_declined(rows(0, 3), until=1_000, cap=100)
    store.remember_declined(rows(3, 2), until=2_000, cap=100)
    store.close()
    reopened = Store(path)
    try:
        assert held(reopened, 500, 100) == ids(0, 5)
        assert held(reopened, 1_000, 100) == ids(3, 2)  # the first expired
        assert held(reopened, 500, 100) == ids(3, 2)  # and were deleted
    finally:
        reopened.close()


def test_at_most_cap_are_kept_those_expiring_soonest_go_first(tmp_path: Path) -> None:
    store = Store(tmp_path / "peernode.db")
    try:
        store.remember_declined(rows(0, 4), until=2_000, cap=5)
        store.remember_declined(rows(4, 4), until=3_000, cap=5)
        assert held(store, 0, 100) == ids(3, 5)
        assert held(store, 0, 2) == ids(6, 2)  # the limit keeps the newest
    finally:
        store.close()


def test_declined_again_lasts_until_the_later_time_and_authors_can_be_forgotten(
    tmp_path: Path,
) -> None:
    store = Store(tmp_path / "peernode.db")
    try:
        store.remember_declined(rows(0, 2), until=3_000, cap=10)
        store.remember_declined(rows(0, 1), until=1_000, cap=10)
        assert held(store, 2_000, 10) == ids(0, 2)
        store.remember_declined(rows(5, 2, OTHER), until=3_000, cap=10)
        store.forget_declined([AUTHOR])
        assert held(store, 0, 10) == ids(5, 2)
        store.forget_declined()
        assert held(store, 0, 10) == []
    finally:
        store.close()
