"""First run: the welcome screen asks for a name and creates the identity."""

from __future__ import annotations

from textual.widgets import Input, Static

from peernode.home import Home
from peernode.node import Node, NodeConfig
from tests.tui.helpers import main_screen, running, type_text, wait_for
from tui.screens.main import MainScreen
from tui.screens.welcome import WelcomeScreen


async def test_first_run_name_entry_creates_the_identity(home: Home) -> None:
    async with running(home, size=(80, 24)) as (app, pilot):
        await wait_for(pilot, lambda: isinstance(app.screen, WelcomeScreen))
        assert not home.has_identity()
        await type_text(pilot, "Dana")
        await pilot.press("enter")  # next field: what I'm learning
        await type_text(pilot, "Rust")
        await pilot.press("ctrl+s")  # Start
        screen = await main_screen(app, pilot)
        assert isinstance(screen, MainScreen)
        assert home.key_path.exists()
    async with Node(home, NodeConfig(watch=False)) as node:
        assert node.has_profile()
        assert node.my_profile().name == "Dana"
        assert node.my_profile().learning == "Rust"


async def test_an_empty_name_is_refused_with_a_message(home: Home) -> None:
    async with running(home, size=(80, 24)) as (app, pilot):
        await wait_for(pilot, lambda: isinstance(app.screen, WelcomeScreen))
        await pilot.click("#start")
        await pilot.pause()
        error = app.screen.query_one("#form-error", Static)
        assert "display name" in str(error.render())
        assert isinstance(app.focused, Input)
        assert not home.has_identity()
        await type_text(pilot, "D")  # the message goes as soon as a name is typed
        await wait_for(pilot, lambda: str(error.render()) == "")
        assert not app.screen.query_one("#welcome-form").has_class("-error")
