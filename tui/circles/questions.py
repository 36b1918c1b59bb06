"""Questions and answers of a circle: open / answered / resolved, by tag, and who can help.

The topic box filters the list by tag (every word typed begins a word of a tag:
`group` finds `group by`) and asks the node who can help with that topic; with no
topic, 'who can help' follows the tags of the selected question.
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import ClassVar, Final

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Footer, Input, OptionList, Static
from textual.widgets.option_list import Option

from peernode.circles import tags_match
from peernode.circles.model import CircleState, Helper, Question
from peernode.circles.text import tags_text
from peernode.errors import NodeError
from peernode.node import Node
from tui.circles.ask import AnswerDialog, Resolution, ResolveDialog, TopicDialog
from tui.circles.base import CircleBase, Command
from tui.circles.qa_view import detail_view, helpers_view, question_row
from tui.text import Clock, clip

STATUSES: Final = ("all", "open", "answered", "resolved")


def matches(question: Question, status: str, topic: str) -> bool:
    if status != "all" and question.status != status:
        return False
    return not topic or tags_match(question.tags, topic)


def merged(known: Helper | None, helper: Helper) -> Helper:
    """One helper found for several tags: every reason counts."""
    if known is None:
        return helper
    return replace(
        known,
        profile_match=known.profile_match or helper.profile_match,
        answers=max(known.answers, helper.answers),
        badges=tuple(dict.fromkeys((*known.badges, *helper.badges))),
    )


def filter_text(state: CircleState, status: str) -> str:
    counts = {s: len(state.questions_with(s)) for s in STATUSES[1:]}
    counts["all"] = len(state.questions)
    parts = [
        f"[{name} {counts[name]}]" if name == status else f" {name} {counts[name]} "
        for name in STATUSES
    ]
    return "Show: " + " ".join(parts) + "   (f: next)"


class QuestionsScreen(CircleBase):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "ask", "Ask"),
        Binding("r", "answer", "Answer"),
        Binding("x", "resolve", "Resolve"),
        Binding("f", "next_status", "Status"),
        Binding("t,slash", "topic", "Filter by tag", show=False),
        Binding("h", "who_can_help", "Who can help"),
        Binding("escape", "back", "Back"),
    ]

    def __init__(self, node: Node, circle: str, *, clock: Clock) -> None:
        super().__init__(node, circle, clock=clock)
        self.status = "all"
        self.topic = ""
        """The tag filter, also the topic of 'who can help' unless `help_topic` is set."""
        self.help_topic = ""
        """A topic asked for with h (cleared when the tag filter changes)."""
        self.helper_topics: tuple[str, ...] = ()
        self.helper_asker: bytes | None = None
        """Who 'who can help' is for (never listed): the selected question's asker, or me."""
        self.helpers: list[Helper] = []
        self.shown: list[Question] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="questions"):
            yield Static("", id="qa-filter", markup=False)
            yield Input(
                placeholder="A tag or its start, e.g. join (filters the list; Esc: back to it)",
                id="qa-topic",
                compact=True,
            )
            with Horizontal(id="qa-body"):
                yield OptionList(id="question-list")
                with VerticalScroll(id="qa-side"):
                    yield Static("", id="question-detail", markup=False)
                    yield Static("", id="helpers", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#question-list").border_title = "Questions"
        self.query_one("#helpers").border_title = "Who can help"
        self.question_list.focus()

    @property
    def question_list(self) -> OptionList:
        return self.query_one("#question-list", OptionList)

    @property
    def selected(self) -> Question | None:
        index = self.question_list.highlighted
        if index is None or not 0 <= index < len(self.shown):
            return None
        return self.shown[index]

    # -- showing -------------------------------------------------------------------------

    def show(self, state: CircleState) -> None:
        self.query_one("#qa-filter", Static).update(filter_text(state, self.status))
        previous = self.selected
        order = {"open": 0, "answered": 1, "resolved": 2}
        self.shown = sorted(
            (q for q in state.questions if matches(q, self.status, self.topic)),
            key=lambda q: (order[q.status], -q.shown_at, -q.created_at, q.id),
        )
        options = self.question_list
        options.set_options(
            Option(question_row(q, self.name_of), id=q.id.hex()) for q in self.shown
        )
        ids = [q.id for q in self.shown]
        if previous is not None and previous.id in ids:
            options.highlighted = ids.index(previous.id)
        elif ids:
            options.highlighted = 0
        where = f" tagged {self.topic!r}" if self.topic else ""
        options.border_title = f"Questions{where}: {len(self.shown)}"
        self._show_selected()

    def _show_selected(self) -> None:
        question = self.selected
        detail = self.query_one("#question-detail", Static)
        if question is None:
            detail.update(
                "No question here yet. Press a to ask one."
                if not self.topic
                else f"No question has a tag starting with {self.topic!r}. Press a to ask one."
            )
        else:
            detail.update(detail_view(question, self.name_of, self.me))
        topic = self.help_topic or self.topic
        topics = (topic,) if topic else (question.tags if question is not None else ())
        # The person who needs the help is never offered as a helper: the asker of the
        # question shown beside the list, or me when I asked for a topic with h.
        asker = question.author if question is not None and not self.help_topic else self.me
        if (topics, asker) != (self.helper_topics, self.helper_asker):
            self.helper_topics, self.helper_asker = tuple(topics), asker
            self._load_helpers(self.helper_topics, asker)
        else:
            self._show_helpers()

    @work(group="helpers", exclusive=True, exit_on_error=False)
    async def _load_helpers(self, topics: tuple[str, ...], asker: bytes | None) -> None:
        found: dict[bytes, Helper] = {}
        try:
            for topic in topics:
                for helper in await self.node.circles.who_can_help(self.circle, topic, asker=asker):
                    found[helper.key] = merged(found.get(helper.key), helper)
        except NodeError as exc:
            self.notify(f"Cannot find helpers: {exc}", severity="error", markup=False)
            return
        if (topics, asker) == (self.helper_topics, self.helper_asker):
            self.helpers = sorted(found.values(), key=lambda h: (not h.member, h.name.lower()))
            self._show_helpers()

    def _show_helpers(self) -> None:
        topics = self.helper_topics
        topic = topics[0] if len(topics) == 1 else tags_text(topics)
        box = self.query_one("#helpers", Static)
        box.border_title = f"Who can help with {clip(topic, 30)}" if topic else "Who can help"
        box.update(helpers_view(topic, self.helpers, self.me))

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        self._show_selected()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.query_one("#qa-side").focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.set_topic(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.question_list.focus()

    def set_topic(self, topic: str) -> None:
        topic = " ".join(topic.split()).lstrip("#")
        if topic != self.topic:
            self.topic = topic
            self.help_topic = ""
            if self.state is not None:
                self.show(self.state)

    def palette_commands(self) -> list[Command]:
        commands: list[Command] = [
            ("Questions: ask", "Anyone can answer", self.action_ask),
            ("Questions: answer the selected question", "Share what you know", self.action_answer),
            ("Questions: mark resolved", "Only the asker can", self.action_resolve),
            ("Questions: filter by tag", "Type a tag or topic", self.action_topic),
            (
                "Questions: who can help?",
                "People who can help with a topic",
                self.action_who_can_help,
            ),
        ]
        for status in STATUSES:
            commands.append(
                (f"Questions: show {status}", "Filter by status", partial(self.set_status, status))
            )
        return commands

    # -- actions -------------------------------------------------------------------------

    def set_status(self, status: str) -> None:
        self.status = status
        if self.state is not None:
            self.show(self.state)

    def action_next_status(self) -> None:
        self.set_status(STATUSES[(STATUSES.index(self.status) + 1) % len(STATUSES)])

    def action_topic(self) -> None:
        self.query_one("#qa-topic", Input).focus()

    def action_back(self) -> None:
        if isinstance(self.focused, Input):
            self.question_list.focus()
        else:
            self.dismiss(None)

    def default_tags(self) -> str:
        return self.topic

    def action_who_can_help(self) -> None:
        def chosen(topic: str | None) -> None:
            if topic:
                self.help_topic = topic
                self._show_selected()

        self.app.push_screen(TopicDialog(self.help_topic or self.topic), chosen)

    def _selected_or_say(self) -> Question | None:
        question = self.selected
        if question is None:
            self.notify("Select a question first.", severity="warning")
        return question

    def action_answer(self) -> None:
        question = self._selected_or_say()
        if question is None:
            return

        def chosen(text: str | None) -> None:
            if text:
                self.publish("Answer shared.", lambda: self.node.circles.answer(question.id, text))

        self.app.push_screen(AnswerDialog(question.title), chosen)

    def action_resolve(self) -> None:
        question = self._selected_or_say()
        if question is None:
            return
        if question.author != self.me:
            asker = self.name_of(question.author)
            self.notify(f"Only the asker, {asker}, can mark it resolved.", markup=False)
            return
        # an answer of several lines (code) is one line of the list
        answers = [
            (a.id, f"{self.name_of(a.author)}: {' '.join(a.text.split())}")
            for a in question.answers
        ]

        def chosen(resolution: Resolution | None) -> None:
            if resolution is not None:
                self.publish(
                    "Marked resolved.",
                    lambda: self.node.circles.resolve(
                        question.id, resolution.answer, resolution.note
                    ),
                )

        self.app.push_screen(ResolveDialog(question.title, answers), chosen)
