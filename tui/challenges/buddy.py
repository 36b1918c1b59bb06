"""Asking a learner on the same challenge to be my buddy: a choice among those on it."""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.widgets import Select

from tui.dialogs.form import FormDialog, field_row, note, selected


class BuddyDialog(FormDialog[bytes]):
    """Dismisses with the key of the learner chosen, or None."""

    heading = "Ask a buddy"
    ok_label = "Ask"

    def __init__(self, title: str, learners: Sequence[tuple[str, bytes]], suggested: bytes | None):
        super().__init__()
        self.title = title
        self.learners = list(learners)
        self.suggested = suggested

    def intro(self) -> ComposeResult:
        yield note(
            f"Pair up on “{self.title}”: you are buddies once they ask you too."
            " Buddies check in on each other's progress and review each other's work."
        )

    def fields(self) -> ComposeResult:
        options = [(label, key.hex()) for label, key in self.learners]
        chosen = self.suggested.hex() if self.suggested else Select.BLANK
        yield field_row("Buddy", Select(options, value=chosen, id="buddy", prompt="Who?"))

    def result(self) -> bytes:
        value = selected(self.query_one("#buddy", Select))
        if value is None:
            raise ValueError("Choose someone on the challenge.")
        return bytes.fromhex(value)
