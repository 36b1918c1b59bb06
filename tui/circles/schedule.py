"""Schedule a meeting: when, where, who facilitates (a suggestion is shown), the agenda."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from textual.app import ComposeResult
from textual.widgets import Select, Static

from peernode.circles.model import (
    DEFAULT_ACTIVITY_MINUTES,
    DEFAULT_MEETING_MINUTES,
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


@dataclass(frozen=True, slots=True)
class NewMeeting:
    starts_at: int
    duration_minutes: int
    place: str
    facilitator: bytes | None
    agenda: Agenda


@dataclass(frozen=True, slots=True)
class Candidate:
    """A member who could facilitate; `reason` says why they are suggested."""

    key: bytes
    label: str
    reason: str = ""


class ScheduleDialog(FormDialog[NewMeeting]):
    """Dismisses with a NewMeeting, or None. `candidates`: members in the order they
    might facilitate (the first one is suggested and preselected)."""

    heading = "Schedule a meeting"
    ok_label = "Schedule"

    def __init__(
        self,
        circle_title: str,
        *,
        starts_at: int,
        duration_minutes: int | None,
        candidates: Sequence[Candidate],
    ) -> None:
        super().__init__()
        self.circle_title = circle_title
        self.starts_at = starts_at
        self.duration = duration_minutes or DEFAULT_MEETING_MINUTES
        self.candidates = list(candidates)

    def intro(self) -> ComposeResult:
        yield note(f"{self.circle_title}: check-in, coursework, activity, plus/delta.")
        if self.candidates:
            first = self.candidates[0]
            why = f" ({first.reason})" if first.reason else ""
            text = f"Suggested facilitator: {first.label}{why}. Facilitation rotates."
        else:
            text = "Nobody has joined yet, so there is no facilitator to suggest."
        yield Static(text, id="facilitator-suggestion", markup=False)

    def fields(self) -> ComposeResult:
        yield field_row(
            "Starts at",
            line_input(local_time(self.starts_at), placeholder="YYYY-MM-DD HH:MM", id="when"),
        )
        yield field_row("Minutes", line_input(str(self.duration), id="duration"))
        yield field_row(
            "Place", line_input(placeholder="optional, e.g. Library room 2", id="place")
        )
        options = [
            (f"{c.label} (suggested)" if i == 0 else c.label, c.key.hex())
            for i, c in enumerate(self.candidates)
        ]
        yield field_row(
            "Facilitator",
            Select(
                options,
                prompt="nobody yet",
                value=options[0][1] if options else Select.NULL,
                id="facilitator",
                compact=True,
            ),
        )
        yield field_row("Coursework", line_input(placeholder="optional, e.g. Chapter 2", id="work"))
        yield field_row("Activity", line_input(placeholder="optional, e.g. Join puzzles", id="act"))
        yield field_row(
            "Activity min", line_input(str(DEFAULT_ACTIVITY_MINUTES), id="activity-minutes")
        )

    def result(self) -> NewMeeting:
        starts_at = parse_local_time(self.value("#when"))
        duration = whole_number(
            self.value("#duration"), "minutes", MIN_MINUTES, MAX_MEETING_MINUTES
        )
        activity_title = self.value("#act")
        minutes = whole_number(
            self.value("#activity-minutes"),
            "activity minutes",
            MIN_ACTIVITY_MINUTES,
            MAX_ACTIVITY_MINUTES,
        )
        chosen = selected(self.query_one("#facilitator", Select))
        return NewMeeting(
            starts_at=starts_at,
            duration_minutes=duration or self.duration,
            place=self.value("#place"),
            facilitator=bytes.fromhex(chosen) if chosen else None,
            agenda=Agenda(
                coursework=self.value("#work"),
                activity=Activity(activity_title, minutes) if activity_title else None,
            ),
        )
