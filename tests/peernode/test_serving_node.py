"""The serving budget on real links: what a peer's requests make a node send is paced."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

from peernode.home import Home
from peernode.importer import import_notes
from peernode.net.config import NetworkConfig
from peernode.net.serving import ServingConfig
from peernode.net.transfer import CHUNK_BYTES
from peernode.node import Node, NodeConfig
from protocol import kinds, wire
from protocol.event import create_event
from protocol.identity import SigningKey
from tests.peernode.test_fair_sending import HOST, LARGE, large_notes, received_events
from tests.support.hostile import CLOSE_WITHIN, HostilePeer, note_text_for
from tests.support.waiting import eventually

KIB = 1024
BUDGET = ServingConfig(
    peer_rate=1_000_000.0,
    peer_burst=256 * KIB,
    total_rate=4_000_000.0,
    total_burst=1024 * KIB,
    quantum=128 * KIB,
)


@contextlib.asynccontextmanager
async def budgeted_node(home: Path, notes: int) -> AsyncIterator[tuple[Node, int, list[bytes]]]:
    network = NetworkConfig(port=0, host=HOST, mdns=False, serving=BUDGET)
    async with Node(Home(home), NodeConfig(network=network, verify_workers=1, watch=False)) as node:
        await node.create_identity("Ada")
        await node.start_network()
        assert node._network is not None
        assert node._network.port is not None
        await import_notes(node, large_notes(notes))
        ids = [entry.event.id for entry in await node.feed("lobby", limit=notes)]
        index = node._network._index
        await eventually(lambda: index is not None and all(i in index for i in ids), "offered")
        yield node, node._network.port, ids


async def test_asking_again_and_again_is_answered_at_the_budgets_pace(tmp_path: Path) -> None:
    """40 large notes (1.3 MB) asked three times: 3.9 MB, sent in a blink without a budget,
    take at least (3.9 MB - burst - one chunk) / rate; every answer still comes."""
    async with budgeted_node(tmp_path / "ada", 40) as (_, port, ids):
        peer = await HostilePeer.link(port)
        try:
            await peer.until_accepted(CLOSE_WITHIN)
            started = time.monotonic()
            for _ in range(3):
                await peer.send(wire.encode(wire.Want(ids)))
            got = await _read_events(peer, 3 * len(ids), within=30)
            took = time.monotonic() - started
        finally:
            await peer.ws.close()
    assert Counter(got) == dict.fromkeys(ids, 3)
    sent = 3 * len(ids) * LARGE
    least = (sent - BUDGET.peer_burst - 2 * BUDGET.quantum) / BUDGET.peer_rate
    assert took >= least * 0.9
    assert took < least * 3 + 2


async def test_one_peers_throttled_requests_do_not_hold_up_anothers_answer(
    tmp_path: Path,
) -> None:
    """Each peer has its own budget and takes turns: the second peer's 4 notes come at once
    while the first one's 3.9 MB are paced."""
    async with budgeted_node(tmp_path / "ada", 40) as (_, port, ids):
        greedy = await HostilePeer.link(port)
        other = await HostilePeer.link(port)
        try:
            await greedy.until_accepted(CLOSE_WITHIN)
            await other.until_accepted(CLOSE_WITHIN)
            for _ in range(3):
                await greedy.send(wire.encode(wire.Want(ids)))
            reading = asyncio.create_task(_read_events(greedy, 3 * len(ids), within=30))
            await asyncio.sleep(0.3)  # the greedy peer is over its burst by now
            assert not reading.done()
            started = time.monotonic()
            await other.send(wire.encode(wire.Want(ids[:4])))
            got = await received_events(other, 4, within=10)
            answered_in = time.monotonic() - started
            await reading
        finally:
            await greedy.ws.close()
            await other.ws.close()
    assert got == set(ids[:4])
    assert answered_in < 1.0


async def _read_events(peer: HostilePeer, count: int, within: float) -> list[bytes]:
    """Read until `count` events came, repeats included; their ids in order."""
    got: list[bytes] = []
    async with asyncio.timeout(within):
        async for ids in peer.event_ids():
            got.extend(ids)
            if len(got) >= count:
                break
    return got


async def test_answers_from_the_store_are_read_about_a_chunk_at_a_time(tmp_path: Path) -> None:
    """The last read of an answer is often short; the next answer's first read was sized by
    the ids asked for, not those read, and took up to 500 large events (16 MB) at once,
    past the budget and holding the store's one thread."""
    carol = SigningKey.generate()
    stored = [
        create_event(
            carol,
            kind=kinds.NOTE,
            circle="lobby",
            body={"text": note_text_for(LARGE, 1_000 + n)},
            created_at=1_000 + n,
        )
        for n in range(100)
    ]
    network = NetworkConfig(port=0, host=HOST, mdns=False)
    home = Home(tmp_path / "ada")
    async with Node(home, NodeConfig(network=network, verify_workers=1, watch=False)) as node:
        await node.create_identity("Ada")
        await node.store_signed(stored)  # before the network: read from the store, not held
        reads: list[int] = []
        shared_events = node.shared_events

        async def spied(ids: Sequence[bytes]) -> list[bytes]:
            loaded = await shared_events(ids)
            reads.append(sum(map(len, loaded)))
            return loaded

        node.shared_events = spied  # type: ignore[method-assign]
        await node.start_network()
        assert node._network is not None
        assert node._network.port is not None
        peer = await HostilePeer.link(node._network.port)
        try:
            await peer.until_accepted(CLOSE_WITHIN)
            await peer.send(wire.encode(wire.Want([e.id for e in stored[:33]])))
            await peer.send(wire.encode(wire.Want([e.id for e in stored[33:]])))
            await _read_events(peer, 100, within=30)
        finally:
            await peer.ws.close()
    assert sum(reads) == 100 * LARGE
    assert max(reads) <= CHUNK_BYTES + LARGE
