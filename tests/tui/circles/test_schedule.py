"""The schedule form's defaults (now, or the rhythm's next slot; place and agenda carried
over) and the plain sentences of the circle forms' errors (real node, fixed clock)."""

from __future__ import annotations

from typing import Any

from textual.widgets import Input, Static

from peernode.circles.bodies import circle_body
from peernode.circles.model import MAX_MEETING_MINUTES, MIN_MINUTES
from peernode.circles.proposals import round_now
from peernode.home import Home
from peernode.text import local_time
from protocol import kinds
from protocol.event import create_event
from tests.tui.circles.helpers import MEETING_AT, open_circle_screen
from tests.tui.helpers import ANA, MINUTE, NOW, main_screen, running, wait_for
from tui.circles.new_circle import NewCircleDialog
from tui.circles.page import CirclePage
from tui.circles.schedule import WHY_THEN, ScheduleDialog

DAY = 24 * 60 * MINUTE


def value(dialog: Any, selector: str) -> str:
    return str(dialog.query_one(selector, Input).value)


def notes(dialog: Any) -> list[str]:
    return [str(widget.content) for widget in dialog.query(".dialog-text").results(Static)]


async def error_after_submit(pilot: Any, dialog: Any, **values: str) -> str:
    for name, text in values.items():
        dialog.query_one(f"#{name}", Input).value = text
    await pilot.press("ctrl+s")
    await pilot.pause()
    return str(dialog.query_one("#dialog-error", Static).content)


async def test_during_a_meeting_it_proposes_the_next_one_with_what_carries_over(
    circle_room: Home,
) -> None:
    async with running(circle_room) as (app, pilot):
        await open_circle_screen(app, pilot, "g")
        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(app.screen, ScheduleDialog))
        dialog = app.screen
        assert WHY_THEN["rhythm"] in notes(dialog)
        assert value(dialog, "#when") == local_time(MEETING_AT + 7 * DAY)  # weekly
        assert value(dialog, "#duration") == "120"
        assert value(dialog, "#place") == "Library, room 2"
        assert value(dialog, "#work") == "Chapter 2: joins"
        assert value(dialog, "#act") == "Join puzzles"
        assert value(dialog, "#activity-minutes") == "20"
        error = await error_after_submit(pilot, dialog, when="next friday")
        assert error == "⚠ Write when it starts as a date and a time, like 2026-12-01 18:00."
        error = await error_after_submit(
            pilot, dialog, when=local_time(MEETING_AT + 7 * DAY), duration="two hours"
        )
        assert error == (
            f"⚠ Write the meeting's minutes as a whole number from {MIN_MINUTES} "
            f"to {MAX_MEETING_MINUTES}."
        )


async def test_with_nothing_on_it_proposes_now(circle_room: Home) -> None:
    started = create_event(
        ANA,
        kind=kinds.CIRCLE,
        circle="lobby",
        body=circle_body(name="Lobby talks"),
        created_at=NOW - DAY,
    )
    async with running(circle_room) as (app, pilot):
        await app.node.store_signed([started])
        main = await main_screen(app, pilot)
        main.switch_channel("lobby")
        await pilot.press("g")
        await wait_for(pilot, lambda: isinstance(app.screen, CirclePage) and app.screen.exists)
        page = app.screen
        assert isinstance(page, CirclePage)
        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(app.screen, ScheduleDialog))
        dialog = app.screen
        assert WHY_THEN["now"] in notes(dialog)
        assert value(dialog, "#when") == local_time(round_now(NOW))
        assert value(dialog, "#place") == ""
        await pilot.press("ctrl+s")  # run a meeting now: nothing to retype
        await wait_for(pilot, lambda: page.state is not None and bool(page.state.meetings))
        assert page.state is not None
        (meeting,) = page.state.meetings
        assert meeting.starts_at == round_now(NOW)
        assert "(now, started 3 min ago)" in str(page.query_one("#circle-next", Static).content)


async def test_the_new_circle_form_says_what_to_write(circle_room: Home) -> None:
    async with running(circle_room) as (app, pilot):
        main = await main_screen(app, pilot)
        main.switch_channel("lobby")
        main.action_new_circle()
        await wait_for(pilot, lambda: isinstance(app.screen, NewCircleDialog))
        dialog = app.screen
        error = await error_after_submit(pilot, dialog)
        assert error == "⚠ Give the circle a title, e.g. SQL basics."
        error = await error_after_submit(pilot, dialog, slug="SQL Basics", name="SQL")
        assert error.startswith("⚠ Write the circle id with at most")
        error = await error_after_submit(pilot, dialog, slug="sql-basics")
        assert error == "⚠ #sql-basics is a study circle already: choose another id."
        error = await error_after_submit(pilot, dialog, slug="lobby", weeks="many")
        assert error.startswith("⚠ Write the number of weeks as a whole number from 1 to")
        error = await error_after_submit(pilot, dialog, weeks="", links="py4e.com")
        assert error == "⚠ 'py4e.com' is not a link: write it in full, starting with https://."
