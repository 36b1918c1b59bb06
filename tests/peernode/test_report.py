"""The insights report: a circle with known data gives exactly the known numbers."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from peernode.circles.derive import derive_state
from peernode.circles.model import CircleState
from peernode.circles.report import Report, compute, says_something, top_words
from peernode.circles.report_files import (
    render,
    render_html,
    render_markdown,
    write_beside,
    write_new,
)
from peernode.circles.text import meeting_line
from protocol import kinds
from protocol.event import Event, create_event
from protocol.identity import SigningKey

ANA, BEN, CAT, DAN = (SigningKey.from_seed(bytes([n]) * 32) for n in (1, 2, 3, 4))
NAMES = {ANA.public_key: "Ana", BEN.public_key: "Ben", CAT.public_key: "Cat"}
NAMES[DAN.public_key] = "Dan <b>"
MINUTE = 60_000
DAY = 24 * 60 * MINUTE
T0 = 1_767_225_600_000  # the first meeting
NOW = T0 + 30 * DAY


def ev(key: SigningKey, kind: str, body: dict[str, Any], refs: Any = None, at: int = T0) -> Event:
    return create_event(key, kind=kind, circle="sql", body=body, refs=refs, created_at=at)


def circle_events() -> list[Event]:
    events = [
        ev(ANA, kinds.CIRCLE, {"name": "SQL <basics>", "topic": "databases"}, at=T0 - DAY),
        *(ev(key, kinds.JOIN, {}, at=T0 - DAY + 1) for key in (BEN, CAT, DAN)),
    ]
    details = {"place": "Library", "agenda": {"coursework": "chapter 3"}}
    meetings = [
        ev(ANA, kinds.MEETING, {"starts_at": T0 + week * 7 * DAY, **(details if not week else {})})
        for week in range(3)
    ]
    never_held = ev(BEN, kinds.MEETING, {"starts_at": T0 + 21 * DAY})
    future = ev(CAT, kinds.MEETING, {"starts_at": NOW + DAY})
    events += [*meetings, never_held, future]
    attended = [(ANA, BEN, CAT, DAN), (ANA, BEN, CAT), (BEN, ANA)]
    for gathering, keys in zip(meetings, attended, strict=True):
        m = {"meeting": gathering.id}
        events += [ev(key, kinds.ATTENDANCE, {}, m, gathering.created_at + 1) for key in keys]
    events.append(ev(ANA, kinds.ATTENDANCE, {}, {"meeting": future.id}))  # not held: future
    first, second, _ = ({"meeting": m.id} for m in meetings)
    events += [
        ev(BEN, kinds.CHECKIN, {"need_help": "outer joins"}, first, T0 + 1),
        ev(CAT, kinds.CHECKIN, {"need_help": "joins and indexes"}, first, T0 + 2),
        ev(ANA, kinds.CHECKIN, {"feeling": "great", "need_help": "Nothing today."}, first, T0 + 3),
        ev(BEN, kinds.CHECKIN, {"need_help": "none"}, second, T0 + 7 * DAY),
        ev(DAN, kinds.CHECKIN, {"need_help": "Indexes"}, second, T0 + 7 * DAY),
        ev(
            ANA,
            kinds.PLUSDELTA,
            {"plus": "The quiz was fun", "delta": "start on time"},
            first,
            T0 + 4,
        ),
        ev(
            BEN, kinds.PLUSDELTA, {"plus": "quiz", "delta": "more time for the quiz"}, first, T0 + 5
        ),
        ev(CAT, kinds.PLUSDELTA, {"delta": "Start earlier"}, second, T0 + 7 * DAY),
    ]
    asked = [
        ev(ANA, kinds.QUESTION, {"title": "LEFT or RIGHT?"}, at=T0),
        ev(BEN, kinds.QUESTION, {"title": "What is an index?"}, at=T0),
        ev(CAT, kinds.QUESTION, {"title": "NULL?"}, at=T0 + 1),
        ev(DAN, kinds.QUESTION, {"title": "<script>alert('x')</script> help?"}, at=T0 + 2),
    ]
    q1, q2, q3, _ = ({"question": q.id} for q in asked)
    first_answer = ev(BEN, kinds.ANSWER, {"text": "LEFT"}, q1, T0 + 10 * MINUTE)
    events += [
        *asked,
        first_answer,
        ev(CAT, kinds.ANSWER, {"text": "also LEFT"}, q1, T0 + 90 * MINUTE),
        ev(CAT, kinds.ANSWER, {"text": "a lookup"}, q2, T0 + 30 * MINUTE),
        ev(CAT, kinds.ANSWER, {"text": "self"}, q3, T0 + MINUTE),  # by the asker: not answered
        ev(ANA, kinds.RESOLVED, {}, {**q1, "answer": first_answer.id}, T0 + 11 * MINUTE),
        ev(ANA, kinds.RESOLVED, {}, q2, T0 + 31 * MINUTE),  # not the asker's: does not count
    ]
    return events


@pytest.fixture
def state() -> CircleState:
    return derive_state("sql", circle_events())


@pytest.fixture
def report(state: CircleState) -> Report:
    return compute(state, now=NOW, name_of=NAMES.__getitem__)


def test_exact_numbers(report: Report) -> None:
    assert report.members == 4
    assert report.meetings_scheduled == 5
    assert report.meetings_held == 3
    # Dan only checked in at the second meeting: a check-in counts as attending
    assert [row.attendance for row in report.meetings] == [4, 4, 2]
    assert [row.week for row in report.meetings] == [1, 2, 3]
    assert [row.retention for row in report.meetings] == [1, 1, Fraction(1, 2)]
    assert report.meetings[2].attendees == ("Ana", "Ben")
    assert report.retention == Fraction(1, 2)
    assert report.attendees == 4
    assert report.repeat_attendees == 4
    assert [(row.checkins, row.plusdeltas) for row in report.meetings] == [(3, 2), (2, 1), (0, 0)]
    assert (report.meetings[0].place, report.meetings[0].coursework) == ("Library", "chapter 3")
    assert report.meetings[1].place == ""
    assert [(s.who, s.text) for s in report.needs] == [
        ("Ben", "outer joins"),
        ("Cat", "joins and indexes"),
        ("Dan <b>", "Indexes"),
    ]
    assert report.need_words == (("indexes", 2), ("joins", 2))  # 'outer' only once
    assert [s.text for s in report.pluses] == ["The quiz was fun", "quiz"]
    assert report.plus_words == (("quiz", 2),)
    assert report.delta_words == (("start", 2), ("time", 2))
    assert report.questions_asked == 4
    assert report.questions_answered == 2
    assert report.questions_resolved == 1
    assert report.resolution_rate == Fraction(1, 4)
    assert report.median_first_answer_ms == 20 * MINUTE
    # open: not resolved yet, answered or not (one rule with the circle page and `circle show`)
    assert report.open_questions == (
        "What is an index?",
        "NULL?",
        "<script>alert('x')</script> help?",
    )
    assert [(r.title, r.asker, r.answer, r.answered_by) for r in report.resolved] == [
        ("LEFT or RIGHT?", "Ana", "LEFT", "Ben")
    ]
    assert report.timezone


def test_markdown_shows_the_numbers_and_escapes(report: Report) -> None:
    text = render_markdown(report)
    for line in [
        "# Circle report: SQL &lt;basics&gt;",
        "| Members | 4 |",
        "| Meetings scheduled | 5 |",
        "| Meetings held | 3 |",
        "| People who attended | 4 |",
        "| Attended 2 or more meetings | 4 |",
        "| Retention, first to last meeting | 50% |",
        "| Questions asked | 4 |",
        "| Questions answered | 2 |",
        "| Questions resolved | 1 (25%) |",
        "| Median time to first answer | 20 min |",
        "Themes (words used more than once): indexes (2), joins (2)",
        "- outer joins — Ben, ",
        "## Resolved questions",
        "- LEFT or RIGHT? (Ana) — helped: “LEFT” (Ben)",
        ": at Library · coursework: chapter 3",
        f"times in {report.timezone}",
        "- &lt;script&gt;alert('x')&lt;/script&gt; help?",
    ]:
        assert line in text
    rows = [
        line.split(" | ") for line in text.splitlines() if line[:5] in ("| 1 |", "| 2 |", "| 3 |")
    ]
    assert [row[2:] for row in rows] == [
        ["1", "4", "100%", "3", "2", "Ana, Ben, Cat, Dan &lt;b&gt; |"],
        ["2", "4", "100%", "2", "1", "Ana, Ben, Cat, Dan &lt;b&gt; |"],
        ["3", "2", "50%", "0", "0", "Ana, Ben |"],
    ]
    assert "<script>" not in text
    assert "Dan &lt;b&gt;" in text


def test_html_is_self_contained_and_escaped(report: Report) -> None:
    page = render_html(report)
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; help?" in page
    assert "Dan &lt;b&gt;" in page
    assert "<title>Circle report: SQL &lt;basics&gt;</title>" in page
    assert "http://" not in page
    assert "https://" not in page
    for label, value in [
        ("Meetings held", "3"),
        ("Retention, first to last meeting", "50%"),
        ("Questions resolved", "1 (25%)"),
        ("Median time to first answer", "20 min"),
        ("Attended 2 or more meetings", "4"),
    ]:
        assert f'<tr><th>{label}</th><td class="num">{value}</td></tr>' in page
    assert "<td>50%</td>" in page
    assert render(report, "html") == page
    with pytest.raises(ValueError, match="unknown report format"):
        render(report, "pdf")


def test_an_empty_circle_reports_dashes() -> None:
    state = derive_state("sql", [ev(ANA, kinds.CIRCLE, {"name": "SQL"})])
    report = compute(state, now=NOW, name_of=NAMES.__getitem__)
    assert (report.meetings_held, report.retention, report.resolution_rate) == (0, None, None)
    assert report.median_first_answer_ms is None
    assert report.resolved == ()
    text = render_markdown(report)
    assert "| Retention, first to last meeting | – |" in text
    assert "No meeting held yet." in text
    assert "No meeting held yet." in render_html(report)


def test_top_words_skip_stop_words_and_count_once_per_text() -> None:
    assert top_words(["the the the joins joins", "Joins? and JOINS", "ok"]) == (("joins", 2),)
    assert top_words([f"w{n:02d}x" for n in range(20)]) == ()  # no word repeats: no theme
    assert top_words([f"w{n:02d}x w{n + 1:02d}x" for n in range(20)], limit=3) == (
        ("w01x", 2),
        ("w02x", 2),
        ("w03x", 2),
    )


@pytest.mark.parametrize(
    ("text", "something"),
    [
        ("Nothing today.", False),
        ("nothing", False),
        ("None!", False),
        ("n/a", False),
        ("  ", False),
        ("-", False),
        ("nothing today, but joins next week", True),
        ("outer joins", True),
    ],
)
def test_answers_saying_there_is_nothing_are_not_needs(text: str, something: bool) -> None:
    assert says_something(text) is something


def test_one_rule_for_attendance_in_state_report_and_lines() -> None:
    """Ben only checked in (as `peernode meeting checkin` does), Cat only signed
    attendance, Ana did both: all three attended, wherever it is counted."""
    gathering = ev(ANA, kinds.MEETING, {"starts_at": T0})
    m = {"meeting": gathering.id}
    events = [
        ev(ANA, kinds.CIRCLE, {"name": "SQL", "topic": "databases"}, at=T0 - DAY),
        *(ev(key, kinds.JOIN, {}, at=T0 - DAY + 1) for key in (BEN, CAT)),
        gathering,
        ev(BEN, kinds.CHECKIN, {"feeling": "keen"}, m, T0 + 1),
        ev(CAT, kinds.ATTENDANCE, {}, m, T0 + 2),
        ev(ANA, kinds.ATTENDANCE, {}, m, T0 + 3),
        ev(ANA, kinds.CHECKIN, {"feeling": "great"}, m, T0 + 4),
    ]
    state = derive_state("sql", events)
    (meeting,) = state.meetings
    assert meeting.signed_attendance == (CAT.public_key, ANA.public_key)
    assert set(meeting.attendees) == {ANA.public_key, BEN.public_key, CAT.public_key}
    assert meeting.held(NOW)
    assert sorted(meeting.to_json()["attendees"]) == sorted(
        key.public_key.hex() for key in (ANA, BEN, CAT)
    )
    report = compute(state, now=NOW, name_of=NAMES.__getitem__)
    assert report.meetings_held == 1
    assert report.attendees == 3
    (row,) = report.meetings
    assert (row.attendance, row.checkins, row.attendees) == (3, 2, ("Ana", "Ben", "Cat"))
    markdown = render_markdown(report)
    assert "| People who attended | 3 |" in markdown
    assert "Ana, Ben, Cat" in markdown
    assert meeting_line(meeting, NAMES.__getitem__).endswith("0 coming  3 attended")


def test_a_meeting_with_only_a_check_in_is_held() -> None:
    gathering = ev(ANA, kinds.MEETING, {"starts_at": T0})
    events = [
        ev(ANA, kinds.CIRCLE, {"name": "SQL"}, at=T0 - DAY),
        gathering,
        ev(ANA, kinds.CHECKIN, {"feeling": "alone"}, {"meeting": gathering.id}, T0 + 1),
    ]
    report = compute(derive_state("sql", events), now=NOW, name_of=NAMES.__getitem__)
    assert (report.meetings_held, report.attendees) == (1, 1)
    assert report.meetings[0].attendees == ("Ana",)


def test_a_report_file_is_never_replaced_unasked(tmp_path: Path) -> None:
    kept = tmp_path / "report.md"
    kept.write_text("mine", encoding="utf-8")

    with pytest.raises(FileExistsError):
        write_new(kept, "new")
    assert kept.read_text(encoding="utf-8") == "mine"
    write_new(kept, "new", replace=True)
    assert kept.read_text(encoding="utf-8") == "new"

    beside = [write_beside(tmp_path, "report.md", f"take {n}") for n in (2, 3)]
    assert beside == [tmp_path / "report-2.md", tmp_path / "report-3.md"]
    assert [path.read_text(encoding="utf-8") for path in beside] == ["take 2", "take 3"]
    assert kept.read_text(encoding="utf-8") == "new"
