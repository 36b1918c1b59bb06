"""The files database (catalog.py): a files.db of schema 1 opens and gains the inline bytes."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from peernode.files.catalog import SCHEMA_VERSION, Catalog
from protocol.files import layout_of

SCHEMA_1 = """
CREATE TABLE blobs (
    id BLOB PRIMARY KEY, size INTEGER NOT NULL, chunk_size INTEGER NOT NULL,
    hashes BLOB NOT NULL, have BLOB NOT NULL, complete INTEGER NOT NULL DEFAULT 0,
    mine INTEGER NOT NULL DEFAULT 0, added_at INTEGER NOT NULL,
    pinned INTEGER NOT NULL DEFAULT 0, released_at INTEGER
) WITHOUT ROWID;
"""


def test_a_schema_1_database_keeps_its_blobs_and_takes_inline_bytes(tmp_path: Path) -> None:
    path = tmp_path / "files.db"
    layout = layout_of(b"Week 1: SQL basics\n")
    with sqlite3.connect(path) as db:
        db.executescript(SCHEMA_1)
        db.execute(
            "INSERT INTO blobs VALUES (?, ?, ?, ?, ?, 1, 1, 0, 0, NULL)",
            (layout.id, layout.size, layout.chunk_size, layout.hash_list(), b"\x80"),
        )
        db.execute("PRAGMA user_version=1")
    db.close()
    catalog = Catalog(path)
    try:
        before = catalog.get(layout.id)
        assert before is not None
        assert before.complete
        assert before.data is None
        catalog.set_data(layout.id, b"Week 1: SQL basics\n")
        after = catalog.get(layout.id)
        assert after is not None
        assert after.data == b"Week 1: SQL basics\n"
    finally:
        catalog.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
    db.close()


def test_two_opening_a_schema_1_database_at_once_add_its_column_once(tmp_path: Path) -> None:
    """The node's service and its upkeep open files.db at the same moment: while one adds
    the column, the other waits, then finds it there (it failed with a duplicate column)."""
    path = tmp_path / "files.db"
    with sqlite3.connect(path) as db:
        db.executescript(SCHEMA_1)
        db.execute("PRAGMA journal_mode=WAL")
    db.close()
    first = sqlite3.connect(path, isolation_level=None)
    first.execute("BEGIN IMMEDIATE")  # the first opener, half-way through its upgrade
    opened: list[Catalog | BaseException] = []

    def open_second() -> None:
        try:
            opened.append(Catalog(path))
        except BaseException as exc:
            opened.append(exc)

    second = threading.Thread(target=open_second)
    second.start()
    second.join(0.3)  # it waits for the first one's transaction
    first.execute("ALTER TABLE blobs ADD COLUMN data BLOB")
    first.execute("COMMIT")
    first.close()
    second.join(10)
    [catalog] = opened
    assert isinstance(catalog, Catalog), catalog
    catalog.close()
