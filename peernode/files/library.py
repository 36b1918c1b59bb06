"""The files this node knows of: file events read from the store, with how much of each
is here (from the catalog), folders' manifests opened, and what the store must keep."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Final

from peernode.errors import BadInput, NodeError
from peernode.files.catalog import BlobRecord, Catalog
from peernode.files.config import FilesConfig
from peernode.files.disk import BlobDir
from peernode.files.model import SharedFile
from protocol import kinds
from protocol.errors import ProtocolError
from protocol.event import Event, load_verified
from protocol.files import Entry, decode_manifest
from protocol.files.manifest import MAX_MANIFEST_BYTES

if TYPE_CHECKING:
    from peernode.ports import FileNode
    from peernode.storage.async_store import AsyncStore

FIND_EVERY: Final = 0.2
"""Seconds between two looks for a file's event that has not arrived yet."""


class Library:
    """Shared files as the events and the catalog say."""

    def __init__(
        self, node: FileNode, store: AsyncStore, path: Path, disk: BlobDir, config: FilesConfig
    ) -> None:
        self._node = node
        self._store = store
        self._path = path
        self._disk = disk
        self._config = config
        self._catalog: Catalog | None = None

    async def catalog(self) -> Catalog:
        """The catalog, opened on first use (a command that never needs it never opens it)."""
        if self._catalog is None:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            self._catalog = await asyncio.to_thread(Catalog, self._path)
        return self._catalog

    def close(self) -> None:
        if self._catalog is not None:
            self._catalog.close()
            self._catalog = None

    async def record(self, blob: bytes) -> BlobRecord | None:
        return await asyncio.to_thread((await self.catalog()).get, blob)

    async def list(self, circle: str | None = None) -> list[SharedFile]:
        """The files shared with `circle` (every circle if None), oldest first; an
        author's delete drops the file from the list."""
        if circle is None:
            raws = [row.raw for row in await self._store.feed(None, kinds=[kinds.FILE])]
        else:
            raws = await self._store.channel_raw(circle, [kinds.FILE])
        events = [load_verified(raw) for raw in raws]
        deleted = await self._deleted(events)
        return [await self.shared(event) for event in events if event.id not in deleted]

    async def _deleted(self, events: Sequence[Event]) -> set[bytes]:
        authors = {event.id: event.author for event in events}
        changes = await self._store.referring_any(list(authors), "target")
        gone = set()
        for change in map(load_verified, changes):
            target = change.refs.get("target", b"")
            if change.kind == kinds.DELETE and authors.get(target) == change.author:
                gone.add(target)
        return gone

    async def find(self, ref: str | bytes) -> SharedFile:
        """A shared file by its event id (or ≥ 8 leading hex digits of it)."""
        return await self.shared(await self._node.find_event(ref, kinds.FILE))

    async def find_soon(self, ref: str | bytes) -> SharedFile:
        """`find`, waiting up to the idle timeout for the file's event to arrive (a node
        just started, still catching up with its peers)."""
        deadline = asyncio.get_running_loop().time() + self._config.idle_timeout
        while True:
            try:
                return await self.find(ref)
            except BadInput:
                if asyncio.get_running_loop().time() > deadline:
                    raise
            await asyncio.sleep(FIND_EVERY)

    async def shared(self, event: Event) -> SharedFile:
        """A file event, with how much of it is here."""
        blob = bytes(event.body["blob"])
        record = await self.record(blob)
        name = self._node.name_of(event.author)
        if record is None:
            return SharedFile(event, name, 0, False)
        if event.body["type"] != "folder" or not record.complete:
            return SharedFile(event, name, record.have_bytes, record.complete)
        try:
            entries = await self.entries(record)
        except NodeError:  # a folder refused: listed, never complete (get says why)
            return SharedFile(event, name, 0, False)
        records = [await self.record(entry.blob) for entry in entries]
        have = sum(r.have_bytes for r in records if r is not None)
        complete = all(r is not None and r.complete for r in records)
        return SharedFile(event, name, have, complete)

    async def entries(self, record: BlobRecord) -> tuple[Entry, ...]:
        """The files of a folder whose manifest is here; NodeError if it is refused."""
        if record.layout.size > MAX_MANIFEST_BYTES:
            raise NodeError("this folder's list of files is too big to open")
        data = await asyncio.to_thread(self._disk.read, record)
        try:
            return decode_manifest(data).entries
        except ProtocolError as exc:
            raise NodeError(f"this folder was refused: {exc}") from None

    async def kept(self) -> set[bytes]:
        """Blobs of live file events that are mine or of a circle I am in."""
        me = self._node.public_key if self._node.has_identity else b""
        circles: dict[str, bool] = {}
        kept: set[bytes] = set()
        for shared in await self.list():
            if shared.circle not in circles:
                circles[shared.circle] = await self._node.in_circle(shared.circle)
            if shared.event.author == me or circles[shared.circle]:
                kept.update(await self.blobs_of(shared))
        return kept

    async def blobs_of(self, shared: SharedFile) -> tuple[bytes, ...]:
        """A file's blob; a folder's manifest and, once it is here, its files' blobs."""
        if not shared.is_folder:
            return (shared.blob,)
        record = await self.record(shared.blob)
        if record is None or not record.complete:
            return (shared.blob,)
        try:
            entries = await self.entries(record)
        except NodeError:
            return (shared.blob,)
        return (shared.blob, *(entry.blob for entry in entries))
