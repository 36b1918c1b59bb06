"""Fix what you wrote in a circle: change or cancel your meetings, change or delete
your questions, change the circle's description or delete the circle you started.

Only what the rules let you change is offered: an edit or a delete counts only
when its author wrote the target (peernode.circles.derive), while any member may
propose a newer description. Everything goes through the node's own `edit`,
`delete` and `circles.update`, as `peernode edit` and `peernode delete` do;
whatever removes something asks first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Final, Literal

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, OptionList, Static, TextArea
from textual.widgets.option_list import Option

from peernode.circles import MeetingProposal
from peernode.circles.model import CircleState, Meeting, Question
from peernode.circles.text import person, when_text
from tui.circles.ask import AskDialog, NewQuestion
from tui.circles.new_circle import NewCircle, NewCircleDialog
from tui.circles.schedule import Candidate, NewMeeting, ScheduleDialog
from tui.dialogs.form import FormDialog, note
from tui.text import clip

if TYPE_CHECKING:
    from tui.circles.base import CircleBase

    _Base = CircleBase
else:
    _Base = object

SHOWN_MEETINGS: Final = 6
SHOWN_QUESTIONS: Final = 8

Action = Literal[
    "edit-meeting",
    "cancel-meeting",
    "edit-question",
    "delete-question",
    "edit-circle",
    "delete-circle",
    "withdraw-version",
]


@dataclass(frozen=True, slots=True)
class Change:
    """One change the learner may make: `label` in the list, `target` what it is about."""

    action: Action
    label: str
    target: Meeting | Question | None = None


def own_changes(state: CircleState, me: bytes | None, now: int) -> list[Change]:
    """What `me` may change in `state`: meetings I scheduled (newest first), questions I
    asked (newest first), then the circle's description."""
    if me is None or not state.exists:
        return []
    changes = []
    meetings = [m for m in reversed(state.meetings) if m.author == me][:SHOWN_MEETINGS]
    for meeting in meetings:
        when = when_text(meeting, now)
        remove = "Delete" if meeting.ends_at <= now else "Cancel"  # over: not cancelled
        changes.append(Change("edit-meeting", f"Change the meeting of {when}", meeting))
        changes.append(Change("cancel-meeting", f"{remove} the meeting of {when}", meeting))
    questions = sorted(
        (q for q in state.questions if q.author == me), key=lambda q: q.shown_at, reverse=True
    )
    for question in questions[:SHOWN_QUESTIONS]:
        title = clip(question.title, 48)
        changes.append(Change("edit-question", f"Change your question “{title}”", question))
        changes.append(Change("delete-question", f"Delete your question “{title}”", question))
    if state.is_member(me):
        changes.append(Change("edit-circle", "Change the circle's description"))
    if all(version.author == me for version in state.history):
        changes.append(Change("delete-circle", f"Delete the study circle #{state.slug}"))
    elif state.current is not None and state.current.author == me:
        changes.append(Change("withdraw-version", "Withdraw your last change to the description"))
    return changes


NOTHING_YOURS: Final = (
    "Nothing here is yours to change: you can change or delete the meetings you "
    "scheduled and the questions you asked, and members can change the description."
)


class ChangeDialog(FormDialog[Change]):
    """Dismisses with the Change chosen from `changes`, or None."""

    heading = "Change what you wrote"
    ok_label = "Choose"

    def __init__(self, changes: list[Change]) -> None:
        super().__init__()
        self.changes = changes

    def intro(self) -> ComposeResult:
        yield note("Your changes reach everyone in the circle. Cancel and delete ask first.")

    def fields(self) -> ComposeResult:
        options = [Option(change.label) for change in self.changes]
        yield OptionList(*options, id="changes", compact=True)

    def on_mount(self) -> None:
        choices = self.query_one("#changes", OptionList)
        choices.highlighted = 0
        choices.focus()

    def result(self) -> Change:
        index = self.query_one("#changes", OptionList).highlighted
        if index is None:
            raise ValueError("Choose what to change with ↑ and ↓, then press Enter.")
        return self.changes[index]

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_submit()


