"""Questions and answers: ask, answer, mark resolved, and 'who can help with…?'.

Details and answers are written in multi-line text areas (Markdown, code blocks):
Enter starts a new line, Ctrl+S sends, and Esc asks once more before it throws
away what was written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, TypeVar

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Input, Select, TextArea

from peernode.circles.model import MAX_TAG_CHARS, MAX_TAGS, MAX_TEXT_BYTES, MAX_TITLE_BYTES
from peernode.circles.text import tag_text
from tui.circles.proposals import split_tags
from tui.dialogs.form import FormDialog, field_row, line_input, note, selected
from tui.text import clip

MAX_TITLE_CHARS = 200
NO_ANSWER = "none"
TOO_LONG: Final = (
    f"{{what}} too long (at most {MAX_TEXT_BYTES // 1024} KB): shorten it, or share a link"
    " to the rest."
)


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


def text_area(*, id: str, placeholder: str) -> TextArea:
    """A multi-line field; Tab moves on (Esc and Ctrl+S stay the form's)."""
    return TextArea(
        id=id, soft_wrap=True, tab_behavior="focus", compact=True, placeholder=placeholder
    )


def multi_line_row(label: str, area: TextArea) -> Horizontal:
    row = field_row(label, area)
    row.add_class("multi-line")
    return row


def written(text: str) -> str:
    """`text` without blank lines around it; the first line keeps its indent (code)."""
    lines = text.rstrip().splitlines()
    while lines and not lines[0].strip():
        lines.pop(0)
    return "\n".join(lines)


def too_long(text: str) -> bool:
    return len(text.encode("utf-8")) > MAX_TEXT_BYTES


def clean_tags(text: str) -> list[str]:
    """Comma-separated tags; a leading '#' and quotes ('#"group by"', as shown) dropped."""
    tags = (tag.lstrip("#").strip('"“”').strip() for tag in split_tags(text))
    return list(dict.fromkeys(tag for tag in tags if tag))


WrittenT = TypeVar("WrittenT")


class WritingDialog(FormDialog[WrittenT]):
    """A form with text areas: Esc on written text asks to press it again to discard."""

    discard_armed = False

    def area(self, selector: str) -> str:
        return written(self.query_one(selector, TextArea).text)

    def has_writing(self) -> bool:
        """True if the learner typed something that would be lost."""
        return any(area.text.strip() for area in self.query(TextArea))

    def action_cancel(self) -> None:
        if self.has_writing() and not self.discard_armed:
            self.discard_armed = True
            self.show_error("Press Esc again to throw away what you wrote, or Ctrl+S to send it.")
            return
        self.dismiss(None)

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        self._typed()

    def on_input_changed(self, event: Input.Changed) -> None:
        self._typed()

    def _typed(self) -> None:
        if self.discard_armed:
            self.discard_armed = False
            self.show_error("")


class AskDialog(WritingDialog[NewQuestion]):
    """Dismisses with a NewQuestion, or None."""

    heading = "Ask the circle"
    ok_label = "Ask (Ctrl+S)"

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
        yield multi_line_row(
            "Details",
            text_area(
                id="text",
                placeholder="optional: what you tried, your code (Markdown, ``` blocks);"
                " Enter: new line, Ctrl+S: ask",
            ),
        )
        yield field_row(
            "Tags", line_input(self.tags, placeholder="comma-separated, e.g. joins, sql", id="tags")
        )

    def has_writing(self) -> bool:
        return bool(self.value("#title")) or super().has_writing()

    def result(self) -> NewQuestion:
        title = self.value("#title")
        if not title:
            raise ValueError("Write your question first; the details are optional.")
        if len(title.encode("utf-8")) > MAX_TITLE_BYTES:
            raise ValueError("The question is too long: shorten it and put the rest in Details.")
        text = self.area("#text")
        if too_long(text):
            raise ValueError(TOO_LONG.format(what="The details are"))
        tags = clean_tags(self.value("#tags"))
        if len(tags) > MAX_TAGS:
            raise ValueError(f"Use at most {MAX_TAGS} tags, separated by commas.")
        for tag in tags:
            if len(tag) > MAX_TAG_CHARS:
                raise ValueError(
                    f"The tag {tag_text(tag)} is too long: a tag has at most"
                    f" {MAX_TAG_CHARS} characters."
                )
        return NewQuestion(title=title, text=text, tags=tuple(tags))


class AnswerDialog(WritingDialog[str]):
    """Dismisses with the answer's text, or None."""

    heading = "Answer"
    ok_label = "Answer (Ctrl+S)"

    def __init__(self, question_title: str) -> None:
        super().__init__()
        self.question_title = question_title

    def intro(self) -> ComposeResult:
        yield note(clip(self.question_title, 200))

    def fields(self) -> ComposeResult:
        yield multi_line_row(
            "Answer",
            text_area(
                id="answer",
                placeholder="what would help (Markdown, `code`, ``` blocks);"
                " Enter: new line, Ctrl+S: send",
            ),
        )

    def result(self) -> str:
        text = self.area("#answer")
        if not text:
            raise ValueError("Write your answer first.")
        if too_long(text):
            raise ValueError(TOO_LONG.format(what="The answer is"))
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
            raise ValueError("Type a topic first, e.g. joins.")
        return topic
