"""Peer links: WebSockets (aiohttp) carrying the Noise XX secure channel.

Rules of this file:
- A link exists only after the peer proved its identity key in the handshake.
- Every wait has a timeout; any protocol failure closes that one connection.
- The secure channel owns the handshake deadline: this module arms a timer for it
  (get_timer) and lets the channel fail itself when it falls (check_timeout).
- Frames are sent by one writer task per link, from two bounded queues (SendQueue):
  urgent ones (gossip, fresh pushes) ahead of bulk answers, with a share kept for bulk.
- The kernel keeps little unsent data (TCP_NOTSENT_LOWAT), so an urgent frame is not
  stuck behind megabytes of bulk already handed to the socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import struct
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping
from typing import Final

import aiohttp
from aiohttp import web

from peernode.net.config import LinkConfig
from peernode.net.sendqueue import SendQueue
from protocol.errors import ProtocolError
from protocol.handshake import (
    MAX_HANDSHAKE_MESSAGE,
    Established,
    HandshakeMessage,
    HandshakeTimeout,
    InfoValue,
    Payload,
    Role,
    SecureChannel,
)
from protocol.identity import SigningKey, fingerprint

log = logging.getLogger(__name__)

PATH: Final = "/peernode/1"
TAG_OVERHEAD: Final = 16
FLUSH_ON_CLOSE: Final = 0.5
"""Seconds a closing link keeps sending what is already queued."""


class LinkError(Exception):
    """A link could not be set up or broke; the reason is one line."""


class Link:
    """One authenticated, encrypted link to a peer whose key is proven."""

    def __init__(
        self,
        ws: web.WebSocketResponse | aiohttp.ClientWebSocketResponse,
        channel: SecureChannel,
        established: Established,
        *,
        outbound: bool,
        remote_host: str,
        config: LinkConfig,
    ) -> None:
        self._ws = ws
        _reset_on_close(ws)
        _limit_unsent(ws, config.unsent_bytes)
        self._transport = _transport_of(ws)
        self._channel = channel
        self.key: bytes = established.remote_identity
        self.info: Mapping[str, InfoValue] = established.remote_info
        self.outbound = outbound
        self.remote_host = remote_host
        self._queue = SendQueue(
            urgent_frames=config.send_queue_frames,
            bulk_bytes=config.bulk_queue_bytes,
            bulk_after_bytes=config.bulk_after_bytes,
        )
        self._ready = asyncio.Event()  # something was queued (or the link is closing)
        self._draining = False  # closing: the writer ends once the queues are empty
        self._room = asyncio.Event()  # the bulk queue has room
        self._room.set()
        self._writer: asyncio.Task[None] | None = None
        # What the kernel took since the last sending() sample: bytes handed to the
        # transport since, and what the transport held then (a peer that does not read
        # loses its slot, protocol/gossip/slots.py).
        self._written = 0
        self._buffered = 0
        self._closed = False
        self._write_failed = False
        self.close_reason = ""

    @property
    def listen_port(self) -> int | None:
        port = self.info.get("port")
        return port if isinstance(port, int) and not isinstance(port, bool) else None

    @property
    def peer_run(self) -> str:
        """The peer's run of networking it announced (empty if it did not): another run
        of the same key means the peer started again."""
        run = self.info.get("run")
        return run if isinstance(run, str) else ""

    @property
    def name(self) -> str:
        name = self.info.get("name")
        return name if isinstance(name, str) else ""

    def __repr__(self) -> str:
        way = "out" if self.outbound else "in"
        return f"Link({fingerprint(self.key)}, {way}, {self.remote_host})"

    @property
    def closed(self) -> bool:
        return self._closed

    def send_nowait(self, payload: bytes) -> bool:
        """Queue an urgent message; False when the urgent queue is full (the peer is too slow).

        On a closed link the message is dropped (True: the link is not slow, it is gone).
        """
        if self._closed or self._write_failed:
            return True
        if not self._queue.put_urgent(payload):
            return False
        self._ready.set()
        return True

    async def send(self, payload: bytes) -> bool:
        """Queue a bulk message, waiting while the bulk queue is full: backpressure for
        answers, which go after urgent messages. False (and dropped) once the link closed."""
        while not (self._closed or self._write_failed) and not self._queue.bulk_room():
            self._room.clear()
            await self._room.wait()
        if self._closed or self._write_failed:
            return False
        self._queue.put_bulk(payload)
        self._ready.set()
        return True

    @property
    def bulk_waiting(self) -> int:
        """Bytes of bulk messages queued and not yet handed to the writer."""
        return self._queue.bulk_bytes

    def sending(self) -> tuple[bool, int]:
        """A sample of the outgoing side: whether bytes wait to go out (in our queues or
        the transport's buffer), and how many the kernel took since the last sample."""
        buffered = self._transport.get_write_buffer_size() if self._transport is not None else 0
        taken = max(0, self._buffered + self._written - buffered)
        self._buffered, self._written = buffered, 0
        return bool(buffered or len(self._queue)), taken

    async def run(self, on_payload: Callable[[bytes], None]) -> None:
        """Read until the link closes; `on_payload` gets each decrypted message."""
        self._writer = asyncio.create_task(self._write_loop(), name=f"write {self!r}")
        try:
            async for message in self._ws:
                if self._closed:
                    # Closing: skip what is still buffered, quickly. ws.close() waits for this
                    # loop to reach its close marker, and if our close times out first,
                    # aiohttp leaves the socket open.
                    continue
                if message.type is aiohttp.WSMsgType.ERROR:  # too big, no pong, bad framing
                    error = self._ws.exception()
                    why = _reason(error) if error is not None else "unknown"
                    self.close_reason = self.close_reason or f"link error: {why}"
                    break
                if message.type is not aiohttp.WSMsgType.BINARY:
                    self.close_reason = self.close_reason or "peer sent a non-binary frame"
                    break
                try:
                    events = self._channel.receive(message.data)
                except ProtocolError as exc:
                    self.close_reason = f"bad frame: {exc}"
                    break
                for event in events:
                    if isinstance(event, Payload):
                        on_payload(event.data)
                # Buffered messages come without a pause: let the loop run between them.
                await asyncio.sleep(0)
        except ConnectionError as exc:  # e.g. aiohttp answering a ping as the peer hangs up
            self.close_reason = self.close_reason or f"connection lost: {_reason(exc)}"
        finally:
            await self.close(self.close_reason or "closed by peer")

    async def close(self, reason: str) -> None:
        self.close_reason = self.close_reason or reason
        self._closed = True
        self._room.set()  # bulk senders waiting for room give up
        writer = self._writer
        if writer is not None and writer is not asyncio.current_task() and not writer.done():
            # What is queued (a Disconnect, the addresses of a refusal) goes out first,
            # for a short while: a peer that stopped reading does not hold the close up.
            self._draining = True
            self._ready.set()
            try:
                await asyncio.wait({writer}, timeout=FLUSH_ON_CLOSE)
            finally:
                writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
        self._channel.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._ws.close(), 2.0)
        transport = self._transport
        if transport is not None and transport.get_write_buffer_size():
            # aiohttp closed the transport, which waits to send what it holds: forever,
            # for a peer that stopped reading (the kernel takes little, see _limit_unsent).
            transport.abort()

    async def _write_loop(self) -> None:
        try:
            while True:
                payload = self._queue.pop()
                if payload is None:
                    if self._draining:
                        return
                    self._ready.clear()
                    await self._ready.wait()
                    continue
                if self._queue.bulk_room():
                    self._room.set()
                data = self._channel.send(payload)
                self._written += len(data)
                await self._ws.send_bytes(data)
        except (ConnectionError, ProtocolError, RuntimeError) as exc:
            log.debug("%r: write failed: %s", self, exc)
            self.close_reason = self.close_reason or f"write failed: {exc}"
            # Not `_closed`: what the peer sent before the connection went (a Disconnect
            # and the addresses of a refusal, often) is still read and handled.
            self._write_failed = True
            self._room.set()
            await self._ws.close()


