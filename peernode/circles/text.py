"""What a person reads about a study circle: one text for the CLI, the TUI and reports.

Names come from a `name_of(key)` function (the node's profiles), so this module
needs no node; generic pieces (times, fingerprints, ids) are in peernode.text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final

from peernode.circles.model import (
    Activity,
    Answer,
    CircleState,
    CircleSummary,
    Helper,
    Meeting,
    Question,
    Rhythm,
    SharedResource,
)
from peernode.clock import clock_mark
from peernode.text import (
    NameOf,
    clock_note,
    local_time,
    name_and_fingerprint,
    plural,
    relative_time,
    short_fingerprint,
    short_id,
    time_until,
    weekday,
)
from protocol import kinds
from protocol.event import Event

STATUS_MARK: Final = {"open": "? open", "answered": "↩ answered", "resolved": "✓ resolved"}
"""A question's status in words, with a symbol (never colour alone)."""


OPEN_QUESTIONS: Final = "Open questions"
"""Questions not resolved yet, answered or not: one name and one count everywhere."""


def open_questions(state: CircleState) -> list[Question]:
    """The questions the asker has not marked resolved yet (answered or not), oldest first."""
    return [question for question in state.questions if question.status != "resolved"]


def open_questions_heading(state: CircleState) -> str:
    """'Open questions (2)': the heading of the list of `open_questions`."""
    return f"{OPEN_QUESTIONS} ({len(open_questions(state))})"


def minutes_text(minutes: int) -> str:
    """90 -> '1 h 30', 120 -> '2 h', 45 -> '45 min'."""
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h {rest:02d}" if rest else f"{hours} h"


def rhythm_text(rhythm: Rhythm) -> str:
    """'weekly, 2 h, 6 weeks'."""
    parts = [rhythm.cadence]
    if rhythm.duration_minutes:
        parts.append(minutes_text(rhythm.duration_minutes))
    if rhythm.weeks:
        parts.append(f"{rhythm.weeks} weeks")
    return ", ".join(parts)


def activity_text(activity: Activity) -> str:
    """'Join puzzles (20 min)'; '(15–20 min)' when no length was given."""
    return f"{activity.title} ({activity.minutes or '15–20'} min)"


def tag_text(tag: str) -> str:
    """'#joins'; '#"group by"' for a tag with spaces, so that it reads as one tag."""
    return f'#"{tag}"' if any(char.isspace() for char in tag) else f"#{tag}"


def tags_text(tags: Iterable[str]) -> str:
    """'#joins #sql #"group by"'."""
    return " ".join(tag_text(tag) for tag in tags)


def person(key: bytes, name_of: NameOf, me: bytes | None = None) -> str:
    """'Ana (you) · gr2q-7gf5': the name, and the fingerprint to tell namesakes apart."""
    you = " (you)" if me is not None and key == me else ""
    return f"{name_of(key)}{you} · {short_fingerprint(key)}"


def who(key: bytes, name_of: NameOf) -> str:
    """'Ana (gr2q-7gf5)': a person as the command line shows them."""
    return name_and_fingerprint(name_of(key), key)


def clock_text(item: Question | Answer) -> str:
    """' (clock ahead)' or ' (clock not set)' after a time shown, when the author's was wrong."""
    return clock_note(clock_mark(item.created_at, item.shown_at))


def when_text(meeting: Meeting, now: int) -> str:
    """'Tue 2026-12-01 18:00 (in 3 days)', '… (now, started 10 min ago)', '… (ended)'."""
    start = f"{weekday(meeting.starts_at)} {local_time(meeting.starts_at)}"
    if meeting.starts_at <= now < meeting.ends_at:
        return f"{start} (now, started {relative_time(meeting.starts_at, now)})"
    if meeting.ends_at <= now:
        return f"{start} (ended)"
    return f"{start} ({time_until(meeting.starts_at, now)})"


def question_line(question: Question, name_of: NameOf) -> str:
    """'LEFT or RIGHT join? #joins — Ana, 2 answers'."""
    answers = len(question.answers)
    noun = "answer" if answers == 1 else "answers"
    tags = f" {tags_text(question.tags)}" if question.tags else ""
    return f"{question.title}{tags} — {name_of(question.author)}, {answers} {noun}"


# -- lines of the command line ------------------------------------------------------------


def meeting_line(meeting: Meeting, name_of: NameOf) -> str:
    """id, start, length, place, facilitator, activity, rsvps and attendance on one line."""
    parts = [
        short_id(meeting.id),
        local_time(meeting.starts_at),
        minutes_text(meeting.duration_minutes),
    ]
    if meeting.place:
        parts.append(f"at {meeting.place}")
    if meeting.facilitator:
        parts.append(f"facilitator {name_of(meeting.facilitator)}")
    if meeting.agenda.activity:
        parts.append(f"activity {activity_text(meeting.agenda.activity)}")
    yes = sum(1 for rsvp in meeting.rsvps if rsvp.answer == "yes")
    parts.append(f"{yes} coming")
    if meeting.attendees:
        parts.append(f"{len(meeting.attendees)} attended")
    return "  ".join(parts)


def question_status_line(question: Question, name_of: NameOf) -> str:
    """'5e3d8122aa01  [open]  LEFT or RIGHT join?  (Ana (gr2q-7gf5), 0 answers)  #joins'."""
    tags = "".join(f"  {tag_text(tag)}" for tag in question.tags)
    return (
        f"{short_id(question.id)}  [{question.status}]  {question.title}"
        f"  ({who(question.author, name_of)}, {plural(len(question.answers), 'answer')}){tags}"
    )


