"""Link slots on real links: fresh keys that do not read cannot keep a known peer out.

An attacker can complete the handshake with a fresh key on each of many connections and
then never read. Before, it could hold every slot: a peer we know that restarted found
none, and links that did not read kept theirs with megabytes queued.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from peernode.home import Home
from peernode.net.config import NetworkConfig
from peernode.node import Node, NodeConfig
from protocol.gossip import GossipConfig
from tests.peernode.test_slow_peer import tcp_connections
from tests.support.hostile import CLOSE_WITHIN, HostilePeer
from tests.support.nodes import free_port
from tests.support.waiting import eventually

HOST = "127.0.0.1"


@contextlib.asynccontextmanager
async def running(home: Path, name: str, gossip: GossipConfig) -> AsyncIterator[Node]:
    network = NetworkConfig(port=0, host=HOST, mdns=False, gossip=gossip, sending_interval=0.1)
    async with Node(Home(home), NodeConfig(network=network, verify_workers=1, watch=False)) as node:
        if not node.has_identity:
            await node.create_identity(name)
        yield node


def port_of(node: Node) -> int:
    assert node._network is not None
    assert node._network.port is not None
    return node._network.port


async def silent_attackers(port: int, count: int) -> list[HostilePeer]:
    """`count` links, each with a fresh key, that never read (small receive buffers)."""
    return [await HostilePeer.link(port, receive_buffer=4096) for _ in range(count)]


async def linked_keys(node: Node) -> set[bytes]:
    return {peer.key for peer in (await node.status()).peers if peer.linked}


def stalled(node: Node) -> int:
    """Links whose bytes have waited more than a second with little taken."""
    assert node._network is not None
    now = asyncio.get_running_loop().time()
    since = [view.stalled_since for view in node._network.engine.peers()]
    return sum(1 for start in since if start is not None and now - start > 1.0)


async def fill_queues(node: Node) -> None:
    """Posts pushed to every linked peer: enough to fill a silent peer's kernel buffers."""
    for n in range(300):
        await node.post(f"note {n}: " + "x" * 900, channel="sql")


async def test_fresh_keys_holding_every_slot_give_a_silent_ones_slot_to_a_known_peer(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="peernode.net.network")
    # Four slots, every one open to strangers, so the attackers can take them all.
    gossip = GossipConfig(
        max_links=4,
        target_links=2,
        stranger_links=4,
        reserved_links=0,
        fresh_headroom=0,
        stall_grace=0.5,
    )
    async with running(tmp_path / "ben", "Ben", gossip) as ben:
        ben_key = ben.public_key
    async with running(tmp_path / "ada", "Ada", gossip) as ada:
        # Ben linked with Ada in an earlier run (at an address where he is no longer).
        await ada.remember_peer(ben_key, "Ben", HOST, free_port())
        await ada.start_network()
        attackers = await silent_attackers(port_of(ada), 4)
        try:
            for attacker in attackers:
                await attacker.until_accepted(CLOSE_WITHIN)
            assert len(await linked_keys(ada)) == 4
            await fill_queues(ada)
            await eventually(lambda: stalled(ada) == 4, "the silent links to stall", within=20)
            async with running(tmp_path / "ben", "Ben", gossip) as ben:
                await ben.start_network()
                await ben.connect(HOST, port_of(ada))

                async def ben_linked() -> bool:
                    return ben_key in await linked_keys(ada)

                await eventually(ben_linked, "Ben to get a slot at Ada's")
                assert "it does not read: its slot went to a new link" in caplog.text
                assert len(await linked_keys(ada)) <= 4
        finally:
            for attacker in attackers:
                await attacker.ws.close()


async def test_links_that_do_not_read_are_closed_and_fresh_keys_get_only_their_share(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="peernode.net.network")
    gossip = dataclasses.replace(GossipConfig(), stall_grace=0.5, stall_limit=1.5)
    async with running(tmp_path / "ada", "Ada", gossip) as ada:
        await ada.start_network()
        port = port_of(ada)
        attackers = await silent_attackers(port, 8)
        try:
            # 8 slots: strangers hold at most 5, and fresh keys never the last 2.
            kept = "the remaining links are kept for peers we know"

            def refused() -> int:
                return sum(1 for m in caplog.messages if m.startswith("closing") and kept in m)

            await eventually(lambda: refused() == 3, "3 attackers refused")
            assert len(await linked_keys(ada)) == 5
            await fill_queues(ada)

            async def all_closed() -> bool:
                return not await linked_keys(ada)

            await eventually(all_closed, "the silent links to be closed", within=20)
            assert "it does not read: its queue barely moved for" in caplog.text

            async def freed() -> bool:
                return not any(tcp_connections(port, a.ws.local_port) for a in attackers)

            await eventually(freed, "the node's ends of the connections to be freed")
        finally:
            for attacker in attackers:
                await attacker.ws.close()


async def test_a_peer_the_learner_named_gets_a_slot_back_when_it_restarts_amid_strangers(
    tmp_path: Path,
) -> None:
    """The eclipse of issue 16: strangers hold their whole share of slots when a peer
    named with --peer restarts, and it has linked only in this run. Named, it is not a
    stranger: its new link is taken at once (before, it was refused until our own dial
    found it again, seconds later; here our own dials are slow, so it never would)."""
    gossip = GossipConfig(maintain_retry=60.0, backoff_max=600.0)
    ben_port = free_port()

    def config(port: int, peer: int | None) -> NodeConfig:
        network = NetworkConfig(
            port=port,
            host=HOST,
            mdns=False,
            gossip=gossip,
            peers=() if peer is None else ((HOST, peer),),
            reconnect_min=60.0,
        )
        return NodeConfig(network=network, verify_workers=1, watch=False)

    async def node(name: str, port: int, peer: int | None) -> Node:
        started = Node(Home(tmp_path / name), config(port, peer))
        await started.__aenter__()
        if not started.has_identity:
            await started.create_identity(name)
        await started.start_network()
        return started

    async with contextlib.AsyncExitStack() as stack:
        ben = await node("ben", ben_port, None)
        ben_key = ben.public_key
        ada = await node("ada", 0, ben_port)
        stack.push_async_callback(ada.__aexit__, None, None, None)

        async def ben_linked() -> bool:
            return ben_key in await linked_keys(ada)

        async def ben_gone() -> bool:
            return not await ben_linked()

        await eventually(ben_linked, "Ada to link with Ben, whom she named")
        attackers = [await HostilePeer.link(port_of(ada)) for _ in range(5)]
        for attacker in attackers:
            stack.push_async_callback(attacker.ws.close)
            await attacker.until_accepted(CLOSE_WITHIN)
        await ben.__aexit__(None, None, None)
        await eventually(ben_gone, "Ben's link to close")
        ben = await node("ben", ben_port, port_of(ada))
        stack.push_async_callback(ben.__aexit__, None, None, None)
        await eventually(ben_linked, "Ben, back, to get a slot", within=5)
        assert len(await linked_keys(ada)) == 6  # the strangers kept theirs
