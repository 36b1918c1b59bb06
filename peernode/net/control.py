"""The local control API: how CLI commands reach a node running for the same home.

A running node listens on 127.0.0.1 at a random port and writes the port and a
random token to `node.json` in its home (mode 0600). Only someone who can read
the home can talk to it.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final

import aiohttp
from aiohttp import web

from peernode.errors import BadInput, NodeError
from peernode.home import Home, HomeLock
from peernode.net.listener import Listener, bind_tcp
from peernode.ports import ControlTarget
from peernode.process import alive

TOKEN_HEADER: Final = "X-Peernode-Token"
REQUEST_TIMEOUT: Final = 20.0
STOP_DELAY: Final = 0.1
"""Seconds between answering `stop` and stopping: the answer goes out first."""
STOP_WAIT: Final = 15.0
"""How long a process taking over a home waits for the node there to let it go."""
STOP_POLL: Final = 0.1

Handler = Callable[[dict[str, Any]], Awaitable[Any]]


class NotRunning(NodeError):
    """No node is running for this home."""


@dataclass(frozen=True, slots=True)
class RuntimeInfo:
    """What a running node publishes in its home for local clients."""

    pid: int
    control_port: int
    token: str
    port: int | None

    @classmethod
    def read(cls, home: Home) -> RuntimeInfo | None:
        try:
            data = json.loads(home.runtime_path.read_text())
            info = cls(
                int(data["pid"]), int(data["control_port"]), str(data["token"]), data["port"]
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return info if alive(info.pid) else None

    def write(self, home: Home) -> None:
        temp = home.runtime_path.with_suffix(".tmp")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(
                {
                    "pid": self.pid,
                    "control_port": self.control_port,
                    "token": self.token,
                    "port": self.port,
                },
                handle,
            )
        os.replace(temp, home.runtime_path)


def node_handlers(node: ControlTarget, *, stoppable: bool = False) -> dict[str, Handler]:
    """The commands a running node serves: `status`, `connect` to a host and port, and
    (`stoppable`, for `peernode serve`) `stop`, so the room can take its home over."""

    async def status(args: dict[str, Any]) -> Any:
        return (await node.status()).to_json()

    async def connect(args: dict[str, Any]) -> Any:
        host, port = args.get("host"), args.get("port")
        if not isinstance(host, str) or not isinstance(port, int):
            raise BadInput("connect needs a host and a port")
        return (await node.connect(host, port)).to_json()

    async def stop(args: dict[str, Any]) -> Any:
        # serve ends cleanly on SIGTERM (goodbyes, lock released): the same way here.
        loop = asyncio.get_running_loop()
        loop.call_later(STOP_DELAY, os.kill, os.getpid(), signal.SIGTERM)
        return {"stopping": os.getpid()}

    handlers: dict[str, Handler] = {"status": status, "connect": connect}
    if stoppable:
        handlers["stop"] = stop
    return handlers


class ControlServer:
    """Serves named commands to local clients; each handler takes and returns JSON."""

    def __init__(self, home: Home, handlers: dict[str, Handler]) -> None:
        self._home = home
        self._handlers = handlers
        self._token = secrets.token_urlsafe(24)
        self._listener: Listener | None = None
        self.port = 0

    async def start(self, node_port: int | None) -> None:
        app = web.Application(client_max_size=64 * 1024)
        app.router.add_post("/{command}", self._handle)
        self._listener = Listener(app, bind_tcp("127.0.0.1", 0))
        self.port = self._listener.port
        await self._listener.start()
        RuntimeInfo(os.getpid(), self.port, self._token, node_port).write(self._home)

    async def stop(self) -> None:
        info = RuntimeInfo.read(self._home)
        if info is not None and info.pid == os.getpid():
            self._home.runtime_path.unlink(missing_ok=True)
        if self._listener is not None:
            await self._listener.close()
            self._listener = None

    async def _handle(self, request: web.Request) -> web.Response:
        if not secrets.compare_digest(request.headers.get(TOKEN_HEADER, ""), self._token):
            return web.json_response({"error": "bad token"}, status=403)
        handler = self._handlers.get(request.match_info["command"])
        if handler is None:
            return web.json_response({"error": "unknown command"}, status=404)
        try:
            args = await request.json() if request.can_read_body else {}
        except ValueError:
            return web.json_response({"error": "the request is not JSON"}, status=400)
        try:
            result = await handler(args if isinstance(args, dict) else {})
        except NodeError as exc:
            return web.json_response({"error": str(exc)}, status=400)
        return web.json_response({"result": result})


async def call(home: Home, command: str, args: dict[str, Any] | None = None) -> Any:
    """Run `command` on the node running for `home`; raises NotRunning if none is."""
    info = RuntimeInfo.read(home)
    if info is None:
        raise NotRunning(
            f"no node is running for {home.path}; start one with 'peernode serve' or 'peernode'"
        )
    url = f"http://127.0.0.1:{info.control_port}/{command}"
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.post(url, json=args or {}, headers={TOKEN_HEADER: info.token}) as response,
        ):
            body = await response.json()
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        raise NotRunning(f"the node for {home.path} does not answer ({exc or 'timeout'})") from exc
    if "error" in body:
        raise NodeError(str(body["error"]))
    return body["result"]


async def ask_to_stop(home: Home, *, within: float = STOP_WAIT) -> None:
    """Ask the `peernode serve` running for `home` to stop, and wait until the home's
    lock is free; NodeError, in one sentence with what to do, when it does not stop."""
    lock = HomeLock(home)
    holder = lock.holder()
    if holder is None:
        return
    try:
        await call(home, "stop")
    except NotRunning:
        pass  # stopping already, or not answering: the lock tells which
    except NodeError as exc:
        # Only `serve` answers `stop`: a room is quit by the learner in front of it.
        raise NodeError(
            f"{holder.what()} cannot be stopped from here: quit it in its terminal"
        ) from exc
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while lock.holder() is not None:
        if loop.time() > deadline:
            raise NodeError(
                f"{holder.what()} did not stop within {within:g} seconds: stop it with"
                " Ctrl-C in its terminal, then try again"
            )
        await asyncio.sleep(STOP_POLL)
