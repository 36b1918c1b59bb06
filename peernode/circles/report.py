"""The insights report of a circle, computed locally from signed events, and its
pieces of text shared by the TUI and the files (peernode.circles.report_files).

Definitions (docs/circles.md explains them to people):
- a person *attended* a meeting when they signed attendance for it or checked in
  at it (`Meeting.attendees`);
- a meeting is *held* when it started before `now` and someone attended it;
- retention of a held meeting: the share of the first held meeting's attendees
  who attended it; "retention" alone means at the last held meeting;
- a question is *answered* when someone other than the asker answered it, and
  *resolved* when the asker marked it so; time to first answer counts from the
  question to the first such answer; *open* questions are those not resolved yet;
- a *theme* is a word (not a common English one) found in at least two of the
  texts; answers that say there is nothing ("nothing today", "none") are left out.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Final

from peernode.circles.model import MINUTE_MS, CircleState, Meeting, Question, words
from peernode.circles.text import activity_text, open_questions
from peernode.text import duration_text, local_time, timezone_text, weekday

WEEK_MS = 7 * 24 * 60 * MINUTE_MS
TOP_WORDS = 8
MIN_REPEATS: Final = 2
"""A word is a theme when at least this many texts use it."""

NOTHING_SAID: Final = frozenset(
    {
        "all good",
        "n a",
        "na",
        "no",
        "none",
        "nope",
        "not really",
        "not today",
        "nothing",
        "nothing for now",
        "nothing really",
        "nothing today",
        "nothing yet",
        "nothing in particular",
    }
)
"""Answers that say there is nothing to say: not a need, a plus or a delta."""

_STOP_WORDS_TEXT = """
    a about above after again all also am an and any are as at be because been before being
    below between both but by can could did do does doing don't down during each few for from
    further get got had has have having he her here hers him his how i i'm if in into is it
    it's its just let's like me more most much my no nor not now of off on once only or other
    our ours out over own really same she should so some still such than that the their them
    then there these they this those through to too under until up us very was we were what
    when where which while who whom why will with would you your yours
"""
STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())


@dataclass(frozen=True, slots=True)
class MeetingRow:
    """One held meeting: who came, and how many of the first meeting's attendees."""

    id: bytes
    starts_at: int
    week: int
    attendance: int
    attendees: tuple[str, ...]
    retention: Fraction
    checkins: int
    plusdeltas: int
    place: str = ""
    facilitator: str = ""
    coursework: str = ""
    activity: str = ""


@dataclass(frozen=True, slots=True)
class Said:
    """Something a member wrote (a need, a plus, a delta), with who and when."""

    who: str
    when: int
    text: str


@dataclass(frozen=True, slots=True)
class Resolved:
    """A question the asker marked resolved, and the answer that helped (if they said)."""

    title: str
    asker: str
    answer: str = ""
    answered_by: str = ""


@dataclass(frozen=True, slots=True)
class Report:
    circle: str
    title: str
    topic: str
    generated_at: int
    members: int
    meetings_scheduled: int
    meetings: tuple[MeetingRow, ...]
    attendees: int
    repeat_attendees: int
    needs: tuple[Said, ...]
    need_words: tuple[tuple[str, int], ...]
    pluses: tuple[Said, ...]
    plus_words: tuple[tuple[str, int], ...]
    deltas: tuple[Said, ...]
    delta_words: tuple[tuple[str, int], ...]
    questions_asked: int
    questions_answered: int
    questions_resolved: int
    median_first_answer_ms: int | None
    open_questions: tuple[str, ...]
    resolved: tuple[Resolved, ...] = ()
    timezone: str = ""
    challenges: tuple[tuple[str, str], ...] = ()
    """Headline numbers of the circle's learning challenges (peernode.challenges)."""

    @property
    def meetings_held(self) -> int:
        return len(self.meetings)

    @property
    def retention(self) -> Fraction | None:
        """Share of the first held meeting's attendees at the last one."""
        return self.meetings[-1].retention if len(self.meetings) > 1 else None

    @property
    def resolution_rate(self) -> Fraction | None:
        if not self.questions_asked:
            return None
        return Fraction(self.questions_resolved, self.questions_asked)


