"""Schedule a meeting, or change one: when, where, who facilitates (a suggestion is
shown), the agenda. What the form proposes is peernode.circles.proposals'."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from textual.app import ComposeResult
from textual.widgets import Select, Static

from peernode.circles import MeetingProposal, meeting_body
from peernode.circles.model import (
    DEFAULT_ACTIVITY_MINUTES,
    MAX_ACTIVITY_MINUTES,
    MAX_MEETING_MINUTES,
    MIN_ACTIVITY_MINUTES,
    MIN_MINUTES,
    Activity,
    Agenda,
)
from peernode.text import local_time, parse_local_time
from tui.circles.new_circle import whole_number
from tui.dialogs.form import FormDialog, field_row, line_input, note, selected

TIME_EXAMPLE = "2026-12-01 18:00"
WHY_THEN = {
    "now": "It starts now: no meeting is on or coming up (change the time to plan ahead).",
    "rhythm": "It starts at the next meeting of the circle's rhythm.",
}


@dataclass(frozen=True, slots=True)
class NewMeeting:
    starts_at: int
    duration_minutes: int
    place: str
    facilitator: bytes | None
    agenda: Agenda

    def to_changes(self) -> dict[str, Any]:
        """The fields of an edit making a meeting this one (None removes a field)."""
        emptied: dict[str, Any] = {"place": None, "facilitator": None, "agenda": None}
        body = meeting_body(
            starts_at=self.starts_at,
            duration_minutes=self.duration_minutes,
            place=self.place,
            facilitator=self.facilitator,
            agenda=self.agenda,
        )
        return {**emptied, **body}


@dataclass(frozen=True, slots=True)
class Candidate:
    """A member who could facilitate; `reason` says why they are suggested."""

    key: bytes
    label: str
    reason: str = ""


class ScheduleDialog(FormDialog[NewMeeting]):
    """Dismisses with a NewMeeting, or None. `proposal`: what the fields start with.
    `candidates`: members in the order they might facilitate; `facilitator` is chosen
    to start with (by default the first candidate, the suggested one). `editing`: the
    form changes an existing meeting."""

    def __init__(
        self,
        circle_title: str,
        *,
        proposal: MeetingProposal,
        candidates: Sequence[Candidate],
        facilitator: bytes | None = None,
        editing: bool = False,
    ) -> None:
        super().__init__()
        self.circle_title = circle_title
        self.proposal = proposal
        self.candidates = list(candidates)
        self.editing = editing
        first = self.candidates[0].key if self.candidates else None
        self.facilitator = facilitator if editing else first
        self.heading = "Change the meeting" if editing else "Schedule a meeting"
        self.ok_label = "Save" if editing else "Schedule"

    def intro(self) -> ComposeResult:
        yield note(f"{self.circle_title}: check-in, coursework, activity, plus/delta.")
        if not self.editing:
            yield note(WHY_THEN[self.proposal.basis])
        if self.candidates:
            first = self.candidates[0]
            why = f" ({first.reason})" if first.reason else ""
            text = f"Suggested facilitator: {first.label}{why}. Facilitation rotates."
        else:
            text = "Nobody has joined yet, so there is no facilitator to suggest."
        yield Static(text, id="facilitator-suggestion", markup=False)

    def fields(self) -> ComposeResult:
        proposal = self.proposal
        agenda = proposal.agenda
        activity = agenda.activity
        yield field_row(
            "Starts at",
            line_input(local_time(proposal.starts_at), placeholder="YYYY-MM-DD HH:MM", id="when"),
        )
        yield field_row("Minutes", line_input(str(proposal.duration_minutes), id="duration"))
        yield field_row(
            "Place",
            line_input(proposal.place, placeholder="optional, e.g. Library room 2", id="place"),
        )
        options = [
            (f"{c.label} (suggested)" if i == 0 else c.label, c.key.hex())
            for i, c in enumerate(self.candidates)
        ]
        chosen = self.facilitator.hex() if self.facilitator else None
        yield field_row(
            "Facilitator",
            Select(
                options,
                prompt="nobody yet",
                value=chosen if chosen in {value for _, value in options} else Select.NULL,
                id="facilitator",
                compact=True,
            ),
        )
        yield field_row(
            "Coursework",
            line_input(agenda.coursework, placeholder="optional, e.g. Chapter 2", id="work"),
        )
        yield field_row(
            "Activity",
            line_input(
                activity.title if activity else "",
                placeholder="optional, e.g. Join puzzles",
                id="act",
            ),
        )
        minutes = activity.minutes if activity and activity.minutes else DEFAULT_ACTIVITY_MINUTES
        yield field_row("Activity min", line_input(str(minutes), id="activity-minutes"))

    def result(self) -> NewMeeting:
        try:
            starts_at = parse_local_time(self.value("#when"), example=TIME_EXAMPLE)
        except ValueError:
            raise ValueError(
                f"Write when it starts as a date and a time, like {TIME_EXAMPLE}."
            ) from None
        duration = whole_number(
            self.value("#duration"), "meeting's minutes", MIN_MINUTES, MAX_MEETING_MINUTES
        )
        activity_title = self.value("#act")
        minutes = whole_number(
            self.value("#activity-minutes"),
            "activity's minutes",
            MIN_ACTIVITY_MINUTES,
            MAX_ACTIVITY_MINUTES,
        )
        chosen = selected(self.query_one("#facilitator", Select))
        carried = self.proposal.agenda
        return NewMeeting(
            starts_at=starts_at,
            duration_minutes=duration or self.proposal.duration_minutes,
            place=self.value("#place"),
            facilitator=bytes.fromhex(chosen) if chosen else None,
            agenda=Agenda(
                checkin=carried.checkin,
                coursework=self.value("#work"),
                activity=Activity(activity_title, minutes) if activity_title else None,
                plusdelta=carried.plusdelta,
            ),
        )
