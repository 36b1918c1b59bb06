"""A hand-written WebSocket client that completes a real Noise handshake, then misbehaves.

aiohttp's client will not send a frame over the size limit, a frame with RSV1 set or a
length it does not have; this one writes every frame byte by byte, so a test (or
bench/bombs.py) can send exactly the hostile frame it means to.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import socket
import struct
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from peernode.net.link import PATH
from protocol import codec, wire
from protocol.event import SIGNING_CONTEXT, create_event, event_id
from protocol.handshake import (
    DEFAULT_MAX_FRAME_BYTES,
    Established,
    HandshakeMessage,
    Payload,
    Role,
    SecureChannel,
)
from protocol.identity import SigningKey

NETWORK_ID = b"peernode-lan"  # LinkConfig.network_id
OP_CONTINUATION, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x2, 0x8, 0x9, 0xA


class Closed(Exception):
    """The node closed the connection (close frame, end of stream or reset)."""

    def __init__(self, code: int | None) -> None:
        super().__init__(f"closed by the node (code {code})")
        self.code = code


@dataclass(frozen=True, slots=True)
class Frame:
    opcode: int
    payload: bytes


def frame(
    opcode: int,
    payload: bytes,
    *,
    fin: bool = True,
    rsv1: bool = False,
    declared: int | None = None,
) -> bytes:
    """One masked client frame; `declared` overrides the length field (sent as is)."""
    length = len(payload) if declared is None else declared
    head = bytes([(0x80 if fin else 0) | (0x40 if rsv1 else 0) | opcode])
    if length < 126:
        head += bytes([0x80 | length])
    elif length < 1 << 16:
        head += bytes([0x80 | 126]) + struct.pack("!H", length)
    else:
        head += bytes([0x80 | 127]) + struct.pack("!Q", length)
    mask = os.urandom(4)
    size = len(payload)
    key = (mask * (size // 4 + 1))[:size]
    body = (int.from_bytes(payload, "big") ^ int.from_bytes(key, "big")).to_bytes(size, "big")
    return head + mask + body


class RawWebSocket:
    """One client WebSocket on a raw TCP stream: upgrade by hand, frames by hand."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, extensions: str
    ) -> None:
        self._reader = reader
        self._writer = writer
        self.extensions = extensions  # what the node accepted in Sec-WebSocket-Extensions

    @classmethod
    async def connect(
        cls,
        port: int,
        *,
        host: str = "127.0.0.1",
        source: str | None = None,
        offer: str | None = None,
        receive_buffer: int | None = None,
    ) -> RawWebSocket:
        """Upgrade to a WebSocket on host:port, from address `source` if given; `offer`: a
        Sec-WebSocket-Extensions; `receive_buffer`: the socket's SO_RCVBUF, set before
        connecting (a small one makes a peer that stops reading fill the node's send
        buffers quickly)."""
        if receive_buffer is None and source is None:
            reader, writer = await asyncio.open_connection(host, port)
        else:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                if receive_buffer is not None:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
                if source is not None:
                    sock.bind((source, 0))
                sock.setblocking(False)
                await asyncio.get_running_loop().sock_connect(sock, (host, port))
                reader, writer = await asyncio.open_connection(sock=sock)
            except BaseException:
                sock.close()
                raise
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [
            f"GET {PATH} HTTP/1.1",
            f"Host: {host}:{port}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key}",
            "Sec-WebSocket-Version: 13",
            *([f"Sec-WebSocket-Extensions: {offer}"] if offer else []),
        ]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        status, *header_lines = head.split("\r\n")
        if " 101 " not in status:
            writer.close()
            raise ConnectionError(f"no upgrade: {status}")
        headers = {
            name.strip().lower(): value.strip()
            for name, _, value in (line.partition(":") for line in header_lines if line)
        }
        return cls(reader, writer, headers.get("sec-websocket-extensions", ""))

    async def send_raw(self, data: bytes) -> None:
        self._writer.write(data)
        await self._writer.drain()

    async def send_binary(self, payload: bytes) -> None:
        await self.send_raw(frame(OP_BINARY, payload))

    async def receive(self) -> Frame:
        """The next data frame; answers pings; raises Closed when the node closes."""
        while True:
            try:
                first, second = await self._reader.readexactly(2)
                length = second & 0x7F
                if length == 126:
                    (length,) = struct.unpack("!H", await self._reader.readexactly(2))
                elif length == 127:
                    (length,) = struct.unpack("!Q", await self._reader.readexactly(8))
                payload = await self._reader.readexactly(length)
            except (asyncio.IncompleteReadError, ConnectionError):
                raise Closed(None) from None
            opcode = first & 0x0F
            if opcode == OP_CLOSE:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                with contextlib.suppress(ConnectionError):
                    await self.send_raw(frame(OP_CLOSE, payload[:2]))
                raise Closed(code)
            if opcode == OP_PING:
                await self.send_raw(frame(OP_PONG, payload))
                continue
            return Frame(opcode, payload)

    async def until_closed(self, within: float) -> tuple[float, int | None]:
        """Drain frames until the node closes; (seconds it took, close code). Raises
        TimeoutError if the connection is still open after `within` seconds."""
        start = time.monotonic()
        async with asyncio.timeout(within):
            while True:
                try:
                    await self.receive()
                except Closed as closed:
                    return time.monotonic() - start, closed.code

    @property
    def local_port(self) -> int:
        return int(self._writer.get_extra_info("sockname")[1])

    async def close(self) -> None:
        self._writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await self._writer.wait_closed()


