"""The circle page: description, members, next meeting, resources and open questions.

From here: meeting mode (m), questions and answers (q), the insights report (i),
schedule a meeting (s), RSVP to the next one (r), ask (a), join or leave (j),
start the circle (c), change or delete what you wrote (e), fetch the circle's files (f).
"""

from __future__ import annotations

from functools import partial
from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Footer, Static

from peernode.challenges.model import CHALLENGE_KINDS, Challenge
from peernode.challenges.text import WHO_IS_ON_TITLE, cohort_lines
from peernode.circles.model import CircleState, Meeting
from peernode.circles.text import (
    activity_text,
    open_questions,
    open_questions_heading,
    person,
    question_line,
    rhythm_text,
    when_text,
)
from peernode.errors import NodeError
from peernode.files import SharedFile
from peernode.node import Node
from peernode.text import NameOf
from tui.circles.base import CircleBase, Command
from tui.circles.edits import OwnEdits
from tui.circles.meeting import MeetingScreen
from tui.circles.new_circle import NewCircle, NewCircleDialog
from tui.circles.questions import QuestionsScreen
from tui.circles.report import ReportScreen
from tui.circles.rsvp import RsvpDialog
from tui.files import desk_of, fetch_all, sync_cards
from tui.text import Clock

SHOWN_QUESTIONS = 20
HOLDERS_EVERY = 15.0
"""Seconds between two counts of the laptops that have my files (nothing announces a
fetch done elsewhere, so the page asks again while it is open)."""


def about_text(state: CircleState, me: bytes | None) -> str:
    facts = [f"#{state.slug}"]
    if state.topic:
        facts.append(f"topic: {state.topic}")
    if state.rhythm:
        facts.append(rhythm_text(state.rhythm))
    if state.language:
        facts.append(f"language: {state.language}")
    lines = [" · ".join(facts), "", state.description or "(no description yet)", ""]
    if me is not None and state.is_member(me):
        lines.append("✓ You are a member (j: leave, e: edit).")
    else:
        lines.append("You are not a member yet: press j to join.")
    return "\n".join(lines)


def meeting_text(meeting: Meeting | None, now: int, name_of: NameOf, me: bytes | None) -> str:
    if meeting is None:
        return "No meeting scheduled.\nPress s to schedule one: anyone in the circle can."
    lines = [when_text(meeting, now)]
    details = [meeting.place] if meeting.place else []
    details.append(f"{meeting.duration_minutes} min")
    if meeting.facilitator:
        details.append(f"facilitator {name_of(meeting.facilitator)}")
    lines.append(" · ".join(details))
    if me is not None and meeting.author == me:
        lines.append("You scheduled it (e: change or cancel).")
    agenda = meeting.agenda
    if agenda.coursework:
        lines.append(f"Coursework: {agenda.coursework}")
    if agenda.activity:
        lines.append(f"Activity: {activity_text(agenda.activity)}")
    answers = [rsvp.answer for rsvp in meeting.rsvps]
    counts = ", ".join(f"{answers.count(a)} {a}" for a in ("yes", "maybe", "no") if a in answers)
    mine = meeting.rsvp_of(me) if me is not None else None
    lines.append(f"RSVPs: {counts or 'none yet'}" + (f" · you: {mine}" if mine else ""))
    if meeting.attendees:
        lines.append(f"Here: {len(meeting.attendees)} · check-ins: {len(meeting.checkins)}")
    lines.append("Press m for meeting mode, r to RSVP.")
    return "\n".join(lines)


def resources_text(state: CircleState, name_of: NameOf) -> str:
    """The circle's links (its files are cards of their own, under Files)."""
    lines = []
    for link in state.resources:
        lines.append(f"• {link.title or link.url}")
        if link.title:
            lines.append(f"  {link.url}")
    for shared in state.shared_resources:
        tags = " ".join(f"#{tag}" for tag in shared.tags)
        title = shared.title or shared.url
        lines.append(f"• {title} (shared by {name_of(shared.author)}) {tags}".rstrip())
        if shared.title:
            lines.append(f"  {shared.url}")
    return "\n".join(lines) or "No resources yet."


def members_text(state: CircleState, name_of: NameOf, me: bytes | None) -> str:
    lines = [f"• {person(member.key, name_of, me)}" for member in state.members]
    return "\n".join(lines) or "Nobody yet."


def questions_text(state: CircleState, name_of: NameOf) -> str:
    unresolved = open_questions(state)
    lines = [f"? {question_line(q, name_of)}" for q in unresolved[:SHOWN_QUESTIONS]]
    if len(unresolved) > SHOWN_QUESTIONS:
        lines.append(f"… and {len(unresolved) - SHOWN_QUESTIONS} more")
    if not lines:
        lines.append("No open question.")
    lines.append("Press q for all questions, a to ask.")
    return "\n".join(lines)


