"""When this home's node runs in another process: say which, and offer the choices.

One node per home: the room never starts a second one beside it. It can attach to the
running node (Node.attach: its links and status through the control API, notes through
the shared database), take over a `peernode serve` (asked to stop through the control
API, then the node runs here), or quit.
"""

from __future__ import annotations

from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Center, Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, Footer, Static

from peernode.errors import NodeError
from peernode.node import Node
from peernode.views import LockHolder


def in_use_text(holder: LockHolder) -> str:
    """One plain sentence: which process holds the home, and the choices here."""
    details = holder.details()
    named = f"{holder.what()} ({details})" if details else holder.what()
    if holder.role == "serve":
        choices = "attach to it here, take it over (stop it and run the node here), or quit"
    elif holder.role == "room":
        choices = "attach to it here, or quit and go on in the terminal where it is open"
    else:
        choices = "attach to it here, or quit"
    return f"This home's node already runs in {named}: {choices}."


class HomeInUseScreen(Screen[bool]):
    """Dismisses with True once this room may go on: attached, or the home free (taken
    over, or the other process quit)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "attach", "Attach"),
        Binding("t", "take_over", "Take over"),
        Binding("q,escape", "app.quit", "Quit"),
    ]

    def __init__(self, node: Node, holder: LockHolder) -> None:
        super().__init__()
        self.node = node
        self.holder = holder
        self.busy = False

    def compose(self) -> ComposeResult:
        with Center(), Vertical(id="in-use-box"):
            yield Static("This home is in use", classes="dialog-title")
            yield Static(in_use_text(self.holder), id="in-use-text", markup=False)
            yield Static("", id="in-use-note", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Attach (a)", variant="primary", id="attach")
                if self.can_take_over:
                    yield Button("Take over (t)", id="take-over")
                yield Button("Quit (q)", id="quit")
        yield Footer()

    @property
    def can_take_over(self) -> bool:
        return self.holder.role == "serve"

    @property
    def text(self) -> str:
        return str(self.query_one("#in-use-text", Static).content)

    @property
    def note(self) -> str:
        return str(self.query_one("#in-use-note", Static).content)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "take_over" and not self.can_take_over:
            return False
        if action in ("attach", "take_over"):
            return None if self.busy else True  # shown, dimmed, while one runs
        return True

    def on_button_pressed(self, event: Button.Pressed) -> None:
        actions = {"attach": self.action_attach, "take-over": self.action_take_over}
        actions.get(event.button.id or "", self.app.exit)()

    def action_attach(self) -> None:
        if not self.busy:
            self._set_busy(f"Attaching to {self.holder.what()}…")
            self._attach_here()

    def action_take_over(self) -> None:
        if self.can_take_over and not self.busy:
            self._set_busy(f"Asking {self.holder.what()} to stop…")
            self._take_over()

    @work(exclusive=True, group="in-use", exit_on_error=False)
    async def _attach_here(self) -> None:
        if self.node.home_holder() is None:  # it quit meanwhile: the node runs here
            self.dismiss(True)
            return
        try:
            await self.node.attach()
        except (NodeError, OSError) as exc:
            self._failed(f"Not attached: {exc}.")
            return
        self.dismiss(True)

    @work(exclusive=True, group="in-use", exit_on_error=False)
    async def _take_over(self) -> None:
        try:
            await self.node.take_over()
        except (NodeError, OSError) as exc:
            self._failed(f"Not taken over: {exc}.")
            return
        self.dismiss(True)

    def _set_busy(self, note: str) -> None:
        self.busy = True
        self.refresh_bindings()
        self.query_one("#in-use-note", Static).update(note)

    def _failed(self, note: str) -> None:
        self.busy = False
        self.refresh_bindings()
        self.query_one("#in-use-note", Static).update(note)
