"""Salvage: copy what still reads from a damaged database into a fresh store (`peernode repair`)."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from peernode.storage.faults import uri
from peernode.storage.local import local_rules
from peernode.storage.sequence import STORE_ID
from protocol.errors import RemoteProtocolError
from protocol.event import Event, decode_event

if TYPE_CHECKING:
    from peernode.storage.store import Store

SALVAGE_CHUNK: Final = 500
"""Event rows read from the damaged file, and stored in the fresh one, at a time."""


@dataclass(frozen=True, slots=True)
class Salvage:
    """What salvage_from() got out of a damaged database."""

    read: int  # event rows that still read
    stored: int  # of those, verified and new here
    invalid: int  # read, but failed decode_event (damaged bytes)
    unreadable: int  # row numbers whose page did not read
    peers: int  # known peers kept
    complete: bool  # every part of the events table read without error


def salvage_from(store: Store, damaged: Path) -> Salvage:
    """Copy into `store` what still reads from the damaged database `damaged`.

    The damaged file is opened read-only and never written. Every event row
    that reads is verified again with decode_event (damaged bytes fail it) and
    the good ones are stored with their old received_at, in their old order;
    known peers, settings and the learner's moderation are kept too, so the node
    can re-sync the rest.
    """
    try:
        old = sqlite3.connect(uri(damaged, mode="ro"), uri=True, isolation_level=None)
    except sqlite3.Error:
        return Salvage(0, 0, 0, 0, 0, complete=False)
    try:
        reader = _SalvageReader(old)
        read = stored = invalid = 0
        batch: list[tuple[Event, int]] = []
        for received_at, raw in reader.events():
            read += 1
            try:
                if not isinstance(raw, bytes):
                    raise TypeError(type(raw).__name__)
                event = decode_event(raw)
            except (RemoteProtocolError, TypeError, ValueError):
                invalid += 1
                continue
            batch.append((event, received_at if isinstance(received_at, int) else 0))
            if len(batch) >= SALVAGE_CHUNK:
                stored += len(store.insert_rows(batch))
                batch = []
        stored += len(store.insert_rows(batch))
        peers = _readable_peers(old)
        store.keep_peers(peers)
        store.keep_settings(_readable_settings(old))
        store.keep_local(local_rules(old))  # what was local stays local
        store.carry_moderation(old)  # so do mutes, blocks and who was familiar
    finally:
        old.close()
    return Salvage(read, stored, invalid, reader.unreadable, len(peers), reader.complete)


def _readable_peers(old: sqlite3.Connection) -> list[tuple[Any, ...]]:
    """The peers rows that read and hold values of the right types."""
    rows: list[tuple[Any, ...]] = []
    with contextlib.suppress(sqlite3.Error):
        for row in old.execute(
            "SELECT key, name, host, port, last_seen, events_exchanged FROM peers"
        ):
            types = (bytes, str, str, int, int, int)
            if all(isinstance(value, kind) for value, kind in zip(row, types, strict=True)):
                rows.append(row)
    return rows


def _readable_settings(old: sqlite3.Connection) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    with contextlib.suppress(sqlite3.Error):
        for name, value in old.execute("SELECT name, value FROM settings"):
            # A new file numbers its events anew: it gets a store id of its own.
            if isinstance(name, str) and isinstance(value, str) and name != STORE_ID:
                rows.append((name, value))
    return rows


class _SalvageReader:
    """Reads the events table of a damaged database around the pages that fail.

    Walks rows in seq order in chunks; where a chunk fails, looks rows up one seq
    at a time (a lookup reads only the pages on its own path) until one reads,
    then goes back to chunks. `hi`, the highest seq, bounds the walk; when even
    that cannot be read it is estimated from the file size.
    """

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db
        self.unreadable = 0
        self.complete = True

    def events(self) -> Iterator[tuple[Any, Any]]:
        """(received_at, raw) of each row that reads, in seq order."""
        hi = self._highest_seq()
        pos = 0
        while True:
            got = 0
            try:
                rows = self._db.execute(
                    "SELECT seq, received_at, raw FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
                    (pos, SALVAGE_CHUNK),
                )
                for seq, received_at, raw in rows:
                    got += 1
                    if isinstance(seq, int) and seq > pos:
                        pos = seq
                        yield received_at, raw
            except sqlite3.Error:
                self.complete = False
            else:
                if got == SALVAGE_CHUNK:
                    continue
                if pos >= hi:
                    return
                self.complete = False  # the walk ended early: step over the gap
            # Step over a failing page one seq at a time, until a row reads again.
            while pos < hi:
                pos += 1
                try:
                    row = self._db.execute(
                        "SELECT received_at, raw FROM events WHERE seq = ?", (pos,)
                    ).fetchone()
                except sqlite3.Error:
                    self.unreadable += 1
                    continue
                if row is not None:
                    yield row[0], row[1]
                    break
            else:
                return

    def _highest_seq(self) -> int:
        highest = 0
        for sql in (
            "SELECT max(seq) FROM events",
            "SELECT max(seq) FROM events INDEXED BY events_by_time",
        ):
            try:
                (value,) = self._db.execute(sql).fetchone()
            except sqlite3.Error:
                self.complete = False
                continue
            if isinstance(value, int):
                highest = max(highest, value)
        if highest == 0 and not self.complete:
            try:
                (pages,) = self._db.execute("PRAGMA page_count").fetchone()
                (size,) = self._db.execute("PRAGMA page_size").fetchone()
                highest = int(pages) * int(size) // 64  # no row is smaller than that
            except sqlite3.Error:
                highest = 0
        return highest
