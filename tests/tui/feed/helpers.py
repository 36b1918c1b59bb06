"""A circle's channel holding an event of every kind, for the feed's renderings."""

from __future__ import annotations

import re
from typing import Final

from protocol import kinds
from protocol.event import Event, create_event
from protocol.identity import SigningKey
from tests.tui.circles.helpers import CIRCLE, event, sql_basics
from tests.tui.helpers import ANA, BO, CHEN, MINUTE, NOW, note, profile

DEE = SigningKey.from_seed(bytes([4]) * 32)
DAY: Final = 24 * 60 * MINUTE
MEETING_AT: Final = NOW - 3 * 60 * MINUTE
"""The meeting of the feed, three hours before the tests' 'now' (it lasted 90 minutes)."""

RAW_LOOKS: Final = {
    "epoch milliseconds": re.compile(r"\b\d{13}\b"),
    "64-hex key or id": re.compile(r"\b[0-9a-f]{64}\b"),
    "bytes repr": re.compile(r"\bb['\"]"),
    "raw field name": re.compile(
        r"\b(starts_at|duration_minutes|facilitator=|working_on|need_help|created_at|"
        r"language:|refs|body)\b"
    ),
    "raw dict": re.compile(r"\{'|': "),
    "kind name": re.compile(r"peernode/|\[(meeting|checkin|attendance|rsvp|join|circle)\]"),
}
"""What a learner must never read in the feed: each pattern with what it would be."""


def raw_looks(text: str) -> list[str]:
    """What of RAW_LOOKS `text` shows, with the text found."""
    return [
        f"{what}: {match.group()!r}"
        for what, pattern in RAW_LOOKS.items()
        for match in pattern.finditer(text)
    ]


def every_kind_events() -> list[Event]:
    """'SQL basics' in a week: every kind of the protocol, and a note, a reply, an
    unknown kind, a deleted note. Ana is the learner (the tests' identity)."""
    start = NOW - 7 * DAY
    created, meeting = sql_basics(start, meeting_at=MEETING_AT, minutes=90, language="en")
    on_meeting = {"meeting": meeting.id}
    question = event(
        BO,
        kinds.QUESTION,
        {"title": "LEFT or RIGHT join?", "text": "Which one keeps *all* rows?", "tags": ["joins"]},
        at=NOW - 60 * MINUTE,
    )
    helped = event(
        CHEN,
        kinds.ANSWER,
        {"text": "LEFT keeps every row of the left table."},
        at=NOW - 50 * MINUTE,
        question=question.id,
    )
    hello = note(CHEN, "Anyone want to pair on chapter 3?", channel=CIRCLE, at=NOW - 20 * MINUTE)
    gone = note(DEE, "wrong channel, sorry", channel=CIRCLE, at=start + 9 * MINUTE)
    return [
        profile(ANA, "Ana", learning="SQL"),
        profile(BO, "Bo"),
        profile(CHEN, "Chen", can_help="SQL, joins"),
        profile(DEE, "Dee"),
        created,
        event(
            ANA,
            kinds.CIRCLE,
            {**created.body, "description": "Six evenings with an open course, at the library."},
            at=start + MINUTE,
            updates=created.id,
        ),
        event(BO, kinds.JOIN, {}, at=start + 2 * MINUTE),
        event(
            CHEN, kinds.JOIN, {"message": "Hi all, I use SQLite at work."}, at=start + 4 * MINUTE
        ),
        event(DEE, kinds.JOIN, {}, at=start + 5 * MINUTE),
        meeting,
        event(
            CHEN,
            kinds.RESOURCE,
            {"url": "https://sqlzoo.net", "title": "SQLZoo", "tags": ["practice"]},
            at=start + 6 * MINUTE,
        ),
        event(ANA, kinds.RSVP, {"answer": "yes"}, at=start + 6 * MINUTE, **on_meeting),
        event(BO, kinds.RSVP, {"answer": "yes"}, at=start + 7 * MINUTE, **on_meeting),
        event(CHEN, kinds.RSVP, {"answer": "maybe"}, at=start + 8 * MINUTE, **on_meeting),
        event(DEE, kinds.RSVP, {"answer": "no"}, at=start + 8 * MINUTE, **on_meeting),
        gone,
        event(DEE, kinds.DELETE, {}, at=start + 10 * MINUTE, target=gone.id),
        event(DEE, kinds.LEAVE, {"message": "Too busy this term."}, at=start + 11 * MINUTE),
        event(ANA, kinds.ATTENDANCE, {}, at=MEETING_AT, **on_meeting),
        event(
            BO,
            kinds.CHECKIN,
            {"feeling": "keen", "working_on": "joins", "need_help": "outer joins"},
            at=MEETING_AT + MINUTE,
            **on_meeting,
        ),
        event(CHEN, kinds.CHECKIN, {"feeling": "tired"}, at=MEETING_AT + 2 * MINUTE, **on_meeting),
        event(
            CHEN,
            kinds.PLUSDELTA,
            {"plus": "the puzzles", "delta": "more time for questions"},
            at=MEETING_AT + 85 * MINUTE,
            **on_meeting,
        ),
        question,
        helped,
        event(
            ANA,
            kinds.ANSWER,
            {"text": "Try both on a tiny table."},
            at=NOW - 45 * MINUTE,
            question=question.id,
        ),
        event(
            BO,
            kinds.RESOLVED,
            {"note": "Thanks!"},
            at=NOW - 40 * MINUTE,
            question=question.id,
            answer=helped.id,
        ),
        create_event(
            CHEN,
            kind="example/poll@1",
            circle=CIRCLE,
            body={"question": "Meet on Friday?", "closes_at": NOW},
            created_at=NOW - 30 * MINUTE,
        ),
        hello,
        note(ANA, "Yes! After the meeting?", channel=CIRCLE, at=NOW - 15 * MINUTE, reply_to=hello),
    ]
