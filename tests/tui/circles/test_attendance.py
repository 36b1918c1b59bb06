"""One rule for attendance on every screen: a check-in alone (as `peernode meeting
checkin` signs it) counts as being there, as does "I'm here" alone."""

from __future__ import annotations

from peernode.circles.text import meeting_line
from peernode.home import Home
from protocol import kinds
from tests.tui.circles.helpers import CIRCLE, MEETING_AT, event, meeting_id, open_circle_screen
from tests.tui.helpers import ANA, CHEN, MINUTE, NOW, running, store, wait_for
from tui.circles.meeting import MeetingScreen
from tui.circles.page import CirclePage


async def test_every_screen_counts_the_same_people(circle_room: Home) -> None:
    # Bo signed both (the fixture); Chen only checked in; Ana only signed "I'm here".
    extra = [
        event(
            CHEN,
            kinds.CHECKIN,
            {"feeling": "curious"},
            at=MEETING_AT + 2 * MINUTE,
            meeting=meeting_id(),
        ),
        event(ANA, kinds.ATTENDANCE, {}, at=MEETING_AT + 3 * MINUTE, meeting=meeting_id()),
    ]
    await store(circle_room, extra)
    async with running(circle_room, size=(100, 30)) as (app, pilot):
        screen = await open_circle_screen(app, pilot, "m")
        assert isinstance(screen, MeetingScreen)
        present = screen.query_one("#present")
        assert str(present.border_title) == "Here: 3 · checked in: 2"
        assert "Chen · wyxi-m75c" in screen.part_text
        assert "Ana (you)" in screen.part_text
        await pilot.press("escape")
        page = await open_circle_screen(app, pilot, "g")
        assert isinstance(page, CirclePage)
        await wait_for(
            pilot, lambda: "Here: 3 · check-ins: 2" in str(page.query_one("#circle-next").content)
        )
        state = await app.node.circles.state(CIRCLE)
        meeting = state.meeting(meeting_id())
        assert meeting is not None
        name_of = lambda key: app.node.profile_of(key).name  # noqa: E731
        assert meeting_line(meeting, name_of).endswith("3 attended")
        report = await app.node.circles.report(CIRCLE, now=NOW)
        assert report.attendees == 3
        assert report.meetings[0].attendees == ("Ana", "Bo", "Chen")