class HostilePeer:
    """A peer with its own identity, linked to a node over a RawWebSocket."""

    def __init__(self, ws: RawWebSocket, channel: SecureChannel, node_key: bytes) -> None:
        self.ws = ws
        self.channel = channel
        self.node_key = node_key

    @classmethod
    async def link(
        cls,
        port: int,
        *,
        host: str = "127.0.0.1",
        source: str | None = None,
        identity: SigningKey | None = None,
        offer: str | None = None,
        receive_buffer: int | None = None,
    ) -> HostilePeer:
        """Upgrade, run the Noise XX handshake as initiator and ask to be a neighbour, so the
        node's gossip engine takes what comes next as from an accepted peer."""
        ws = await RawWebSocket.connect(
            port, host=host, source=source, offer=offer, receive_buffer=receive_buffer
        )
        channel = SecureChannel(
            Role.INITIATOR,
            identity or SigningKey.generate(),
            NETWORK_ID,
            now=time.monotonic(),
            info={"name": "mallory"},  # no port: the node has nowhere to dial us back
        )
        try:
            await ws.send_binary(channel.start())
            established: Established | None = None
            for event in channel.receive((await ws.receive()).payload):
                if isinstance(event, HandshakeMessage):
                    await ws.send_binary(event.data)
                elif isinstance(event, Established):
                    established = event
            assert established is not None, "the handshake did not finish"
            peer = cls(ws, channel, established.remote_identity)
            await peer.send(wire.encode(wire.Neighbor(high_priority=True)))
        except BaseException:
            await ws.close()
            raise
        return peer

    async def send(self, plaintext: bytes) -> None:
        """One encrypted frame of `plaintext` (at most the channel's frame limit)."""
        await self.ws.send_binary(self.channel.send(plaintext))

    async def event_ids(self) -> AsyncIterator[list[bytes]]:
        """The ids of each Events message the node sends, in order, repeats included."""
        while True:
            for event in self.channel.receive((await self.ws.receive()).payload):
                if isinstance(event, Payload):
                    message = wire.decode(event.data)
                    if isinstance(message, wire.Events):
                        yield [event_id(raw) for raw in message.raws]

    async def until_accepted(self, within: float) -> None:
        """Read until the node's NeighborReply(True)."""
        async with asyncio.timeout(within):
            while True:
                (event,) = self.channel.receive((await self.ws.receive()).payload)
                data = getattr(event, "data", b"")
                if wire.decode(data) == wire.NeighborReply(True):
                    return


# --- the hostile frames, each on a fresh link with a fresh identity --------------------------

CLOSE_WITHIN = 10.0
"""Generous: the node closes these links in milliseconds."""
TOO_BIG, PROTOCOL_ERROR = 1009, 1002  # WebSocket close codes
FRAME_LIMIT = DEFAULT_MAX_FRAME_BYTES  # plaintext bytes of one encrypted frame (65,519)


