"""My plus/delta at the end of a meeting: one thing that went well, one to change."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult

from tui.dialogs.form import FormDialog, field_row, line_input, note

MAX_CHARS = 300
PLUSDELTA_PROMPT = "One thing that went well (+) and one thing to change next time (Δ)."


@dataclass(frozen=True, slots=True)
class PlusDeltaFields:
    plus: str
    delta: str


class PlusDeltaDialog(FormDialog[PlusDeltaFields]):
    """Dismisses with PlusDeltaFields (one of them at least), or None. `prompt`: the
    agenda's own words for it, shown instead of the usual one (never both)."""

    heading = "Plus / delta"
    ok_label = "Share"

    def __init__(self, prompt: str = "") -> None:
        super().__init__()
        self.prompt = prompt or PLUSDELTA_PROMPT

    def intro(self) -> ComposeResult:
        yield note(self.prompt)

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
            raise ValueError("Write one thing that went well, one thing to change, or both.")
        return fields
