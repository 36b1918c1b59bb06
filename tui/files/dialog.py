"""A shared file's card on its own, over the feed: Enter on a file in the feed opens it."""

from __future__ import annotations

import contextlib
from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from peernode.errors import NodeError
from peernode.node import Node
from tui.files.card import FileCard
from tui.files.desk import FileDesk


class FileDialog(ModalScreen[None]):
    """The card of the file shared by event `file` (its presence read fresh)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "close", "Close")]

    def __init__(self, node: Node, file: bytes, desk: FileDesk) -> None:
        super().__init__()
        self.node = node
        self.file = file
        self.desk = desk

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog file-dialog"):
            yield Static("Loading…", classes="dialog-title", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Close", id="close")

    def on_mount(self) -> None:
        self._load()

    @work(exit_on_error=False)
    async def _load(self) -> None:
        try:
            shared = await self.node.files.find(self.file)
        except NodeError as exc:
            self.query_one(".dialog-title", Static).update(str(exc))
            return
        mine = self.node.has_identity and shared.event.author == self.node.public_key
        card = FileCard(self.node, shared, self.desk, mine=mine)
        self.query_one(".dialog-title", Static).update(f"Shared with #{shared.circle}")
        await self.query_one(".file-dialog").mount(card, before=1)
        next(button for button in card.query(Button) if button.display).focus()
        if mine and self.node.online:
            with contextlib.suppress(NodeError):
                card.update_file(shared, await self.node.files.holders(shared.id))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "close":
            self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)
