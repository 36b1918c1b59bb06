"""Screenshots of the main, welcome and help screens (fixed keys, events and clock).

Update after an intended change with: pytest tests/tui --snapshot-update
"""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, TextArea

from peernode.home import Home
from peernode.node import Node, NodeConfig
from tests.tui.helpers import fixed_clock, wait_for
from tui.app import PeernodeApp
from tui.screens.main import MainScreen
from tui.screens.welcome import WelcomeScreen


class HostedApp(PeernodeApp):
    """The app opening its node inside the event loop that snap_compare runs."""

    def __init__(self, home: Home) -> None:
        super().__init__(
            Node(home, NodeConfig(watch=False, verify_workers=1)),
            clock=fixed_clock,
            no_peer_after=0.0,
            status_interval=60.0,
        )

    async def run_async(self, **kwargs: Any) -> Any:
        async with self.node:
            return await super().run_async(**kwargs)


async def steady(pilot: Pilot[None]) -> None:
    """Wait for the first screen to be filled in, and stop cursors blinking."""
    app = pilot.app
    await wait_for(
        pilot,
        lambda: (
            isinstance(app.screen, WelcomeScreen)
            or (isinstance(app.screen, MainScreen) and app.screen.ready.is_set())
        ),
    )
    for widget in app.screen.query("Input, TextArea"):
        assert isinstance(widget, Input | TextArea)
        widget.cursor_blink = False
    await pilot.pause()


@pytest.mark.parametrize("size", [(80, 24), (120, 36)])
def test_main_screen(snap_compare: Any, room: Home, size: tuple[int, int]) -> None:
    assert snap_compare(HostedApp(room), terminal_size=size, run_before=steady)


def test_welcome_screen(snap_compare: Any, home: Home) -> None:
    assert snap_compare(HostedApp(home), terminal_size=(80, 24), run_before=steady)


def test_help_screen(snap_compare: Any, room: Home) -> None:
    assert snap_compare(HostedApp(room), press=["f1"], terminal_size=(80, 24), run_before=steady)