def compute(
    state: CircleState,
    *,
    now: int,
    name_of: Callable[[bytes], str],
    challenges: Sequence[tuple[str, str]] = (),
) -> Report:
    held = [meeting for meeting in state.meetings if meeting.held(now)]
    first = set(held[0].attendees) if held else set()
    rows = tuple(
        MeetingRow(
            id=meeting.id,
            starts_at=meeting.starts_at,
            week=(meeting.starts_at - held[0].starts_at) // WEEK_MS + 1,
            attendance=len(meeting.attendees),
            attendees=tuple(sorted((name_of(key) for key in meeting.attendees), key=str.lower)),
            retention=Fraction(len(first & set(meeting.attendees)), len(first)),
            checkins=len(meeting.checkins),
            plusdeltas=len(meeting.plusdeltas),
            **_details(meeting, name_of),
        )
        for meeting in held
    )
    times_attended = Counter(key for meeting in held for key in meeting.attendees)
    checkins = [c for meeting in state.meetings for c in meeting.checkins]
    plusdeltas = [p for meeting in state.meetings for p in meeting.plusdeltas]
    # Times as shown (peernode.clock): a clock ahead or never set does not skew them.
    needs = _said((c.author, c.shown_at, c.need_help) for c in checkins)
    pluses = _said((p.author, p.shown_at, p.plus) for p in plusdeltas)
    deltas = _said((p.author, p.shown_at, p.delta) for p in plusdeltas)
    first_answers = [
        (answer.shown_at - question.shown_at)
        for question in state.questions
        if (answer := question.first_answer) is not None
    ]
    return Report(
        circle=state.slug,
        title=state.title,
        topic=state.topic,
        generated_at=now,
        members=len(state.members),
        meetings_scheduled=len(state.meetings),
        meetings=rows,
        attendees=len(times_attended),
        repeat_attendees=sum(1 for count in times_attended.values() if count >= 2),
        needs=tuple(Said(name_of(a), t, text) for a, t, text in needs),
        need_words=top_words(text for _, _, text in needs),
        pluses=tuple(Said(name_of(a), t, text) for a, t, text in pluses),
        plus_words=top_words(text for _, _, text in pluses),
        deltas=tuple(Said(name_of(a), t, text) for a, t, text in deltas),
        delta_words=top_words(text for _, _, text in deltas),
        questions_asked=len(state.questions),
        questions_answered=len(first_answers),
        questions_resolved=sum(1 for q in state.questions if q.resolved_at is not None),
        median_first_answer_ms=(
            round(statistics.median(max(0, ms) for ms in first_answers)) if first_answers else None
        ),
        open_questions=tuple(q.title for q in open_questions(state)),
        resolved=tuple(_resolved(q, name_of) for q in state.questions if q.resolved_at),
        timezone=timezone_text(now),
        challenges=tuple(challenges),
    )


def _details(meeting: Meeting, name_of: Callable[[bytes], str]) -> dict[str, str]:
    """Where a meeting was, who facilitated it and what it worked on."""
    agenda = meeting.agenda
    return {
        "place": meeting.place,
        "facilitator": name_of(meeting.facilitator) if meeting.facilitator else "",
        "coursework": agenda.coursework,
        "activity": activity_text(agenda.activity) if agenda.activity else "",
    }


def _resolved(question: Question, name_of: Callable[[bytes], str]) -> Resolved:
    helped = next((a for a in question.answers if a.id == question.helped), None)
    if helped is None:
        return Resolved(question.title, name_of(question.author))
    return Resolved(question.title, name_of(question.author), helped.text, name_of(helped.author))


def says_something(text: str) -> bool:
    """False for a blank answer or one that says there is nothing ('Nothing today.')."""
    plain = " ".join(words(text))
    return bool(plain) and plain not in NOTHING_SAID


