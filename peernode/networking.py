"""Networking of one node, started and stopped in order: gossip, files, the API, control."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from peernode.api.port import ApiNode
from peernode.config import NodeConfig
from peernode.errors import NodeError
from peernode.files.service import FileService
from peernode.home import Home, HomeLock
from peernode.ports import ControlTarget, GossipNode
from peernode.storage import AsyncStore, KnownPeer
from peernode.views import NodeStatus, PeerStatus, Profile

if TYPE_CHECKING:
    from peernode.api.server import ApiServer
    from peernode.net.control import ControlServer
    from peernode.net.network import Network

__all__ = ["NetworkedNode", "Networking"]


class NameOf(Protocol):
    """A learner's name for a key (Node.name_of)."""

    def __call__(self, key: bytes, *, otherwise: str = "") -> str: ...


# Here rather than in ports.py: ports.py is below net/, which may not reach the API's port.
class NetworkedNode(GossipNode, ControlTarget, ApiNode, Protocol):
    """What networking needs of the node: what gossip, control and the API use."""


class Networking:
    """The running parts of a node: its Network, the files' bulk path, the local API and
    the control server, behind the home's lock (one networked node per home)."""

    def __init__(
        self,
        node: NetworkedNode,
        store: AsyncStore,
        home: Home,
        config: NodeConfig,
        files: FileService,
        lock: HomeLock,
    ) -> None:
        self._node = node
        self._store = store
        self._home = home
        self._config = config
        self._files = files
        self._lock = lock
        self.network: Network | None = None
        self._control: ControlServer | None = None
        self.api: ApiServer | None = None
        """The local API while networking runs (its port, its streams' counters)."""
        self._api_port = 0  # kept across restarts of networking: clients keep the URL

    @property
    def online(self) -> bool:
        return self.network is not None

    async def start(self) -> None:
        """Listen, announce, link and gossip, per config.network (needs an identity)."""
        if self._config.network is None or self.network is not None:
            return
        # Imported here so offline CLI commands never load aiohttp and zeroconf.
        from peernode.net.network import Network

        self._lock.acquire()  # one networked node per home: the second fails here
        network: Network | None = None
        try:
            network = Network(self._node, self._config.network)
            self._files.attach(
                network, self._node.key, self._config.network.link, info=network.link_info
            )
            await network.start()
        except BaseException:
            try:
                if network is not None:  # cut short: close what it opened (its listener)
                    await network.stop()
            finally:
                self._lock.release()
            raise
        self.network = network
        await self._start_api()
        await self._start_control(network.port)

    async def _start_api(self) -> None:
        from peernode.api.server import ApiServer

        if self._config.api is not None:
            self.api = ApiServer(self._node, self._store, self._home, self._config.api)
            await self.api.start(prefer=self._api_port)
            self._api_port = self.api.port

    async def _start_control(self, port: int | None) -> None:
        from peernode.files.control import file_handlers
        from peernode.net.control import ControlServer, node_handlers

        handlers = {
            **node_handlers(self._node, stoppable=self._config.role == "serve"),
            **file_handlers(self._files),
        }
        self._control = ControlServer(self._home, handlers)
        await self._control.start(port, api_port=self.api.port if self.api else None)

    async def stop(self) -> None:
        """Stop control first (no command reaches a half-stopped node), the network last."""
        try:
            if self._control is not None:
                await self._control.stop()
                self._control = None
            await self._files.detach()
            if self.api is not None:
                api, self.api = self.api, None
                await api.stop()
            if self.network is not None:
                network, self.network = self.network, None
                await network.stop()
        finally:
            self._lock.release()

    async def restart(self) -> None:
        """Stop and start again when running: links and the index start afresh."""
        if self.online:
            await self.stop()
            await self.start()

    async def connect(self, host: str, port: int) -> PeerStatus:
        if self.network is None:
            raise NodeError("networking is not running")
        return await self.network.connect(host, port)

    def policy_changed(self) -> None:
        if self.network is not None:
            self.network.policy_changed()

    def storage_recovered(self) -> None:
        if self.network is not None:
            self.network.storage_recovered()

    def status(
        self, me: Profile | None, events: int, known: Sequence[KnownPeer], name_of: NameOf
    ) -> NodeStatus:
        """The node at a glance: the live peers, then the remembered ones not linked now."""
        live: list[PeerStatus] = self.network.peer_statuses() if self.network else []
        seen = {peer.key for peer in live}
        remembered = [
            PeerStatus.remembered(peer, name_of(peer.key, otherwise=peer.name))
            for peer in known
            if peer.key not in seen
        ]
        status = NodeStatus(
            key=me.key if me is not None else b"",
            name=me.name if me is not None else "",
            port=self.network.port if self.network else None,
            events=events,
            peers=(*live, *remembered),
            discovery=self.network.discovery_state if self.network else "off",
        )
        return status if self.network is None else self.network.with_network(status)
