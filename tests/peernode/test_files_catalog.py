"""The files database (catalog.py): a files.db of schema 1 opens and gains the inline bytes."""

from __future__ import annotations

import sqlite3
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
