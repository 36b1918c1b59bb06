"""Hostile frames through a real link to a real `peernode serve`.

A test client (tests/support/hostile.py) completes the Noise handshake with its own
identity, is accepted as a neighbour, and then sends one hostile frame per link: oversized
frames, a deflate bomb with RSV1 set, msgpack bombs and wrong-schema Events inside encrypted
frames. The unit and fuzz tests (tests/protocol/test_codec.py, tests/fuzz/) cover the
decoders; these cover the socket, the WebSocket layer and the node around them.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from protocol import wire
from protocol.identity import SigningKey
from tests.support.hostile import (
    ATTACKS,
    CLOSE_WITHIN,
    FRAME_LIMIT,
    Closed,
    HostilePeer,
    Outcome,
    events_filling,
    memory,
    note_text_for,
)
from tests.support.nodes import (
    PrefixedServe,
    feed_ids,
    free_port,
    init_homes,
    linked_of,
    peernode,
    stop_all,
)
from tests.support.waiting import wait_for

PROMPTLY = 3.0  # seconds from the hostile frame to the close; measured: a few ms
MEMORY_GROWTH_LIMIT = 16 << 10  # KiB of peak RSS growth over all the attacks; measured ~1 MiB
KEPT_OPEN = 2.0  # an honest client link must stay open at least this long


def events(node: PrefixedServe) -> int:
    status = node.status()
    return -1 if status is None else int(status["events"])


async def honest_link_stays_open(port: int) -> float:
    """The control: a client that sends a valid Ping gets its Pong and is not closed."""
    peer = await HostilePeer.link(port)
    try:
        await peer.until_accepted(CLOSE_WITHIN)
        await peer.send(wire.encode(wire.Ping(7)))
        start = time.monotonic()
        pong = False
        try:
            async with asyncio.timeout(KEPT_OPEN):
                while True:
                    (event,) = peer.channel.receive((await peer.ws.receive()).payload)
                    pong = pong or wire.decode(getattr(event, "data", b"")) == wire.Pong(7)
        except TimeoutError:
            pass
        except Closed as closed:
            raise AssertionError(f"an honest link was closed: {closed}") from None
        assert pong, "no Pong"
        return time.monotonic() - start
    finally:
        await peer.ws.close()


async def attack_all(port: int) -> dict[str, Outcome]:
    outcomes = {}
    for name, (attack, _) in ATTACKS.items():
        try:
            outcomes[name] = await attack(port)
        except TimeoutError:
            raise AssertionError(f"{name}: the link is still open after {CLOSE_WITHIN} s") from None
    return outcomes


@pytest.mark.slow
def test_hostile_frames_close_their_link_and_nothing_else(tmp_path: Path) -> None:
    """Ada is attacked; Ben is linked to her all along and must not notice."""
    init_homes({tmp_path / "ada": "Ada", tmp_path / "ben": "Ben"})
    port = free_port()
    ada = PrefixedServe(tmp_path / "ada", name="Ada", port=port, mdns=False)
    ben = PrefixedServe(tmp_path / "ben", name="Ben", peers=[f"127.0.0.1:{port}"], mdns=False)
    try:
        ada.wait_started()
        ben.wait_started()
        wait_for(lambda: ben.key in ada.linked() and ada.key in ben.linked(), "the link", 20)
        wait_for(lambda: events(ada) == events(ben) == 2, "the two profiles on both", 20)
        ids_before = feed_ids(ada.home)
        before = memory(ada.process.pid)
        attacked = time.monotonic()

        kept_open = asyncio.run(honest_link_stays_open(port))
        outcomes = asyncio.run(attack_all(port))

        after = memory(ada.process.pid)
        width = max(map(len, outcomes))
        for name, outcome in outcomes.items():
            took = f"{outcome.seconds * 1000:6.1f} ms"
            print(f"{name:<{width}}  closed after {took} (code {outcome.code})")
        print(f"Ada's memory (KiB): before {before}, after {after}")

        ada.check_running()
        assert kept_open >= KEPT_OPEN
        for name, outcome in outcomes.items():
            codes = ATTACKS[name][1]
            assert outcome.code in codes, f"{name}: close code {outcome.code}, not in {codes}"
            assert outcome.seconds < PROMPTLY, f"{name}: closed after {outcome.seconds:.1f} s"
        growth = after["VmHWM"] - before["VmHWM"]
        assert growth < MEMORY_GROWTH_LIMIT, f"peak RSS grew by {growth} KiB: {before} {after}"

        # Nothing stored, no attacker left among Ada's peers.
        assert feed_ids(ada.home) == ids_before
        assert events(ada) == 2
        status = ada.status()
        assert status is not None
        assert [p["key"] for p in status["peers"]] == [ben.key]

        # Ben kept his link the whole time, and a note still flows both ways.
        peernode(ben.home, "post", "after the attacks, from Ben")
        peernode(ada.home, "post", "after the attacks, from Ada")
        wait_for(lambda: events(ada) == events(ben) == 4, "both notes on both", 20)
        assert set(feed_ids(ada.home)) == set(feed_ids(ben.home))
        for node, other in ((ada, ben), (ben, ada)):
            samples = [s for s in node.samples_since(attacked) if s is not None]
            assert len(samples) >= 4, f"too few status samples from {node.name}"
            assert all(other.key in linked_of(s) for s in samples), f"{node.name} lost the link"
        ada.check_running()
    finally:
        stop_all([ada, ben])


# --- the limit itself ------------------------------------------------------------------------


async def send_frame_of_the_limit(port: int) -> tuple[list[bytes], float | None]:
    """Two valid notes by the client's own key in one Events message of exactly FRAME_LIMIT
    bytes: the largest frame the protocol allows. Returns the raws and when the node closed
    the link (None: still open after KEPT_OPEN s)."""
    key = SigningKey.generate()
    raws = events_filling(key, FRAME_LIMIT)
    peer = await HostilePeer.link(port, identity=key)
    try:
        await peer.until_accepted(CLOSE_WITHIN)
        await peer.send(wire.encode(wire.Events(raws)))
        try:
            seconds, _ = await peer.ws.until_closed(KEPT_OPEN)
        except TimeoutError:
            return raws, None
        return raws, seconds
    finally:
        await peer.ws.close()


@pytest.mark.slow
def test_a_frame_of_exactly_the_limit_is_taken(tmp_path: Path) -> None:
    """65,519 bytes of plaintext, 65,535 on the wire: aiohttp refuses a message of exactly
    max_msg_size, so the link's limit must be one more than the largest frame."""
    ada = PrefixedServe(tmp_path / "ada", name="Ada", mdns=False)
    try:
        port = int(ada.wait_started()["port"])
        raws, closed_after = asyncio.run(send_frame_of_the_limit(port))
        assert closed_after is None, f"the node closed the link after {closed_after:.3f} s"
        wait_for(lambda: events(ada) == 1 + len(raws), "the two notes stored", 10)
    finally:
        stop_all([ada])


