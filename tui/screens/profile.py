"""Edit my profile: publishes a new signed version that every peer passes on."""

from __future__ import annotations

from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Center, Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, Static

from peernode.challenges.text import my_badges_text
from peernode.errors import NodeError
from peernode.node import Node
from tui.widgets.profile_form import ProfileForm


class ProfileScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save"),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, node: Node) -> None:
        super().__init__()
        self.node = node

    def compose(self) -> ComposeResult:
        profile = self.node.my_profile()
        with VerticalScroll(id="profile"), Center(), Vertical(id="profile-box"):
            yield Static("Your profile", classes="dialog-title")
            yield Static(
                f"Key fingerprint: {profile.fingerprint}\n"
                "Others can check it is really you by comparing this fingerprint.",
                id="profile-key",
                markup=False,
            )
            yield ProfileForm(profile, id="profile-form")
            yield Static("", id="profile-badges", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Save", variant="primary", id="save")
                yield Button("Cancel", id="cancel")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#name", Input).focus()
        if self.node.has_identity:
            self._load_badges()

    @work(group="profile-badges", exit_on_error=False)
    async def _load_badges(self) -> None:
        try:
            mine = await self.node.challenges.badges(self.node.public_key)
        except NodeError:
            return  # the form works without them; the storage problem shows in the status bar
        self.query_one("#profile-badges", Static).update(my_badges_text(mine))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.action_save()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            self.action_save()
        else:
            self.action_cancel()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_save(self) -> None:
        fields = self.query_one(ProfileForm).check()
        if fields is not None:
            self._save(fields.name, fields.learning, fields.can_help)

    @work(exclusive=True, group="profile")
    async def _save(self, name: str, learning: str, can_help: str) -> None:
        try:
            await self.node.update_profile(name=name, learning=learning, can_help=can_help)
        except NodeError as exc:
            self.query_one(ProfileForm).show_error(str(exc))
            return
        self.notify("Profile saved and shared with your peers.", timeout=3)
        self.dismiss(None)
