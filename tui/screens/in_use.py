"""When this home's node runs in another process: say which, and offer the choices.

One node per home: the room never starts a second one beside it. A `peernode serve`
can be taken over (asked to stop through the control API, then the room opens here);
another room is in another terminal, which is where the learner can go on.
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
        choices = "take over to stop it and open the room here, or quit"
    elif holder.role == "room":
        choices = "switch to the terminal where it is open, or quit it there and check again"
    else:
        choices = "stop it and check again, or quit"
    return f"This home's node already runs in {named}: {choices}."


class HomeInUseScreen(Screen[bool]):
    """Dismisses with True once the home is free (taken over, or the other one quit)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("t", "take_over", "Take over"),
        Binding("r", "check_again", "Check again"),
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
            yield Static("", id="in-use-error", markup=False)
            with Horizontal(classes="dialog-buttons"):
                if self.can_take_over:
                    yield Button("Take over (t)", variant="primary", id="take-over")
                else:
                    yield Button("Check again (r)", variant="primary", id="check-again")
                yield Button("Quit (q)", id="quit")
        yield Footer()

    @property
    def can_take_over(self) -> bool:
        return self.holder.role == "serve"

    @property
    def text(self) -> str:
        return str(self.query_one("#in-use-text", Static).content)

    @property
    def error(self) -> str:
        return str(self.query_one("#in-use-error", Static).content)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "take_over":
            return self.can_take_over and (None if self.busy else True)
        if action == "check_again":
            return not self.can_take_over
        return True

    def on_button_pressed(self, event: Button.Pressed) -> None:
        actions = {"take-over": self.action_take_over, "check-again": self.action_check_again}
        actions.get(event.button.id or "", self.app.exit)()

    def action_check_again(self) -> None:
        holder = self.node.home_holder()
        if holder is None:
            self.dismiss(True)
            return
        self.holder = holder
        self.query_one("#in-use-text", Static).update(in_use_text(holder))
        self._show_error("It still runs.")

    def action_take_over(self) -> None:
        if not self.can_take_over or self.busy:
            return
        self.busy = True
        self.refresh_bindings()
        self._show_error(f"Asking {self.holder.what()} to stop…")
        self._take_over()

    @work(exclusive=True, group="take-over", exit_on_error=False)
    async def _take_over(self) -> None:
        try:
            await self.node.take_over()
        except (NodeError, OSError) as exc:
            self.busy = False
            self.refresh_bindings()
            self._show_error(f"Not taken over: {exc}.")
            return
        self.dismiss(True)

    def _show_error(self, text: str) -> None:
        self.query_one("#in-use-error", Static).update(text)