async def _handshake(
    ws: web.WebSocketResponse | aiohttp.ClientWebSocketResponse,
    channel: SecureChannel,
) -> Established:
    """Run the three handshake messages by the channel's deadline; past it, the channel
    fails and HandshakeTimeout is raised."""
    deadline = channel.get_timer()
    assert deadline is not None, "a channel that is not established has a deadline"
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout_at(deadline):
            return await _exchange(ws, channel)
    except TimeoutError:
        # The timer fired for this deadline: max() keeps the clock's granularity from
        # making it look early (as aioquic does for its timers).
        channel.check_timeout(max(deadline, loop.time()))
        raise  # only if the handshake finished as the timer fired


async def _exchange(
    ws: web.WebSocketResponse | aiohttp.ClientWebSocketResponse,
    channel: SecureChannel,
) -> Established:
    if channel.role is Role.INITIATOR:
        await ws.send_bytes(channel.start())
    while True:
        message = await ws.receive()
        if message.type is not aiohttp.WSMsgType.BINARY:
            raise LinkError("the peer closed or sent a non-binary frame during the handshake")
        if len(message.data) > MAX_HANDSHAKE_MESSAGE:
            raise LinkError("oversized handshake message")
        established: Established | None = None
        for event in channel.receive(message.data):
            if isinstance(event, HandshakeMessage):
                await ws.send_bytes(event.data)
            elif isinstance(event, Established):
                established = event
        if established is not None:
            return established


