"""The submission form: my work for a challenge, in Markdown, with files: paths on this
laptop or ids (shared with the circle when I submit), or files the circle already shares."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from textual.app import ComposeResult
from textual.widgets import SelectionList

from peernode.files import SharedFile
from peernode.files.text import attachment_text
from tui.circles.ask import WritingDialog, multi_line_row, text_area, too_long
from tui.dialogs.form import field_row, line_input, note


@dataclass(frozen=True, slots=True)
class NewWork:
    """What the learner submits: the text, files picked (by id) and files typed (paths
    or ids, resolved by `node.challenges.file_ref`)."""

    text: str
    files: tuple[bytes, ...]
    typed: tuple[str, ...] = ()


class SubmitDialog(WritingDialog[NewWork]):
    """Dismisses with NewWork, or None."""

    heading = "Submit your work"
    ok_label = "Submit (Ctrl+S)"
    DEFAULT_CSS = """
    SubmitDialog #shared { height: auto; max-height: 6; border: none; padding: 0; }
    """

    def __init__(self, title: str, revision: bool, shared: Sequence[SharedFile] = ()) -> None:
        super().__init__()
        self.title = title
        self.revision = revision
        self.shared = list(shared)

    def intro(self) -> ComposeResult:
        again = " It replaces your last submission: reviews start again." if self.revision else ""
        pick = " Space ticks a file the circle shares." if self.shared else ""
        yield note(f"For “{self.title}”: peers review it against the goal.{again}{pick}")

    def fields(self) -> ComposeResult:
        yield multi_line_row(
            "Your work",
            text_area(id="work", placeholder="Markdown; Enter: new line, Ctrl+S: submit"),
        )
        yield field_row(
            "Files",
            line_input(
                placeholder="optional: paths or file ids, comma-separated",
                id="files",
            ),
        )
        if self.shared:
            choices = [(attachment_text(f), f.id.hex()) for f in self.shared]
            row = field_row("Shared here", SelectionList[str](*choices, id="shared"))
            row.add_class("multi-line")
            yield row

    def result(self) -> NewWork:
        text = self.area("#work")
        if too_long(text):
            raise ValueError("Your work is too long for one submission: link or attach the rest.")
        typed = tuple(word.strip() for word in self.value("#files").split(",") if word.strip())
        picked: tuple[bytes, ...] = ()
        if self.shared:
            picked = tuple(bytes.fromhex(v) for v in self.query_one(SelectionList).selected)
        if not text and not typed and not picked:
            raise ValueError("Write your work, or give a file, before submitting.")
        return NewWork(text, picked, typed)
