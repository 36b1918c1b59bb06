"""My RSVP to a meeting: yes, maybe or no. My newest answer counts."""

from __future__ import annotations

from typing import ClassVar, Final

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from peernode.circles.model import RSVP_ANSWERS
from tui.dialogs.form import FormDialog, note

ORDER: Final = ("yes", "maybe", "no")


def _rank(answer: str) -> tuple[int, str]:
    """Known answers in ORDER; any the protocol adds later come after them."""
    return (ORDER.index(answer) if answer in ORDER else len(ORDER), answer)


CHOICES: Final = tuple(sorted(RSVP_ANSWERS, key=_rank))
"""The protocol's answers in the order offered (RSVP_ANSWERS is a set: it has no order)."""

WORDS: Final = {"yes": "Yes, I will come", "maybe": "Maybe", "no": "No, I cannot come"}


def choice_label(answer: str, current: str | None) -> str:
    mine = "  ✓ your answer now" if answer == current else ""
    return f"{WORDS.get(answer, answer)}{mine}"


class RsvpDialog(FormDialog[str]):
    """Dismisses with one of RSVP_ANSWERS, or None. The current answer, if any, is highlighted:
    Enter (or a click) answers the highlighted one; y, m and n answer at once."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer('yes')", "Yes", show=False),
        Binding("m", "answer('maybe')", "Maybe", show=False),
        Binding("n", "answer('no')", "No", show=False),
    ]

    heading = "Will you come?"
    ok_label = "Answer"

    def __init__(self, meeting: str, current: str | None = None) -> None:
        super().__init__()
        self.meeting = meeting
        """The meeting in words (circle, when)."""
        self.current = current

    def intro(self) -> ComposeResult:
        yield note(self.meeting)
        yield note("Your newest answer counts; the circle sees it. y, m or n answers at once.")

    def fields(self) -> ComposeResult:
        options = [Option(choice_label(answer, self.current), id=answer) for answer in CHOICES]
        yield OptionList(*options, id="rsvp-answer", compact=True)

    def on_mount(self) -> None:
        answers = self.query_one("#rsvp-answer", OptionList)
        answers.highlighted = CHOICES.index(self.current) if self.current in CHOICES else 0
        answers.focus()

    def result(self) -> str:
        index = self.query_one("#rsvp-answer", OptionList).highlighted
        if index is None:
            raise ValueError("Choose yes, maybe or no with ↑ and ↓, then press Enter.")
        return CHOICES[index]

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_submit()

    def action_answer(self, answer: str) -> None:
        if answer in CHOICES:  # a key for an answer the protocol no longer has does nothing
            self.dismiss(answer)
