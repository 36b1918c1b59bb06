"""The mouse does what the keys do: pick a channel, a note, a help link."""

from __future__ import annotations

from peernode.home import Home
from tests.tui.helpers import feed_texts, main_screen, running, wait_for
from tui.dialogs.add_peer import AddPeerDialog
from tui.screens.main import MainScreen


async def test_clicks_select_channels_notes_and_offers(room: Home) -> None:
    async with running(room) as (app, pilot):
        screen = await main_screen(app, pilot)
        feed = screen.feed

        await pilot.click("#peer-empty", offset=(4, 3))  # "▸ Add peer by address"
        await wait_for(pilot, lambda: isinstance(app.screen, AddPeerDialog))
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)

        last = feed.selected_entry
        await pilot.click("#feed", offset=(6, 2))  # a header line near the top
        assert feed.selected_entry is not None
        assert feed.selected_entry != last
        assert app.focused is feed

        await pilot.click("#channels", offset=(4, 2))  # below the border: #lobby, #rust
        await wait_for(pilot, lambda: screen.channel == "rust" and not feed.fetching)
        assert feed_texts(screen) == ["Vectors or slices?", "Slices, when you only read."]
