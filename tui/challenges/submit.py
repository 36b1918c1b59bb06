"""The submission form: my work for a challenge, in Markdown, with the ids of shared files."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult

from tui.circles.ask import WritingDialog, multi_line_row, text_area, too_long
from tui.dialogs.form import field_row, line_input, note

FILE_ID_DIGITS = 64


@dataclass(frozen=True, slots=True)
class NewWork:
    """What the learner submits: the text, and the files by id."""

    text: str
    files: tuple[bytes, ...]


class SubmitDialog(WritingDialog[NewWork]):
    """Dismisses with NewWork, or None."""

    heading = "Submit your work"
    ok_label = "Submit (Ctrl+S)"

    def __init__(self, title: str, revision: bool) -> None:
        super().__init__()
        self.title = title
        self.revision = revision

    def intro(self) -> ComposeResult:
        again = " It replaces your last submission: reviews start again." if self.revision else ""
        yield note(f"For “{self.title}”: peers review it against the goal.{again}")

    def fields(self) -> ComposeResult:
        yield multi_line_row(
            "Your work",
            text_area(id="work", placeholder="Markdown; Enter: new line, Ctrl+S: submit"),
        )
        yield field_row(
            "Files", line_input(placeholder="optional: file ids, separated by spaces", id="files")
        )

    def result(self) -> NewWork:
        text = self.area("#work")
        if too_long(text):
            raise ValueError("Your work is too long for one submission: link or attach the rest.")
        files = []
        for word in self.value("#files").split():
            try:
                file = bytes.fromhex(word)
            except ValueError:
                file = b""
            if len(file) * 2 != FILE_ID_DIGITS:
                raise ValueError(f"{word[:20]!r} is not a file id ({FILE_ID_DIGITS} hex digits).")
            files.append(file)
        if not text and not files:
            raise ValueError("Write your work, or give a file, before submitting.")
        return NewWork(text, tuple(files))
