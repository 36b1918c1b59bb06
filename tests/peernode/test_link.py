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