LinkHandler = Callable[[Link], Awaitable[None]]


class LinkFactory:
    """Dials and accepts links for one identity; hands each established one to `on_link`."""

    def __init__(
        self,
        identity: SigningKey,
        *,
        config: LinkConfig,
        info: Callable[[], Mapping[str, InfoValue]],
        on_link: LinkHandler,
        path: str = PATH,
    ) -> None:
        """path: the URL path links are made on (the bulk path has its own)."""
        self._path = path
        self._identity = identity
        self._config = config
        self._info = info
        self._on_link = on_link
        self._handshaking: defaultdict[str, int] = defaultdict(int)
        self._pending: set[web.WebSocketResponse] = set()  # inbound, still handshaking
        self._closing = False
        self._session: aiohttp.ClientSession | None = None

    def _channel(self, role: Role, expected: bytes | None) -> SecureChannel:
        return SecureChannel(
            role,
            self._identity,
            self._config.network_id,
            now=asyncio.get_running_loop().time(),
            expected_identity=expected,
            info=self._info(),
            handshake_timeout=self._config.handshake_timeout,
            max_frame_bytes=self._config.max_frame_bytes,
        )

    def _ws_limit(self) -> int:
        # + 1: aiohttp refuses a message of exactly max_msg_size, and a full frame is one.
        return max(self._config.max_frame_bytes + TAG_OVERHEAD, MAX_HANDSHAKE_MESSAGE) + 1

    async def stop_accepting(self) -> None:
        """Refuse new inbound links and abort the handshakes under way."""
        self._closing = True
        await asyncio.gather(*(ws.close() for ws in list(self._pending)), return_exceptions=True)

    async def close(self) -> None:
        await self.stop_accepting()
        if self._session is not None:
            await self._session.close()
            self._session = None

    # -- inbound ------------------------------------------------------------------

    def routes(self) -> list[web.RouteDef]:
        return [web.get(self._path, self._accept)]

    async def _accept(self, request: web.Request) -> web.StreamResponse:
        host = request.remote or "?"
        if self._closing:
            raise web.HTTPServiceUnavailable(text="this node is shutting down")
        if self._handshaking[host] >= self._config.max_handshakes_per_host:
            raise web.HTTPTooManyRequests(text="too many handshakes from this address")
        ws = web.WebSocketResponse(
            compress=False,
            max_msg_size=self._ws_limit(),
            heartbeat=self._config.heartbeat,
            autoping=True,
        )
        try:
            await ws.prepare(request)
        except ConnectionError:  # the dialler gave up before we answered (we were asleep)
            log.debug("inbound connection from %s closed before the upgrade", host)
            return web.Response()  # aiohttp's own attempt to send it fails quietly
        self._handshaking[host] += 1
        self._pending.add(ws)
        try:
            channel = self._channel(Role.RESPONDER, None)
            established = await _handshake(ws, channel)
        except (ProtocolError, LinkError, TimeoutError, ConnectionError) as exc:
            log.info("inbound handshake from %s failed: %s", host, _reason(exc))
            await ws.close()
            return ws
        except asyncio.CancelledError:
            await _abort(ws)
            raise
        finally:
            self._pending.discard(ws)
            self._handshaking[host] -= 1
            if not self._handshaking[host]:
                del self._handshaking[host]
        link = Link(ws, channel, established, outbound=False, remote_host=host, config=self._config)
        await self._on_link(link)
        return ws

    # -- outbound -----------------------------------------------------------------

    async def dial(self, host: str, port: int, *, expected: bytes | None = None) -> Link:
        """Connect and complete the handshake, or raise LinkError with a reason."""
        if self._closing:
            raise LinkError(f"not dialing {host}:{port}: this node is shutting down")
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=self._config.connect_timeout)
            )
        url = f"http://{_bracket(host)}:{port}{self._path}"
        try:
            async with asyncio.timeout(self._config.connect_timeout):
                ws = await self._session.ws_connect(
                    url,
                    compress=0,
                    max_msg_size=self._ws_limit(),
                    heartbeat=self._config.heartbeat,
                    autoping=True,
                )
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise LinkError(_unreachable(host, port, exc)) from exc
        try:
            channel = self._channel(Role.INITIATOR, expected)
            established = await _handshake(ws, channel)
        except (ProtocolError, LinkError, TimeoutError, ConnectionError) as exc:
            await ws.close()
            raise LinkError(
                f"{host}:{port} answered but the greeting failed ({_reason(exc)}); check that"
                " it is a peernode of the same version"
            ) from exc
        except asyncio.CancelledError:  # the node is stopping: leave no connection open
            await _abort(ws)
            raise
        if self._closing:  # stopped while we shook hands
            await _abort(ws)
            raise LinkError(f"not linking to {host}:{port}: this node is shutting down")
        return Link(ws, channel, established, outbound=True, remote_host=host, config=self._config)


