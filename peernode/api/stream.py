"""WS /v1/stream: the events after a seq, replayed from the store and then live, with no gap.

Rules of this file:
- The store is the one source: the node's subscription only wakes the stream, which
  then reads what was stored after the last seq it sent. So replay and live are one
  loop, and an event stored during the replay is sent once, in seq order.
- A client that does not take a message within send_timeout has fallen behind: it
  gets an overflow message naming the seq to resume after, and the stream closes,
  rather than the node holding events for it without limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

import msgspec
from aiohttp import WSMsgType, web

from peernode.api import convert
from peernode.api.config import ApiConfig
from peernode.api.errors import ApiError
from peernode.api.guard import STREAM_PROTOCOL
from peernode.api.models import (
    ErrorDetail,
    StreamError,
    StreamEvent,
    StreamHello,
    StreamLive,
    StreamMessage,
    StreamOverflow,
    Subscribe,
)
from peernode.api.port import ApiNode
from peernode.storage import AsyncStore
from peernode.stream import Subscription

log = logging.getLogger(__name__)

MAX_CLIENT_MESSAGE = 4096
"""The subscribe message is small; nothing larger is read."""


@dataclass(slots=True)
class Cursor:
    """The seq a stream has sent everything up to (the one to resume after)."""

    seq: int


class FellBehind(Exception):
    """The client did not take a message in time."""


@dataclass(slots=True)
class StreamStats:
    """Counters the node and the tests read."""

    open: int = 0
    sent: int = 0
    overflows: int = 0
    sockets: set[web.WebSocketResponse] = field(default_factory=set)


class Streams:
    """Serves WS /v1/stream for one node."""

    def __init__(self, node: ApiNode, store: AsyncStore, config: ApiConfig) -> None:
        self._node = node
        self._store = store
        self._config = config
        self.stats = StreamStats()

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        if self.stats.open >= self._config.max_streams:
            raise ApiError(
                429, "too_many_streams", "too many streams are open; close one and try again"
            )
        ws = web.WebSocketResponse(
            compress=False, max_msg_size=MAX_CLIENT_MESSAGE, protocols=(STREAM_PROTOCOL,)
        )
        await ws.prepare(request)
        self.stats.sockets.add(ws)
        self.stats.open += 1
        try:
            wanted = await self._subscription_of(ws)
            if wanted is not None:
                await self._serve(ws, wanted)
        finally:
            self.stats.open -= 1
            self.stats.sockets.discard(ws)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(), self._config.send_timeout)
        return ws

    async def close_all(self) -> None:
        """Close every open stream (the node stops)."""
        for ws in list(self.stats.sockets):
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(), 1.0)

    async def _subscription_of(self, ws: web.WebSocketResponse) -> Subscribe | None:
        try:
            message = await asyncio.wait_for(ws.receive(), self._config.subscribe_timeout)
        except TimeoutError:
            await self._refuse(ws, "no_subscribe", "send a subscribe message first")
            return None
        if message.type != WSMsgType.TEXT:
            return None
        try:
            wanted = msgspec.json.decode(message.data, type=Subscribe)
            if wanted.author is not None:
                bytes.fromhex(wanted.author)
        except (msgspec.DecodeError, ValueError) as exc:
            await self._refuse(ws, "bad_subscribe", f"the subscribe message does not fit: {exc}")
            return None
        return wanted

    async def _refuse(self, ws: web.WebSocketResponse, code: str, message: str) -> None:
        with contextlib.suppress(Exception):
            await self._send(ws, StreamError(ErrorDetail(code, message)))

    async def _serve(self, ws: web.WebSocketResponse, wanted: Subscribe) -> None:
        subscription = self._node.subscribe()  # before the first read: nothing slips between
        closed = asyncio.create_task(_until_closed(ws))
        cursor = Cursor(wanted.after_seq)
        store_id = await self._store.store_id()
        try:
            await self._send(ws, StreamHello(store_id, await self._store.max_seq()))
            live = False
            while not closed.done():
                await self._send_after(ws, wanted, cursor)
                if not live:
                    live = True
                    await self._send(ws, StreamLive(cursor.seq))
                await _woken(subscription, closed)
        except FellBehind:
            self.stats.overflows += 1
            with contextlib.suppress(FellBehind, ConnectionError):
                await self._send(ws, StreamOverflow(cursor.seq, store_id))
        except ConnectionError:
            pass  # the client went away
        finally:
            self._node.unsubscribe(subscription)
            closed.cancel()

    async def _send_after(
        self, ws: web.WebSocketResponse, wanted: Subscribe, cursor: Cursor
    ) -> None:
        """Send every wanted event stored after the cursor, moving it as they go."""
        limit = self._config.page_limit
        author = bytes.fromhex(wanted.author) if wanted.author is not None else None
        while True:
            top = await self._store.max_seq()
            rows = await self._store.events_after(
                cursor.seq, limit, upto=top, circle=wanted.circle, kind=wanted.kind, author=author
            )
            for row in rows:
                message = StreamEvent(convert.stored_out(row, self._name_of))
                cursor.seq = row.seq  # before the send: its frame is out even if it times out
                await self._send(ws, message)
                self.stats.sent += 1
            if len(rows) < limit:
                cursor.seq = max(cursor.seq, top)  # every event up to `top` was looked at
                return

    async def _send(self, ws: web.WebSocketResponse, message: StreamMessage) -> None:
        # The frame is written before the send waits for the socket to drain, so a
        # timeout here never cuts a message in two.
        try:
            async with asyncio.timeout(self._config.send_timeout):  # no task per message
                await ws.send_frame(msgspec.json.encode(message), WSMsgType.TEXT)
        except TimeoutError:
            raise FellBehind from None

    def _name_of(self, key: bytes) -> str:
        return self._node.profile_of(key).name


async def _until_closed(ws: web.WebSocketResponse) -> None:
    """Read (and drop) what the client sends until it closes."""
    async for _ in ws:
        pass


async def _woken(subscription: Subscription, closed: asyncio.Task[None]) -> None:
    """Wait until something new is stored (or the client closes); drop what woke us."""
    if subscription.queue.empty():
        waiter = asyncio.create_task(subscription.queue.get())
        await asyncio.wait({waiter, closed}, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
    subscription.drain(subscription.queue.qsize())
    subscription.take_overflow()
