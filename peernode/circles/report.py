"""The insights report of a circle: computed locally from signed events, rendered
as Markdown or as one self-contained HTML page a facilitator can share.

Definitions (docs/circles.md explains them to people):
- a person *attended* a meeting when they signed attendance for it or checked in
  at it (`Meeting.attendees`);
- a meeting is *held* when it started before `now` and someone attended it;
- retention of a held meeting: the share of the first held meeting's attendees
  who attended it; "retention" alone means at the last held meeting;
- a question is *answered* when someone other than the asker answered it, and
  *resolved* when the asker marked it so; time to first answer counts from the
  question to the first such answer.
"""

from __future__ import annotations

import html
import re
import statistics
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Final

from peernode.circles.model import MINUTE_MS, CircleState, words
from peernode.text import local_day, local_time

WEEK_MS = 7 * 24 * 60 * MINUTE_MS
TOP_WORDS = 8
FORMATS: Final = ("md", "html")
"""What `render` writes: Markdown or one self-contained HTML page."""

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


@dataclass(frozen=True, slots=True)
class Said:
    """Something a member wrote (a need, a plus, a delta), with who and when."""

    who: str
    when: int
    text: str


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
    median_first_answer_minutes: float | None
    open_questions: tuple[str, ...]

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


def compute(state: CircleState, *, now: int, name_of: Callable[[bytes], str]) -> Report:
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
        median_first_answer_minutes=(
            statistics.median(max(0, ms) for ms in first_answers) / MINUTE_MS
            if first_answers
            else None
        ),
        open_questions=tuple(q.title for q in state.questions if q.status == "open"),
    )


def _said(items: Iterable[tuple[bytes, int, str]]) -> list[tuple[bytes, int, str]]:
    return sorted(
        ((who, when, text.strip()) for who, when, text in items if text.strip()),
        key=lambda item: (item[1], item[0]),
    )


def top_words(texts: Iterable[str], limit: int = TOP_WORDS) -> tuple[tuple[str, int], ...]:
    """The most common words (each counted once per text), stop words and words
    shorter than 3 letters left out; ties in alphabetical order."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update({word for word in words(text) if len(word) >= 3 and word not in STOP_WORDS})
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return tuple(ranked[:limit])


# -- rendering ----------------------------------------------------------------------------


def percent(value: Fraction | None) -> str:
    return "–" if value is None else f"{round(value * 100)}%"


def minutes(value: float | None) -> str:
    if value is None:
        return "–"
    if value < 120:
        return f"{value:g} min"
    return f"{value / 60:.1f} h"


def glance(report: Report) -> list[tuple[str, str]]:
    """The headline numbers, as label and value."""
    resolved = f"{report.questions_resolved} ({percent(report.resolution_rate)})"
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
        ("Median time to first answer", minutes(report.median_first_answer_minutes)),
    ]


def meeting_table(report: Report) -> tuple[list[str], list[list[str]]]:
    head = ["#", "Date", "Week", "Attendance", "Retention", "Check-ins", "Plus/deltas", "Who"]
    rows = [
        [
            str(number),
            local_time(row.starts_at),
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


def _themes(found: Sequence[tuple[str, int]]) -> str:
    return ", ".join(f"{word} ({count})" for word, count in found)


def _sections(report: Report) -> list[tuple[str, Sequence[Said], Sequence[tuple[str, int]]]]:
    return [
        ("Where people need help (check-ins)", report.needs, report.need_words),
        ("What went well (plus)", report.pluses, report.plus_words),
        ("What to change (delta)", report.deltas, report.delta_words),
    ]


# Markdown: user text is escaped so it cannot become markup, links or raw HTML.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|#])")


def md_escape(text: str) -> str:
    text = html.escape(" ".join(text.split()), quote=False)
    return _MD_SPECIAL.sub(r"\\\1", text)


def render_markdown(report: Report) -> str:
    lines = [f"# Circle report: {md_escape(report.title)}", ""]
    subtitle = [f"circle `{report.circle}`"]
    if report.topic:
        subtitle.append(md_escape(report.topic))
    subtitle.append(f"generated {local_time(report.generated_at)}")
    lines += [" · ".join(subtitle), "", "## At a glance", "", "| | |", "|---|---|"]
    lines += [f"| {label} | {value} |" for label, value in glance(report)]
    lines += ["", "## Meetings held", ""]
    head, rows = meeting_table(report)
    if rows:
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(md_escape(cell) for cell in row) + " |" for row in rows]
    else:
        lines.append("No meeting held yet.")
    for title, said, themes in _sections(report):
        lines += ["", f"## {title}", ""]
        if themes:
            lines += [f"Common words: {md_escape(_themes(themes))}", ""]
        lines += [f"- {md_escape(s.text)} — {md_escape(s.who)}, {local_day(s.when)}" for s in said]
        if not said:
            lines.append("Nothing yet.")
    lines += ["", "## Open questions", ""]
    lines += [f"- {md_escape(title)}" for title in report.open_questions] or ["None."]
    return "\n".join(lines) + "\n"


_CSS = """
body{font-family:system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;
color:#222;line-height:1.45}
h1{margin-bottom:.2rem}.sub{color:#666;margin-top:0}
table{border-collapse:collapse;margin:.5rem 0}
td,th{border:1px solid #ccc;padding:.25rem .6rem;text-align:left;vertical-align:top}
th{background:#f3f3f3}.num{text-align:right}.who{color:#666}
"""


def render_html(report: Report) -> str:
    """One page with no external resources or scripts; every user string escaped."""
    e = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Circle report: {e(report.title)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>Circle report: {e(report.title)}</h1>",
    ]
    subtitle = [f"circle <code>{e(report.circle)}</code>"]
    if report.topic:
        subtitle.append(e(report.topic))
    subtitle.append(f"generated {e(local_time(report.generated_at))}")
    parts.append(f'<p class="sub">{" · ".join(subtitle)}</p>')
    parts.append("<h2>At a glance</h2><table>")
    parts += [
        f'<tr><th>{e(label)}</th><td class="num">{e(value)}</td></tr>'
        for label, value in glance(report)
    ]
    parts.append("</table><h2>Meetings held</h2>")
    head, rows = meeting_table(report)
    if rows:
        parts.append("<table><tr>" + "".join(f"<th>{e(h)}</th>" for h in head) + "</tr>")
        parts += ["<tr>" + "".join(f"<td>{e(cell)}</td>" for cell in row) + "</tr>" for row in rows]
        parts.append("</table>")
    else:
        parts.append("<p>No meeting held yet.</p>")
    for title, said, themes in _sections(report):
        parts.append(f"<h2>{e(title)}</h2>")
        if themes:
            parts.append(f"<p>Common words: {e(_themes(themes))}</p>")
        if said:
            items = (
                f"<li>{e(s.text)} "
                f'<span class="who">— {e(s.who)}, {e(local_day(s.when))}</span></li>'
                for s in said
            )
            parts.append("<ul>" + "".join(items) + "</ul>")
        else:
            parts.append("<p>Nothing yet.</p>")
    parts.append("<h2>Open questions</h2>")
    if report.open_questions:
        parts.append("<ul>" + "".join(f"<li>{e(t)}</li>" for t in report.open_questions) + "</ul>")
    else:
        parts.append("<p>None.</p>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def render(report: Report, fmt: str) -> str:
    """`report` in one of FORMATS."""
    if fmt == "md":
        return render_markdown(report)
    if fmt == "html":
        return render_html(report)
    raise ValueError(f"unknown report format {fmt!r} (md or html)")
