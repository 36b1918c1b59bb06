"""A real node on loopback with its API, and clients that talk to it over real sockets."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from peernode.api import ApiConfig, TokenBook
from peernode.home import Home
from peernode.net.config import NetworkConfig
from peernode.node import Node, NodeConfig

TEST_API = ApiConfig(send_timeout=2.0, subscribe_timeout=2.0)


@dataclass
class ApiNode:
    """A running node, its API's base URL and a client session (no token of its own)."""

    node: Node
    base: str
    http: aiohttp.ClientSession

    def token(self, name: str, *scopes: str, origins: tuple[str, ...] = ()) -> dict[str, str]:
        """Make a token; the headers that send it."""
        secret = TokenBook(self.node.home).add(name, set(scopes), set(origins), 0)
        return {"Authorization": f"Bearer {secret}"}


StartNode = Callable[..., AbstractAsyncContextManager[ApiNode]]


@pytest.fixture
def start_api_node(tmp_path: Path) -> StartNode:
    """Start a node with networking on loopback only (no mDNS) and the API; named Ada.
    Started again with the same name, it runs on the same home."""

    @asynccontextmanager
    async def start(name: str = "ada", config: ApiConfig = TEST_API) -> AsyncIterator[ApiNode]:
        network = NetworkConfig(port=0, host="127.0.0.1", mdns=False)
        node_config = NodeConfig(network=network, api=config, watch_interval=0.05)
        async with Node(Home(tmp_path / name), node_config) as node:
            if not node.has_identity:  # started again on the same home
                await node.create_identity(name.capitalize())
            await node.start_network()
            assert node.api is not None
            async with aiohttp.ClientSession() as http:
                yield ApiNode(node, f"http://127.0.0.1:{node.api.port}", http)

    return start


@pytest.fixture
async def api_node(start_api_node: StartNode) -> AsyncIterator[ApiNode]:
    async with start_api_node() as running:
        yield running
