"""First run: ask for a display name, then create the identity and profile."""

from __future__ import annotations

from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Center, Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, Static

from peernode.errors import NodeError
from peernode.node import Node
from peernode.views import Profile
from tui.widgets.profile_form import ProfileForm

WELCOME = (
    "Study with the people around you. Your notes are signed with a key that only "
    "this laptop holds and are shared directly with learners on your network: "
    "no server, no account.\n\n"
    "Choose how others will see you (you can change it later with F2)."
)


class WelcomeScreen(Screen[Profile]):
    """Dismisses with the new profile once the identity exists."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "start", "Start"),
    ]

    def __init__(self, node: Node) -> None:
        super().__init__()
        self.node = node

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="welcome"), Center(), Vertical(id="welcome-box"):
            yield Static("Welcome to peernode", classes="dialog-title")
            yield Static(WELCOME, id="welcome-text", markup=False)
            yield ProfileForm(id="welcome-form")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Start", variant="primary", id="start")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#name", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.action_start()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.action_start()

    def action_start(self) -> None:
        fields = self.query_one(ProfileForm).check()
        if fields is not None:
            self.query_one("#start", Button).disabled = True
            self._create(fields.name, fields.learning, fields.can_help)

    @work(exclusive=True, group="welcome")
    async def _create(self, name: str, learning: str, can_help: str) -> None:
        try:
            profile = await self.node.create_identity(name, learning, can_help)
        except NodeError as exc:
            self.query_one(ProfileForm).show_error(str(exc))
            self.query_one("#start", Button).disabled = False
            return
        self.dismiss(profile)
