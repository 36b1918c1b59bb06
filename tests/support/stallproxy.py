"""A loopback TCP proxy that can go silent: a peer vanished without closing its socket."""

from __future__ import annotations

import asyncio
import contextlib
from types import TracebackType
from typing import Self

READ_SIZE = 65536


class StallProxy:
    """Forwards connections to `target` until `stall()`; from then on it neither forwards
    nor closes anything, as a peer that lost power or network leaves its links: open at
    the other end until a heartbeat notices. Closes everything on exit."""

    def __init__(self, target: tuple[str, int]) -> None:
        self._target = target
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []
        self._pipes: set[asyncio.Task[None]] = set()
        self._stalled = asyncio.Event()
        self.port = 0

    async def __aenter__(self) -> Self:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._server is not None
        self._server.close()
        for task in self._pipes:
            task.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)
        for writer in self._writers:
            writer.transport.abort()
        await self._server.wait_closed()

    def stall(self) -> None:
        """Stop forwarding, and never pass on a close from either side."""
        self._stalled.set()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.append(writer)
        up_reader, up_writer = await asyncio.open_connection(*self._target)
        self._writers.append(up_writer)
        for source, sink in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pipe(source, sink))
            self._pipes.add(task)
            task.add_done_callback(self._pipes.discard)

    async def _pipe(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        stalled = asyncio.create_task(self._stalled.wait())
        try:
            while True:
                read = asyncio.create_task(source.read(READ_SIZE))
                await asyncio.wait({read, stalled}, return_when=asyncio.FIRST_COMPLETED)
                if stalled.done():
                    read.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await read
                    return  # silent from now on: the sockets stay open until exit
                data = read.result()
                if not data:
                    sink.close()
                    return
                sink.write(data)
                await sink.drain()
        finally:
            stalled.cancel()
