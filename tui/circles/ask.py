"""Questions and answers: ask, answer, mark resolved, and 'who can help with…?'."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from textual.app import ComposeResult
from textual.widgets import Select

from peernode.circles.model import MAX_TAG_CHARS, MAX_TAGS
from tui.circles.proposals import split_tags
from tui.dialogs.form import FormDialog, field_row, line_input, note, selected
from tui.text import clip

MAX_TITLE_CHARS = 200
NO_ANSWER = "none"


@dataclass(frozen=True, slots=True)
class NewQuestion:
    title: str
    text: str
    tags: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Resolution:
    """Which answer helped (None: no answer in particular), and a note."""

    answer: bytes | None
    note: str


class AskDialog(FormDialog[NewQuestion]):
    heading = "Ask the circle"
    ok_label = "Ask"

    def __init__(self, tags: str = "") -> None:
        super().__init__()
        self.tags = tags

    def intro(self) -> ComposeResult:
        yield note("Anyone can answer; you mark what helped. Tags help people find it.")

    def fields(self) -> ComposeResult:
        yield field_row(
            "Question",
            line_input(
                placeholder="e.g. LEFT or RIGHT join?", id="title", max_length=MAX_TITLE_CHARS
            ),
        )
        yield field_row("Details", line_input(placeholder="optional", id="text"))
        yield field_row(
            "Tags", line_input(self.tags, placeholder="comma-separated, e.g. joins, sql", id="tags")
        )

    def result(self) -> NewQuestion:
        title = self.value("#title")
        if not title:
            raise ValueError("write the question")
        tags = split_tags(self.value("#tags"))
        if len(tags) > MAX_TAGS:
            raise ValueError(f"at most {MAX_TAGS} tags")
        if any(len(tag) > MAX_TAG_CHARS for tag in tags):
            raise ValueError(f"a tag has at most {MAX_TAG_CHARS} characters")
        return NewQuestion(title=title, text=self.value("#text"), tags=tuple(tags))


class AnswerDialog(FormDialog[str]):
    """Dismisses with the answer's text, or None."""

    heading = "Answer"
    ok_label = "Answer"

    def __init__(self, question_title: str) -> None:
        super().__init__()
        self.question_title = question_title

    def intro(self) -> ComposeResult:
        yield note(clip(self.question_title, 200))

    def fields(self) -> ComposeResult:
        yield field_row("Answer", line_input(placeholder="what would help", id="answer"))

    def result(self) -> str:
        text = self.value("#answer")
        if not text:
            raise ValueError("write an answer")
        return text


class ResolveDialog(FormDialog[Resolution]):
    """The asker marks the question resolved and, if one did, the answer that helped."""

    heading = "Mark resolved"
    ok_label = "Resolved"

    def __init__(self, question_title: str, answers: Sequence[tuple[bytes, str]]) -> None:
        super().__init__()
        self.question_title = question_title
        self.answers = list(answers)

    def intro(self) -> ComposeResult:
        yield note(clip(self.question_title, 200))
        yield note("Which answer helped? (Enter opens the list)")

    def fields(self) -> ComposeResult:
        options = [("No answer in particular", NO_ANSWER)]
        options += [(clip(label, 56), key.hex()) for key, label in self.answers]
        yield field_row(
            "Helped",
            Select(options, value=options[-1][1], allow_blank=False, id="helped", compact=True),
        )
        yield field_row("Note", line_input(placeholder="optional", id="note"))

    def result(self) -> Resolution:
        chosen = selected(self.query_one("#helped", Select))
        helped = None if chosen in (None, NO_ANSWER) else chosen
        return Resolution(
            answer=bytes.fromhex(helped) if helped else None, note=self.value("#note")
        )


class TopicDialog(FormDialog[str]):
    """'Who can help with…?': dismisses with a topic, or None."""

    heading = "Who can help?"
    ok_label = "Find"

    def __init__(self, topic: str = "") -> None:
        super().__init__()
        self.topic = topic

    def intro(self) -> ComposeResult:
        yield note("Finds people whose profile says they can help, and who answered before.")

    def fields(self) -> ComposeResult:
        yield field_row("Topic", line_input(self.topic, placeholder="e.g. joins", id="topic"))

    def result(self) -> str:
        topic = self.value("#topic")
        if not topic:
            raise ValueError("type a topic, e.g. joins")
        return topic
