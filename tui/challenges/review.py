"""The review form: the submission, the rubric (meets / not yet), the prompts, the verdict."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from textual.app import ComposeResult
from textual.widgets import Checkbox, Select

from peernode.challenges.model import Criterion
from peernode.challenges.text import PROMPT_LABELS
from tui.dialogs.form import FormDialog, field_row, line_input, note

VERDICTS = (("Approve: it meets every criterion", "approve"), ("Ask to revise", "revise"))
MAX_SHOWN_LINES = 8
MAX_SHOWN_CHARS = 600
"""Of the submission's text shown above the form (the challenges screen has all of it)."""


@dataclass(frozen=True, slots=True)
class NewReview:
    """What the reviewer chose: the verdict, the criteria met (indexes), the prompts."""

    approve: bool
    meets: tuple[int, ...]
    prompts: dict[str, str]


class ReviewDialog(FormDialog[NewReview]):
    """Review one submission against its challenge's goal."""

    heading = "Review"
    ok_label = "Share review"

    def __init__(self, author: str, work: str, criteria: Sequence[Criterion]) -> None:
        super().__init__()
        self.author = author
        self.work = work
        self.criteria = tuple(criteria)

    def intro(self) -> ComposeResult:
        shown = "\n".join(self.work.splitlines()[:MAX_SHOWN_LINES])[:MAX_SHOWN_CHARS]
        yield note(f"{self.author} submitted:\n{shown}")
        yield note("Tick each criterion the work meets; the others are “not yet”.")

    def fields(self) -> ComposeResult:
        for index, criterion in enumerate(self.criteria):
            label = f"{criterion.name}: {criterion.meets}"
            yield Checkbox(label, id=f"meets-{index}", compact=True)
        for name, label in PROMPT_LABELS:
            yield field_row(label, line_input(id=f"prompt-{name}"))
        verdict: Select[str] = Select(VERDICTS, value="revise", allow_blank=False, id="verdict")
        yield field_row("Verdict", verdict)

    def result(self) -> NewReview:
        met = tuple(
            index
            for index in range(len(self.criteria))
            if self.query_one(f"#meets-{index}", Checkbox).value
        )
        approve = self.query_one("#verdict", Select).value == "approve"
        if approve and len(met) < len(self.criteria):
            raise ValueError("Approving means every criterion is met: tick them all, or revise.")
        prompts = {name: self.value(f"#prompt-{name}") for name, _ in PROMPT_LABELS}
        if not approve and not any(prompts.values()):
            raise ValueError("Say what to revise: one suggestion at least.")
        return NewReview(approve, met, {k: v for k, v in prompts.items() if v})
