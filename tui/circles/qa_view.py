"""What the Q&A screen draws: a question with its answers as Markdown, list rows, helpers.

Plain Rich renderables, no widgets. Wrapped lines keep their indent: answers are
padded as a block and list rows and bullets are two-column grids.
"""

from __future__ import annotations

from typing import Final

from markdown_it import MarkdownIt
from rich.console import Group, RenderableType
from rich.markdown import Markdown
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from peernode.circles.model import Helper, Question
from peernode.circles.text import STATUS_MARK, clock_text, person, tags_text
from peernode.text import NameOf, local_time
from tui.text import clip

MAX_HELPERS: Final = 8
ANSWER_INDENT: Final = 2


class LearnerMarkdown(Markdown):
    """Markdown as typed in a text area: a new line stays a new line, HTML shows as
    typed (`#include <vector>`), links show their address."""

    def __init__(self, text: str) -> None:
        super().__init__(text, hyperlinks=False)
        # Rich drops HTML it cannot show; with HTML off, the parser keeps it as text.
        parser = MarkdownIt("commonmark", {"html": False}).enable(["strikethrough", "table"])
        self.parsed = parser.parse(text)
        for token in self.parsed:
            for child in token.children or ():
                if child.type == "softbreak":
                    child.type = "hardbreak"


def hanging(first: str | Text, rest: str | Text) -> Table:
    """`first` then `rest` in a column of its own, so that wrapped lines of `rest` stay
    under its start."""
    grid = Table.grid(padding=(0, 1, 0, 0))
    grid.add_column(no_wrap=True)
    grid.add_column(ratio=1)
    grid.add_row(first, rest)
    return grid


def question_row(question: Question, name_of: NameOf) -> Table:
    """A row of the question list: the status symbol, the title, then the status in
    words, tags, asker and answers below."""
    symbol, status = STATUS_MARK[question.status].split(" ", 1)
    title = Text(clip(question.title, 60))
    title.append(
        f"\n{status} · {tags_text(question.tags) or 'no tags'} · {name_of(question.author)}"
        f" · {len(question.answers)} ans.",
        style="dim",
    )
    return hanging(symbol, title)


def detail_view(question: Question, name_of: NameOf, me: bytes | None) -> Group:
    """The selected question: title, who asked, tags, its details and its answers."""
    parts: list[RenderableType] = [
        Text(question.title, style="bold"),
        Text(
            f"{STATUS_MARK[question.status]} · asked by {person(question.author, name_of, me)}"
            f" · {local_time(question.shown_at)}{clock_text(question)}"
        ),
    ]
    if question.tags:
        parts.append(Text(tags_text(question.tags)))
    if question.text:
        parts += [Text(), LearnerMarkdown(question.text)]
    count = len(question.answers)
    parts += [Text(), Text(f"Answers ({count}):" if count else "No answer yet.", style="bold")]
    for answer in question.answers:
        helped = "  ✓ helped" if answer.id == question.helped else ""
        parts.append(Text(f"— {person(answer.author, name_of, me)}{helped}"))
        parts.append(Padding(LearnerMarkdown(answer.text), (0, 0, 0, ANSWER_INDENT)))
    return Group(*parts)


def helpers_view(topic: str, helpers: list[Helper], me: bytes | None) -> RenderableType:
    """Who can help with `topic`, and why we think so, one bullet each."""
    if not topic:
        return Text("Type a topic (t) or select a tagged question to see who can help.")
    if not helpers:
        return Text(f"Nobody says they can help with {topic!r} yet.")
    rows = []
    for helper in helpers[:MAX_HELPERS]:
        why = []
        if helper.profile_match:
            why.append(f"can help: {helper.can_help}")
        if helper.answers:
            why.append(f"answered {helper.answers}")
        if not helper.member:
            why.append("not a member")
        you = " (you)" if helper.key == me else ""
        rows.append(hanging("•", f"{helper.name}{you} — {'; '.join(why)}"))
    return Group(*rows)
