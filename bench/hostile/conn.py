"""The attacker's links: real Noise handshakes with fresh keys, both ways.

Outbound links reuse the hand-written client of the hostile-frames tests
(tests/support/hostile.py), which can bind a source address and shrink its receive
buffer; inbound links (the victim dialling an address the attacker announced) are served
by aiohttp like the node's own listener. Both count the bytes they move, so an attack can
report what it made the victim send per byte it sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import WSMsgType, web

from peernode.net.link import PATH
from protocol import wire
from protocol.handshake import Established, HandshakeMessage, Payload, Role, SecureChannel
from protocol.identity import SigningKey
from tests.support.hostile import NETWORK_ID, Closed, HostilePeer

Handler = Callable[["Conn", wire.Message], Awaitable[None]]


@dataclass(slots=True)
class Traffic:
    """Bytes on the attacker's links, all together (frames as sent and received)."""

    sent: int = 0
    received: int = 0
    links: int = 0
    refused: int = 0
    closed: dict[str, int] = field(default_factory=dict)

    def close(self, why: str) -> None:
        self.closed[why] = self.closed.get(why, 0) + 1


class Conn:
    """One established link; `send` a message, `run` to read until it closes."""

    def __init__(
        self,
        traffic: Traffic,
        channel: SecureChannel,
        write: Callable[[bytes], Awaitable[None]],
        read: Callable[[], Awaitable[bytes | None]],
        close: Callable[[], Awaitable[object]],
    ) -> None:
        self.traffic = traffic
        self.channel = channel
        self._write = write
        self._read = read
        self._close = close
        self.open = True

    async def close(self) -> None:
        """Say goodbye (Disconnect) and close the connection."""
        if self.open:
            with contextlib.suppress(ConnectionError, OSError, TimeoutError):
                await asyncio.wait_for(self.send(wire.Disconnect()), 1)
        self.open = False
        with contextlib.suppress(ConnectionError, OSError, TimeoutError):
            await asyncio.wait_for(self._close(), 1)

    async def send(self, msg: wire.Message) -> None:
        await self.send_plain(wire.encode(msg))

    async def send_plain(self, plaintext: bytes) -> None:
        """One encoded message (an Events frame built by wire.events_frames, say)."""
        frame = self.channel.send(plaintext)
        self.traffic.sent += len(frame)
        await self._write(frame)

    async def receive(self) -> wire.Message | None:
        """The next message (pings answered on the way); None once the link is closed."""
        while self.open:
            data = await self._read()
            if data is None:
                self.open = False
                return None
            self.traffic.received += len(data)
            for event in self.channel.receive(data):
                if not isinstance(event, Payload):
                    continue
                msg = wire.decode(event.data)
                if isinstance(msg, wire.Ping):
                    await self.send(wire.Pong(msg.nonce))
                    continue
                return msg
        return None

    async def run(self, handler: Handler | None = None) -> None:
        """Read (and hand every message to `handler`) until the victim closes the link."""
        with contextlib.suppress(ConnectionError, OSError):
            while (msg := await self.receive()) is not None:
                if handler is not None:
                    await handler(self, msg)
        self.open = False


async def dial(
    traffic: Traffic,
    host: str,
    port: int,
    *,
    source: str,
    key: SigningKey | None = None,
    receive_buffer: int | None = None,
    within: float = 10.0,
) -> Conn | None:
    """Link to the victim with a fresh key (or `key`) and wait until it is accepted;
    None if the victim refused or dropped the link."""
    try:
        async with asyncio.timeout(within):
            peer = await HostilePeer.link(
                port, host=host, source=source, identity=key, receive_buffer=receive_buffer
            )
    except (TimeoutError, Closed, ConnectionError, OSError, AssertionError):
        traffic.refused += 1
        return None

    async def read() -> bytes | None:
        try:
            return (await peer.ws.receive()).payload
        except Closed:
            return None

    conn = Conn(traffic, peer.channel, peer.ws.send_binary, read, peer.ws.close)
    try:
        async with asyncio.timeout(within):
            while True:
                msg = await conn.receive()
                if msg is None or msg == wire.NeighborReply(False):
                    raise ConnectionError("refused")
                if msg == wire.NeighborReply(True):
                    break
    except (TimeoutError, ConnectionError, OSError):
        traffic.refused += 1
        await peer.ws.close()
        return None
    traffic.links += 1
    return conn


@dataclass(frozen=True, slots=True)
class Listener:
    """Where one announced identity accepts the victim's dials."""

    key: SigningKey
    host: str
    port: int

    @property
    def address(self) -> wire.PeerAddress:
        return wire.PeerAddress(self.key.public_key, self.host, self.port)


async def serve(
    traffic: Traffic, listener: Listener, on_link: Callable[[Conn], Awaitable[None]]
) -> web.AppRunner:
    """Accept links at `listener` as the Noise responder; `on_link` runs each one."""

    async def handle(request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=1 << 17, compress=False, autoping=True)
        await ws.prepare(request)
        channel = SecureChannel(
            Role.RESPONDER,
            listener.key,
            NETWORK_ID,
            now=time.monotonic(),
            info={"name": "mallory", "port": listener.port},
        )

        async def read() -> bytes | None:
            msg = await ws.receive()
            return msg.data if msg.type is WSMsgType.BINARY else None

        if await _accept(channel, ws, read):
            traffic.links += 1
            await on_link(Conn(traffic, channel, ws.send_bytes, read, ws.close))
        await ws.close()
        return ws

    app = web.Application()
    app.router.add_get(PATH, handle)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    await web.TCPSite(runner, listener.host, listener.port).start()
    return runner


async def _accept(
    channel: SecureChannel,
    ws: web.WebSocketResponse,
    read: Callable[[], Awaitable[bytes | None]],
) -> bool:
    """Run the responder's side of the handshake; True once established."""
    with contextlib.suppress(TimeoutError, ConnectionError):
        async with asyncio.timeout(10):
            while (data := await read()) is not None:
                for event in channel.receive(data):
                    if isinstance(event, HandshakeMessage):
                        await ws.send_bytes(event.data)
                    elif isinstance(event, Established):
                        return True
    return False
