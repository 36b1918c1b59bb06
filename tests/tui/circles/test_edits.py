"""Fixing mistakes in the TUI: change or cancel a meeting, change or delete a question,
change the description or delete the circle; only what is yours is offered, and
removing asks first (real node, real SQLite, fixed clock)."""

from __future__ import annotations

from typing import Any

from textual.widgets import Input, OptionList, Static, TextArea

from peernode.circles import derive_state
from peernode.circles.bodies import meeting_body
from peernode.home import Home
from protocol import kinds
from tests.tui.circles.helpers import (
    CIRCLE,
    circle_events,
    event,
    fill,
    meeting_id,
    open_circle_screen,
)
from tests.tui.helpers import ANA, BO, CHEN, MINUTE, NOW, running, wait_for
from tui.circles.edits import ChangeDialog, ConfirmDialog, EditQuestionDialog, own_changes
from tui.circles.meeting import MeetingScreen
from tui.circles.new_circle import NewCircleDialog
from tui.circles.page import CirclePage
from tui.circles.schedule import ScheduleDialog


async def choose(pilot: Any, label_start: str) -> None:
    """In the open ChangeDialog, pick the change whose label starts with `label_start`."""
    app = pilot.app
    await wait_for(pilot, lambda: isinstance(app.screen, ChangeDialog))
    dialog = app.screen
    assert isinstance(dialog, ChangeDialog)
    labels = [change.label for change in dialog.changes]
    index = next(i for i, label in enumerate(labels) if label.startswith(label_start))
    dialog.query_one(OptionList).highlighted = index
    await pilot.press("enter")


def labels_of(app: Any) -> list[str]:
    assert isinstance(app.screen, ChangeDialog)
    return [change.label for change in app.screen.changes]


def head_of(screen: Any) -> str:
    return str(screen.query_one("#meeting-head", Static).content)


def text_of(screen: Any, selector: str) -> str:
    return str(screen.query_one(selector, Static).content)


async def start_change(pilot: Any, label_start: str, dialog_type: type[Any]) -> Any:
    """Press e, pick the change whose label starts with `label_start`; its dialog."""
    await pilot.press("e")
    await choose(pilot, label_start)
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, dialog_type))
    return pilot.app.screen


async def confirm(pilot: Any, label_start: str) -> None:
    """Press e, pick the change whose label starts with `label_start`, and confirm it."""
    await start_change(pilot, label_start, ConfirmDialog)
    await pilot.click("#confirm")


async def delete_events(app: Any) -> int:
    return len(await app.node.circles.events(CIRCLE, [kinds.DELETE]))


async def test_change_the_meeting_from_meeting_mode(circle_room: Home) -> None:
    async with running(circle_room) as (app, pilot):
        screen = await open_circle_screen(app, pilot, "m")
        assert isinstance(screen, MeetingScreen)
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, ChangeDialog))
        assert [label.split(" of ")[0] for label in labels_of(app)] == [
            "Change the meeting",
            "Cancel the meeting",
        ]
        await pilot.press("escape")
        dialog = await start_change(pilot, "Change the meeting", ScheduleDialog)
        assert dialog.query_one("#place", Input).value == "Library, room 2"  # as it is now
        assert dialog.query_one("#work", Input).value == "Chapter 2: joins"
        dialog.query_one("#place", Input).value = "Library, room 5"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "Library, room 5" in head_of(screen))
        state = await app.node.circles.state(CIRCLE)
        (meeting,) = state.meetings
        assert meeting.id == meeting_id()  # the same meeting, changed: RSVPs and check-ins stay
        assert meeting.place == "Library, room 5"
        assert meeting.agenda.coursework == "Chapter 2: joins"
        assert meeting.facilitator == BO.public_key
        assert BO.public_key in meeting.attendees


async def test_cancel_the_meeting_asks_first(circle_room: Home) -> None:
    async with running(circle_room) as (app, pilot):
        screen = await open_circle_screen(app, pilot, "m")
        await pilot.press("e")
        await choose(pilot, "Cancel the meeting")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("enter")  # Enter alone keeps it: the focus is on "Keep it"
        await wait_for(pilot, lambda: app.screen is screen)
        await confirm(pilot, "Cancel the meeting")
        await wait_for(pilot, lambda: "SQL basics: this meeting was cancelled." in head_of(screen))
        state = await app.node.circles.state(CIRCLE)
        assert state.meetings == ()
        assert meeting_id() in state.deleted
        assert await delete_events(app) == 1  # the first "Keep it" published nothing


