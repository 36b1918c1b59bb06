"""The store's sequence for API clients: filtered reads after a seq, and the store id."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from peernode.storage import Store, salvage_from
from peernode.storage.sequence import store_id
from protocol import kinds
from tests.peernode.test_store import ANA, BEN, note, profile


def test_events_after_filters_and_stops_at_upto(tmp_path: Path) -> None:
    with closing(Store(tmp_path / "a.db")) as store:
        rows = store.insert_events_seq(
            [note("a", 1), note("b", 2, key=BEN), profile("Ana", 3), note("c", 4)], received_at=5
        )
        seqs = [seq for seq, _ in rows]
        notes_of_ana = store.events_after(0, 10, kind=kinds.NOTE, author=ANA.public_key)
        assert [row.seq for row in notes_of_ana] == [seqs[0], seqs[3]]
        assert [row.seq for row in store.events_after(seqs[0], 10, upto=seqs[2])] == seqs[1:3]
        assert [row.seq for row in store.events_after(0, 2)] == seqs[:2]


def test_the_store_id_lasts_until_numbers_may_be_reused(tmp_path: Path) -> None:
    with closing(Store(tmp_path / "a.db")) as store:
        store.insert_events([note("a", 1), note("b", 2, key=BEN)], received_at=3)
        first = store.store_id()
        assert store.store_id() == first
        with closing(Store(store.path)) as other:  # another process sees the same
            assert other.store_id() == first
        with closing(Store(tmp_path / "repaired.db")) as repaired:
            salvage_from(repaired, store.path)
            assert repaired.store_id() != first  # a new file numbers anew
        store.forget_authors([BEN.public_key], None, kinds.PROFILE)
        assert store.store_id() != first  # the freed numbers may come again


def test_the_store_id_of_a_new_store_reads_without_a_write(tmp_path: Path) -> None:
    with closing(Store(tmp_path / "a.db")):  # made, and never asked for its id
        pass
    read_only = sqlite3.connect(f"file:{tmp_path / 'a.db'}?mode=ro", uri=True)
    with closing(read_only):
        seen = store_id(read_only)  # a write here would fail: the home may be read-only
    with closing(Store(tmp_path / "a.db")) as store:
        assert store.store_id() == seen
