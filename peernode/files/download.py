"""One download: asks every linked peer who holds the blob, fetches the hash list, then
lets the sans-IO scheduler decide which chunk to ask of whom, and carries that out.

Rules of this file:
- The scheduler decides; this module sends its requests, feeds it what arrives
  (checked against the hash list before anything is written) and the time.
- Chunks are hashed and written on a thread of their own (writer.py) while the loop
  reads the next ones; the have-bitfield in the catalog grows only when a flush made
  them durable.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Final

from peernode.errors import NodeError
from peernode.files.catalog import BlobRecord, Catalog
from peernode.files.config import FilesConfig
from peernode.files.disk import BlobDir
from peernode.files.model import OnProgress, Progress
from peernode.files.sessions import Session, SessionClosed, SessionPool
from peernode.files.writer import SmallWriter, Writer, open_writer
from protocol.errors import ProtocolError
from protocol.files import Ban, Bitfield, Cancel, Layout, Request, Scheduler, layout_from_wire
from protocol.files.messages import Hashes, Have, Holding, Refusal, Refused
from protocol.wire import PeerAddress

log = logging.getLogger(__name__)

HOLDER_GRACE: Final = 0.5
"""Seconds other peers have to answer once one holding the whole blob has."""


Peers = Callable[[], Sequence[PeerAddress]]


@dataclass(frozen=True, slots=True)
class _Arrived:
    """A chunk's answer from a peer: its data, a refusal, or neither (the link is gone)."""

    peer: bytes
    index: int
    data: bytes | None
    refused: Refused | None


@dataclass(frozen=True, slots=True)
class _Checked:
    """A chunk checked against its hash (and written if `good`)."""

    peer: bytes
    index: int
    good: bool


@dataclass(frozen=True, slots=True)
class _Durable:
    """Chunks a flush made durable."""

    indexes: list[int]


@dataclass(frozen=True, slots=True)
class _Gained:
    """A partial holder we watch holds more now."""

    peer: bytes
    have: Have


@dataclass(frozen=True, slots=True)
class _Found:
    """Linked peers that held none of the blob when the download began, and hold some now."""

    holders: dict[bytes, Have]


_Input = _Arrived | _Checked | _Durable | _Gained | _Found
OnHave = Callable[[bytes, Bitfield], None]
"""Told the chunks of a blob durable here, each time more are (the server's watchers)."""


