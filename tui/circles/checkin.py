"""My check-in at a meeting: how I am, what I work on today, where I need help."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult

from tui.dialogs.form import FormDialog, field_row, line_input, note

MAX_CHARS = 300


@dataclass(frozen=True, slots=True)
class CheckInFields:
    feeling: str
    working_on: str
    need_help: str

    def to_fields(self) -> dict[str, str]:
        """The non-empty fields, as Node.check_in takes them."""
        fields = {
            "feeling": self.feeling,
            "working_on": self.working_on,
            "need_help": self.need_help,
        }
        return {name: value for name, value in fields.items() if value}


class CheckInDialog(FormDialog[CheckInFields]):
    """Dismisses with CheckInFields (one field at least), or None."""

    heading = "Check in"
    ok_label = "Check in"

    def __init__(self, prompt: str = "") -> None:
        super().__init__()
        self.prompt = prompt

    def intro(self) -> ComposeResult:
        if self.prompt:
            yield note(self.prompt)
        yield note("Fill in one line or more; everyone present sees it. It counts as being here.")

    def fields(self) -> ComposeResult:
        yield field_row(
            "How I am",
            line_input(placeholder="e.g. tired but keen", id="feeling", max_length=MAX_CHARS),
        )
        yield field_row(
            "Working on",
            line_input(placeholder="what I work on today", id="working-on", max_length=MAX_CHARS),
        )
        yield field_row(
            "Need help with",
            line_input(placeholder="where I am stuck", id="need-help", max_length=MAX_CHARS),
        )

    def result(self) -> CheckInFields:
        fields = CheckInFields(
            feeling=self.value("#feeling"),
            working_on=self.value("#working-on"),
            need_help=self.value("#need-help"),
        )
        if not fields.to_fields():
            raise ValueError("Write how you are, what you work on today, or where you need help.")
        return fields
