"""A connection that arrives just as a listener closes is closed with it, never left open."""

from __future__ import annotations

import asyncio
import gc
import socket
import warnings

import pytest
from aiohttp import web

from peernode.net.listener import Listener, bind_tcp


async def _hello(request: web.Request) -> web.Response:
    return web.Response(text="hello")


async def _listening() -> Listener:
    app = web.Application()
    app.router.add_get("/", _hello)
    listener = Listener(app, bind_tcp("127.0.0.1", 0))
    await listener.start()
    return listener


def _closed_by_server(client: socket.socket) -> bool:
    """True once the server side has closed: EOF or a reset, not a timeout."""
    client.settimeout(5.0)
    try:
        return client.recv(1) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


@pytest.mark.parametrize("steps_before_close", [0, 1, 2, 3])
async def test_a_connection_accepted_as_the_listener_closes_is_closed(
    steps_before_close: int,
) -> None:
    # The client connects (the kernel completes it at once on loopback), then the listener
    # closes a given number of loop steps later. With 2 steps, the close runs after the
    # loop accepted the connection and before asyncio built its transport: the window in
    # which a plain server close leaves the socket open.
    listener = await _listening()
    client = socket.create_connection(("127.0.0.1", listener.port))
    try:
        for _ in range(steps_before_close):
            await asyncio.sleep(0)
        await listener.close()
        assert await asyncio.to_thread(_closed_by_server, client)
    finally:
        client.close()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gc.collect()
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]


async def test_it_serves_until_closed_and_refuses_after() -> None:
    listener = await _listening()
    reader, writer = await asyncio.open_connection("127.0.0.1", listener.port)
    writer.write(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    answer = await reader.read()
    writer.close()
    await writer.wait_closed()
    assert answer.startswith(b"HTTP/1.1 200")
    assert answer.endswith(b"hello")
    await listener.close()
    with pytest.raises(ConnectionRefusedError):
        await asyncio.open_connection("127.0.0.1", listener.port)


def _two_sockets() -> tuple[Listener, list[socket.socket]]:
    app = web.Application()
    app.router.add_get("/", _hello)
    socks = [bind_tcp("127.0.0.1", 0), bind_tcp("127.0.0.1", 0)]
    return Listener(app, *socks), socks


@pytest.mark.parametrize("steps_before_cancel", [1, 2])
async def test_a_start_cut_short_closes_every_socket(steps_before_cancel: int) -> None:
    # Cancelled while the runner is set up or between its sites: a socket whose site
    # never started is known only to the listener, which must close it.
    listener, socks = _two_sockets()
    start = asyncio.create_task(listener.start())
    for _ in range(steps_before_cancel):
        await asyncio.sleep(0)
    start.cancel()
    with pytest.raises(asyncio.CancelledError):
        await start
    assert [sock.fileno() for sock in socks] == [-1, -1]


async def test_a_listener_closed_before_it_started_closes_its_sockets() -> None:
    listener, socks = _two_sockets()
    await listener.close()
    assert [sock.fileno() for sock in socks] == [-1, -1]
