"""Offer the demo room: what it is, what stays afterwards, and a button to open it."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Markdown, Static

DEMO = """\
Try peernode alone: simulated learners, marked **(demo)**, meet in a sample
circle, **#demo-study-circle**, on this laptop. They RSVP, check in, do an
activity, ask and answer, and close with plus/delta: the circle page (**g**),
meeting mode (**m**) and the report (**i**) fill up within a minute. Write,
check in, ask: they answer.

**Nothing of the demo leaves this laptop**, even when you are linked with
others. When you close peernode they leave; only what you replied to or
checked in at stays.
"""


class DemoDialog(ModalScreen[bool]):
    """Dismisses with True to open the demo room, False to leave it closed."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q", "cancel", "Not now")]

    title_text = "The demo room"

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self.title_text, classes="dialog-title", markup=False)
            yield Markdown(DEMO)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Open the demo room", variant="primary", id="open")
                yield Button("Not now", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#open", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "open")

    def action_cancel(self) -> None:
        self.dismiss(False)