def _reset_on_close(ws: web.WebSocketResponse | aiohttp.ClientWebSocketResponse) -> None:
    """Make closing the socket reset the connection (linger 0) instead of leaving the kernel
    to deliver what is unsent. A link closes once the close handshake completed (the peer
    read everything before our close frame, so nothing is lost) or after it failed: the
    peer stopped reading, or its heartbeat did. Then aiohttp closes the transport, and an
    orphaned socket would keep megabytes of queued data for minutes."""
    sock = ws.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def _transport_of(
    ws: web.WebSocketResponse | aiohttp.ClientWebSocketResponse,
) -> asyncio.WriteTransport | None:
    """The connection's transport, which aiohttp does not expose (None if it changed)."""
    if isinstance(ws, web.WebSocketResponse):
        transport = getattr(getattr(ws, "_writer", None), "transport", None)
    else:
        connection = getattr(getattr(ws, "_response", None), "connection", None)
        transport = getattr(connection, "transport", None)
    return transport if isinstance(transport, asyncio.WriteTransport) else None


def _limit_unsent(ws: web.WebSocketResponse | aiohttp.ClientWebSocketResponse, limit: int) -> None:
    """Keep at most about `limit` unsent bytes in the kernel (0: the kernel's default).

    Without it the kernel takes megabytes of bulk frames on a slow link, and an urgent
    frame written after them waits seconds; with it the frames wait in our queues, where
    urgent ones go first."""
    sock = ws.get_extra_info("socket")
    lowat = getattr(socket, "TCP_NOTSENT_LOWAT", None)
    if sock is not None and limit > 0 and lowat is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, lowat, limit)


async def _abort(ws: web.WebSocketResponse | aiohttp.ClientWebSocketResponse) -> None:
    """Close a connection that never became a link, without waiting long for the peer."""
    with contextlib.suppress(Exception):
        await asyncio.wait_for(ws.close(), 1.0)


def _bracket(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


_CHECK: Final = "check the address and that peernode runs on that laptop"


def _unreachable(host: str, port: int, exc: BaseException) -> str:
    """One plain sentence for a dial that found nobody (aiohttp's wording stays in the log)."""
    log.debug("dialing %s:%d failed: %r", host, port, exc)
    where = f"could not reach {_bracket(host)}:{port}"
    if isinstance(exc, aiohttp.ClientConnectorDNSError | socket.gaierror):
        return f"{where}: no computer has that name here; {_CHECK}"
    if isinstance(exc, TimeoutError | aiohttp.ServerTimeoutError):
        return f"{where}: no answer in time; {_CHECK}"
    if isinstance(exc, aiohttp.WSServerHandshakeError):
        return f"{where}: something answered there but it is not a peernode; {_CHECK}"
    return f"{where}: nothing answered there; {_CHECK}"


def _reason(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError | HandshakeTimeout):
        return "timed out"
    return str(exc) or type(exc).__name__
