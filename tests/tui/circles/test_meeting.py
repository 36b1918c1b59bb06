"""Meeting mode: the four parts, live check-ins from other learners, the activity's
time box on an injected clock (kept while meeting mode is closed, big digits for a
projector), and check-in and plus/delta from the dialogs."""

from __future__ import annotations

import re
from typing import Any

from textual.widgets import Digits, Static

from peernode.home import Home
from protocol import kinds
from protocol.event import create_event
from tests.tui.circles.helpers import (
    CIRCLE,
    fill,
    meeting_id,
    on_a_challenge,
    open_circle_screen,
    steady_on,
)
from tests.tui.helpers import ANA, CHEN, NOW, running, wait_for
from tests.tui.test_snapshots import HostedApp
from tui.circles.checkin import CheckInDialog
from tui.circles.meeting import MeetingScreen
from tui.circles.plusdelta import PLUSDELTA_PROMPT, PlusDeltaDialog


async def open_meeting(app: Any, pilot: Any) -> MeetingScreen:
    screen = await open_circle_screen(app, pilot, "m")
    assert isinstance(screen, MeetingScreen)
    return screen


async def test_steps_through_the_four_parts(circle_room: Home) -> None:
    async with running(circle_room, size=(80, 24)) as (app, pilot):
        screen = await open_meeting(app, pilot)
        assert screen.meeting is not None
        assert screen.meeting.id == meeting_id()
        seen = []
        for key in ("", "right", "n", "right"):
            if key:
                await pilot.press(key)
            current = re.search(r"▶ (\d [\w/-]+)", screen.step_bar.text)
            assert current is not None
            seen.append((screen.step, current.group(1)))
            if screen.step == 0:
                assert "Bo · ni4a-hvpq" in screen.part_text
                assert "needs help with: outer joins" in screen.part_text
            if screen.step == 1:
                assert "Chapter 2: joins" in screen.part_text
            if screen.step == 2:
                assert "Activity: Join puzzles" in screen.part_text
                assert "20:00 left of 20 min" in screen.part_text
        assert [step for step, _ in seen] == [0, 1, 2, 3]
        assert [name for _, name in seen] == [
            "1 Check-in",
            "2 Coursework",
            "3 Activity",
            "4 Plus/delta",
        ]
        await pilot.press("right")  # stays on the last part
        assert screen.step == 3
        await pilot.press("left", "b")
        assert screen.step == 1
        await pilot.press("1")
        assert screen.step == 0
        await pilot.click("#meeting-steps", offset=(50, 0))  # the mouse: '4 Plus/delta'
        assert screen.step == 3


async def test_check_ins_of_others_appear_live(circle_room: Home) -> None:
    async with running(circle_room) as (app, pilot):
        screen = await open_meeting(app, pilot)
        assert "Chen" not in screen.part_text
        checkin = create_event(
            CHEN,
            kind=kinds.CHECKIN,
            circle=CIRCLE,
            body={"feeling": "curious", "need_help": "GROUP BY"},
            refs={"meeting": meeting_id()},
            created_at=NOW,
        )
        result = await app.node.ingest([checkin.raw])
        assert result.new
        await wait_for(pilot, lambda: "Chen · wyxi-m75c" in screen.part_text)
        assert "needs help with: GROUP BY" in screen.part_text
        assert "Here: 2 · checked in: 2" in str(screen.query_one("#present").border_title)
        assert "on the challenge" not in screen.part_text
        await app.node.ingest([e.raw for e in on_a_challenge(CHEN)])
        await wait_for(pilot, lambda: "on the challenge “Joins”" in screen.part_text)
        assert "✓ Chen · wyxi-m75c\n    on the challenge “Joins”\n" in screen.part_text


async def test_the_activity_time_box_counts_down(circle_room: Home) -> None:
    async with running(circle_room) as (app, pilot):
        screen = await open_meeting(app, pilot)
        now = [1000.0]
        screen.time_box.countdown.time_source = lambda: now[0]
        await pilot.press("3")
        assert "20:00 left of 20 min   ■ not started" in screen.part_text
        await pilot.press("t")
        assert "▶ running" in screen.part_text
        now[0] += 65
        await wait_for(pilot, lambda: "18:55 left" in screen.part_text)
        await pilot.press("t")  # pause: the clock moves, the time box does not
        now[0] += 300
        await pilot.pause(0.3)
        assert "18:55 left of 20 min   ⏸ paused" in screen.part_text
        await pilot.press("t")
        now[0] += 18 * 60 + 55
        await wait_for(pilot, lambda: "⏰ Time is up" in screen.part_text)
        assert "00:00 left" in screen.part_text
        await pilot.press("r")
        assert "20:00 left of 20 min   ■ not started" in screen.part_text


