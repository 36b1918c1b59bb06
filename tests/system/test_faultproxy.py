"""The fault-injecting proxy itself, over loopback: it forwards, counts and breaks as planned."""

from __future__ import annotations

import asyncio
import contextlib
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from tests.support.faultproxy import CLEAN, FaultProxy, Faults, Plan, always, every, first
from tests.support.waiting import eventually

STREAM = bytes(range(256)) * 1024  # 256 KiB the target sends to each client
TIMEOUT = 10.0


@asynccontextmanager
async def target(
    handler: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]],
) -> AsyncIterator[int]:
    """A loopback server in the test's loop; yields its port."""
    writers: list[asyncio.StreamWriter] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        try:
            await handler(reader, writer)
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        for writer in writers:
            writer.transport.abort()
        await asyncio.wait_for(server.wait_closed(), TIMEOUT)


def finished(proxy: FaultProxy) -> bool:
    """Every connection of the proxy has ended: its counts are final."""
    return not any(stats.open for stats in proxy.stats())


async def send_stream(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(STREAM)
    await writer.drain()


async def fetch(port: int) -> tuple[bytes, bool]:
    """Everything the proxy delivers from the target; True if it ended with a reset."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    data, reset = bytearray(), False
    try:
        async with asyncio.timeout(TIMEOUT):
            while True:
                try:
                    chunk = await reader.read(65536)
                except ConnectionResetError:
                    reset = True
                    break
                if not chunk:
                    break
                data += chunk
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()  # raises the reset again
    return bytes(data), reset


async def test_a_clean_proxy_forwards_every_byte_and_counts_them() -> None:
    async with target(send_stream) as port:
        with FaultProxy(port, plan=always(Plan(down=Faults(split=300, delay=0.001)))) as proxy:
            data, reset = await fetch(proxy.port)
            await eventually(lambda: finished(proxy), "the proxy's counts")
            [stats] = proxy.stats()
    assert data == STREAM
    assert not reset
    assert stats.forwarded["down"] == stats.received["down"] == len(STREAM)
    assert stats.chunks["down"] > len(STREAM) // 300  # pieces of 1..300 bytes
    assert proxy.errors == []


async def test_byte_faults_hit_where_planned() -> None:
    flip = Faults(flip_at=100_000)
    async with target(send_stream) as port:
        with FaultProxy(port, plan=always(Plan(down=flip)), seed=7) as proxy:
            data, _ = await fetch(proxy.port)
    differing = [i for i, (a, b) in enumerate(zip(data, STREAM, strict=True)) if a != b]
    assert differing == [100_000]
    assert bin(data[100_000] ^ STREAM[100_000]).count("1") == 1

    for faults, longer in (
        (Faults(duplicate_at=5000, split=1000), True),
        (Faults(drop_at=5000), False),
    ):
        async with target(send_stream) as port:
            with FaultProxy(port, plan=always(Plan(down=faults))) as proxy:
                data, _ = await fetch(proxy.port)
                await eventually(lambda: finished(proxy), "the proxy's counts")
        assert (len(data) > len(STREAM)) is longer
        assert len(data) != len(STREAM)
        assert proxy.stats()[0].faults, faults

    async with target(send_stream) as port:
        with FaultProxy(port, plan=always(Plan(down=Faults(reorder_at=5000, split=1000)))) as proxy:
            data, _ = await fetch(proxy.port)
    assert sorted(data) == sorted(STREAM)
    assert data != STREAM


async def test_a_cut_delivers_exactly_the_planned_bytes_and_resets_the_sender() -> None:
    sender_saw: list[str] = []

    async def send_until_cut(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            for _ in range(8):
                writer.write(STREAM)
                await writer.drain()
            writer.write_eof()
            await reader.read()  # the client's end (clean), or the proxy's reset (cut)
            sender_saw.append("end")
        except ConnectionError as exc:
            sender_saw.append(type(exc).__name__)

    async with target(send_until_cut) as port:
        plan = every(2, Plan(down=Faults(cut_at=70_000)))  # the 2nd, 4th, ... connection
        with FaultProxy(port, plan=plan) as proxy:
            first_data, _ = await fetch(proxy.port)
            cut_data, reset = await fetch(proxy.port)
            await eventually(lambda: finished(proxy), "the proxy's counts")
            stats = proxy.stats()
    assert first_data == STREAM * 8  # connection 1: clean
    assert cut_data == STREAM[:70_000]  # connection 2: cut, the receiver gets a FIN
    assert not reset
    assert sender_saw == ["end", "ConnectionResetError"]
    assert [s.cut for s in stats] == [False, True]
    assert stats[1].ended_by == "proxy"
    assert proxy.cuts() == 1
    assert proxy.forwarded("down") == 8 * len(STREAM) + 70_000

    async with target(send_stream) as port:
        with FaultProxy(port, plan=always(Plan(down=Faults(cut_at=70_000, reset=True)))) as proxy:
            cut_data, reset = await fetch(proxy.port)
    assert reset  # what the receiver had not read yet may be lost
    assert STREAM.startswith(cut_data)
    assert len(cut_data) <= 70_000


def ws_frame(payload: bytes, opcode: int = 2) -> bytes:
    assert len(payload) < 65536
    return struct.pack("!BBH", 0x80 | opcode, 126, len(payload)) + payload


async def test_frame_faults_keep_websocket_framing_and_change_only_payloads() -> None:
    payloads = [bytes([i]) * 1000 for i in range(10)]
    stream = b"HTTP/1.1 101 Switching Protocols\r\n\r\n" + b"".join(map(ws_frame, payloads))

    async def send_frames(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(stream)
        await writer.drain()

    cases = {
        "flip": Faults(frames=True, flip_at=3000),
        "duplicate": Faults(frames=True, duplicate_at=3000),
        "reorder": Faults(frames=True, reorder_at=3000),
        "drop": Faults(frames=True, drop_at=3000),
    }
    seen: dict[str, list[bytes]] = {}
    async with target(send_frames) as port:
        with FaultProxy(port, plan=first([Plan(down=f) for f in cases.values()], CLEAN)) as proxy:
            for name in cases:
                reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
                await reader.readuntil(b"\r\n\r\n")
                frames = []
                while True:
                    try:
                        header = await asyncio.wait_for(reader.readexactly(4), 2)
                    except (asyncio.IncompleteReadError, TimeoutError):
                        break
                    frames.append(await reader.readexactly(struct.unpack("!H", header[2:])[0]))
                seen[name] = frames
                writer.close()
                await writer.wait_closed()
    # Frame 3 is the first to start at or after byte 3000 of the stream.
    assert [f == p for f, p in zip(seen["flip"], payloads, strict=True)].count(False) == 1
    assert seen["flip"][3] != payloads[3]
    assert seen["duplicate"] == [*payloads[:4], payloads[3], *payloads[4:]]
    assert seen["reorder"] == [*payloads[:3], payloads[4], payloads[3], *payloads[5:]]
    assert seen["drop"] == [*payloads[:3], *payloads[4:]]
