"""Export a circle's insights report: Markdown or HTML, into a folder the learner knows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from textual.app import ComposeResult
from textual.widgets import Input, Select

from tui.dialogs.form import FormDialog, field_row, line_input, note, selected

FORMATS = (("md", "Markdown (.md)"), ("html", "HTML, one page to share (.html)"))


@dataclass(frozen=True, slots=True)
class ExportChoice:
    folder: Path
    name: str
    fmt: str


def default_folders() -> list[tuple[str, Path]]:
    """Where a report can go: the folder peernode was started in, and the home folder."""
    return [("Current folder", Path.cwd()), ("Home folder", Path.home())]


class ExportDialog(FormDialog[ExportChoice]):
    heading = "Export the report"
    ok_label = "Export"

    def __init__(self, circle: str, folders: Sequence[tuple[str, Path]]) -> None:
        super().__init__()
        self.circle = circle
        self.folders = list(folders)
        self._named = False

    def stem(self) -> str:
        return f"{self.circle}-report"

    def intro(self) -> ComposeResult:
        yield note("Computed on this laptop from the events it holds; nothing is sent.")

    def fields(self) -> ComposeResult:
        formats = [(label, fmt) for fmt, label in FORMATS]
        yield field_row(
            "Format",
            Select(formats, value=FORMATS[0][0], allow_blank=False, id="format", compact=True),
        )
        folders = [(f"{label}: {folder}", str(i)) for i, (label, folder) in enumerate(self.folders)]
        yield field_row(
            "Folder", Select(folders, value="0", allow_blank=False, id="folder", compact=True)
        )
        yield field_row("File name", line_input(f"{self.stem()}.md", id="file-name"))

    @property
    def fmt(self) -> str:
        return selected(self.query_one("#format", Select)) or FORMATS[0][0]

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "format" and not self._named:
            self.query_one("#file-name", Input).value = f"{self.stem()}.{self.fmt}"

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "file-name" and event.value != f"{self.stem()}.{self.fmt}":
            self._named = True

    def result(self) -> ExportChoice:
        name = self.value("#file-name")
        if not name or "/" in name or "\\" in name or name in (".", ".."):
            raise ValueError("type a file name (no folders), e.g. report.md")
        folder = self.folders[int(selected(self.query_one("#folder", Select)) or 0)][1]
        return ExportChoice(folder=folder, name=name, fmt=self.fmt)
