"""A small study circle for the circle-screen tests: fixed keys, events and clock."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Input

from peernode.circles.bodies import circle_body, meeting_body
from peernode.circles.model import Activity, Agenda, ResourceLink, Rhythm
from protocol import kinds
from protocol.event import Event, create_event
from protocol.identity import SigningKey
from tests.tui.helpers import ANA, BO, CHEN, MINUTE, NOW, main_screen, profile, wait_for
from tui.app import PeernodeApp
from tui.circles.base import CircleBase

CIRCLE = "sql-basics"
MEETING_AT = NOW - 10 * MINUTE
"""The meeting in progress at the tests' fixed 'now'."""


def event(key: SigningKey, kind: str, body: dict[str, object], *, at: int, **refs: bytes) -> Event:
    return create_event(key, kind=kind, circle=CIRCLE, body=body, refs=refs or None, created_at=at)


def sql_basics(
    start: int, *, meeting_at: int = MEETING_AT, minutes: int, **more: str
) -> tuple[Event, Event]:
    """Ana's 'SQL basics' (started at `start`, meetings of `minutes`; `more`: other fields
    of its body) and its meeting at `meeting_at`, facilitated by Bo."""
    created = event(
        ANA,
        kinds.CIRCLE,
        circle_body(
            name="SQL basics",
            topic="databases",
            description="Six evenings with an open course.",
            resources=(ResourceLink("https://example.org/sql-course", "Open SQL course"),),
            rhythm=Rhythm("weekly", minutes, 6),
            **more,
        ),
        at=start,
    )
    meeting = event(
        ANA,
        kinds.MEETING,
        meeting_body(
            starts_at=meeting_at,
            duration_minutes=minutes,
            place="Library, room 2",
            facilitator=BO.public_key,
            agenda=Agenda(coursework="Chapter 2: joins", activity=Activity("Join puzzles", 20)),
        ),
        at=start + 3 * MINUTE,
    )
    return created, meeting


def circle_events() -> list[Event]:
    """Ana started 'SQL basics'; Bo and Chen joined. A meeting is on now (Bo is
    here and checked in); three questions: open, answered, resolved."""
    start = NOW - 7 * 24 * 60 * MINUTE
    created, meeting = sql_basics(start, minutes=120)
    open_q = event(
        BO,
        kinds.QUESTION,
        {"title": "LEFT or RIGHT join?", "tags": ["joins"]},
        at=NOW - 60 * MINUTE,
    )
    answered_q = event(
        CHEN,
        kinds.QUESTION,
        {"title": "What is an index?", "tags": ["indexes"]},
        at=NOW - 50 * MINUTE,
    )
    resolved_q = event(
        ANA,
        kinds.QUESTION,
        {"title": "How to install sqlite?", "tags": ["setup"]},
        at=NOW - 40 * MINUTE,
    )
    helped = event(
        BO,
        kinds.ANSWER,
        {"text": "apt install sqlite3"},
        at=NOW - 35 * MINUTE,
        question=resolved_q.id,
    )
    return [
        profile(ANA, "Ana", learning="SQL"),
        profile(BO, "Bo"),
        profile(CHEN, "Chen", can_help="SQL, joins"),
        created,
        event(BO, kinds.JOIN, {}, at=start + MINUTE),
        event(CHEN, kinds.JOIN, {"message": "hi"}, at=start + 2 * MINUTE),
        meeting,
        event(BO, kinds.ATTENDANCE, {}, at=MEETING_AT, meeting=meeting.id),
        event(
            BO,
            kinds.CHECKIN,
            {"feeling": "keen", "working_on": "joins", "need_help": "outer joins"},
            at=MEETING_AT + MINUTE,
            meeting=meeting.id,
        ),
        open_q,
        answered_q,
        event(
            ANA,
            kinds.ANSWER,
            {"text": "A lookup table."},
            at=NOW - 45 * MINUTE,
            question=answered_q.id,
        ),
        resolved_q,
        helped,
        event(
            ANA, kinds.RESOLVED, {}, at=NOW - 30 * MINUTE, question=resolved_q.id, answer=helped.id
        ),
    ]


def meeting_id() -> bytes:
    return next(e.id for e in circle_events() if e.kind == kinds.MEETING)


async def open_circle_screen(app: PeernodeApp, pilot: Pilot[None], key: str) -> CircleBase:
    """From the main screen, show the circle's channel and press `key` (g, m, q or i)."""
    main = await main_screen(app, pilot)
    if main.channel != CIRCLE:
        main.switch_channel(CIRCLE)
    await pilot.press(key)
    await wait_for(pilot, lambda: isinstance(app.screen, CircleBase) and app.screen.loads > 0)
    screen = app.screen
    assert isinstance(screen, CircleBase)
    await pilot.pause()
    return screen


async def fill(pilot: Pilot[None], dialog_type: type[Screen[Any]], **values: str) -> Screen[Any]:
    """Wait for the dialog, put `values` into its inputs (by id, '_' for '-') as if
    pasted: focus each, then insert the text at the cursor."""
    app = pilot.app
    await wait_for(pilot, lambda: isinstance(app.screen, dialog_type))
    dialog = app.screen
    for name, text in values.items():
        field = dialog.query_one(f"#{name.replace('_', '-')}", Input)
        field.focus()
        field.insert_text_at_cursor(text)
        await pilot.pause()
    return dialog


async def steady_on(pilot: Pilot[None], key: str) -> None:
    """snap_compare's run_before: the main screen, then the circle screen behind `key`."""
    app = pilot.app
    assert isinstance(app, PeernodeApp)
    await open_circle_screen(app, pilot, key)
    for widget in app.screen.query("Input"):
        assert isinstance(widget, Input)
        widget.cursor_blink = False
    await pilot.pause()


def on_a_challenge(learner: SigningKey) -> list[Event]:
    """Ana's challenge “Joins”, and `learner` saying they are on it."""
    criteria = [{"name": "Correct", "meets": "the rows"}, {"name": "Clear", "meets": "why"}]
    body = {"title": "Joins", "question": "Who never ordered?", "tasks": ["Write joins"],
            "criteria": criteria, "badge": {"name": "Join explorer"}}  # fmt: skip
    challenge = event(ANA, kinds.CHALLENGE, body, at=NOW - 2 * MINUTE)
    return [challenge, event(learner, kinds.START, {}, at=NOW - MINUTE, challenge=challenge.id)]