@dataclass(frozen=True, slots=True)
class Outcome:
    seconds: float  # from the hostile frame sent to the node closing the link
    code: int | None  # the node's close code; None if it reset the connection


async def _sent_then_closed(peer: HostilePeer, data: bytes) -> Outcome:
    start = time.monotonic()
    try:
        with contextlib.suppress(ConnectionError):  # the node may hang up while we write
            await peer.ws.send_raw(data)
        _, code = await peer.ws.until_closed(CLOSE_WITHIN)
    finally:
        await peer.ws.close()
    return Outcome(time.monotonic() - start, code)


async def _linked(port: int, offer: str | None = None) -> HostilePeer:
    peer = await HostilePeer.link(port, offer=offer)
    try:
        await peer.until_accepted(CLOSE_WITHIN)
    except BaseException:
        await peer.ws.close()
        raise
    return peer


async def oversized_frame(port: int) -> Outcome:
    """One binary frame of 1 MiB, 16 times the limit (bytes that are no ciphertext)."""
    peer = await _linked(port)
    return await _sent_then_closed(peer, frame(OP_BINARY, os.urandom(1 << 20)))


async def huge_declared_frame(port: int) -> Outcome:
    """A frame header declaring 2**62 bytes, followed by ten."""
    peer = await _linked(port)
    return await _sent_then_closed(peer, frame(OP_BINARY, b"x" * 10, declared=1 << 62))


async def fragments_over_limit(port: int) -> Outcome:
    """Fragments of 16 KiB each, never final: over the limit at the fifth."""
    peer = await _linked(port)
    parts = [frame(OP_BINARY, os.urandom(1 << 14), fin=False)]
    parts += [frame(OP_CONTINUATION, os.urandom(1 << 14), fin=False) for _ in range(7)]
    return await _sent_then_closed(peer, b"".join(parts))


async def deflate_bomb(port: int) -> Outcome:
    """Offer permessage-deflate (refused), then send a frame with RSV1 set anyway carrying
    64 MiB of zeros deflated to ~64 KiB; inflating it is the attack."""
    peer = await _linked(port, offer="permessage-deflate; client_max_window_bits")
    assert peer.ws.extensions == "", f"the node accepted {peer.ws.extensions!r}"
    squeeze = zlib.compressobj(9, zlib.DEFLATED, -15)
    bomb = squeeze.compress(bytes(1 << 26)) + squeeze.flush(zlib.Z_SYNC_FLUSH)
    return await _sent_then_closed(peer, frame(OP_BINARY, bomb[:-4], rsv1=True))


def _encrypted(plaintext: bytes) -> Callable[[int], Awaitable[Outcome]]:
    async def send(port: int) -> Outcome:
        peer = await _linked(port)
        return await _sent_then_closed(peer, frame(OP_BINARY, peer.channel.send(plaintext)))

    return send


def _bad_events(make: Callable[[SigningKey, int], bytes], count: int = 12) -> bytes:
    """An Events message of `count` events that fail verification (more than MAX_REJECTED)."""
    key = SigningKey.generate()
    return wire.encode(wire.Events([make(key, i) for i in range(count)]))


def _signed(key: SigningKey, fields: list[Any]) -> bytes:
    """Content signed like an event, whatever the content: only its schema is wrong."""
    content = codec.pack(fields)
    return key.sign(SIGNING_CONTEXT + content) + content


def _wrong_body(key: SigningKey, i: int) -> bytes:
    now = int(time.time() * 1000) + i
    return _signed(key, [1, key.public_key, now, "peernode/note@1", "lobby", {}, {"text": i}])


def _wrong_envelope(key: SigningKey, i: int) -> bytes:
    return _signed(key, [1, key.public_key, "yesterday", i, None, [], "body"])


EVENTS = bytes([0x92, wire.MessageType.EVENTS])  # [EVENTS, ...]: a two-element array
U32 = b"\xff\xff\xff\xff"

