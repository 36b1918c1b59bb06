"""Peer links over real loopback sockets: the secure channel's deadline bounds a handshake."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from peernode.net.config import LinkConfig
from peernode.net.link import PATH, Link, LinkError, LinkFactory
from peernode.net.listener import Listener, bind_tcp
from protocol.identity import SigningKey

HOST = "127.0.0.1"
DEADLINE = 0.3
CONFIG = LinkConfig(handshake_timeout=DEADLINE)


async def _never_linked(link: Link) -> None:
    raise AssertionError(f"no link was expected, got {link!r}")


async def _serve(app: web.Application) -> Listener:
    listener = Listener(app, bind_tcp(HOST, 0))
    await listener.start()
    return listener


@pytest.fixture
async def factory() -> AsyncIterator[LinkFactory]:
    links = LinkFactory(SigningKey.generate(), config=CONFIG, info=dict, on_link=_never_linked)
    yield links
    await links.close()


async def test_a_dial_to_a_peer_that_never_answers_fails_at_the_deadline(
    factory: LinkFactory,
) -> None:
    async def silent(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for _ in ws:  # reads the first handshake message, answers nothing
            pass
        return ws

    app = web.Application()
    app.add_routes([web.get(PATH, silent)])
    listener = await _serve(app)
    loop = asyncio.get_running_loop()
    try:
        started = loop.time()
        with pytest.raises(LinkError, match=r"greeting failed \(timed out\)"):
            await asyncio.wait_for(factory.dial(HOST, listener.port), DEADLINE + 5)
        assert DEADLINE <= loop.time() - started < DEADLINE + 3
    finally:
        await listener.close()


async def test_an_inbound_connection_that_never_shakes_hands_is_closed_at_the_deadline(
    factory: LinkFactory,
) -> None:
    app = web.Application()
    app.add_routes(factory.routes())
    listener = await _serve(app)
    loop = asyncio.get_running_loop()
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.ws_connect(f"http://{HOST}:{listener.port}{PATH}") as ws,
        ):
            started = loop.time()
            message = await asyncio.wait_for(ws.receive(), DEADLINE + 3)
            assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
            assert loop.time() - started >= DEADLINE * 0.9  # not before the deadline
    finally:
        await listener.close()


async def test_an_urgent_message_overtakes_bulk_ones_queued_before_it() -> None:
    """A fresh push is not stuck behind an answer of many large events on the same link;
    the answer still arrives whole and in order."""
    received: list[bytes] = []
    all_in = asyncio.Event()

    def on_payload(data: bytes) -> None:
        received.append(data)
        if len(received) == 49:
            all_in.set()

    async def on_link(link: Link) -> None:
        await link.run(on_payload)

    server = LinkFactory(SigningKey.generate(), config=CONFIG, info=dict, on_link=on_link)
    app = web.Application()
    app.add_routes(server.routes())
    listener = await _serve(app)
    client = LinkFactory(SigningKey.generate(), config=CONFIG, info=dict, on_link=_never_linked)
    link = await client.dial(HOST, listener.port)
    reading = asyncio.create_task(link.run(lambda data: None))
    try:
        bulk = [b"bulk%02d" % n + bytes(60_000) for n in range(48)]
        sent = 0
        # Queue bulk frames until at least 8 wait (the writer may empty the queue while a
        # send waits for room), then the urgent one: it must go before all that wait.
        for frame in bulk:
            assert await link.send(frame)  # waits for room: the bulk queue holds ~1 MB
            sent += 1
            if sent >= 16 and link.bulk_waiting >= 8 * len(frame):
                break
        waiting = link.bulk_waiting // len(bulk[0])
        assert link.send_nowait(b"urgent")
        for frame in bulk[sent:]:
            assert await link.send(frame)
        await asyncio.wait_for(all_in.wait(), 10)
        assert waiting >= 1
        assert [r for r in received if not r.startswith(b"bulk")] == [b"urgent"]
        assert received.index(b"urgent") <= sent - waiting  # ahead of all that waited
        assert [r for r in received if r.startswith(b"bulk")] == bulk
    finally:
        await link.close("done")
        await reading
        await client.close()
        await server.close()
        await listener.close()
