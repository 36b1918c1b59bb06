"""Fair sending on real links: answers to requests wait behind pushes and never overflow."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from peernode.home import Home
from peernode.importer import NoteLine, import_notes
from peernode.net.config import NetworkConfig
from peernode.node import Node, NodeConfig
from protocol import wire
from tests.support.hostile import CLOSE_WITHIN, HostilePeer, note_text_for
from tests.support.waiting import eventually

HOST = "127.0.0.1"
LARGE = 32_880
"""Bytes of one note: one to a frame, so 600 of them are 600 frames."""


@contextlib.asynccontextmanager
async def node_on_loopback(home: Path) -> AsyncIterator[Node]:
    network = NetworkConfig(port=0, host=HOST, mdns=False)
    async with Node(Home(home), NodeConfig(network=network, verify_workers=1, watch=False)) as node:
        await node.create_identity("Ada")
        await node.start_network()
        yield node


def large_notes(count: int) -> list[NoteLine]:
    return [
        NoteLine(n, "lobby", note_text_for(LARGE, n)[:-4] + f"{n:04}", None) for n in range(count)
    ]


async def received_events(peer: HostilePeer, count: int, within: float) -> set[bytes]:
    """Read until `count` distinct events came (raises Closed if the node closes first)."""
    got: set[bytes] = set()
    async with asyncio.timeout(within):
        async for ids in peer.event_ids():
            got.update(ids)
            if len(got) >= count:
                break
    return got


async def test_an_honest_peer_asking_for_600_recent_large_events_gets_them_all(
    tmp_path: Path,
) -> None:
    """Recent events are answered from memory; they went straight into the link's queue of
    512 frames, and the peer that asked was closed as too slow."""
    async with node_on_loopback(tmp_path / "ada") as node:
        network = node._network
        assert network is not None
        assert network.port is not None
        await import_notes(node, large_notes(600))
        ids = [entry.event.id for entry in await node.feed("lobby", limit=600)]
        assert len(ids) == 600

        def cached() -> bool:
            return all(i in network._index for i in ids) if network._index is not None else False

        await eventually(cached, "the imported notes to be offered to peers")
        peer = await HostilePeer.link(network.port)
        try:
            await peer.until_accepted(CLOSE_WITHIN)
            await peer.send(wire.encode(wire.Want(ids)))
            got = await received_events(peer, 600, within=30)
            assert got >= set(ids)
            assert any(p.linked for p in (await node.status()).peers)
        finally:
            await peer.ws.close()


async def test_a_linked_peer_gets_an_import_of_600_large_notes_pushed(tmp_path: Path) -> None:
    """Pushed as 600 urgent frames, they filled the link's queue and closed the peer."""
    async with node_on_loopback(tmp_path / "ada") as node:
        network = node._network
        assert network is not None
        assert network.port is not None
        peer = await HostilePeer.link(network.port)
        try:
            await peer.until_accepted(CLOSE_WITHIN)
            await import_notes(node, large_notes(600))
            ids = {entry.event.id for entry in await node.feed("lobby", limit=600)}
            assert await received_events(peer, 600, within=30) >= ids
            assert any(p.linked for p in (await node.status()).peers)
        finally:
            await peer.ws.close()
