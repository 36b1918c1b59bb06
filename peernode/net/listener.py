"""A listening TCP socket served by an aiohttp app, and stopped without leaking a connection.

asyncio accepts a connection in one loop step and builds its transport in the next. If the
server closes in between, the transport is left half-built: aiohttp never hears of it, and
its socket stays open until the garbage collector finds it. A peer dialling just as a node
stops hits that window. So stopping goes in order: stop accepting, let the connections
already accepted reach aiohttp, then let aiohttp close the server and every connection.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

from aiohttp import web

# Loop steps from an accept to aiohttp knowing the connection: the transport is built in
# the step after the accept, and connection_made runs in the step after that.
_STEPS_TO_REACH_AIOHTTP = 2


def bind_tcp(host: str, port: int, *, v6only: bool = False) -> socket.socket:
    """A listening socket, so the real port is known even when 0 was asked for."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if v6only:  # IPv6 alone: IPv4 has a socket of its own
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


class Listener:
    """Serves `app` on sockets bound at once (its `port`, the first one's, is known before
    serving); more sockets serve the same app (the local API on 127.0.0.1 and ::1)."""

    def __init__(
        self, app: web.Application, sock: socket.socket, *more: socket.socket, **server_options: Any
    ) -> None:
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, **server_options)
        self._socks = (sock, *more)
        self.port: int = sock.getsockname()[1]
        self._accepting = False
        self._closed = False

    async def start(self) -> None:
        """Serve every socket; a start that fails or is cancelled part way closes them all."""
        try:
            await self._runner.setup()
            for sock in self._socks:
                await web.SockSite(self._runner, sock).start()
        except BaseException:
            await self.close()
            raise
        self._accepting = True

    def stop_accepting(self) -> None:
        """New connections wait in the backlog (and are refused when the socket closes)."""
        if self._accepting:
            loop = asyncio.get_running_loop()
            for sock in self._socks:
                if sock.fileno() >= 0:
                    loop.remove_reader(sock.fileno())
        self._accepting = False

    async def close(self) -> None:
        """Stop accepting, then close the socket and every connection aiohttp holds (once:
        a start cut short already closed them)."""
        if self._closed:
            return
        self._closed = True
        self.stop_accepting()
        for _ in range(_STEPS_TO_REACH_AIOHTTP):
            await asyncio.sleep(0)
        await self._runner.cleanup()
        # The cleanup closes the sockets of the sites it started; one whose site never
        # started (a start cut short) is closed here, or only the garbage collector would.
        for sock in self._socks:
            sock.close()