class ConfirmDialog(ModalScreen[bool]):
    """Asks before something is removed: True to go ahead; Esc (or `keep`) keeps it."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "keep", "Keep it")]

    def __init__(self, question: str, consequence: str, *, confirm: str, keep: str) -> None:
        super().__init__()
        self.question = question
        self.consequence = consequence
        self.confirm = confirm
        self.keep = keep

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self.question, classes="dialog-title", markup=False)
            yield Static(self.consequence, classes="dialog-text", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.confirm, variant="error", id="confirm")
                yield Button(self.keep, variant="primary", id="keep")

    def on_mount(self) -> None:
        self.query_one("#keep", Button).focus()  # Enter alone never removes anything

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "confirm")

    def action_keep(self) -> None:
        self.dismiss(False)


class EditQuestionDialog(AskDialog):
    """The ask form, filled with `question` as it is now; dismisses with the new version."""

    def __init__(self, question: Question) -> None:
        super().__init__(", ".join(question.tags))
        self.question = question
        self.heading = "Change your question"
        self.ok_label = "Save"

    def on_mount(self) -> None:
        for selector, text in (("#title", self.question.title), ("#text", self.question.text)):
            field = self.query_one(selector)
            if isinstance(field, Input):
                field.value = text
            elif isinstance(field, TextArea):
                field.text = text


class OwnEdits(_Base):
    """The changes of `own_changes` for a circle screen: `e` lists them, and meeting
    mode offers its meeting's directly (`change_meeting`, `cancel_meeting`)."""

    def changes_offered(self) -> list[Change]:
        """What `e` offers on this screen (meeting mode: its meeting's only)."""
        if self.state is None:
            return []
        return own_changes(self.state, self.me, self.clock())

    def action_own_changes(self) -> None:
        if not self.needs_circle():
            return
        changes = self.changes_offered()
        if not changes:
            self.notify(NOTHING_YOURS, markup=False)
            return
        self.app.push_screen(ChangeDialog(changes), self._chosen)

    def _chosen(self, change: Change | None) -> None:
        if change is None:
            return
        target = change.target
        if isinstance(target, Meeting):
            if change.action == "edit-meeting":
                self.change_meeting(target)
            else:
                self.cancel_meeting(target)
        elif isinstance(target, Question):
            if change.action == "edit-question":
                self._edit_question(target)
            else:
                self._delete_question(target)
        elif change.action == "edit-circle":
            self._edit_circle()
        else:
            self._delete_circle(whole=change.action == "delete-circle")

    # -- meetings ------------------------------------------------------------------------

    def change_meeting(self, meeting: Meeting) -> None:
        self.run_worker(self._change_meeting(meeting), group="circle-dialog", exclusive=True)

    async def _change_meeting(self, meeting: Meeting) -> None:
        state = self.state
        candidates = await self.facilitator_candidates()
        if state is None or candidates is None:
            return
        proposal = MeetingProposal(
            meeting.starts_at, meeting.duration_minutes, meeting.place, meeting.agenda, "rhythm"
        )
        facilitator = meeting.facilitator
        if facilitator is not None and all(c.key != facilitator for c in candidates):
            # Facilitating, though no longer a member: kept unless someone else is chosen.
            candidates.append(Candidate(facilitator, person(facilitator, self.name_of)))
        dialog = ScheduleDialog(
            state.title,
            proposal=proposal,
            candidates=candidates,
            facilitator=meeting.facilitator,
            editing=True,
        )

        def chosen(new: NewMeeting | None) -> None:
            if new is not None:
                self.publish(
                    "Meeting changed for everyone in the circle.",
                    lambda: self.node.edit(meeting.id, new.to_changes()),
                )

        self.app.push_screen(dialog, chosen)

    def cancel_meeting(self, meeting: Meeting) -> None:
        now = self.clock()
        when = when_text(meeting, now)
        over = meeting.ends_at <= now
        verb, done = ("Delete", "deleted") if over else ("Cancel", "cancelled")
        gone = "check-ins and plus/deltas, and leaves the report" if over else "check-ins"
        dialog = ConfirmDialog(
            f"{verb} the meeting of {when}?",
            f"It disappears for everyone in the circle, with its RSVPs and {gone}. "
            "This cannot be undone: schedule a new one (s) if you change your mind.",
            confirm=f"{verb} the meeting",
            keep="Keep it",
        )

        def chosen(yes: bool | None) -> None:
            if yes:
                self.publish(
                    f"Meeting {done} for everyone in the circle.",
                    lambda: self.node.delete(meeting.id, done),
                )

        self.app.push_screen(dialog, chosen)

    # -- questions -----------------------------------------------------------------------

    def _edit_question(self, question: Question) -> None:
        def chosen(new: NewQuestion | None) -> None:
            if new is not None:
                changes = {"title": new.title, "text": new.text or None, "tags": list(new.tags)}
                changes["tags"] = changes["tags"] or None  # None removes the field
                self.publish(
                    "Question changed for everyone in the circle.",
                    lambda: self.node.edit(question.id, changes),
                )

        self.app.push_screen(EditQuestionDialog(question), chosen)

    def _delete_question(self, question: Question) -> None:
        dialog = ConfirmDialog(
            f"Delete your question “{clip(question.title, 60)}”?",
            "It disappears for everyone in the circle, with its answers. This cannot be undone.",
            confirm="Delete the question",
            keep="Keep it",
        )

        def chosen(yes: bool | None) -> None:
            if yes:
                self.publish("Question deleted.", lambda: self.node.delete(question.id))

        self.app.push_screen(dialog, chosen)

    # -- the circle ------------------------------------------------------------------------

    def _edit_circle(self) -> None:
        state = self.state
        if state is None or state.current is None:
            return

        def chosen(new: NewCircle | None) -> None:
            if new is not None:
                self.publish(
                    "Description changed for everyone in the circle.",
                    lambda: self.node.circles.update(self.circle, **new.description_fields()),
                )

        self.app.push_screen(NewCircleDialog(state.slug, current=state.current), chosen)

    def _delete_circle(self, *, whole: bool) -> None:
        state = self.state
        if state is None or state.current is None:
            return
        if whole:
            versions = [version.id for version in state.history]
            dialog = ConfirmDialog(
                f"Delete the study circle #{state.slug}?",
                "Its description disappears for everyone; the channel's notes, meetings "
                "and questions stay. This cannot be undone: start it again (c) if you "
                "change your mind.",
                confirm="Delete the circle",
                keep="Keep it",
            )
            done = f"#{state.slug} is no longer a study circle."
        else:
            versions = [state.current.id]
            dialog = ConfirmDialog(
                "Withdraw your last change to the description?",
                "The version before yours becomes the circle's description again.",
                confirm="Withdraw it",
                keep="Keep it",
            )
            done = "Your change to the description is withdrawn."

        async def delete_all() -> None:
            for version in versions:
                await self.node.delete(version)

        def chosen(yes: bool | None) -> None:
            if yes:
                self.publish(done, delete_all)

        self.app.push_screen(dialog, chosen)
