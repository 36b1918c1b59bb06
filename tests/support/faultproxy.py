"""A seeded, fault-injecting TCP proxy on loopback, on its own thread, for network tests."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import random
import socket
import struct
import threading
from dataclasses import dataclass, field
from typing import Final, Literal

from tests.support.faultplan import (
    CLEAN,
    OP_CLOSE,
    Chunker,
    Faults,
    Injector,
    Plan,
    PlanFor,
    always,
    every,
    first,
)

__all__ = [
    "CLEAN",
    "ConnectionStats",
    "FaultProxy",
    "Faults",
    "Plan",
    "PlanFor",
    "always",
    "every",
    "first",
]

Direction = Literal["up", "down"]
"""up: client → target; down: target → client."""

READ_SIZE: Final = 65536
QUEUE_CHUNKS: Final = 256
HOLD_TIMEOUT: Final = 0.5
"""A chunk held back for reordering goes out alone when nothing follows it this long."""
FLUSH_TIMEOUT: Final = 1.0
CONNECT_TIMEOUT: Final = 5.0
THREAD_TIMEOUT: Final = 10.0
_LINGER_0: Final = struct.pack("ii", 1, 0)


@dataclass(slots=True)
class ConnectionStats:
    """What happened to one connection (a copy, from FaultProxy.stats())."""

    number: int
    plan: Plan
    received: dict[str, int] = field(default_factory=lambda: {"up": 0, "down": 0})
    forwarded: dict[str, int] = field(default_factory=lambda: {"up": 0, "down": 0})
    chunks: dict[str, int] = field(default_factory=lambda: {"up": 0, "down": 0})
    faults: list[str] = field(default_factory=list)
    cut: bool = False
    ended_by: str = ""  # "client", "target", "proxy" (a cut or the proxy closing)
    close_frame_from: str = ""  # frames mode: who sent the first WebSocket close frame
    opcodes: dict[str, list[int]] = field(default_factory=lambda: {"up": [], "down": []})
    open: bool = True


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with an RST (linger 0), as a middlebox cutting a connection would."""
    sock = writer.get_extra_info("socket")
    if sock is not None and not writer.transport.is_closing():
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_0)
    writer.transport.abort()


