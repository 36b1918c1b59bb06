"""Meeting mode: steps through the agenda of one meeting, live.

Check-in → coursework → activity (a time box counting down) → plus/delta. Each
laptop runs its own meeting mode, or one shared screen runs it for the room:
either way everyone checks in and gives a plus/delta from their own laptop (or
the CLI), signed as themselves, and every screen shows them within a moment.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from functools import partial
from typing import ClassVar, Final

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.widgets import ContentSwitcher, Footer, Static

from peernode.challenges.model import CHALLENGE_KINDS
from peernode.challenges.text import challenge_of_each
from peernode.circles.model import DEFAULT_ACTIVITY_MINUTES, CircleState, Meeting
from peernode.circles.text import person, when_text
from peernode.node import Node
from peernode.text import NameOf
from tui.circles.base import CircleBase, Command
from tui.circles.checkin import CheckInDialog, CheckInFields
from tui.circles.edits import Change, OwnEdits
from tui.circles.plusdelta import PLUSDELTA_PROMPT, PlusDeltaDialog, PlusDeltaFields
from tui.circles.proposals import current_meeting
from tui.circles.steps import STEPS, StepBar
from tui.circles.timebox import Countdown, TimeBox, time_boxes_of
from tui.text import Clock

STEP_IDS: Final = ("step-checkin", "step-coursework", "step-activity", "step-plusdelta")

CHECKIN_PROMPT: Final = "How are you? What are you working on today? Where do you need help?"


def present_text(
    meeting: Meeting, name_of: NameOf, me: bytes | None, on: Mapping[bytes, str] | None = None
) -> str:
    """Everyone who attended (signed they are here or checked in), with their
    check-in and the challenge they are on (`on`); then those who said they would come
    and have not shown up yet."""
    checkins = {checkin.author: checkin for checkin in meeting.checkins}
    here = meeting.attendees
    lines = []
    for key in here:
        checkin = checkins.get(key)
        lines.append(f"✓ {person(key, name_of, me)}")
        if on and key in on:
            lines.append(f"    {on[key]}")
        if checkin is None:
            lines.append("    here, not checked in yet")
            continue
        if checkin.feeling:
            lines.append(f"    feeling: {checkin.feeling}")
        if checkin.working_on:
            lines.append(f"    working on: {checkin.working_on}")
        if checkin.need_help:
            lines.append(f"    needs help with: {checkin.need_help}")
    coming = [r.author for r in meeting.rsvps if r.answer == "yes" and r.author not in here]
    for key in coming:
        lines.append(f"… {person(key, name_of, me)}: said yes, not here yet")
    return "\n".join(lines) or "Nobody has checked in yet. Press c to check in."


def plusdelta_text(meeting: Meeting, name_of: NameOf) -> str:
    lines = []
    for item in meeting.plusdeltas:
        lines.append(f"{name_of(item.author)}:")
        if item.plus:
            lines.append(f"  + {item.plus}")
        if item.delta:
            lines.append(f"  Δ {item.delta}")
    return "\n".join(lines) or "No plus/delta yet. Press p to add yours."


def coursework_text(meeting: Meeting, state: CircleState) -> str:
    lines = [meeting.agenda.coursework or "No coursework written in the agenda."]
    links = [link.title or link.url for link in state.resources]
    links += [shared.title or shared.url for shared in state.shared_resources]
    if links:
        lines += ["", "Resources:", *(f"• {link}" for link in links)]
    return "\n".join(lines)


class MeetingScreen(OwnEdits, CircleBase):
    """`meeting_id` picks the meeting; by default the one in progress, else the next,
    else the latest. `time_source` drives the activity's time box (tests inject one);
    the time box itself is kept by the app, so it runs on when meeting mode closes."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("right,n", "next_step", "Next part"),
        Binding("left,b", "previous_step", "Previous part", show=False),
        Binding("1", "go_step(0)", "Check-in", show=False),
        Binding("2", "go_step(1)", "Coursework", show=False),
        Binding("3", "go_step(2)", "Activity", show=False),
        Binding("4", "go_step(3)", "Plus/delta", show=False),
        Binding("c", "check_in", "Check in"),
        Binding("h", "here", "I'm here", show=False),
        Binding("t", "timer", "Timer"),
        Binding("r", "reset_timer", "Reset timer", show=False),
        Binding("f", "big_clock", "Big clock", show=False),
        Binding("p", "plus_delta", "Plus/delta"),
        Binding("e", "own_changes", "Edit"),
        Binding("s", "schedule", "Schedule", show=False),
        Binding("escape", "back", "Back"),
    ]

    def __init__(
        self,
        node: Node,
        circle: str,
        *,
        clock: Clock,
        meeting_id: bytes | None = None,
        time_source: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(node, circle, clock=clock)
        self.meeting_id = meeting_id
        self.time_source = time_source
        self.step = 0
        self.meeting: Meeting | None = None
        self.on_challenges: dict[bytes, str] = {}
        """The challenge each learner is on, as their check-in shows it."""

    followed_kinds = CHALLENGE_KINDS

    async def prepare(self, state: CircleState) -> None:
        found = await self.node.challenges.in_circle(self.circle)
        self.on_challenges = challenge_of_each(found)

    @property
    def step_bar(self) -> StepBar:
        return self.query_one(StepBar)

    @property
    def time_box(self) -> TimeBox:
        return self.query_one(TimeBox)

    def compose(self) -> ComposeResult:
        with Vertical(id="meeting"):
            yield Static("Loading…", id="meeting-head", markup=False)
            yield StepBar(id="meeting-steps")
            with ContentSwitcher(initial=STEP_IDS[0], id="meeting-parts"):
                with VerticalScroll(id=STEP_IDS[0], classes="meeting-part"):
                    yield Static(CHECKIN_PROMPT, id="checkin-prompt", markup=False)
                    yield Static("", id="present", classes="meeting-box", markup=False)
                with VerticalScroll(id=STEP_IDS[1], classes="meeting-part"):
                    yield Static("", id="coursework", classes="meeting-box", markup=False)
                with VerticalScroll(id=STEP_IDS[2], classes="meeting-part"):
                    yield Static("", id="activity", markup=False)
                    yield TimeBox(
                        Countdown(DEFAULT_ACTIVITY_MINUTES, time_source=self.time_source),
                        id="time-box",
                        classes="meeting-box",
                    )
                    yield Static(
                        "t starts or pauses the time box, r resets it, f shows it in big "
                        "digits. On a shared screen, run it there for the whole room.",
                        classes="meeting-hint",
                        markup=False,
                    )
                with VerticalScroll(id=STEP_IDS[3], classes="meeting-part"):
                    yield Static(PLUSDELTA_PROMPT, id="plusdelta-prompt", markup=False)
                    yield Static("", id="plusdeltas", classes="meeting-box", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#time-box").border_title = "Time box"
        self.query_one(f"#{STEP_IDS[0]}").focus()

    # -- showing -------------------------------------------------------------------------

    def show(self, state: CircleState) -> None:
        now = self.clock()
        meeting = None
        if self.meeting_id is not None:
            meeting = state.meeting(self.meeting_id)
        else:
            meeting = current_meeting(state, now)
            self.meeting_id = meeting.id if meeting else None
        self.meeting = meeting
        head = self.query_one("#meeting-head", Static)
        self.refresh_bindings()
        if meeting is None:
            cancelled = self.meeting_id in state.deleted
            why = "this meeting was cancelled" if cancelled else "no meeting is scheduled yet"
            head.update(f"{state.title}: {why}. Press s to schedule one.")
            for selector in ("#present", "#coursework", "#activity", "#plusdeltas"):
                self.query_one(selector, Static).update("")
            return
        facilitator = (
            f" · facilitator {self.name_of(meeting.facilitator)}" if meeting.facilitator else ""
        )
        place = f" · {meeting.place}" if meeting.place else ""
        head.update(f"Meeting of {state.title} · {when_text(meeting, now)}{place}{facilitator}")
        agenda = meeting.agenda
        self.query_one("#checkin-prompt", Static).update(agenda.checkin or CHECKIN_PROMPT)
        here = len(meeting.attendees)
        present = self.query_one("#present", Static)
        present.border_title = f"Here: {here} · checked in: {len(meeting.checkins)}"
        present.update(present_text(meeting, self.name_of, self.me, self.on_challenges))
        self.query_one("#coursework", Static).update(coursework_text(meeting, state))
        self.query_one("#coursework").border_title = "Coursework"
        activity = agenda.activity
        self.query_one("#activity", Static).update(
            f"Activity: {activity.title}" if activity and activity.title else "Activity (15–20 min)"
        )
        minutes = activity.minutes if activity and activity.minutes else DEFAULT_ACTIVITY_MINUTES
        countdown = time_boxes_of(self.app).of(meeting.id, minutes, self.time_source)
        countdown.set_minutes(minutes)
        self.time_box.show(countdown)
        self.query_one("#plusdelta-prompt", Static).update(agenda.plusdelta or PLUSDELTA_PROMPT)
        plusdeltas = self.query_one("#plusdeltas", Static)
        plusdeltas.border_title = f"Plus/delta: {len(meeting.plusdeltas)}"
        plusdeltas.update(plusdelta_text(meeting, self.name_of))

    @property
    def part_text(self) -> str:
        """The text of the part shown now (what a learner reads on the screen)."""
        part = self.query_one(f"#{STEP_IDS[self.step]}")
        texts = []
        for widget in part.query("Static, TimeBox"):
            if isinstance(widget, TimeBox):
                texts.append(widget.text)
            elif isinstance(widget, Static) and not isinstance(widget.parent, TimeBox):
                texts.append(str(widget.content))
        return "\n".join(texts)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "own_changes":  # only whoever scheduled the meeting may change it
            return self.meeting is not None and self.meeting.author == self.me
        return True

    def changes_offered(self) -> list[Change]:
        return [change for change in super().changes_offered() if change.target == self.meeting]

    def palette_commands(self) -> list[Command]:
        commands: list[Command] = [
            (
                f"Meeting: go to {name}",
                f"Part {i + 1} of the agenda",
                partial(self.action_go_step, i),
            )
            for i, name in enumerate(STEPS)
        ]
        commands += [
            (
                "Meeting: check in",
                "How I am, what I work on, where I need help",
                self.action_check_in,
            ),
            ("Meeting: I'm here", "Sign that I attend", self.action_here),
            ("Meeting: start or pause the time box", "The activity countdown", self.action_timer),
            ("Meeting: reset the time box", "Back to the full time", self.action_reset_timer),
            ("Meeting: big time box", "Big digits, for a projector", self.action_big_clock),
            ("Meeting: plus/delta", "What went well, what to change", self.action_plus_delta),
            ("Meeting: schedule the next meeting", "With a facilitator", self.action_schedule),
        ]
        if self.check_action("own_changes", ()):
            commands.append(
                ("Meeting: change or cancel it", "You scheduled it", self.action_own_changes)
            )
        return commands

    # -- actions -------------------------------------------------------------------------

    def action_go_step(self, step: int) -> None:
        self.step = max(0, min(len(STEPS) - 1, step))
        self.step_bar.step = self.step
        switcher = self.query_one(ContentSwitcher)
        switcher.current = STEP_IDS[self.step]
        self.query_one(f"#{STEP_IDS[self.step]}").focus()

    def action_next_step(self) -> None:
        self.action_go_step(self.step + 1)

    def action_previous_step(self) -> None:
        self.action_go_step(self.step - 1)

    def action_timer(self) -> None:
        if self.step != 2:
            self.action_go_step(2)
        self.time_box.toggle()

    def action_reset_timer(self) -> None:
        self.time_box.reset()

    def action_big_clock(self) -> None:
        if self.step != 2:
            self.action_go_step(2)
        self.time_box.toggle_big()

    def _meeting_or_say(self) -> Meeting | None:
        if self.meeting is None:
            self.notify("No meeting to take part in: press s to schedule one.", severity="warning")
        return self.meeting

    def _is_here(self, meeting: Meeting) -> bool:
        return self.me is not None and self.me in meeting.attendees

    def action_here(self) -> None:
        meeting = self._meeting_or_say()
        if meeting is None:
            return
        if self._is_here(meeting):
            self.notify("You are marked as here already.")
            return
        self.publish("Marked as here.", lambda: self.node.circles.attend(meeting.id))

    def action_check_in(self) -> None:
        meeting = self._meeting_or_say()
        if meeting is None:
            return

        def chosen(fields: CheckInFields | None) -> None:
            if fields is not None:
                self.publish("Checked in.", partial(self._check_in, meeting, fields))

        prompt = meeting.agenda.checkin or CHECKIN_PROMPT
        self.app.push_screen(CheckInDialog(prompt), chosen)

    async def _check_in(self, meeting: Meeting, fields: CheckInFields) -> None:
        # One event, as `peernode meeting checkin` signs: a check-in counts as attendance.
        await self.node.circles.check_in(meeting.id, **fields.to_fields())

    def action_plus_delta(self) -> None:
        meeting = self._meeting_or_say()
        if meeting is None:
            return

        def chosen(fields: PlusDeltaFields | None) -> None:
            if fields is not None:
                self.publish(
                    "Plus/delta shared.",
                    lambda: self.node.circles.plus_delta(meeting.id, fields.plus, fields.delta),
                )

        self.app.push_screen(PlusDeltaDialog(meeting.agenda.plusdelta), chosen)
