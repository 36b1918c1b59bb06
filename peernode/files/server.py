"""Serving blobs on the bulk path: answers to the peers that dialled us, and nothing else.

Rules of this file:
- Only requests are accepted from the dialling side; anything else closes the link.
- Requests of one link are answered in order of arrival by two tasks per link (the
  pieces of two chunks may interleave); a few chunks are read and sent at once for all
  peers together (`max_serving`), the rest wait.
- A link with more than `max_queued` requests waiting is answered busy.
- Only chunks durable on disk are offered or sent.
- A Watch is answered like an Ask, then kept (watches.py): the chunks gained later
  follow, batched. A link holds at most `max_queued` watches.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Final

from peernode.files.catalog import BlobRecord
from peernode.files.config import FilesConfig
from peernode.files.watches import Watches
from protocol.errors import ProtocolError
from protocol.files import Bitfield, pieces
from protocol.files.messages import (
    Ask,
    Cancel,
    GetChunk,
    GetHashes,
    Hashes,
    Have,
    Holding,
    Refusal,
    Refused,
    Watch,
    bulk_minor,
    decode,
    encode,
    piece_bytes_for,
)

if TYPE_CHECKING:
    from peernode.net.link import Link

log = logging.getLogger(__name__)

WORKERS_PER_LINK: Final = 2

Lookup = Callable[[bytes], Awaitable[BlobRecord | None]]
"""The record of a blob held here (whole or in part), None if unknown."""
ReadChunk = Callable[[BlobRecord, int], Awaitable[bytes]]


class BulkServer:
    """Answers every inbound bulk link."""

    def __init__(self, lookup: Lookup, read_chunk: ReadChunk, config: FilesConfig) -> None:
        self._lookup = lookup
        self._read_chunk = read_chunk
        self._config = config
        self._serving = asyncio.Semaphore(config.max_serving)
        self._pace = Pace(config.serve_rate)
        self._links: set[Link] = set()
        self._watches = Watches(config.have_interval)
        self.chunks_sent = 0

    async def serve(self, link: Link) -> None:
        """Own one inbound bulk link until it closes."""
        self._links.add(link)
        requests = _Requests()

        def on_payload(data: bytes) -> None:
            try:
                message = decode(data)
            except ProtocolError as exc:
                self._close(link, f"bad bulk message: {exc}")
                return
            if isinstance(message, Cancel):
                if not self._watches.cancel(link, message.request):
                    requests.cancel(message.request)
            elif not isinstance(message, Ask | Watch | GetHashes | GetChunk):
                self._close(link, "the asking side sent an answer")
            elif requests.queue.qsize() >= self._config.max_queued or (
                isinstance(message, Watch) and self._watches.count(link) >= self._config.max_queued
            ):
                link.send_nowait(encode(Refused(message.request, Refusal.BUSY)))
            else:
                requests.put(message)

        # Two answer at once: one reads the next chunk from disk while the other sends.
        workers = [
            asyncio.create_task(self._answer(link, requests), name=f"serve {link!r}")
            for _ in range(WORKERS_PER_LINK)
        ]
        try:
            await link.run(on_payload)
        finally:
            for worker in workers:
                worker.cancel()
            for worker in workers:
                with contextlib.suppress(asyncio.CancelledError):
                    await worker
            self._watches.link_closed(link)
            self._links.discard(link)

    def _close(self, link: Link, reason: str) -> None:
        link.close_reason = reason
        asyncio.get_running_loop().create_task(link.close(reason))

    @property
    def haves_told(self) -> int:
        """Haves sent to peers watching a blob as this node gained chunks of it."""
        return self._watches.told

    def gained(self, blob: bytes, have: Bitfield) -> None:
        """A download here made more of `blob` durable: its watchers hear of it."""
        self._watches.gained(blob, have)

    async def close(self) -> None:
        self._watches.close()
        await asyncio.gather(*(link.close("node shutting down") for link in list(self._links)))

    async def _answer(self, link: Link, requests: _Requests) -> None:
        while True:
            message = await requests.queue.get()
            try:
                if not requests.cancelled(message.request):
                    await self._answer_one(link, message, requests)
            finally:
                requests.done(message.request)

    async def _answer_one(
        self, link: Link, message: Ask | Watch | GetHashes | GetChunk, requests: _Requests
    ) -> None:
        record = await self._lookup(message.blob)
        if isinstance(message, Watch):
            self._watches.start(message.blob, link, message.request, _have(message.request, record))
        elif isinstance(message, Ask):
            await link.send(encode(_have(message.request, record)))
        elif record is None:
            await link.send(encode(Refused(message.request, Refusal.MISSING)))
        elif isinstance(message, GetHashes):
            layout = record.layout
            answer = Hashes(message.request, layout.size, layout.chunk_size, layout.hash_list())
            await link.send(encode(answer))
        else:
            await self._send_chunk(link, record, message, requests)

    async def _send_chunk(
        self, link: Link, record: BlobRecord, message: GetChunk, requests: _Requests
    ) -> None:
        if message.index not in record.have:
            await link.send(encode(Refused(message.request, Refusal.MISSING)))
            return
        largest = min(self._config.piece_bytes, piece_bytes_for(bulk_minor(link.info)))
        async with self._serving:
            try:
                data = await self._read_chunk(record, message.index)
            except OSError as exc:
                log.warning("cannot read a chunk to send: %s", exc)
                await link.send(encode(Refused(message.request, Refusal.MISSING)))
                return
            for piece in pieces(message.request, data, largest):
                if requests.cancelled(message.request):
                    return
                await self._pace.take(len(piece))
                if not await link.send(piece):
                    return
        self.chunks_sent += 1


class _Requests:
    """The requests of one link waiting or being answered, and those of them cancelled:
    both bounded by the queue's limit (a Cancel for anything else is ignored)."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[Ask | Watch | GetHashes | GetChunk] = asyncio.Queue()
        self._open: set[int] = set()
        self._cancelled: set[int] = set()

    def put(self, message: Ask | Watch | GetHashes | GetChunk) -> None:
        self._open.add(message.request)
        self.queue.put_nowait(message)

    def cancel(self, request: int) -> None:
        if request in self._open:
            self._cancelled.add(request)

    def cancelled(self, request: int) -> bool:
        return request in self._cancelled

    def done(self, request: int) -> None:
        self._open.discard(request)
        self._cancelled.discard(request)


class Pace:
    """Spaces sends so that they average `rate` bytes per second (0: no limit)."""

    def __init__(self, rate: int) -> None:
        self._rate = rate
        self._next = 0.0

    async def take(self, size: int) -> None:
        if not self._rate:
            return
        now = asyncio.get_running_loop().time()
        start = max(now, self._next)
        self._next = start + size / self._rate
        if start > now:
            await asyncio.sleep(start - now)


def _have(request: int, record: BlobRecord | None) -> Have:
    if record is not None and record.complete:
        return Have(request, Holding.FULL, b"")
    if record is None or not len(record.have):
        return Have(request, Holding.NONE, b"")
    return Have(request, Holding.PARTIAL, record.have.to_bytes())