def answer_line(question: Question, answer: Answer, name_of: NameOf) -> str:
    """An answer under its question; '✓' marks the one the asker said helped."""
    mark = "✓" if answer.id == question.helped else "-"
    return f"    {mark} {short_id(answer.id)}  {who(answer.author, name_of)}: {answer.text}"


def circle_lines(state: CircleState, name_of: NameOf, now: int) -> list[str]:
    """`peernode circle show`: description, rhythm, members, next meeting, open questions."""
    lines = [f"{state.title}  [{state.slug}]"]
    for label, value in (
        ("topic", state.topic),
        ("about", state.description),
        ("rhythm", rhythm_text(state.rhythm) if state.rhythm else ""),
        ("language", state.language),
    ):
        if value:
            lines.append(f"{label + ':':10}{value}")
    lines.append(f"members ({len(state.members)}):")
    lines += [f"  {who(member.key, name_of)}" for member in state.members]
    upcoming = state.next_meeting(now)
    lines.append(f"meetings: {len(state.meetings)}")
    if upcoming:
        lines.append(f"next meeting: {meeting_line(upcoming, name_of)}")
    lines.append(f"resources ({len(state.resources) + len(state.shared_resources)}):")
    lines += [f"  {link.title + '  ' if link.title else ''}{link.url}" for link in state.resources]
    lines += [f"  {resource_line(shared)}" for shared in state.shared_resources]
    lines.append(f"{open_questions_heading(state)}:")
    lines += [f"  {question_status_line(question, name_of)}" for question in open_questions(state)]
    return lines


def summary_line(summary: CircleSummary) -> str:
    """A line of `peernode circle list`; '*' marks circles I am a member of."""
    mark = "*" if summary.member else " "
    topic = f"  {summary.topic}" if summary.topic else ""
    return f"{mark} {summary.slug:20} {summary.title}{topic}  ({plural(summary.members, 'member')})"


def helper_line(helper: Helper) -> str:
    """Who can help, and why we think so."""
    why = []
    if helper.profile_match:
        why.append(f"can help with: {helper.can_help}")
    if helper.answers:
        why.append(f"answered {plural(helper.answers, 'question')} on it")
    member = "" if helper.member else " (not a member)"
    return f"{name_and_fingerprint(helper.name, helper.key)}{member}  {'; '.join(why)}"


def resource_line(shared: SharedResource) -> str:
    """A link shared with the circle: id, title, url, tags."""
    return f"{short_id(shared.id)}  {shared.title}  {shared.url}  {tags_text(shared.tags)}".rstrip()


# -- what a command did ---------------------------------------------------------------------


def done_line(event: Event) -> str:
    """What signing `event` did, where, and its short id for later commands (one sentence)."""
    where = f"#{event.circle}"
    body, refs = event.body, event.refs
    ids = {name: short_id(target) for name, target in refs.items()}
    said = _DONE.get(event.kind)
    what = said(where, body, ids) if said else f"Signed {where}"
    return f"{what} (id {short_id(event.id)})."


def _meeting_done(where: str, body: Mapping[str, Any], ids: Mapping[str, str]) -> str:
    starts_at = body.get("starts_at")
    when = (
        f" for {weekday(starts_at)} {local_time(starts_at)}" if isinstance(starts_at, int) else ""
    )
    return f"Scheduled a meeting of {where}{when}"


def _resolved_done(where: str, body: Mapping[str, Any], ids: Mapping[str, str]) -> str:
    helped = f", answer {ids['answer']} helped" if "answer" in ids else ""
    return f"Marked your question {ids.get('question', '')} in {where} resolved{helped}"


_Done = Callable[[str, Mapping[str, Any], Mapping[str, str]], str]

_DONE: Final[dict[str, _Done]] = {
    kinds.NOTE: lambda where, body, ids: (
        f"Posted your reply to {ids['reply_to']} in {where}"
        if "reply_to" in ids
        else f"Posted your note in {where}"
    ),
    kinds.CIRCLE: lambda where, body, ids: (
        f"Proposed a new description of {where}"
        if "updates" in ids
        else f"Started the circle {body.get('name', '')}, {where}"
    ),
    kinds.JOIN: lambda where, body, ids: f"You joined {where}",
    kinds.LEAVE: lambda where, body, ids: f"You left {where}",
    kinds.RESOURCE: lambda where, body, ids: f"Shared “{body.get('title', '')}” with {where}",
    kinds.FILE: lambda where, body, ids: f"Shared {body.get('name', '')} with {where}",
    kinds.MEETING: _meeting_done,
    kinds.RSVP: lambda where, body, ids: (
        f"You answered {body.get('answer', '')} for the meeting {ids['meeting']} of {where}"
    ),
    kinds.ATTENDANCE: lambda where, body, ids: (
        f"You signed that you were at the meeting {ids['meeting']} of {where}"
    ),
    kinds.CHECKIN: lambda where, body, ids: (
        f"You checked in at the meeting {ids['meeting']} of {where} (this counts as attending)"
    ),
    kinds.PLUSDELTA: lambda where, body, ids: (
        f"Your plus/delta for the meeting {ids['meeting']} of {where} is saved"
    ),
    kinds.QUESTION: lambda where, body, ids: f"Asked {where} “{body.get('title', '')}”",
    kinds.ANSWER: lambda where, body, ids: f"Answered the question {ids['question']} in {where}",
    kinds.RESOLVED: _resolved_done,
    kinds.EDIT: lambda where, body, ids: f"Edited {ids['target']} in {where}",
    kinds.DELETE: lambda where, body, ids: f"Deleted {ids['target']} from {where}",
}
"""What each kind of event I sign does, in words."""
