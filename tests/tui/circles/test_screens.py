"""The circle page, the ways to it from the main screen, starting a circle, scheduling,
and the insights report with its export (real node, fixed clock)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input, Select, Static

from peernode.circles.model import ResourceLink
from peernode.home import Home
from tests.tui.circles.helpers import CIRCLE, fill, on_a_challenge, open_circle_screen, steady_on
from tests.tui.helpers import BO, main_screen, running, wait_for
from tests.tui.test_snapshots import HostedApp
from tui.circles.export import ExportDialog
from tui.circles.meeting import MeetingScreen
from tui.circles.new_circle import NewCircleDialog, parse_links
from tui.circles.page import CirclePage
from tui.circles.questions import QuestionsScreen
from tui.circles.report import ReportScreen
from tui.circles.schedule import ScheduleDialog
from tui.commands import PeernodeCommands
from tui.screens.help import HelpScreen


def text_of(screen: CirclePage, selector: str) -> str:
    box = screen.query_one(selector, Static)
    return f"{box.border_title}\n{box.content}"


async def test_the_circle_page_shows_the_circle(circle_room: Home) -> None:
    async with running(circle_room, size=(80, 24)) as (app, pilot):
        page = await open_circle_screen(app, pilot, "g")
        assert isinstance(page, CirclePage)
        about = text_of(page, "#circle-about")
        assert "SQL basics" in about
        assert "Six evenings with an open course." in about
        assert "weekly, 2 h, 6 weeks" in about
        assert "✓ You are a member" in about
        members = text_of(page, "#circle-members")
        assert "Members (3)" in members
        assert all(name in members for name in ("Ana (you)", "Bo", "Chen"))
        meeting = text_of(page, "#circle-next")
        assert "now, started 10 min ago" in meeting
        assert "Library, room 2" in meeting
        assert "facilitator Bo" in meeting
        assert "Join puzzles (20 min)" in meeting
        assert "https://example.org/sql-course" in text_of(page, "#circle-resources")
        questions = text_of(page, "#circle-questions")
        # open: not resolved yet, answered or not (one rule with `circle show` and the report)
        assert "Open questions (2)" in questions
        assert "LEFT or RIGHT join? #joins" in questions
        assert "What is an index?" in questions
        assert not page.query_one("#circle-challenges").display  # no challenge yet
        await app.node.ingest([e.raw for e in on_a_challenge(BO)])
        await wait_for(pilot, lambda: page.query_one("#circle-challenges").display)
        cohorts = text_of(page, "#circle-challenges")
        assert "Who is on which challenge" in cohorts
        assert "“Joins”: Bo (" in cohorts
        # every screen of the circle is one key away
        for key, kind in (("m", MeetingScreen), ("q", QuestionsScreen), ("i", ReportScreen)):
            await pilot.press(key)
            await wait_for(pilot, lambda kind=kind: isinstance(app.screen, kind))  # type: ignore[misc]
            await pilot.press("escape")
            await wait_for(pilot, lambda: app.screen is page)


async def test_main_screen_keys_palette_and_help(circle_room: Home) -> None:
    async with running(circle_room) as (app, pilot):
        main = await main_screen(app, pilot)
        main.switch_channel(CIRCLE)
        names = [str(hit.text) async for hit in PeernodeCommands(main).discover()]
        for wanted in ("page of #sql-basics", "meeting mode", "questions", "insights report"):
            assert any(wanted in name for name in names), wanted
        assert "Circle: start a study circle" in names
        hits = [hit async for hit in PeernodeCommands(main).search("meeting mode of sql")]
        app.call_later(hits[0].command)
        await wait_for(pilot, lambda: isinstance(app.screen, MeetingScreen))
        meeting_names = [str(hit.text) async for hit in PeernodeCommands(app.screen).discover()]
        assert "Meeting: check in" in meeting_names
        await pilot.press("escape")
        await pilot.press("f1")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        assert isinstance(app.screen, HelpScreen)
        titles = [title for title, _ in app.screen.sections]
        assert "Meeting mode (m)" in titles
        assert "Questions and answers (q)" in titles
        main_rows = dict(app.screen.sections)["Main screen (when not typing)"]
        assert ("g", "Circle page") in main_rows


async def test_start_a_study_circle_from_its_page(circle_room: Home) -> None:
    async with running(circle_room) as (app, pilot):
        page = await open_circle_screen(app, pilot, "g")
        # #sql-basics exists; the lobby is only notes until someone starts it
        await pilot.press("escape")
        main = await main_screen(app, pilot)
        main.switch_channel("lobby")
        await pilot.press("g")
        await wait_for(pilot, lambda: isinstance(app.screen, CirclePage) and app.screen.loads > 0)
        page = app.screen
        assert isinstance(page, CirclePage)
        assert "not a study circle yet" in str(page.query_one("#circle-about", Static).content)
        await pilot.press("c")
        dialog = await fill(pilot, NewCircleDialog, name="Lobby talks", duration="90")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: page.exists)
        state = await app.node.circles.state("lobby")
        assert state.title == "Lobby talks"
        assert state.rhythm is not None
        assert state.rhythm.duration_minutes == 90
        assert state.creator == app.node.public_key
        assert dialog not in app.screen_stack


async def test_schedule_shows_the_suggested_facilitator(circle_room: Home) -> None:
    async with running(circle_room) as (app, pilot):
        page = await open_circle_screen(app, pilot, "g")
        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(app.screen, ScheduleDialog))
        dialog = app.screen
        # Bo facilitated the last meeting; Ana never has, so she is suggested
        suggestion = str(dialog.query_one("#facilitator-suggestion", Static).content)
        assert "Suggested facilitator: Ana" in suggestion
        assert "has not facilitated yet" in suggestion
        facilitator = dialog.query_one("#facilitator", Select)
        assert facilitator.value == app.node.public_key.hex()
        facilitator.value = BO.public_key.hex()
        for selector, text in (("#place", "Room 3"), ("#work", "Chapter 3")):
            dialog.query_one(selector, Input).value = text
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: page.state is not None and len(page.state.meetings) == 2)
        assert page.state is not None
        scheduled = page.state.meetings[-1]
        assert scheduled.place == "Room 3"
        assert scheduled.facilitator == BO.public_key
        assert scheduled.agenda.coursework == "Chapter 3"
        assert scheduled.previous == page.state.meetings[0].id


async def test_report_shows_the_numbers_and_exports(
    circle_room: Home, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "here"
    folder.mkdir()
    monkeypatch.chdir(folder)
    async with running(circle_room) as (app, pilot):
        screen = await open_circle_screen(app, pilot, "i")
        assert isinstance(screen, ReportScreen)
        glance = screen.glance_shown
        for label, value in (
            ("Members", "3"),
            ("Meetings held", "1"),
            ("Questions asked", "3"),
            ("Questions answered", "2"),
            ("Questions resolved", "1 (33%)"),
        ):
            assert any(
                line.startswith(label) and line.endswith(f" {value}")
                for line in glance.splitlines()
            ), label
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, ExportDialog))
        app.screen.query_one("#format", Select).value = "html"
        await pilot.pause()
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: screen.exported is not None)
        path = folder / "sql-basics-report.html"
        assert screen.exported == path
        assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
        assert str(path) in str(screen.query_one("#report-export", Static).content)
        # a second export never overwrites the first
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, ExportDialog))
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: screen.exported == folder / "sql-basics-report.md")
        assert "# Circle report: SQL basics" in (folder / "sql-basics-report.md").read_text()
        # the same name again: a numbered one beside it, the first kept as it was
        first = (folder / "sql-basics-report.md").read_text()
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, ExportDialog))
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: screen.exported == folder / "sql-basics-report-2.md")
        assert (folder / "sql-basics-report.md").read_text() == first
        said = str(screen.query_one("#report-said", Static).content)
        assert "Resolved questions" in said
        assert "Open questions" in said


def test_resource_links_need_a_scheme() -> None:
    assert parse_links("https://www.py4e.com/, magnet:?xt=1") == (
        ResourceLink("https://www.py4e.com/"),
        ResourceLink("magnet:?xt=1"),
    )
    with pytest.raises(ValueError, match=r"'py4e\.com' is not a link"):
        parse_links("https://www.py4e.com/ py4e.com")


def test_circle_page_snapshot(snap_compare: Any, circle_room: Home, utc: None) -> None:
    async def run_before(pilot: Any) -> None:
        await steady_on(pilot, "g")

    assert snap_compare(HostedApp(circle_room), terminal_size=(80, 24), run_before=run_before)
