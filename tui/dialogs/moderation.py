"""Mute, block or hide from the feed, and the list of what the learner moderated, with undo."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, OptionList, Static
from textual.widgets.option_list import Option

from peernode.moderation import text as moderation_text
from peernode.views import FeedEntry

if TYPE_CHECKING:
    from peernode.node import Node

Choice = Literal["mute", "block", "hide"]


class ModerateDialog(ModalScreen["Choice | None"]):
    """For one feed entry: mute or block its author, or hide it; dismisses with the choice."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q", "cancel", "Cancel")]

    def __init__(self, entry: FeedEntry, *, mine: bool) -> None:
        super().__init__()
        self.entry = entry
        self.mine = mine

    def compose(self) -> ComposeResult:
        name = self.entry.author_name
        with Vertical(classes="dialog"):
            yield Static("What you see", classes="dialog-title", markup=False)
            yield Static(
                "Only for you, on this laptop: nobody is told.", markup=False, id="moderate-note"
            )
            with Horizontal(classes="dialog-buttons"):
                yield Button("Hide this note", variant="primary", id="hide")
                if not self.mine:
                    yield Button(f"Mute {name}", id="mute")
                    yield Button(f"Block {name}", variant="error", id="block")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#hide", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        choice = event.button.id
        self.dismiss(choice if choice in ("mute", "block", "hide") else None)  # type: ignore[arg-type]

    def action_cancel(self) -> None:
        self.dismiss(None)


class ModerationDialog(ModalScreen[bool]):
    """Whom the learner muted or blocked and what they hid; Enter undoes the selected one.
    Dismisses with True when something was undone (the feed is then reloaded)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Close"),
        Binding("u,enter", "undo", "Undo"),
    ]

    def __init__(self, node: Node) -> None:
        super().__init__()
        self.node = node
        self.changed = False
        self._undo: list[tuple[str, bytes]] = []

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static("Muted, blocked and hidden", classes="dialog-title", markup=False)
            yield OptionList(id="moderation-list")
            yield Static("Enter or u undoes the selected line.", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Close", variant="primary", id="close")

    def on_mount(self) -> None:
        self._load()

    @work(exclusive=True, group="load")
    async def _load(self) -> None:
        listing = await self.node.moderation()
        self._undo = [(person.level, person.key) for person in listing.people]
        self._undo += [("hide", hidden.id) for hidden in listing.hidden]
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options(Option(line) for line in moderation_text.lines(listing))
        options.disabled = not self._undo
        if self._undo:
            options.highlighted = 0
        options.focus()

    def action_undo(self) -> None:
        index = self.query_one(OptionList).highlighted
        if index is not None:
            self._undo_line(index)

    @work(exclusive=True, group="undo")
    async def _undo_line(self, index: int) -> None:
        if index >= len(self._undo):
            return
        level, key = self._undo[index]
        if level == "hide":
            await self.node.unhide(key)
        else:
            await self.node.unmoderate(key, "mute" if level == "mute" else "block")
        self.changed = True
        self._load()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self._undo_line(event.option_index)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(self.changed)

    def action_close(self) -> None:
        self.dismiss(self.changed)


async def apply(node: Node, entry: FeedEntry, choice: Choice) -> str:
    """Carry out a ModerateDialog choice; the sentence to show."""
    if choice == "hide":
        await node.hide(entry.event.id)
        return moderation_text.hidden(entry.event.id)
    key = entry.event.author
    await node.moderate(key, choice)
    return moderation_text.done(choice, node.name_of(key), key)
