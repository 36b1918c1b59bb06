"""End to end: the app over a real, networked node, and a second real node linking to it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from peernode.home import Home
from peernode.net.config import NetworkConfig
from peernode.node import Node, NodeConfig
from tests.support.waiting import eventually
from tests.tui.helpers import feed_texts, main_screen, wait_for
from tui.app import PeernodeApp
from tui.widgets.peers import PeerList
from tui.widgets.status import SyncIndicator

LOOPBACK = NetworkConfig(port=0, host="127.0.0.1", mdns=False)
"""Real links over loopback, and no mDNS: tests never meet other nodes on the LAN."""


def networked(**options: Any) -> NodeConfig:
    return NodeConfig(network=LOOPBACK, **{"verify_workers": 1, **options})


@asynccontextmanager
async def live_app(
    home: Home, **app_options: Any
) -> AsyncIterator[tuple[PeernodeApp, Pilot[None]]]:
    """The app over a real node named Ana whose networking runs on loopback (real clock)."""
    async with Node(home, networked(watch_interval=0.05)) as node:
        if not node.has_profile():
            await node.create_identity("Ana", learning="pandas")
        options: dict[str, Any] = {"no_peer_after": 0.0, "status_interval": 0.2, **app_options}
        app = PeernodeApp(node, **options)
        async with app.run_test(size=(110, 32)) as pilot:
            yield app, pilot


@asynccontextmanager
async def peer_node(path: Path, name: str) -> AsyncIterator[Node]:
    """Another learner's node in this process, with its own home and any free port."""
    async with Node(Home(path), networked(watch=False)) as node:
        await node.create_identity(name)
        await node.start_network()
        yield node


async def app_port(app: PeernodeApp, pilot: Pilot[None]) -> int:
    await wait_for(pilot, lambda: app.node.online)
    port = (await app.node.status()).port
    assert port is not None
    return port


async def until(
    pilot: Pilot[None], check: Callable[[], Awaitable[bool]], within: float = 10
) -> None:
    """Like wait_for, for a condition that has to ask a node."""
    await eventually(check, "the node's condition", within, pause=pilot.pause)


async def test_a_real_peer_links_syncs_and_its_notes_appear(home: Home, tmp_path: Path) -> None:
    async with live_app(home) as (app, pilot):
        screen = await main_screen(app, pilot)
        sync = screen.query_one(SyncIndicator)
        port = await app_port(app, pilot)
        await wait_for(pilot, lambda: sync.text == "○ no one else here yet")

        async with peer_node(tmp_path / "bo", "Bo") as bo:
            await bo.post("Notes from before we met", channel="lobby")
            await bo.connect("127.0.0.1", port)
            await wait_for(pilot, lambda: sync.text == "✓ in sync with 1 of 1 peer", within=15)
            assert "Notes from before we met" in feed_texts(screen)
            peers = screen.query_one(PeerList).peers
            assert [(peer.name, peer.linked, peer.demo) for peer in peers] == [("Bo", True, False)]

            # Live: Bo writes, the feed shows it without any key press.
            await bo.post("Anyone for the joins exercise?", channel="lobby")
            await wait_for(pilot, lambda: "Anyone for the joins exercise?" in feed_texts(screen))

            # And back: a reply typed in the app reaches Bo's node.
            await wait_for(pilot, lambda: screen.feed.selected_entry is not None)
            assert screen.feed.selected_entry is not None
            parent = screen.feed.selected_entry.event
            assert parent.author == bo.public_key
            await pilot.press("r")
            screen.composer.input.text = "Me! After lunch?"
            await pilot.press("ctrl+s")

            async def bo_has_the_reply() -> bool:
                return any(
                    entry.event.refs.get("reply_to") == parent.id
                    and entry.event.author == app.node.public_key
                    for entry in await bo.feed("lobby")
                )

            await until(pilot, bo_has_the_reply)

        # Bo quits: remembered, no longer linked, so no longer counted.
        await wait_for(pilot, lambda: sync.text == "○ no peer online now", within=15)
