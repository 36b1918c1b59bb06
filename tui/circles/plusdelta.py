"""My plus/delta at the end of a meeting: one thing that went well, one to change."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult

from tui.dialogs.form import FormDialog, field_row, line_input, note

MAX_CHARS = 300


@dataclass(frozen=True, slots=True)
class PlusDeltaFields:
    plus: str
    delta: str


class PlusDeltaDialog(FormDialog[PlusDeltaFields]):
    """Dismisses with PlusDeltaFields (one of them at least), or None."""

    heading = "Plus / delta"
    ok_label = "Share"

    def __init__(self, prompt: str = "") -> None:
        super().__init__()
        self.prompt = prompt

    def intro(self) -> ComposeResult:
        if self.prompt:
            yield note(self.prompt)
        yield note("One thing that went well (+), one thing to change next time (Δ).")

    def fields(self) -> ComposeResult:
        yield field_row(
            "+ Went well",
            line_input(placeholder="e.g. the puzzles", id="plus", max_length=MAX_CHARS),
        )
        yield field_row(
            "Δ Change",
            line_input(placeholder="e.g. start on time", id="delta", max_length=MAX_CHARS),
        )

    def result(self) -> PlusDeltaFields:
        fields = PlusDeltaFields(plus=self.value("#plus"), delta=self.value("#delta"))
        if not (fields.plus or fields.delta):
            raise ValueError("write a plus, a delta, or both")
        return fields