async def test_only_what_is_yours_is_offered(circle_room: Home) -> None:
    bo_meeting = event(
        BO, kinds.MEETING, meeting_body(starts_at=NOW + 60 * MINUTE, place="Café"), at=NOW
    )
    async with running(circle_room) as (app, pilot):
        await app.node.store_signed([bo_meeting])
        page = await open_circle_screen(app, pilot, "g")
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, ChangeDialog))
        labels = labels_of(app)
        assert sum(label.startswith("Change the meeting") for label in labels) == 1  # Ana's
        assert any("How to install sqlite?" in label for label in labels)  # Ana asked it
        assert not any("LEFT or RIGHT" in label for label in labels)  # Bo asked it
        assert "Change the circle's description" in labels
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is page)
        app.push_screen(MeetingScreen(app.node, CIRCLE, clock=app.clock, meeting_id=bo_meeting.id))
        await wait_for(pilot, lambda: isinstance(app.screen, MeetingScreen) and app.screen.loads)
        theirs = app.screen
        assert not theirs.check_action("own_changes", ())
        await pilot.press("e")
        assert app.screen is theirs  # nothing opens for someone else's meeting


async def test_change_and_delete_my_question(circle_room: Home) -> None:
    async with running(circle_room) as (app, pilot):
        page = await open_circle_screen(app, pilot, "g")
        dialog = await start_change(pilot, "Change your question", EditQuestionDialog)
        title = dialog.query_one("#title", Input)
        assert title.value == "How to install sqlite?"
        assert dialog.query_one("#tags", Input).value == "setup"
        title.value = "How do I install sqlite on Debian?"
        await pilot.press("ctrl+s")
        await wait_for(
            pilot,
            lambda: (
                page.state is not None
                and any(q.title.endswith("on Debian?") for q in page.state.questions)
            ),
        )
        await confirm(pilot, "Delete your question")
        await wait_for(pilot, lambda: page.state is not None and len(page.state.questions) == 2)
        assert page.state is not None
        assert all(q.author != ANA.public_key for q in page.state.questions)


async def test_change_the_description_on_several_lines(circle_room: Home) -> None:
    async with running(circle_room) as (app, pilot):
        page = await open_circle_screen(app, pilot, "g")
        dialog = await start_change(pilot, "Change the circle's description", NewCircleDialog)
        assert dialog.query_one("#slug", Input).disabled  # the id is permanent
        assert dialog.query_one("#name", Input).value == "SQL basics"
        description = dialog.query_one("#description", TextArea)
        assert description.text == "Six evenings with an open course."
        description.focus()
        await pilot.press("end", "enter")
        description.insert("Bring a laptop.")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: page.state is not None and len(page.state.history) == 2)
        assert page.state is not None
        assert page.state.description == "Six evenings with an open course.\nBring a laptop."
        assert page.state.resources[0].title == "Open SQL course"  # titles survive the edit
        assert "Bring a laptop." in text_of(page, "#circle-about")


async def test_delete_the_circle_I_started(circle_room: Home) -> None:
    async with running(circle_room) as (app, pilot):
        page = await open_circle_screen(app, pilot, "g")
        assert isinstance(page, CirclePage)
        await confirm(pilot, "Delete the study circle")
        await wait_for(pilot, lambda: page.state is not None and not page.state.exists)
        assert "not a study circle yet" in text_of(page, "#circle-about")
        state = await app.node.circles.state(CIRCLE)
        assert len(state.meetings) == 1  # the channel's meetings and questions stay
        assert len(state.questions) == 3
        await pilot.press("c")  # and it can be started again
        await fill(pilot, NewCircleDialog, name="SQL again")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: page.state is not None and page.state.title == "SQL again")


def test_own_changes_follow_the_rules_of_each_kind() -> None:
    events = circle_events()
    state = derive_state(CIRCLE, events)
    mine = [change.label for change in own_changes(state, ANA.public_key, NOW)]
    assert [label.split(" of ")[0].split(" “")[0] for label in mine] == [
        "Change the meeting",
        "Cancel the meeting",
        "Change your question",
        "Delete your question",
        "Change the circle's description",
        "Delete the study circle #sql-basics",
    ]
    later = own_changes(state, ANA.public_key, NOW + 24 * 60 * MINUTE)
    assert later[1].label.startswith("Delete the meeting of")
    assert "(ended)" in later[1].label
    bo = [change.action for change in own_changes(state, BO.public_key, NOW)]
    assert bo == ["edit-question", "delete-question", "edit-circle"]  # no meeting, not his circle
    current = state.current
    assert current is not None
    newer = event(
        CHEN,
        kinds.CIRCLE,
        {"name": "SQL basics", "description": "Seven evenings."},
        at=NOW,
        updates=current.id,
    )
    state = derive_state(CIRCLE, [*events, newer])
    assert own_changes(state, CHEN.public_key, NOW)[-1].action == "withdraw-version"
    assert "delete-circle" not in {c.action for c in own_changes(state, ANA.public_key, NOW)}
    assert own_changes(state, None, NOW) == []
