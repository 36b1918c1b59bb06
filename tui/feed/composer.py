"""Where the learner writes: a multi-line Markdown editor that sends with a key."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Static, TextArea

from peernode.feed_text import QUESTION_KIND
from peernode.views import FeedEntry
from tui.text import clip


class NoteInput(TextArea):
    """The text area of the composer; Ctrl+S (or Ctrl+Enter where the terminal
    reports it) sends, Escape cancels a reply or returns to the feed."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "send", "Send"),
        Binding("ctrl+enter", "send", "Send", show=False),
        Binding("escape", "leave", "Cancel reply / back to feed", show=False),
    ]

    class SendRequested(Message):
        pass

    class LeaveRequested(Message):
        pass

    def action_send(self) -> None:
        self.post_message(self.SendRequested())

    def action_leave(self) -> None:
        self.post_message(self.LeaveRequested())


class Composer(Vertical):
    """The note being written, and the note it answers, if any."""

    class Submitted(Message):
        """The learner wants to send `text` (a reply to `reply_to` if set)."""

        def __init__(self, text: str, reply_to: FeedEntry | None) -> None:
            super().__init__()
            self.text = text
            self.reply_to = reply_to

    class Left(Message):
        """Escape with no reply to cancel: focus should go back to the feed."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.reply_to: FeedEntry | None = None
        self.sending = False

    def compose(self) -> ComposeResult:
        yield Static("", id="reply-banner", markup=False)
        yield NoteInput(
            id="note-input",
            soft_wrap=True,
            show_line_numbers=False,
            tab_behavior="focus",
            placeholder="Write a note (Markdown). Ctrl+S sends.",
        )

    @property
    def input(self) -> NoteInput:
        return self.query_one(NoteInput)

    @property
    def text(self) -> str:
        return self.input.text

    def start_reply(self, entry: FeedEntry, author: str) -> None:
        """Reply to a note, or answer a question (what is sent is then an answer)."""
        self.reply_to = entry
        banner = self.query_one("#reply-banner", Static)
        if entry.event.kind == QUESTION_KIND:
            title = clip(str(entry.body.get("title", "")), 40)
            banner.update(f"↳ Answer {author}'s question (Esc cancels): “{title}”")
        else:
            quote = clip(str(entry.body.get("text", "")), 40)
            banner.update(f"↳ Reply to {author} (Esc cancels): “{quote}”")
        self.add_class("-replying")
        self.input.focus()

    def cancel_reply(self) -> None:
        self.reply_to = None
        self.query_one("#reply-banner", Static).update("")
        self.remove_class("-replying")

    def sent(self) -> None:
        """The note is stored: empty the editor and forget the reply."""
        self.sending = False
        self.input.clear()
        self.cancel_reply()

    def on_note_input_send_requested(self, message: NoteInput.SendRequested) -> None:
        message.stop()
        if not self.sending and self.text.strip():
            self.sending = True
            self.post_message(self.Submitted(self.text, self.reply_to))
        elif not self.text.strip():
            self.notify("Write something first.", severity="warning", timeout=3)

    def on_note_input_leave_requested(self, message: NoteInput.LeaveRequested) -> None:
        message.stop()
        if self.reply_to is not None:
            self.cancel_reply()
        else:
            self.post_message(self.Left())