@pytest.mark.slow
def test_two_nodes_exchange_notes_that_fill_a_frame_exactly(tmp_path: Path) -> None:
    """The same limit between two real nodes: Ada posts two notes of 32,755 bytes while
    running, and answers Ben's catch-up with both in one message of exactly the frame limit
    (from her cache of recent events; before the fix Ben dropped every such link)."""
    init_homes({tmp_path / "ada": "Ada", tmp_path / "ben": "Ben"})
    port = free_port()
    nodes = [PrefixedServe(tmp_path / "ada", name="Ada", port=port, mdns=False)]
    try:
        ada = nodes[0]
        ada.wait_started()
        for i in range(2):
            text = note_text_for(32_755, int(time.time() * 1000))
            peernode(ada.home, "post", text[:-1] + str(i))
        wait_for(lambda: events(ada) == 3, "Ada's notes", 10)
        nodes.append(
            PrefixedServe(tmp_path / "ben", name="Ben", peers=[f"127.0.0.1:{port}"], mdns=False)
        )
        ben = nodes[1]
        ben.wait_started()
        wait_for(lambda: events(ben) == 4, "Ben to catch up Ada's two big notes", 20)
        assert set(feed_ids(ben.home)) == set(feed_ids(ada.home))
    finally:
        stop_all(nodes)
