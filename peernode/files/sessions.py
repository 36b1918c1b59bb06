"""Bulk links we dial, one per peer, shared by every download: requests out, answers back.

Rules of this file:
- A session checks every answer with the sans-IO Requester; a protocol error closes it.
- Every wait has a timeout; when a link closes, whatever still waits on it is told so.
- A session with nothing outstanding for `idle_timeout` seconds is closed; the next
  request to that peer dials again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from peernode.net.link import Link, LinkError, LinkFactory
from protocol.errors import ProtocolError
from protocol.files import ChunkReply, Requester
from protocol.files.messages import Hashes, Have, Holding, Refused, bulk_minor
from protocol.wire import PeerAddress

log = logging.getLogger(__name__)

ChunkCallback = Callable[[bytes | None, Refused | None], None]
"""Called once per chunk request: the data, or the refusal, or (None, None): link gone."""
HaveCallback = Callable[[Have], None]
"""Called with each Have answering a Watch."""


class SessionClosed(Exception):
    """The bulk link closed before the answer came."""


class Session:
    """One bulk link we dialled to a peer."""

    def __init__(self, link: Link, *, answer_timeout: float) -> None:
        self.link = link
        self._answer_timeout = answer_timeout
        self.key = link.key
        self._requester = Requester()
        self._waiting: dict[int, asyncio.Future[Any]] = {}
        self._chunks: dict[int, ChunkCallback] = {}
        self._watches: dict[int, HaveCallback] = {}
        self.closed = asyncio.Event()
        self.last_used = asyncio.get_running_loop().time()

    @property
    def idle(self) -> bool:
        """Nothing asked of the peer is outstanding."""
        return not (self._waiting or self._chunks or self._watches)

    @property
    def can_watch(self) -> bool:
        """The peer speaks bulk 1.1 (it announced it), which brought Watch."""
        return bulk_minor(self.link.info) >= 1

    def watch(self, blob: bytes, on_have: HaveCallback) -> int | None:
        """Hear what the peer holds of `blob` now and as it gains more; None if the peer
        cannot be asked that (bulk 1.0) or the link is gone."""
        if not self.can_watch or self.closed.is_set():
            return None
        request, data = self._requester.watch(blob)
        if not self.link.send_nowait(data):
            self._requester.cancel(request)
            return None
        self._watches[request] = on_have
        return request

    async def ask(self, blob: bytes) -> Have:
        """Does the peer hold `blob`? TimeoutError past the answer timeout."""
        request, data = self._requester.ask(blob)
        return await self._call(request, data)  # type: ignore[no-any-return]

    async def hashes(self, blob: bytes) -> Hashes | Refused:
        request, data = self._requester.get_hashes(blob)
        return await self._call(request, data)  # type: ignore[no-any-return]

    async def _call(self, request: int, data: bytes) -> Any:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting[request] = future
        try:
            if not self.link.send_nowait(data) or self.closed.is_set():
                raise SessionClosed
            async with asyncio.timeout(self._answer_timeout):
                return await future
        except TimeoutError:
            if (cancel := self._requester.cancel(request)) is not None:
                self.link.send_nowait(cancel)
            raise
        finally:
            self._waiting.pop(request, None)

    def get_chunk(self, blob: bytes, index: int, length: int, done: ChunkCallback) -> int:
        """Ask for a chunk; `done` is called once with the outcome."""
        request, data = self._requester.get_chunk(blob, index, length)
        self._chunks[request] = done
        if self.closed.is_set() or not self.link.send_nowait(data):
            del self._chunks[request]
            asyncio.get_running_loop().call_soon(done, None, None)
        return request

    def cancel(self, request: int) -> None:
        self._chunks.pop(request, None)
        self._watches.pop(request, None)
        if (data := self._requester.cancel(request)) is not None:
            self.link.send_nowait(data)

    def on_payload(self, data: bytes) -> None:
        self.last_used = asyncio.get_running_loop().time()
        try:
            reply = self._requester.receive(data)
        except ProtocolError as exc:
            self.link.close_reason = f"bulk protocol error: {exc}"
            asyncio.get_running_loop().create_task(self.link.close(self.link.close_reason))
            return
        if reply is None:
            return
        if (on_have := self._watches.get(reply.request)) is not None:
            if not isinstance(reply, Have) or reply.holding is not Holding.PARTIAL:
                del self._watches[reply.request]
            if isinstance(reply, Have):
                on_have(reply)
            return
        if (done := self._chunks.pop(reply.request, None)) is not None:
            if isinstance(reply, ChunkReply):
                done(reply.data, None)
            elif isinstance(reply, Refused):
                done(None, reply)
            return
        future = self._waiting.get(reply.request)
        if future is not None and not future.done():
            future.set_result(reply)

    def link_closed(self) -> None:
        self.closed.set()
        for future in self._waiting.values():
            if not future.done():
                future.set_exception(SessionClosed())
        self._watches.clear()
        chunks, self._chunks = self._chunks, {}
        for done in chunks.values():
            done(None, None)


class SessionPool:
    """Dials and keeps one bulk session per peer; closes them all at the end."""

    def __init__(
        self, factory: LinkFactory, *, connect_timeout: float, idle_timeout: float
    ) -> None:
        self._factory = factory
        self._timeout = connect_timeout
        self._idle_timeout = idle_timeout
        self._reaper: asyncio.Task[None] | None = None
        self._sessions: dict[bytes, Session] = {}
        self._dialing: dict[bytes, asyncio.Task[Session | None]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.banned: set[bytes] = set()
        self.dialled = 0
        """Bulk links dialled, ever (each peer's first, and again after one closed)."""

    async def session(self, peer: PeerAddress) -> Session | None:
        """The open session to `peer`, dialled if needed; None if it cannot be reached."""
        if peer.key in self.banned:
            return None
        existing = self._sessions.get(peer.key)
        if existing is not None and not existing.closed.is_set():
            existing.last_used = asyncio.get_running_loop().time()
            return existing
        if self._reaper is None:
            self._reaper = asyncio.create_task(self._close_idle(), name="bulk idle links")
        task = self._dialing.get(peer.key)
        if task is None:
            task = asyncio.create_task(self._dial(peer), name=f"bulk dial {peer.host}")
            self._dialing[peer.key] = task
        return await asyncio.shield(task)

    async def _dial(self, peer: PeerAddress) -> Session | None:
        self.dialled += 1
        try:
            async with asyncio.timeout(self._timeout):
                link = await self._factory.dial(peer.host, peer.port, expected=peer.key)
        except (LinkError, TimeoutError) as exc:
            log.info("no bulk link to %s:%d: %s", peer.host, peer.port, exc)
            return None
        finally:
            self._dialing.pop(peer.key, None)
        session = Session(link, answer_timeout=self._timeout)
        self._sessions[peer.key] = session
        task = asyncio.create_task(self._run(session), name=f"bulk {link!r}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return session

    async def _run(self, session: Session) -> None:
        try:
            await session.link.run(session.on_payload)
        finally:
            session.link_closed()
            if self._sessions.get(session.key) is session:
                del self._sessions[session.key]

    async def _close_idle(self) -> None:
        """Close the sessions that had nothing to do for the idle timeout."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self._idle_timeout / 4)
            for session in list(self._sessions.values()):
                if session.idle and loop.time() - session.last_used >= self._idle_timeout:
                    await session.link.close("idle")

    async def ban(self, key: bytes, reason: str) -> None:
        """Never ask this peer again while the node runs."""
        self.banned.add(key)
        session = self._sessions.get(key)
        if session is not None:
            await session.link.close(f"banned: {reason}")

    async def close(self) -> None:
        if self._reaper is not None:
            self._reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reaper
        for task in list(self._dialing.values()):
            task.cancel()
        await asyncio.gather(*(s.link.close("node shutting down") for s in self._sessions.values()))
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
