"""The Save dialog: which folder a copy of a shared file goes into (under a free name)."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult

from tui.dialogs.form import FormDialog, field_row, line_input, note


class SaveDialog(FormDialog[Path]):
    """Asks for a folder that exists; dismisses with it (nothing is written here)."""

    ok_label = "Save"

    def __init__(self, name: str, default: Path) -> None:
        super().__init__()
        self.heading = f"Save a copy of {name}"
        self.file_name = name
        self.default = default

    def intro(self) -> ComposeResult:
        yield note(
            f"The copy goes into this folder as {self.file_name}, or under a free name"
            " like “name (2)” if one is there: nothing is ever overwritten."
        )

    def fields(self) -> ComposeResult:
        yield field_row("Folder", line_input(str(self.default), id="save-folder"))

    def result(self) -> Path:
        typed = self.value("#save-folder")
        if not typed:
            raise ValueError(f"Type a folder to save into, for example {self.default}.")
        folder = Path(typed).expanduser()
        if not folder.is_dir():
            raise ValueError(
                f"{folder} is not a folder on this laptop: type one that exists,"
                f" for example {self.default}."
            )
        return folder
