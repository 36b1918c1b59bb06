"""The text a person reads: times, people and ids (peernode.text), circle lines
(peernode.circles.text), and the one rule of an edit (peernode.circles.derive)."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import pytest

from peernode.circles.derive import NotEditable, edited_body
from peernode.circles.model import (
    Activity,
    Agenda,
    Answer,
    CircleSummary,
    Helper,
    Meeting,
    Question,
    Rhythm,
    Rsvp,
    SharedResource,
)
from peernode.circles.text import (
    activity_text,
    answer_line,
    helper_line,
    meeting_line,
    minutes_text,
    person,
    question_line,
    question_status_line,
    resource_line,
    rhythm_text,
    summary_line,
    when_text,
)
from peernode.clock import UNSET_CLOCK_BEFORE
from peernode.text import (
    clock_note,
    duration_text,
    local_day,
    local_time,
    name_and_fingerprint,
    parse_local_time,
    plural,
    relative_time,
    short_fingerprint,
    short_id,
    time_until,
    timezone_text,
)
from protocol import kinds
from protocol.errors import InvalidEvent
from protocol.identity import fingerprint

MINUTE = 60_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR
ANA_KEY = bytes(range(32))
NAMES = {ANA_KEY: "Ana"}


def name_of(key: bytes) -> str:
    return NAMES.get(key, "anon")


# -- peernode.text ------------------------------------------------------------------------


def test_local_times_round_trip_in_any_spelling() -> None:
    at = parse_local_time("2026-12-01 18:00")
    assert local_time(at) == "2026-12-01 18:00"
    assert local_day(at) == "2026-12-01"
    assert parse_local_time(" 2026-12-01T18:00 ") == at
    assert parse_local_time("2026-12-01   18:00") == at
    assert parse_local_time("2026-12-01T18:00+00:00") == 1_796_148_000_000


def test_a_time_that_does_not_parse_says_what_was_typed() -> None:
    with pytest.raises(ValueError, match=r"'tomorrow' is not a date and time like 2026-12-01 18"):
        parse_local_time("tomorrow")
    with pytest.raises(ValueError, match=r"'nothing' is not a date and time like 2026-12-01T18"):
        parse_local_time("  ", example="2026-12-01T18:00")


def test_relative_times() -> None:
    now = parse_local_time("2026-12-20 12:00")
    assert relative_time(now - 10_000, now) == "just now"
    assert relative_time(now - 3 * MINUTE, now) == "3 min ago"
    assert relative_time(now - 5 * HOUR, now) == "5 h ago"
    assert relative_time(now - DAY, now) == "1 day ago"
    assert relative_time(now - 2 * DAY, now) == "2 days ago"
    assert relative_time(now - 10 * DAY, now) == "2026-12-10"
    assert relative_time(now + 2 * MINUTE, now) == "ahead of your clock"
    assert time_until(now + 30_000, now) == "in 1 min"
    assert time_until(now + 5 * MINUTE, now) == "in 5 min"
    assert time_until(now + 3 * HOUR, now) == "in 3 h"
    assert time_until(now + 4 * DAY, now) == "in 4 days"


def test_people_and_ids() -> None:
    assert short_fingerprint(ANA_KEY) == fingerprint(ANA_KEY)[:9]
    assert short_fingerprint(b"") == "no key"
    assert name_and_fingerprint("Ana", ANA_KEY) == f"Ana ({fingerprint(ANA_KEY)[:9]})"
    assert short_id(bytes.fromhex("ab" * 32)) == "ab" * 6
    assert clock_note(None) == ""
    assert clock_note("ahead") == " (clock ahead)"
    assert clock_note("unset") == " (clock not set)"


# -- peernode.circles.text ----------------------------------------------------------------


def meeting(starts_at: int, **changes: Any) -> Meeting:
    plain = Meeting(
        id=bytes([1]) * 32,
        author=ANA_KEY,
        created_at=0,
        starts_at=starts_at,
        duration_minutes=90,
        place="",
        facilitator=None,
        agenda=Agenda(),
        previous=None,
    )
    return replace(plain, **changes)


def question(*answers: Answer, helped: bytes | None = None) -> Question:
    return Question(
        id=bytes([2]) * 32,
        author=ANA_KEY,
        created_at=UNSET_CLOCK_BEFORE + 1,
        shown_at=UNSET_CLOCK_BEFORE + 1,
        title="LEFT or RIGHT?",
        text="",
        tags=("joins", "sql"),
        answers=answers,
        helped=helped,
    )


def test_durations_rhythms_and_activities() -> None:
    assert [minutes_text(m) for m in (45, 60, 90, 120)] == ["45 min", "1 h", "1 h 30", "2 h"]
    assert rhythm_text(Rhythm("weekly", 120, 6)) == "weekly, 2 h, 6 weeks"
    assert rhythm_text(Rhythm("monthly")) == "monthly"
    assert activity_text(Activity("Join puzzles", 20)) == "Join puzzles (20 min)"
    assert activity_text(Activity("Quiz")) == "Quiz (15–20 min)"


@pytest.mark.parametrize(
    ("ms", "shown"),
    [
        (0, "0 s"),
        (45_000, "45 s"),
        (76_821, "1 min 17 s"),  # the report once said '1.28035 min'
        (3 * MINUTE, "3 min"),
        (12 * MINUTE + 20_000, "12 min"),
        (125 * MINUTE, "2 h 05"),
        (5 * HOUR, "5 h"),
        (52 * HOUR, "2 days 4 h"),
        (3 * DAY, "3 days"),
        (-5_000, "0 s"),
    ],
)
def test_durations_for_people(ms: int, shown: str) -> None:
    assert duration_text(ms) == shown


def test_the_time_zone_is_named_with_its_offset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "Europe/Paris")
    time.tzset()
    try:
        assert timezone_text(1_796_522_400_000) == "CET, UTC+01:00"  # December
        assert timezone_text(1_782_900_000_000) == "CEST, UTC+02:00"  # July
    finally:
        monkeypatch.undo()  # the time zone the run had, before tzset reads it again
        time.tzset()


def test_when_a_meeting_is() -> None:
    start = parse_local_time("2026-12-01 18:00")
    day = local_time(start)
    assert when_text(meeting(start), start - 3 * DAY).endswith(f"{day} (in 3 days)")
    assert when_text(meeting(start), start + 10 * MINUTE).endswith("(now, started 10 min ago)")
    assert when_text(meeting(start), start + 2 * HOUR).endswith(f"{day} (ended)")


def test_people_and_questions_in_the_tui() -> None:
    fp = short_fingerprint(ANA_KEY)
    assert person(ANA_KEY, name_of) == f"Ana · {fp}"
    assert person(ANA_KEY, name_of, me=ANA_KEY) == f"Ana (you) · {fp}"
    one = Answer(bytes([3]) * 32, bytes(32), 1, 1, "Use LEFT")
    assert question_line(question(), name_of) == "LEFT or RIGHT? #joins #sql — Ana, 0 answers"
    assert question_line(question(one), name_of) == "LEFT or RIGHT? #joins #sql — Ana, 1 answer"


def test_lines_of_the_command_line() -> None:
    fp = short_fingerprint(ANA_KEY)
    start = parse_local_time("2026-12-01 18:00")
    full = meeting(
        start,
        place="Library",
        facilitator=ANA_KEY,
        agenda=Agenda(activity=Activity("Quiz", 20)),
        rsvps=(Rsvp(ANA_KEY, "yes", 1), Rsvp(bytes(32), "no", 1)),
        signed_attendance=(ANA_KEY,),
    )
    assert meeting_line(full, name_of) == (
        f"{'01' * 6}  2026-12-01 18:00  1 h 30  at Library  facilitator Ana"
        "  activity Quiz (20 min)  1 coming  1 attended"
    )
    helped = Answer(bytes([3]) * 32, bytes(32), 1, 1, "Use LEFT")
    asked = question(helped, helped=helped.id)
    assert question_status_line(asked, name_of) == (
        f"{'02' * 6}  [answered]  LEFT or RIGHT?  (Ana ({fp}), 1 answer)  #joins  #sql"
    )
    assert answer_line(asked, helped, name_of) == (
        f"    ✓ {'03' * 6}  anon ({short_fingerprint(bytes(32))}): Use LEFT"
    )
    summary = CircleSummary("sql", "SQL basics", "databases", 3, True, 0)
    assert summary_line(summary) == f"* {'sql':20} SQL basics  databases  (3 members)"
    helper = Helper(ANA_KEY, "Ana", "SQL", True, 2, False)
    assert helper_line(helper) == (
        f"Ana ({short_fingerprint(ANA_KEY)}) (not a member)"
        "  can help with: SQL; answered 2 questions on it"
    )
    shared = SharedResource(bytes([4]) * 32, ANA_KEY, 1, 1, "https://e.org", "Sheet", "", (), "")
    assert resource_line(shared) == f"{'04' * 6}  Sheet  https://e.org"


# -- the edit rule ------------------------------------------------------------------------


def test_an_edit_merges_removes_and_checks() -> None:
    current = {"title": "Q", "text": "long", "tags": ["a"]}
    assert edited_body(kinds.QUESTION, current, {"title": "Q2", "text": None}) == {
        "title": "Q2",
        "tags": ["a"],
    }
    with pytest.raises(InvalidEvent):
        edited_body(kinds.QUESTION, current, {"title": None})  # a question needs a title
    with pytest.raises(NotEditable, match=f"{kinds.JOIN} events cannot be edited"):
        edited_body(kinds.JOIN, {}, {"message": "hi"})


def test_counts_read_as_words() -> None:
    assert plural(1, "answer") == "1 answer"
    assert plural(0, "member") == "0 members"
    assert plural(1024, "note") == "1,024 notes"
