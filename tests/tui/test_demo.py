"""The demo room in the app: opened from the no-peer offer or at start, closed with the app."""

from __future__ import annotations

from textual.widgets import Static

from peernode.demo.room import DEMO_CIRCLE
from peernode.home import Home
from peernode.node import Node, NodeConfig
from protocol import kinds
from tests.tui.helpers import feed_texts, main_screen, running, wait_for
from tests.tui.test_live_peers import live_app
from tui.circles.page import CirclePage
from tui.dialogs.demo import DemoDialog
from tui.feed.channels import ChannelList
from tui.widgets.peers import PeerList

WELCOME = "Welcome to **Python for data**!"


async def test_the_no_peer_offer_opens_a_living_demo_room(home: Home) -> None:
    async with live_app(home) as (app, pilot):
        screen = await main_screen(app, pilot)
        await wait_for(pilot, lambda: app.node.online)
        offer = screen.query_one("#peer-empty", Static)
        await wait_for(pilot, lambda: "Open the demo room" in str(offer.render()))

        await pilot.press("o")
        await wait_for(pilot, lambda: isinstance(app.screen, DemoDialog))
        await pilot.press("enter")  # "Open the demo room" has the focus

        await wait_for(pilot, lambda: screen.channel == DEMO_CIRCLE, within=15)
        await wait_for(pilot, lambda: any(t.startswith(WELCOME) for t in feed_texts(screen)))
        assert len(screen.feed.rows) >= 10
        assert DEMO_CIRCLE in screen.query_one(ChannelList).channels
        names = {app.node.profile_of(row.entry.event.author).name for row in screen.feed.rows}
        assert names
        assert all(name.endswith(" (demo)") for name in names)

        # The circle page shows today's meeting at once: the room scheduled it as it opened.
        await pilot.press("g")
        await wait_for(pilot, lambda: isinstance(app.screen, CirclePage))
        page = app.screen
        assert isinstance(page, CirclePage)
        upcoming = page.query_one("#circle-next", Static)
        await wait_for(pilot, lambda: "Activity: Pair debugging" in str(upcoming.render()))
        assert "facilitator Jonas (demo)" in str(upcoming.render())
        assert page.query_one("#circle-members", Static).border_title == "Members (4)"
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen)

        # The simulated learners are not peers: they never touch the network.
        assert app.demo_room is not None
        assert not any(peer.key in app.demo_room.keys for peer in screen.query_one(PeerList).peers)
        room, root = app.demo_room, app.demo_room.root
        assert root is not None
        assert root.is_dir()

    # The app closed: the demo peers stopped, their homes are gone, and as the learner
    # replied to nothing, nothing of theirs is left.
    assert room.stopped
    assert not root.exists()
    async with Node(home, NodeConfig(watch=False)) as node:
        assert await node.feed(DEMO_CIRCLE) == []
        assert not any(peer.key in room.keys for peer in await node.known_peers())


async def test_peernode_demo_opens_the_room_at_once_and_keeps_the_learners_thread(
    home: Home,
) -> None:
    async with live_app(home, demo=True) as (app, pilot):
        screen = await main_screen(app, pilot)
        await wait_for(pilot, lambda: screen.channel == DEMO_CIRCLE, within=15)
        await wait_for(pilot, lambda: any(t.startswith(WELCOME) for t in feed_texts(screen)))
        assert app.demo_room is not None
        demo_keys = app.demo_room.keys

        # Reply, from the composer, to the newest note of a simulated learner.
        def on_a_demo_note() -> bool:
            selected = screen.feed.selected_entry
            if selected is not None and selected.event.kind == kinds.NOTE:
                return selected.event.author in demo_keys
            screen.feed.action_previous()
            return False

        await wait_for(pilot, on_a_demo_note)
        parent = screen.feed.selected_entry
        assert parent is not None
        by_id = {row.entry.event.id: row.entry.event for row in screen.feed.rows}
        thread = [parent.event.id]
        while (above := by_id[thread[-1]].refs.get("reply_to")) is not None:
            thread.append(above)
        await pilot.press("r")
        screen.composer.input.text = "Hi all, I'm new here!"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "Hi all, I'm new here!" in feed_texts(screen))

    async with Node(home, NodeConfig(watch=False)) as node:
        kept = [entry.event for entry in await node.feed(DEMO_CIRCLE)]
        mine = [event for event in kept if event.author == node.public_key]
        assert [event.body["text"] for event in mine] == ["Hi all, I'm new here!"]
        assert {event.id for event in kept if event.author in demo_keys} == set(thread)


async def test_the_demo_offer_shows_its_buttons_at_80_by_24(home: Home) -> None:
    """Its text once pushed the buttons below the screen of a small terminal."""
    async with Node(home, NodeConfig(watch=False)) as node:
        await node.create_identity("Ana")
    async with running(home, size=(80, 24)) as (app, pilot):
        await main_screen(app, pilot)
        app.push_screen(DemoDialog())
        await wait_for(pilot, lambda: bool(app.screen.query("#open")))
        await pilot.pause()
        for button in ("#open", "#cancel"):
            region = app.screen.query_one(button).region
            assert region.height > 0
            assert region.bottom <= 24, f"{button} is cut off at {region}"
