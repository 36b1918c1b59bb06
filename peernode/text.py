"""Text a person reads, written once for the CLI, the TUI and reports: times, people, ids.

Times are shown and typed in the learner's local time zone (the machine's).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from peernode.clock import MARK_TEXT, ClockMark
from protocol.identity import fingerprint

NameOf = Callable[[bytes], str]
"""A person's display name from their key (their newest profile, or a placeholder)."""

WHEN_FORMAT: Final = "%Y-%m-%d %H:%M"
"""How a date and time is shown (local time); a learner types it the same way."""

DAY_FORMAT: Final = "%Y-%m-%d"

SHORT_FINGERPRINT: Final = 9
"""Characters of a fingerprint shown next to a name: two groups, e.g. 'abcd-efgh'."""

SHORT_ID: Final = 12
"""Hex digits of an event id shown in lists; commands take 8 or more of them."""


def local_time(ms: int) -> str:
    """'2026-12-01 18:00' in local time."""
    return _local(ms).strftime(WHEN_FORMAT)


def local_day(ms: int) -> str:
    """'2026-12-01' in local time."""
    return _local(ms).strftime(DAY_FORMAT)


def weekday(ms: int) -> str:
    """'Tue': the local day of the week, abbreviated."""
    return _local(ms).strftime("%a")


def parse_local_time(text: str, *, example: str = "2026-12-01 18:00") -> int:
    """'2026-12-01 18:00' (or with a T, or an offset) in local time → ms.

    Raises ValueError saying what was typed and giving `example` of what works."""
    cleaned = " ".join(text.split())
    try:
        moment = datetime.fromisoformat(cleaned)
    except ValueError:
        raise ValueError(
            f"{cleaned or 'nothing'!r} is not a date and time like {example}"
        ) from None
    return int(moment.timestamp() * 1000)


def relative_time(then_ms: int, now_ms: int) -> str:
    """'just now', '3 min ago', '5 h ago', '2 days ago', then a date."""
    seconds = (now_ms - then_ms) // 1000
    if seconds < -60:
        return "ahead of your clock"
    if seconds < 45:
        return "just now"
    minutes = max(1, round(seconds / 60))
    if minutes < 60:
        return f"{minutes} min ago"
    hours = seconds // 3600
    if hours < 24:
        return f"{hours} h ago"
    days = seconds // 86400
    if days < 7:
        return "1 day ago" if days == 1 else f"{days} days ago"
    return local_day(then_ms)


def time_until(then_ms: int, now_ms: int) -> str:
    """'in 5 min', 'in 3 h', 'in 4 days' (at least a minute)."""
    minutes = max(1, (then_ms - now_ms) // 1000 // 60)
    if minutes < 60:
        return f"in {minutes} min"
    if minutes < 48 * 60:
        return f"in {minutes // 60} h"
    return f"in {minutes // (24 * 60)} days"


def clock_note(mark: ClockMark | None) -> str:
    """' (clock ahead)' or ' (clock not set)' after a time shown, when the author's was wrong."""
    return "" if mark is None else f" ({MARK_TEXT[mark]})"


def short_fingerprint(key: bytes) -> str:
    """'abcd-efgh': enough of a key's fingerprint to tell two namesakes apart."""
    return fingerprint(key)[:SHORT_FINGERPRINT] if key else "no key"


def name_and_fingerprint(name: str, key: bytes) -> str:
    """'Ana (abcd-efgh)': a person as the command line shows them."""
    return f"{name} ({short_fingerprint(key)})"


def short_id(event_id: bytes) -> str:
    """The first SHORT_ID hex digits of an event id."""
    return event_id.hex()[:SHORT_ID]


def _local(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000)


def plural(count: int, word: str) -> str:
    """'1 answer', '2 answers', '1,024 notes'."""
    return f"{count:,} {word}" if count == 1 else f"{count:,} {word}s"


def duration_text(ms: int) -> str:
    """A length of time for people: '45 s', '1 min 17 s', '12 min', '2 h 05', '3 days 4 h'."""
    seconds = max(0, round(ms / 1000))
    minutes, rest = divmod(seconds, 60)
    if not minutes:
        return f"{rest} s"
    if minutes < 10:
        return f"{minutes} min {rest} s" if rest else f"{minutes} min"
    minutes = round(seconds / 60)
    hours, minutes = divmod(minutes, 60)
    if not hours:
        return f"{minutes} min"
    if hours < 48:
        return f"{hours} h {minutes:02d}" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} days {hours} h" if hours else f"{days} days"


def timezone_text(ms: int) -> str:
    """'CET, UTC+01:00': the local time zone in effect at `ms`, as times here are shown."""
    moment = _local(ms).astimezone()
    offset = moment.strftime("%z")
    utc = f"UTC{offset[:3]}:{offset[3:]}" if offset not in ("", "+0000") else "UTC"
    name = moment.tzname() or ""
    return utc if not name or name == utc or name.startswith(("+", "-")) else f"{name}, {utc}"


def names_text(names: Sequence[str]) -> str:
    """'Ana', 'Ana and Bo', 'Ana, Bo and Chen'."""
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} and {names[-1]}"


@dataclass(frozen=True, slots=True)
class Shown:
    """What a person reads of one event: a headline, plain detail lines, then a text.

    Every part may be empty: a note is only its `text` (Markdown unless `plain`), a
    check-in only its headline. The CLI prints the parts as lines; the TUI styles the
    headline and renders the text as Markdown.
    """

    headline: str = ""
    details: tuple[str, ...] = ()
    text: str = ""
    plain: bool = False
    """The text is plain (a note written as plain text), never Markdown."""

    def lines(self) -> list[str]:
        """Every part as lines, for plain output (the text keeps its blank lines)."""
        head = [line for line in (self.headline, *self.details) if line]
        return head + self.text.splitlines()
