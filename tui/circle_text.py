"""Text helpers of the study-circle screens: times, meetings, people, tags. No widgets."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Final

from peernode.circles.model import MINUTE_MS, Answer, CircleState, Meeting, Question
from peernode.clock import MARK_TEXT, clock_mark
from tui.text import relative_time, short_fingerprint

NameOf = Callable[[bytes], str]

WHEN_FORMAT: Final = "%Y-%m-%d %H:%M"
"""How a learner types a date and time (local time), and how it is shown."""

STEP_DAYS: Final = {"weekly": 7, "biweekly": 14, "monthly": 28}

STATUS_MARK: Final = {"open": "? open", "answered": "↩ answered", "resolved": "✓ resolved"}
"""A question's status in words, with a symbol (never colour alone)."""


def local_time(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000).strftime(WHEN_FORMAT)


def clock_text(item: Question | Answer) -> str:
    """' (clock ahead)' or ' (clock not set)' after a time shown, when the author's was wrong."""
    mark = clock_mark(item.created_at, item.shown_at)
    return "" if mark is None else f" ({MARK_TEXT[mark]})"


def when_text(meeting: Meeting, now: int) -> str:
    """'Tue 2026-12-01 18:00 (in 3 days)', '… (now, started 10 min ago)', '… (ended)'."""
    day = datetime.fromtimestamp(meeting.starts_at / 1000).strftime("%a ")
    start = day + local_time(meeting.starts_at)
    if meeting.starts_at <= now < meeting.ends_at:
        return f"{start} (now, started {relative_time(meeting.starts_at, now)})"
    if meeting.ends_at <= now:
        return f"{start} (ended)"
    return f"{start} ({until(meeting.starts_at, now)})"


def until(then: int, now: int) -> str:
    minutes = max(1, (then - now) // MINUTE_MS)
    if minutes < 60:
        return f"in {minutes} min"
    if minutes < 48 * 60:
        return f"in {minutes // 60} h"
    return f"in {minutes // (24 * 60)} days"


def parse_when(text: str) -> int:
    """'2026-12-01 18:00' (or with a T, or an offset) in local time → ms; ValueError."""
    cleaned = " ".join(text.split())
    try:
        moment = datetime.fromisoformat(cleaned)
    except ValueError:
        raise ValueError(
            f"{cleaned or 'nothing'!r} is not a date and time like 2026-12-01 18:00"
        ) from None
    return int(moment.timestamp() * 1000)


def suggested_start(state: CircleState, now: int) -> int:
    """When the next meeting might be: the last one plus the circle's rhythm (kept in the
    future), else tomorrow at 18:00."""
    step = STEP_DAYS.get(state.rhythm.cadence if state.rhythm else "weekly", 7)
    if state.meetings:
        moment = datetime.fromtimestamp(state.meetings[-1].starts_at / 1000)
        while moment.timestamp() * 1000 <= now:
            moment += timedelta(days=step)
        return int(moment.timestamp() * 1000)
    tomorrow = datetime.fromtimestamp(now / 1000) + timedelta(days=1)
    return int(tomorrow.replace(hour=18, minute=0, second=0, microsecond=0).timestamp() * 1000)


def current_meeting(state: CircleState, now: int) -> Meeting | None:
    """The meeting to run now: the one in progress or the next, else the latest one."""
    return state.next_meeting(now) or (state.meetings[-1] if state.meetings else None)


def person(key: bytes, name_of: NameOf, me: bytes | None = None) -> str:
    """'Ana (you) · gr2q-7gf5': the name, and the fingerprint to tell namesakes apart."""
    you = " (you)" if me is not None and key == me else ""
    return f"{name_of(key)}{you} · {short_fingerprint(key)}"


def split_tags(text: str) -> list[str]:
    """'joins, SQL  basics' → ['joins', 'SQL basics']: comma-separated, blanks dropped."""
    seen: dict[str, None] = {}
    for part in text.split(","):
        tag = " ".join(part.split())
        if tag:
            seen.setdefault(tag, None)
    return list(seen)


def tags_text(tags: Iterable[str]) -> str:
    return " ".join(f"#{tag}" for tag in tags)


def question_line(question: Question, name_of: NameOf) -> str:
    answers = len(question.answers)
    noun = "answer" if answers == 1 else "answers"
    tags = f" {tags_text(question.tags)}" if question.tags else ""
    return f"{question.title}{tags} — {name_of(question.author)}, {answers} {noun}"
