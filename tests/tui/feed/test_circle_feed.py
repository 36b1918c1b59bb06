"""A circle's feed as a learner reads it: cards and sentences, threads, replies, new counts."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from textual.pilot import Pilot

from peernode.home import Home
from protocol import kinds
from tests.tui.circles.helpers import CIRCLE, event
from tests.tui.feed.helpers import every_kind_events, raw_looks
from tests.tui.helpers import (
    ANA,
    BO,
    CHEN,
    MINUTE,
    NOW,
    install_key,
    main_screen,
    note,
    running,
    store,
    type_text,
    wait_for,
)
from tests.tui.test_snapshots import HostedApp, steady
from tui.app import PeernodeApp
from tui.screens.main import MainScreen


@pytest.fixture
def every_kind(home: Home, utc: None) -> Home:
    """A home whose identity is Ana, holding a circle with an event of every kind."""
    install_key(home, ANA)
    asyncio.run(store(home, every_kind_events()))
    return home


async def on_circle(app: PeernodeApp, pilot: Pilot[None]) -> MainScreen:
    screen = await main_screen(app, pilot)
    screen.switch_channel(CIRCLE)
    await wait_for(
        pilot,
        lambda: screen.feed.circle is not None and not screen.feed.fetching and screen.feed.rows,
    )
    await pilot.pause()
    return screen


def feed_lines(screen: MainScreen) -> list[str]:
    """Every line of the feed as drawn, the lines scrolled out of view too."""
    feed = screen.feed
    width = feed.scrollable_content_region.width
    return [feed._line(y, width).text.rstrip() for y in range(feed.virtual_size.height)]


def row_of(screen: MainScreen, kind: str, nth: int = 0) -> int:
    return [i for i, row in enumerate(screen.feed.rows) if row.entry.event.kind == kind][nth]


async def test_every_kind_reads_as_words_not_fields(every_kind: Home) -> None:
    async with running(every_kind, size=(120, 36)) as (app, pilot):
        screen = await on_circle(app, pilot)
        text = "\n".join(feed_lines(screen))
        assert raw_looks(text) == []
        for expected in (
            "Ana started the circle “SQL basics”",
            "Meets weekly, 1 h 30, 6 weeks",
            "Ana updated the description of the circle “SQL basics”\n"
            "  Six evenings with an open course, at the library.",
            "Bo joined the circle",
            "Dee left the circle",
            "“Too busy this term.”",
            "Chen shared “SQLZoo”",
            "Meeting on Tue 2023-11-14 19:13, 1 h 30",
            "Where: Library, room 2",
            "Facilitator: Bo (ni4a-hvpq)",
            "Activity: Join puzzles (20 min)",
            "Going: Ana and Bo · maybe: Chen · not going: Dee",
            "Ana, Bo and Chen were there",
            "Bo checked in: feeling keen; working on joins; needs help with outer joins",
            "Chen's plus/delta — went well: the puzzles; to change: more time for questions",
            "Question: LEFT or RIGHT join?",
            "✓ resolved · 2 answers · #joins",
            "✓ the asker marked this answer as what helped",
            "✓ Bo marked this question resolved: Chen's answer helped",
            "(deleted by its author)",
            "[example/poll@1] not understood by this version",
            "Yes! After the meeting?",
        ):
            assert expected in text, expected
        assert "language" not in text
        assert " en" not in text


async def test_rsvps_and_attendance_fold_into_the_meeting(every_kind: Home) -> None:
    async with running(every_kind, size=(120, 36)) as (app, pilot):
        screen = await on_circle(app, pilot)
        shown = [row.entry.event.kind for row in screen.feed.rows]
        assert kinds.RSVP not in shown
        assert kinds.ATTENDANCE not in shown
        assert shown.count(kinds.MEETING) == 1
        assert shown.count(kinds.CHECKIN) == 2


async def test_answers_and_the_resolution_are_threaded_under_their_question(
    every_kind: Home,
) -> None:
    async with running(every_kind, size=(120, 36)) as (app, pilot):
        screen = await on_circle(app, pilot)
        rows = screen.feed.rows
        at = row_of(screen, kinds.QUESTION)
        under = [(row.entry.event.kind, row.depth) for row in rows[at + 1 : at + 4]]
        assert under == [(kinds.ANSWER, 1), (kinds.ANSWER, 1), (kinds.RESOLVED, 1)]
        assert rows[at].depth == 0


async def test_reply_is_offered_on_notes_refused_on_bookkeeping(every_kind: Home) -> None:
    async with running(every_kind, size=(120, 36)) as (app, pilot):
        screen = await on_circle(app, pilot)
        feed = screen.feed
        feed.focus()
        for kind in (kinds.CHECKIN, kinds.MEETING, kinds.JOIN, kinds.ANSWER):
            feed._select_index(row_of(screen, kind))
            await pilot.press("r")
            await pilot.pause()
            assert screen.composer.reply_to is None, kind
        notices = [notice.message for notice in app._notifications]
        assert "Only notes and questions take replies here" in notices[0]
        assert "Reply to the question above it" in notices[-1]

        feed._select_index(row_of(screen, kinds.NOTE, 1))
        await pilot.press("r")
        await wait_for(pilot, lambda: screen.composer.reply_to is not None)
        assert "Reply to Chen" in str(screen.composer.query_one("#reply-banner").render())


async def test_r_on_a_question_answers_it(every_kind: Home) -> None:
    async with running(every_kind, size=(120, 36)) as (app, pilot):
        screen = await on_circle(app, pilot)
        screen.feed.focus()
        screen.feed._select_index(row_of(screen, kinds.QUESTION))
        await pilot.press("r")
        await wait_for(pilot, lambda: screen.composer.reply_to is not None)
        banner = str(screen.composer.query_one("#reply-banner").render())
        assert "Answer Bo's question" in banner
        assert "LEFT or RIGHT join?" in banner
        await type_text(pilot, "FULL keeps both")
        await pilot.press("ctrl+s")

        def answered() -> bool:
            state = screen.feed.circle
            question = state.questions[0] if state else None
            return question is not None and len(question.answers) == 3

        await wait_for(pilot, answered)
        at = row_of(screen, kinds.QUESTION)
        await wait_for(pilot, lambda: "3 answers" in "\n".join(feed_lines(screen)))
        assert [row.depth for row in screen.feed.rows[at + 1 : at + 5]] == [1, 1, 1, 1]


async def test_new_counts_only_what_others_wrote_to_be_read(every_kind: Home) -> None:
    async with running(every_kind, size=(120, 36)) as (app, pilot):
        screen = await main_screen(app, pilot)
        screen.switch_channel("lobby")
        await wait_for(pilot, lambda: not screen.feed.fetching)
        before = screen.counts[CIRCLE]
        meeting = next(e for e in every_kind_events() if e.kind == kinds.MEETING)
        circles = screen.node.circles
        await circles.rsvp(meeting.id, "maybe")
        await circles.check_in(meeting.id, feeling="fine")
        await circles.attend(meeting.id)
        await screen.node.post("my own note", channel=CIRCLE)
        others = [
            event(BO, kinds.RSVP, {"answer": "no"}, at=NOW, meeting=meeting.id),
            event(CHEN, kinds.ATTENDANCE, {}, at=NOW, meeting=meeting.id),
            event(BO, kinds.CHECKIN, {"feeling": "ok"}, at=NOW, meeting=meeting.id),
            note(CHEN, "Chapter 3 notes are up", channel=CIRCLE, at=NOW + MINUTE),
        ]
        await screen.node.store_signed(others)
        await wait_for(pilot, lambda: screen.counts[CIRCLE] == before + 8)
        assert screen.unread.get(CIRCLE) == 1
        options = screen.query_one("#channels")
        assert "(1 new)" in str(options.get_option(CIRCLE).prompt)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("size", "kind"),
    [((80, 24), kinds.MEETING), ((120, 36), kinds.MEETING), ((120, 36), kinds.NOTE)],
    ids=["meeting-80x24", "meeting-120x36", "newest-120x36"],
)
def test_circle_feed_snapshot(
    snap_compare: Any, every_kind: Home, size: tuple[int, int], kind: str
) -> None:
    """The meeting card at both sizes, and the newest events (a question's thread)."""

    async def on_the_circle(pilot: Pilot[None]) -> None:
        await steady(pilot)
        screen = await on_circle(pilot.app, pilot)  # type: ignore[arg-type]
        screen.feed._select_index(row_of(screen, kind, -1))
        await pilot.pause()

    assert snap_compare(HostedApp(every_kind), terminal_size=size, run_before=on_the_circle)
