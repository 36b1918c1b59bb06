"""ApiServer: the local API on 127.0.0.1 and ::1, one port, started and stopped with the node."""

from __future__ import annotations

import logging

from peernode.api.app import build_app
from peernode.api.config import LOOPBACK, ApiConfig
from peernode.api.idempotency import KEYS_FILE, KeyBook
from peernode.api.port import ApiNode
from peernode.api.stream import StreamStats
from peernode.api.text import port_taken
from peernode.api.tokens import TokenBook
from peernode.errors import NodeError
from peernode.home import Home
from peernode.net.listener import Listener, bind_tcp
from peernode.storage import AsyncStore

log = logging.getLogger(__name__)


class ApiServer:
    """Serves /v1 for one node while networking runs; `port` is known once started."""

    def __init__(
        self, node: ApiNode, store: AsyncStore, home: Home, config: ApiConfig | None = None
    ) -> None:
        self.config = config or ApiConfig()
        self.tokens = TokenBook(home)
        hours = self.config.idempotency_hours
        self._keys = KeyBook(
            home.path / KEYS_FILE,
            per_token=self.config.idempotency_keys,
            keep_ms=int(hours * 3_600_000),
        )
        self._app, self._streams = build_app(node, store, self.tokens, self.config, self._keys)
        self._listener: Listener | None = None
        self.port = 0

    @property
    def stream_stats(self) -> StreamStats:
        return self._streams.stats

    async def start(self, *, prefer: int = 0) -> None:
        """Listen; on `prefer` if free and no port is configured (the port of the last
        start, so clients keep their URL when networking restarts)."""
        try:
            sockets = [bind_tcp(LOOPBACK[0], self.config.port or prefer)]
        except OSError as exc:
            if self.config.port:
                raise NodeError(port_taken(self.config.port)) from exc
            if not prefer:
                raise
            sockets = [bind_tcp(LOOPBACK[0], 0)]
        port = sockets[0].getsockname()[1]
        try:
            sockets.append(bind_tcp(LOOPBACK[1], port, v6only=True))
        except OSError as exc:  # no IPv6 here: 127.0.0.1 alone
            log.info("the API is not on [::1]:%d (%s)", port, exc.strerror)
        self._listener = Listener(self._app, *sockets)
        self.port = port
        await self._listener.start()

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.stop_accepting()
            await self._streams.close_all()
            await self._listener.close()
            self._listener = None
        self._keys.close()

    def url(self) -> str:
        """The base URL, as `peernode api url` prints it (paths start with /v1)."""
        return f"http://127.0.0.1:{self.port}"