ENCRYPTED_BOMBS: dict[str, bytes] = {
    # Declared lengths far beyond the data (4 GiB, 4 billion elements).
    "array32 of 2**32-1 elements": b"\xdd" + U32,
    "Events of 2**32-1 raws": EVENTS + b"\xdd" + U32,
    "bin32 of 4 GiB": EVENTS + b"\x91\xc6" + U32 + b"x" * 1000,
    "str32 of 4 GiB": EVENTS + b"\x91\xdb" + U32 + b"x" * 1000,
    "map32 of 2**32-1 pairs": b"\xdf" + U32,
    # The deepest nesting one frame holds; 100k levels do not fit one (oversized, below).
    "65,000-deep nesting": b"\x91" * 65_000 + b"\xc0",
    # 3 KB of arrays declaring 4,096 elements each, 1,000 levels deep: msgpack alone would
    # allocate every level's slots (31 MiB) before noticing the data is missing.
    "1,000 levels of 4096-element arrays": b"\xdc\x10\x00" * 1000,
    # 65,000 empty arrays: each a Python list if decoded.
    "65,000 empty arrays": EVENTS + b"\xdd" + struct.pack("!I", 65_000) + b"\x90" * 65_000,
    # Well-formed msgpack, wrong schema.
    "Events of integers": EVENTS + b"\x93\x01\x02\x03",
    "Events of a 10-byte raw": EVENTS + b"\x91\xc4\x0a" + b"x" * 10,
    "unknown message type 99": b"\x91\x63",
    "a map, not an array": b"\x81\xa1a\x01",
    "Events of signed events with a wrong body": _bad_events(_wrong_body),
    "Events of signed events with a wrong envelope": _bad_events(_wrong_envelope),
    "Events of random bytes": _bad_events(lambda key, i: os.urandom(200)),
}


async def deep_nesting_100k(port: int) -> Outcome:
    """100,000 levels of nesting: more than one frame may carry, so it goes as one
    oversized frame (it cannot be encrypted as one Noise message)."""
    peer = await _linked(port)
    return await _sent_then_closed(peer, frame(OP_BINARY, b"\x91" * 100_000 + b"\xc0"))


Attack = Callable[[int], Awaitable[Outcome]]

ATTACKS: dict[str, tuple[Attack, frozenset[int | None]]] = {
    # name: (attack, the close codes it may get)
    "oversized frame (1 MiB)": (oversized_frame, frozenset({TOO_BIG, None})),
    "frame declaring 2**62 bytes": (huge_declared_frame, frozenset({TOO_BIG})),
    "fragments over the limit": (fragments_over_limit, frozenset({TOO_BIG})),
    "RSV1 deflate bomb": (deflate_bomb, frozenset({PROTOCOL_ERROR})),
    "100,000-deep nesting": (deep_nesting_100k, frozenset({TOO_BIG, None})),
    **{name: (_encrypted(data), frozenset({1000})) for name, data in ENCRYPTED_BOMBS.items()},
}


def note_text_for(raw_bytes: int, created_at: int) -> str:
    """A note text making a note event of exactly `raw_bytes` encoded (256..32 KiB of text),
    for any author key, in circle "lobby" and created at `created_at`."""
    probe = create_event(
        SigningKey.generate(),
        kind="peernode/note@1",
        circle="lobby",
        body={"text": "x" * 1000},
        created_at=created_at,
    )
    return "x" * (raw_bytes - (len(probe.raw) - 1000))


def events_filling(key: SigningKey, frame_bytes: int) -> list[bytes]:
    """Two valid notes by `key` whose Events message is exactly `frame_bytes` long."""
    # [EVENTS, [bin16, bin16]]: 2 bytes, a fixarray header, and 3 header bytes per raw.
    room = frame_bytes - 3 - 2 * 3
    now = int(time.time() * 1000)
    raws = [
        create_event(
            key,
            kind="peernode/note@1",
            circle="lobby",
            body={"text": note_text_for(size, now + i)[:-1] + str(i)},
            created_at=now + i,
        ).raw
        for i, size in enumerate((room // 2, room - room // 2))
    ]
    assert len(wire.encode(wire.Events(raws))) == frame_bytes
    return raws


def memory(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak) of a process, in KiB (test and bench/bombs.py)."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            found[name] = int(value.split()[0])
    return found
