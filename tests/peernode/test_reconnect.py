"""A peer that starts again is linked again at once, and nothing it posts meanwhile is lost."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from peernode import stream
from peernode.home import Home
from peernode.net.config import LinkConfig, NetworkConfig
from peernode.node import Node, NodeConfig
from protocol.event import create_event
from tests.peernode.test_network import network, port_of
from tests.support.stallproxy import StallProxy
from tests.support.waiting import eventually

HOST = "127.0.0.1"
NETWORK = NetworkConfig(
    port=0, host=HOST, mdns=False, link=LinkConfig(handshake_timeout=5.0, heartbeat=30.0)
)
RELINK = NETWORK.manual_interval + NETWORK.link.handshake_timeout
"""Seconds within which a peer that started again is linked and heard: it dials at once
(a remembered peer at start, a configured one within manual_interval), and nothing but
the handshake stands in the way; far below the heartbeat that notices a dead link."""


class PostsWhileStarting(Node):
    """A node whose learner posts just after the network read the stored ids, before it
    is running: the window in which a post used to be lost to gossip."""

    posted = ""

    async def time_index(self) -> list[tuple[int, bytes]]:
        index = await super().time_index()
        if not self.posted:
            self.posted = "written while the network was starting"
            await self.post(self.posted)
        return index


@contextlib.asynccontextmanager
async def running(
    home: Path, peers: Sequence[tuple[str, int]] = (), node_type: type[Node] = Node
) -> AsyncIterator[Node]:
    config = NetworkConfig(port=0, host=HOST, mdns=False, link=NETWORK.link, peers=tuple(peers))
    async with node_type(Home(home), NodeConfig(network=config, verify_workers=1)) as node:
        await node.start_network()
        yield node


async def identity(home: Path, name: str) -> bytes:
    async with Node(Home(home), NodeConfig(network=None)) as node:
        await node.create_identity(name)
        return node.public_key


async def has_text(node: Node, text: str) -> bool:
    return any(entry.event.body.get("text") == text for entry in await node.feed())


def linked_to(node: Node, key: bytes) -> bool:
    view = network(node).engine.peer_view(key)
    return view is not None and view.linked


async def test_a_note_posted_while_the_network_starts_reaches_the_peer(tmp_path: Path) -> None:
    await identity(tmp_path / "v", "Vera")
    await identity(tmp_path / "h", "Hal")
    async with running(tmp_path / "v") as v:
        peers = [(HOST, port_of(v))]
        async with running(tmp_path / "h", peers, PostsWhileStarting) as h:
            assert isinstance(h, PostsWhileStarting)
            assert h.posted
            await eventually(lambda: has_text(v, h.posted), "the note at v", within=RELINK)


async def test_a_peer_started_again_replaces_its_dead_link_at_once(tmp_path: Path) -> None:
    """v dialled h; h vanished without closing (power, Wi-Fi) and starts again. v still
    holds the old link, which its heartbeat would notice only much later; the link h
    dials from its new run replaces it now, even where one per pair keeps v's own dial."""
    keys = {await identity(tmp_path / "x", "Xan"): "x", await identity(tmp_path / "y", "Yu"): "y"}
    # The smaller key's dial wins when both dial: v's old link would be kept over h's.
    v_home, h_home = (tmp_path / keys[key] for key in sorted(keys))
    assert NETWORK.link.heartbeat > 2 * RELINK
    async with running(h_home) as h, StallProxy((HOST, port_of(h))) as proxy:
        h_key = h.public_key
        async with running(v_home, [(HOST, proxy.port)]) as v:
            await eventually(lambda: linked_to(v, h_key), "v to link with h")
            await eventually(lambda: _remembers(h, v.public_key), "h to remember v")
            old = network(v)._links[h_key]
            assert old.outbound
            proxy.stall()
            await h.stop_network()  # v hears nothing of it: the proxy passes on no close
            assert network(v)._links[h_key] is old
            await h.start_network()  # the same home: it dials the peer it remembers
            await h.post("back after the restart")
            await eventually(
                lambda: has_text(v, "back after the restart"), "the note at v", within=RELINK
            )
            new = network(v)._links[h_key]
            assert new is not old
            assert not new.outbound
            assert old.closed
            assert old.close_reason == "replaced: the peer started again"


async def _remembers(node: Node, key: bytes) -> bool:
    return any(peer.key == key for peer in await node.known_peers())


async def test_events_the_subscription_dropped_still_reach_the_peer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A burst of local writes larger than a subscription holds (an import) overflows the
    network's subscription: the events it dropped are found in the store and gossiped."""
    monkeypatch.setattr(stream, "SUBSCRIPTION_QUEUE", 8)
    await identity(tmp_path / "v", "Vera")
    await identity(tmp_path / "h", "Hal")
    async with running(tmp_path / "v") as v, running(tmp_path / "h", [(HOST, port_of(v))]) as h:
        await eventually(lambda: linked_to(v, h.public_key), "v to link with h")
        start = int(time.time() * 1000)
        texts = [f"imported note {n}" for n in range(40)]
        events = [
            create_event(
                h.key,
                kind="peernode/note@1",
                circle="lobby",
                body={"text": t},
                created_at=start + n,
            )
            for n, t in enumerate(texts)
        ]
        await h.store_signed(events)  # one batch: 40 events offered at once to a queue of 8
        await eventually(lambda: _holds(v, texts), "every imported note at v", within=RELINK)


async def _holds(node: Node, texts: list[str]) -> bool:
    held = {entry.event.body.get("text") for entry in await node.feed(limit=100)}
    return held >= set(texts)
