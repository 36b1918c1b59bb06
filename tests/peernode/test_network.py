"""The networking shell over real loopback sockets: in-process nodes on temporary homes."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from peernode.errors import BadInput, NodeError
from peernode.home import Home
from peernode.net.config import NetworkConfig
from peernode.net.network import Network
from peernode.node import Node, NodeConfig
from peernode.ports import GossipNode, IngestResult
from peernode.storage import KnownPeer
from peernode.stream import Subscription
from peernode.verifier import verify_batch
from peernode.views import Profile
from protocol import kinds, wire
from protocol.event import Event, create_event, event_id
from protocol.gossip import GossipConfig
from protocol.identity import SIGNATURE_BYTES, SigningKey
from tests.support.waiting import eventually

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def config(port: int = 0, peers: Sequence[tuple[str, int]] = ()) -> NodeConfig:
    network = NetworkConfig(port=port, host=HOST, mdns=False, peers=tuple(peers))
    return NodeConfig(network=network, verify_workers=1, watch=False)


@contextlib.asynccontextmanager
async def running(
    home: Path, name: str, port: int = 0, peers: Sequence[tuple[str, int]] = ()
) -> AsyncIterator[Node]:
    async with Node(Home(home), config(port, peers)) as node:
        if not node.has_profile():
            await node.create_identity(name)
        await node.start_network()
        yield node


def network(node: Node) -> Network:
    assert node._network is not None, "networking is not running"
    return node._network


def port_of(node: Node) -> int:
    port = network(node).port
    assert port is not None
    return port


async def linked_to(node: Node, other: Node) -> bool:
    return any(p.key == other.public_key and p.linked for p in (await node.status()).peers)


async def in_sync_with(node: Node, other: Node) -> bool:
    peers = (await node.status()).peers
    return any(p.key == other.public_key and p.linked and p.in_sync for p in peers)


async def texts(node: Node) -> list[str]:
    return [entry.event.body.get("text", "") for entry in await node.feed()]


async def test_a_post_reaches_the_linked_peer_and_both_report_in_sync(tmp_path: Path) -> None:
    async with (
        running(tmp_path / "a", "Ada") as a,
        running(tmp_path / "b", "Ben", peers=[(HOST, port_of(a))]) as b,
    ):
        await eventually(lambda: linked_to(b, a), "b to link with a")
        await eventually(lambda: linked_to(a, b), "a to see the link")
        await a.post("the joins exercise: use LEFT JOIN", channel="sql")
        await eventually(lambda: _has_text(b, "the joins exercise: use LEFT JOIN"), "the note at b")
        await eventually(lambda: _named(b, a, "Ada"), "a's profile at b")
        await eventually(lambda: in_sync_with(b, a), "b in sync with a")
        await eventually(lambda: in_sync_with(a, b), "a in sync with b")
        status = await b.status()
        assert status.events == await a.event_count() == 3


async def _named(node: Node, other: Node, name: str) -> bool:
    return node.profile_of(other.public_key).name == name


async def _has_text(node: Node, text: str) -> bool:
    return text in await texts(node)


async def test_connect_by_address_is_remembered_and_relinked_after_restart(
    tmp_path: Path,
) -> None:
    async with running(tmp_path / "c", "Cleo") as c:
        async with running(tmp_path / "a", "Ada") as a:
            status = await a.connect(HOST, port_of(c))
            assert status.key == c.public_key
            await eventually(lambda: linked_to(a, c), "a to link with c")
            await eventually(lambda: _remembered(a, c, port_of(c)), "a to remember where c listens")
        # a restarts with no peer configured: it dials the peer it remembers.
        async with running(tmp_path / "a", "Ada") as a:
            assert a.config.network is not None
            assert not a.config.network.peers
            await eventually(lambda: linked_to(a, c), "a to link with c again")
            await a.post("back again")
            await eventually(lambda: _has_text(c, "back again"), "the note at c")


async def _remembered(node: Node, other: Node, port: int) -> bool:
    return any(p.key == other.public_key and p.port == port for p in await node.known_peers())


async def test_the_acceptor_remembers_the_dialer_where_it_listens(tmp_path: Path) -> None:
    async with (
        running(tmp_path / "a", "Ada") as a,
        running(tmp_path / "b", "Ben", peers=[(HOST, port_of(a))]) as b,
    ):
        await eventually(lambda: linked_to(a, b), "a to see b's link")
        # the handshake info's port and Hello.listen_port: the same, where b listens
        await eventually(lambda: _remembered(a, b, port_of(b)), "a to remember where b listens")
        view = network(a).engine.peer_view(b.public_key)
        assert view is not None
        assert view.address is not None
        assert (view.address.host, view.address.port) == (HOST, port_of(b))
        status = await a.status()
        assert (status.network, status.spec, status.skipped) == ("peernode-lan", "1.1", ())


async def test_simultaneous_dial_ends_with_one_link_per_pair(tmp_path: Path) -> None:
    port_a, port_b = free_port(), free_port()
    async with contextlib.AsyncExitStack() as stack:
        a, b = await asyncio.gather(
            stack.enter_async_context(running(tmp_path / "a", "Ada", port_a, [(HOST, port_b)])),
            stack.enter_async_context(running(tmp_path / "b", "Ben", port_b, [(HOST, port_a)])),
        )
        await eventually(lambda: linked_to(a, b), "a to link with b")
        await eventually(lambda: linked_to(b, a), "b to link with a")
        await asyncio.sleep(1.5)  # let any duplicate close and any redial happen
        for node, other in ((a, b), (b, a)):
            net = network(node)
            assert list(net._links) == [other.public_key]
            assert len(net._open) == 1
            assert [view.key for view in net.engine.peers()] == [other.public_key]
        # The same connection seen from both ends: one side dialled it.
        link_a, link_b = network(a)._links[b.public_key], network(b)._links[a.public_key]
        assert link_a.outbound != link_b.outbound
        assert await linked_to(a, b)
        assert await linked_to(b, a)


async def test_connecting_to_a_closed_port_says_so_in_one_plain_sentence(tmp_path: Path) -> None:
    closed = free_port()  # bound and released: nothing listens there
    async with running(tmp_path / "a", "Ada") as a:
        with pytest.raises(NodeError) as caught:
            await a.connect(HOST, closed)
        assert not network(a)._manual  # not kept as a peer to redial
    assert str(caught.value) == (
        f"could not reach {HOST}:{closed}: nothing answered there;"
        " check the address and that peernode runs on that laptop"
    )


async def test_dialing_our_own_port_makes_no_link_and_says_why(tmp_path: Path) -> None:
    port = free_port()
    async with running(tmp_path / "a", "Ada", port, peers=[(HOST, port)]) as a:
        with pytest.raises(BadInput, match="is this node itself"):
            await a.connect(HOST, port)
        await asyncio.sleep(1.5)  # the configured address was tried too
        net = network(a)
        assert not net._links
        assert not [p for p in (await a.status()).peers if p.linked]
        assert (HOST, port) not in net._manual  # found to be ourselves: not dialled again
        assert not await a.known_peers()


async def test_an_event_with_a_bad_signature_is_neither_stored_nor_forwarded(
    tmp_path: Path,
) -> None:
    async with (
        running(tmp_path / "b", "Ben") as b,
        running(tmp_path / "c", "Cleo", peers=[(HOST, port_of(b))]) as c,
        running(tmp_path / "r", "Rogue", peers=[(HOST, port_of(b))]) as rogue,
    ):
        await eventually(lambda: linked_to(c, b), "c to link with b")
        await eventually(lambda: linked_to(b, rogue), "b to accept the rogue")
        await eventually(lambda: in_sync_with(rogue, b), "the rogue to be in sync with b")
        genuine = create_event(
            rogue.key,
            kind=kinds.NOTE,
            circle="lobby",
            body={"text": "signed by the rogue"},
            created_at=int(time.time() * 1000),
        )
        forged = bytearray(genuine.raw)
        forged[SIGNATURE_BYTES // 2] ^= 0x01  # same content and id, broken signature
        link = network(rogue)._links[b.public_key]
        assert link.send_nowait(wire.encode(wire.Events([bytes(forged)])))
        # Something b posts after the forged event reached it: once c has that, the
        # forged event would have arrived before it if b had forwarded it.
        await asyncio.sleep(0.3)
        await b.post("posted after the forgery")
        await eventually(lambda: _has_text(c, "posted after the forgery"), "b's note at c")
        for node in (b, c):
            assert await node.raw_events([genuine.id]) == []
            assert "signed by the rogue" not in await texts(node)
        # The forged copy did not poison the id: the genuine event is still welcome.
        await rogue.store_signed([genuine])
        await eventually(lambda: _has_text(b, "signed by the rogue"), "the genuine event at b")
        await eventually(lambda: _has_text(c, "signed by the rogue"), "the genuine event at c")
        for node in (b, c):
            assert await node.raw_events([genuine.id]) == [genuine.raw]


async def test_shutdown_closes_links_and_the_peer_sees_it_promptly(tmp_path: Path) -> None:
    async with running(tmp_path / "b", "Ben") as b:
        async with running(tmp_path / "a", "Ada", peers=[(HOST, port_of(b))]) as a:
            await eventually(lambda: linked_to(b, a), "b to see the link")
            started = time.monotonic()
            await a.stop_network()
            assert not network_running(a)
        await eventually(lambda: _not_linked(b, a), "b to see the link go down", within=3)
        assert time.monotonic() - started < 3
        assert not network(b)._links
        status = await b.status()
        remembered = [p for p in status.peers if p.key == a.public_key]
        assert remembered
        assert not remembered[0].linked


def network_running(node: Node) -> bool:
    return node._network is not None


async def _not_linked(node: Node, other: Node) -> bool:
    return not await linked_to(node, other)


async def test_the_network_config_carries_the_gossip_timers_to_the_engine(tmp_path: Path) -> None:
    short = GossipConfig(reconcile_interval=0.5, resync_delay=0.1, session_timeout=2.0)
    config = NetworkConfig(port=0, host=HOST, mdns=False, gossip=short, candidate_interval=0.2)
    async with Node(Home(tmp_path / "a"), NodeConfig(network=config, watch=False)) as node:
        await node.create_identity("Ada")
        await node.start_network()
        assert network(node).engine.config is short


# -- the port: a Network needs a GossipNode, not a Node -----------------------------------


class MemoryNode:
    """The smallest GossipNode: events in a dict, peers in a list; no database, no Node."""

    def __init__(self, name: str) -> None:
        self.key = SigningKey.generate()
        self.public_key = self.key.public_key
        self.name = name
        self.events: dict[bytes, Event] = {}
        self.peers: list[tuple[bytes, str, str, int]] = []
        self.exchanged: dict[bytes, int] = {}
        self._subscriptions: list[Subscription] = []

    def note(self, text: str) -> Event:
        """Sign a note and hold it, as posting does."""
        event = create_event(
            self.key, kind=kinds.NOTE, circle="lobby", body={"text": text}, created_at=_now_ms()
        )
        self._hold([event])
        return event

    def texts(self) -> list[str]:
        return [str(event.body.get("text", "")) for event in self.events.values()]

    def my_profile(self) -> Profile:
        return Profile(self.public_key, self.name)

    def profile_of(self, key: bytes) -> Profile:
        return Profile.unnamed(key)

    def name_of(self, key: bytes, *, otherwise: str = "") -> str:
        return otherwise or self.profile_of(key).name

    async def time_index(self) -> list[tuple[int, bytes]]:
        return sorted((event.created_at, event.id) for event in self.events.values())

    async def shared_events(self, ids: Sequence[bytes]) -> list[bytes]:
        return [self.events[i].raw for i in ids if i in self.events]

    async def shared_ids(self, ids: Sequence[bytes]) -> set[bytes]:
        return {i for i in ids if i in self.events}

    def subscribe(self) -> Subscription:
        self._subscriptions.append(Subscription())
        return self._subscriptions[-1]

    def unsubscribe(self, subscription: Subscription) -> None:
        self._subscriptions.remove(subscription)

    async def ingest(self, raws: Sequence[bytes], sender: bytes | None = None) -> IngestResult:
        fresh = [raw for raw in dict.fromkeys(raws) if event_id(raw) not in self.events]
        good, bad = verify_batch(fresh)
        return IngestResult(new=self._hold(good), duplicates=len(raws) - len(fresh), rejected=bad)

    async def declined_ids(self) -> list[bytes]:
        return []  # it declines nothing

    async def known_peers(self) -> list[KnownPeer]:
        return []

    async def familiar_keys(self) -> set[bytes]:
        return set()

    def is_blocked(self, key: bytes) -> bool:
        return False

    def trust_peer(self, key: bytes) -> None:
        pass

    async def remember_peer(self, key: bytes, name: str, host: str, port: int) -> None:
        self.peers.append((key, name, host, port))

    async def add_exchanged(self, counts: dict[bytes, int]) -> None:
        for key, count in counts.items():
            self.exchanged[key] = self.exchanged.get(key, 0) + count

    def _hold(self, events: Sequence[Event]) -> list[Event]:
        new = [event for event in events if event.id not in self.events]
        for event in new:
            self.events[event.id] = event
            for subscription in self._subscriptions:
                subscription.offer(event)
        return new


def _now_ms() -> int:
    return int(time.time() * 1000)


async def test_a_network_runs_on_any_node_that_fills_the_port(tmp_path: Path) -> None:
    memory = MemoryNode("Mem")
    port: GossipNode = memory  # the port is all the Network knows of its node
    memory.note("held before the network started")
    net = Network(port, NetworkConfig(port=0, host=HOST, mdns=False))
    await net.start()
    try:
        assert net.port is not None
        async with running(tmp_path / "a", "Ada", peers=[(HOST, net.port)]) as a:

            async def linked() -> bool:
                peers = (await a.status()).peers
                return any(p.key == memory.public_key and p.linked for p in peers)

            async def reached_memory(text: str) -> bool:
                return text in memory.texts()

            await eventually(linked, "a to link with the memory node")
            await eventually(
                lambda: _has_text(a, "held before the network started"), "reconciliation to a"
            )
            memory.note("posted while linked")
            await eventually(lambda: _has_text(a, "posted while linked"), "the push to a")
            await a.post("from Ada to memory")
            await eventually(lambda: reached_memory("from Ada to memory"), "a's note in memory")
            assert [peer[0] for peer in memory.peers] == [a.public_key]
    finally:
        await net.stop()
