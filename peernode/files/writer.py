"""A download's chunks checked and written off the event loop, on two threads: one hashes
and writes each chunk as it arrives, the other flushes every few MiB, so neither the event
loop nor the hashing waits for the disk (hashlib and the disk calls release the GIL: the
second core does this work while the loop reads and decrypts). A small blob's chunks are
kept in memory instead, and go into the files database in one write (SmallWriter).

Rules of this file:
- A chunk is written only after it matched its hash; a bad one is reported, never written.
- A chunk is durable once a flush that started after its write returned; at most one
  flush runs at a time, and writes go on meanwhile.
- Callbacks run on the event loop, in order of arrival for the checks.
- Closing waits for the thread's current call: the file is closed only after it.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Final

from peernode.files.config import FilesConfig
from peernode.files.disk import BlobDir, PartialFile
from protocol.files import Layout
from protocol.files.blob import BadChunk

OnChecked = Callable[[int, bool, bytes], None]
"""(chunk index, whether it matched its hash and is written, the peer that sent it)"""
OnDurable = Callable[[list[int]], None]
"""The chunks a flush made durable."""

_WAIT_POLL: Final = 0.05


class ChunkWriter:
    """Checks and writes the chunks of one download; flushes every `sync_every` bytes."""

    def __init__(
        self,
        layout: Layout,
        partial: PartialFile,
        *,
        sync_every: int,
        on_checked: OnChecked,
        on_durable: OnDurable,
    ) -> None:
        self._loop = asyncio.get_running_loop()
        self._layout = layout
        self._partial = partial
        self._sync_every = sync_every
        self._on_checked = on_checked
        self._on_durable = on_durable
        self._hashing = ThreadPoolExecutor(1, thread_name_prefix="chunk check")
        self._flushing = ThreadPoolExecutor(1, thread_name_prefix="chunk flush")
        self._checks: set[asyncio.Future[bool]] = set()
        self._flush: asyncio.Future[None] | None = None
        self._written: list[int] = []
        self._unflushed = 0
        self._closed = False
        self.error: OSError | None = None
        """The first write or flush that failed: the download stops with it."""

    def submit(self, index: int, data: bytes, peer: bytes) -> None:
        """Check `data` (from `peer`) against chunk `index`'s hash and write it;
        `on_checked` says how it went."""
        if self._closed:
            return
        future = self._loop.run_in_executor(self._hashing, self._check_and_write, index, data)
        self._checks.add(future)
        future.add_done_callback(functools.partial(self._checked, index, len(data), peer))

    @property
    def busy(self) -> int:
        """Chunks waiting for their check."""
        return len(self._checks)

    def _checked(self, index: int, length: int, peer: bytes, future: asyncio.Future[bool]) -> None:
        self._checks.discard(future)
        if future.cancelled():
            return
        if (error := future.exception()) is not None:
            self._failed(error)
            return
        good = future.result()
        if good:
            self._written.append(index)
            self._unflushed += length
            if self._unflushed >= self._sync_every:
                self._start_flush()
        self._on_checked(index, good, peer)

    def _start_flush(self) -> None:
        if self._closed or self._flush is not None or not self._written:
            return  # the running flush starts the next one when it ends
        indexes, self._written, self._unflushed = self._written, [], 0
        self._flush = self._loop.run_in_executor(self._flushing, self._partial.flush)
        self._flush.add_done_callback(functools.partial(self._flushed, indexes))

    def _flushed(self, indexes: list[int], future: asyncio.Future[None]) -> None:
        self._flush = None
        if future.cancelled():
            return
        if (error := future.exception()) is not None:
            self._failed(error)
            return
        self._on_durable(indexes)
        if self._unflushed >= self._sync_every:
            self._start_flush()

    def _failed(self, error: BaseException) -> None:
        self.error = self.error or _os_error(error)
        self._on_durable([])  # nothing more is durable; this wakes the download to see `error`

    async def flush_all(self) -> None:
        """Wait for every check, then flush what is written: all of it is durable (and
        reported) when this returns."""
        await self._flush_written(wait_checks=True)

    async def keep_written(self) -> None:
        """Stopping: drop the checks not started and wait for the one under way, then
        flush what was reported written (reported durable as usual)."""
        self._hashing.shutdown(wait=False, cancel_futures=True)
        await asyncio.to_thread(self._hashing.shutdown, wait=True)
        await self._flush_written(wait_checks=False)

    async def _flush_written(self, *, wait_checks: bool) -> None:
        while (wait_checks and self._checks) or self._flush is not None or self._written:
            if not (wait_checks and self._checks) and self._flush is None:
                self._start_flush()
            waiting: set[asyncio.Future[Any]] = set(self._checks) if wait_checks else set()
            if self._flush is not None:
                waiting.add(self._flush)
            await asyncio.wait(waiting, timeout=_WAIT_POLL)
            if self.error is not None:
                raise self.error

    def _check_and_write(self, index: int, data: bytes) -> bool:
        """On the hashing thread: the chunk against its hash, then in place if it matched."""
        try:
            self._layout.verify_chunk(index, data)
        except BadChunk:
            return False
        self._partial.write(index, data)
        return True

    async def finish(self) -> None:
        """Every chunk is here and flushed: the file goes into its place."""
        await asyncio.to_thread(self._partial.finish)

    async def close(self) -> None:
        """Drop the checks not started; wait for the threads' current calls; close the file."""
        self._closed = True
        for executor in (self._hashing, self._flushing):
            executor.shutdown(wait=False, cancel_futures=True)
        for executor in (self._hashing, self._flushing):
            await asyncio.to_thread(executor.shutdown, wait=True)
        self._partial.close()


def _os_error(error: BaseException) -> OSError:
    return error if isinstance(error, OSError) else OSError(str(error))


class SmallWriter:
    """A small blob's chunks, checked on the loop (a few KiB) and kept in memory until
    the blob is whole: it then goes into the files database in one write, with no file
    and no flush (a stopped one starts over)."""

    error: OSError | None = None

    def __init__(self, layout: Layout, *, on_checked: OnChecked) -> None:
        self._layout = layout
        self._on_checked = on_checked
        self._chunks: dict[int, bytes] = {}

    def submit(self, index: int, data: bytes, peer: bytes) -> None:
        try:
            self._layout.verify_chunk(index, data)
        except BadChunk:
            good = False
        else:
            good = True
            self._chunks[index] = data
        asyncio.get_running_loop().call_soon(self._on_checked, index, good, peer)

    @property
    def data(self) -> bytes:
        """The whole blob (once every chunk is here)."""
        return b"".join(self._chunks[index] for index in range(self._layout.chunks))

    async def flush_all(self) -> None:
        """Nothing to flush: the database write at the end is the one that counts."""

    async def keep_written(self) -> None:
        """Nothing is kept of a small blob stopped early."""

    async def finish(self) -> None:
        """The caller stores `data`."""

    async def close(self) -> None:
        """Nothing to close (`data` stays readable)."""


Writer = ChunkWriter | SmallWriter


async def open_writer(
    layout: Layout,
    disk: BlobDir,
    config: FilesConfig,
    *,
    on_checked: OnChecked,
    on_durable: OnDurable,
) -> Writer:
    """Where a download's chunks go: memory, then the files database, for a blob of at
    most `inline_bytes`; else a partial file under blobs/."""
    if layout.size <= config.inline_bytes:
        return SmallWriter(layout, on_checked=on_checked)
    partial = await asyncio.to_thread(disk.open_partial, layout)
    return ChunkWriter(
        layout, partial, sync_every=config.sync_every, on_checked=on_checked, on_durable=on_durable
    )
