"""RSVP from the circle page: r answers the next meeting (yes, maybe or no) through the
node, the page shows it, Esc changes nothing, and a node error is said (real node)."""

from __future__ import annotations

import pytest
from textual.pilot import Pilot
from textual.widgets import OptionList, Static

from peernode.errors import DiskFull
from peernode.home import Home
from protocol import kinds
from protocol.event import Event
from tests.tui.circles.helpers import CIRCLE, meeting_id, open_circle_screen
from tests.tui.helpers import ANA, MINUTE, NOW, running, wait_for
from tui.app import PeernodeApp
from tui.circles.page import CirclePage
from tui.circles.rsvp import CHOICES, RsvpDialog
from tui.screens.help import rows_of, sections


def said(app: PeernodeApp, text: str) -> bool:
    return any(text in str(notice.message) for notice in app._notifications)


def next_meeting_text(page: CirclePage) -> str:
    return str(page.query_one("#circle-next", Static).content)


async def my_rsvps(app: PeernodeApp) -> list[Event]:
    """Ana's RSVP events as the node's store holds them."""
    events = await app.node.circles.events(CIRCLE, [kinds.RSVP])
    return [event for event in events if event.author == ANA.public_key]


async def open_page(app: PeernodeApp, pilot: Pilot[None]) -> CirclePage:
    page = await open_circle_screen(app, pilot, "g")
    assert isinstance(page, CirclePage)
    return page


async def open_dialog(app: PeernodeApp, pilot: Pilot[None]) -> None:
    await pilot.press("r")
    await wait_for(pilot, lambda: isinstance(app.screen, RsvpDialog))


async def answer_yes(app: PeernodeApp, pilot: Pilot[None], page: CirclePage) -> None:
    await open_dialog(app, pilot)
    await pilot.press("y")
    await wait_for(pilot, lambda: "you: yes" in next_meeting_text(page))


async def test_r_answers_the_next_meeting(circle_room: Home) -> None:
    async with running(circle_room) as (app, pilot):
        page = await open_page(app, pilot)
        assert "RSVPs: none yet" in next_meeting_text(page)
        assert "r to RSVP" in next_meeting_text(page)  # how to find the key
        await open_dialog(app, pilot)
        answers = app.screen.query_one("#rsvp-answer", OptionList)
        assert answers.has_focus
        assert answers.highlighted == CHOICES.index("yes")  # no answer yet: the first
        await pilot.press("down", "enter")  # maybe
        await wait_for(pilot, lambda: "you: maybe" in next_meeting_text(page))
        assert app.screen is page
        assert "RSVPs: 1 maybe · you: maybe" in next_meeting_text(page)
        assert said(app, "RSVP shared with the circle: maybe.")
        [stored] = await my_rsvps(app)
        assert stored.kind == kinds.RSVP
        assert stored.body == {"answer": "maybe"}
        assert stored.refs == {"meeting": meeting_id()}
        assert stored.circle == CIRCLE


async def test_changing_the_answer_replaces_it(circle_room: Home) -> None:
    async with running(circle_room) as (app, pilot):
        page = await open_page(app, pilot)
        await answer_yes(app, pilot, page)
        await open_dialog(app, pilot)
        answers = app.screen.query_one("#rsvp-answer", OptionList)
        assert answers.highlighted == CHOICES.index("yes")  # the current answer
        assert "your answer now" in str(answers.get_option("yes").prompt)
        await pilot.press("n")
        await wait_for(pilot, lambda: "you: no" in next_meeting_text(page))
        assert "RSVPs: 1 no · you: no" in next_meeting_text(page)
        assert [event.body["answer"] for event in await my_rsvps(app)] == ["yes", "no"]
        state = await app.node.circles.state(CIRCLE)
        meeting = state.meeting(meeting_id())
        assert meeting is not None
        assert meeting.rsvp_of(ANA.public_key) == "no"  # the newest answer counts
        # the same answer again adds nothing
        await open_dialog(app, pilot)
        await pilot.press("enter")
        await wait_for(pilot, lambda: said(app, "Your answer is no already."))
        assert len(await my_rsvps(app)) == 2


async def test_escape_changes_nothing(circle_room: Home) -> None:
    async with running(circle_room) as (app, pilot):
        page = await open_page(app, pilot)
        before = next_meeting_text(page)
        await open_dialog(app, pilot)
        await pilot.press("down", "escape")
        await wait_for(pilot, lambda: app.screen is page)
        await pilot.pause(0.3)  # longer than a reload takes, were anything published
        assert next_meeting_text(page) == before
        assert await my_rsvps(app) == []


async def test_no_upcoming_meeting_says_so(circle_room: Home) -> None:
    def after_the_meeting() -> int:
        return NOW + 3 * 60 * MINUTE  # the only meeting ended an hour ago

    async with running(circle_room, clock=after_the_meeting) as (app, pilot):
        page = await open_page(app, pilot)
        await pilot.press("r")
        await wait_for(pilot, lambda: said(app, "No upcoming meeting"))
        assert app.screen is page
        assert await my_rsvps(app) == []


async def test_a_node_error_is_said_and_loses_nothing(
    circle_room: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running(circle_room) as (app, pilot):
        page = await open_page(app, pilot)
        await answer_yes(app, pilot, page)

        async def disk_full(meeting: bytes, answer: str) -> Event:
            raise DiskFull("the disk is full: peernode cannot save new events")

        monkeypatch.setattr(app.node.circles, "rsvp", disk_full)
        await open_dialog(app, pilot)
        await pilot.press("n")
        await wait_for(pilot, lambda: said(app, "the disk is full"))
        notice = next(n for n in app._notifications if "the disk is full" in str(n.message))
        assert notice.title == "Not shared"
        assert notice.severity == "error"
        assert app.screen is page
        # the answer given before still stands, on the page and in the store
        assert "you: yes" in next_meeting_text(page)
        assert [event.body["answer"] for event in await my_rsvps(app)] == ["yes"]
        monkeypatch.undo()  # space again: the same keys now work
        await open_dialog(app, pilot)
        await pilot.press("n")
        await wait_for(pilot, lambda: "you: no" in next_meeting_text(page))


def test_the_key_is_in_the_help() -> None:
    assert ("r", "RSVP to the next meeting") in rows_of(CirclePage.BINDINGS)
    dialogs = dict(sections([]))["Dialogs"]
    assert ("y / m / n", "RSVP: answer yes / maybe / no at once") in dialogs