async def test_check_in_and_plus_delta_from_the_dialogs(circle_room: Home) -> None:
    async with running(circle_room) as (app, pilot):
        screen = await open_meeting(app, pilot)
        await pilot.press("c")
        await fill(pilot, CheckInDialog, feeling="fine", need_help="joins")
        await pilot.press("enter")  # Enter on the last field submits
        await wait_for(pilot, lambda: "feeling: fine" in screen.part_text)
        assert "Ana (you) · gr2q-7gf5" in screen.part_text
        await pilot.press("4", "p")
        await fill(pilot, PlusDeltaDialog, plus="puzzles", delta="start on time")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "Δ start on time" in screen.part_text)
        state = await app.node.circles.state(CIRCLE)
        meeting = state.meeting(meeting_id())
        assert meeting is not None
        assert ANA.public_key in meeting.attendees  # a check-in counts as attending
        assert ANA.public_key not in meeting.signed_attendance  # one event, as from the CLI
        mine = [c for c in meeting.checkins if c.author == ANA.public_key]
        assert [(c.feeling, c.working_on, c.need_help) for c in mine] == [("fine", "", "joins")]
        pluses = [(p.plus, p.delta) for p in meeting.plusdeltas if p.author == ANA.public_key]
        assert pluses == [("puzzles", "start on time")]


def test_meeting_mode_snapshot(snap_compare: Any, circle_room: Home, utc: None) -> None:
    async def run_before(pilot: Any) -> None:
        await steady_on(pilot, "m")

    assert snap_compare(HostedApp(circle_room), terminal_size=(80, 24), run_before=run_before)


async def test_the_time_box_runs_on_when_meeting_mode_closes(circle_room: Home) -> None:
    async with running(circle_room) as (app, pilot):
        screen = await open_meeting(app, pilot)
        now = [1000.0]
        screen.time_box.countdown.time_source = lambda: now[0]
        await pilot.press("t")  # starts it (and shows the activity)
        now[0] += 65
        await wait_for(pilot, lambda: "18:55 left" in screen.part_text)
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, MeetingScreen))
        now[0] += 60  # a minute in the feed
        again = await open_meeting(app, pilot)
        assert again is not screen
        await pilot.press("3")
        await wait_for(pilot, lambda: "17:55 left of 20 min   ▶ running" in again.part_text)
        await pilot.press("f")  # big digits, for a projector
        digits = again.time_box.query_one(Digits)
        await wait_for(pilot, lambda: digits.display and digits.value == "17:55")
        await pilot.press("escape")
        again = await open_meeting(app, pilot)
        await pilot.press("3")
        await wait_for(pilot, lambda: again.time_box.query_one(Digits).display)  # kept too


async def test_plus_delta_says_its_prompt_once_and_empty_forms_what_to_write(
    circle_room: Home,
) -> None:
    async with running(circle_room) as (app, pilot):
        await open_meeting(app, pilot)
        await pilot.press("p")
        await wait_for(pilot, lambda: isinstance(app.screen, PlusDeltaDialog))
        dialog = app.screen
        notes = [str(widget.content) for widget in dialog.query(".dialog-text").results(Static)]
        assert notes == [PLUSDELTA_PROMPT]
        await pilot.press("ctrl+s")  # nothing written
        error = str(dialog.query_one("#dialog-error", Static).content)
        assert error == "⚠ Write one thing that went well, one thing to change, or both."
        await pilot.press("escape", "c")
        await wait_for(pilot, lambda: isinstance(app.screen, CheckInDialog))
        await pilot.press("ctrl+s")  # nothing written
        error = str(app.screen.query_one("#dialog-error", Static).content)
        assert error == "⚠ Write how you are, what you work on today, or where you need help."