def _said(items: Iterable[tuple[bytes, int, str]]) -> list[tuple[bytes, int, str]]:
    return sorted(
        ((who, when, text.strip()) for who, when, text in items if says_something(text)),
        key=lambda item: (item[1], item[0]),
    )


def top_words(texts: Iterable[str], limit: int = TOP_WORDS) -> tuple[tuple[str, int], ...]:
    """The words found in at least MIN_REPEATS texts (each counted once per text), most
    common first, stop words and words shorter than 3 letters left out; ties alphabetical."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update({word for word in words(text) if len(word) >= 3 and word not in STOP_WORDS})
    ranked = sorted(
        ((word, count) for word, count in counts.items() if count >= MIN_REPEATS),
        key=lambda item: (-item[1], item[0]),
    )
    return tuple(ranked[:limit])


# -- pieces of text shared by the TUI and the files ----------------------------------------


def percent(value: Fraction | None) -> str:
    """'67%', or '–' when there is nothing to divide."""
    return "–" if value is None else f"{round(value * 100)}%"


def glance(report: Report) -> list[tuple[str, str]]:
    """The headline numbers, as label and value."""
    resolved = f"{report.questions_resolved} ({percent(report.resolution_rate)})"
    median = report.median_first_answer_ms
    return [
        ("Members", str(report.members)),
        ("Meetings scheduled", str(report.meetings_scheduled)),
        ("Meetings held", str(report.meetings_held)),
        ("People who attended", str(report.attendees)),
        ("Attended 2 or more meetings", str(report.repeat_attendees)),
        ("Retention, first to last meeting", percent(report.retention)),
        ("Questions asked", str(report.questions_asked)),
        ("Questions answered", str(report.questions_answered)),
        ("Questions resolved", resolved),
        ("Median time to first answer", "–" if median is None else duration_text(median)),
        *report.challenges,
    ]


def meeting_table(report: Report) -> tuple[list[str], list[list[str]]]:
    """The held meetings as a table: a head and rows of text."""
    head = ["#", "Date", "Week", "Attendance", "Retention", "Check-ins", "Plus/deltas", "Who"]
    rows = [
        [
            str(number),
            f"{weekday(row.starts_at)} {local_time(row.starts_at)}",
            str(row.week),
            str(row.attendance),
            percent(row.retention),
            str(row.checkins),
            str(row.plusdeltas),
            ", ".join(row.attendees),
        ]
        for number, row in enumerate(report.meetings, start=1)
    ]
    return head, rows


def meeting_details(row: MeetingRow) -> str:
    """'at Library · facilitated by Ana · coursework: chapter 3 · activity: Join puzzles
    (20 min)', or '' when the meeting said none of these."""
    parts = [
        f"at {row.place}" if row.place else "",
        f"facilitated by {row.facilitator}" if row.facilitator else "",
        f"coursework: {row.coursework}" if row.coursework else "",
        f"activity: {row.activity}" if row.activity else "",
    ]
    return " · ".join(part for part in parts if part)


def resolved_text(item: Resolved) -> str:
    """'LEFT or RIGHT? (Ana) — helped: "Use LEFT when…" (Bo)' in one line."""
    helped = f" — helped: “{item.answer}” ({item.answered_by})" if item.answer else ""
    return f"{item.title} ({item.asker}){helped}"


def sections(report: Report) -> list[tuple[str, tuple[Said, ...], tuple[tuple[str, int], ...]]]:
    """What members wrote: title, the texts, the themes."""
    return [
        ("Where people need help (check-ins)", report.needs, report.need_words),
        ("What went well (plus)", report.pluses, report.plus_words),
        ("What to change (delta)", report.deltas, report.delta_words),
    ]


def themes_text(found: Sequence[tuple[str, int]]) -> str:
    """'joins (3), indexes (2)'."""
    return ", ".join(f"{word} ({count})" for word, count in found)
