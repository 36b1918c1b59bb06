"""Ask for a peer's address (HOST or HOST:PORT) when discovery finds nobody."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from peernode.errors import BadInput
from peernode.views import parse_address as parse_node_address


def parse_address(text: str) -> tuple[str, int]:
    """HOST, HOST:PORT or [IPv6]:PORT -> (host, port; 7420 if not given); ValueError if bad."""
    try:
        return parse_node_address(text.strip())
    except BadInput as exc:
        raise ValueError(str(exc)) from None


class AddPeerDialog(ModalScreen[tuple[str, int] | None]):
    """Dismisses with (host, port), or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static("Add a peer by address", classes="dialog-title")
            yield Label("Ask the other learner for the address in their status bar.")
            yield Input(placeholder="HOST or HOST:PORT, e.g. 192.168.1.20", id="address")
            yield Static("", id="dialog-error", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Connect", variant="primary", id="ok")
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
        try:
            address = parse_address(self.query_one("#address", Input).value)
        except ValueError as exc:
            self.query_one("#dialog-error", Static).update(str(exc))
            return
        self.dismiss(address)
