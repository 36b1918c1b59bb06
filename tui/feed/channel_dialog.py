"""Open a channel by name: an existing one, or a new one that starts with your note."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from peernode.circles.model import MAX_SLUG_CHARS
from peernode.views import channel_problem


class ChannelDialog(ModalScreen[str | None]):
    """Dismisses with a valid channel name, or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static("Open or start a channel", classes="dialog-title")
            yield Label("Lowercase letters, digits, '.', '-' or '_' (e.g. rust-beginners).")
            yield Input(placeholder="channel name", max_length=MAX_SLUG_CHARS, id="channel-name")
            yield Static("", id="dialog-error", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Open", variant="primary", id="ok")
                yield Button("Cancel", id="cancel")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "ok":
            self._submit()
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def _submit(self) -> None:
        name = self.query_one("#channel-name", Input).value.strip().lstrip("#")
        if not name:
            self.query_one("#dialog-error", Static).update("Give the channel a name, e.g. sql-101.")
            return
        if channel_problem(name) is not None:
            self.query_one("#dialog-error", Static).update(
                f"Write the name with at most {MAX_SLUG_CHARS} lowercase letters, digits,"
                " '.', '-' or '_', starting with a letter or digit."
            )
            return
        self.dismiss(name)
