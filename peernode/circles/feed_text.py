"""What the feed shows of each study-circle event: written once for the TUI and the CLI.

Derived facts (who came to a meeting, a question's answers and status) come from
the circle's state (peernode.circles.derive), never from re-reading events here.
Names come from `name_of`; times are local, with the weekday.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from peernode.circles.bodies import text_field
from peernode.circles.derive import meeting_from, version_from
from peernode.circles.model import CircleState, CircleVersion, Meeting, Question
from peernode.circles.text import (
    STATUS_MARK,
    activity_text,
    minutes_text,
    rhythm_text,
    tags_text,
    who,
)
from peernode.text import NameOf, Shown, local_time, names_text, plural, weekday
from protocol import kinds
from protocol.event import Event

RSVP_WORDS: Final = {"yes": "is going to", "maybe": "might go to", "no": "is not going to"}
"""An RSVP as a verb phrase: 'Bo is going to the meeting on …'."""


@dataclass(frozen=True, slots=True)
class CircleView:
    """What a circle event is shown with: its circle's state and people's names.

    threaded: the event is shown under what it refers to (an answer under its
    question), so it need not say what that is.
    """

    state: CircleState | None
    name_of: NameOf
    threaded: bool = False

    def meeting(self, event: Event, body: Mapping[str, Any]) -> Meeting:
        found = self.state.meeting(event.id) if self.state else None
        return found or meeting_from(event, body)

    def version(self, version_id: bytes | None) -> CircleVersion | None:
        if self.state is None or version_id is None:
            return None
        return next((v for v in self.state.history if v.id == version_id), None)

    def question(self, question_id: bytes | None) -> Question | None:
        if self.state is None or question_id is None:
            return None
        return self.state.question(question_id)

    def meeting_when(self, meeting_id: bytes | None) -> str:
        """'the meeting on Tue 2026-12-01 18:00', or 'a meeting' when it is not known."""
        found = self.state.meeting(meeting_id) if self.state and meeting_id else None
        return f"the meeting on {meeting_time(found.starts_at)}" if found else "a meeting"


Render = Callable[[Event, Mapping[str, Any], CircleView], Shown]


def meeting_time(starts_at: int) -> str:
    """'Tue 2026-12-01 18:00' (local time)."""
    return f"{weekday(starts_at)} {local_time(starts_at)}"


def show_circle_event(event: Event, body: Mapping[str, Any], view: CircleView) -> Shown | None:
    """The rendering of a study-circle event, or None when `event` is of no circle kind."""
    render = _RENDERERS.get(event.kind)
    return None if render is None else render(event, body, view)


# -- each kind ------------------------------------------------------------------------------


def _circle(event: Event, body: Mapping[str, Any], view: CircleView) -> Shown:
    """A new circle with all it says; an update with only what it changed."""
    version = version_from(event)
    before = view.version(version.updates)
    name = view.name_of(event.author)
    if version.updates is None:
        headline = f"{name} started the circle “{version.title}”"
    elif before is not None and before.title != version.title:
        headline = f"{name} renamed the circle “{before.title}” to “{version.title}”"
    else:
        headline = f"{name} updated the description of the circle “{version.title}”"
    details = []
    if version.topic and (before is None or before.topic != version.topic):
        details.append(f"Topic: {version.topic}")
    if version.rhythm and (before is None or before.rhythm != version.rhythm):
        details.append(f"Meets {rhythm_text(version.rhythm)}")
    details += [
        f"Resource: {link.title + ' — ' if link.title else ''}{link.url}"
        for link in version.resources
        if before is None or link not in before.resources
    ]
    same = before is not None and before.description == version.description
    return Shown(headline, tuple(details), "" if same else version.description)


def _join(event: Event, body: Mapping[str, Any], view: CircleView) -> Shown:
    verb = "joined" if event.kind == kinds.JOIN else "left"
    message = " ".join(text_field(body, "message").split())
    said = f"“{message}”" if message else ""
    return Shown(f"{view.name_of(event.author)} {verb} the circle", text=said, plain=True)


def _resource(event: Event, body: Mapping[str, Any], view: CircleView) -> Shown:
    details = [text_field(body, "url")]
    if tags := body.get("tags"):
        details.append(tags_text(tags))
    if licence := text_field(body, "licence"):
        details.append(f"Licence: {licence}")
    return Shown(
        f"{view.name_of(event.author)} shared “{text_field(body, 'title')}”",
        tuple(details),
        text_field(body, "description"),
    )


def _meeting(event: Event, body: Mapping[str, Any], view: CircleView) -> Shown:
    meeting = view.meeting(event, body)
    name_of = view.name_of
    details = []
    if meeting.place:
        details.append(f"Where: {meeting.place}")
    if meeting.facilitator:
        details.append(f"Facilitator: {who(meeting.facilitator, name_of)}")
    agenda = meeting.agenda
    for label, part in (("Check-in", agenda.checkin), ("Coursework", agenda.coursework)):
        if part:
            details.append(f"{label}: {part}")
    if agenda.activity:
        details.append(f"Activity: {activity_text(agenda.activity)}")
    if agenda.plusdelta:
        details.append(f"Plus/delta: {agenda.plusdelta}")
    if going := _rsvps_text(meeting, name_of):
        details.append(going)
    if meeting.attendees:
        there = names_text([name_of(key) for key in meeting.attendees])
        details.append(f"{there} {'was' if len(meeting.attendees) == 1 else 'were'} there")
    headline = (
        f"Meeting on {meeting_time(meeting.starts_at)}, {minutes_text(meeting.duration_minutes)}"
    )
    return Shown(headline, tuple(details))


def _rsvps_text(meeting: Meeting, name_of: NameOf) -> str:
    """'Going: Ana and Bo · maybe: Chen · not going: Dee' ('' when nobody answered)."""
    parts = []
    for answer, label in (("yes", "Going"), ("maybe", "maybe"), ("no", "not going")):
        names = [name_of(rsvp.author) for rsvp in meeting.rsvps if rsvp.answer == answer]
        if names:
            parts.append(f"{label}: {names_text(names)}")
    text = " · ".join(parts)
    return text[:1].upper() + text[1:]


def _rsvp(event: Event, body: Mapping[str, Any], view: CircleView) -> Shown:
    verb = RSVP_WORDS.get(text_field(body, "answer"), "answered about")
    where = view.meeting_when(event.refs.get("meeting"))
    return Shown(f"{view.name_of(event.author)} {verb} {where}")


def _attendance(event: Event, body: Mapping[str, Any], view: CircleView) -> Shown:
    where = view.meeting_when(event.refs.get("meeting"))
    return Shown(f"{view.name_of(event.author)} was at {where}", text=text_field(body, "note"))


def _checkin(event: Event, body: Mapping[str, Any], view: CircleView) -> Shown:
    parts = [
        f"{label}{text}"
        for label, field in (
            ("feeling ", "feeling"),
            ("working on ", "working_on"),
            ("needs help with ", "need_help"),
        )
        if (text := " ".join(text_field(body, field).split()))
    ]
    return Shown(f"{view.name_of(event.author)} checked in: {'; '.join(parts)}")


def _plusdelta(event: Event, body: Mapping[str, Any], view: CircleView) -> Shown:
    parts = [
        f"{label}{text}"
        for label, field in (("went well: ", "plus"), ("to change: ", "delta"))
        if (text := " ".join(text_field(body, field).split()))
    ]
    return Shown(f"{view.name_of(event.author)}'s plus/delta — {'; '.join(parts)}")


def _question(event: Event, body: Mapping[str, Any], view: CircleView) -> Shown:
    question = view.question(event.id)
    details = []
    if question is not None:
        answers = len(question.answers)
        details.append(STATUS_MARK[question.status])
        details.append(plural(answers, "answer") if answers else "no answers yet")
    if tags := body.get("tags"):
        details.append(tags_text(tags))
    return Shown(
        f"Question: {text_field(body, 'title')}",
        (" · ".join(details),) if details else (),
        text_field(body, "text"),
    )


def _answer(event: Event, body: Mapping[str, Any], view: CircleView) -> Shown:
    question = view.question(event.refs.get("question"))
    headline = ""
    if not view.threaded:
        headline = f"Answer to “{question.title}”" if question else "An answer to a question"
    helped = question is not None and question.helped == event.id
    details = ("✓ the asker marked this answer as what helped",) if helped else ()
    return Shown(headline, details, text_field(body, "text"))


def _resolved(event: Event, body: Mapping[str, Any], view: CircleView) -> Shown:
    question = view.question(event.refs.get("question"))
    name = view.name_of(event.author)
    what = "this question" if view.threaded or question is None else f"“{question.title}”"
    helped = event.refs.get("answer")
    answer = next((a for a in question.answers if a.id == helped), None) if question else None
    why = f": {view.name_of(answer.author)}'s answer helped" if answer else ""
    return Shown(f"✓ {name} marked {what} resolved{why}", text=text_field(body, "note"))


_RENDERERS: Final[dict[str, Render]] = {
    kinds.CIRCLE: _circle,
    kinds.JOIN: _join,
    kinds.LEAVE: _join,
    kinds.RESOURCE: _resource,
    kinds.MEETING: _meeting,
    kinds.RSVP: _rsvp,
    kinds.ATTENDANCE: _attendance,
    kinds.CHECKIN: _checkin,
    kinds.PLUSDELTA: _plusdelta,
    kinds.QUESTION: _question,
    kinds.ANSWER: _answer,
    kinds.RESOLVED: _resolved,
}