class _Connection:
    """One client connection and its two pipes."""

    def __init__(
        self,
        proxy: FaultProxy,
        stats: ConnectionStats,
        client: tuple[asyncio.StreamReader, asyncio.StreamWriter],
    ) -> None:
        self._proxy, self.stats = proxy, stats
        self._client = client
        self._writers: list[asyncio.StreamWriter] = [client[1]]

    def _end(self, by: str) -> None:
        with self._proxy.lock:
            self.stats.ended_by = self.stats.ended_by or by

    def abort(self) -> None:
        for writer in self._writers:
            _reset(writer)

    async def run(self) -> None:
        try:
            try:
                async with asyncio.timeout(CONNECT_TIMEOUT):
                    target = await asyncio.open_connection(*self._proxy.target)
            except (OSError, TimeoutError):
                self._end("target unreachable")
                return
            self._writers.append(target[1])
            for writer in self._writers:
                # drain() then waits until the kernel took everything: counts are exact.
                writer.transport.set_write_buffer_limits(high=0)
            await asyncio.gather(
                self._pipe("up", self._client[0], target[1]),
                self._pipe("down", target[0], self._client[1]),
            )
        finally:
            self.abort()
            for writer in self._writers:
                writer.close()
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(writer.wait_closed(), FLUSH_TIMEOUT)
            with self._proxy.lock:
                self.stats.open = False

    async def _pipe(
        self, way: Direction, src: asyncio.StreamReader, dst: asyncio.StreamWriter
    ) -> None:
        faults = self.stats.plan.up if way == "up" else self.stats.plan.down
        seed = f"{self._proxy.seed}:{self.stats.number}:{way}"
        queue: asyncio.Queue[tuple[float, bytes | None] | None] = asyncio.Queue(QUEUE_CHUNKS)
        sender = asyncio.create_task(self._send(way, queue, dst, faults, random.Random(seed)))
        try:
            await self._receive(way, src, queue, faults, random.Random(seed + ":faults"))
            await sender
        finally:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sender

    async def _receive(
        self,
        way: Direction,
        src: asyncio.StreamReader,
        queue: asyncio.Queue[tuple[float, bytes | None] | None],
        faults: Faults,
        rng: random.Random,
    ) -> None:
        loop = asyncio.get_running_loop()
        sender_name = "client" if way == "up" else "target"
        chunker = Chunker(faults, rng)
        injector = Injector(faults, rng, lambda what: self._note(f"{way}: {what}"))
        try:
            while True:
                try:
                    timeout = HOLD_TIMEOUT if injector.held is not None else None
                    data = await asyncio.wait_for(src.read(READ_SIZE), timeout)
                except TimeoutError:
                    for out in injector.release():
                        await queue.put((loop.time(), out))
                    continue
                except OSError:
                    data = b""
                if not data:
                    self._end(sender_name)
                    for out in [*injector.release(), *(c.data for c in chunker.rest())]:
                        await queue.put((loop.time(), out))
                    return
                with self._proxy.lock:
                    self.stats.received[way] += len(data)
                chunks = chunker.feed(data)
                with self._proxy.lock:
                    opcodes = self.stats.opcodes[way]
                    if OP_CLOSE in chunker.opcodes[len(opcodes) :]:
                        self.stats.close_frame_from = self.stats.close_frame_from or sender_name
                    opcodes += chunker.opcodes[len(opcodes) :]
                for chunk in chunks:
                    outs, cut = injector.apply(chunk)
                    for out in outs:
                        await queue.put((loop.time(), out))
                    if cut:
                        await queue.put((loop.time(), None))  # the cut
                        return
        finally:
            await queue.put(None)

    async def _send(
        self,
        way: Direction,
        queue: asyncio.Queue[tuple[float, bytes | None] | None],
        dst: asyncio.StreamWriter,
        faults: Faults,
        rng: random.Random,
    ) -> None:
        loop = asyncio.get_running_loop()
        last_due, failed = 0.0, False
        while (item := await queue.get()) is not None:
            arrived, data = item
            if failed:
                continue  # keep taking, so the reader never blocks on a full queue
            if data is None:
                self._cut(dst, faults.reset)
                failed = True
                continue
            # Latency, not a throughput cap: each chunk is due a while after it arrived,
            # never before the one ahead of it (TCP keeps the order).
            last_due = max(last_due, arrived + faults.delay + rng.uniform(0, faults.jitter))
            if last_due > loop.time():
                await asyncio.sleep(last_due - loop.time())
            try:
                if dst.transport.is_closing():
                    raise ConnectionResetError("the other side is gone")
                dst.write(data)
                await dst.drain()
            except (OSError, RuntimeError):
                failed = True
                if not self.stats.cut:  # after a cut, what the receiver still sends is dropped
                    self.abort()
                continue
            with self._proxy.lock:
                self.stats.forwarded[way] += len(data)
                self.stats.chunks[way] += 1
        if not failed and dst.can_write_eof() and not dst.transport.is_closing():
            with contextlib.suppress(OSError, RuntimeError):
                dst.write_eof()  # pass the sender's end on; the other way may go on

    def _cut(self, receiver: asyncio.StreamWriter, reset: bool) -> None:
        """Reset the sender; the receiver gets what was forwarded, then a FIN (or a reset)."""
        with self._proxy.lock:
            self.stats.cut = True
        self._end("proxy")
        for writer in self._writers:
            if writer is receiver and not reset and receiver.can_write_eof():
                # Every write was drained to an empty buffer, so this FIN comes after all
                # that was counted. Half-closed: the receiver may still send (it is dropped),
                # and its data never meets a closed socket's RST (which would discard what it
                # has not read yet).
                with contextlib.suppress(OSError, RuntimeError):
                    receiver.write_eof()
            else:
                _reset(writer)

    def _note(self, what: str) -> None:
        with self._proxy.lock:
            self.stats.faults.append(what)


