"""The peernode terminal UI: one Textual app over one node, in one event loop.

`run(home, config)` is what `peernode` (no sub-command) calls, with the node's
configuration built at the CLI edge. The app talks to the node only through its
facade: widgets get data as attributes, workers do the slow work and report
back with messages.
"""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import replace
from pathlib import Path
from typing import ClassVar

from textual import work
from textual.app import App
from textual.binding import Binding, BindingType

from peernode.demo import DEMO_CIRCLE, DemoRoom
from peernode.errors import NodeError
from peernode.home import Home
from peernode.node import Node, NodeConfig
from peernode.views import now_ms
from tui.commands import PeernodeCommands
from tui.dialogs.add_peer import AddPeerDialog
from tui.dialogs.demo import DemoDialog
from tui.files import FileDesk
from tui.screens.doctor import DoctorScreen
from tui.screens.help import HelpScreen
from tui.screens.in_use import HomeInUseScreen
from tui.screens.main import MainScreen
from tui.screens.profile import ProfileScreen
from tui.screens.welcome import WelcomeScreen
from tui.text import Clock

log = logging.getLogger(__name__)


class PeernodeApp(App[None]):
    """The study room. `clock` (ms) is injectable so tests can fix relative times."""

    TITLE = "peernode"
    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute: subclasses live elsewhere
    COMMANDS: ClassVar = App.COMMANDS | {PeernodeCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f1", "help", "Help"),
        Binding("f2", "profile", "Profile"),
        Binding("ctrl+q", "quit", "Quit", priority=True),
    ]

    def __init__(
        self,
        node: Node,
        *,
        clock: Clock = now_ms,
        no_peer_after: float = 5.0,
        status_interval: float = 1.0,
        demo: bool = False,
        doctor_seconds: float | None = None,
        file_desk: FileDesk | None = None,
    ) -> None:
        super().__init__()
        self.node = node
        self.clock = clock
        self.no_peer_after = no_peer_after
        self.status_interval = status_interval
        self.open_demo_at_start = demo
        self.doctor_seconds = doctor_seconds
        """How long the network check listens for peers (None: as long as the CLI's)."""
        self.file_desk = file_desk or FileDesk.from_env(os.environ)
        """Where copies of shared files are saved, and what opens them."""
        self.demo_room: DemoRoom | None = None
        """The demo room, once opened: it stops when the app closes."""

    def on_mount(self) -> None:
        holder = self.node.home_holder()
        if holder is not None:  # one node per home: name the other, offer the choices
            self.push_screen(HomeInUseScreen(self.node, holder), lambda _free: self._open())
        else:
            self._open()

    def _open(self) -> None:
        if self.node.has_profile():
            self._open_main()
        else:
            self.push_screen(WelcomeScreen(self.node), lambda _profile: self._open_main())

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "profile":
            return self.node.has_profile()  # hidden until there is a profile
        return True

    def _open_main(self) -> None:
        if self.node.attached:
            self.notify(
                "This room uses the node already running on this home: its links show"
                " here, and what you write goes out through it.",
                title="Attached",
                timeout=8,
            )
        self._start_network()
        self.push_screen(
            MainScreen(
                self.node,
                clock=self.clock,
                no_peer_after=self.no_peer_after,
                status_interval=self.status_interval,
            )
        )

    @property
    def main_screen(self) -> MainScreen | None:
        for screen in self.screen_stack:
            if isinstance(screen, MainScreen):
                return screen
        return None

    # -- actions (the command palette offers all of them) ------------------------------

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.BINDINGS))

    def action_profile(self) -> None:
        if not self.node.has_profile():
            self.notify("Choose a display name first.", severity="warning")
        elif not isinstance(self.screen, ProfileScreen):
            self.push_screen(ProfileScreen(self.node))

    def action_doctor(self) -> None:
        if not isinstance(self.screen, DoctorScreen):
            self.push_screen(DoctorScreen(self.node, listen_seconds=self.doctor_seconds))

    def action_open_demo(self) -> None:
        if self.demo_room is not None:
            self._show_demo()
            return

        def chosen(open_it: bool | None) -> None:
            if open_it:
                self._open_demo()

        self.push_screen(DemoDialog(), chosen)

    def action_add_peer(self) -> None:
        def chosen(address: tuple[str, int] | None) -> None:
            if address is not None:
                self._connect(*address)

        self.push_screen(AddPeerDialog(), chosen)

    @work(group="network", exit_on_error=False)
    async def _start_network(self) -> None:
        """Listen and look for peers (needs the identity, so only from here on)."""
        try:
            await self.node.start_network()
        except (NodeError, OSError) as exc:
            self.notify(
                f"Networking did not start ({exc}); you can still read and write.",
                title="Offline",
                severity="warning",
                timeout=10,
                markup=False,
            )
            return
        if self.open_demo_at_start:
            self._open_demo()

    @work(group="demo", exit_on_error=False)
    async def _open_demo(self) -> None:
        """Start the demo room beside the node (with or without networking: it uses none)."""
        if self.demo_room is not None:
            return
        if self.node.attached:
            self.notify(
                "The demo room opens only where this home's node runs: in the other"
                " terminal, or here after quitting it there.",
                severity="warning",
            )
            return
        self.notify("Opening the demo room…", timeout=3)
        room = self.demo_room = DemoRoom(self.node)
        try:
            await room.start()
        except (NodeError, OSError) as exc:
            self.demo_room = None
            await room.stop()
            self.notify(f"The demo room did not open: {exc}", severity="error", markup=False)
            return
        self._show_demo()

    def _show_demo(self) -> None:
        screen = self.main_screen
        if self.demo_room is None or screen is None:
            return
        screen.demo_keys = self.demo_room.keys
        if screen.channel != DEMO_CIRCLE:  # the channel the demo learners write in
            screen.switch_channel(DEMO_CIRCLE)
        self.notify(
            "Learners marked (demo) are simulated, and nothing of the demo leaves this "
            "laptop. Press g for the circle page; today's meeting starts in a moment.",
            title="The demo room is open",
            timeout=8,
        )

    async def on_unmount(self) -> None:
        """The demo room closes with the app. The node goes offline first, so forgetting
        the demo learners needs no network restart."""
        room = self.demo_room
        if room is None:
            return
        try:
            try:
                await self.node.stop_network()
            finally:
                await room.stop()
        except (NodeError, OSError):
            log.exception("the demo room did not close cleanly")

    def on_main_screen_node_left(self, message: MainScreen.NodeLeft) -> None:
        """The node this room was attached to stopped: run the home's node here now."""
        self.notify("The node this room was attached to stopped; it runs here now.", timeout=6)
        self._start_network()

    @work(group="connect", exit_on_error=False)
    async def _connect(self, host: str, port: int) -> None:
        self.notify(f"Connecting to {host}:{port}…", timeout=3, markup=False)
        try:
            await self.node.connect(host, port)
        except (NodeError, OSError) as exc:
            # The node's message is already one sentence that names the address.
            self.notify(str(exc), title="Not connected", severity="error", timeout=10, markup=False)
            return
        self.notify(f"Linked to {host}:{port}.", timeout=4, markup=False)


async def main(home: Home, config: NodeConfig, *, demo: bool = False) -> None:
    """Run the node and the app together; closing the app stops the node cleanly.
    demo: open the demo room at once (config keeps the node on this laptop)."""
    async with Node(home, replace(config, role="room")) as node:
        desk = FileDesk.from_env(os.environ)
        await PeernodeApp(node, demo=demo, file_desk=desk).run_async()


def run(home: Home, config: NodeConfig, *, demo: bool = False) -> None:
    asyncio.run(main(home, config, demo=demo))
