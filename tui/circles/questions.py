"""Questions and answers of a circle: open / answered / resolved, by tag, and who can help.

The topic box filters the list by tag and asks the node who can help with that
topic; with no topic, 'who can help' follows the tags of the selected question.
"""

from __future__ import annotations

from functools import partial
from typing import ClassVar, Final

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Footer, Input, OptionList, Static
from textual.widgets.option_list import Option

from peernode.circles.model import CircleState, Helper, Question
from peernode.circles.text import STATUS_MARK, clock_text, person, tags_text
from peernode.errors import NodeError
from peernode.node import Node
from peernode.text import NameOf, local_time
from tui.circles.ask import AnswerDialog, Resolution, ResolveDialog, TopicDialog
from tui.circles.base import CircleBase, Command
from tui.text import Clock, clip

STATUSES: Final = ("all", "open", "answered", "resolved")
MAX_HELPERS: Final = 8


def matches(question: Question, status: str, topic: str) -> bool:
    if status != "all" and question.status != status:
        return False
    return not topic or question.tagged(topic)


def filter_text(state: CircleState, status: str) -> str:
    counts = {s: len(state.questions_with(s)) for s in STATUSES[1:]}
    counts["all"] = len(state.questions)
    parts = [
        f"[{name} {counts[name]}]" if name == status else f" {name} {counts[name]} "
        for name in STATUSES
    ]
    return "Show: " + " ".join(parts) + "   (f: next)"


def detail_text(question: Question, name_of: NameOf, me: bytes | None) -> str:
    lines = [
        question.title,
        f"{STATUS_MARK[question.status]} · asked by {person(question.author, name_of, me)}"
        f" · {local_time(question.shown_at)}{clock_text(question)}",
    ]
    if question.tags:
        lines.append(tags_text(question.tags))
    if question.text:
        lines += ["", question.text]
    lines += ["", f"Answers ({len(question.answers)}):" if question.answers else "No answer yet."]
    for answer in question.answers:
        helped = "  ✓ helped" if answer.id == question.helped else ""
        lines.append(f"— {person(answer.author, name_of, me)}{helped}")
        lines.append(f"  {answer.text}")
    return "\n".join(lines)


def helpers_text(topic: str, helpers: list[Helper], me: bytes | None) -> str:
    if not topic:
        return "Type a topic (t) or select a tagged question to see who can help."
    if not helpers:
        return f"Nobody says they can help with {topic!r} yet."
    lines = []
    for helper in helpers[:MAX_HELPERS]:
        why = []
        if helper.profile_match:
            why.append(f"can help: {helper.can_help}")
        if helper.answers:
            why.append(f"answered {helper.answers}")
        if not helper.member:
            why.append("not a member")
        you = " (you)" if helper.key == me else ""
        lines.append(f"• {helper.name}{you} — {'; '.join(why)}")
    return "\n".join(lines)


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
        self.helpers: list[Helper] = []
        self.shown: list[Question] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="questions"):
            yield Static("", id="qa-filter", markup=False)
            yield Input(
                placeholder="Tag or topic, e.g. joins (filters the list; Esc: back to it)",
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
            Option(
                Content(
                    f"{STATUS_MARK[q.status]} · {clip(q.title, 60)}\n"
                    f"  {tags_text(q.tags) or 'no tags'} · {self.name_of(q.author)}"
                    f" · {len(q.answers)} ans."
                ),
                id=q.id.hex(),
            )
            for q in self.shown
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
                else f"No question tagged {self.topic!r}. Press a to ask one."
            )
        else:
            detail.update(detail_text(question, self.name_of, self.me))
        topic = self.help_topic or self.topic
        topics = (topic,) if topic else (question.tags if question is not None else ())
        if topics != self.helper_topics:
            self.helper_topics = tuple(topics)
            self._load_helpers(self.helper_topics)
        else:
            self._show_helpers()

    @work(group="helpers", exclusive=True, exit_on_error=False)
    async def _load_helpers(self, topics: tuple[str, ...]) -> None:
        found: dict[bytes, Helper] = {}
        try:
            for topic in topics:
                for helper in await self.node.circles.who_can_help(self.circle, topic):
                    found.setdefault(helper.key, helper)
        except NodeError as exc:
            self.notify(f"Cannot find helpers: {exc}", severity="error", markup=False)
            return
        if topics == self.helper_topics:
            self.helpers = sorted(found.values(), key=lambda h: (not h.member, h.name.lower()))
            self._show_helpers()

    def _show_helpers(self) -> None:
        topic = ", ".join(self.helper_topics)
        box = self.query_one("#helpers", Static)
        box.border_title = f"Who can help with {clip(topic, 30)}" if topic else "Who can help"
        box.update(helpers_text(topic, self.helpers, self.me))

    @property
    def helpers_shown(self) -> str:
        return str(self.query_one("#helpers", Static).content)

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
        answers = [(a.id, f"{self.name_of(a.author)}: {a.text}") for a in question.answers]

        def chosen(resolution: Resolution | None) -> None:
            if resolution is not None:
                self.publish(
                    "Marked resolved.",
                    lambda: self.node.circles.resolve(
                        question.id, resolution.answer, resolution.note
                    ),
                )

        self.app.push_screen(ResolveDialog(question.title, answers), chosen)