class FaultProxy:
    """Forwards 127.0.0.1:`port` to `target`, with each connection's planned faults.

    The kernel here has no tc netem, so loss, delay, reordering, corruption and cuts are
    made in user space: each connection is two pipes ("up": client → target, "down":
    target → client), each applying the Faults its connection's Plan gives it. All that is
    random comes from Random(seed, connection, direction), so a failing run replays.
    Use as a context manager: the proxy runs its own event loop on a thread, every wait is
    bounded, and closing leaves nothing open. `plan` may be replaced at any time (new
    connections use the new one); `drop_connections()` resets the open ones.
    """

    def __init__(
        self,
        target_port: int,
        *,
        target_host: str = "127.0.0.1",
        plan: PlanFor | None = None,
        seed: int = 0,
    ) -> None:
        self.target = (target_host, target_port)
        self.plan = plan or always(CLEAN)
        self.seed = seed
        self.port = 0
        self.lock = threading.Lock()
        self.errors: list[str] = []
        self._stats: list[ConnectionStats] = []
        self._connections: set[_Connection] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="fault proxy", daemon=True)

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        if not self._ready.wait(THREAD_TIMEOUT):
            raise AssertionError("the fault proxy did not start in time")
        if self._error is not None:
            self._thread.join(THREAD_TIMEOUT)
            raise AssertionError(f"the fault proxy failed to start: {self._error}")
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- what happened ------------------------------------------------------------

    def stats(self) -> list[ConnectionStats]:
        with self.lock:
            return copy.deepcopy(self._stats)

    @property
    def connections(self) -> int:
        with self.lock:
            return len(self._stats)

    def forwarded(self, way: Direction) -> int:
        with self.lock:
            return sum(stats.forwarded[way] for stats in self._stats)

    def cuts(self) -> int:
        with self.lock:
            return sum(stats.cut for stats in self._stats)

    # -- control ------------------------------------------------------------------

    def drop_connections(self) -> None:
        """Reset every open connection (both sides see a reset)."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            done = asyncio.run_coroutine_threadsafe(self._drop(), loop)
            done.result(THREAD_TIMEOUT)

    async def _drop(self) -> None:
        for connection in list(self._connections):
            connection.abort()

    def close(self) -> None:
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop ended meanwhile
                loop.call_soon_threadsafe(stop.set)
        self._thread.join(THREAD_TIMEOUT)
        if self._thread.is_alive():
            raise AssertionError("the fault proxy did not stop in time")
        if self._error is not None:
            raise AssertionError(f"the fault proxy failed: {self._error!r}")

    # -- the proxy's own thread ----------------------------------------------------

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._serve())
        except BaseException as exc:  # reported to the test by __enter__
            self._error = exc
        finally:
            self._ready.set()
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            server.close()
            for connection in list(self._connections):
                connection.abort()
            for task in list(self._tasks):
                task.cancel()
            # A connection accepted just before the close has a handler task that has not
            # run yet (cancelling it would skip its body and leave its socket open): let it
            # run, see _stop and abort; then wait for every task of this loop.
            await asyncio.sleep(0)
            others = asyncio.all_tasks() - {asyncio.current_task()}
            await asyncio.wait_for(
                asyncio.gather(*others, return_exceptions=True), THREAD_TIMEOUT / 2
            )
            await asyncio.wait_for(server.wait_closed(), THREAD_TIMEOUT / 2)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._stop.is_set():  # accepted as the proxy closes
            writer.transport.abort()
            return
        task = asyncio.current_task()
        assert task is not None
        with self.lock:
            number = len(self._stats)
            stats = ConnectionStats(number, self.plan(number))
            self._stats.append(stats)
        connection = _Connection(self, stats, (reader, writer))
        self._connections.add(connection)
        self._tasks.add(task)
        try:
            await connection.run()
        except asyncio.CancelledError:
            connection._end("proxy")
        except Exception as exc:  # a bug of the proxy: the test checks `errors` is empty
            with self.lock:
                self.errors.append(f"connection {number}: {exc!r}")
        finally:
            self._connections.discard(connection)
            self._tasks.discard(task)