class Download:
    """Fetches one blob from every peer that holds it, into home/blobs."""

    def __init__(
        self,
        blob: bytes,
        *,
        catalog: Catalog,
        disk: BlobDir,
        pool: SessionPool,
        peers: Peers,
        config: FilesConfig,
        on_progress: OnProgress | None = None,
        size: int | None = None,
        max_size: int | None = None,
        in_order: bool = False,
        on_have: OnHave | None = None,
    ) -> None:
        """size: the size the file's event gives (the blob must have it); max_size: the
        most a blob of this use may hold (a folder's manifest); in_order: lowest missing
        chunk first (protocol.files.SchedulerConfig.in_order); on_have: told the chunks
        durable here as they grow."""
        self.blob = blob
        self._size = size
        self._max_size = max_size
        self._catalog = catalog
        self._disk = disk
        self._pool = pool
        self._peers = peers
        self._config = config
        self._scheduling = replace(config.scheduler, in_order=in_order or config.scheduler.in_order)
        self._on_progress = on_progress or (lambda progress: None)
        self._sessions: dict[bytes, Session] = {}
        self._requests: dict[tuple[bytes, int], int] = {}
        self._inputs: asyncio.Queue[_Input] = asyncio.Queue()
        self._started = time.monotonic()
        self._fetched = 0
        self._have_bytes = 0
        self._durable = Bitfield(0)
        self._on_have = on_have or (lambda blob, have: None)
        self._watching: dict[bytes, int] = {}
        self._looking: asyncio.Task[None] | None = None
        self._next_look = 0.0

    async def run(self) -> BlobRecord:
        """Fetch until every chunk is here and verified; NodeError if nobody has it."""
        record = await asyncio.to_thread(self._catalog.get, self.blob)
        if record is not None and record.complete:
            return record
        holders = await self._find_holders()
        if record is None:
            holders = await self._wait_for_holders(holders)
            layout = await self._fetch_layout(holders)
            self._check_size(layout)
            await asyncio.to_thread(self._catalog.add, layout, complete=False)
            record = BlobRecord(layout, Bitfield(layout.chunks), False, False)
        writer = await open_writer(
            record.layout,
            self._disk,
            self._config,
            on_checked=lambda index, good, peer: self._inputs.put_nowait(
                _Checked(peer, index, good)
            ),
            on_durable=lambda indexes: self._inputs.put_nowait(_Durable(indexes)),
        )
        if isinstance(writer, SmallWriter):  # all of it again: nothing was kept of it
            record = replace(record, have=Bitfield(record.layout.chunks))
        self._durable = Bitfield(record.layout.chunks, record.have)
        try:
            await self._fetch_chunks(record, holders, writer)
            await writer.finish()
        except BaseException:
            self._cancel_outstanding()
            await self._keep_written(writer)
            raise
        finally:
            self._stop_looking()
            self._cancel_outstanding()
            await writer.close()
        full = Bitfield.full(record.layout.chunks)
        data = writer.data if isinstance(writer, SmallWriter) else None
        await asyncio.to_thread(self._catalog.set_have, self.blob, full, data)
        self._on_have(self.blob, full)
        self._have_bytes = record.layout.size
        self._report(record.layout, done=True)
        whole = await asyncio.to_thread(self._catalog.get, self.blob)
        assert whole is not None
        return whole

    # -- who has it -----------------------------------------------------------------

    async def _find_holders(self, *, again: bool = False) -> dict[bytes, Have]:
        """Ask every linked peer whether it holds the blob (`again`: partial holders
        too, which may hold more by now; else only those not yet found holding it)."""
        peers = [p for p in self._peers() if again or p.key not in self._sessions]
        pending = {asyncio.create_task(self._ask(peer)) for peer in peers}
        holders: dict[bytes, Have] = {}
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._config.ask_timeout
        try:
            # A laptop that does not answer (asleep, its link not yet noticed dead) must not
            # hold the start up: soon after a whole holder answered, go with who answered.
            while pending and (left := deadline - loop.time()) > 0:
                done, pending = await asyncio.wait(
                    pending, timeout=left, return_when=asyncio.FIRST_COMPLETED
                )
                for task in done:
                    key, have = task.result()
                    if have is not None:
                        holders[key] = have
                        if have.holding is Holding.FULL:
                            deadline = min(deadline, loop.time() + HOLDER_GRACE)
        finally:
            for task in pending:
                task.cancel()
        return holders

    async def _wait_for_holders(self, holders: dict[bytes, Have]) -> dict[bytes, Have]:
        """Ask again, for up to the idle timeout, while no linked peer holds the blob
        (the node has just started and is still finding its peers)."""
        deadline = time.monotonic() + self._config.idle_timeout
        while not holders and time.monotonic() < deadline:
            await asyncio.sleep(min(1.0, self._config.idle_timeout / 10))
            holders = await self._find_holders()
        return holders

    async def _ask(self, peer: PeerAddress) -> tuple[bytes, Have | None]:
        session = await self._pool.session(peer)
        if session is None:
            return peer.key, None
        try:
            have = await session.ask(self.blob)
        except (SessionClosed, TimeoutError):
            return peer.key, None
        if have.holding is Holding.NONE:
            return peer.key, None
        self._sessions[peer.key] = session
        return peer.key, have

    async def _fetch_layout(self, holders: dict[bytes, Have]) -> Layout:
        ordered = sorted(holders, key=lambda key: holders[key].holding is not Holding.FULL)
        for key in ordered:
            try:
                answer = await self._sessions[key].hashes(self.blob)
            except (SessionClosed, TimeoutError):
                continue
            if isinstance(answer, Hashes):
                try:
                    return layout_from_wire(
                        self.blob,
                        answer.size,
                        answer.chunk_size,
                        answer.hash_list,
                        self._config.rules,
                    )
                except ProtocolError as exc:
                    await self._pool.ban(key, f"a hash list that is wrong ({exc})")
        raise NodeError(
            "no laptop linked to this one has this file; try again when its owner is here"
        )

    def _check_size(self, layout: Layout) -> None:
        """Before a byte is fetched: the blob is the size its event said, and not too big
        for what it is (the id commits to the size, so no peer can change it)."""
        if self._size is not None and layout.size != self._size:
            raise NodeError(
                f"this file is {layout.size:,} bytes, not the {self._size:,} its sharer"
                " announced; it was not fetched"
            )
        if self._max_size is not None and layout.size > self._max_size:
            raise NodeError(f"this blob is {layout.size:,} bytes, too big for what it is")

    def _bitfield(self, have: Have, chunks: int) -> Bitfield | None:
        if have.holding is Holding.FULL:
            return Bitfield.full(chunks)
        try:
            return Bitfield.from_bytes(chunks, have.bitfield)
        except ProtocolError:
            return None

    # -- the chunks -----------------------------------------------------------------

    async def _fetch_chunks(
        self, record: BlobRecord, holders: dict[bytes, Have], writer: Writer
    ) -> None:
        layout = record.layout
        have = Bitfield(layout.chunks, record.have)
        self._have_bytes = record.have_bytes
        scheduler = Scheduler(layout, have, rng=random.Random(), config=self._scheduling)
        self._add_holders(scheduler, holders)
        idle_since: float | None = None
        while not scheduler.complete:
            self._carry_out(scheduler, layout)
            if scheduler.stalled:
                idle_since = idle_since or time.monotonic()
                if time.monotonic() - idle_since > self._config.idle_timeout:
                    raise NodeError(
                        "the laptops that had this file are gone; it resumes from here later"
                    )
                self._add_holders(scheduler, await self._find_holders(again=True))
                if scheduler.stalled:
                    await asyncio.sleep(min(1.0, self._config.idle_timeout / 10))
                continue
            idle_since = None
            self._look_again()
            await self._next_input(scheduler, layout, writer)
            if writer.error is not None:
                raise NodeError(f"cannot write the download to disk: {writer.error}")
        await writer.flush_all()

    def _add_holders(self, scheduler: Scheduler, holders: dict[bytes, Have]) -> None:
        now = time.monotonic()
        known = set(scheduler.peers())
        for key, have in holders.items():
            bitfield = self._bitfield(have, scheduler.layout.chunks)
            if bitfield is None:
                continue
            if key not in known:
                scheduler.add_peer(key, bitfield, now)
                if have.holding is Holding.PARTIAL:
                    self._watch(key)
                continue
            for index in bitfield:  # a partial holder got more since we asked
                scheduler.peer_has(key, index, now)

    def _look_again(self) -> None:
        """Every `look_interval`, ask again the linked peers that held nothing: in a swarm
        they all start together, and each soon holds what the others need."""
        now = time.monotonic()
        if self._looking is not None or now < self._next_look:
            return
        self._next_look = now + self._config.look_interval

        async def look() -> None:
            try:
                found = await self._find_holders()
            finally:
                self._looking = None
            if found:
                self._inputs.put_nowait(_Found(found))

        self._looking = asyncio.get_running_loop().create_task(look())

    def _stop_looking(self) -> None:
        if self._looking is not None:
            self._looking.cancel()
            self._looking = None

    def _watch(self, peer: bytes) -> None:
        """Hear of the chunks a partial holder gains (a peer of bulk 1.1), as it does."""
        session = self._sessions.get(peer)
        if session is None or peer in self._watching:
            return
        request = session.watch(
            self.blob, lambda have: self._inputs.put_nowait(_Gained(peer, have))
        )
        if request is not None:
            self._watching[peer] = request

    async def _next_input(self, scheduler: Scheduler, layout: Layout, writer: Writer) -> None:
        timer = scheduler.get_timer()
        timeout = None if timer is None else max(0.0, timer - time.monotonic())
        try:
            async with asyncio.timeout(timeout):
                news = await self._inputs.get()
        except TimeoutError:
            scheduler.handle_timer(time.monotonic())
            return
        now = time.monotonic()
        if isinstance(news, _Checked):
            new = news.good and news.index not in scheduler.have
            scheduler.received(news.peer, news.index, good=news.good, now=now)
            if new:
                length = layout.chunk_length(news.index)
                self._fetched += length
                self._have_bytes += length
                self._report(layout, sources=scheduler.sources)
        elif isinstance(news, _Durable):
            await self._made_durable(news.indexes)
        elif isinstance(news, _Gained):
            self._add_holders(scheduler, {news.peer: news.have})
        elif isinstance(news, _Found):
            self._add_holders(scheduler, news.holders)
        elif news.data is not None:
            self._requests.pop((news.peer, news.index), None)
            writer.submit(news.index, news.data, news.peer)
        elif news.refused is not None:
            self._requests.pop((news.peer, news.index), None)
            missing = news.refused.reason is Refusal.MISSING
            scheduler.refused(news.peer, news.index, missing=missing, now=now)
        else:
            self._requests.pop((news.peer, news.index), None)
            scheduler.remove_peer(news.peer, now)
            self._sessions.pop(news.peer, None)
            self._watching.pop(news.peer, None)

    async def _made_durable(self, indexes: list[int]) -> None:
        for index in indexes:
            self._durable.add(index)
        if not indexes or self._durable.complete:
            return  # nothing new; or recorded whole by run(), once the file is in its place
        await asyncio.to_thread(self._catalog.set_have, self.blob, self._durable)
        self._on_have(self.blob, self._durable)

    async def _keep_written(self, writer: Writer) -> None:
        """Stopped early: what is written is flushed and recorded, so a resume skips it."""
        with contextlib.suppress(OSError):
            await writer.keep_written()
        indexes = []
        while not self._inputs.empty():
            if isinstance(news := self._inputs.get_nowait(), _Durable):
                indexes += news.indexes
        await self._made_durable(indexes)

    def _carry_out(self, scheduler: Scheduler, layout: Layout) -> None:
        for action in scheduler.actions():
            peer = bytes(action.peer)  # type: ignore[call-overload]
            if isinstance(action, Request):
                self._request(peer, action.index, layout, scheduler)
            elif isinstance(action, Cancel):
                request = self._requests.pop((peer, action.index), None)
                session = self._sessions.get(peer)
                if request is not None and session is not None:
                    session.cancel(request)
            elif isinstance(action, Ban):
                log.warning("a peer sent chunks that were wrong: %s", action.reason)
                self._sessions.pop(peer, None)
                asyncio.get_running_loop().create_task(self._pool.ban(peer, action.reason))

    def _cancel_outstanding(self) -> None:
        """Stopped (done, failed or cancelled): the peers stop sending what is still asked,
        and telling what they gain."""
        asked = [(peer, request) for (peer, _), request in self._requests.items()]
        for peer, request in [*asked, *self._watching.items()]:
            session = self._sessions.get(peer)
            if session is not None:
                session.cancel(request)
        self._requests.clear()
        self._watching.clear()

    def _request(self, peer: bytes, index: int, layout: Layout, scheduler: Scheduler) -> None:
        session = self._sessions.get(peer)
        if session is None:
            scheduler.remove_peer(peer, time.monotonic())
            return

        def done(data: bytes | None, refused: Refused | None) -> None:
            self._inputs.put_nowait(_Arrived(peer, index, data, refused))

        length = layout.chunk_length(index)
        self._requests[(peer, index)] = session.get_chunk(self.blob, index, length, done)

    def _report(self, layout: Layout, *, sources: int = 0, done: bool = False) -> None:
        elapsed = max(time.monotonic() - self._started, 1e-6)
        rate = self._fetched / elapsed
        self._on_progress(Progress(self.blob, self._have_bytes, layout.size, rate, sources, done))