class CirclePage(OwnEdits, CircleBase):
    """One circle at a glance; everything else about it is a key away."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("m", "meeting", "Meeting mode"),
        Binding("q", "questions", "Questions"),
        Binding("i", "report", "Report"),
        Binding("s", "schedule", "Schedule"),
        # Off the footer, which has no room left at 80 columns; the next-meeting box says it.
        Binding("r", "rsvp", "RSVP to the next meeting", show=False),
        Binding("a", "ask", "Ask"),
        Binding("j", "join", "Join / leave", show=False),
        Binding("e", "own_changes", "Change what you wrote", show=False),
        Binding("c", "start", "Start this circle"),
        Binding("f", "fetch", "Fetch the circle's files", show=False),
        Binding("escape", "back", "Back"),
    ]

    def __init__(
        self, node: Node, circle: str, *, clock: Clock, start: NewCircle | None = None
    ) -> None:
        super().__init__(node, circle, clock=clock)
        self.start = start
        """A circle to start (create) as soon as the page opens."""
        self.challenges: list[Challenge] = []
        """The circle's learning challenges (who is on which), as last loaded."""
        self.files: list[SharedFile] = []
        """The files shared with the circle, as last loaded."""
        self.holders: dict[bytes, int] = {}
        """How many other laptops have each of my files, as last asked (online only)."""
        self.holders_counted = 0
        """How many times they were counted (tests wait on it)."""

    def compose(self) -> ComposeResult:
        with Horizontal(id="circle-page"):
            with VerticalScroll(id="circle-left"):
                yield Static("Loading…", id="circle-about", classes="circle-box", markup=False)
                yield Static("", id="circle-next", classes="circle-box", markup=False)
                yield Static("", id="circle-resources", classes="circle-box", markup=False)
                yield Vertical(id="circle-files", classes="circle-box")
            with VerticalScroll(id="circle-right"):
                yield Static("", id="circle-members", classes="circle-box", markup=False)
                yield Static("", id="circle-questions", classes="circle-box", markup=False)
                yield Static("", id="circle-challenges", classes="circle-box", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#circle-about").border_title = f"#{self.circle}"
        self.query_one("#circle-next").border_title = "Next meeting"
        self.query_one("#circle-left").focus()
        self.set_interval(HOLDERS_EVERY, self._recount_holders)
        if self.start is not None:
            self._start(self.start)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "start":
            return not self.exists  # only offered until the circle exists
        if action in (
            "meeting",
            "questions",
            "report",
            "schedule",
            "rsvp",
            "ask",
            "join",
            "own_changes",
            "fetch",
        ):
            return self.exists
        return True

    followed_kinds = CHALLENGE_KINDS

    async def prepare(self, state: CircleState) -> None:
        self.files = await self.node.files.list(self.circle)
        self.challenges = await self.node.challenges.in_circle(self.circle)

    def show(self, state: CircleState) -> None:
        about = self.query_one("#circle-about", Static)
        boxes = ["#circle-next", "#circle-resources", "#circle-files", "#circle-right"]
        for selector in boxes:
            self.query_one(selector).display = state.exists
        if not state.exists:
            about.border_title = f"#{self.circle}"
            about.update(
                f"#{self.circle} is a channel for notes, not a study circle yet: it has no"
                " description, members or meetings.\n\nPress c to start it as a study circle."
            )
            self.refresh_bindings()
            return
        me = self.me
        about.border_title = state.title
        about.update(about_text(state, me))
        self.query_one("#circle-next", Static).update(
            meeting_text(state.next_meeting(self.clock()), self.clock(), self.name_of, me)
        )
        resources = self.query_one("#circle-resources", Static)
        count = len(state.resources) + len(state.shared_resources)
        resources.border_title = f"Resources ({count})"
        resources.update(resources_text(state, self.name_of))
        self._show_files()
        self._recount_holders()
        members = self.query_one("#circle-members", Static)
        members.border_title = f"Members ({len(state.members)})"
        members.update(members_text(state, self.name_of, me))
        questions = self.query_one("#circle-questions", Static)
        questions.border_title = open_questions_heading(state)
        questions.update(questions_text(state, self.name_of))
        cohorts = self.query_one("#circle-challenges", Static)
        cohorts.display = bool(self.challenges)
        cohorts.border_title = WHO_IS_ON_TITLE
        cohorts.update("\n".join(cohort_lines(self.challenges, self.name_of)))
        self.refresh_bindings()

    def palette_commands(self) -> list[Command]:
        here = f"#{self.circle}"
        return [
            (f"Circle: meeting mode of {here}", "Run the meeting together", self.action_meeting),
            (f"Circle: questions of {here}", "Open, answered, resolved", self.action_questions),
            (f"Circle: insights report of {here}", "Show and export", self.action_report),
            (f"Circle: schedule a meeting of {here}", "With a facilitator", self.action_schedule),
            (f"Circle: RSVP to the next meeting of {here}", "Yes, maybe or no", self.action_rsvp),
            (f"Circle: ask {here} a question", "Anyone can answer", self.action_ask),
            (f"Circle: join or leave {here}", "Membership is yours", self.action_join),
            (
                f"Circle: change or delete what you wrote in {here}",
                "Your meetings, your questions, the description",
                self.action_own_changes,
            ),
            (f"Circle: start {here} as a study circle", "Describe it", self.action_start),
            (
                f"Circle: fetch the files of {here}",
                "From every laptop that has them",
                self.action_fetch,
            ),
        ]

    def _show_files(self) -> None:
        """A card per file (Get, Save, Open, a bar while it arrives); hidden with none."""
        box = self.query_one("#circle-files", Vertical)
        box.border_title = f"Files ({len(self.files)})"
        box.display = bool(self.files)
        desk = desk_of(self.app)
        sync_cards(box, self.node, self.files, desk, me=self.me, holders=self.holders)

    def _recount_holders(self) -> None:
        if self.node.online and any(f.event.author == self.me for f in self.files):
            self._count_holders()

    @work(group="circle-holders", exclusive=True, exit_on_error=False)
    async def _count_holders(self) -> None:
        """Ask the linked laptops which have my files: I know when I can leave."""
        for shared in [f for f in self.files if f.event.author == self.me]:
            try:
                self.holders[shared.id] = await self.node.files.holders(shared.id)
            except NodeError:
                return
        self._show_files()
        self.holders_counted += 1

    # -- actions -----------------------------------------------------------------------

    def action_fetch(self) -> None:
        """Fetch every file of the circle not yet here, each card showing its progress."""
        if not fetch_all(self.query_one("#circle-files", Vertical)):
            self.notify("Every file of this circle is on this laptop.", timeout=3, markup=False)

    def action_meeting(self) -> None:
        if self.needs_circle():
            self.app.push_screen(MeetingScreen(self.node, self.circle, clock=self.clock))

    def action_questions(self) -> None:
        if self.needs_circle():
            self.app.push_screen(QuestionsScreen(self.node, self.circle, clock=self.clock))

    def action_report(self) -> None:
        if self.needs_circle():
            self.app.push_screen(ReportScreen(self.node, self.circle, clock=self.clock))

    def action_rsvp(self) -> None:
        if not self.needs_circle() or self.state is None:
            return
        meeting = self.state.next_meeting(self.clock())
        if meeting is None:
            self.notify(
                "No upcoming meeting to answer: press s to schedule one.",
                severity="warning",
                markup=False,
            )
            return
        mine = meeting.rsvp_of(self.me) if self.me is not None else None
        about = f"{self.state.title} · {when_text(meeting, self.clock())}"
        self.app.push_screen(RsvpDialog(about, mine), partial(self._answered, meeting, mine))

    def _answered(self, meeting: Meeting, mine: str | None, answer: str | None) -> None:
        if answer is None:
            return
        if answer == mine:  # a second identical event would only add noise to the circle
            self.notify(f"Your answer is {answer} already.", timeout=3, markup=False)
            return
        self.publish(
            f"RSVP shared with the circle: {answer}.",
            lambda: self.node.circles.rsvp(meeting.id, answer),
        )

    def action_join(self) -> None:
        if not self.needs_circle() or self.state is None:
            return
        me = self.me
        if me is not None and self.state.is_member(me):
            self.publish(f"You left #{self.circle}.", lambda: self.node.circles.leave(self.circle))
        else:
            self.publish(f"You joined #{self.circle}.", lambda: self.node.circles.join(self.circle))

    def action_start(self) -> None:
        if self.exists:
            self.notify(f"#{self.circle} is a study circle already.", markup=False)
            return
        self.app.push_screen(NewCircleDialog(self.circle), self._start)

    def _start(self, new: NewCircle | None) -> None:
        if new is None:
            return
        if new.slug != self.circle:
            self.circle = new.slug
            self._reload_pending = False
        self.publish(f"Study circle #{new.slug} started.", lambda: create_circle(self, new))


async def create_circle(screen: CircleBase, new: NewCircle) -> None:
    await screen.node.circles.create(new.slug, **new.description_fields())
    screen.changed()
