"""The file service (`node.files`): share a file or folder as a signed event, list a
circle's files, fetch one from every laptop that has it, save a copy for the learner."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import mimetypes
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from peernode.circles.bodies import compact
from peernode.clock import now_ms as clock_ms
from peernode.errors import BadInput, NodeError
from peernode.files.bundle import read_bundle, write_bundle
from peernode.files.catalog import BlobRecord
from peernode.files.config import FilesConfig
from peernode.files.disk import BlobDir, OnCopied, copy_out, name_and_kind, save_target
from peernode.files.folders import import_folder, save_folder
from peernode.files.keeping import NoRoom, check_room, collect
from peernode.files.library import Library
from peernode.files.model import FetchStatus, OnProgress, Progress, SharedFile
from peernode.files.upkeep import Upkeep
from peernode.home import Home
from peernode.problems import check_channel_name
from protocol import kinds
from protocol.event import event_id, load_verified
from protocol.files import Entry
from protocol.files.manifest import MAX_MANIFEST_BYTES
from protocol.files.messages import (
    BULK_INFO_KEY,
    BULK_MINOR,
    FILES_SPEC_MINOR,
    MAX_BULK_MESSAGE,
    Holding,
)
from protocol.handshake import InfoValue
from protocol.identity import SigningKey
from protocol.wire import PeerAddress

if TYPE_CHECKING:
    from aiohttp import web

    from peernode.files.server import BulkServer
    from peernode.files.sessions import SessionPool
    from peernode.net.config import LinkConfig
    from peernode.net.link import Link, LinkFactory
    from peernode.ports import FileNode
    from peernode.storage.async_store import AsyncStore

log = logging.getLogger(__name__)

BULK_PATH = "/peernode/bulk/1"
CATALOG_FILE = "files.db"
POLL_RUNNING_NODE = 0.25
"""Seconds between two looks at a download the node running on this home does for us."""
WHOLE_CACHED = 256
"""Records of whole blobs kept in memory for serving."""
BULK_QUEUE_BYTES = 4 * 1024 * 1024
"""Answers a bulk link queues before the one serving them waits (a few large Pieces)."""
BULK_UNSENT_BYTES = 1024 * 1024
"""Unsent bytes the kernel may hold for a bulk link."""


def bulk_link_config(link: LinkConfig) -> LinkConfig:
    """The gossip link's settings, with the bulk path's large frames and deeper queues
    (its own TCP connection: nothing urgent waits behind its bytes)."""
    return dataclasses.replace(
        link,
        max_frame_bytes=MAX_BULK_MESSAGE,
        bulk_queue_bytes=max(link.bulk_queue_bytes, BULK_QUEUE_BYTES),
        unsent_bytes=max(link.unsent_bytes, BULK_UNSENT_BYTES),
    )


class BulkNetwork(Protocol):
    """What the file service needs of the networking shell."""

    def add_routes(self, routes: list[web.RouteDef]) -> None: ...

    def linked_addresses(self, *, min_minor: int = 0) -> list[PeerAddress]: ...


class FileService:
    """Files of circles on one node: `node.files`."""

    def __init__(self, node: FileNode, store: AsyncStore, home: Path, config: FilesConfig) -> None:
        self._node = node
        self._store = store
        self._home = home
        self._config = config
        self._disk = BlobDir(home / "blobs")
        self._library = Library(node, store, home / CATALOG_FILE, self._disk, config)
        self._network: BulkNetwork | None = None
        self._factory: LinkFactory | None = None
        self._pool: SessionPool | None = None
        self._server: BulkServer | None = None
        self._downloads: dict[bytes, asyncio.Task[BlobRecord]] = {}
        self.progress: dict[bytes, Progress] = {}
        """The newest progress of each fetch under way or done, by the file event's id."""
        self._fetches: dict[bytes, asyncio.Task[SharedFile]] = {}
        self._whole: dict[bytes, BlobRecord] = {}
        self._upkeep: Upkeep | None = None

    # -- lifecycle ----------------------------------------------------------------

    async def close(self) -> None:
        await self.detach()
        self._library.close()

    def attach(
        self,
        network: BulkNetwork,
        key: SigningKey,
        link: LinkConfig,
        info: Callable[[], Mapping[str, InfoValue]],
    ) -> None:
        """Serve and fetch on `network`'s port (called before it starts listening); the
        bulk links announce `info` in their handshake, as the gossip links do."""
        # Imported here so offline commands never load aiohttp (as the node does).
        from peernode.files.server import BulkServer
        from peernode.files.sessions import SessionPool
        from peernode.net.link import LinkFactory

        self._network = network
        self._factory = LinkFactory(
            key,
            config=bulk_link_config(link),
            info=lambda: {**info(), BULK_INFO_KEY: BULK_MINOR},
            on_link=self._serve,
            path=BULK_PATH,
        )
        self._pool = SessionPool(
            self._factory,
            connect_timeout=self._config.ask_timeout,
            idle_timeout=self._config.link_idle_timeout,
        )
        self._server = BulkServer(self._lookup, self._read_chunk, self._config)
        network.add_routes(self._factory.routes())
        self._upkeep = Upkeep(self, self._node, self._config)

    async def detach(self) -> None:
        if self._upkeep is not None:
            await self._upkeep.stop()
            self._upkeep = None
        for task in [*self._downloads.values(), *self._fetches.values()]:
            task.cancel()
        await asyncio.gather(
            *self._downloads.values(), *self._fetches.values(), return_exceptions=True
        )
        self._fetches.clear()
        if self._factory is not None:
            await self._factory.stop_accepting()
        if self._server is not None:
            await self._server.close()
        if self._pool is not None:
            await self._pool.close()
        if self._factory is not None:
            await self._factory.close()
        self._network = self._factory = self._pool = self._server = None

    # -- sharing --------------------------------------------------------------------

    async def share(
        self,
        path: Path,
        circle: str,
        *,
        title: str = "",
        description: str = "",
        licence: str = "",
        tags: Sequence[str] = (),
        on_copied: OnCopied | None = None,
    ) -> SharedFile:
        """Copy a file or folder into the store and publish its file event;
        `on_copied` hears of each block hashed and copied (from the copying thread)."""
        check_channel_name(circle)  # before copying: the event would refuse it after
        catalog = await self._library.catalog()
        name, kind = await asyncio.to_thread(name_and_kind, path)
        if kind == "folder":
            blob, size = await asyncio.to_thread(
                import_folder, path, self._disk, catalog, self._config, on_copied
            )
            mime = None
        else:
            layout = await asyncio.to_thread(
                self._disk.import_file, path, self._config.rules, on_copied
            )
            await asyncio.to_thread(catalog.add, layout, complete=True, mine=True)
            await asyncio.to_thread(
                self._disk.keep_small, catalog, layout, self._config.inline_bytes
            )
            blob, size = layout.id, layout.size
            mime = mimetypes.guess_type(name)[0]
        body = compact(
            {
                "name": name,
                "size": size,
                "type": kind,
                "blob": blob,
                "mime": mime,
                "title": title,
                "description": description,
                "licence": licence,
                "tags": list(tags),
            }
        )
        event = await self._node.publish(kinds.FILE, circle=circle, body=body)
        return await self._library.shared(event)

    # -- reading --------------------------------------------------------------------

    async def list(self, circle: str | None = None) -> list[SharedFile]:
        """The files shared with `circle` (every circle if None), oldest first."""
        return await self._library.list(circle)

    async def find(self, ref: str | bytes) -> SharedFile:
        """A shared file by its event id (or ≥ 8 leading hex digits of it)."""
        return await self._library.find(ref)

    async def known(self, ids: Sequence[bytes]) -> dict[bytes, SharedFile]:
        """The files of `ids` whose sharing events are here (work names them by id)."""
        found = {}
        for file in ids:
            with contextlib.suppress(BadInput):
                found[file] = await self.find(file)
        return found

    async def find_soon(self, ref: str | bytes) -> SharedFile:
        """`find`, waiting for the file's event to arrive (a node just started)."""
        return await self._library.find_soon(ref)

    # -- fetching -------------------------------------------------------------------

    async def get(
        self, ref: str | bytes, on_progress: OnProgress | None = None, *, in_order: bool = False
    ) -> SharedFile:
        """Fetch a shared file (or every file of a folder) from the laptops that have it.
        in_order: first chunks first, so a video can start playing while it arrives."""
        shared = await self.find(ref)

        def report(progress: Progress) -> None:
            self.progress[shared.id] = progress
            if on_progress is not None:
                on_progress(progress)

        if self._pool is None and self._node.attached:
            return await self._get_through_running_node(shared, report, in_order)
        await self._make_room(shared.size - shared.have_bytes)
        if shared.is_folder:
            await self._get_folder(shared, report)
        else:
            await self.fetch_blob(shared.blob, report, size=shared.size, in_order=in_order)
        result = await self._library.shared(shared.event)
        report(Progress(shared.blob, result.have_bytes, result.size, 0.0, 0, result.complete))
        return result

    async def _get_through_running_node(
        self, shared: SharedFile, report: OnProgress, in_order: bool
    ) -> SharedFile:
        """The node another process runs on this home fetches it (this one is attached)."""
        from peernode.net import control

        home = Home(self._home)
        args = {"id": shared.id.hex(), "in_order": in_order}
        status = FetchStatus.from_json(await control.call(home, "file_get", args), shared)
        while not status.progress.done and not status.error:
            report(status.progress)
            await asyncio.sleep(POLL_RUNNING_NODE)
            answer = await control.call(home, "file_status", {"id": shared.id.hex()})
            status = FetchStatus.from_json(answer, shared)
        if status.error:
            raise NodeError(status.error)
        return await self._library.shared(shared.event)

    async def _get_folder(self, shared: SharedFile, report: OnProgress) -> None:
        """The manifest, then its files, a few at once (small files cost round trips)."""
        manifest = await self.fetch_blob(shared.blob, max_size=MAX_MANIFEST_BYTES)
        entries = await self._library.entries(manifest)
        if sum(entry.size for entry in entries) != shared.size:
            raise NodeError("this folder's files do not add up to the size it announced")
        here: dict[int, int] = {}
        gate = asyncio.Semaphore(self._config.parallel_files)
        started = asyncio.get_running_loop().time()

        async def fetch(number: int, entry: Entry) -> None:
            def progress(one: Progress) -> None:
                here[number] = one.have_bytes
                total = sum(here.values())
                elapsed = max(asyncio.get_running_loop().time() - started, 1e-6)
                report(Progress(shared.blob, total, shared.size, total / elapsed, one.sources))

            async with gate:
                await self.fetch_blob(entry.blob, progress, size=entry.size)
                here[number] = entry.size

        async with asyncio.TaskGroup() as group:
            for number, entry in enumerate(entries):
                group.create_task(fetch(number, entry))

    async def holders(self, ref: str | bytes) -> int:
        """How many linked laptops hold the whole file (an author knows when to leave);
        for a folder, its list of files. NodeError when networking is not running."""
        shared = await self.find(ref)
        if self._pool is None or self._network is None:
            raise NodeError("networking is not running; start 'peernode serve' or 'peernode'")
        pool = self._pool
        from peernode.files.sessions import SessionClosed

        async def holds(peer: PeerAddress) -> bool:
            session = await pool.session(peer)
            if session is None:
                return False
            with contextlib.suppress(SessionClosed, TimeoutError):
                return (await session.ask(shared.blob)).holding is Holding.FULL
            return False

        answers = await asyncio.gather(*map(holds, self._bulk_peers()))
        return sum(answers)

    async def start_get(self, ref: str | bytes, *, in_order: bool = False) -> FetchStatus:
        """Fetch in the background (the running node, for a CLI command); see `fetch_status`."""
        shared = await self.find(ref)
        task = self._fetches.get(shared.id)
        if task is None or (task.done() and task.exception() is not None):
            fetch = self.get(shared.id, in_order=in_order)
            task = asyncio.create_task(fetch, name=f"get {shared.name}")
            self._fetches[shared.id] = task
        return await self.fetch_status(shared.id)

    async def fetch_status(self, ref: str | bytes) -> FetchStatus:
        """Where the background fetch of a shared file stands."""
        shared = await self.find(ref)
        task = self._fetches.get(shared.id)
        error = ""
        if task is not None and task.done() and not task.cancelled():
            failure = task.exception()
            if isinstance(failure, NodeError):
                error = str(failure)
            elif failure is not None:
                error = f"the download failed: {failure}"
        progress = self.progress.get(shared.id) or Progress(
            shared.blob, shared.have_bytes, shared.size, 0.0, 0, shared.complete
        )
        return FetchStatus(shared, progress, error)

    async def fetch_blob(
        self,
        blob: bytes,
        on_progress: OnProgress | None = None,
        *,
        size: int | None = None,
        max_size: int | None = None,
        in_order: bool = False,
    ) -> BlobRecord:
        """One blob from every linked peer that holds it (joins a fetch under way);
        `size`: what its event announced; `max_size`: the most it may hold."""
        catalog = await self._library.catalog()
        record = await asyncio.to_thread(catalog.get, blob)
        if record is not None and record.complete:
            return record
        if self._pool is None or self._network is None:
            raise NodeError("networking is not running; start 'peernode serve' or 'peernode'")
        task = self._downloads.get(blob)
        if task is None:
            from peernode.files.download import Download

            download = Download(
                blob,
                catalog=catalog,
                disk=self._disk,
                pool=self._pool,
                peers=self._bulk_peers,
                config=self._config,
                in_order=in_order,
                on_progress=on_progress,
                size=size,
                max_size=max_size,
                on_have=None if self._server is None else self._server.gained,
            )
            task = asyncio.create_task(download.run(), name=f"download {blob.hex()[:12]}")
            self._downloads[blob] = task
            task.add_done_callback(lambda _: self._downloads.pop(blob, None))
        return await asyncio.shield(task)

    def _bulk_peers(self) -> Sequence[PeerAddress]:
        """Linked peers that speak the bulk path (a 1.0 node is never dialled on it)."""
        if self._network is None:
            return []
        return self._network.linked_addresses(min_minor=FILES_SPEC_MINOR)

    # -- keeping --------------------------------------------------------------------

    async def pin(self, ref: str | bytes, *, pinned: bool = True) -> SharedFile:
        """Keep a file (a folder: all its files) however long nothing else needs it."""
        shared = await self.find(ref)
        blobs = await self._library.blobs_of(shared)
        catalog = await self._library.catalog()
        if not await asyncio.to_thread(catalog.set_pinned, blobs, pinned) and pinned:
            raise BadInput(f"{shared.name} is not on this laptop yet; fetch it first")
        return shared

    async def collect(self, now_ms: int | None = None) -> int:
        """Delete what nothing has kept for the grace period; returns how many blobs went."""
        keep = await self._library.kept()
        keep |= set(self._downloads)
        catalog = await self._library.catalog()
        when = now_ms if now_ms is not None else clock_ms()
        deleted = await asyncio.to_thread(collect, catalog, self._disk, self._config, keep, when)
        for blob in deleted:
            self._whole.pop(blob, None)
        return len(deleted)

    async def _make_room(self, size: int) -> None:
        """Room for `size` more bytes, collecting first if there is not (NoRoom if still not)."""
        catalog = await self._library.catalog()
        root = self._disk.root
        try:
            await asyncio.to_thread(check_room, catalog, root, self._config, size)
        except NoRoom:
            await self.collect()
            await asyncio.to_thread(check_room, catalog, root, self._config, size)

    # -- sneakernet -----------------------------------------------------------------

    async def export(
        self, out: Path, *, ref: str | bytes | None = None, circle: str | None = None
    ) -> tuple[int, int]:
        """A bundle of one file (`ref`) or a whole circle (its events and the files of it
        on this laptop), with the profiles of their authors; returns (events, blobs)."""
        if ref is not None:
            shared = await self.find(ref)
            if not shared.complete:
                raise BadInput(f"{shared.name} is not all here yet; fetch it first")
            raws = [shared.event.raw]
            blobs = list(await self._library.blobs_of(shared))
        elif circle is not None:
            raws = await self._store.channel_raw(circle)
            blobs = []
            for shared in await self.list(circle):
                if shared.complete:
                    blobs += await self._library.blobs_of(shared)
        else:
            raise BadInput("export what? give a file's id or a circle")
        authors = {load_verified(raw).author for raw in raws}
        for author in sorted(authors):
            raws += await self._store.latest_of_kind(kinds.PROFILE, author)
        events = [(event_id(raw), raw) for raw in raws]
        unique = sorted(set(blobs))
        catalog = await self._library.catalog()
        await asyncio.to_thread(write_bundle, out, events, unique, self._disk, catalog)
        return len(events), len(unique)

    async def import_bundle(self, source: Path) -> tuple[int, int, int]:
        """Take a bundle's events (verified like a peer's) and blobs (each hashed);
        returns (new events, blobs, refused items)."""
        catalog = await self._library.catalog()
        result = await asyncio.to_thread(read_bundle, source, self._disk, catalog, self._config)
        ingested = await self._node.ingest(result.events)
        refused = len(result.refused) + len(ingested.rejected)
        return len(ingested.new), len(result.blobs), refused

    # -- saving ---------------------------------------------------------------------

    async def save(self, ref: str | bytes, destination: Path) -> Path:
        """Copy a fetched file or folder out: into `destination` if it is a folder (under
        a free name), else as `destination`; never over anything, never through a symlink."""
        shared = await self.find(ref)
        if not shared.complete:
            raise BadInput(f"{shared.name} is not all here yet; fetch it with 'peernode file get'")
        directory, name = await asyncio.to_thread(save_target, destination, shared.name)
        record = await self._library.record(shared.blob)
        assert record is not None
        if not shared.is_folder:
            return await asyncio.to_thread(copy_out, self._disk.source(record), directory, name)
        entries = await self._library.entries(record)
        catalog = await self._library.catalog()
        return await asyncio.to_thread(save_folder, self._disk, catalog, entries, directory, name)

    # -- serving --------------------------------------------------------------------

    async def _serve(self, link: Link) -> None:
        assert self._server is not None
        await self._server.serve(link)

    async def _lookup(self, blob: bytes) -> BlobRecord | None:
        """A blob's record for serving; whole blobs are remembered (they never change)."""
        record = self._whole.get(blob)
        if record is None:
            record = await asyncio.to_thread((await self._library.catalog()).get, blob)
            if record is not None and record.complete:
                self._whole[blob] = record
                while len(self._whole) > WHOLE_CACHED:
                    del self._whole[next(iter(self._whole))]
        return record

    async def _read_chunk(self, record: BlobRecord, index: int) -> bytes:
        try:
            return await asyncio.to_thread(self._disk.read_chunk, record, index)
        except OSError:
            self._whole.pop(record.blob, None)  # moved into the database since: look again
            raise
