"""What the feed shows of each event (peernode.feed_text, peernode.circles.feed_text)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from peernode.circles.derive import derive_state
from peernode.feed_text import (
    FeedContext,
    folded,
    parent_of,
    reply_hint,
    show_entry,
    worth_reading,
)
from peernode.text import Shown, names_text
from peernode.views import FeedEntry
from protocol import kinds
from protocol.event import Event, create_event
from tests.tui.circles.helpers import CIRCLE, event
from tests.tui.feed.helpers import DEE, every_kind_events, raw_looks
from tests.tui.helpers import ANA, BO, CHEN, NOW

NAMES = {ANA.public_key: "Ana", BO.public_key: "Bo", CHEN.public_key: "Chen", DEE.public_key: "Dee"}
EVENTS = every_kind_events()


def name_of(key: bytes) -> str:
    return NAMES[key]


def context(events: list[Event] = EVENTS) -> FeedContext:
    return FeedContext(name_of, {CIRCLE: derive_state(CIRCLE, events)})


def entry(event: Event, **changes: object) -> FeedEntry:
    return replace(FeedEntry(event, NAMES[event.author], event.created_at), **changes)  # type: ignore[arg-type]


def of_kind(kind: str, nth: int = 0) -> Event:
    return [e for e in EVENTS if e.kind == kind][nth]


def lines(event: Event, *, threaded: bool = False, **changes: object) -> list[str]:
    return show_entry(entry(event, **changes), context(), threaded=threaded).lines()


pytestmark = pytest.mark.usefixtures("utc")


def test_a_meeting_is_a_card_with_its_rsvps_and_attendance_folded_in() -> None:
    assert lines(of_kind(kinds.MEETING)) == [
        "Meeting on Tue 2023-11-14 19:13, 1 h 30",
        "Where: Library, room 2",
        "Facilitator: Bo (ni4a-hvpq)",
        "Coursework: Chapter 2: joins",
        "Activity: Join puzzles (20 min)",
        "Going: Ana and Bo · maybe: Chen · not going: Dee",
        "Ana, Bo and Chen were there",
    ]


def test_a_meeting_nobody_answered_yet_is_a_card_of_its_own() -> None:
    meeting = of_kind(kinds.MEETING)
    alone = show_entry(entry(meeting), FeedContext(name_of)).lines()
    assert alone[:2] == ["Meeting on Tue 2023-11-14 19:13, 1 h 30", "Where: Library, room 2"]
    assert not any("there" in line or "Going" in line for line in alone)


def test_one_line_events_read_as_sentences() -> None:
    assert lines(of_kind(kinds.JOIN)) == ["Bo joined the circle"]
    assert lines(of_kind(kinds.JOIN, 1)) == [
        "Chen joined the circle",
        "“Hi all, I use SQLite at work.”",
    ]
    assert lines(of_kind(kinds.LEAVE)) == ["Dee left the circle", "“Too busy this term.”"]
    assert lines(of_kind(kinds.CHECKIN)) == [
        "Bo checked in: feeling keen; working on joins; needs help with outer joins"
    ]
    assert lines(of_kind(kinds.CHECKIN, 1)) == ["Chen checked in: feeling tired"]
    assert lines(of_kind(kinds.PLUSDELTA)) == [
        "Chen's plus/delta — went well: the puzzles; to change: more time for questions"
    ]
    assert lines(of_kind(kinds.RSVP, 2)) == ["Chen might go to the meeting on Tue 2023-11-14 19:13"]
    assert lines(of_kind(kinds.RSVP, 3)) == [
        "Dee is not going to the meeting on Tue 2023-11-14 19:13"
    ]
    assert lines(of_kind(kinds.ATTENDANCE)) == ["Ana was at the meeting on Tue 2023-11-14 19:13"]


def test_a_circle_reads_as_its_name_and_description_and_an_update_as_its_change() -> None:
    assert lines(of_kind(kinds.CIRCLE)) == [
        "Ana started the circle “SQL basics”",
        "Topic: databases",
        "Meets weekly, 1 h 30, 6 weeks",
        "Resource: Open SQL course — https://example.org/sql-course",
        "Six evenings with an open course.",
    ]
    assert lines(of_kind(kinds.CIRCLE, 1)) == [
        "Ana updated the description of the circle “SQL basics”",
        "Six evenings with an open course, at the library.",
    ]
    first = of_kind(kinds.CIRCLE)
    renamed = event(ANA, kinds.CIRCLE, {"name": "SQL"}, at=NOW, updates=first.id)
    shown = show_entry(entry(renamed), context([*EVENTS, renamed]))
    assert shown.headline == "Ana renamed the circle “SQL basics” to “SQL”"


def test_a_question_shows_its_title_status_and_details_and_its_answers_know_it() -> None:
    question = of_kind(kinds.QUESTION)
    assert lines(question) == [
        "Question: LEFT or RIGHT join?",
        "✓ resolved · 2 answers · #joins",
        "Which one keeps *all* rows?",
    ]
    helped, other = of_kind(kinds.ANSWER), of_kind(kinds.ANSWER, 1)
    assert lines(helped, threaded=True) == [
        "✓ the asker marked this answer as what helped",
        "LEFT keeps every row of the left table.",
    ]
    assert lines(other) == ["Answer to “LEFT or RIGHT join?”", "Try both on a tiny table."]
    assert lines(of_kind(kinds.RESOLVED)) == [
        "✓ Bo marked “LEFT or RIGHT join?” resolved: Chen's answer helped",
        "Thanks!",
    ]
    assert lines(of_kind(kinds.RESOLVED), threaded=True)[0] == (
        "✓ Bo marked this question resolved: Chen's answer helped"
    )
    unanswered = event(CHEN, kinds.QUESTION, {"title": "What is NULL?"}, at=NOW)
    shown = show_entry(entry(unanswered), context([*EVENTS, unanswered]))
    assert shown.lines() == ["Question: What is NULL?", "? open · no answers yet"]


def test_resources_profiles_notes_unknown_and_deleted() -> None:
    assert lines(of_kind(kinds.RESOURCE)) == [
        "Chen shared “SQLZoo”",
        "https://sqlzoo.net",
        "#practice",
    ]
    assert lines(of_kind(kinds.PROFILE, 2)) == [
        "Chen updated their profile",
        "Can help with: SQL, joins",
    ]
    hello = of_kind(kinds.NOTE, 1)
    assert show_entry(entry(hello), context()) == Shown(text="Anyone want to pair on chapter 3?")
    poll = next(e for e in EVENTS if e.kind == "example/poll@1")
    assert lines(poll) == ["[example/poll@1] not understood by this version (kept and passed on)"]
    assert lines(of_kind(kinds.MEETING), deleted=True) == ["(deleted by its author)"]


def test_no_event_shows_an_epoch_a_key_a_bytes_repr_or_a_field_name() -> None:
    shown = [
        line
        for event in EVENTS
        if event.kind not in (kinds.EDIT, kinds.DELETE)
        for threaded in (False, True)
        for line in lines(event, threaded=threaded)
    ]
    assert raw_looks("\n".join(shown)) == []
    assert len(shown) > 2 * len(EVENTS)


def test_what_is_folded_threaded_counted_and_replied_to() -> None:
    note, reply = of_kind(kinds.NOTE, 1), of_kind(kinds.NOTE, 2)
    question, answer = of_kind(kinds.QUESTION), of_kind(kinds.ANSWER)
    assert [folded(entry(of_kind(kind))) for kind in (kinds.RSVP, kinds.ATTENDANCE)] == [True] * 2
    assert not folded(entry(of_kind(kinds.CHECKIN)))
    assert parent_of(entry(reply)) == note.id
    assert parent_of(entry(answer)) == question.id
    assert parent_of(entry(of_kind(kinds.RESOLVED))) == question.id
    assert parent_of(entry(of_kind(kinds.CHECKIN))) is None

    me = ANA.public_key
    assert worth_reading(entry(note), me)
    assert worth_reading(entry(question), me)
    assert not worth_reading(entry(reply), me)  # Ana's own
    for kind in (kinds.RSVP, kinds.ATTENDANCE, kinds.CHECKIN, kinds.RESOLVED):
        assert not worth_reading(entry(of_kind(kind, 1 if kind == kinds.RSVP else 0)), me), kind

    assert reply_hint(entry(note)) is None
    assert reply_hint(entry(question)) is None
    assert "question above it" in (reply_hint(entry(answer)) or "")
    assert "Only notes and questions" in (reply_hint(entry(of_kind(kinds.CHECKIN))) or "")
    assert "deleted" in (reply_hint(entry(note, deleted=True)) or "")


def test_names_text() -> None:
    assert [names_text(n) for n in ([], ["Ana"], ["Ana", "Bo"], ["Ana", "Bo", "Chen"])] == [
        "",
        "Ana",
        "Ana and Bo",
        "Ana, Bo and Chen",
    ]


def test_a_plain_note_stays_plain() -> None:
    plain = create_event(
        ANA,
        kind=kinds.NOTE,
        circle="lobby",
        body={"text": "*x*", "format": "plain"},
        created_at=NOW,
    )
    assert show_entry(entry(plain), context()).plain
