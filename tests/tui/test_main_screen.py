"""The main screen over a real node: feed, composer, channels, live events, dialogs."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from pathlib import Path
from unittest.mock import AsyncMock

from textual.widgets import Footer, Input, Static
from textual.widgets._toast import Toast

from peernode.home import Home
from peernode.node import Node, NodeConfig
from protocol import kinds
from protocol.event import decode_event
from tests.tui.circles.helpers import CIRCLE
from tests.tui.helpers import (
    ANA,
    BO,
    NOW,
    feed_texts,
    main_screen,
    note,
    running,
    type_text,
    wait_for,
)
from tui.app import PeernodeApp
from tui.circles.report import ReportScreen
from tui.commands import PeernodeCommands
from tui.dialogs.add_peer import AddPeerDialog
from tui.feed.channel_dialog import ChannelDialog
from tui.feed.channels import ChannelList
from tui.feed.composer import NoteInput
from tui.screens.help import HelpScreen
from tui.screens.main import MainScreen
from tui.screens.profile import ProfileScreen
from tui.widgets.peers import PeerList
from tui.widgets.status import SyncIndicator


async def test_the_feed_shows_the_newest_notes_threaded(room: Home) -> None:
    async with running(room) as (app, pilot):
        screen = await main_screen(app, pilot)
        rows = screen.feed.rows
        texts = feed_texts(screen)
        assert texts[0] == "Welcome to the lobby! Say hi."
        assert texts[-1] == "Anyone up for a *pairing* session later?"
        # the answer and the thanks sit under the question, indented
        question = texts.index("How do I read a file line by line in **Rust**?")
        assert rows[question + 1].depth == 1
        assert rows[question + 2].depth == 2
        assert texts[question + 2] == "Thanks, that works!"
        unknown = [row for row in rows if not row.entry.known]
        assert [row.entry.event.kind for row in unknown] == ["example/poll@1"]
        assert screen.feed.selected_entry is not None
        assert screen.feed.selected_entry.event.body["text"] == texts[-1]
        assert str(screen.feed.border_title) == "#lobby"


async def test_posting_from_the_composer_stores_a_signed_note(room: Home) -> None:
    async with running(room) as (app, pilot):
        screen = await main_screen(app, pilot)
        await pilot.press("w")
        assert isinstance(app.focused, NoteInput)
        await type_text(pilot, "Hello room")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "Hello room" in feed_texts(screen))
        assert screen.composer.text == ""
    async with Node(room, NodeConfig(watch=False)) as node:
        entries = [e for e in await node.feed("lobby") if e.event.body.get("text") == "Hello room"]
        assert len(entries) == 1
        event = decode_event(entries[0].event.raw)  # verifies the signature
        assert event.author == ANA.public_key
        assert event.kind == kinds.NOTE


async def test_reply_to_the_selected_note_and_escape_cancels(room: Home) -> None:
    async with running(room) as (app, pilot):
        screen = await main_screen(app, pilot)
        parent = screen.feed.selected_entry
        assert parent is not None
        await pilot.press("r")
        assert screen.composer.reply_to == parent
        assert isinstance(app.focused, NoteInput)
        await pilot.press("escape")
        assert screen.composer.reply_to is None
        await pilot.press("escape")  # no reply left: back to the feed
        assert app.focused is screen.feed
        await pilot.press("r")
        screen.composer.input.text = "Count me in"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "Count me in" in feed_texts(screen))
        row = next(r for r in screen.feed.rows if r.entry.event.body.get("text") == "Count me in")
        assert row.entry.event.refs["reply_to"] == parent.event.id
        assert row.depth == 1


async def test_an_event_written_by_another_process_appears(
    room: Home, cli_env: dict[str, str]
) -> None:
    async with running(room) as (app, pilot):
        screen = await main_screen(app, pilot)
        process = await asyncio.create_subprocess_exec(
            *peernode_command(),
            "--home",
            str(room.path),
            "post",
            "Written by the CLI",
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
            env=cli_env,
        )
        _, errors = await process.communicate()
        assert process.returncode == 0, errors.decode()
        await wait_for(pilot, lambda: "Written by the CLI" in feed_texts(screen), within=5)
        assert feed_texts(screen)[-1] == "Written by the CLI"


def peernode_command() -> list[str]:
    """`python -m peernode`, or the console script if the module cannot run."""
    if importlib.util.find_spec("peernode.__main__") is not None:
        return [sys.executable, "-m", "peernode"]
    return [str(Path(sys.executable).with_name("peernode"))]


async def test_switching_channels_changes_the_feed(room: Home) -> None:
    async with running(room) as (app, pilot):
        screen = await main_screen(app, pilot)
        await pilot.press("c")
        assert isinstance(app.focused, ChannelList)
        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: screen.channel == "rust" and not screen.feed.fetching)
        assert feed_texts(screen) == ["Vectors or slices?", "Slices, when you only read."]
        assert str(screen.feed.border_title) == "#rust"
        assert app.focused is screen.feed


async def test_unread_counts_for_channels_not_shown(room: Home) -> None:
    async with running(room) as (app, pilot):
        screen = await main_screen(app, pilot)
        async with Node(room, NodeConfig(watch=False)) as other:
            await other.store_signed([note(BO, "New in rust", channel="rust", at=NOW)])
        channels = screen.query_one(ChannelList)

        def rust_prompt() -> str:
            return str(channels.get_option("rust").prompt)

        await wait_for(pilot, lambda: "(1 new)" in rust_prompt())
        screen.switch_channel("rust")
        await wait_for(pilot, lambda: "New in rust" in feed_texts(screen))
        assert "new" not in rust_prompt()


async def test_opening_a_new_channel_by_name(room: Home) -> None:
    async with running(room) as (app, pilot):
        screen = await main_screen(app, pilot)
        await pilot.press("n")
        assert isinstance(app.screen, ChannelDialog)
        app.screen.query_one(Input).value = "Bad Name"
        await pilot.press("enter")
        assert isinstance(app.screen, ChannelDialog)  # refused, with a reason
        assert str(app.screen.query_one("#dialog-error", Static).content) == (
            "Write the name with at most 64 lowercase letters, digits, '.', '-' or '_',"
            " starting with a letter or digit."
        )
        app.screen.query_one(Input).value = ""
        await pilot.press("enter")
        assert str(app.screen.query_one("#dialog-error", Static).content) == (
            "Give the channel a name, e.g. sql-101."
        )
        app.screen.query_one(Input).value = "algebra"
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.channel == "algebra" and not screen.feed.fetching)
        assert feed_texts(screen) == []
        assert "algebra" in screen.query_one(ChannelList).channels


async def test_no_peers_offers_help(room: Home) -> None:
    async with running(room, no_peer_after=0.0) as (app, pilot):
        screen = await main_screen(app, pilot)
        peers = screen.query_one(PeerList)
        assert "No peers found yet" in str(peers.query_one("#peer-empty").render())
    async with running(room, no_peer_after=60.0) as (app, pilot):
        screen = await main_screen(app, pilot)
        peers = screen.query_one(PeerList)
        assert "Looking for peers" in str(peers.query_one("#peer-empty").render())


async def test_add_peer_calls_connect_when_the_node_can(room: Home) -> None:
    async with running(room) as (app, pilot):
        await main_screen(app, pilot)
        connect = AsyncMock()
        app.node.connect = connect  # type: ignore[attr-defined]
        await pilot.press("a")
        assert isinstance(app.screen, AddPeerDialog)
        app.screen.query_one(Input).value = "10.77.0.9:http"
        await pilot.press("enter")
        assert isinstance(app.screen, AddPeerDialog)
        app.screen.query_one(Input).value = "192.168.1.20:7654"
        await pilot.press("enter")
        await wait_for(pilot, lambda: connect.await_count == 1)
        connect.assert_awaited_once_with("192.168.1.20", 7654)
        await pilot.press("a")
        assert isinstance(app.screen, AddPeerDialog)
        app.screen.query_one(Input).value = "10.77.0.9"  # the port is almost always 7420
        await pilot.press("enter")
        await wait_for(pilot, lambda: connect.await_count == 2)
        connect.assert_awaited_with("10.77.0.9", 7420)


async def test_help_lists_the_key_bindings(room: Home) -> None:
    async with running(room) as (app, pilot):
        await main_screen(app, pilot)
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        keys = {keys for _, rows in app.screen.sections for keys, _ in rows}
        assert {"Ctrl+S / Ctrl+Enter", "r / Enter", "Home", "End", "F1", "F2", "n", "a"} <= keys
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)


async def test_profile_screen_updates_the_profile(room: Home) -> None:
    async with running(room) as (app, pilot):
        await main_screen(app, pilot)
        await pilot.press("f2")
        assert isinstance(app.screen, ProfileScreen)
        app.screen.query_one("#learning", Input).value = "Rust and Go"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))
        assert app.node.my_profile().learning == "Rust and Go"
        assert app.node.my_profile().name == "Ana"


async def test_command_palette_offers_every_action(room: Home) -> None:
    async with running(room) as (app, pilot):
        screen = await main_screen(app, pilot)
        provider = PeernodeCommands(screen)
        names = [hit.text async for hit in provider.discover()]
        offered = ("Help", "Profile", "add a peer", "demo room", "Channel: go to #rust", "send")
        for wanted in offered:
            assert any(wanted.lower() in str(name).lower() for name in names), wanted
        hits = [hit async for hit in provider.search("go to rust")]
        assert hits
        app.call_later(hits[0].command)
        await wait_for(pilot, lambda: screen.channel == "rust")


async def test_the_demo_explains_itself(room: Home) -> None:
    # 'd' opens the network check: tests/tui/test_doctor.py
    async with running(room) as (app, pilot):
        await main_screen(app, pilot)
        await pilot.press("o")
        assert app.screen.title_text  # type: ignore[attr-defined]
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)


async def test_only_a_study_circle_offers_its_report(room: Home) -> None:
    async with running(room) as (app, pilot):
        screen = await main_screen(app, pilot)
        assert screen.channel == "lobby"
        await pilot.press("i")
        await wait_for(pilot, lambda: bool(app._notifications))
        (notice,) = app._notifications
        assert notice.message.startswith("#lobby has no study circle, so it has no report")
        assert isinstance(app.screen, MainScreen)


async def test_a_study_circle_opens_its_report(circle_room: Home) -> None:
    async with running(circle_room) as (app, pilot):
        screen = await main_screen(app, pilot)
        screen.switch_channel(CIRCLE)
        await wait_for(pilot, lambda: screen.channel == CIRCLE)
        await pilot.press("i")
        await wait_for(pilot, lambda: isinstance(app.screen, ReportScreen))


async def test_a_failure_toast_leaves_the_sync_indicator_in_sight(room: Home) -> None:
    async with Node(room, NodeConfig(watch=False, verify_workers=1)) as node:
        app = PeernodeApp(node, clock=lambda: NOW, no_peer_after=0.0)
        async with app.run_test(size=(100, 30), notifications=True) as pilot:
            screen = await main_screen(app, pilot)
            app.notify("Could not link to 10.0.0.9:7420.", severity="error", timeout=30)
            await wait_for(pilot, lambda: bool(screen.query(Toast)))
            await pilot.pause()
            toast = screen.query_one(Toast)
            assert toast.region.height > 0
            assert not toast.region.overlaps(screen.query_one(SyncIndicator).region)
            assert not toast.region.overlaps(screen.query_one(Footer).region)
