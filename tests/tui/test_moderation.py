"""Mute, block and hide from the feed (x), and the list with undo (X), over a real node."""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widgets import OptionList

from peernode.home import Home
from tests.tui.helpers import BO, NOW, feed_texts, main_screen, note, running, wait_for
from tui.dialogs.moderation import ModerateDialog, ModerationDialog
from tui.screens.main import MainScreen


async def select(pilot: Pilot[None], screen: MainScreen, text: str) -> None:
    """Move the feed's selection up to the note that says `text`."""
    for _ in range(len(screen.feed.rows)):
        entry = screen.feed.selected_entry
        if entry is not None and entry.event.body.get("text") == text:
            return
        await pilot.press("up")
    raise AssertionError(f"no note {text!r} in the feed")


async def test_mute_the_selected_author_then_undo_it_from_the_list(room: Home) -> None:
    async with running(room) as (app, pilot):
        screen = await main_screen(app, pilot)
        await select(pilot, screen, "Thanks, that works!")
        selected = screen.feed.selected_entry
        assert selected is not None
        assert selected.event.author == BO.public_key

        await pilot.press("x")
        assert isinstance(app.screen, ModerateDialog)
        await pilot.click("#mute")

        await wait_for(pilot, lambda: "Thanks, that works!" not in feed_texts(screen))
        assert "Welcome to the lobby! Say hi." in feed_texts(screen)  # Ana's stay
        await pilot.press("X")
        assert isinstance(app.screen, ModerationDialog)
        options = app.screen.query_one(OptionList)
        await wait_for(pilot, lambda: options.option_count == 1 and not options.disabled)
        assert str(options.get_option_at_index(0).prompt).startswith("muted    Bo (")

        await pilot.press("enter")
        await wait_for(pilot, lambda: options.disabled)  # nothing left to undo
        await pilot.press("escape")
        await wait_for(pilot, lambda: "Thanks, that works!" in feed_texts(screen))


async def test_hide_one_note_for_myself(room: Home) -> None:
    async with running(room) as (app, pilot):
        screen = await main_screen(app, pilot)
        await select(pilot, screen, "Thanks, that works!")
        await pilot.press("x")
        await pilot.click("#hide")

        await wait_for(pilot, lambda: "Thanks, that works!" not in feed_texts(screen))
        assert "How do I read a file line by line in **Rust**?" in feed_texts(screen)  # Bo's


async def test_a_muted_persons_new_notes_stay_out_of_the_live_feed(room: Home) -> None:
    async with running(room) as (app, pilot):
        screen = await main_screen(app, pilot)
        await app.node.moderate(BO.public_key, "mute")
        await app.node.ingest([note(BO, "muted news", at=NOW).raw])
        await app.node.post("my own news")

        await wait_for(pilot, lambda: "my own news" in feed_texts(screen))
        assert "muted news" not in feed_texts(screen)
